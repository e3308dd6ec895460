//! The checked-in conformance suites (`conformance/traces/default`, `byzantine`,
//! `emergency` and `warnings`, exported from the model, and the variant suites
//! `byzantine-sm-fail` and `byzantine-closed`, exported under the configurations of
//! `conformance/variants/`) replayed against this crate's node, in process. The same replay
//! runs in `sa-conformance`'s own tests; it is here too so that a mutation run over sa-node
//! (`scripts/mutants.sh`, cargo-mutants testing the mutated package) has the suites as its
//! test.
use std::path::PathBuf;

use sa_conformance::replay::{replay, SaNode};
use sa_conformance::trace::read;
use sa_model::Config;

fn replay_suite(preset: &str) -> (usize, usize) {
    replay_suite_with(preset, &Config::preset(preset).expect("preset"))
}

/// A variant suite (`conformance/traces/NAME`) with its configuration,
/// `conformance/variants/NAME.toml`.
fn replay_variant_suite(name: &str) -> (usize, usize) {
    let file = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/variants"
    ))
    .join(format!("{name}.toml"));
    let text = std::fs::read_to_string(&file).expect("the variant's configuration");
    let config = Config::from_toml_str(&text, &file.display().to_string()).expect("valid");
    replay_suite_with(name, &config)
}

fn replay_suite_with(preset: &str, config: &Config) -> (usize, usize) {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/traces"
    ))
    .join(preset);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("suite directory")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let mut adapter = SaNode::default();
    let (mut traces, mut steps) = (0, 0);
    for f in &files {
        let t = read(&std::fs::read_to_string(f).expect("readable")).expect("a trace");
        let node: usize = t.meta.other["node"].parse().expect("node index");
        let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
        match replay(&mut adapter, config, node, &states) {
            Ok(Ok(n)) => steps += n,
            Ok(Err(m)) => panic!(
                "{}: state {} after {}: {} expected {} got {}",
                f.display(),
                m.state,
                m.event,
                m.field,
                m.expected,
                m.actual
            ),
            Err(e) => panic!("{}: {e}", f.display()),
        }
        traces += 1;
    }
    (traces, steps)
}

#[test]
fn default_suite() {
    let (traces, steps) = replay_suite("default");
    assert!(
        traces >= 140 && steps >= 500,
        "{traces} traces, {steps} steps"
    );
}

#[test]
fn byzantine_suite() {
    let (traces, steps) = replay_suite("byzantine");
    assert!(
        traces >= 100 && steps >= 400,
        "{traces} traces, {steps} steps"
    );
}

/// EMERG-1 and the relaxed threshold: late candidates of open emergency iterations voted on,
/// no Fail votes there, PNI past the relaxed threshold.
#[test]
fn emergency_suite() {
    let (traces, steps) = replay_suite("emergency");
    assert!(
        traces >= 100 && steps >= 500,
        "{traces} traces, {steps} steps"
    );
}

/// SLASH-1's warning (WARNINGS = 1, the spec's value): a generator's first missed slot is
/// counted without a suspension.
#[test]
fn warnings_suite() {
    let (traces, steps) = replay_suite("warnings");
    assert!(
        traces >= 100 && steps >= 500,
        "{traces} traces, {steps} steps"
    );
}

/// VAR-FIN-SM (spec/variants.md): a Fail counts toward PNI only with SM Ratification credits;
/// sa-node started with the variant (`Params::finality`, from the suite's configuration).
#[test]
fn byzantine_sm_fail_suite() {
    let (traces, steps) = replay_variant_suite("byzantine-sm-fail");
    assert!(
        traces >= 100 && steps >= 400,
        "{traces} traces, {steps} steps"
    );
}

/// VAR-FIN-CLOSED: as VAR-FIN-SM, and a block with PNI > 0 is never Confirmed.
#[test]
fn byzantine_closed_suite() {
    let (traces, steps) = replay_variant_suite("byzantine-closed");
    assert!(
        traces >= 100 && steps >= 400,
        "{traces} traces, {steps} steps"
    );
}
