//! The Byzantine adversary: what holds at the bound floor((C-1)/3) and one past it
//! (spec/faults.md, spec/incidents.md "Success and Fail in one iteration").

mod common;

use common::{preset, run};
use sa_checker::report::{Status, Verdict};

fn status(r: &sa_checker::CheckReport, id: &str) -> Status {
    r.property(id).map(|p| p.status).expect("known property")
}

#[test]
fn at_the_bound_two_outcomes_of_one_iteration_and_no_final_fork() {
    let r = run(&preset("byzantine"), true);
    assert!(r.exhaustive);
    assert_eq!(r.unique_states, 261_633);
    assert!(r
        .bounds
        .iter()
        .any(|b| b.contains("at most 2 credits") && b.contains("within the bound")));
    assert_eq!(r.verdict, Verdict::Violated);
    // SM + M - C = 2 = f: a Success and a Fail of one iteration, both held by honest nodes.
    assert_eq!(status(&r, "SAFE-ONE-OUTCOME"), Status::Violated);
    // With TALLY-4 no fork of Final blocks follows on these draws (with Dusk's asynchronous
    // own vote it does: model_mutations.rs).
    assert_eq!(status(&r, "SAFE-FINAL-AGREEMENT"), Status::Holds);
    assert_eq!(status(&r, "ACC-FORK-EVIDENCE"), Status::Holds);
    assert_eq!(status(&r, "WIT-EQUIVOCATION-DETECTED"), Status::Witnessed);
    // Honest behaviour stays the spec's: honest votes unique, no invalid block, finality
    // never reverted locally.
    for id in [
        "SAFE-VOTE-UNIQUE",
        "SAFE-ONE-CANDIDATE",
        "SAFE-NO-INVALID-ACCEPTED",
        "SAFE-FINAL-NO-REVERT",
        "SAFE-ATTESTATION-QUORUM",
        "SAFE-COMMITTEE-CREDITS",
    ] {
        assert_eq!(status(&r, id), Status::Holds, "{id}");
    }
    // The counterexample ends with two honest nodes holding different outcomes of one
    // iteration.
    let cx = r
        .property("SAFE-ONE-OUTCOME")
        .unwrap()
        .counterexample
        .as_ref()
        .unwrap();
    assert!(cx.steps.iter().any(|s| s.description.contains("Fail(")));
}

#[test]
fn the_same_draws_without_the_byzantine_provisioner_are_safe() {
    let mut c = preset("byzantine");
    c.faults.byzantine.clear();
    let r = run(&c, false);
    assert!(r.exhaustive);
    assert_eq!(status(&r, "SAFE-FINAL-AGREEMENT"), Status::Holds);
    assert_eq!(status(&r, "SAFE-ONE-OUTCOME"), Status::Holds);
}

#[test]
fn past_the_bound_honest_nodes_finalize_different_blocks_and_the_fork_is_accountable() {
    let r = run(&preset("byzantine-over"), false);
    assert!(r.exhaustive);
    assert_eq!(r.unique_states, 259_691);
    assert!(r
        .bounds
        .iter()
        .any(|b| b.contains("at most 3 credits") && b.contains("PAST the bound")));
    assert_eq!(status(&r, "SAFE-FINAL-AGREEMENT"), Status::Violated);
    assert_eq!(status(&r, "ACC-FORK-EVIDENCE"), Status::Holds);
    assert_eq!(status(&r, "WIT-EQUIVOCATION-DETECTED"), Status::Witnessed);
    let cx = r
        .property("SAFE-FINAL-AGREEMENT")
        .unwrap()
        .counterexample
        .as_ref()
        .unwrap();
    let last = &cx.steps.last().unwrap().beliefs;
    let finals: Vec<&String> = last.iter().filter(|b| b.contains(":Final")).collect();
    assert!(finals.len() >= 2, "two nodes with Final blocks: {last:?}");
}

/// Whole draw sequences, every height, by seeded sampling: a fixed seed may miss the draw that
/// breaks a property, and sweeping every draw class of every height is out of reach (730,458
/// first-round draws for these stakes alone). Over consecutive seeds of each Byzantine
/// preset, each checked exhaustively: honest behaviour holds in every one, every fork of Final
/// blocks carries its evidence, and the fork is reached on some seeds (so the sweep can see
/// it). Seeds 21–35 (at the bound) and 13–28 (past it) were scanned to be exhaustive in a few
/// seconds each (`checker/examples/seedscan.rs`).
#[test]
fn over_sampled_seeds_every_fork_is_accountable_and_honest_rules_hold() {
    let may_fail = ["SAFE-ONE-OUTCOME", "SAFE-FINAL-AGREEMENT"];
    for (name, seeds) in [("byzantine", 21..=35), ("byzantine-over", 13..=28)] {
        let mut forks = 0;
        let mut outcomes = 0;
        for seed in seeds.clone() {
            let mut c = preset(name);
            c.sortition.seed = seed;
            let r = run(&c, false);
            assert!(r.exhaustive, "{name} seed {seed}");
            let two_outcomes = status(&r, "SAFE-ONE-OUTCOME") == Status::Violated;
            for p in &r.properties {
                // A node that holds the other outcome of an iteration (and so the proof that
                // the Byzantine member equivocated, TALLY-3) may stay behind for ever: liveness
                // fails only where one-outcome already did.
                let live_after_split =
                    p.kind == sa_model::properties::Kind::Liveness && two_outcomes;
                if !may_fail.contains(&p.id.as_str()) && !live_after_split {
                    assert_ne!(p.status, Status::Violated, "{name} seed {seed}: {}", p.id);
                }
            }
            assert_eq!(status(&r, "ACC-FORK-EVIDENCE"), Status::Holds);
            if status(&r, "SAFE-FINAL-AGREEMENT") == Status::Violated {
                forks += 1;
            }
            if status(&r, "SAFE-ONE-OUTCOME") == Status::Violated {
                outcomes += 1;
            }
        }
        println!("{name}: seeds {seeds:?}: {outcomes} with two outcomes, {forks} with a fork");
        assert!(outcomes > 0, "{name}: no seed gives two outcomes");
        if name == "byzantine" {
            // Measured: at the bound, with TALLY-4, none of these draws gives a Final fork
            // (nor do seeds 1-72 but 43: docs/auditors.md). A change that brings one back must be looked at.
            assert_eq!(forks, 0, "{name}: a Final fork at the bound");
        }
    }
}
