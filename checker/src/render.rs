//! Counterexamples in the spec's words: who acted, where, what was sent, what each node then
//! believed.

use crate::report::{ChartEvent, ChartKind, Counterexample, NodeView};
use sa_model::model::{Action, SaModel};
use sa_model::node::Event;
use sa_model::state::{
    block, block_name, iteration_of, parent_of, slot, variant_of, Label, Node, Root, State, Step,
    Value,
};
use stateright::Path;

fn value(v: Value) -> String {
    v.name()
}

fn member(m: &SaModel, before: &State, p: u8, ratification: bool) -> bool {
    let node = &before.nodes[usize::from(p)];
    let ctx = m.node_context(&before.root, node);
    ctx.iterations
        .get(usize::from(node.iteration))
        .is_some_and(|d| {
            let c = if ratification {
                &d.ratification
            } else {
                &d.validation
            };
            c.credits(usize::from(p)) > 0
        })
}

fn vote_note(m: &SaModel, before: &State, p: u8, ratification: bool, v: Value) -> String {
    if member(m, before, p, ratification) {
        let step = if ratification {
            "Ratification"
        } else {
            "Validation"
        };
        format!("; sends {step} vote {}", value(v))
    } else {
        "; not a committee member, no vote".into()
    }
}

fn signers(mask: u8) -> String {
    let names: Vec<String> = (0..8)
        .filter(|p| mask & (1 << p) != 0)
        .map(|p| format!("P{p}"))
        .collect();
    format!("{{{}}}", names.join(" "))
}

fn att_note(a: &sa_model::state::Att) -> String {
    if a.value == Value::NoQuorum {
        format!("signed by {} (Ratification)", signers(a.ratification))
    } else {
        format!(
            "signed by {} (Validation) and {} (Ratification)",
            signers(a.validation),
            signers(a.ratification)
        )
    }
}

/// One action described against the state it was taken in.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per action kind: the story's vocabulary in one place"
)]
pub fn describe(m: &SaModel, before: &State, action: &Action) -> String {
    let who = |p: u8| format!("P{p}");
    let (p, event) = match *action {
        Action::Rejoin { p } => {
            return format!(
                "{} comes back online: holds the common Final chain and starts the round above \
                 it (round {})",
                who(p),
                before
                    .nodes
                    .iter()
                    .find(|n| n.alive)
                    .map_or(1, |n| n.round() - n.chain.len() as u8)
            );
        }
        Action::ByzantinePropose { p, block, failed } => {
            return format!(
                "{} (Byzantine) is gen({}): broadcasts candidate {} on {}{}",
                who(p),
                iteration_of(block),
                block_name(block),
                block_name(parent_of(block)),
                if failed.count() > 0 {
                    format!(" recording {} failed iteration(s)", failed.count())
                } else {
                    String::new()
                }
            )
        }
        Action::Node { p, event } => (p, event),
    };
    let node = &before.nodes[usize::from(p)];
    let (round, iteration) = (node.round(), node.iteration);
    let at = format!("{} round {round} iteration {iteration}", who(p));
    match event {
        Event::Crash => format!("{} goes offline (absent from now on)", who(p)),
        Event::Propose { valid } => {
            let tip = node.tip();
            format!(
                "{at}: is gen({iteration}), broadcasts {} candidate {} on {}",
                if valid { "a valid" } else { "an INVALID" },
                block_name(slot(tip, iteration)),
                block_name(tip)
            )
        }
        Event::Candidate { block, valid } => {
            let v = if valid {
                Value::Valid(variant_of(block))
            } else {
                Value::Invalid(variant_of(block))
            };
            format!(
                "{at} Proposal: receives candidate {}{}",
                block_name(block),
                vote_note(m, before, p, false, v)
            )
        }
        Event::Timeout {
            step: Step::Proposal,
        } => format!(
            "{at} Proposal: timer fires, no candidate{}",
            vote_note(m, before, p, false, Value::NoCandidate)
        ),
        Event::ValidationQuorum {
            value: v,
            signers: s,
        } => format!(
            "{at} Validation: holds a quorum on {} from {}{}",
            value(v),
            signers(s),
            vote_note(m, before, p, true, v)
        ),
        Event::Timeout {
            step: Step::Validation,
        } => format!(
            "{at} Validation: timer fires, result NoQuorum{}",
            vote_note(m, before, p, true, Value::NoQuorum)
        ),
        Event::RatificationQuorum { att, .. } => {
            if let Value::Valid(v) = att.value {
                format!(
                    "{at} Ratification: Success attestation {}; accepts {}",
                    att_note(&att),
                    block_name(block(node.tip(), iteration, v))
                )
            } else {
                format!(
                    "{at} Ratification: Fail({}) attestation {}; next iteration",
                    value(att.value),
                    att_note(&att)
                )
            }
        }
        Event::Timeout {
            step: Step::Ratification,
        } => format!("{at} Ratification: timer fires, no attestation, next iteration"),
        Event::Timeout { step } => format!("{at}: {step:?} timer fires"),
        Event::PastSuccess { att, .. } => {
            let Value::Valid(v) = att.value else {
                return format!("{at}: sees an attestation");
            };
            format!(
                "{at}: receives the Success attestation of iteration {} {}; accepts {}",
                iteration_of(att.slot),
                att_note(&att),
                block_name(block(node.tip(), iteration_of(att.slot), v))
            )
        }
        Event::Fallback { height, att, .. } => {
            let h = usize::from(height);
            let Value::Valid(v) = att.value else {
                return format!("{at}: falls back");
            };
            let reverted: Vec<String> = (h..=node.chain.len())
                .map(|k| {
                    format!(
                        "{} ({})",
                        block_name(node.block_at(k)),
                        crate::render::label(node.chain[k - 1].label)
                    )
                })
                .collect();
            let label = format!(", reverting {}", reverted.join(", "));
            format!(
                "{} falls back: replaces {} by {} (iteration {}) at height {height}{label}",
                who(p),
                block_name(node.block_at(h)),
                block_name(block(node.block_at(h - 1), iteration_of(att.slot), v)),
                iteration_of(att.slot)
            )
        }
        Event::Revote { block } => format!(
            "{at}: receives the late candidate {} and votes AGAIN in Validation",
            block_name(block)
        ),
        Event::LateVote { block } => format!(
            "{at}: receives the candidate {} of emergency iteration {} late (still open, \
             EMERG-1); sends Validation vote Valid there",
            block_name(block),
            iteration_of(block)
        ),
    }
}

