//! One honest node's protocol logic, in the spec's words:
//! `handle(node_state, event) -> (node_state, outputs)`.
//!
//! An event is something that happens *to one node*: its own proposal as gen(i), a candidate
//! arriving, a quorum it observed (with the signers it holds), a timer. The handler is the
//! spec's step logic and nothing else: which events are possible, and when, is decided by the
//! network (`crate::network`) and the adversary (`crate::adversary`), which compose the handlers.

pub use crate::event::Event;
use crate::finality;
use crate::model::SaModel;
use crate::mutations::Mutation;
use crate::rules::Rule;
use crate::state::{
    block, iteration_of, slot, slot_of, variant_of, Att, BlockId, Entry, FailSet, FallbackRecord,
    Label, Msg, Node, Root, Step, Value, VoteStep,
};

/// A vote the node casts in its current iteration, if it is a member of the step's committee.
/// In an emergency iteration (EMERG-1) only Valid votes are sent.
fn vote(
    m: &SaModel,
    root: &Root,
    p: usize,
    node: &Node,
    step: VoteStep,
    value: Value,
    out: &mut Vec<Msg>,
) {
    vote_at(m, root, p, node, node.iteration, step, value, out);
}

/// A vote the node casts in iteration `iteration` of its round, if it is a member of the
/// step's committee; in an emergency iteration only a Valid vote (EMERG-1).
#[allow(
    clippy::too_many_arguments,
    reason = "a vote's whole address: who (model, root, p, node), where (iteration, step), what (value), and the outbox"
)]
fn vote_at(
    m: &SaModel,
    root: &Root,
    p: usize,
    node: &Node,
    iteration: u8,
    step: VoteStep,
    value: Value,
    out: &mut Vec<Msg>,
) {
    Rule::Vote1.applies();
    if m.emergency(iteration) && !value.is_valid() {
        return;
    }
    let ctx = m.node_context(root, node);
    let Some(draw) = ctx.iterations.get(usize::from(iteration)) else {
        return;
    };
    let committee = match step {
        VoteStep::Validation => &draw.validation,
        VoteStep::Ratification => &draw.ratification,
    };
    let member = committee.credits(p) > 0;
    if member
        || m.config
            .broken(Rule::Tally2)
            .contains(Mutation::CountNonMembers)
    {
        if !member {
            Mutation::CountNonMembers.hit();
        }
        out.push(Msg::Vote {
            slot: slot(node.tip(), iteration),
            step,
            value,
            voter: p as u8,
        });
    }
}

/// Adds an attestation's outcome to what the node holds.
fn hold(node: &mut Node, att: Att) {
    let key = (att.slot, att.value);
    if let Err(at) = node.held.binary_search(&key) {
        node.held.insert(at, key);
    }
}

fn next_iteration(m: &SaModel, node: &mut Node) {
    Rule::Iter3.applies();
    if node.iteration + 1 < m.config.protocol.max_iterations {
        node.iteration += 1;
        node.step = Step::Proposal;
    } else {
        node.step = Step::Open;
    }
}

/// ACCEPT-1: appends the block of `att` with its labels (FIN-*) and starts the next round.
fn accept(m: &SaModel, node: &mut Node, att: Att, failed: FailSet) {
    Rule::Accept1.applies();
    let Value::Valid(variant) = att.value else {
        return;
    };
    hold(node, att);
    finality::push(
        &m.config,
        &mut node.chain,
        Entry {
            iteration: iteration_of(att.slot),
            variant,
            failed,
            label: Label::Accepted,
        },
    );
    node.iteration = 0;
    node.fails = FailSet::default();
    node.voted_late = false;
    node.step = if node.round() > m.config.protocol.rounds {
        Step::Done
    } else {
        Step::Proposal
    };
}

