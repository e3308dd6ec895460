//! The rules of spec/protocol.md and spec/execution.md as a type: one value per stable ID.
//!
//! A site that applies a rule names it in code (`Rule::Iter1.applies()`, or the rule a
//! mutation hook is keyed by: `config.broken(Rule::Fin1)`), one ID at a time. sa-node has its
//! own copy of this type, written from the same spec (the two crates never see each other);
//! `conformance/tests/rule_ids.rs` lists every ID's sites in both and fails on an ID the spec
//! defines that no code applies (unless listed as not applicable there, with why), on one the
//! code uses that the spec does not define, and on one cited only in comments.

/// A rule of spec/protocol.md or spec/execution.md, by its stable ID: one value per ID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rule {
    /// `HASH-1` (spec/protocol.md).
    Hash1,
    /// `ELIG-1` (spec/protocol.md).
    Elig1,
    /// `ELIG-2` (spec/protocol.md).
    Elig2,
    /// `ELIG-3` (spec/protocol.md).
    Elig3,
    /// `ELIG-4` (spec/protocol.md).
    Elig4,
    /// `ELIG-5` (spec/protocol.md).
    Elig5,
    /// `SORT-1` (spec/protocol.md).
    Sort1,
    /// `SORT-2` (spec/protocol.md).
    Sort2,
    /// `SORT-3` (spec/protocol.md).
    Sort3,
    /// `SORT-4` (spec/protocol.md).
    Sort4,
    /// `SORT-5` (spec/protocol.md).
    Sort5,
    /// `SORT-6` (spec/protocol.md).
    Sort6,
    /// `VOTE-1` (spec/protocol.md).
    Vote1,
    /// `QUORUM-1` (spec/protocol.md).
    Quorum1,
    /// `QUORUM-2` (spec/protocol.md).
    Quorum2,
    /// `TALLY-1` (spec/protocol.md).
    Tally1,
    /// `TALLY-2` (spec/protocol.md).
    Tally2,
    /// `TALLY-3` (spec/protocol.md).
    Tally3,
    /// `TALLY-4` (spec/protocol.md).
    Tally4,
    /// `STEP-PROP-1` (spec/protocol.md).
    StepProp1,
    /// `STEP-VAL-1` (spec/protocol.md).
    StepVal1,
    /// `STEP-VAL-2` (spec/protocol.md).
    StepVal2,
    /// `STEP-RAT-1` (spec/protocol.md).
    StepRat1,
    /// `STEP-RAT-2` (spec/protocol.md).
    StepRat2,
    /// `ATT-1` (spec/protocol.md).
    Att1,
    /// `ITER-1` (spec/protocol.md).
    Iter1,
    /// `ITER-2` (spec/protocol.md).
    Iter2,
    /// `ITER-3` (spec/protocol.md).
    Iter3,
    /// `ITER-4` (spec/protocol.md).
    Iter4,
    /// `RESTART-2` (spec/protocol.md).
    Restart2,
    /// `EMERG-1` (spec/protocol.md).
    Emerg1,
    /// `TIME-1` (spec/protocol.md).
    Time1,
    /// `TIME-2` (spec/protocol.md).
    Time2,
    /// `TIME-3` (spec/protocol.md).
    Time3,
    /// `TIME-4` (spec/protocol.md).
    Time4,
    /// `FAIL-1` (spec/protocol.md).
    Fail1,
    /// `FIN-1` (spec/protocol.md).
    Fin1,
    /// `FIN-2` (spec/protocol.md).
    Fin2,
    /// `FIN-3` (spec/protocol.md).
    Fin3,
    /// `FIN-4` (spec/protocol.md).
    Fin4,
    /// `ACCEPT-1` (spec/protocol.md).
    Accept1,
    /// `FORK-1` (spec/protocol.md).
    Fork1,
    /// `FORK-2` (spec/protocol.md).
    Fork2,
    /// `REW-1` (spec/protocol.md).
    Rew1,
    /// `REW-2` (spec/protocol.md).
    Rew2,
    /// `REW-3` (spec/protocol.md).
    Rew3,
    /// `SLASH-1` (spec/protocol.md).
    Slash1,
    /// `SLASH-2` (spec/protocol.md).
    Slash2,
    /// `SLASH-3` (spec/protocol.md).
    Slash3,
    /// `SLASH-4` (spec/protocol.md).
    Slash4,
    /// `EXEC-ISO-1` (spec/execution.md).
    ExecIso1,
    /// `EXEC-BLOCK-1` (spec/execution.md).
    ExecBlock1,
    /// `EXEC-BLOCK-2` (spec/execution.md).
    ExecBlock2,
    /// `EXEC-ROOT-1` (spec/execution.md).
    ExecRoot1,
    /// `EXEC-BLOCK-3` (spec/execution.md).
    ExecBlock3,
    /// `EXEC-TX-2` (spec/execution.md).
    ExecTx2,
    /// `EXEC-POOL-1` (spec/execution.md).
    ExecPool1,
    /// `EXEC-VM-1` (spec/execution.md).
    ExecVm1,
    /// `EXEC-VM-2` (spec/execution.md).
    ExecVm2,
    /// `EXEC-VM-3` (spec/execution.md).
    ExecVm3,
    /// `STAKE-1` (spec/execution.md).
    Stake1,
    /// `STAKE-2` (spec/execution.md).
    Stake2,
    /// `STAKE-3` (spec/execution.md).
    Stake3,
}