pub(crate) fn label(l: Label) -> &'static str {
    match l {
        Label::Accepted => "Accepted",
        Label::Attested => "Attested",
        Label::Confirmed => "Confirmed",
        Label::Final => "Final",
    }
}

fn committee(c: &sa_model::sortition::Committee) -> String {
    let members: Vec<String> = c
        .members()
        .map(|p| format!("P{p}x{}", c.credits(p)))
        .collect();
    if members.is_empty() {
        "{}".into()
    } else {
        format!("{{{}}}", members.join(" "))
    }
}

/// What a node believes, in parts: where it is, the draws of its iteration, its chain.
pub fn view(m: &SaModel, root: &Root, p: usize, node: &Node) -> NodeView {
    let mut chain = String::from("genesis");
    let mut finals = Vec::new();
    for h in 1..=node.chain.len() {
        let name = block_name(node.block_at(h));
        chain.push_str(&format!(" <- {name}:{}", label(node.chain[h - 1].label)));
        if node.chain[h - 1].label == Label::Final {
            finals.push(name);
        }
    }
    let place = match node.step {
        Step::Done => "done".to_string(),
        Step::Open => format!("round {} open consensus", node.round()),
        s => format!(
            "round {} iteration {} {:?}",
            node.round(),
            node.iteration,
            s
        ),
    };
    let byzantine = m.config.is_byzantine(p);
    let draws = if byzantine || matches!(node.step, Step::Done | Step::Open) {
        String::new()
    } else {
        let ctx = m.node_context(root, node);
        ctx.iterations
            .get(usize::from(node.iteration))
            .map(|d| {
                format!(
                    "gen {}, Validation {}, Ratification {}",
                    d.generator.map_or("none".to_string(), |g| format!("P{g}")),
                    committee(&d.validation),
                    committee(&d.ratification)
                )
            })
            .unwrap_or_default()
    };
    NodeView {
        name: format!("P{p}"),
        alive: node.alive,
        byzantine,
        place,
        draws,
        chain,
        finals,
    }
}

