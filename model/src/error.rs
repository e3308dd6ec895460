//! The crate's error type.

use thiserror::Error;

/// A configuration that cannot be checked.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ConfigError {
    /// The TOML text does not parse or has an unknown field.
    #[error("{origin}: {message}")]
    Parse {
        /// File name (or preset) the text came from.
        origin: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// A value breaks a rule.
    #[error("invalid configuration: `{field}` {rule}")]
    Invalid {
        /// Path of the offending field, e.g. `faults.absent`.
        field: String,
        /// The rule it breaks.
        rule: String,
    },
    /// No preset of that name.
    #[error("unknown preset `{name}`; known presets: {known}")]
    UnknownPreset {
        /// The requested name.
        name: String,
        /// Comma-separated known names.
        known: String,
    },
}
