//! The partial-order reduction (`sa_model::reduction`, `sa check --reduce`; spec/faults.md,
//! "The reduction") is sound where it is claimed to be:
//!
//! - the theorem it rests on, tested directly: a search that expands only the reduced
//!   actions reaches exactly the states without successors the full search reaches, and no
//!   state the full search does not reach;
//! - every property's verdict is the full search's (a property the reduction does not
//!   preserve may only become "not settled"), for the reference protocol and for every
//!   mutation, on the presets where both searches finish; the state counts of both are pinned.

mod common;

use std::collections::HashSet;

use common::{base, compare_on_mutations, preset, with};

use sa_checker::report::Status;
use sa_checker::shard::fingerprint;
use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::reduction::{preservation, Preservation, Reduced};
use sa_model::{Config, Mutation, SaModel};
use stateright::Model;

/// Every state and every state without successors, by fingerprint, of a depth-first search
/// that expands all actions or (with `reduce`) the reduced ones; and how many states were
/// expanded in part.
fn explore(m: &SaModel, reduce: bool) -> (HashSet<u64>, HashSet<u64>, usize) {
    let mut seen = HashSet::new();
    let mut terminal = HashSet::new();
    let mut reduced = 0;
    let mut stack = m.init_states();
    for s in &stack {
        seen.insert(fingerprint(s));
    }
    let mut actions = Vec::new();
    while let Some(s) = stack.pop() {
        actions.clear();
        m.actions(&s, &mut actions);
        if actions.is_empty() {
            terminal.insert(fingerprint(&s));
            continue;
        }
        if reduce && m.reduce(&s, &mut actions) == Reduced::Persistent {
            reduced += 1;
        }
        for &a in &actions {
            let next = m
                .next_state(&s, a)
                .expect("every offered action has a successor");
            if seen.insert(fingerprint(&next)) {
                stack.push(next);
            }
        }
    }
    (seen, terminal, reduced)
}

#[test]
fn the_reduced_search_keeps_every_state_without_successors_and_adds_none() {
    // (configuration, full states, reduced states): the reduction must bite where it applies.
    let cases: Vec<(Config, usize, usize)> = vec![
        (preset("tiny"), 186_134, 38_554),
        (preset("two-eligible"), 87, 63),
        (base("byzantine-async-1"), 217_744, 84_667),
        (with("tiny", &[Mutation::DoubleVote]), 0, 0),
        (
            with("byzantine-async-1", &[Mutation::DoubleCandidate]),
            0,
            0,
        ),
        (with("tiny", &[Mutation::DuskAsyncOwnVote]), 0, 0),
        (
            with("byzantine-async-1", &[Mutation::FallbackAnyIteration]),
            0,
            0,
        ),
        (
            with("byzantine-async-1", &[Mutation::DuskAsyncOwnVote]),
            0,
            0,
        ),
    ];
    for (config, full_count, reduced_count) in cases {
        let name = format!("{} {:?}", config.name, config.mutations);
        let m = SaModel::new(config);
        let (full, full_terminal, none) = explore(&m, false);
        let (reduced, reduced_terminal, cut) = explore(&m, true);
        assert_eq!(none, 0);
        assert!(cut > 0, "{name}: the reduction never applied");
        assert!(
            reduced.is_subset(&full),
            "{name}: a state the full search never reaches"
        );
        assert_eq!(
            reduced_terminal, full_terminal,
            "{name}: the states without successors differ"
        );
        if full_count > 0 {
            assert_eq!(
                (full.len(), reduced.len()),
                (full_count, reduced_count),
                "{name}"
            );
        } else {
            assert!(reduced.len() < full.len(), "{name}: nothing saved");
        }
    }
}

fn run(config: &Config, reduce: bool) -> CheckReport {
    let opts = CheckOptions {
        threads: 2,
        shorten: false,
        reduce,
        ..CheckOptions::default()
    };
    check(config, &opts, &mut |_| {})
}

/// Compares every property of the two reports; returns how many rows the reduction left
/// unsettled.
fn compare(full: &CheckReport, reduced: &CheckReport, what: &str) -> usize {
    let mut unsettled = 0;
    for (f, r) in full.properties.iter().zip(&reduced.properties) {
        assert_eq!(f.id, r.id);
        if f.status == r.status {
            continue;
        }
        let kept = preservation(&f.id, &full.config) != Preservation::NotPreserved;
        assert!(
            !kept && r.status == Status::Inconclusive,
            "{what}: {} is {:?} in full and {:?} reduced",
            f.id,
            f.status,
            r.status
        );
        unsettled += 1;
    }
    unsettled
}

#[test]
fn every_verdict_is_the_full_searchs_with_pinned_counts() {
    // (preset, full unique, full generated, reduced unique, reduced generated).
    let pinned = [
        ("tiny", 186_134, 633_350, 38_554, 50_722),
        ("two-eligible", 87, 144, 63, 78),
        ("byzantine-async-1", 217_744, 604_057, 84_667, 97_803),
    ];
    for (name, fu, ft, ru, rt) in pinned {
        let full = run(&base(name), false);
        let reduced = run(&base(name), true);
        assert!(full.exhaustive && reduced.exhaustive, "{name}");
        assert_eq!(
            (
                full.unique_states,
                full.total_states,
                reduced.unique_states,
                reduced.total_states
            ),
            (fu, ft, ru, rt),
            "{name}"
        );
        assert!(reduced.reduced_states.is_some_and(|n| n > 0), "{name}");
        compare(&full, &reduced, name);
    }
}

#[test]
#[ignore = "long check (about 80 s on 2 cores): scripts/long-checks.sh"]
fn every_mutation_is_caught_with_the_reduction_exactly_when_without_it() {
    compare_on_mutations(|what, c| {
        let full = run(c, false);
        let reduced = run(c, true);
        compare(&full, &reduced, what);
        let violated = |r: &CheckReport| {
            r.properties
                .iter()
                .filter(|p| p.status == Status::Violated)
                .map(|p| p.id.clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(violated(&full), violated(&reduced), "{what}");
        !violated(&full).is_empty()
    });
}

/// The theorem on the configuration the reduction is for: `async-final` cut to its first round
/// (4,349,809 states; about a minute, so in scripts/long-checks.sh, not CI).
#[test]
#[ignore = "long: scripts/long-checks.sh"]
fn async_final_first_round_keeps_every_state_without_successors() {
    let mut c = preset("async-final");
    c.protocol.rounds = 1;
    let m = SaModel::new(c);
    let (full, full_terminal, _) = explore(&m, false);
    let (reduced, reduced_terminal, cut) = explore(&m, true);
    assert!(cut > 0);
    assert!(reduced.is_subset(&full));
    assert_eq!(reduced_terminal, full_terminal);
    assert_eq!(
        (full.len(), reduced.len(), full_terminal.len()),
        (4_349_809, 862_524, 344_349)
    );
}
