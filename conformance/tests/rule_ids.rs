//! Rule IDs are code, both ways (spec/protocol.md and spec/execution.md against sa-model and
//! sa-node). Both crates name rules with the `Rule` type of `sa-rules`, which its build script
//! generates from the spec (one value per bold rule heading; this test parses the spec on its own
//! and compares); a site that applies a rule names it in code (`Rule::Iter1.applies()`, or a
//! mutation hook `config.broken(Rule::Fin1)`), one ID at a time. The test prints every ID's
//! sites in the model and in sa-node, and fails on:
//! - an ID the spec defines that `Rule` lacks, or a `Rule` value the spec does not define (the
//!   generator and this test's own parse disagree);
//! - an ID a crate applies nowhere, unless it is listed below as not applicable there, with why
//!   (and one listed so that is applied after all: the list is stale);
//! - an ID cited only in a comment of a crate that does not apply it (the citation promises a
//!   site that does not exist);
//! - a rule-like ID cited in a crate's code or comments that the spec does not define (such as
//!   `ATT-3` or `PROP-1`), and a range (`FIN-1..3`, `TALLY-1/2`) instead of one ID at a time.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Rules the model does not apply, and why.
const NOT_IN_MODEL: &[(&str, &str)] = &[
    (
        "ITER-4",
        "sa-node's iteration catch-up; not in the model yet (spec/protocol.md ITER-4)",
    ),
    (
        "RESTART-2",
        "restarts are sa-node's; the model has no restart (a crash is for good)",
    ),
    (
        "TIME-1",
        "durations: the model has no clock; its timers are events (TIME-3, TIME-4)",
    ),
    (
        "TIME-2",
        "durations: the model has no clock; its timers are events (TIME-3, TIME-4)",
    ),
    (
        "EXEC-BLOCK-1",
        "the model's payload is fixed and well formed (spec/faults.md)",
    ),
    (
        "EXEC-BLOCK-2",
        "the model's payload is fixed and well formed (spec/faults.md)",
    ),
    (
        "EXEC-BLOCK-3",
        "the model has no state root: a block's effects are its ledger",
    ),
    (
        "EXEC-ROOT-1",
        "the model has no state root: a block's effects are its ledger",
    ),
    (
        "EXEC-POOL-1",
        "the model has no mempool: every candidate carries the fixed payload",
    ),
    (
        "EXEC-VM-1",
        "the model runs no WebAssembly: a transaction's outcome is given",
    ),
    (
        "EXEC-VM-2",
        "the model runs no WebAssembly: a transaction's outcome is given",
    ),
    (
        "EXEC-VM-3",
        "the model runs no WebAssembly: a transaction's outcome is given",
    ),
    (
        "EXEC-BLOCK-4",
        "the model's transactions are abstract outcomes: no signature, nonce or fee",
    ),
    (
        "EXEC-TX-1",
        "the model's transactions are abstract outcomes: no signature, nonce or fee",
    ),
    (
        "EXEC-ROOT-2",
        "the model has no state root: a block's effects are its ledger",
    ),
    (
        "EXEC-POOL-2",
        "the model has no mempool: every candidate carries the fixed payload",
    ),
    (
        "EXEC-POOL-3",
        "the model has no mempool: every candidate carries the fixed payload",
    ),
    (
        "EXEC-POOL-4",
        "the model has no mempool: every candidate carries the fixed payload",
    ),
    (
        "EXEC-VM-4",
        "the model runs no WebAssembly: a transaction's outcome is given",
    ),
    (
        "EXEC-STATE-1",
        "application state is not modelled (spec/execution.md, \"In the model\")",
    ),
    (
        "EXEC-STATE-2",
        "application state is not modelled; the model has no restart",
    ),
    (
        "STAKE-2",
        "the model's payload stakes (STAKE-1) but never unstakes",
    ),
    (
        "STAKE-3",
        "the model's payload stakes (STAKE-1) but never withdraws",
    ),
];

/// Rules sa-node does not apply, and why.
const NOT_IN_NODE: &[(&str, &str)] = &[
    (
        "TIME-3",
        "the model's timer rule (nondeterministic events); sa-node has clocks (TIME-1, TIME-2)",
    ),
    (
        "TIME-4",
        "the model's synchrony after GST; sa-node has a real network",
    ),
];

