//! Broken variants of the protocol ("mutations") and Dusk-behaviour variants.
//!
//! Each mutation changes one rule of spec/protocol.md. A property reported as holding
//! must be shown able to fail: for every safety ID of spec/properties.md at least one
//! mutation makes `sa check` report it VIOLATED on the default preset (see
//! checker/tests/model_mutations.rs). Every mutated code path reports when it changed a
//! decision ([`Mutation::hit`], collected by the checker with [`take_hits`]): a mutation that never did on a configuration is reported as having no
//! effect there, instead of a PASS that says nothing about it.

use serde::{Deserialize, Serialize};

use crate::rules::Rule;

/// One deliberate deviation from the reference protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mutation {
    /// Nodes tally every vote kind against ⌊C/2⌋ credits instead of SM / M (TALLY-1).
    ValidThresholdBelowMajority,
    /// Every provisioner votes, committee member or not, and the tally counts a non-member
    /// vote with one credit (TALLY-2).
    CountNonMembers,
    /// A node that voted NoCandidate and later receives the candidate votes again (VOTE-1).
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
    /// Dusk (rusk's committee generator): with exactly two eligible provisioners and
    /// gen(i) != gen(i+1), excluding both leaves nobody, and the committee is drawn from every
    /// eligible provisioner with exclusions ignored: gen(i) may judge its own candidate.
    DuskTwoEligible,
    /// Validators vote Valid on an invalid candidate (STEP-VAL-1).
    AcceptInvalid,
    /// An honest generator broadcasts a second, different candidate for its slot (STEP-PROP-1).
    DoubleCandidate,
    /// The block below every Attested block is labelled Final, whatever lies under it (FIN-3).
    FinalizeParent,
    /// A generator records Fail(NoCandidate) for every earlier iteration it holds no
    /// attestation for, and validators do not check failed_iterations (FAIL-1).
    ForgeFailed,
    /// A soft slash credits `locked` without debiting the stake (SLASH-2).
    LockWithoutDebit,
    /// A Fail(NoCandidate) is punished with a hard slash (SLASH-4).
    HardSlashNoCandidate,
    /// After GST the generator's own Proposal timer may still fire first: an honest, online
    /// generator skips its slot (TIME-3, the model's earlier bug).
    GeneratorMaySkip,
    /// Both committees' credits are paid to the union of both steps' signers (REW-2, the
    /// model's earlier bug).
    RewardUnionSigners,
    /// Dusk (rusk registers a node's own vote through its inbound queue, behind whatever is
    /// queued there): a quorum the node's own credits reach alone is a later event that other
    /// inputs, its timer included, may overtake (TALLY-4; the model's behaviour before it).
    DuskAsyncOwnVote,
    /// Emergency iterations are run as ordinary ones: NoCandidate, Invalid and NoQuorum votes,
    /// Fail attestations, no late votes (EMERG-1 ignored).
    IgnoreEmergency,
    /// After GST the Validation and Ratification timers fire before the votes still due arrive
    /// (timeouts shorter than the network's delay): a good iteration may fail (TIME-3).
    ImpatientTimers,
    /// The Proposal timer waits for gen(i) even when gen(i) is offline: no Proposal timeout
    /// (TIME-3).
    NoProposalTimeout,
    /// FIN-3 broken: the walk-back never confirms a block, so nothing becomes Final.
    NoWalkBack,
    /// FORK-1 not applied: a node never falls back to the Success of a lower iteration (rusk
    /// #2201: lower-iteration quorums from past rounds do not trigger fallback; #1382).
    NoFallback,
    /// The sandbox lets a contract write protocol state: a transaction's forbidden write raises
    /// its generator's stake (EXEC-ISO-1).
    SandboxEscape,
    /// Validators vote Invalid on a candidate that holds a failing transaction (EXEC-TX-2).
    FailingTxInvalidates,
    /// Sortition weighs stake that is not mature yet (STAKE-1, ELIG-2).
    DrawImmature,
    /// Sortition weighs locked stake (SLASH-2, ELIG-1).
    DrawLocked,
    /// A generator that missed its slot (Fail(NoCandidate)) is not penalized: no fault
    /// counted, no suspension (SLASH-1, SLASH-2).
    NoMissedSlotPenalty,
    /// A soft-slashed provisioner's suspension never ends (SLASH-2).
    SuspendForever,
}

