//! The Dusk suite (`conformance/traces/dusk`, exported from the `dusk` preset) replayed against
//! dusk-consensus 1.7.0 by the documented command, `sa conform conformance/traces/dusk
//! --adapter "sa-dusk adapter" --json` (the JSON-lines protocol). Every trace's outcome is
//! classified by cause, and the counts per cause must be the table of docs/dusk-conformance.md:
//! a new divergence, or one that goes away, fails here until it is explained there.
//!
//! `sa` is the root workspace's binary (`target/release/sa`), built by the README's test
//! command before this crate's tests run.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn suite_dir() -> PathBuf {
    root().join("conformance/traces/dusk")
}

/// `sa conform PATH --adapter "sa-dusk adapter" --json`: its report.
fn conform(path: &Path) -> Value {
    let sa = root().join("target/release/sa");
    assert!(
        sa.exists(),
        "{} is missing: build it first (`cargo build --release -p sa-cli`, or the README's test \
         command, which runs the root workspace's tests before these)",
        sa.display()
    );
    let adapter = format!("{} adapter", env!("CARGO_BIN_EXE_sa-dusk"));
    let out = Command::new(sa)
        .arg("conform")
        .arg(path)
        .args(["--adapter", &adapter, "--json", "--threads", "2"])
        .output()
        .expect("sa conform runs");
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "sa conform's --json is not JSON ({e}); stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn trace(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(file).unwrap()).unwrap()
}

