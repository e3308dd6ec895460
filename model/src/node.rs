//! One honest node's protocol logic, in the spec's words:
//! `handle(node_state, event) -> (node_state, outputs)`.
//!
//! An event is something that happens *to one node*: its own proposal as gen(i), a candidate
//! arriving, a quorum it observed (with the signers it holds), a timer. The handler is the
//! spec's step logic and nothing else: which events are possible, and when, is decided by the
//! network and the adversary (`crate::model`), which compose the handlers.

use serde::Serialize;

use crate::finality;
use crate::model::SaModel;
use crate::mutations::Mutation;
use crate::state::{
    block, iteration_of, slot, slot_of, variant_of, Att, BlockId, Entry, FailSet, FallbackRecord,
    Label, Msg, Node, Step, Value, VoteStep,
};

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

/// A vote the node casts in its current iteration, if it is a member of the step's committee.
/// In an emergency iteration (EMERG-1) only Valid votes are sent.
fn vote(m: &SaModel, p: usize, node: &Node, step: VoteStep, value: Value, out: &mut Vec<Msg>) {
    vote_at(m, p, node, node.iteration, step, value, out);
}

/// A vote the node casts in iteration `iteration` of its round, if it is a member of the
/// step's committee; in an emergency iteration only a Valid vote (EMERG-1).
fn vote_at(
    m: &SaModel,
    p: usize,
    node: &Node,
    iteration: u8,
    step: VoteStep,
    value: Value,
    out: &mut Vec<Msg>,
) {
    if m.emergency(iteration) && !value.is_valid() {
        return;
    }
    let ctx = m.node_context(node);
    let Some(draw) = ctx.iterations.get(usize::from(iteration)) else {
        return;
    };
    let committee = match step {
        VoteStep::Validation => &draw.validation,
        VoteStep::Ratification => &draw.ratification,
    };
    let member = committee.credits(p) > 0;
    if member || m.config.has(Mutation::CountNonMembers) {
        if !member {
            Mutation::CountNonMembers.hit();
        }
        out.push(Msg::Vote {
            slot: slot(node.tip(), iteration),
            step,
            value,
            voter: p as u8,
        });
    }
}

/// Adds an attestation's outcome to what the node holds.
fn hold(node: &mut Node, att: Att) {
    let key = (att.slot, att.value);
    if let Err(at) = node.held.binary_search(&key) {
        node.held.insert(at, key);
    }
}

fn next_iteration(m: &SaModel, node: &mut Node) {
    if node.iteration + 1 < m.config.protocol.max_iterations {
        node.iteration += 1;
        node.step = Step::Proposal;
    } else {
        node.step = Step::Open;
    }
}

/// ACCEPT-1: appends the block of `att` with its labels (FIN-*) and starts the next round.
fn accept(m: &SaModel, node: &mut Node, att: Att, failed: FailSet) {
    let Value::Valid(variant) = att.value else {
        return;
    };
    hold(node, att);
    finality::push(
        &m.config,
        &mut node.chain,
        Entry {
            iteration: iteration_of(att.slot),
            variant,
            failed,
            label: Label::Accepted,
        },
    );
    node.iteration = 0;
    node.fails = FailSet::default();
    node.voted_late = false;
    node.step = if node.round() > m.config.protocol.rounds {
        Step::Done
    } else {
        Step::Proposal
    };
}

/// Skips the steps in which `p` has nothing to do (not the generator, not a member): it sends
/// nothing in them and their timers lead to the same state.
pub fn skip_idle_steps(m: &SaModel, p: usize, node: &mut Node) {
    if !node.alive || !matches!(node.step, Step::Proposal | Step::Validation) {
        return;
    }
    let ctx = m.node_context(node);
    let draw = &ctx.iterations[usize::from(node.iteration)];
    let member = |c: &crate::sortition::Committee| {
        c.credits(p) > 0 || m.config.has(Mutation::CountNonMembers)
    };
    if node.step == Step::Proposal && draw.generator != Some(p) && !member(&draw.validation) {
        node.step = Step::Validation;
    }
    if node.step == Step::Validation && !member(&draw.ratification) {
        node.step = Step::Ratification;
    }
}

/// The failed_iterations gen(i) puts in its candidate: the Fail attestations it holds for
/// iterations below the relaxed threshold (ATT-3).
fn candidate_failed(m: &SaModel, node: &Node) -> FailSet {
    let relaxed = m.config.protocol.relaxed_iterations;
    let mut failed = node.fails.below(relaxed);
    if m.config.has(Mutation::ForgeFailed) {
        for j in 0..node.iteration.min(relaxed) {
            if failed.get(j).is_none() {
                Mutation::ForgeFailed.hit();
                failed = failed.with(j, Value::NoCandidate);
            }
        }
    }
    failed
}

