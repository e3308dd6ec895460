//! The checked-in suites (`conformance/traces/default`, `byzantine`, `emergency`, `warnings` and
//! the variant suites of `conformance/variants/`,
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

/// The checked-in variant suites (spec/variants.md): each `conformance/traces/NAME` is
/// `sa export --config conformance/variants/NAME.toml --random 20 --seed 1`.
const VARIANT_SUITES: [&str; 2] = ["byzantine-sm-fail", "byzantine-closed"];

fn variant_config(name: &str) -> Config {
    let file = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/variants"))
        .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&file).unwrap();
    Config::from_toml_str(&text, &file.display().to_string()).unwrap()
}

/// Every checked-in suite sa-node replays, with its configuration.
fn replayed() -> Vec<(String, Config)> {
    SUITES
        .iter()
        .map(|(p, _, _)| (p.to_string(), Config::preset(p).unwrap()))
        .chain(
            VARIANT_SUITES
                .iter()
                .map(|v| (v.to_string(), variant_config(v))),
        )
        .collect()
}

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
    for (preset, config) in replayed() {
        let preset = preset.as_str();
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
    let variants = VARIANT_SUITES.map(|v| (v, 20, 1));
    for (preset, random, seed) in SUITES.into_iter().chain(EXPORTED_ONLY).chain(variants) {
        let config = Config::preset(preset).unwrap_or_else(|| variant_config(preset));
        let m = SaModel::new(config);
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
