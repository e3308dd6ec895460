//! The fork of Final blocks that asynchrony alone allows (spec/incidents.md, "Asynchrony
//! through finality"), walked step by step through the model's own actions on the
//! `async-final` preset: 4 honest provisioners (no Byzantine, no absence, no invalid
//! candidate), 3 rounds, no GST. Each step must be among the actions the model enables in
//! the state reached so far (matched by its `Debug` form); the test then checks the two Final
//! blocks with the properties' own code.

use sa_model::examples::{self, ASYNC_FINAL_FORK as FORK};
use sa_model::properties::spec;
use sa_model::state::{Label, State};
use sa_model::{Config, SaModel};

fn holds(m: &SaModel, s: &State, id: &str) -> bool {
    (spec(id).expect("a property").condition)(m, s)
}

/// Replays `steps` from the initial state; panics naming the step that is not enabled.
fn walk(m: &SaModel, steps: &[&str]) -> Vec<State> {
    examples::walk(m, steps, false)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

/// [`walk`] with actions matched by [`examples::shape`].
fn walk_shapes(m: &SaModel, steps: &[&str]) -> Vec<State> {
    examples::walk(m, steps, true)
        .unwrap_or_else(|e| panic!("{e}"))
        .0
}

#[test]
fn asynchrony_alone_forks_finality_on_async_final() {
    let config = Config::preset("async-final").expect("preset");
    // Message timing only: no fault of any other kind in the budget.
    assert!(config.faults.byzantine.is_empty());
    assert_eq!(config.faults.absent, 0);
    assert_eq!(config.faults.invalid_candidates, 0);
    assert_eq!(config.faults.gst_round, 0, "no GST");
    let m = SaModel::new(config);
    let states = walk(&m, FORK);
    let last = states.last().expect("a state");
    // P1 holds B1.1 (iteration 1, accepted with PNI 1) as Final: rounds 2 and 3 were Attested
    // on top of it before it heard of iteration 0's Success.
    let p1 = &last.nodes[1].chain[0];
    assert_eq!((p1.iteration, p1.label), (1, Label::Final));
    assert_eq!(last.nodes[1].chain.len(), 3);
    // P0 holds B1.0 (iteration 0, Attested) as Final: it fell back to it, and round 2's block
    // on B1.0 is Attested.
    let p0 = &last.nodes[0].chain[0];
    assert_eq!((p0.iteration, p0.label), (0, Label::Final));
    // The properties' own code sees it: two Final blocks at height 1, no fault proof (nobody
    // equivocated: every provisioner is honest), and B1.1 Final while iteration 0 could still
    // succeed.
    assert!(!holds(&m, last, "SAFE-FINAL-AGREEMENT"));
    assert!(!holds(&m, last, "ACC-FORK-EVIDENCE"));
    assert!(!holds(&m, last, "SAFE-FINAL-PRIOR-ITERATIONS"));
    // Every other safety property holds all along: no honest node double-voted, reverted a
    // Final block or accepted anything without its quorum.
    for id in [
        "SAFE-FINAL-NO-REVERT",
        "SAFE-FINAL-PREFIX",
        "SAFE-ATTESTATION-QUORUM",
        "SAFE-COMMITTEE-CREDITS",
        "SAFE-VOTE-UNIQUE",
        "SAFE-ONE-CANDIDATE",
        "SAFE-ONE-OUTCOME",
        "SAFE-FALLBACK-LOWER",
    ] {
        for (k, s) in states.iter().enumerate() {
            assert!(holds(&m, s, id), "{id} violated after step {k}");
        }
    }
    // The fork appears at the last step and not before; the early finality at step 32.
    let first = |id: &str| states.iter().position(|s| !holds(&m, s, id));
    assert_eq!(first("SAFE-FINAL-AGREEMENT"), Some(FORK.len()));
    assert_eq!(first("SAFE-FINAL-PRIOR-ITERATIONS"), Some(32));
}

/// The same walk is not a path of `byzantine` stretched to 3 rounds with GST at round 2 (one
/// asynchronous round): after GST a node takes its steps in key order and timers fire only on
/// time, and the fork needs timers to fire early in round 3.
#[test]
fn one_asynchronous_round_does_not_allow_that_walk() {
    let mut config = Config::preset("async-final").expect("preset");
    config.faults.gst_round = 2;
    let m = SaModel::new(config);
    let result = std::panic::catch_unwind(|| walk(&m, FORK));
    assert!(
        result.is_err(),
        "the fork walk is a path with GST at round 2"
    );
}

fn with_finality(rule: &str) -> SaModel {
    let mut config = Config::preset("async-final").expect("preset");
    config.protocol.finality =
        sa_model::config::Finality::from_name(rule).expect("a finality variant");
    SaModel::new(config)
}

/// VAR-FIN-CLOSED (spec/variants.md): the same messages in the same order, and no fork. P1
/// appends the same three blocks, but B1.1 (PNI 1: iteration 0 was never shown failed) is
/// never Confirmed, so P1 finalizes nothing; P0 and P2 fall back to B1.0 as before and it
/// becomes Final at P0. The walk is the Dusk rule's, step for step: what changed is only the
/// labels.
#[test]
fn the_closed_variant_takes_the_same_walk_without_the_fork() {
    let m = with_finality("closed");
    let states = walk_shapes(&m, FORK);
    let last = states.last().expect("a state");
    assert_eq!(last.nodes[1].chain.len(), 3);
    assert_eq!(last.nodes[1].chain[0].iteration, 1);
    assert_eq!(
        last.nodes[1].final_height(),
        0,
        "P1 finalizes nothing above B1.1"
    );
    let p0 = &last.nodes[0].chain[0];
    assert_eq!((p0.iteration, p0.label), (0, Label::Final));
    for (k, s) in states.iter().enumerate() {
        for id in ["SAFE-FINAL-AGREEMENT", "SAFE-FINAL-PRIOR-ITERATIONS"] {
            assert!(holds(&m, s, id), "{id} violated after step {k}");
        }
    }
    // The same walk under Dusk's rule, matched the same way, forks: the difference is the rule.
    let dusk = with_finality("dusk");
    let states = walk_shapes(&dusk, FORK);
    assert!(!holds(
        &dusk,
        states.last().expect("a state"),
        "SAFE-FINAL-AGREEMENT"
    ));
}