/// Skips the steps in which `p` has nothing to do (not the generator, not a member): it sends
/// nothing in them and their timers lead to the same state.
pub fn skip_idle_steps(m: &SaModel, root: &Root, p: usize, node: &mut Node) {
    if !node.alive || !matches!(node.step, Step::Proposal | Step::Validation) {
        return;
    }
    let ctx = m.node_context(root, node);
    let draw = &ctx.iterations[usize::from(node.iteration)];
    let member = |c: &crate::sortition::Committee| {
        c.credits(p) > 0
            || m.config
                .broken(Rule::Tally2)
                .contains(Mutation::CountNonMembers)
    };
    if node.step == Step::Proposal && draw.generator != Some(p) && !member(&draw.validation) {
        node.step = Step::Validation;
    }
    if node.step == Step::Validation && !member(&draw.ratification) {
        node.step = Step::Ratification;
    }
}

/// The failed_iterations gen(i) puts in its candidate: the Fail attestations it holds for
/// iterations below the relaxed threshold (FAIL-1).
fn candidate_failed(m: &SaModel, node: &Node) -> FailSet {
    Rule::Fail1.applies();
    let relaxed = m.config.protocol.relaxed_iterations;
    let mut failed = node.fails.below(relaxed);
    if m.config.broken(Rule::Fail1).contains(Mutation::ForgeFailed) {
        for j in 0..node.iteration.min(relaxed) {
            if failed.get(j).is_none() {
                Mutation::ForgeFailed.hit();
                failed = failed.with(j, Value::NoCandidate);
            }
        }
    }
    failed
}

/// The spec's step logic for honest node `p`: the node after `event`, and the messages it
/// sends. `event` must be one the network offers this node (see `crate::model`).
pub fn handle(
    m: &SaModel,
    root: &Root,
    p: usize,
    before: &Node,
    event: &Event,
) -> (Node, Vec<Msg>) {
    let mut node = before.clone();
    let mut out = Vec::new();
    match *event {
        Event::Crash => {
            crash(&mut node);
            return (node, out);
        }
        Event::Propose { valid } => propose(m, root, p, &mut node, valid, &mut out),
        Event::Candidate { block: b, valid } => {
            receive_candidate(m, root, p, &mut node, b, valid, &mut out);
        }
        Event::LateVote { block: b } => late_vote(m, root, p, &mut node, b, &mut out),
        Event::Revote { block: b } => {
            Mutation::DoubleVote.hit();
            let value = Value::Valid(variant_of(b));
            vote(m, root, p, &node, VoteStep::Validation, value, &mut out);
        }
        Event::Timeout {
            step: Step::Proposal,
        } => {
            let value = Value::NoCandidate;
            vote(m, root, p, &node, VoteStep::Validation, value, &mut out);
            node.step = Step::Validation;
        }
        Event::ValidationQuorum { value, .. } => {
            Rule::StepVal2.applies();
            Rule::StepRat1.applies();
            vote(m, root, p, &node, VoteStep::Ratification, value, &mut out);
            node.step = Step::Ratification;
        }
        Event::Timeout {
            step: Step::Validation,
        } => {
            let value = Value::NoQuorum;
            vote(m, root, p, &node, VoteStep::Ratification, value, &mut out);
            node.step = Step::Ratification;
        }
        Event::RatificationQuorum { att, failed } => {
            Rule::Iter1.applies();
            if att.value.is_valid() {
                accept(m, &mut node, att, failed);
            } else {
                hold(&mut node, att);
                let ctx = m.node_context(root, &node);
                if m.fail_counts(&ctx.iterations[usize::from(node.iteration)], &att) {
                    node.fails = node.fails.with(node.iteration, att.value);
                }
                next_iteration(m, &mut node);
            }
        }
        Event::Timeout {
            step: Step::Ratification,
        } => next_iteration(m, &mut node),
        Event::Timeout { .. } => {}
        Event::PastSuccess { att, failed } => accept(m, &mut node, att, failed),
        Event::Fallback {
            height,
            att,
            failed,
        } => fall_back(m, &mut node, height, att, failed),
    }
    skip_idle_steps(m, root, p, &mut node);
    (node, out)
}

