//! `sa-testkit`: the harnesses that exercise sa-node, kept out of the node itself (sa-node
//! holds only what a running node needs).
//!
//! - [`sim`]: a deterministic in-memory network of sans-IO cores (virtual time, crashes,
//!   restarts from the persisted records, message filters): the node's tests, the campaign and
//!   `sa soak`'s checks run on it;
//! - [`disk`]: a simulated disk for the node's log, with seeded faults (full, fsync errors,
//!   torn and zero-filled writes, flipped bits);
//! - [`inspect`]: what nodes hold on disk (chain, labels, ledgers), read without changing it;
//! - [`campaign`]: the fault campaign (random, mutated and crafted messages through one core,
//!   counted by rejection reason);
//! - [`testnet`]: N node processes on loopback with fault injection, judged by typed events
//!   (`sa_node::events`) for SAFE-FINAL-NO-REVERT, SAFE-FINAL-AGREEMENT, SAFE-VOTE-UNIQUE and
//!   durability across restarts.

pub mod campaign;
pub mod disk;
pub mod inspect;
pub mod sim;
pub mod testnet;
