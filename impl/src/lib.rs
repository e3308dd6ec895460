//! `sa-node`: the production implementation of Succinct Attestation, written from spec/ alone
//! (it never depends on `sa-model`: the conformance suite compares the two).
//!
//! Built so far: the pure building blocks of the consensus core — the hash ([`hash`]), the
//! deterministic sortition with credits ([`sortition`], SORT-1..6) and the vote keeper that
//! tallies one step's votes against the thresholds and detects conflicting votes ([`votes`],
//! QUORUM-1/2, TALLY-1..3). The sans-IO node state machine, signatures, storage and the
//! network runtime are the rest of issue 3.

pub mod hash;
pub mod sortition;
pub mod votes;
