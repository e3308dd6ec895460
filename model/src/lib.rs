//! `sa-model`: Dusk's Succinct Attestation consensus as a Stateright model under a bounded
//! fault budget (absence, early timers, invalid candidates, Byzantine provisioners), with every
//! property of spec/properties.md named by its stable ID. The protocol only: searching,
//! counting, reporting and rendering are the checker crate's (`sa-checker`), which reads this
//! crate and is never read by it.
//!
//! The modules, from the bottom up (each imports only modules above it in this list):
//! - the data: [`config`] (and [`error`]), [`rules`] (the spec's rule IDs), [`mutations`]
//!   (broken variants, one per rule, and the sink where they report an effect), [`state`],
//!   [`event`] (what happens to one node);
//! - the pure functions of a chain: [`hash`], [`keys`] (test keys and the seed rule),
//!   [`sortition`], [`exec`], [`ledger`], [`draws`] (what a chain prefix fixes for the next
//!   round: ledger, seed, draws), [`draw_classes`] (every allowed draw of a round),
//!   [`finality`];
//! - one node: [`model`] (the parameters and the lookups every rule needs), [`node`] (one
//!   honest node's handler, `handle(node, event) -> (node, messages)`);
//! - the composition: [`tally`] (quorums a node can hold), [`fork_choice`], [`adversary`],
//!   [`network`] (which events each node may take), [`live`] (the progress rank and the
//!   per-round liveness goals), [`properties`], [`reduction`] (the partial-order reduction of
//!   the asynchronous part), [`checkable`] (the `stateright::Model`), and [`examples`]
//!   (documented paths, taken by the model's own actions).

pub mod adversary;
pub mod checkable;
pub mod config;
pub mod draw_classes;
pub mod draws;
pub mod dusk_profile;
pub mod error;
pub mod event;
pub mod examples;
pub mod exec;
pub mod finality;
pub mod fork_choice;
pub mod hash;
pub mod keys;
pub mod ledger;
pub mod live;
pub mod merging;
pub mod model;
pub mod mutations;
pub mod network;
pub mod node;
pub mod properties;
pub mod reduction;
pub mod rules;
pub mod sortition;
pub mod state;
pub mod tally;

pub use config::Config;
pub use error::ConfigError;
pub use model::{Action, SaModel};
pub use mutations::Mutation;
pub use rules::Rule;
