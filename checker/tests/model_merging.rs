//! State merging (`sa_model::merging`, `sa check --merge-states`; spec/faults.md, "State
//! merging") is sound, checked three ways:
//!
//! - *bisimulation, state by state*: for every state `s` the full search reaches and its
//!   merge `m = M(s)`, the two offer the same actions, every action leads to states that merge
//!   to the same state, and every property of spec/properties.md has the same value on `s`
//!   and on `m`. So the merged search sees exactly the merges of the full search's states, and
//!   the same verdicts; this is tested too (the sets of fingerprints are equal);
//! - *verdicts*: every property's verdict is the full search's, with the state counts of both
//!   pinned, alone and together with the partial-order reduction;
//! - *broken variants*: every mutation is caught with merging on exactly when without it
//!   (long check).

mod common;

use std::collections::{HashSet, VecDeque};

use common::{base, compare_on_mutations, preset, statuses, with};

use sa_checker::report::Status;
use sa_checker::shard::fingerprint;
use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::properties::SPECS;
use sa_model::reduction::{preservation, Preservation};
use sa_model::state::State;
use sa_model::{Config, Mutation, SaModel};
use stateright::Model;

fn merged(m: &SaModel, s: &State) -> State {
    let mut t = s.clone();
    m.merge(&mut t);
    t
}

fn sorted_actions(m: &SaModel, s: &State) -> Vec<sa_model::Action> {
    let mut a = Vec::new();
    m.actions(s, &mut a);
    a.sort();
    a
}

/// What [`bisimulation`] saw: states of the full search, how many the merge changed, and the
/// fingerprints of their merges.
struct Seen {
    states: usize,
    changed: usize,
    image: HashSet<u64>,
}

/// Walks the full state graph breadth-first and checks, at every state, that the state and its
/// merge are bisimilar in one step and agree on every property.
fn bisimulation(m: &SaModel) -> Seen {
    let mut seen = HashSet::new();
    let mut image = HashSet::new();
    let mut queue: VecDeque<State> = m.init_states().into();
    for s in &queue {
        seen.insert(fingerprint(s));
    }
    let mut changed = 0;
    while let Some(s) = queue.pop_front() {
        let t = merged(m, &s);
        image.insert(fingerprint(&t));
        if t != s {
            changed += 1;
            assert_eq!(merged(m, &t), t, "the merge is not idempotent");
            for spec in SPECS {
                assert_eq!(
                    (spec.condition)(m, &s),
                    (spec.condition)(m, &t),
                    "{} differs on a state and its merge: {s:?}",
                    spec.id
                );
            }
            let actions = sorted_actions(m, &s);
            assert_eq!(
                actions,
                sorted_actions(m, &t),
                "a state and its merge offer different actions: {s:?}"
            );
            for &a in &actions {
                let (x, y) = (m.next_state(&s, a), m.next_state(&t, a));
                assert_eq!(
                    x.map(|x| merged(m, &x)),
                    y.map(|y| merged(m, &y)),
                    "{a:?} leads a state and its merge apart: {s:?}"
                );
            }
        }
        let mut actions = Vec::new();
        m.actions(&s, &mut actions);
        for a in actions {
            if let Some(n) = m.next_state(&s, a) {
                if seen.insert(fingerprint(&n)) {
                    queue.push_back(n);
                }
            }
        }
    }
    Seen {
        states: seen.len(),
        changed,
        image,
    }
}

/// The fingerprints of the states a search that merges every successor reaches.
fn merged_search(m: &SaModel) -> HashSet<u64> {
    let mut seen = HashSet::new();
    let mut stack = m.init_states();
    for s in &stack {
        seen.insert(fingerprint(s));
    }
    let mut actions = Vec::new();
    while let Some(s) = stack.pop() {
        actions.clear();
        m.actions(&s, &mut actions);
        for &a in &actions {
            if let Some(mut n) = m.next_state(&s, a) {
                m.merge(&mut n);
                if seen.insert(fingerprint(&n)) {
                    stack.push(n);
                }
            }
        }
    }
    seen
}

#[test]
fn a_state_and_its_merge_are_bisimilar_and_agree_on_every_property() {
    // (configuration, full states, merged states; 0: not pinned, only smaller).
    let cases: Vec<(Config, usize, usize)> = vec![
        (preset("tiny"), 186_134, 116_276),
        (preset("two-eligible"), 87, 87),
        (base("byzantine-async-1"), 217_744, 217_097),
        (with("tiny", &[Mutation::DoubleVote]), 0, 0),
        (with("tiny", &[Mutation::DuskAsyncOwnVote]), 0, 0),
        (with("tiny", &[Mutation::RewardUnionSigners]), 0, 0),
        (with("tiny", &[Mutation::ValidThresholdBelowMajority]), 0, 0),
        (
            with("byzantine-async-1", &[Mutation::DoubleCandidate]),
            0,
            0,
        ),
    ];
    for (config, full_count, merged_count) in cases {
        let name = format!("{} {:?}", config.name, config.mutations);
        let m = SaModel::new(config);
        let seen = bisimulation(&m);
        let reached = merged_search(&m);
        assert_eq!(
            reached, seen.image,
            "{name}: the merged search does not reach exactly the merges of the full one's states"
        );
        if full_count > 0 {
            assert_eq!(
                (seen.states, reached.len()),
                (full_count, merged_count),
                "{name}"
            );
        }
        if name.starts_with("two-eligible") {
            continue;
        }
        assert!(seen.changed > 0, "{name}: the merge never applied");
        assert!(reached.len() < seen.states, "{name}: nothing merged");
    }
}