/// STEP-PROP-1: gen(i) broadcasts its candidate (carrying its failed_iterations, FAIL-1) and
/// casts its own Validation vote.
fn propose(m: &SaModel, root: &Root, p: usize, node: &mut Node, valid: bool, out: &mut Vec<Msg>) {
    let s = slot(node.tip(), node.iteration);
    Rule::StepProp1.applies();
    let failed = candidate_failed(m, node);
    out.push(Msg::Candidate {
        block: s,
        valid,
        failed,
    });
    if m.config
        .broken(Rule::StepProp1)
        .contains(Mutation::DoubleCandidate)
    {
        Mutation::DoubleCandidate.hit();
        out.push(Msg::Candidate {
            block: block(node.tip(), node.iteration, 1),
            valid,
            failed,
        });
    }
    let value = if valid {
        Value::Valid(0)
    } else {
        Value::Invalid(0)
    };
    vote(m, root, p, node, VoteStep::Validation, value, out);
    node.step = Step::Validation;
}

/// STEP-VAL-1: the candidate of the current slot arrives; a Validation member votes on it.
fn receive_candidate(
    m: &SaModel,
    root: &Root,
    p: usize,
    node: &mut Node,
    b: BlockId,
    valid: bool,
    out: &mut Vec<Msg>,
) {
    Rule::StepVal1.applies();
    Rule::ExecTx2.applies();
    let variant = variant_of(b);
    let value = if valid
        && m.config
            .broken(Rule::ExecTx2)
            .contains(Mutation::FailingTxInvalidates)
        && crate::exec::has_failing(&crate::exec::PAYLOAD)
    {
        // The broken validator: a failing transaction makes the block Invalid.
        Mutation::FailingTxInvalidates.hit();
        Value::Invalid(variant)
    } else if valid {
        Value::Valid(variant)
    } else if m
        .config
        .broken(Rule::StepVal1)
        .contains(Mutation::AcceptInvalid)
    {
        Mutation::AcceptInvalid.hit();
        Value::Valid(variant)
    } else {
        Value::Invalid(variant)
    };
    vote(m, root, p, node, VoteStep::Validation, value, out);
    node.step = Step::Validation;
}

/// FORK-1: the node replaces its block at `height` (and everything above it) by the block of
/// the Success `att` of a lower iteration, and records the fallback.
fn fall_back(m: &SaModel, node: &mut Node, height: u8, att: Att, failed: FailSet) {
    let h = usize::from(height);
    let Value::Valid(v) = att.value else {
        return;
    };
    let to = block(
        crate::state::parent_of(slot_of(att.slot)),
        iteration_of(att.slot),
        v,
    );
    let reverted_label = node.chain[h - 1..]
        .iter()
        .map(|e| e.label)
        .max()
        .unwrap_or(Label::Accepted);
    node.last_fallback = Some(FallbackRecord {
        height,
        from: node.block_at(h),
        to,
        reverted_label,
    });
    node.chain.truncate(h - 1);
    accept(m, node, att, failed);
}

/// The node goes offline for good. A crashed node never acts again: only its chain and what it
/// holds are read, so where it stopped is forgotten (states that differ only there are one
/// state).
fn crash(node: &mut Node) {
    node.alive = false;
    node.iteration = 0;
    node.step = Step::Done;
    node.fails = FailSet::default();
    node.voted_late = false;
}

/// EMERG-1: the candidate `b` of an emergency iteration the node has left arrives; a member of
/// that iteration's Validation committee that has not voted there votes Valid.
fn late_vote(m: &SaModel, root: &Root, p: usize, node: &mut Node, b: BlockId, out: &mut Vec<Msg>) {
    let value = Value::Valid(variant_of(b));
    vote_at(
        m,
        root,
        p,
        node,
        iteration_of(b),
        VoteStep::Validation,
        value,
        out,
    );
    // Left for good: a later iteration, or open consensus after the last one.
    node.voted_late |= iteration_of(b) < node.iteration || node.step == Step::Open;
}