const PREFIXES: &[&str] = &[
    "HASH",
    "ELIG",
    "SORT",
    "VOTE",
    "QUORUM",
    "TALLY",
    "STEP-PROP",
    "STEP-VAL",
    "STEP-RAT",
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
    "EXEC-ISO",
    "EXEC-BLOCK",
    "EXEC-ROOT",
    "EXEC-TX",
    "EXEC-POOL",
    "EXEC-VM",
    "EXEC-STATE",
    "STAKE",
    "PROP",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The IDs the spec defines, in order: every ID that opens a bold span.
fn defined() -> Vec<String> {
    let mut ids = Vec::new();
    for file in ["spec/protocol.md", "spec/execution.md"] {
        let text = std::fs::read_to_string(root().join(file)).expect("spec file");
        for (at, _) in text.match_indices("**") {
            if let Some(id) = rule_id_at(&text[at + 2..]) {
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
    }
    ids
}

/// The rule ID `text` starts with, if any (prefix, `-`, digits, not followed by a digit).
fn rule_id_at(text: &str) -> Option<String> {
    for p in PREFIXES {
        if let Some(rest) = text.strip_prefix(p).and_then(|r| r.strip_prefix('-')) {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if !digits.is_empty() {
                return Some(format!("{p}-{digits}"));
            }
        }
    }
    None
}

/// Every rule-like ID in `text` with what follows it (to spot ranges).
fn cited(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    for (i, _) in text.char_indices() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'-');
        if !boundary {
            continue;
        }
        if let Some(id) = rule_id_at(&text[i..]) {
            // STEP-PROP-1 also matches PROP-1 one word later: skip IDs inside a longer one.
            let after: String = text[i + id.len()..].chars().take(3).collect();
            out.push((id, after));
        }
    }
    out
}

/// The `Rule` type (`sa-rules`, generated from the spec by its build script; sa-model and
/// sa-node re-export it): variant name -> ID. The crate must name that type.
fn rule_type(crate_dir: &str) -> BTreeMap<String, String> {
    let text =
        std::fs::read_to_string(root().join(crate_dir).join("src/rules.rs")).expect("rules.rs");
    assert!(
        text.contains("pub use sa_rules::Rule;"),
        "{crate_dir}/src/rules.rs does not re-export sa_rules::Rule"
    );
    sa_rules::Rule::ALL
        .iter()
        .map(|r| (format!("{r:?}"), r.id().to_string()))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src folder") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// What a crate's sources say about rules.
#[derive(Default)]
struct Sites {
    /// ID -> `file:line` of each code site (`Rule::X` outside comments).
    code: BTreeMap<String, Vec<String>>,
    /// ID -> `file:line` of each citation in a comment.
    comments: BTreeMap<String, Vec<String>>,
    /// Problems found while reading (ranges, unknown variants).
    problems: Vec<String>,
}

fn sites(crate_dir: &str) -> Sites {
    let variants = rule_type(crate_dir);
    let src = root().join(crate_dir).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut s = Sites::default();
    for file in files {
        let name = file
            .strip_prefix(&src)
            .expect("under src")
            .display()
            .to_string();
        if name == "rules.rs" {
            continue;
        }
        // mutations.rs maps each broken variant to its rule: a catalogue, not an application
        // (the hook sits at the rule's site). Its citations are still read.
        let catalogue = name == "mutations.rs";
        let text = std::fs::read_to_string(&file).expect("readable");
        for (n, line) in text.lines().enumerate() {
            let at = format!("{crate_dir}/src/{name}:{}", n + 1);
            let (code, comment) = match line.find("//") {
                Some(k) => (&line[..k], &line[k..]),
                None => (line, ""),
            };
            let mut rest = code;
            while let Some(k) = rest.find("Rule::") {
                rest = &rest[k + "Rule::".len()..];
                let variant: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                match variants.get(&variant) {
                    Some(_) if catalogue => {}
                    Some(id) => s.code.entry(id.clone()).or_default().push(at.clone()),
                    None if variant == "ALL" => {}
                    None => s.problems.push(format!("{at}: Rule::{variant} is no rule")),
                }
            }
            for (id, after) in cited(line) {
                if after.starts_with("..")
                    || (after.starts_with('/')
                        && after[1..].starts_with(|c: char| c.is_ascii_digit()))
                {
                    s.problems.push(format!(
                        "{at}: a range `{id}{after}…`: cite one ID at a time"
                    ));
                }
                // In a comment or a string: a citation, not a site.
                let _ = comment;
                s.comments.entry(id).or_default().push(at.clone());
            }
        }
    }
    s
}

/// The problems of one crate against the spec.
fn problems(
    crate_dir: &str,
    not_applicable: &[(&str, &str)],
    spec: &[String],
) -> (Sites, Vec<String>) {
    let s = sites(crate_dir);
    let out = judge(crate_dir, &s, not_applicable, spec);
    (s, out)
}

/// What is wrong with a crate's `sites` against the spec's IDs.
fn judge(
    crate_dir: &str,
    s: &Sites,
    not_applicable: &[(&str, &str)],
    spec: &[String],
) -> Vec<String> {
    let mut out = s.problems.clone();
    let typed: BTreeSet<String> = rule_type(crate_dir).into_values().collect();
    let spec_set: BTreeSet<String> = spec.iter().cloned().collect();
    for id in spec_set.difference(&typed) {
        out.push(format!(
            "{crate_dir}: {id} is defined in spec/ but has no Rule value"
        ));
    }
    for id in typed.difference(&spec_set) {
        out.push(format!(
            "{crate_dir}: Rule value {id} is defined nowhere in spec/"
        ));
    }
    let na: BTreeMap<&str, &str> = not_applicable.iter().copied().collect();
    for id in spec {
        let applied = s.code.contains_key(id);
        match (applied, na.get(id.as_str())) {
            (true, Some(_)) => out.push(format!(
                "{crate_dir}: {id} is listed as not applicable but applied at {}",
                s.code[id].join(", ")
            )),
            (false, None) if s.comments.contains_key(id) => out.push(format!(
                "{crate_dir}: {id} is cited only in comments ({}), applied nowhere",
                s.comments[id].join(", ")
            )),
            (false, None) => out.push(format!("{crate_dir}: {id} is applied nowhere")),
            _ => {}
        }
    }
    for (id, at) in &s.comments {
        if !spec_set.contains(id) {
            out.push(format!(
                "{crate_dir}: {id} is cited but defined nowhere in spec/ ({})",
                at.join(", ")
            ));
        }
    }
    out
}

#[test]
fn every_rule_is_applied_where_the_code_says_and_defined_where_it_is_cited() {
    let spec = defined();
    assert!(
        spec.len() >= 60,
        "spec/ defines {} rule IDs: the parser is broken",
        spec.len()
    );
    assert!(spec.contains(&"ITER-1".to_string()) && spec.contains(&"STEP-RAT-2".to_string()));
    let (model, mut all) = problems("model", NOT_IN_MODEL, &spec);
    let (node, node_problems) = problems("impl", NOT_IN_NODE, &spec);
    all.extend(node_problems);
    println!("{:<13} {:<48} sa-node", "rule", "sa-model");
    for id in &spec {
        let show = |s: &Sites, na: &[(&str, &str)]| -> String {
            match s.code.get(id) {
                Some(at) => at
                    .iter()
                    .map(|a| a.split_once("/src/").map_or(a.as_str(), |x| x.1))
                    .collect::<Vec<_>>()
                    .join(" "),
                None => na
                    .iter()
                    .find(|(x, _)| x == id)
                    .map_or("(nowhere)".into(), |(_, why)| format!("n/a: {why}")),
            }
        };
        println!(
            "{id:<13} {:<48} {}",
            show(&model, NOT_IN_MODEL),
            show(&node, NOT_IN_NODE)
        );
    }
    assert!(
        all.is_empty(),
        "{} problem(s):\n{}",
        all.len(),
        all.join("\n")
    );
}

#[test]
fn the_checker_catches_a_removed_site_an_undefined_id_and_a_range() {
    // The parsing the test rests on, on text of its own.
    assert_eq!(
        rule_id_at("STEP-RAT-2. An attestation"),
        Some("STEP-RAT-2".into())
    );
    assert_eq!(rule_id_at("FIN-10 x"), Some("FIN-10".into()));
    assert_eq!(rule_id_at("SAFE-FINAL-AGREEMENT"), None);
    let c = cited("see ATT-3 and FIN-1..3, TALLY-1/2; STEP-PROP-1");
    let ids: Vec<&str> = c.iter().map(|(id, _)| id.as_str()).collect();
    assert_eq!(ids, ["ATT-3", "FIN-1", "TALLY-1", "STEP-PROP-1"]);
    assert!(c[1].1.starts_with(".."));
    assert!(c[2].1.starts_with('/'));
    // The model as it is: no problem. A site removed: ITER-1 is then reported, as cited only
    // in comments if a comment still names it, else as applied nowhere.
    let spec = defined();
    let (mut s, clean) = problems("model", NOT_IN_MODEL, &spec);
    assert!(clean.is_empty(), "{clean:?}");
    assert!(
        s.code.remove("ITER-1").is_some(),
        "the model applies ITER-1"
    );
    let found = judge("model", &s, NOT_IN_MODEL, &spec);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        found[0].contains("ITER-1") && found[0].contains("applied nowhere"),
        "{found:?}"
    );
    // An ID cited that the spec does not define, and a rule listed as not applicable that is
    // applied after all.
    s.comments.insert("ATT-3".into(), vec!["x.rs:1".into()]);
    s.code.insert("ITER-4".into(), vec!["x.rs:2".into()]);
    let found = judge("model", &s, NOT_IN_MODEL, &spec);
    assert!(
        found
            .iter()
            .any(|p| p.contains("ATT-3 is cited but defined nowhere")),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|p| p.contains("ITER-4 is listed as not applicable")),
        "{found:?}"
    );
}
