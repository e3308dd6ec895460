//! TIME-4 (after GST, nodes run one at a time in key order) is a sound reduction: on a
//! configuration small enough to check both ways, the verdict of every property is the same
//! with the reduction (GST at round 1) and without it (no GST: every interleaving), for the
//! reference protocol and for every mutation. The timer rule is the same in both runs (timers
//! fire only on time, `early_timers = false`) and nobody may go absent (absence is only
//! allowed before GST), so the schedule is the only difference (spec/faults.md, abstraction 7).

mod common;

use common::{preset, run};
use sa_checker::report::Status;
use sa_checker::CheckReport;
use sa_model::{Config, Mutation};

fn config(gst_round: u8, mutation: Option<Mutation>) -> Config {
    let mut c = preset("tiny");
    c.protocol.rounds = 3;
    c.faults.early_timers = false;
    c.faults.invalid_candidates = 1;
    c.faults.gst_round = gst_round;
    c.mutations = mutation.into_iter().collect();
    c
}

/// Every property's outcome, but SAFE-NO-HONEST-SLASH and the liveness properties: they speak
/// of rounds after GST, so with no GST they hold (or do not apply) by definition and the two
/// runs do not ask them the same question.
fn verdicts(r: &CheckReport) -> Vec<(String, bool)> {
    r.properties
        .iter()
        .filter(|p| {
            p.id != "SAFE-NO-HONEST-SLASH" && p.kind != sa_model::properties::Kind::Liveness
        })
        .map(|p| {
            let reached = matches!(p.status, Status::Violated | Status::Witnessed);
            (p.id.clone(), reached)
        })
        .collect()
}

#[test]
fn key_order_scheduling_after_gst_gives_the_same_verdicts_as_every_interleaving() {
    let mut compared = 0;
    // Mutations of the timers after GST change what TIME-4 schedules, not the schedule: with
    // no GST they never apply, so the two runs would not check the same protocol (and
    // `impatient-timers` after GST at round 1 explodes the state space).
    let timing = [Mutation::ImpatientTimers, Mutation::NoProposalTimeout];
    let mutations = Mutation::ALL.into_iter().filter(|m| !timing.contains(m));
    for m in std::iter::once(None).chain(mutations.map(Some)) {
        let full = run(&config(0, m), false);
        let reduced = run(&config(1, m), false);
        assert!(full.exhaustive && reduced.exhaustive);
        assert!(
            reduced.unique_states <= full.unique_states,
            "{m:?}: the reduction never adds states"
        );
        assert_eq!(verdicts(&full), verdicts(&reduced), "{m:?}");
        compared += 1;
    }
    assert_eq!(compared, Mutation::ALL.len() + 1 - timing.len());
}