/// The property each mutation is shown to violate on the default preset (`dusk-two-eligible`:
/// on the preset `two-eligible`, the one configuration it changes), and whether the search for
/// it runs depth-first (counterexamples that lie deep). `checker/tests/model_mutations.rs`
/// requires each; `checker/examples/seedscan.rs --mutations` scans seeds for them.
pub const INTENDED: &[(Mutation, &str, bool)] = &[
    (
        Mutation::ValidThresholdBelowMajority,
        "SAFE-ATTESTATION-QUORUM",
        false,
    ),
    (Mutation::CountNonMembers, "SAFE-COMMITTEE-CREDITS", false),
    (Mutation::DoubleVote, "SAFE-VOTE-UNIQUE", false),
    (Mutation::NoExclusion, "SAFE-COMMITTEE-WELLFORMED", false),
    (Mutation::DrawSuspended, "SAFE-ELIGIBILITY", false),
    (Mutation::IgnorePni, "SAFE-FINAL-AGREEMENT", true),
    (
        Mutation::FinalizeOnAccept,
        "SAFE-FINAL-PRIOR-ITERATIONS",
        false,
    ),
    (Mutation::RewardAllCommittee, "SAFE-REWARD-SIGNERS", false),
    (Mutation::SlashAbsentVoters, "SAFE-SOFT-SLASH", false),
    (Mutation::FallbackAnyIteration, "SAFE-FALLBACK-LOWER", false),
    (Mutation::DuskStalledRecovery, "SAFE-FINAL-NO-REVERT", true),
    (
        Mutation::DuskTwoEligible,
        "SAFE-COMMITTEE-WELLFORMED",
        false,
    ),
    (Mutation::AcceptInvalid, "SAFE-NO-INVALID-ACCEPTED", false),
    (Mutation::DoubleCandidate, "SAFE-ONE-CANDIDATE", false),
    (Mutation::FinalizeParent, "SAFE-FINAL-PREFIX", true),
    (Mutation::ForgeFailed, "SAFE-FAILED-MATCHES", false),
    (Mutation::LockWithoutDebit, "SAFE-STAKE-CONSERVED", false),
    (
        Mutation::HardSlashNoCandidate,
        "SAFE-HARD-SLASH-INVALID",
        false,
    ),
    (Mutation::GeneratorMaySkip, "SAFE-NO-HONEST-SLASH", true),
    (Mutation::RewardUnionSigners, "SAFE-REWARD-SIGNERS", false),
    (
        Mutation::ValidThresholdBelowMajority,
        "SAFE-ONE-OUTCOME",
        false,
    ),
    // Forks from asynchrony alone: two Final blocks and no equivocation behind them.
    (Mutation::IgnorePni, "ACC-FORK-EVIDENCE", true),
    // On the `byzantine` preset (no node of the default preset holds a quorum alone): the
    // Final fork at the bound (spec/incidents.md).
    (Mutation::DuskAsyncOwnVote, "SAFE-FINAL-AGREEMENT", false),
    // On the `emergency` preset (no other preset has an emergency iteration).
    (Mutation::IgnoreEmergency, "SAFE-EMERGENCY-RULES", false),
    (Mutation::ImpatientTimers, "LIVE-GOOD-ITERATION", false),
    (Mutation::NoProposalTimeout, "LIVE-ROUND-ENDS", false),
    (Mutation::NoWalkBack, "LIVE-FINALITY", false),
    (Mutation::NoFallback, "LIVE-CONVERGENCE", false),
    (Mutation::SandboxEscape, "SAFE-ISOLATION", false),
    (Mutation::FailingTxInvalidates, "SAFE-TX-CONTAINED", false),
    (Mutation::DrawImmature, "SAFE-ELIGIBILITY", false),
    // On the `matured` preset (on the default one a locked provisioner stays suspended past
    // the explored rounds: no effect).
    (Mutation::DrawLocked, "SAFE-ELIGIBILITY", false),
    // On the `emergency` preset (on the default one no absent generator's slot costs an
    // iteration in a round that ends after GST: such a round has no good iteration).
    (Mutation::NoMissedSlotPenalty, "LIVE-SUSPEND", false),
    // On the `rejoin` preset (the only one where a provisioner comes back).
    (Mutation::SuspendForever, "LIVE-REJOIN", false),
];