fn run(config: &Config, reduce: bool, merge_dead: bool) -> CheckReport {
    let opts = CheckOptions {
        threads: 2,
        shorten: false,
        reduce,
        merge_dead,
        ..CheckOptions::default()
    };
    check(config, &opts, &mut |_| {})
}

#[test]
fn every_verdict_is_the_full_searchs_with_pinned_counts() {
    // (preset, full unique, full generated, merged unique, merged generated).
    let pinned = [
        ("tiny", 186_134, 633_350, 116_276, 430_829),
        ("two-eligible", 87, 144, 87, 144),
        ("byzantine-async-1", 217_744, 604_057, 217_097, 604_003),
    ];
    for (name, fu, ft, mu, mt) in pinned {
        let full = run(&base(name), false, false);
        let merged = run(&base(name), false, true);
        assert!(full.exhaustive && merged.exhaustive, "{name}");
        assert_eq!((full.unique_states, full.total_states), (fu, ft), "{name}");
        assert_eq!(
            (merged.unique_states, merged.total_states),
            (mu, mt),
            "{name}"
        );
        assert_eq!(statuses(&full), statuses(&merged), "{name}");
        assert_eq!(full.liveness.rank_violations, 0, "{name}");
        assert_eq!(merged.liveness.rank_violations, 0, "{name}");
        // With the partial-order reduction too: only the properties it does not preserve may
        // be left unsettled.
        let both = run(&base(name), true, true);
        assert!(both.exhaustive, "{name}");
        assert!(both.unique_states <= merged.unique_states, "{name}");
        for (f, b) in full.properties.iter().zip(&both.properties) {
            assert!(
                f.status == b.status
                    || (preservation(&f.id, &full.config) == Preservation::NotPreserved
                        && b.status == Status::Inconclusive),
                "{name}: {} is {:?} in full and {:?} reduced and merged",
                f.id,
                f.status,
                b.status
            );
        }
    }
}

#[test]
#[ignore = "long check: scripts/long-checks.sh"]
fn every_mutation_is_caught_with_merging_exactly_when_without_it() {
    compare_on_mutations(|what, c| {
        let full = run(c, false, false);
        let merged = run(c, false, true);
        assert_eq!(statuses(&full), statuses(&merged), "{what}");
        full.properties.iter().any(|p| p.status == Status::Violated)
    });
}

/// Every preset whose bounded search finishes, with and without merging: the same verdict of
/// every property, both searches' counts pinned (measured 2026-12-07; about 9 minutes).
#[test]
#[ignore = "long check: scripts/long-checks.sh"]
fn every_preset_that_finishes_gives_the_same_verdicts_merged() {
    // (preset, full unique, full generated, merged unique, merged generated).
    let pinned = [
        ("default", 13_127_694, 46_034_380, 13_010_605, 38_781_254),
        ("small", 21_459_129, 85_479_222, 11_654_213, 51_170_571),
        ("byzantine", 261_633, 705_979, 256_649, 701_444),
        ("byzantine-over", 259_691, 634_772, 243_964, 620_024),
        ("emergency", 3_078_280, 10_043_774, 2_803_183, 9_775_660),
        ("matured", 13_127_931, 46_041_613, 6_532_694, 26_221_758),
        ("warnings", 13_092_235, 45_950_877, 6_497_878, 26_132_430),
        ("stall", 13_127_694, 46_034_380, 13_010_605, 38_781_254),
        ("rejoin", 3_078_280, 10_043_774, 3_023_012, 9_991_818),
        ("dusk", 670_128, 2_180_015, 586_096, 2_029_524),
    ];
    for (name, fu, ft, mu, mt) in pinned {
        let full = run(&base(name), false, false);
        let merged = run(&base(name), false, true);
        assert!(full.exhaustive && merged.exhaustive, "{name}");
        assert_eq!(
            (
                full.unique_states,
                full.total_states,
                merged.unique_states,
                merged.total_states
            ),
            (fu, ft, mu, mt),
            "{name}"
        );
        assert_eq!(statuses(&full), statuses(&merged), "{name}");
        assert_eq!(merged.liveness.rank_violations, 0, "{name}");
    }
}
