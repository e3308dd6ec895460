//! Execution in the model (spec/execution.md, "In the model"): transactions with abstract
//! outcomes. Every candidate carries one transaction of each outcome, in this order, so every
//! block of every path holds a success, a trap, an out-of-gas, an attempted write to protocol
//! state and a stake operation of its generator. Choosing the payload per candidate would
//! multiply the state space without a new behaviour under the reference rules: a failing
//! transaction has no effect on protocol state or on the block's validity, which is exactly
//! what SAFE-ISOLATION and SAFE-TX-CONTAINED check (and the mutations `sandbox-escape` and
//! `failing-tx-invalidates` break).
//!
//! Application state (balances, contract storage) is not modelled: only what reaches protocol
//! state, the ledger, matters to consensus.

use crate::config::LUX_PER_UNIT;

/// The abstract outcome of one transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TxOutcome {
    /// Runs to the end; its effects are in application state.
    Succeeds,
    /// Traps (a panic, an out-of-bounds access): reverted, fee charged.
    Traps,
    /// Runs out of gas: reverted, fee charged.
    OutOfGas,
    /// Tries to write protocol state (a stake, the provisioner set): the sandbox has no host
    /// function for it, the write never happens, the transaction fails.
    ForbiddenWrite,
    /// STAKE-1: the generator adds [`STAKE_TX_LUX`] to its stake, mature at
    /// `next_epoch(h) + EPOCH`.
    Stake,
}

impl TxOutcome {
    /// Whether the transaction fails (reverted, receipt says why).
    pub fn fails(self) -> bool {
        matches!(
            self,
            TxOutcome::Traps | TxOutcome::OutOfGas | TxOutcome::ForbiddenWrite
        )
    }
}

/// The payload of every candidate.
pub const PAYLOAD: [TxOutcome; 5] = [
    TxOutcome::Succeeds,
    TxOutcome::Traps,
    TxOutcome::OutOfGas,
    TxOutcome::ForbiddenWrite,
    TxOutcome::Stake,
];

/// The stake operations of a payload alone (what SAFE-ISOLATION compares with).
pub const STAKE_ONLY: [TxOutcome; 1] = [TxOutcome::Stake];

/// Lux each candidate's stake operation adds (one stake unit).
pub const STAKE_TX_LUX: u64 = LUX_PER_UNIT;

/// Whether a payload holds a failing transaction.
pub fn has_failing(payload: &[TxOutcome]) -> bool {
    payload.iter().any(|t| t.fails())
}
