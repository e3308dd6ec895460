//! Hand-written broken variants of sa-node, each a real edit of its source: the checked-in
//! suites must fail on every one, naming the trace. The workspace is copied to a temporary
//! directory, each edit applied there in turn and `impl/tests/conformance_suite.rs` run on it
//! (profile `mutants`, a target directory of its own: one full build, then one incremental
//! build per variant: 136 s on 2 cores). The unedited copy must pass first, so a
//! failure is the edit's doing. (Automatic mutants: scripts/mutants.sh; README.)

use std::path::{Path, PathBuf};
use std::process::Command;

/// (name, file, text replaced, replacement): each replacement must occur in the file.
const VARIANTS: &[(&str, &str, &str, &str)] = &[
    (
        "threshold off by one (SM one credit too high)",
        "impl/src/tally.rs",
        "supermajority: c - c / 3,",
        "supermajority: c - c / 3 + 1,",
    ),
    (
        "a Fail attestation ignored (the node stays in its iteration)",
        "impl/src/node/tally.rs",
        "                        self.record_duration(StepKind::Ratification);\n                    }\n                    self.enter_iteration(i + 1);",
        "                        self.record_duration(StepKind::Ratification);\n                    }",
    ),
    (
        "a non-member vote counted (one credit)",
        "impl/src/node/tally.rs",
        "if committee.get(&v.signer).copied().unwrap_or(0) == 0 {",
        "if committee.get(&v.signer).is_some_and(|c| *c == u32::MAX) {",
    ),
    (
        "a non-member vote counted (one credit)",
        "impl/src/tally.rs",
        "        if self.committee.get(signer).copied().unwrap_or(0) == 0 {\n            return Err(Rejected::NotMember);\n        }\n",
        "",
    ),
    (
        "a non-member vote counted (one credit)",
        "impl/src/tally.rs",
        ".map(|(k, _)| self.committee.get(k).copied().unwrap_or(0))",
        ".map(|(k, _)| self.committee.get(k).copied().unwrap_or(1))",
    ),
    (
        "the node does not take itself for gen(i) (and others do)",
        "impl/src/node/steps.rs",
        "let is_gen = it.draw.generator == Some(me);",
        "let is_gen = it.draw.generator != Some(me);",
    ),
    (
        "an equivocating vote not turned into a fault proof (it is only dropped)",
        "impl/src/node/tally.rs",
        "                let first = sigs.remove(&v.signer).expect(\"first vote kept\");\n                return self.record_fault(FaultProof::DoubleVote { first, second: v });",
        "                return;",
    ),
    (
        "a second candidate of one generator not turned into a fault proof",
        "impl/src/node/messages.rs",
        "            return self.record_fault(proof);\n        }\n",
        "            let _ = proof;\n            return;\n        }\n",
    ),
    (
        "a late candidate of an open emergency iteration not voted on (EMERG-1)",
        "impl/src/node/messages.rs",
        "} else if self.emergency(i) && i <= r.iteration {",
        "} else if self.emergency(i) && i > r.iteration {",
    ),
    (
        "NoCandidate voted in emergency iterations (EMERG-1)",
        "impl/src/node/steps.rs",
        "(None, _) if !emergency => Vote::NoCandidate,",
        "(None, _) => Vote::NoCandidate,",
    ),
    (
        "gen(i+1) not excluded from the committees",
        "impl/src/node/draws.rs",
        "                params.max_iterations,\n",
        "                iteration + 1,\n",
    ),
];

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let name = e.file_name();
        if name == "target" || name == ".git" {
            continue;
        }
        let (src, dst) = (e.path(), to.join(&name));
        if e.file_type().unwrap().is_dir() {
            copy_tree(&src, &dst);
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

/// Runs the suite on the copy: (passed, output).
fn suite(root: &Path, target: &Path) -> (bool, String) {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "test",
            "--offline",
            "--profile",
            "mutants",
            "-p",
            "sa-node",
            "--test",
            "conformance_suite",
        ])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
#[ignore = "long check (about 5 min on 2 cores: a workspace build per variant): scripts/long-checks.sh"]
fn the_suites_catch_every_hand_written_broken_variant() {
    let workspace = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("ws");
    let target = tmp.path().join("target");
    copy_tree(&workspace, &root);
    let (ok, text) = suite(&root, &target);
    assert!(ok, "the unedited copy must pass:\n{text}");
    let mut names: Vec<&str> = VARIANTS.iter().map(|v| v.0).collect();
    names.dedup();
    for name in names {
        let mut originals = vec![];
        for (_, file, old, new) in VARIANTS.iter().filter(|v| v.0 == name) {
            let path = root.join(file);
            let text = std::fs::read_to_string(&path).unwrap();
            assert!(text.contains(old), "{name}: {file} no longer has {old:?}");
            originals.push((path.clone(), text.clone()));
            std::fs::write(&path, text.replace(old, new)).unwrap();
        }
        let (ok, text) = suite(&root, &target);
        assert!(
            !text.contains("error[E"),
            "{name}: the edit does not compile:\n{text}"
        );
        assert!(!ok, "{name}: every trace passed");
        let trace = text
            .lines()
            .find(|l| l.contains(".itf.json"))
            .unwrap_or_else(|| panic!("{name}: no trace named:\n{text}"));
        eprintln!("{name}: caught by {}", trace.trim());
        for (path, text) in originals.into_iter().rev() {
            std::fs::write(path, text).unwrap();
        }
    }
}
