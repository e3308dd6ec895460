//! Counterexamples in the spec's words: who acted, where, what was sent, what each node then
//! believed.

use crate::model::{Action, SaModel};
use crate::state::{block_name, slot, Label, Node, State, Step, Value};

fn value(v: Value) -> &'static str {
    match v {
        Value::NoCandidate => "NoCandidate",
        Value::Valid => "Valid",
        Value::Invalid => "Invalid",
        Value::NoQuorum => "NoQuorum",
    }
}

fn member(m: &SaModel, before: &State, p: u8, ratification: bool) -> bool {
    let node = &before.nodes[usize::from(p)];
    let ctx = m.node_context(node);
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

/// One action described against the state it was taken in.
pub fn describe(m: &SaModel, before: &State, action: &Action) -> String {
    let who = |p: u8| format!("P{p}");
    match *action {
        Action::Crash { p } => format!("{} goes offline (absent from now on)", who(p)),
        Action::Propose { p, round, iteration, valid } => {
            let tip = before.nodes[usize::from(p)].tip();
            format!(
                "{} is gen({iteration}) of round {round}: broadcasts {} candidate {} on {}",
                who(p),
                if valid { "a valid" } else { "an INVALID" },
                block_name(slot(tip, iteration)),
                block_name(tip)
            )
        }
        Action::ReceiveCandidate { p, round, iteration } => {
            let node = &before.nodes[usize::from(p)];
            let s = slot(node.tip(), iteration);
            let valid = crate::model::candidate(before, s).is_some_and(|(v, _)| v);
            let v = if valid { Value::Valid } else { Value::Invalid };
            format!(
                "{} round {round} iteration {iteration} Proposal: receives candidate {}{}",
                who(p),
                block_name(s),
                vote_note(m, before, p, false, v)
            )
        }
        Action::ProposalTimeout { p, round, iteration } => format!(
            "{} round {round} iteration {iteration} Proposal: timer fires, no candidate{}",
            who(p),
            vote_note(m, before, p, false, Value::NoCandidate)
        ),
        Action::ValidationQuorum { p, round, iteration, value: v } => format!(
            "{} round {round} iteration {iteration} Validation: sees a quorum on {}{}",
            who(p),
            value(v),
            vote_note(m, before, p, true, v)
        ),
        Action::ValidationTimeout { p, round, iteration } => format!(
            "{} round {round} iteration {iteration} Validation: timer fires, result NoQuorum{}",
            who(p),
            vote_note(m, before, p, true, Value::NoQuorum)
        ),
        Action::RatificationQuorum { p, round, iteration, value: v } => {
            if v == Value::Valid {
                let s = slot(before.nodes[usize::from(p)].tip(), iteration);
                format!(
                    "{} round {round} iteration {iteration} Ratification: Success quorum; accepts {}",
                    who(p),
                    block_name(s)
                )
            } else {
                format!(
                    "{} round {round} iteration {iteration} Ratification: quorum on {}; Fail({}) attestation, next iteration",
                    who(p),
                    value(v),
                    value(v)
                )
            }
        }
        Action::RatificationTimeout { p, round, iteration } => format!(
            "{} round {round} iteration {iteration} Ratification: timer fires, no attestation, next iteration",
            who(p)
        ),
        Action::PastSuccess { p, round, iteration } => {
            let s = slot(before.nodes[usize::from(p)].tip(), iteration);
            format!(
                "{} round {round}: sees the Success quorum of earlier iteration {iteration}; accepts {}",
                who(p),
                block_name(s)
            )
        }
        Action::Fallback { p, height, iteration } => {
            let node = &before.nodes[usize::from(p)];
            let h = usize::from(height);
            format!(
                "{} falls back: replaces {} by {} (iteration {iteration}) at height {height}",
                who(p),
                block_name(node.block_at(h)),
                block_name(slot(node.block_at(h - 1), iteration))
            )
        }
        Action::Revote { p, round, iteration } => format!(
            "{} round {round} iteration {iteration}: receives the late candidate and votes AGAIN in Validation",
            who(p)
        ),
    }
}

fn label(l: Label) -> &'static str {
    match l {
        Label::Accepted => "Accepted",
        Label::Attested => "Attested",
        Label::Confirmed => "Confirmed",
        Label::Final => "Final",
    }
}

fn committee(c: &crate::sortition::Committee) -> String {
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

/// What a node believes: where it is, the draws of its iteration, its chain with labels.
pub fn belief(m: &SaModel, p: usize, node: &Node) -> String {
    let mut chain = String::from("genesis");
    for h in 1..=node.chain.len() {
        chain.push_str(&format!(
            " <- {}:{}",
            block_name(node.block_at(h)),
            label(node.chain[h - 1].label)
        ));
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
    let alive = if node.alive { "" } else { " [absent]" };
    let draws = if matches!(node.step, Step::Done | Step::Open) {
        String::new()
    } else {
        let ctx = m.node_context(node);
        ctx.iterations
            .get(usize::from(node.iteration))
            .map(|d| {
                format!(
                    " (gen {}, Validation {}, Ratification {})",
                    d.generator.map_or("none".to_string(), |g| format!("P{g}")),
                    committee(&d.validation),
                    committee(&d.ratification)
                )
            })
            .unwrap_or_default()
    };
    format!("P{p}{alive}: {place}{draws}; chain {chain}")
}

/// Every node's belief.
pub fn beliefs(m: &SaModel, state: &State) -> Vec<String> {
    state
        .nodes
        .iter()
        .enumerate()
        .map(|(p, n)| belief(m, p, n))
        .collect()
}
