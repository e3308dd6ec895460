//! Every safety property can fail: for each, a broken variant makes `check` report it
//! VIOLATED with a counterexample, while the reference protocol on the same configuration holds.

mod common;

use common::{ids, mutated, preset, run};
use sa_model::properties::{Kind, SPECS};
use sa_model::report::Status;
use sa_model::{Config, Mutation};

fn late4() -> Config {
    let mut c = preset("default");
    c.faults.late = 4;
    c
}

fn tiny_no_late() -> Config {
    let mut c = preset("tiny");
    c.faults.late = 0;
    c
}

/// (configuration, mutation, properties that must be violated).
fn cases() -> Vec<(Config, Mutation, &'static [&'static str])> {
    use Mutation::*;
    vec![
        (
            preset("tiny"),
            ValidThresholdBelowMajority,
            &["SAFE-ATTESTATION-QUORUM", "SAFE-ONE-OUTCOME"],
        ),
        (
            tiny_no_late(),
            CountNonMembers,
            &["SAFE-COMMITTEE-CREDITS", "SAFE-ATTESTATION-QUORUM"],
        ),
        (preset("tiny"), DoubleVote, &["SAFE-VOTE-UNIQUE"]),
        (preset("tiny"), NoExclusion, &["SAFE-COMMITTEE-WELLFORMED"]),
        (
            preset("two-eligible"),
            DuskTwoEligible,
            &["SAFE-COMMITTEE-WELLFORMED"],
        ),
        (preset("default"), DrawSuspended, &["SAFE-ELIGIBLE-DRAW"]),
        (
            late4(),
            IgnorePni,
            &["SAFE-FINAL-PRIOR-ITERATIONS", "SAFE-FINAL-AGREEMENT"],
        ),
        (
            preset("default"),
            FinalizeOnAccept,
            &["SAFE-FINAL-AGREEMENT", "SAFE-FINAL-PRIOR-ITERATIONS"],
        ),
        (preset("tiny"), RewardAllCommittee, &["SAFE-REWARD-SIGNERS"]),
        (preset("tiny"), SlashAbsentVoters, &["SAFE-SOFT-SLASH"]),
        (
            preset("default"),
            FallbackAnyIteration,
            &["SAFE-FALLBACK-LOWER"],
        ),
        (
            preset("default"),
            DuskStalledRecovery,
            &["SAFE-FINAL-NO-REVERT", "SAFE-FALLBACK-LOWER"],
        ),
    ]
}

fn c_n(r: &sa_model::CheckReport) -> usize {
    r.config.provisioners.len()
}

fn violated_by(config: Config, m: Mutation) -> Vec<String> {
    let mut c = config;
    c.mutations = vec![m];
    let r = run(&c, true);
    for p in r.properties.iter().filter(|p| p.status == Status::Violated) {
        let cx = p
            .counterexample
            .as_ref()
            .expect("a violation has a counterexample");
        assert_eq!(
            cx.initial.len(),
            c_n(&r),
            "{}: initial beliefs name every node",
            p.id
        );
    }
    assert!(!r.passed());
    ids(&r, Status::Violated)
}

#[test]
fn each_mutation_violates_its_properties() {
    for (config, m, expected) in cases() {
        let reference = run(&config, false);
        assert!(
            ids(&reference, Status::Violated).is_empty(),
            "reference violates something on the config used for {m:?}"
        );
        let got = violated_by(config, m);
        for id in expected {
            assert!(
                got.iter().any(|g| g == id),
                "{m:?}: expected {id} violated, got {got:?}"
            );
        }
    }
}

#[test]
fn every_safety_property_has_a_mutation_that_violates_it() {
    let covered: Vec<&str> = cases()
        .iter()
        .flat_map(|(_, _, ids)| ids.iter().copied())
        .collect();
    for s in SPECS.iter().filter(|s| s.kind == Kind::Safety) {
        assert!(covered.contains(&s.id), "{} has no broken variant", s.id);
    }
    let used: Vec<Mutation> = cases().iter().map(|(_, m, _)| *m).collect();
    for m in Mutation::ALL {
        assert!(used.contains(&m), "{m:?} is never tested");
    }
}

#[test]
fn a_violation_does_not_stop_the_search_early() {
    // Stateright stops once every property has a discovery unless told otherwise; the runner
    // must still visit every state: a reward mutation changes no transition, so the count must
    // equal the reference's.
    let reference = run(&preset("default"), false);
    let broken = run(&mutated("default", &[Mutation::RewardAllCommittee]), false);
    assert!(broken.exhaustive);
    assert_eq!(broken.unique_states, reference.unique_states);
    assert_eq!(
        ids(&broken, Status::Violated),
        vec!["SAFE-REWARD-SIGNERS".to_string()]
    );
}
