//! `sa-model`: a Stateright model of Dusk's Succinct Attestation consensus under a bounded
//! fault budget (absence, early timers, invalid candidates, Byzantine provisioners), with every
//! property of spec/properties.md named by its stable ID.
//!
//! Two jobs, one dependency direction:
//! - **the protocol**: [`config`], [`state`], [`node`] (one honest node's handler,
//!   `handle(node, event) -> (node, messages)`), [`model`] (the network and the adversary that
//!   compose the handlers), [`keys`] (test keys and the seed rule), [`sortition`], [`context`] and [`draws`] (draws per chain prefix and
//!   every draw class), [`ledger`], [`finality`], [`properties`], [`mutations`];
//! - **the checking machinery**, which reads the protocol and is never read by it: [`check`]
//!   (search, limits, verdicts, shortest paths, the all-draws sweep), [`report`], [`render`],
//!   and [`odds`] (the fork's probability at mainnet scale).

pub mod chart;
pub mod check;
pub mod config;
pub mod context;
pub mod degrade;
pub mod draws;
pub mod error;
pub mod exec;
pub mod explore;
pub mod finality;
pub mod keys;
pub mod ledger;
pub mod live;
pub mod liveness;
pub mod model;
pub mod mutations;
pub mod node;
pub mod odds;
pub mod properties;
pub mod render;
pub mod report;
pub mod sortition;
pub mod state;
pub mod unbounded;

pub use check::{check, check_model, CheckOptions, Progress};
pub use config::Config;
pub use error::ConfigError;
pub use model::{Action, SaModel};
pub use mutations::Mutation;
pub use report::{CheckReport, PropertyReport, Status};