fn big(v: &Value) -> u64 {
    v["#bigint"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

/// The slot (round, iteration) of a block name's last block (`B1.1-2.0` -> (2, 0)).
fn slot_of(block: &str) -> (u64, u64) {
    let last = block
        .rsplit('-')
        .next()
        .unwrap_or("")
        .trim_start_matches('B');
    let mut parts = last.trim_end_matches('\'').split('.');
    let mut next = || {
        parts
            .next()
            .and_then(|x| x.parse().ok())
            .unwrap_or(u64::MAX)
    };
    (next(), next())
}

/// Why a trace diverged, as docs/dusk-conformance.md names the causes: every divergence is
/// candidates the crate sent that the trace's node never proposes, told apart by where the
/// trace's node was when it left their slot.
fn classify(f: &Value) -> String {
    if f["field"] != "sent" {
        return format!("unexplained: {f}");
    }
    let parse = |s: &Value| -> Vec<Value> {
        let v: Value = serde_json::from_str(s.as_str().unwrap_or("{}")).unwrap_or_default();
        v["#set"].as_array().cloned().unwrap_or_default()
    };
    let (want, got) = (parse(&f["expected"]), parse(&f["actual"]));
    let extra: Vec<&Value> = got.iter().filter(|x| !want.contains(x)).collect();
    if extra.is_empty() || !want.iter().all(|x| got.contains(x)) {
        return format!("unexplained: {f}");
    }
    let state = f["state"].as_u64().unwrap_or(0) as usize;
    let t = trace(f["file"].as_str().unwrap_or(""));
    let at = &t["states"][state - 1]["node"];
    let held = at["chain"].as_array().map_or(0, Vec::len) as u64;
    let causes: Vec<&str> = extra
        .iter()
        .map(|x| {
            let (r, i) = slot_of(x["value"]["block"].as_str().unwrap_or(""));
            if x["tag"] != "Candidate" {
                "unexplained"
            } else if held >= r {
                // The node holds a block at that height: the round was decided.
                "candidate-after-success"
            } else if big(&at["round"]) == r && big(&at["iteration"]) > i {
                // The node left that iteration without proposing: its timer came first.
                "generator-timer-first"
            } else {
                "unexplained"
            }
        })
        .collect();
    match causes.as_slice() {
        [one, rest @ ..] if *one != "unexplained" && rest.iter().all(|c| c == one) => {
            (*one).to_string()
        }
        _ => format!("unexplained: {f}"),
    }
}

/// The table of docs/dusk-conformance.md: rows `| \`cause\` | ... | n |`.
fn documented() -> BTreeMap<String, u64> {
    let doc = std::fs::read_to_string(root().join("docs/dusk-conformance.md")).unwrap();
    let start = doc
        .find("<!-- dusk-suite-table -->")
        .expect("the table's marker");
    doc[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("<!--"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let key = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((key.to_string(), cells.get(3)?.parse().ok()?))
        })
        .collect()
}

#[test]
fn the_dusk_suite_against_dusk_consensus_is_the_documented_table() {
    let r = conform(&suite_dir());
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    counts.insert("passed".into(), r["passed"].as_u64().unwrap());
    for f in r["failures"].as_array().unwrap() {
        let cause = classify(f);
        assert!(!cause.starts_with("unexplained"), "{cause}");
        *counts.entry(cause).or_default() += 1;
    }
    for p in r["partials"].as_array().unwrap() {
        let reason = p["reason"].as_str().unwrap();
        let cause = if reason.starts_with("PastSuccess") {
            "partial-past-success"
        } else if reason.starts_with("Fallback") {
            "partial-fallback"
        } else if reason.starts_with("Defective") {
            "partial-defect"
        } else if reason.starts_with("Edge") {
            "partial-edge"
        } else {
            panic!("an unexplained partial trace: {p}")
        };
        *counts.entry(cause.into()).or_default() += 1;
    }
    let steps = r["steps"].as_u64().unwrap();
    println!("{} traces, {steps} steps compared: {counts:?}", r["traces"]);
    assert!(r["traces"].as_u64().unwrap() >= 150);
    assert!(steps >= 700, "only {steps} steps compared");
    assert_eq!(
        r["not_observed"],
        serde_json::json!(["labels", "final_height", "ledger", "fault_proofs"])
    );
    let mut documented = documented();
    assert_eq!(
        Some(r["traces"].as_u64().unwrap()),
        documented.remove("traces")
    );
    assert_eq!(counts, documented, "docs/dusk-conformance.md's table");
}

#[test]
fn regression_dusk_candidate_after_success() {
    // class-014: P3 is gen(2) of round 1; the Success of iteration 1 (state 5) ends the round,
    // and the crate, which keeps iterating until its host cancels it, starts iteration 2 and
    // sends candidate B1.2 of the decided round with it (ITER-1: the round ends at its
    // Success). Reported at state 6, the first event with the node past that slot.
    let r = conform(&suite_dir().join("class-014.itf.json"));
    let f = &r["failures"][0];
    assert_eq!(
        (f["state"].as_u64(), f["field"].as_str()),
        (Some(6), Some("sent")),
        "{r}"
    );
    assert!(f["actual"].as_str().unwrap().contains("\"B1.2\""), "{f}");
    assert!(!f["expected"].as_str().unwrap().contains("\"B1.2\""), "{f}");
    assert_eq!(classify(f), "candidate-after-success");
}

/// Copies the passing traces with a Validation vote of the node's, each with that vote's value
/// changed (at most `n`); returns (directory, file -> altered state).
fn altered_votes(n: usize) -> (tempfile::TempDir, BTreeMap<String, u64>) {
    let passing = conform(&suite_dir());
    let failed: Vec<String> = passing["failures"]
        .as_array()
        .unwrap()
        .iter()
        .chain(passing["partials"].as_array().unwrap())
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let mut altered = BTreeMap::new();
    let mut files: Vec<_> = std::fs::read_dir(suite_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        if failed.contains(&f.display().to_string()) || altered.len() == n {
            continue;
        }
        let mut t = trace(&f.display().to_string());
        let states = t["states"].as_array_mut().unwrap();
        let Some(k) = states.iter().position(|s| {
            s["sent"]["#set"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["tag"] == "Vote" && x["value"]["step"]["tag"] == "Validation")
        }) else {
            continue;
        };
        for x in states[k]["sent"]["#set"].as_array_mut().unwrap() {
            if x["tag"] == "Vote" && x["value"]["step"]["tag"] == "Validation" {
                let v = &mut x["value"]["value"];
                *v = if v["tag"] == "NoCandidate" {
                    serde_json::json!({"tag": "Valid", "value": {"candidate": {"#bigint": "0"}}})
                } else {
                    serde_json::json!({"tag": "NoCandidate", "value": {"#tup": []}})
                };
            }
        }
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        std::fs::write(dir.path().join(&name), t.to_string()).unwrap();
        altered.insert(name, k as u64);
    }
    (dir, altered)
}

#[test]
fn an_altered_vote_diverges_at_that_field() {
    let (dir, altered) = altered_votes(10);
    assert_eq!(
        altered.len(),
        10,
        "not enough passing traces with a Validation vote"
    );
    let r = conform(dir.path());
    assert_eq!(r["failed"], 10, "{r}");
    for f in r["failures"].as_array().unwrap() {
        let file = Path::new(f["file"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert_eq!(f["field"], "sent", "{f}");
        assert_eq!(f["state"].as_u64(), Some(altered[&file]), "{f}");
    }
}

#[test]
fn the_checked_in_altered_vote_trace_diverges_at_its_vote() {
    // dusk/tests/data/altered-vote.itf.json: class-011 with the node's Validation vote of
    // state 1 changed from Valid to Invalid (docs/dusk-conformance.md shows the command).
    let r = conform(&root().join("dusk/tests/data/altered-vote.itf.json"));
    assert_eq!(
        (r["passed"].as_u64(), r["failed"].as_u64()),
        (Some(0), Some(1)),
        "{r}"
    );
    let f = &r["failures"][0];
    assert_eq!(
        (f["state"].as_u64(), f["field"].as_str()),
        (Some(1), Some("sent")),
        "{f}"
    );
    assert!(f["expected"].as_str().unwrap().contains("Invalid"), "{f}");
    assert!(f["actual"].as_str().unwrap().contains("\"Valid\""), "{f}");
}
