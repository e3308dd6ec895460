//! Conformance: traces exported from the model (sa-model) for sa-node (spec/conformance.md).
//!
//! - [`trace`]: the trace format, ITF JSON (Apalache ADR-015), read with the `itf` crate;
//! - [`export`]: runs selected to cover every transition class of a preset, plus seeded random
//!   walks, each projected onto one node under test.

pub mod export;
pub mod jsonl;
pub mod replay;
pub mod trace;
