//! Dusk's own consensus crate against the conformance suite (issue 36).
//!
//! - [`profile`]: the Dusk profile's keys and seeds, computed with dusk-core's code and written
//!   as the table sa-model reads (`model/data/dusk-profile.json`).
//! - [`draws`]: dusk-consensus's own committees for a model context, for the draws test.

pub mod adapter;
pub mod draws;
pub mod host;
pub mod itf;
pub mod profile;
pub mod serve;
pub mod steplog;
