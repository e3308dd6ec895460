//! The rules of spec/protocol.md and spec/execution.md as a type (`sa-rules`, generated from
//! the spec's text): a step of the node that applies a rule names it, `Rule::Iter1.applies()`.

pub use sa_rules::Rule;