impl Rule {
    /// Every rule, in the order the spec defines them.
    pub const ALL: [Rule; 63] = [
        Rule::Hash1,
        Rule::Elig1,
        Rule::Elig2,
        Rule::Elig3,
        Rule::Elig4,
        Rule::Elig5,
        Rule::Sort1,
        Rule::Sort2,
        Rule::Sort3,
        Rule::Sort4,
        Rule::Sort5,
        Rule::Sort6,
        Rule::Vote1,
        Rule::Quorum1,
        Rule::Quorum2,
        Rule::Tally1,
        Rule::Tally2,
        Rule::Tally3,
        Rule::Tally4,
        Rule::StepProp1,
        Rule::StepVal1,
        Rule::StepVal2,
        Rule::StepRat1,
        Rule::StepRat2,
        Rule::Att1,
        Rule::Iter1,
        Rule::Iter2,
        Rule::Iter3,
        Rule::Iter4,
        Rule::Restart2,
        Rule::Emerg1,
        Rule::Time1,
        Rule::Time2,
        Rule::Time3,
        Rule::Time4,
        Rule::Fail1,
        Rule::Fin1,
        Rule::Fin2,
        Rule::Fin3,
        Rule::Fin4,
        Rule::Accept1,
        Rule::Fork1,
        Rule::Fork2,
        Rule::Rew1,
        Rule::Rew2,
        Rule::Rew3,
        Rule::Slash1,
        Rule::Slash2,
        Rule::Slash3,
        Rule::Slash4,
        Rule::ExecIso1,
        Rule::ExecBlock1,
        Rule::ExecBlock2,
        Rule::ExecRoot1,
        Rule::ExecBlock3,
        Rule::ExecTx2,
        Rule::ExecPool1,
        Rule::ExecVm1,
        Rule::ExecVm2,
        Rule::ExecVm3,
        Rule::Stake1,
        Rule::Stake2,
        Rule::Stake3,
    ];

    /// The stable ID, as the spec writes it.
    pub const fn id(self) -> &'static str {
        match self {
            Rule::Hash1 => "HASH-1",
            Rule::Elig1 => "ELIG-1",
            Rule::Elig2 => "ELIG-2",
            Rule::Elig3 => "ELIG-3",
            Rule::Elig4 => "ELIG-4",
            Rule::Elig5 => "ELIG-5",
            Rule::Sort1 => "SORT-1",
            Rule::Sort2 => "SORT-2",
            Rule::Sort3 => "SORT-3",
            Rule::Sort4 => "SORT-4",
            Rule::Sort5 => "SORT-5",
            Rule::Sort6 => "SORT-6",
            Rule::Vote1 => "VOTE-1",
            Rule::Quorum1 => "QUORUM-1",
            Rule::Quorum2 => "QUORUM-2",
            Rule::Tally1 => "TALLY-1",
            Rule::Tally2 => "TALLY-2",
            Rule::Tally3 => "TALLY-3",
            Rule::Tally4 => "TALLY-4",
            Rule::StepProp1 => "STEP-PROP-1",
            Rule::StepVal1 => "STEP-VAL-1",
            Rule::StepVal2 => "STEP-VAL-2",
            Rule::StepRat1 => "STEP-RAT-1",
            Rule::StepRat2 => "STEP-RAT-2",
            Rule::Att1 => "ATT-1",
            Rule::Iter1 => "ITER-1",
            Rule::Iter2 => "ITER-2",
            Rule::Iter3 => "ITER-3",
            Rule::Iter4 => "ITER-4",
            Rule::Restart2 => "RESTART-2",
            Rule::Emerg1 => "EMERG-1",
            Rule::Time1 => "TIME-1",
            Rule::Time2 => "TIME-2",
            Rule::Time3 => "TIME-3",
            Rule::Time4 => "TIME-4",
            Rule::Fail1 => "FAIL-1",
            Rule::Fin1 => "FIN-1",
            Rule::Fin2 => "FIN-2",
            Rule::Fin3 => "FIN-3",
            Rule::Fin4 => "FIN-4",
            Rule::Accept1 => "ACCEPT-1",
            Rule::Fork1 => "FORK-1",
            Rule::Fork2 => "FORK-2",
            Rule::Rew1 => "REW-1",
            Rule::Rew2 => "REW-2",
            Rule::Rew3 => "REW-3",
            Rule::Slash1 => "SLASH-1",
            Rule::Slash2 => "SLASH-2",
            Rule::Slash3 => "SLASH-3",
            Rule::Slash4 => "SLASH-4",
            Rule::ExecIso1 => "EXEC-ISO-1",
            Rule::ExecBlock1 => "EXEC-BLOCK-1",
            Rule::ExecBlock2 => "EXEC-BLOCK-2",
            Rule::ExecRoot1 => "EXEC-ROOT-1",
            Rule::ExecBlock3 => "EXEC-BLOCK-3",
            Rule::ExecTx2 => "EXEC-TX-2",
            Rule::ExecPool1 => "EXEC-POOL-1",
            Rule::ExecVm1 => "EXEC-VM-1",
            Rule::ExecVm2 => "EXEC-VM-2",
            Rule::ExecVm3 => "EXEC-VM-3",
            Rule::Stake1 => "STAKE-1",
            Rule::Stake2 => "STAKE-2",
            Rule::Stake3 => "STAKE-3",
        }
    }

    /// Names the rule at the handler arm or step that applies it: a typed citation the compiler
    /// checks and the rule-ID test (`conformance/tests/rule_ids.rs`) finds, never a range. It
    /// does nothing at run time.
    #[inline(always)]
    pub const fn applies(self) {}
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}
