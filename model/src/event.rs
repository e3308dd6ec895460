//! What happens to one node: the input of its handler (`crate::node::handle`).

use serde::Serialize;

use crate::state::{Att, BlockId, FailSet, Step, Value};

/// What happens to one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Event {
    /// The node is gen(i) and broadcasts its candidate (`valid = false`: a misconfigured
    /// generator, within the `invalid_candidates` budget).
    Propose {
        /// Whether the candidate passes validation.
        valid: bool,
    },
    /// A candidate of the current slot arrives (the first one the node receives).
    Candidate {
        /// The candidate.
        block: BlockId,
        /// Whether it passes validation.
        valid: bool,
    },
    /// The timer of the node's current step fires.
    Timeout {
        /// The step whose timer fires.
        step: Step,
    },
    /// The node holds a Validation quorum on `value` (the signers it received).
    ValidationQuorum {
        /// The quorum's value.
        value: Value,
        /// Its signers.
        signers: u8,
    },
    /// The node holds a Ratification quorum (and the Validation quorum attached to it): an
    /// attestation of its current iteration.
    RatificationQuorum {
        /// The attestation.
        att: Att,
        /// failed_iterations of the attested candidate (Success only).
        failed: FailSet,
    },
    /// The node receives the Success attestation (and block) of an earlier iteration of its
    /// round, or of any iteration in open consensus.
    PastSuccess {
        /// The attestation.
        att: Att,
        /// failed_iterations of the block.
        failed: FailSet,
    },
    /// Fork choice (FORK-1): the node replaces its block at `height` by the Success `att` of a
    /// lower iteration on the same parent.
    Fallback {
        /// Height of the replaced block.
        height: u8,
        /// The attestation of the block accepted instead.
        att: Att,
        /// failed_iterations of that block.
        failed: FailSet,
    },
    /// Mutation `double-vote`: having voted NoCandidate, the node receives the late candidate
    /// and votes again.
    Revote {
        /// The late candidate.
        block: BlockId,
    },
    /// EMERG-1: the candidate of an emergency iteration the node has already left (or whose
    /// Proposal timer fired) arrives; the node, a member of that iteration's Validation
    /// committee that has not voted there, votes Valid: the iteration is still open.
    LateVote {
        /// The late candidate.
        block: BlockId,
    },
    /// The node goes offline for good (absent).
    Crash,
}
