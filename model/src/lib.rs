//! `sa-model`: a Stateright model of Dusk's Succinct Attestation consensus under a bounded
//! fault budget, with every property of spec/properties.md named by its stable ID.
//!
//! Layout: [`config`] (parameters, presets, validation), [`sortition`] and [`context`]
//! (deterministic draws per chain prefix), [`ledger`] (stakes, penalties), [`state`] and
//! [`model`] (nodes, pool, actions), [`finality`] (labels), [`properties`] (the checked IDs),
//! [`render`] (counterexamples in the spec's words), [`check`] and [`report`] (the runner).

pub mod check;
pub mod config;
pub mod context;
pub mod draws;
pub mod error;
pub mod finality;
pub mod ledger;
pub mod model;
pub mod mutations;
pub mod properties;
pub mod render;
pub mod report;
pub mod sortition;
pub mod state;

pub use check::{check, check_model, CheckOptions, Progress};
pub use config::Config;
pub use error::ConfigError;
pub use model::{Action, SaModel};
pub use mutations::Mutation;
pub use report::{CheckReport, PropertyReport, Status};
