//! The fork of Final blocks that asynchrony alone allows (spec/incidents.md, "Asynchrony
//! through finality"), walked step by step through the model's own actions on the
//! `async-final` preset: 4 honest provisioners (no Byzantine, no absence, no invalid
//! candidate), 3 rounds, no GST. Each step must be among the actions the model enables in
//! the state reached so far (matched by its `Debug` form); the test then checks the two Final
//! blocks with the properties' own code.

use sa_model::properties::spec;
use sa_model::state::{Label, State};
use sa_model::{Config, SaModel};
use stateright::Model;

/// The 37 steps, each with the model's description of it (`sa simulate --preset async-final`
/// finds a path of the same shape: walk 774,500 of seed 0, then a breadth-first search).
const FORK: &[&str] = &[
    // 1. P1 round 1 iteration 0: is gen(0), broadcasts a valid candidate B1.0 on genesis
    "Node { p: 1, event: Propose { valid: true } }",
    // 2. P0 round 1 iteration 0 Proposal: receives candidate B1.0; sends Validation vote Valid
    "Node { p: 0, event: Candidate { block: 1, valid: true } }",
    // 3. P2 round 1 iteration 0 Proposal: receives candidate B1.0; sends Validation vote Valid
    "Node { p: 2, event: Candidate { block: 1, valid: true } }",
    // 4. P3 round 1 iteration 0 Proposal: receives candidate B1.0; sends Validation vote Valid
    "Node { p: 3, event: Candidate { block: 1, valid: true } }",
    // 5. P2 round 1 iteration 0 Validation: holds a quorum on Valid from {P0 P2}; sends Ratification vote Valid
    "Node { p: 2, event: ValidationQuorum { value: Valid(0), signers: 5 } }",
    // 6. P3 round 1 iteration 0 Validation: holds a quorum on Valid from {P0 P2}; sends Ratification vote Valid
    "Node { p: 3, event: ValidationQuorum { value: Valid(0), signers: 5 } }",
    // 7. P0 round 1 iteration 0 Validation: timer fires, result NoQuorum; sends Ratification vote NoQuorum
    "Node { p: 0, event: Timeout { step: Validation } }",
    // 8. P0 round 1 iteration 0 Ratification: timer fires, no attestation, next iteration
    "Node { p: 0, event: Timeout { step: Ratification } }",
    // 9. P1 round 1 iteration 0 Ratification: timer fires, no attestation, next iteration
    "Node { p: 1, event: Timeout { step: Ratification } }",
    // 10. P1 round 1 iteration 1: is gen(1), broadcasts a valid candidate B1.1 on genesis
    "Node { p: 1, event: Propose { valid: true } }",
    // 11. P2 round 1 iteration 0 Ratification: timer fires, no attestation, next iteration
    "Node { p: 2, event: Timeout { step: Ratification } }",
    // 12. P0 round 1 iteration 1 Proposal: receives candidate B1.1; sends Validation vote Valid
    "Node { p: 0, event: Candidate { block: 3, valid: true } }",
    // 13. P2 round 1 iteration 1 Proposal: receives candidate B1.1; sends Validation vote Valid
    "Node { p: 2, event: Candidate { block: 3, valid: true } }",
    // 14. P2 round 1 iteration 1 Validation: holds a quorum on Valid from {P0}; sends Ratification vote Valid
    "Node { p: 2, event: ValidationQuorum { value: Valid(0), signers: 1 } }",
    // 15. P1 round 1 iteration 1 Ratification: Success attestation signed by {P0} (Validation) and {P0 P2} (Ratification); accepts B1.1
    "Node { p: 1, event: RatificationQuorum { att: Att { slot: 3, value: Valid(0), validation: 1, ratification: 5 }, failed: FailSet(0) } }",
    // 16. P0 round 1 iteration 1 Ratification: Success attestation signed by {P0} (Validation) and {P0 P2} (Ratification); accepts B1.1
    "Node { p: 0, event: RatificationQuorum { att: Att { slot: 3, value: Valid(0), validation: 1, ratification: 5 }, failed: FailSet(0) } }",
    // 17. P2 round 1 iteration 1 Ratification: Success attestation signed by {P0} (Validation) and {P0 P2} (Ratification); accepts B1.1
    "Node { p: 2, event: RatificationQuorum { att: Att { slot: 3, value: Valid(0), validation: 1, ratification: 5 }, failed: FailSet(0) } }",
    // 18. P2 round 2 iteration 0: is gen(0), broadcasts a valid candidate B1.1-2.0 on B1.1
    "Node { p: 2, event: Propose { valid: true } }",
    // 19. P0 round 2 iteration 0 Proposal: receives candidate B1.1-2.0; sends Validation vote Valid
    "Node { p: 0, event: Candidate { block: 19, valid: true } }",
    // 20. P1 round 2 iteration 0 Ratification: Success attestation signed by {P0} (Validation) and {P0} (Ratification); accepts B1.1-2.0
    "Node { p: 1, event: RatificationQuorum { att: Att { slot: 19, value: Valid(0), validation: 1, ratification: 1 }, failed: FailSet(0) } }",
    // 21. P2 round 2 iteration 0 Ratification: Success attestation signed by {P0} (Validation) and {P0} (Ratification); accepts B1.1-2.0
    "Node { p: 2, event: RatificationQuorum { att: Att { slot: 19, value: Valid(0), validation: 1, ratification: 1 }, failed: FailSet(0) } }",
    // 22. P2 round 3 iteration 0 Proposal: timer fires, no candidate; sends Validation vote NoCandidate
    "Node { p: 2, event: Timeout { step: Proposal } }",
    // 23. P1 round 3 iteration 0 Proposal: timer fires, no candidate; sends Validation vote NoCandidate
    "Node { p: 1, event: Timeout { step: Proposal } }",
    // 24. P1 round 3 iteration 0 Validation: holds a quorum on NoCandidate from {P1 P2}; sends Ratification vote NoCandidate
    "Node { p: 1, event: ValidationQuorum { value: NoCandidate, signers: 6 } }",
    // 25. P2 round 3 iteration 0 Ratification: Fail(NoCandidate) attestation signed by {P1 P2} (Validation) and {P1} (Ratification); next iteration
    "Node { p: 2, event: RatificationQuorum { att: Att { slot: 275, value: NoCandidate, validation: 6, ratification: 2 }, failed: FailSet(0) } }",
    // 26. P0 round 3 iteration 0 Ratification: Fail(NoCandidate) attestation signed by {P1 P2} (Validation) and {P1} (Ratification); next iteration
    "Node { p: 0, event: RatificationQuorum { att: Att { slot: 275, value: NoCandidate, validation: 6, ratification: 2 }, failed: FailSet(0) } }",
    // 27. P0 round 3 iteration 1: is gen(1), broadcasts a valid candidate B1.1-2.0-3.1 on B1.1-2.0
    "Node { p: 0, event: Propose { valid: true } }",
    // 28. P2 round 3 iteration 1 Proposal: receives candidate B1.1-2.0-3.1; sends Validation vote Valid
    "Node { p: 2, event: Candidate { block: 787, valid: true } }",
    // 29. P1 round 3 iteration 1 Proposal: receives candidate B1.1-2.0-3.1; sends Validation vote Valid
    "Node { p: 1, event: Candidate { block: 787, valid: true } }",
    // 30. P2 round 3 iteration 1 Validation: holds a quorum on Valid from {P1 P2}; sends Ratification vote Valid
    "Node { p: 2, event: ValidationQuorum { value: Valid(0), signers: 6 } }",
    // 31. P1 round 3 iteration 1 Validation: holds a quorum on Valid from {P1 P2}; sends Ratification vote Valid
    "Node { p: 1, event: ValidationQuorum { value: Valid(0), signers: 6 } }",
    // 32. P1 round 3 iteration 1 Ratification: Success attestation signed by {P1 P2} (Validation) and {P1 P2} (Ratification); accepts B1.1-2.0-3.1
    "Node { p: 1, event: RatificationQuorum { att: Att { slot: 787, value: Valid(0), validation: 6, ratification: 6 }, failed: FailSet(1) } }",
    // 33. P3 round 1 iteration 0 Ratification: Success attestation signed by {P0 P2} (Validation) and {P2 P3} (Ratification); accepts B1.0
    "Node { p: 3, event: RatificationQuorum { att: Att { slot: 1, value: Valid(0), validation: 5, ratification: 12 }, failed: FailSet(0) } }",
    // 34. P0 falls back: replaces B1.1 by B1.0 (iteration 0) at height 1, reverting B1.1 (Accepted), B1.1-2.0 (Attested)
    "Node { p: 0, event: Fallback { height: 1, att: Att { slot: 1, value: Valid(0), validation: 5, ratification: 12 }, failed: FailSet(0) } }",
    // 35. P2 falls back: replaces B1.1 by B1.0 (iteration 0) at height 1, reverting B1.1 (Accepted), B1.1-2.0 (Attested)
    "Node { p: 2, event: Fallback { height: 1, att: Att { slot: 1, value: Valid(0), validation: 5, ratification: 12 }, failed: FailSet(0) } }",
    // 36. P2 round 2 iteration 0: is gen(0), broadcasts a valid candidate B1.0-2.0 on B1.0
    "Node { p: 2, event: Propose { valid: true } }",
    // 37. P0 round 2 iteration 0 Proposal: receives candidate B1.0-2.0; sends Validation vote Valid
    "Node { p: 0, event: Candidate { block: 17, valid: true } }",
];

fn holds(m: &SaModel, s: &State, id: &str) -> bool {
    (spec(id).expect("a property").condition)(m, s)
}

/// Replays `steps` from the initial state; panics naming the step that is not enabled.
fn walk(m: &SaModel, steps: &[&str]) -> Vec<State> {
    let mut states = vec![m.init_states().swap_remove(0)];
    for (k, step) in steps.iter().enumerate() {
        let state = states.last().expect("a state");
        let mut enabled = Vec::new();
        m.actions(state, &mut enabled);
        let action = enabled
            .iter()
            .find(|a| format!("{a:?}") == *step)
            .unwrap_or_else(|| {
                panic!(
                    "step {} `{step}` is not enabled; enabled: {enabled:?}",
                    k + 1
                )
            });
        states.push(m.next_state(state, *action).expect("a successor"));
    }
    states
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
