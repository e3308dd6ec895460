//! The checked-in suite (`conformance/traces/default`, written by `sa export --preset default
//! --random 20 --seed 1`): it passes against sa-node, and it is exactly what the model exports
//! today, so the suite and the model never drift.

use std::path::PathBuf;

use sa_conformance::export::export;
use sa_conformance::replay::{replay, SaNode};
use sa_conformance::trace::read;
use sa_model::{Config, SaModel};

fn suite() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/default"))
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
fn the_checked_in_suite_passes_against_sa_node() {
    let config = Config::preset("default").unwrap();
    let mut a = SaNode::default();
    let files = names(&suite());
    assert!(files.len() >= 100, "{} traces", files.len());
    let mut steps = 0;
    for f in &files {
        let t = read(&std::fs::read_to_string(suite().join(f)).unwrap()).unwrap();
        let node: usize = t.meta.other["node"].parse().unwrap();
        let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
        match replay(&mut a, &config, node, &states).unwrap() {
            Ok(n) => steps += n,
            Err(m) => panic!("{f}: {m:?}"),
        }
    }
    assert!(steps >= 300, "{steps} steps");
}

#[test]
fn the_checked_in_suite_is_what_the_model_exports() {
    let m = SaModel::new(Config::preset("default").unwrap());
    let dir = tempfile::tempdir().unwrap();
    let e = export(&m, "default", dir.path(), 20, 1).unwrap();
    assert!(e.coverage.values().all(|n| *n > 0));
    assert_eq!(
        names(dir.path()),
        names(&suite()),
        "the file list differs: re-export"
    );
    for f in names(dir.path()) {
        assert!(
            std::fs::read(dir.path().join(&f)).unwrap() == std::fs::read(suite().join(&f)).unwrap(),
            "{f} differs from the model's export: run `sa export --preset default --random 20 --seed 1 --out conformance/traces/default` (into an emptied directory)"
        );
    }
}