/// What a node believes: where it is, the draws of its iteration, its chain with labels.
pub fn belief(m: &SaModel, root: &Root, p: usize, node: &Node) -> String {
    let v = view(m, root, p, node);
    if v.byzantine {
        return format!("P{p} [Byzantine]: no node state (may sign anything it is drawn for)");
    }
    let alive = if v.alive { "" } else { " [absent]" };
    let draws = if v.draws.is_empty() {
        String::new()
    } else {
        format!(" ({})", v.draws)
    };
    format!("P{p}{alive}: {}{draws}; chain {}", v.place, v.chain)
}

/// Every node's belief.
pub fn beliefs(m: &SaModel, state: &State) -> Vec<String> {
    state
        .nodes
        .iter()
        .enumerate()
        .map(|(p, n)| belief(m, &state.root, p, n))
        .collect()
}

/// Every node's belief, in parts.
pub fn views(m: &SaModel, state: &State) -> Vec<NodeView> {
    state
        .nodes
        .iter()
        .enumerate()
        .map(|(p, n)| view(m, &state.root, p, n))
        .collect()
}

fn bits(mask: u8) -> Vec<usize> {
    (0..8).filter(|p| mask & (1 << p) != 0).collect()
}

/// One action as a message sequence chart draws it.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per action kind: the chart's vocabulary in one place"
)]
pub fn chart_event(m: &SaModel, before: &State, action: &Action) -> ChartEvent {
    let (p, event) = match *action {
        Action::Rejoin { p } => {
            return ChartEvent {
                actor: usize::from(p),
                kind: ChartKind::Timer,
                label: "back online".into(),
                from: Vec::new(),
            };
        }
        Action::ByzantinePropose { p, block, .. } => {
            return ChartEvent {
                actor: usize::from(p),
                kind: ChartKind::Byzantine,
                label: format!("candidate {}", block_name(block)),
                from: Vec::new(),
            }
        }
        Action::Node { p, event } => (p, event),
    };
    let node = &before.nodes[usize::from(p)];
    let generator = || {
        m.node_context(&before.root, node)
            .iterations
            .get(usize::from(node.iteration))
            .and_then(|d| d.generator)
            .into_iter()
            .collect::<Vec<_>>()
    };
    let (kind, label, from) = match event {
        Event::Crash => (ChartKind::Crash, "absent".to_string(), Vec::new()),
        Event::Propose { valid } => (
            ChartKind::Broadcast,
            format!(
                "{}candidate {}",
                if valid { "" } else { "INVALID " },
                block_name(slot(node.tip(), node.iteration))
            ),
            Vec::new(),
        ),
        Event::Candidate { block, .. } => (
            ChartKind::Receive,
            format!("candidate {}", block_name(block)),
            generator(),
        ),
        Event::Revote { block } => (
            ChartKind::Receive,
            format!("late {} (again)", block_name(block)),
            generator(),
        ),
        Event::LateVote { block } => (
            ChartKind::Receive,
            format!("late {} (open)", block_name(block)),
            m.node_context(&before.root, node)
                .iterations
                .get(usize::from(iteration_of(block)))
                .and_then(|d| d.generator)
                .into_iter()
                .collect(),
        ),
        Event::Timeout { step } => (ChartKind::Timer, format!("timer {step:?}"), Vec::new()),
        Event::ValidationQuorum { value: v, signers } => (
            ChartKind::Receive,
            format!("V-quorum {}", value(v)),
            bits(signers),
        ),
        Event::RatificationQuorum { att, .. } => (
            ChartKind::Receive,
            match att.value {
                Value::Valid(_) => "Success".to_string(),
                v => format!("Fail({})", value(v)),
            },
            bits(att.ratification),
        ),
        Event::PastSuccess { att, .. } => (
            ChartKind::Receive,
            format!("Success it. {}", iteration_of(att.slot)),
            bits(att.ratification),
        ),
        Event::Fallback { height, att, .. } => (
            ChartKind::Fallback,
            format!("fallback h{height} to it. {}", iteration_of(att.slot)),
            bits(att.ratification),
        ),
    };
    ChartEvent {
        actor: usize::from(p),
        kind,
        label,
        from,
    }
}