impl Mutation {
    /// Every mutation, in declaration order.
    pub const ALL: [Mutation; 32] = [
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
        Mutation::AcceptInvalid,
        Mutation::DoubleCandidate,
        Mutation::FinalizeParent,
        Mutation::ForgeFailed,
        Mutation::LockWithoutDebit,
        Mutation::HardSlashNoCandidate,
        Mutation::GeneratorMaySkip,
        Mutation::RewardUnionSigners,
        Mutation::DuskAsyncOwnVote,
        Mutation::IgnoreEmergency,
        Mutation::ImpatientTimers,
        Mutation::NoProposalTimeout,
        Mutation::NoWalkBack,
        Mutation::NoFallback,
        Mutation::SandboxEscape,
        Mutation::FailingTxInvalidates,
        Mutation::DrawImmature,
        Mutation::DrawLocked,
        Mutation::NoMissedSlotPenalty,
        Mutation::SuspendForever,
    ];

    /// The kebab-case name used in configuration files and reports.
    pub fn name(self) -> String {
        serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    }

    /// What the mutation breaks, in one line, with the ID of the rule it changes in brackets.
    pub fn summary(self) -> String {
        format!("{} [{}]", self.what(), self.rule())
    }

    /// What the mutation breaks, in one line.
    fn what(self) -> &'static str {
        match self {
            Mutation::ValidThresholdBelowMajority => {
                "every vote kind tallied against C/2 credits instead of SM / M"
            }
            Mutation::CountNonMembers => {
                "every provisioner votes; a non-member's vote counts one credit"
            }
            Mutation::DoubleVote => "a node that voted NoCandidate votes again on a late candidate",
            Mutation::NoExclusion => "committees do not exclude gen(i) and gen(i+1)",
            Mutation::DrawSuspended => "sortition may draw suspended provisioners",
            Mutation::IgnorePni => "every accepted block is Attested whatever its PNI",
            Mutation::FinalizeOnAccept => "every accepted block is Final at once",
            Mutation::RewardAllCommittee => {
                "voter rewards go to every committee member, signer or not"
            }
            Mutation::SlashAbsentVoters => {
                "committee members of a failed iteration are soft-slashed too"
            }
            Mutation::FallbackAnyIteration => {
                "fallback to a competing block of any iteration, not only a lower one"
            }
            Mutation::DuskStalledRecovery => {
                "Dusk's stalled-chain recovery: revert to any valid alternative, no finality check"
            }
            Mutation::DuskTwoEligible => {
                "Dusk: with two eligible provisioners, exclusions are ignored"
            }
            Mutation::AcceptInvalid => "validators vote Valid on an invalid candidate",
            Mutation::DoubleCandidate => "an honest generator sends a second, different candidate",
            Mutation::FinalizeParent => {
                "the block below every Attested block is Final, whatever lies under it"
            }
            Mutation::ForgeFailed => {
                "generators record Fail(NoCandidate) for unattested iterations, unchecked"
            }
            Mutation::LockWithoutDebit => "a soft slash credits locked without debiting stake",
            Mutation::HardSlashNoCandidate => "a Fail(NoCandidate) is punished with a hard slash",
            Mutation::GeneratorMaySkip => {
                "after GST an honest generator's own Proposal timer may fire first"
            }
            Mutation::RewardUnionSigners => {
                "both committees' credits paid to the union of both steps' signers"
            }
            Mutation::DuskAsyncOwnVote => {
                "Dusk: a node's own vote queued behind other inputs, its timer too"
            }
            Mutation::IgnoreEmergency => {
                "emergency iterations run as ordinary ones: Fail votes and attestations"
            }
            Mutation::ImpatientTimers => {
                "after GST vote timers fire before the votes still due arrive"
            }
            Mutation::NoProposalTimeout => {
                "the Proposal timer waits for gen(i) even when gen(i) is offline"
            }
            Mutation::NoWalkBack => "the walk-back never confirms a block: nothing is Final",
            Mutation::NoFallback => {
                "no fallback to a lower iteration's Success (rusk #2201, #1382)"
            }
            Mutation::SandboxEscape => {
                "a contract's write to protocol state takes effect: stake rises"
            }
            Mutation::FailingTxInvalidates => {
                "validators vote Invalid on a candidate holding a failing transaction"
            }
            Mutation::DrawImmature => "sortition weighs stake not mature yet",
            Mutation::DrawLocked => "sortition weighs locked stake",
            Mutation::NoMissedSlotPenalty => {
                "a generator that missed its slot is not penalized or suspended"
            }
            Mutation::SuspendForever => "a soft-slashed provisioner's suspension never ends",
        }
    }

    /// The rule this mutation breaks: its hook sits where that rule is applied
    /// (`Config::broken(rule)`), and its summary names it.
    #[inline]
    pub const fn rule(self) -> Rule {
        match self {
            Mutation::ValidThresholdBelowMajority => Rule::Quorum1,
            Mutation::CountNonMembers => Rule::Tally2,
            Mutation::DoubleVote => Rule::Vote1,
            Mutation::NoExclusion => Rule::Sort4,
            Mutation::DrawSuspended => Rule::Elig3,
            Mutation::IgnorePni => Rule::Fin1,
            Mutation::FinalizeOnAccept => Rule::Fin2,
            Mutation::RewardAllCommittee => Rule::Rew2,
            Mutation::SlashAbsentVoters => Rule::Slash1,
            Mutation::FallbackAnyIteration => Rule::Fork1,
            Mutation::DuskStalledRecovery => Rule::Fork2,
            Mutation::DuskTwoEligible => Rule::Sort4,
            Mutation::AcceptInvalid => Rule::StepVal1,
            Mutation::DoubleCandidate => Rule::StepProp1,
            Mutation::FinalizeParent => Rule::Fin3,
            Mutation::ForgeFailed => Rule::Fail1,
            Mutation::LockWithoutDebit => Rule::Slash2,
            Mutation::HardSlashNoCandidate => Rule::Slash4,
            Mutation::GeneratorMaySkip => Rule::Time3,
            Mutation::RewardUnionSigners => Rule::Rew2,
            Mutation::DuskAsyncOwnVote => Rule::Tally4,
            Mutation::IgnoreEmergency => Rule::Emerg1,
            Mutation::ImpatientTimers => Rule::Time3,
            Mutation::NoProposalTimeout => Rule::Time3,
            Mutation::NoWalkBack => Rule::Fin3,
            Mutation::NoFallback => Rule::Fork1,
            Mutation::SandboxEscape => Rule::ExecIso1,
            Mutation::FailingTxInvalidates => Rule::ExecTx2,
            Mutation::DrawImmature => Rule::Stake1,
            Mutation::DrawLocked => Rule::Elig1,
            Mutation::NoMissedSlotPenalty => Rule::Slash1,
            Mutation::SuspendForever => Rule::Slash2,
        }
    }

    /// The preset on which [`INTENDED`] shows this mutation violating its property.
    pub fn preset(self) -> &'static str {
        match self {
            Mutation::DuskTwoEligible => "two-eligible",
            Mutation::DuskAsyncOwnVote => "byzantine",
            Mutation::IgnoreEmergency
            | Mutation::NoProposalTimeout
            | Mutation::NoMissedSlotPenalty => "emergency",
            Mutation::DrawLocked => "matured",
            Mutation::SuspendForever => "rejoin",
            _ => "default",
        }
    }

    #[inline]
    fn bit(self) -> u32 {
        1 << Mutation::ALL.iter().position(|&m| m == self).unwrap_or(31)
    }
}

thread_local! {
    /// The mutations that changed a decision on this thread since the last [`take_hits`].
    static HITS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

impl Mutation {
    /// Records that this mutated rule changed a decision (the reference rule would have
    /// decided otherwise). The protocol only reports; a checker collects with [`take_hits`] on
    /// the thread that called into the model.
    #[inline]
    pub fn hit(self) {
        let b = self.bit();
        HITS.with(|h| h.set(h.get() | b));
    }
}

/// The mutations that changed a decision on this thread since the last call, as a set; clears
/// it. A checker calls it after every call into the model on the same thread.
#[inline]
pub fn take_hits() -> MutationSet {
    MutationSet(HITS.with(|h| h.replace(0)))
}

/// A set of mutations.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MutationSet(pub u32);

impl MutationSet {
    /// Whether `m` is in the set.
    #[inline]
    pub fn contains(self, m: Mutation) -> bool {
        self.0 & m.bit() != 0
    }
    /// The set with `m` added.
    #[inline]
    pub fn with(self, m: Mutation) -> MutationSet {
        MutationSet(self.0 | m.bit())
    }
    /// Whether the set is empty.
    #[inline]
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}
