//! Step timeouts (spec/protocol.md TIME-1/2) as numbers: before any successful step a timer
//! is the maximum; after successes it is their average clamped to the minimum (the
//! in-memory network is instant, so every recorded duration is 0); each expiry of a step adds
//! the increase to that step's timeout for the rest of the round, capped at the maximum.
//! The conformance suite cannot see these (the adapter fires each timer when the trace says).

use sa_node::node::{Input, Output, Timer};
use sa_node::sortition::StepKind;
use sa_testkit::sim::{params, Sim};

/// The step timers set in `outs`: (round, iteration, step, after_ms).
fn step_timers(outs: &[Output]) -> Vec<(u64, u8, StepKind, u64)> {
    outs.iter()
        .filter_map(|o| match o {
            Output::SetTimer {
                timer:
                    Timer::Step {
                        round,
                        iteration,
                        step,
                    },
                after_ms,
            } => Some((*round, *iteration, *step, *after_ms)),
            _ => None,
        })
        .collect()
}

#[test]
fn timeouts_start_at_the_maximum_learn_the_minimum_and_grow_with_each_expiry() {
    let p = params(8); // timeouts: min 500, max 1,000, +100 per expiry
    assert_eq!(
        (p.timeout_min_ms, p.timeout_max_ms, p.timeout_increase_ms),
        (500, 1_000, 100)
    );
    let mut sim = Sim::new(4, p, 3_000_000_000, &[]);
    sim.start();
    // Stop as node 0 enters a round's Proposal step, past a few blocks.
    assert!(sim.run_until(60_000, |s| {
        let n = s.node(0);
        s.min_tip() >= 3 && n.step() == "proposal" && n.position().1 == 0
    }));
    let history = step_timers(&sim.history[0]);
    // TIME-1: no successful duration yet: the maximum.
    let first = history.iter().find(|t| t.0 == 1 && t.1 == 0).unwrap();
    assert_eq!(first.3, 1_000, "{history:?}");
    // After successes of every step, all instant here (the in-memory network delivers at
    // once, so every recorded duration is 0): the minimum. The Proposal timer runs from the
    // earliest time the generator may propose (the parent's timestamp plus the minimum block
    // time), so at a round's start it may add the few ms still to wait.
    let later: Vec<_> = history.iter().filter(|t| t.0 == 3 && t.1 == 0).collect();
    assert_eq!(later.len(), 3, "{later:?}");
    for t in &later {
        match t.2 {
            StepKind::Proposal => assert!((500..510).contains(&t.3), "{later:?}"),
            _ => assert_eq!(t.3, 500, "{later:?}"),
        }
    }
    // Node 0 alone from here: every step of its round times out (a timeout records no
    // duration, so the base stays 500, and the clock is past the Proposal wait). The k-th
    // expiry of a step in the round adds k·100 to that step's timeout, capped at 1,000.
    let mut node = sim.nodes[0].take().unwrap();
    let (round, i0) = node.position();
    let mut now = sim.now;
    for k in 0..7u64 {
        let i = i0 + k as u8;
        for step in [
            StepKind::Proposal,
            StepKind::Validation,
            StepKind::Ratification,
        ] {
            now += 1_000;
            let outs = node.handle(
                now,
                Input::Timer(Timer::Step {
                    round,
                    iteration: i,
                    step,
                }),
            );
            let set = step_timers(&outs);
            // The next step's timer (after Ratification, the next iteration's Proposal),
            // and how often that step has expired in this round so far.
            let (next_i, next, expired) = match step {
                StepKind::Proposal => (i, StepKind::Validation, k),
                StepKind::Validation => (i, StepKind::Ratification, k),
                StepKind::Ratification => (i + 1, StepKind::Proposal, k + 1),
            };
            let t = set
                .iter()
                .find(|t| t.1 == next_i && t.2 == next)
                .unwrap_or_else(|| panic!("iteration {i} {step:?}: no timer in {set:?}"));
            assert_eq!(t.0, round);
            assert_eq!(
                t.3,
                (500 + 100 * expired).min(1_000),
                "iteration {i}, after the {step:?} timeout: {set:?}"
            );
        }
    }
    assert_eq!(node.position(), (round, i0 + 7));
}
