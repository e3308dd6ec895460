//! `sa-rules`: the rules of spec/protocol.md and spec/execution.md as a type, one value per
//! stable ID, generated from the spec's text at build time (`build.rs`). It is the one thing
//! sa-model and sa-node share besides the trace format: the words of spec/, not code.
//!
//! A site that applies a rule names it in code, one ID at a time: `Rule::Iter1.applies()`, or
//! in the model the rule a mutation hook is keyed by (`config.broken(Rule::Fin1)`).
//! `conformance/tests/rule_ids.rs` lists every ID's sites in both crates and fails on an ID the
//! spec defines that a crate applies nowhere (unless listed as not applicable there, with why),
//! on one cited only in comments, on one cited but not defined, and on a range.

include!(concat!(env!("OUT_DIR"), "/rules.rs"));

impl Rule {
    /// Names the rule at the handler arm or step that applies it: a typed citation the compiler
    /// checks and the rule-ID test finds. It does nothing at run time.
    #[inline(always)]
    pub const fn applies(self) {}
}

impl std::fmt::Display for Rule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

#[cfg(test)]
mod tests {
    use super::Rule;

    #[test]
    fn ids_and_names_agree() {
        // 63 before issue 29 added EXEC-TX-1, EXEC-BLOCK-4, EXEC-ROOT-2, EXEC-POOL-2,
        // EXEC-POOL-3, EXEC-POOL-4, EXEC-VM-4, EXEC-STATE-1 and EXEC-STATE-2.
        assert_eq!(Rule::ALL.len(), 72);
        assert_eq!(Rule::ExecState2.id(), "EXEC-STATE-2");
        assert_eq!(Rule::ExecBlock4.defined_in(), "spec/execution.md");
        assert_eq!(Rule::Iter1.id(), "ITER-1");
        assert_eq!(Rule::StepRat2.id(), "STEP-RAT-2");
        assert_eq!(Rule::ExecTx2.defined_in(), "spec/execution.md");
        for r in Rule::ALL {
            // The variant is the ID in CamelCase.
            let camel: String = r
                .id()
                .split('-')
                .map(|p| p[..1].to_string() + &p[1..].to_ascii_lowercase())
                .collect();
            assert_eq!(format!("{r:?}"), camel);
        }
    }
}
