//! The deterministic in-memory network (`sa_node::sim`), shared by the node's tests.

#![allow(unused_imports)]

pub use sa_node::sim::*;
