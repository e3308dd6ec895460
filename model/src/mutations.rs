//! Broken variants of the protocol ("mutations") and Dusk-behaviour variants.
//!
//! Each mutation changes one rule of spec/protocol.md. A property reported as holding
//! must be shown able to fail: for every safety ID of spec/properties.md at least one
//! mutation makes `sa check` report it VIOLATED (see model/tests/model_mutations.rs).

use serde::{Deserialize, Serialize};

/// One deliberate deviation from the reference protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mutation {
    /// Nodes tally every vote kind against ⌊C/2⌋ credits instead of SM / M (TALLY-1).
    ValidThresholdBelowMajority,
    /// Every provisioner votes, committee member or not, and the tally counts a non-member
    /// vote with one credit (TALLY-2).
    CountNonMembers,
    /// A node that voted NoCandidate and later receives the candidate votes again, Valid (VOTE-1).
    DoubleVote,
    /// Validation/Ratification committees do not exclude gen(i) and gen(i+1) (SORT-4).
    NoExclusion,
    /// Sortition ignores suspension: suspended provisioners may be drawn (ELIG-3).
    DrawSuspended,
    /// Every accepted block is labelled Attested whatever its PNI (FIN-1).
    IgnorePni,
    /// Every accepted block is labelled Final at once (FIN-2).
    FinalizeOnAccept,
    /// Voter rewards go to every committee member, signer or not (REW-2).
    RewardAllCommittee,
    /// Members of the committees of a failed iteration are soft-slashed too (SLASH-1).
    SlashAbsentVoters,
    /// Fallback accepts a competing block of any other iteration, not only a lower one (FORK-1).
    FallbackAnyIteration,
    /// Dusk: stalled-chain recovery reverts to any valid alternative at height ≤ tip, with no
    /// finality check (rusk `node/src/chain/stalled.rs`).
    DuskStalledRecovery,
    /// Dusk rusk #3717 family: with exactly two eligible provisioners the exclusions of gen(i)
    /// and gen(i+1) still apply and leave an empty committee.
    DuskTwoEligible,
}

impl Mutation {
    /// Every mutation, in declaration order.
    pub const ALL: [Mutation; 12] = [
        Mutation::ValidThresholdBelowMajority,
        Mutation::CountNonMembers,
        Mutation::DoubleVote,
        Mutation::NoExclusion,
        Mutation::DrawSuspended,
        Mutation::IgnorePni,
        Mutation::FinalizeOnAccept,
        Mutation::RewardAllCommittee,
        Mutation::SlashAbsentVoters,
        Mutation::FallbackAnyIteration,
        Mutation::DuskStalledRecovery,
        Mutation::DuskTwoEligible,
    ];

    /// The kebab-case name used in configuration files and reports.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }
}