/// The spec's step logic for honest node `p`: the node after `event`, and the messages it
/// sends. `event` must be one the network offers this node (see `crate::model`).
pub fn handle(m: &SaModel, p: usize, before: &Node, event: &Event) -> (Node, Vec<Msg>) {
    let mut node = before.clone();
    let mut out = Vec::new();
    let s = slot(node.tip(), node.iteration);
    match *event {
        Event::Crash => {
            // A crashed node never acts again: only its chain and what it holds are read, so
            // where it stopped is forgotten (states that differ only there are one state).
            node.alive = false;
            node.iteration = 0;
            node.step = Step::Done;
            node.fails = FailSet::default();
            node.voted_late = false;
            return (node, out);
        }
        Event::Propose { valid } => {
            let failed = candidate_failed(m, &node);
            out.push(Msg::Candidate {
                block: s,
                valid,
                failed,
            });
            if m.config.has(Mutation::DoubleCandidate) {
                Mutation::DoubleCandidate.hit();
                out.push(Msg::Candidate {
                    block: block(node.tip(), node.iteration, 1),
                    valid,
                    failed,
                });
            }
            let value = if valid {
                Value::Valid(0)
            } else {
                Value::Invalid(0)
            };
            vote(m, p, &node, VoteStep::Validation, value, &mut out);
            node.step = Step::Validation;
        }
        Event::Candidate { block: b, valid } => {
            let variant = variant_of(b);
            let value = if valid
                && m.config.has(Mutation::FailingTxInvalidates)
                && crate::exec::has_failing(&crate::exec::PAYLOAD)
            {
                // The broken validator: a failing transaction makes the block Invalid.
                Mutation::FailingTxInvalidates.hit();
                Value::Invalid(variant)
            } else if valid {
                Value::Valid(variant)
            } else if m.config.has(Mutation::AcceptInvalid) {
                Mutation::AcceptInvalid.hit();
                Value::Valid(variant)
            } else {
                Value::Invalid(variant)
            };
            vote(m, p, &node, VoteStep::Validation, value, &mut out);
            node.step = Step::Validation;
        }
        Event::LateVote { block: b } => {
            vote_at(
                m,
                p,
                &node,
                iteration_of(b),
                VoteStep::Validation,
                Value::Valid(variant_of(b)),
                &mut out,
            );
            // Left for good: a later iteration, or open consensus after the last one.
            node.voted_late |= iteration_of(b) < node.iteration || node.step == Step::Open;
        }
        Event::Revote { block: b } => {
            Mutation::DoubleVote.hit();
            vote(
                m,
                p,
                &node,
                VoteStep::Validation,
                Value::Valid(variant_of(b)),
                &mut out,
            );
        }
        Event::Timeout {
            step: Step::Proposal,
        } => {
            vote(
                m,
                p,
                &node,
                VoteStep::Validation,
                Value::NoCandidate,
                &mut out,
            );
            node.step = Step::Validation;
        }
        Event::ValidationQuorum { value, .. } => {
            vote(m, p, &node, VoteStep::Ratification, value, &mut out);
            node.step = Step::Ratification;
        }
        Event::Timeout {
            step: Step::Validation,
        } => {
            vote(
                m,
                p,
                &node,
                VoteStep::Ratification,
                Value::NoQuorum,
                &mut out,
            );
            node.step = Step::Ratification;
        }
        Event::RatificationQuorum { att, failed } => {
            if att.value.is_valid() {
                accept(m, &mut node, att, failed);
            } else {
                hold(&mut node, att);
                node.fails = node.fails.with(node.iteration, att.value);
                next_iteration(m, &mut node);
            }
        }
        Event::Timeout {
            step: Step::Ratification,
        } => next_iteration(m, &mut node),
        Event::Timeout { .. } => {}
        Event::PastSuccess { att, failed } => accept(m, &mut node, att, failed),
        Event::Fallback {
            height,
            att,
            failed,
        } => {
            let h = usize::from(height);
            let Value::Valid(v) = att.value else {
                return (node, out);
            };
            let to = block(
                crate::state::parent_of(slot_of(att.slot)),
                iteration_of(att.slot),
                v,
            );
            let reverted_label = node.chain[h - 1..]
                .iter()
                .map(|e| e.label)
                .max()
                .unwrap_or(Label::Accepted);
            node.last_fallback = Some(FallbackRecord {
                height,
                from: node.block_at(h),
                to,
                reverted_label,
            });
            node.chain.truncate(h - 1);
            accept(m, &mut node, att, failed);
        }
    }
    skip_idle_steps(m, p, &mut node);
    (node, out)
}
