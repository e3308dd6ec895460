//! The deterministic in-memory network (`sa_testkit::sim`), shared by the node's tests.

#![allow(unused_imports)]

pub use sa_testkit::sim::*;