/// A message of the pool in the spec's words.
pub fn describe_msg(m: &sa_model::state::Msg) -> String {
    match *m {
        sa_model::state::Msg::Candidate { block, valid, .. } => format!(
            "{}candidate {} on {}",
            if valid { "" } else { "INVALID " },
            block_name(block),
            block_name(parent_of(block))
        ),
        sa_model::state::Msg::Vote {
            slot: s,
            step,
            value: v,
            voter,
        } => format!(
            "P{voter}: {step:?} vote {} for slot {} (iteration {} on {})",
            value(v),
            block_name(s),
            iteration_of(s),
            block_name(parent_of(s))
        ),
    }
}

/// An event in a few words, without the state it is taken in (the Explorer's action list).
pub fn event_name(e: &Event) -> String {
    match *e {
        Event::Crash => "goes offline".into(),
        Event::Propose { valid } => {
            format!(
                "proposes {}",
                if valid {
                    "a valid candidate"
                } else {
                    "an INVALID candidate"
                }
            )
        }
        Event::Candidate { block, .. } => format!("receives candidate {}", block_name(block)),
        Event::Timeout { step } => format!("{step:?} timer fires"),
        Event::ValidationQuorum {
            value: v,
            signers: s,
        } => {
            format!("Validation quorum {} from {}", value(v), signers(s))
        }
        Event::RatificationQuorum { att, .. } => format!(
            "Ratification quorum {} from {}",
            value(att.value),
            signers(att.ratification)
        ),
        Event::PastSuccess { att, .. } => format!(
            "receives the Success of iteration {}",
            iteration_of(att.slot)
        ),
        Event::Fallback { height, att, .. } => format!(
            "falls back at height {height} to iteration {}",
            iteration_of(att.slot)
        ),
        Event::Revote { block } => format!("late candidate {}: votes again", block_name(block)),
        Event::LateVote { block } => format!(
            "late candidate {} of open emergency iteration {}: votes Valid",
            block_name(block),
            iteration_of(block)
        ),
    }
}

/// Renders a Stateright path as numbered steps in the spec's words.
pub fn render_path(model: &SaModel, path: Path<State, Action>, shortest: bool) -> Counterexample {
    render_steps(model, path.into_vec(), shortest)
}

/// Renders (state, action taken from it) pairs as numbered steps in the spec's words.
pub fn render_steps(
    model: &SaModel,
    pairs: Vec<(State, Option<Action>)>,
    shortest: bool,
) -> Counterexample {
    let mut steps = Vec::new();
    for (k, (before, action)) in pairs.iter().enumerate() {
        let Some(action) = action else { continue };
        let after = pairs.get(k + 1).map(|(s, _)| s).unwrap_or(before);
        let mut description = describe(model, before, action);
        // A fallback that reverts a Final block: since which step the node held it Final.
        if let Action::Node {
            p,
            event: sa_model::node::Event::Fallback { height, .. },
        } = *action
        {
            let (p, h) = (usize::from(p), usize::from(height));
            let node = &before.nodes[p];
            if node.chain.get(h - 1).map(|e| e.label) == Some(sa_model::state::Label::Final) {
                let id = node.block_at(h);
                let since = pairs[..=k].iter().position(|(s, _)| {
                    let n = &s.nodes[p];
                    n.chain.len() >= h
                        && n.block_at(h) == id
                        && n.chain[h - 1].label == sa_model::state::Label::Final
                });
                if let Some(m) = since {
                    description.push_str(&format!(
                        "; {} was Final at P{p} since step {m}",
                        sa_model::state::block_name(id)
                    ));
                }
            }
        }
        steps.push(crate::report::Step {
            index: steps.len() + 1,
            actor: format!("P{}", action.actor()),
            action: serde_json::to_value(action).unwrap_or(serde_json::Value::Null),
            description,
            beliefs: beliefs(model, after),
            views: views(model, after),
            chart: chart_event(model, before, action),
        });
    }
    let initial = pairs
        .first()
        .map(|(s, _)| beliefs(model, s))
        .unwrap_or_default();
    let initial_views = pairs
        .first()
        .map(|(s, _)| views(model, s))
        .unwrap_or_default();
    Counterexample {
        shortest,
        initial,
        initial_views,
        steps,
        loop_start: None,
    }
}
