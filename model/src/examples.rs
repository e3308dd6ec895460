//! Paths through the model that the documentation tells and several tests take (the model's
//! own actions, named by their `Debug` form), and the walker that takes them.

use stateright::Model;

use crate::model::{Action, SaModel};
use crate::state::State;

/// On `stall` under VAR-SUSP-LIFTED (spec/variants.md), a shortest path (18 steps, found
/// breadth-first) to a node in an iteration drawn on the lifted set: P0, gen(0) of round 1,
/// proposes, every timer outruns its candidate, the Fail(NoCandidate) of iteration 0 is
/// recorded in B1.1 (P0 soft-slashed and suspended: WARNINGS 0), P1 goes offline, and P0's
/// round 2 reaches iteration 1, which the variant draws with P0 back in. The conformance
/// suite continues it with seeded walks (`conformance/tests/variants.rs`).
pub const STALL_LIFTED_PREFIX: &[&str] = &[
    "Node { p: 0, event: Propose { valid: true } }",
    "Node { p: 0, event: Timeout { step: Ratification } }",
    "Node { p: 1, event: Timeout { step: Proposal } }",
    "Node { p: 2, event: Timeout { step: Proposal } }",
    "Node { p: 1, event: ValidationQuorum { value: NoCandidate, signers: 6 } }",
    "Node { p: 1, event: Timeout { step: Ratification } }",
    "Node { p: 1, event: Timeout { step: Proposal } }",
    "Node { p: 2, event: ValidationQuorum { value: NoCandidate, signers: 6 } }",
    "Node { p: 2, event: RatificationQuorum { att: Att { slot: 1, value: NoCandidate, validation: 6, ratification: 6 }, failed: FailSet(0) } }",
    "Node { p: 3, event: RatificationQuorum { att: Att { slot: 1, value: NoCandidate, validation: 6, ratification: 6 }, failed: FailSet(0) } }",
    "Node { p: 3, event: Propose { valid: true } }",
    "Node { p: 0, event: Candidate { block: 3, valid: true } }",
    "Node { p: 2, event: Candidate { block: 3, valid: true } }",
    "Node { p: 0, event: ValidationQuorum { value: Valid(0), signers: 5 } }",
    "Node { p: 1, event: ValidationQuorum { value: Valid(0), signers: 5 } }",
    "Node { p: 0, event: RatificationQuorum { att: Att { slot: 3, value: Valid(0), validation: 5, ratification: 3 }, failed: FailSet(1) } }",
    "Node { p: 1, event: Crash }",
    "Node { p: 0, event: Timeout { step: Ratification } }",
];

/// The 37 steps, each with the model's description of it (`sa simulate --preset async-final`
/// finds a path of the same shape: walk 774,500 of seed 0, then a breadth-first search).
pub const ASYNC_FINAL_FORK: &[&str] = &[
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
    "Node { p: 3, event: ValidationQuorum { value: Valid(0), signers: 9 } }",
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
    "Node { p: 2, event: ValidationQuorum { value: Valid(0), signers: 5 } }",
    // 15. P1 round 1 iteration 1 Ratification: Success attestation signed by {P0} (Validation) and {P0 P2} (Ratification); accepts B1.1
    "Node { p: 1, event: RatificationQuorum { att: Att { slot: 3, value: Valid(0), validation: 1, ratification: 5 }, failed: FailSet(0) } }",
    // 16. P0 round 1 iteration 1 Ratification: Success attestation signed by {P0} (Validation) and {P0 P2} (Ratification); accepts B1.1
    "Node { p: 0, event: RatificationQuorum { att: Att { slot: 3, value: Valid(0), validation: 1, ratification: 5 }, failed: FailSet(0) } }",
    // 17. P2 round 1 iteration 1 Ratification: Success attestation signed by {P0} (Validation) and {P0 P2} (Ratification); accepts B1.1
    "Node { p: 2, event: RatificationQuorum { att: Att { slot: 3, value: Valid(0), validation: 5, ratification: 5 }, failed: FailSet(0) } }",
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
    "Node { p: 2, event: RatificationQuorum { att: Att { slot: 275, value: NoCandidate, validation: 4, ratification: 6 }, failed: FailSet(0) } }",
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
    "Node { p: 3, event: RatificationQuorum { att: Att { slot: 1, value: Valid(0), validation: 9, ratification: 12 }, failed: FailSet(0) } }",
    // 34. P0 falls back: replaces B1.1 by B1.0 (iteration 0) at height 1, reverting B1.1 (Accepted), B1.1-2.0 (Attested)
    "Node { p: 0, event: Fallback { height: 1, att: Att { slot: 1, value: Valid(0), validation: 5, ratification: 12 }, failed: FailSet(0) } }",
    // 35. P2 falls back: replaces B1.1 by B1.0 (iteration 0) at height 1, reverting B1.1 (Accepted), B1.1-2.0 (Attested)
    "Node { p: 2, event: Fallback { height: 1, att: Att { slot: 1, value: Valid(0), validation: 5, ratification: 12 }, failed: FailSet(0) } }",
    // 36. P2 round 2 iteration 0: is gen(0), broadcasts a valid candidate B1.0-2.0 on B1.0
    "Node { p: 2, event: Propose { valid: true } }",
    // 37. P0 round 2 iteration 0 Proposal: receives candidate B1.0-2.0; sends Validation vote Valid
    "Node { p: 0, event: Candidate { block: 17, valid: true } }",
];

/// An action's `Debug` form without what a finality variant may change on the same path: the
/// Ratification signers of an attestation (VAR-FIN-SM holds the SM quorum when there is one)
/// and the failed_iterations a candidate records (only Fails of SM credits under it).
pub fn shape(action: &str) -> String {
    let mut out = String::new();
    let mut rest = action;
    while !rest.is_empty() {
        let cut = ["ratification: ", "failed: FailSet("]
            .iter()
            .filter_map(|k| rest.find(k).map(|at| (at, k.len())))
            .min();
        match cut {
            Some((at, len)) => {
                out.push_str(&rest[..at + len]);
                rest = rest[at + len..].trim_start_matches(|c: char| c.is_ascii_digit());
            }
            None => {
                out.push_str(rest);
                rest = "";
            }
        }
    }
    out
}

/// Takes `steps` from the initial state, each matched among the actions enabled in the state
/// reached so far by its `Debug` form (by [`shape`] when `by_shape`). Returns every state with
/// the actions taken, or the step that is not enabled.
pub fn walk(
    m: &SaModel,
    steps: &[&str],
    by_shape: bool,
) -> Result<(Vec<State>, Vec<Action>), String> {
    let key = |s: &str| if by_shape { shape(s) } else { s.to_string() };
    let mut states = vec![m
        .init_states()
        .into_iter()
        .next()
        .ok_or("no initial state")?];
    let mut actions = Vec::new();
    for (k, step) in steps.iter().enumerate() {
        let state = states.last().ok_or("no state")?;
        let mut enabled = Vec::new();
        m.actions(state, &mut enabled);
        let action = *enabled
            .iter()
            .find(|a| key(&format!("{a:?}")) == key(step))
            .ok_or_else(|| {
                format!(
                    "step {} `{step}` is not enabled; enabled: {enabled:?}",
                    k + 1
                )
            })?;
        let next = m
            .next_state(state, action)
            .ok_or_else(|| format!("step {}: no successor", k + 1))?;
        states.push(next);
        actions.push(action);
    }
    Ok((states, actions))
}
