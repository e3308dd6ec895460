//! The tokio runtime around the core (placeholder until written).
