//! Generates the `Rule` type from the spec's text: every ID that opens a bold span of
//! spec/protocol.md or spec/execution.md (an ID is a known prefix, `-`, digits) is one value,
//! in the order the spec defines them. A spec edit that adds, renames or removes a rule changes
//! the type, and code naming a removed rule no longer compiles.

use std::fmt::Write as _;
use std::path::Path;

const FILES: [&str; 2] = ["spec/protocol.md", "spec/execution.md"];

const PREFIXES: &[&str] = &[
    "STEP-PROP",
    "STEP-VAL",
    "STEP-RAT",
    "EXEC-ISO",
    "EXEC-BLOCK",
    "EXEC-ROOT",
    "EXEC-TX",
    "EXEC-POOL",
    "EXEC-VM",
    "EXEC-STATE",
    "HASH",
    "ELIG",
    "SORT",
    "VOTE",
    "QUORUM",
    "TALLY",
    "ATT",
    "ITER",
    "RESTART",
    "EMERG",
    "TIME",
    "FAIL",
    "FIN",
    "ACCEPT",
    "FORK",
    "REW",
    "SLASH",
    "STAKE",
];

fn rule_id_at(text: &str) -> Option<String> {
    PREFIXES.iter().find_map(|p| {
        let rest = text.strip_prefix(p)?.strip_prefix('-')?;
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!digits.is_empty()).then(|| format!("{p}-{digits}"))
    })
}

fn variant(id: &str) -> String {
    id.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next().map_or_else(String::new, |f| {
                f.to_string() + &c.as_str().to_ascii_lowercase()
            })
        })
        .collect()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut ids: Vec<(String, &str)> = Vec::new();
    for file in FILES {
        let path = root.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        // Every `**` directly followed by an ID opens a rule's heading.
        for (at, _) in text.match_indices("**") {
            if let Some(id) = rule_id_at(&text[at + 2..]) {
                if !ids.iter().any(|(x, _)| *x == id) {
                    ids.push((id, file));
                }
            }
        }
    }
    assert!(
        ids.len() >= 60,
        "the spec defines only {} rule IDs: parser broken",
        ids.len()
    );
    let mut out = String::new();
    out.push_str("/// A rule of spec/protocol.md or spec/execution.md, by its stable ID: one value per ID.\n");
    out.push_str(
        "#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]\npub enum Rule {\n",
    );
    for (id, file) in &ids {
        let _ = writeln!(out, "    /// `{id}` ({file}).\n    {},", variant(id));
    }
    out.push_str("}\n\nimpl Rule {\n    /// Every rule, in the order the spec defines them.\n");
    let _ = writeln!(out, "    pub const ALL: [Rule; {}] = [", ids.len());
    for (id, _) in &ids {
        let _ = writeln!(out, "        Rule::{},", variant(id));
    }
    out.push_str("    ];\n\n    /// The stable ID, as the spec writes it.\n    pub const fn id(self) -> &'static str {\n        match self {\n");
    for (id, _) in &ids {
        let _ = writeln!(out, "            Rule::{} => \"{id}\",", variant(id));
    }
    out.push_str("        }\n    }\n\n    /// The spec file that defines it.\n    pub const fn defined_in(self) -> &'static str {\n        match self {\n");
    for (id, file) in &ids {
        let _ = writeln!(out, "            Rule::{} => \"{file}\",", variant(id));
    }
    out.push_str("        }\n    }\n}\n");
    let dest = Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("rules.rs");
    std::fs::write(dest, out).expect("write the generated Rule type");
}
