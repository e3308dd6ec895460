//! `sa-checker`: the checker of `sa-model`. It reads the protocol through `stateright::Model`
//! and `sa_model::properties::SPECS`; the protocol knows nothing of it.
//!
//! - [`checked`]: the protocol model plus what a search counts (mutation effects, rank
//!   violations, witnesses reached, stuck states past the bound, the stop flag);
//! - [`options`], [`check`]: the exhaustive search, honest about its limits, shortest
//!   counterexamples, the all-draws and seed sweeps;
//! - [`unbounded`], [`liveness`]: rounds for ever (dropping Final heights) and the fair-cycle
//!   search for the liveness properties a bounded graph cannot decide;
//! - [`report`], [`render`], [`chart`], [`explore`]: what a user reads;
//! - [`simulate`]: seeded random walks (a swarm of depth-first runs) for configurations the
//!   exhaustive search cannot finish;
//! - [`odds`], [`degrade`]: statistics of sortition at mainnet scale.

pub mod chart;
pub mod check;
pub mod checked;
pub mod degrade;
pub mod explore;
pub mod liveness;
pub mod odds;
pub mod options;
pub mod render;
pub mod report;
pub mod shard;
pub mod simulate;
pub mod sizes;
pub mod spec_text;
pub mod unbounded;

pub use check::{check, check_model};
pub use checked::Checked;
pub use options::{CheckOptions, Progress};
pub use report::{CheckReport, PropertyReport, Status};
