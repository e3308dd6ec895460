//! The rules of spec/protocol.md and spec/execution.md as a type (`sa-rules`, generated from
//! the spec's text): a site that applies a rule names it, `Rule::Iter1.applies()`, and each
//! mutation is keyed by the one rule it breaks (`Mutation::rule`, `Config::broken`).

pub use sa_rules::Rule;
