//! The checked-in suites (`conformance/traces/default`, `byzantine`, `emergency` and `warnings`,
//! written by `sa export --preset P --random 20 --seed 1`): they pass against sa-node, and
//! they are exactly what the model exports today, so the suites and the model never drift.

use std::path::PathBuf;

use sa_conformance::export::export;
use sa_conformance::replay::{replay, SaNode};
use sa_conformance::trace::read;
use sa_model::{Config, SaModel};

/// The checked-in suites: (preset, random walks, seed).
const SUITES: [(&str, usize, u64); 4] = [
    ("default", 20, 1),
    ("byzantine", 20, 1),
    ("emergency", 20, 1),
    ("warnings", 20, 1),
];

/// Suites exported here and replayed elsewhere: `dusk` (the Dusk profile's keys and draws) is
/// replayed against dusk-consensus by `dusk/tests/suite.rs`; sa-node refuses it (below).
const EXPORTED_ONLY: [(&str, usize, u64); 1] = [("dusk", 20, 1)];

fn suite(preset: &str) -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces")).join(preset)
}

fn names(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    v.sort();
    v
}

#[test]
fn the_checked_in_suites_pass_against_sa_node() {
    for (preset, _, _) in SUITES {
        let config = Config::preset(preset).unwrap();
        let mut a = SaNode::default();
        let files = names(&suite(preset));
        assert!(files.len() >= 100, "{preset}: {} traces", files.len());
        let mut steps = 0;
        for f in &files {
            let t = read(&std::fs::read_to_string(suite(preset).join(f)).unwrap()).unwrap();
            let node: usize = t.meta.other["node"].parse().unwrap();
            let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
            match replay(&mut a, &config, node, &states).unwrap() {
                Ok(n) => steps += n,
                Err(m) => panic!("{preset}/{f}: {m:?}"),
            }
        }
        assert!(steps >= 300, "{preset}: {steps} steps");
    }
}

#[test]
fn sa_node_refuses_the_dusk_suite_by_name() {
    let preset = EXPORTED_ONLY[0].0;
    let config = Config::preset(preset).unwrap();
    let f = &names(&suite(preset))[0];
    let t = read(&std::fs::read_to_string(suite(preset).join(f)).unwrap()).unwrap();
    let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
    let e = replay(&mut SaNode::default(), &config, 0, &states).unwrap_err();
    assert!(
        e.contains("dusk-consensus") && e.contains("sa-dusk adapter"),
        "{e}"
    );
}

#[test]
#[ignore = "long check (about 4 min on 2 cores): scripts/long-checks.sh"]
fn the_checked_in_suites_are_what_the_model_exports() {
    for (preset, random, seed) in SUITES.into_iter().chain(EXPORTED_ONLY) {
        let m = SaModel::new(Config::preset(preset).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let e = export(&m, preset, dir.path(), random, seed).unwrap();
        assert!(e.coverage.values().all(|n| *n > 0));
        assert_eq!(
            names(dir.path()),
            names(&suite(preset)),
            "{preset}: the file list differs: re-export"
        );
        for f in names(dir.path()) {
            assert!(
                std::fs::read(dir.path().join(&f)).unwrap()
                    == std::fs::read(suite(preset).join(&f)).unwrap(),
                "{preset}/{f} differs from the model's export: run `sa export --preset {preset} --random {random} --seed {seed} --out conformance/traces/{preset}` (into an emptied directory)"
            );
        }
    }
}
