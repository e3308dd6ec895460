//! `sa-node`: the production implementation of Succinct Attestation, written from spec/ alone
//! (it never depends on `sa-model`: the conformance suite compares the two).
//!
//! - [`node`]: the sans-IO consensus core, `Node::handle(now, Input) -> Vec<Output>`;
//! - [`message`], [`encoding`], [`keys`], [`hash`]: the data, its canonical bytes
//!   (spec/encoding.md), BLS12-381 keys and signatures and BLAKE2b-256;
//! - [`sortition`], [`tally`], [`ledger`], [`finality`]: the pure rules (SORT, TALLY, ELIG,
//!   REW, SLASH, FIN), named as sa-model names the same concepts; [`rules`]: the spec's rule
//!   IDs as a type, named at the step that applies each;
//! - [`storage`]: the fsynced, checksummed append-only log the node records votes and blocks
//!   in before sending or acting on them;
//! - [`runtime`]: the tokio TCP runtime around the core; [`config`]: genesis and node files;
//!   [`events`]: the typed JSON event lines the runtime prints; [`schedule`]: a testnet's
//!   scripted network faults (fault injection only);
//!
//! Harnesses (the in-memory network of cores, the fault campaign, the testnet driver) live in
//! `sa-testkit`: this crate holds only what a running node needs.

pub mod config;
pub mod encoding;
pub mod events;
pub mod exec;
pub mod finality;
pub mod hash;
pub mod keys;
pub mod ledger;
pub mod message;
pub mod node;
pub mod peers;
pub mod rules;
pub mod runtime;
pub mod schedule;

pub mod snapshot;
pub mod sortition;
pub mod storage;
pub mod tally;
pub mod transport;
