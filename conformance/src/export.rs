//! `sa export`: model runs selected to cover every transition class, plus seeded random walks,
//! each projected onto one node under test and written as an ITF trace (spec/conformance.md).

use std::collections::{BTreeMap, BTreeSet, HashSet, VecDeque};
use std::hash::{BuildHasher, BuildHasherDefault};
use std::path::Path;

use sa_model::node::Event as MEvent;
use sa_model::properties::Kind;
use sa_model::state::{
    block_name, iteration_of, round_of, variant_of, Att, FailSet, Label as MLabel, Msg, State,
    Step as MStep, Value as MValue, VoteStep as MVoteStep,
};
use sa_model::{Action, SaModel};
use stateright::Model;

use crate::trace::{
    iteration_of_name, needs_met, variant_of_name, Attestation, Balance, Big, ChainEntry, Event,
    Failed, Label, Observed, Sent, Set, Step, TraceState, Value, VoteStep, DEFECTS, EDGES,
    FORMAT_VERSION,
};

fn step(s: MStep) -> Step {
    match s {
        MStep::Proposal => Step::Proposal,
        MStep::Validation => Step::Validation,
        MStep::Ratification => Step::Ratification,
        MStep::Open => Step::Open,
        MStep::Done => Step::Done,
    }
}

fn value(v: MValue) -> Value {
    match v {
        MValue::NoCandidate => Value::NoCandidate,
        MValue::Valid(c) => Value::Valid {
            candidate: Big(c.into()),
        },
        MValue::Invalid(c) => Value::Invalid {
            candidate: Big(c.into()),
        },
        MValue::NoQuorum => Value::NoQuorum,
    }
}

fn label(l: MLabel) -> Label {
    match l {
        MLabel::Accepted => Label::Accepted,
        MLabel::Attested => Label::Attested,
        MLabel::Confirmed => Label::Confirmed,
        MLabel::Final => Label::Final,
    }
}

fn signers(bits: u8) -> Set<Big> {
    Set((0..8).filter(|k| bits & (1 << k) != 0).map(Big).collect())
}

fn failed(f: FailSet) -> Set<Failed> {
    Set((0..8)
        .filter_map(|i| {
            f.get(i).map(|v| Failed {
                iteration: Big(i.into()),
                value: value(v),
            })
        })
        .collect())
}

fn attestation(a: &Att, f: FailSet) -> Attestation {
    Attestation {
        iteration: Big(iteration_of(a.slot).into()),
        value: value(a.value),
        validation: signers(a.validation),
        ratification: signers(a.ratification),
        failed: failed(f),
    }
}

/// The trace form of a model event.
pub fn event(e: &MEvent) -> Event {
    match *e {
        MEvent::Propose { valid } => Event::Propose { valid },
        MEvent::Candidate { block, valid } => Event::Candidate {
            block: block_name(block),
            valid,
            failed: failed(FailSet::default()),
        },
        MEvent::Timeout { step: s } => Event::Timeout { step: step(s) },
        MEvent::ValidationQuorum {
            value: v,
            signers: s,
        } => Event::ValidationQuorum {
            value: value(v),
            signers: signers(s),
            failed: failed(FailSet::default()),
        },
        MEvent::RatificationQuorum { att, failed: f } => Event::RatificationQuorum {
            attestation: attestation(&att, f),
        },
        MEvent::PastSuccess { att, failed: f } => Event::PastSuccess {
            attestation: attestation(&att, f),
        },
        MEvent::Fallback {
            height,
            att,
            failed: f,
        } => Event::Fallback {
            height: Big(height.into()),
            attestation: attestation(&att, f),
        },
        MEvent::Revote { block } => Event::Revote {
            block: block_name(block),
        },
        // EMERG-1: a late candidate of an open emergency iteration, delivered as such.
        MEvent::LateVote { block } => Event::Candidate {
            block: block_name(block),
            valid: true,
            failed: failed(FailSet::default()),
        },
        MEvent::Crash => Event::Crash,
    }
}

/// The Success attestations node `p` holds, by block: (Validation signers, Ratification
/// signers), the ones its next candidate's header carries (REW-2).
type Given = BTreeMap<sa_model::state::BlockId, (u8, u8)>;

/// What node `p` formed and was given along a projection, for the attestations it holds: a
/// node's attestation pairs the Ratification quorum with the Validation quorum it formed
/// itself in that iteration (ATT-1; its Ratification vote carries that one), or, when it
/// formed none, with the one the Ratification votes carried.
#[derive(Default)]
struct Held {
    /// The Validation quorum signers node `p` formed, by (slot, candidate variant).
    formed: BTreeMap<(sa_model::state::BlockId, u8), u8>,
    /// Its Success attestations, by block.
    given: Given,
}

impl Held {
    /// Records what event `e` at node `p` (from `before` to `after`) formed or gave it. A
    /// quorum the node's own credits reach alone (TALLY-4) is formed inside the event that
    /// made it vote, with the node as its only signer.
    fn record(
        &mut self,
        p: usize,
        before: &sa_model::state::Node,
        after: &sa_model::state::Node,
        e: &MEvent,
    ) {
        let own = 1u8 << p;
        let here = sa_model::state::slot(before.tip(), before.iteration);
        match e {
            MEvent::ValidationQuorum {
                value: MValue::Valid(v),
                signers,
            } => {
                self.formed.entry((here, *v)).or_insert(*signers);
            }
            MEvent::RatificationQuorum { att, .. }
            | MEvent::PastSuccess { att, .. }
            | MEvent::Fallback { att, .. } => {
                if let MValue::Valid(v) = att.value {
                    let validation = self
                        .formed
                        .get(&(att.slot, v))
                        .copied()
                        .unwrap_or(att.validation);
                    let b = sa_model::state::block(
                        sa_model::state::parent_of(att.slot),
                        iteration_of(att.slot),
                        v,
                    );
                    self.given
                        .entry(b)
                        .or_insert((validation, att.ratification));
                }
            }
            _ => {}
        }
        // Blocks appended without an attestation event: quorums of the node's own credits.
        for h in 1..=after.chain.len() {
            let b = after.block_at(h);
            if self.given.contains_key(&b) {
                continue;
            }
            let key = (sa_model::state::slot_of(b), variant_of(b));
            let validation = *self.formed.entry(key).or_insert(own);
            self.given.insert(b, (validation, own));
        }
    }
}

/// REW-1, REW-2 at node `p`'s tip: what every block below the tip paid, by provisioner, from
/// the attestation the node was given for it (the model's reward rule, `draws::rewards`).
fn rewards_at(model: &SaModel, n: &sa_model::state::Node, given: &Given) -> Vec<u64> {
    let mut out = vec![0u64; model.n()];
    let blocks = sa_model::draws::ledger_blocks(&n.chain);
    for h in 1..n.chain.len() {
        let Some(&(validation, ratification)) = given.get(&n.block_at(h)) else {
            continue;
        };
        let parent = model.context(&blocks[..h - 1]);
        for (q, amount) in sa_model::draws::rewards(
            &model.config,
            &parent,
            n.chain[h - 1].iteration,
            validation,
            ratification,
        ) {
            out[q] += amount;
        }
    }
    out
}

fn observed(model: &SaModel, s: &State, p: usize, given: &Given) -> Observed {
    let n = &s.nodes[p];
    let ledger = &model
        .node_context(&sa_model::state::Root::GENESIS, n)
        .ledger;
    let rewards = rewards_at(model, n, given);
    Observed {
        ledger: (0..model.n())
            .map(|q| Balance {
                stake: Big(ledger.stake[q]),
                locked: Big(ledger.locked[q]),
                faults: Big(ledger.faults[q].into()),
                hard_faults: Big(ledger.hard_faults[q].into()),
                suspended_until: Big(ledger.suspended_until[q].into()),
                reward: Big(rewards[q]),
            })
            .collect(),
        alive: n.alive,
        round: Big(n.round().into()),
        iteration: Big(n.iteration.into()),
        step: step(n.step),
        chain: (1..=n.chain.len())
            .map(|h| ChainEntry {
                block: block_name(n.block_at(h)),
                label: label(n.chain[h - 1].label),
            })
            .collect(),
        final_height: Big(n.final_height() as u64),
    }
}

fn sent(m: &Msg) -> Sent {
    match *m {
        Msg::Candidate { block, valid, .. } => Sent::Candidate {
            block: block_name(block),
            valid,
        },
        Msg::Vote {
            slot,
            step: s,
            value: v,
            ..
        } => Sent::Vote {
            round: Big(round_of(slot).into()),
            iteration: Big(iteration_of(slot).into()),
            step: match s {
                MVoteStep::Validation => VoteStep::Validation,
                MVoteStep::Ratification => VoteStep::Ratification,
            },
            value: value(v),
        },
    }
}

/// The transition class of `event` at node `p` (spec/conformance.md): event kind, the value or
/// outcome it carries, the step the node is in, and for the events of a voting step whether
/// the node is a member of that step's committee (a member votes, a non-member only watches).
pub fn class(model: &SaModel, p: usize, node: &sa_model::state::Node, e: &MEvent) -> String {
    let at = node.step;
    let member = |step: MVoteStep| {
        if !node.alive || matches!(node.step, MStep::Open | MStep::Done) {
            return "";
        }
        let ctx = model.node_context(&sa_model::state::Root::GENESIS, node);
        match ctx.iterations.get(usize::from(node.iteration)) {
            Some(d) => {
                let c = match step {
                    MVoteStep::Validation => &d.validation,
                    MVoteStep::Ratification => &d.ratification,
                };
                if c.credits(p) > 0 {
                    ", member"
                } else {
                    ", non-member"
                }
            }
            None => "",
        }
    };
    let role = match e {
        MEvent::Candidate { .. }
        | MEvent::Timeout {
            step: MStep::Proposal,
        } => member(MVoteStep::Validation),
        MEvent::ValidationQuorum { .. }
        | MEvent::Timeout {
            step: MStep::Validation,
        } => member(MVoteStep::Ratification),
        // VAR-FIN-SM / VAR-FIN-CLOSED: a block accepted while the node holds a Fail of an
        // earlier iteration of the round that does not count toward PNI (fewer than SM
        // Ratification credits). Never under Dusk's rule, where every Fail counts.
        MEvent::RatificationQuorum { att, .. } | MEvent::PastSuccess { att, .. }
            if att.value.is_valid() && uncounted_fail(node) =>
        {
            ", an uncounted Fail held"
        }
        // ... and a candidate proposed then (its failed_iterations leaves that Fail out).
        MEvent::Propose { .. } if uncounted_fail(node) => ", an uncounted Fail held",
        _ => "",
    };
    format!("{}{role}", class_of(at, e))
}

/// Whether `node` holds a Fail attestation of an earlier iteration of its round that does not
/// count toward PNI (VAR-FIN-SM, VAR-FIN-CLOSED: fewer than SM Ratification credits).
fn uncounted_fail(node: &sa_model::state::Node) -> bool {
    node.held.iter().any(|(slot, v)| {
        !v.is_valid()
            && sa_model::state::parent_of(*slot) == node.tip()
            && node.fails.get(iteration_of(*slot)).is_none()
    })
}

fn class_of(at: MStep, e: &MEvent) -> String {
    let v = |x: MValue| match x {
        MValue::NoCandidate => "NoCandidate",
        MValue::Valid(0) => "Valid",
        MValue::Valid(_) => "Valid'",
        MValue::Invalid(_) => "Invalid",
        MValue::NoQuorum => "NoQuorum",
    };
    let att = |a: &Att| match a.value {
        MValue::Valid(_) => "Success".to_string(),
        x => format!("Fail({})", v(x)),
    };
    let what = match e {
        MEvent::Propose { valid } => {
            format!("Propose({})", if *valid { "valid" } else { "invalid" })
        }
        MEvent::Candidate { block, valid } => format!(
            "Candidate({}{})",
            if *valid { "valid" } else { "invalid" },
            if variant_of(*block) == 1 {
                ", second"
            } else {
                ""
            }
        ),
        MEvent::Timeout { .. } => "Timeout".into(),
        MEvent::ValidationQuorum { value: x, .. } => format!("ValidationQuorum({})", v(*x)),
        MEvent::RatificationQuorum { att: a, .. } => format!("RatificationQuorum({})", att(a)),
        MEvent::PastSuccess { .. } => "PastSuccess".into(),
        MEvent::Fallback { .. } => "Fallback".into(),
        MEvent::Revote { .. } => "Revote".into(),
        MEvent::LateVote { .. } => "LateCandidate(emergency)".into(),
        MEvent::Crash => "Crash".into(),
    };
    format!("{what} @ {at:?}")
}

/// The label classes of a transition at one node: a block of its chain reaching a label it
/// did not hold before (`Label(Final)`, `Label(Confirmed)`, `Label(Attested)`), the labels
/// being what finality rules (FIN-*) compute.
pub fn label_classes(before: &sa_model::state::Node, after: &sa_model::state::Node) -> Vec<String> {
    let count =
        |n: &sa_model::state::Node, l: MLabel| n.chain.iter().filter(|e| e.label == l).count();
    [MLabel::Attested, MLabel::Confirmed, MLabel::Final]
        .into_iter()
        .filter(|&l| count(after, l) > count(before, l))
        .map(|l| format!("Label({l:?})"))
        .collect()
}

/// The ledger classes of a transition at node `p`: what the blocks it accepted (or dropped,
/// in a fallback) did to its ledger at the tip, for any provisioner: `Ledger(warning)` (a soft
/// fault counted without suspension), `Ledger(soft-slash)` (stake moved to locked, SLASH-2),
/// `Ledger(hard-slash)` (SLASH-4), `Ledger(fault-reset)` (REW-3), `Ledger(rollback)` (a
/// penalty undone with the blocks a fallback drops).
pub fn ledger_classes(
    model: &SaModel,
    before: &sa_model::state::Node,
    after: &sa_model::state::Node,
) -> Vec<String> {
    if before.chain.len() == after.chain.len()
        && before
            .chain
            .iter()
            .zip(&after.chain)
            .all(|(a, b)| (a.iteration, a.variant, a.failed) == (b.iteration, b.variant, b.failed))
    {
        return vec![];
    }
    let (a, b) = (
        &model
            .node_context(&sa_model::state::Root::GENESIS, before)
            .ledger,
        &model
            .node_context(&sa_model::state::Root::GENESIS, after)
            .ledger,
    );
    let mut out = BTreeSet::new();
    for q in 0..model.n() {
        if b.hard_faults[q] > a.hard_faults[q] {
            out.insert("hard-slash");
        }
        if b.locked[q] > a.locked[q] {
            out.insert("soft-slash");
        }
        if b.faults[q] > a.faults[q] && b.suspended_until[q] == a.suspended_until[q] {
            out.insert("warning");
        }
        if b.faults[q] == 0 && a.faults[q] > 0 && b.locked[q] >= a.locked[q] {
            out.insert("fault-reset");
        }
        if b.locked[q] < a.locked[q] || b.hard_faults[q] < a.hard_faults[q] {
            out.insert("rollback");
        }
    }
    out.into_iter().map(|c| format!("Ledger({c})")).collect()
}

/// A run: the actions from the initial state.
pub type Run = Vec<Action>;

/// One trace: its file stem, the node under test, and its states.
pub struct Trace {
    /// File stem (`class-007`, `walk-0003-p1`).
    pub name: String,
    /// What it is (the class it was selected for, or the walk).
    pub description: String,
    /// The node under test.
    pub node: usize,
    /// Its states (the first is `Init`).
    pub states: Vec<TraceState>,
    /// The classes it hits.
    pub classes: BTreeSet<String>,
}

/// Projects `run` onto node `p`: one state per event at `p`.
pub fn project(
    model: &SaModel,
    run: &[Action],
    p: usize,
) -> Option<(Vec<TraceState>, BTreeSet<String>)> {
    project_probes(model, run, p).map(|(s, c, _)| (s, c))
}

/// An equivocation probe (SLASH-4): after state `at` of a projection, a second, different
/// message of a provisioner whose first one the node under test just took.
pub struct Probe {
    /// The state it follows.
    pub at: usize,
    /// `candidate`, `validation` or `ratification`.
    pub kind: &'static str,
    /// The probe: the second message, the fault proof expected, the node unchanged.
    pub state: TraceState,
}

/// [`project`], and the equivocation probes it allows: after a candidate, a Validation quorum
/// or a Ratification quorum that leaves the node in the same round, the same signer's (or
/// generator's) second message for the same slot and step on another value (another
/// candidate; NoCandidate against Valid or Invalid, Valid against NoCandidate; NoQuorum
/// against a Ratification vote on anything else). The model has no such message (its
/// Byzantine votes count for every value, its honest nodes never equivocate): the expected
/// answer is SLASH-4's, a fault proof against that provisioner and the node otherwise
/// unchanged (TALLY-3: the second message does not count).
#[allow(
    clippy::too_many_lines,
    reason = "one projection per probe kind of spec/conformance.md, in the schema's order"
)]
pub fn project_probes(
    model: &SaModel,
    run: &[Action],
    p: usize,
) -> Option<(Vec<TraceState>, BTreeSet<String>, Vec<Probe>)> {
    let mut probes = Vec::new();
    let mut state = model.init_states().into_iter().next()?;
    let mut held = Held::default();
    let mut states = vec![TraceState {
        event: Event::Init,
        sent: Set(Vec::new()),
        node: observed(model, &state, p, &held.given),
    }];
    probes.extend(defect_probe(model, &state, p, 0, &states[0].node));
    let mut classes = BTreeSet::new();
    for &a in run {
        let next = model.next_state(&state, a)?;
        if let Action::Node { p: q, event: e } = a {
            if usize::from(q) == p {
                classes.insert(class(model, p, &state.nodes[p], &e));
                classes.extend(label_classes(&state.nodes[p], &next.nodes[p]));
                classes.extend(ledger_classes(model, &state.nodes[p], &next.nodes[p]));
                let before: HashSet<&Msg> = state.pool.iter().collect();
                let mut out: Vec<Sent> = next
                    .pool
                    .iter()
                    .filter(|m| !before.contains(m))
                    .map(sent)
                    .collect();
                out.sort();
                let mut ev = event(&e);
                // The Fail attestations a candidate carries are in the message its generator
                // sent: they fix its hash.
                let carried = |block: sa_model::state::BlockId| {
                    state.pool.iter().find_map(|m| match m {
                        Msg::Candidate {
                            block: b,
                            failed: fs,
                            ..
                        } if *b == block => Some(failed(*fs)),
                        _ => None,
                    })
                };
                match (&mut ev, e) {
                    (
                        Event::Candidate { failed: f, .. },
                        MEvent::Candidate { block, .. } | MEvent::LateVote { block },
                    ) => {
                        if let Some(fs) = carried(block) {
                            *f = fs;
                        }
                    }
                    (
                        Event::ValidationQuorum { failed: f, .. },
                        MEvent::ValidationQuorum {
                            value: MValue::Valid(v) | MValue::Invalid(v),
                            ..
                        },
                    ) => {
                        let n = &state.nodes[p];
                        if let Some(fs) = carried(sa_model::state::block(n.tip(), n.iteration, v)) {
                            *f = fs;
                        }
                    }
                    _ => {}
                }
                held.record(p, &state.nodes[p], &next.nodes[p], &e);
                let node = observed(model, &next, p, &held.given);
                if let Some((kind, probe, offender)) =
                    equivocation(model, &state, &next, p, &e, &ev)
                {
                    let n = &state.nodes[p];
                    let iteration = match &probe {
                        Event::Vote { iteration, .. } => *iteration,
                        _ => Big(n.iteration.into()),
                    };
                    probes.push(Probe {
                        at: states.len(),
                        kind,
                        state: TraceState {
                            event: probe,
                            sent: Set(vec![Sent::FaultProof {
                                offender: Big(offender as u64),
                                round: Big(n.round().into()),
                                iteration,
                                step: match kind {
                                    "candidate" => Step::Proposal,
                                    "validation" => Step::Validation,
                                    _ => Step::Ratification,
                                },
                            }]),
                            node: node.clone(),
                        },
                    });
                }
                let defect = defect_probe(model, &next, p, states.len(), &node);
                states.push(TraceState {
                    event: ev,
                    sent: Set(out),
                    node,
                });
                probes.extend(defect);
                if let Some(probe) = non_member_vote(model, &next, p) {
                    states.push(TraceState {
                        event: probe,
                        sent: Set(vec![]),
                        node: observed(model, &next, p, &held.given),
                    });
                }
            }
        }
        state = next;
    }
    Some((states, classes, probes))
}

/// The genuine candidate node `p` awaits in `state`, when a defective one would show: the
/// node is in Proposal as a member of the iteration's Validation committee (it votes on a
/// candidate it takes) and not its generator.
fn awaited_candidate(model: &SaModel, state: &State, p: usize) -> Option<String> {
    let n = &state.nodes[p];
    if !n.alive || n.step != MStep::Proposal {
        return None;
    }
    let ctx = model.node_context(&state.root, n);
    let draw = ctx.iterations.get(usize::from(n.iteration))?;
    let g = draw.generator?;
    (g != p && draw.validation.credits(p) > 0)
        .then(|| block_name(sa_model::state::block(n.tip(), n.iteration, 0)))
}

/// A defect probe at the state `at` of a projection, if the node awaits a candidate there.
fn defect_probe(
    model: &SaModel,
    state: &State,
    p: usize,
    at: usize,
    node: &Observed,
) -> Option<Probe> {
    awaited_candidate(model, state, p).map(|block| Probe {
        at,
        kind: "defect",
        state: TraceState {
            event: Event::Defective {
                block,
                defect: String::new(),
            },
            sent: Set(vec![]),
            node: node.clone(),
        },
    })
}

/// The equivocation probe after event `e` (trace form `ev`) at node `p`, if the event leaves
/// `p` in the same round: (kind, the second message, its author).
fn equivocation(
    model: &SaModel,
    before: &State,
    after: &State,
    p: usize,
    e: &MEvent,
    ev: &Event,
) -> Option<(&'static str, Event, usize)> {
    let (n, m) = (&before.nodes[p], &after.nodes[p]);
    if !m.alive || m.tip() != n.tip() {
        return None;
    }
    let first = |bits: u8| (0..model.n()).find(|&q| q != p && bits & (1 << q) != 0);
    let vote = |iteration: u8, step, value, signer: usize| Event::Vote {
        iteration: Big(iteration.into()),
        step,
        value,
        signer: Big(signer as u64),
    };
    match (e, ev) {
        (MEvent::Candidate { block, .. }, Event::Candidate { valid, failed, .. }) => {
            let ctx = model.node_context(&sa_model::state::Root::GENESIS, n);
            let generator = ctx.iterations.get(usize::from(n.iteration))?.generator?;
            let other = sa_model::state::block(n.tip(), n.iteration, 1 - variant_of(*block));
            let probe = Event::Candidate {
                block: block_name(other),
                valid: *valid,
                failed: failed.clone(),
            };
            Some(("candidate", probe, generator))
        }
        (MEvent::ValidationQuorum { value: v, signers }, _) => {
            let other = match v {
                MValue::NoCandidate => Value::Valid { candidate: Big(0) },
                _ => Value::NoCandidate,
            };
            let s = first(*signers)?;
            Some((
                "validation",
                vote(n.iteration, VoteStep::Validation, other, s),
                s,
            ))
        }
        (MEvent::RatificationQuorum { att, .. }, _) if att.value != MValue::NoQuorum => {
            let s = first(att.ratification)?;
            Some((
                "ratification",
                vote(
                    iteration_of(att.slot),
                    VoteStep::Ratification,
                    Value::NoQuorum,
                    s,
                ),
                s,
            ))
        }
        _ => None,
    }
}

/// The equivocation traces of `traces`: for each trace and each kind of probe, its first
/// probe after the prefix that leads to it, with identical traces written once.
fn equivocation_traces(model: &SaModel, runs: &[(usize, Run, String)]) -> Vec<Trace> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for (p, run, from) in runs {
        let Some((states, _, probes)) = project_probes(model, run, *p) else {
            continue;
        };
        let mut kinds = BTreeSet::new();
        for probe in probes {
            if probe.kind == "defect" || !kinds.insert(probe.kind) {
                continue;
            }
            let mut t: Vec<TraceState> = states[..=probe.at].to_vec();
            t.push(probe.state);
            let key = (*p, format!("{t:?}"));
            if !seen.insert(key) {
                continue;
            }
            let k = counts.entry(probe.kind).or_default();
            out.push(Trace {
                name: format!("equivocation-{}-{:03}", probe.kind, *k),
                description: format!(
                    "{from} cut after state {}, then a second {} message of one author: a \
                     fault proof (SLASH-4), nothing else",
                    probe.at, probe.kind
                ),
                node: *p,
                states: t,
                classes: BTreeSet::new(),
            });
            *k += 1;
        }
    }
    out
}

/// The defective-candidate traces (spec/conformance.md, "Defective candidates"): for each
/// defect of [`DEFECTS`], the first state of the class runs where the node under test awaits a
/// candidate in a position the defect applies to, then that candidate with the defect; the
/// node must stay as it was and send nothing.
fn defect_traces(model: &SaModel, runs: &[(usize, Run, String)]) -> Vec<Trace> {
    let mut out = Vec::new();
    let mut todo: Vec<(&str, &str)> = DEFECTS.to_vec();
    for (p, run, from) in runs {
        if todo.is_empty() {
            break;
        }
        let Some((states, _, probes)) = project_probes(model, run, *p) else {
            continue;
        };
        for probe in probes.iter().filter(|probe| probe.kind == "defect") {
            let at = &probe.state.node;
            todo.retain(|&(defect, needs)| {
                if !needs_met(&model.config.protocol, at, needs) {
                    return true;
                }
                let mut t: Vec<TraceState> = states[..=probe.at].to_vec();
                let mut state = probe.state.clone();
                if let Event::Defective { defect: d, block } = &mut state.event {
                    *d = defect.to_string();
                    if defect.starts_with("block-") {
                        // Iteration 0's candidate of the round the node is in.
                        *block = format!("{}.0", block.rsplit_once('.').map_or("", |x| x.0));
                    }
                }
                t.push(state);
                out.push(Trace {
                    name: format!("defect-{defect}"),
                    description: format!(
                        "{from} cut after state {}, then gen(i)'s candidate with one defect \
                         ({defect}): refused, the node unchanged and silent",
                        probe.at
                    ),
                    node: *p,
                    states: t,
                    classes: BTreeSet::new(),
                });
                false
            });
        }
    }
    out
}

/// The traces of candidates at an edge (spec/conformance.md, "Candidates at an edge"): for
/// each edge of [`EDGES`], the first delivery in the class runs of the current iteration's
/// genuine candidate to a Validation member that votes on it and stays in its round, with that
/// candidate replaced by the same one at the edge: the expected outputs and state are the
/// genuine candidate's.
fn edge_traces(model: &SaModel, runs: &[(usize, Run, String)]) -> Vec<Trace> {
    let mut out = Vec::new();
    let mut todo: Vec<(&str, &str)> = EDGES.to_vec();
    for (p, run, from) in runs {
        if todo.is_empty() {
            break;
        }
        let Some((states, _)) = project(model, run, *p) else {
            continue;
        };
        for k in 1..states.len() {
            let (before, at) = (&states[k - 1].node, &states[k]);
            let Event::Candidate {
                block,
                valid: true,
                failed,
            } = &at.event
            else {
                continue;
            };
            let votes = at.sent.0.iter().any(|m| {
                matches!(
                    m,
                    Sent::Vote {
                        step: VoteStep::Validation,
                        ..
                    }
                )
            });
            let current = iteration_of_name(block).map(u64::from) == Some(before.iteration.0)
                && variant_of_name(block) == 0;
            if !votes || !current || at.node.round != before.round {
                continue;
            }
            todo.retain(|&(edge, needs)| {
                if !needs_met(&model.config.protocol, before, needs) {
                    return true;
                }
                let mut t: Vec<TraceState> = states[..k].to_vec();
                t.push(TraceState {
                    event: Event::Edge {
                        block: block.clone(),
                        failed: failed.clone(),
                        edge: edge.to_string(),
                    },
                    sent: at.sent.clone(),
                    node: at.node.clone(),
                });
                out.push(Trace {
                    name: format!("edge-{edge}"),
                    description: format!(
                        "{from} up to state {}, then gen(i)'s candidate at an edge the spec \
                         allows ({edge}) instead of the genuine one: taken as the genuine one",
                        k - 1
                    ),
                    node: *p,
                    states: t,
                    classes: BTreeSet::new(),
                });
                false
            });
        }
    }
    out
}

/// What one breadth-first pass over a model finds.
pub struct Found {
    /// Every reachable transition class, with the node and a shortest run reaching it.
    pub classes: BTreeMap<String, (usize, Run)>,
    /// Every applicable witness of spec/properties.md reached, with a shortest run to a state
    /// where it holds.
    pub witnesses: BTreeMap<&'static str, Run>,
    /// States visited.
    pub visited: usize,
}

/// Projects `run` onto every honest node it moves and adds those traces, named and described
/// by `label(node)`.
fn at_every_node(
    model: &SaModel,
    run: &[Action],
    traces: &mut Vec<Trace>,
    label: impl Fn(usize) -> (String, String),
) -> Result<(), String> {
    for p in 0..model.config.provisioners.len() {
        if model.config.is_byzantine(p) {
            continue;
        }
        let (name, description) = label(p);
        let (states, classes) =
            project(model, run, p).ok_or_else(|| format!("{name}: the run does not replay"))?;
        if states.len() > 1 {
            traces.push(Trace {
                name,
                description,
                node: p,
                states,
                classes,
            });
        }
    }
    Ok(())
}

/// TALLY-2 probe: after an event that leaves node `p` waiting in a voting step, the vote of
/// the first provisioner that is not a member of that step's committee (NoCandidate in
/// Validation, NoQuorum in Ratification: values that need no attached quorum). The model has
/// no such message: the node must send nothing and stay as it was.
fn non_member_vote(model: &SaModel, state: &State, p: usize) -> Option<Event> {
    let node = &state.nodes[p];
    if !node.alive {
        return None;
    }
    let ctx = model.node_context(&sa_model::state::Root::GENESIS, node);
    let draw = ctx.iterations.get(usize::from(node.iteration))?;
    let (committee, step, value) = match node.step {
        MStep::Validation => (&draw.validation, VoteStep::Validation, Value::NoCandidate),
        MStep::Ratification => (&draw.ratification, VoteStep::Ratification, Value::NoQuorum),
        _ => return None,
    };
    let signer = (0..model.n()).find(|&q| q != p && committee.credits(q) == 0)?;
    Some(Event::Vote {
        iteration: Big(node.iteration.into()),
        step,
        value,
        signer: Big(signer as u64),
    })
}

/// Every transition class reachable in `model` and, for each, a shortest run reaching it, and
/// a shortest run to each applicable witness (breadth-first over the whole state space;
/// visited states kept as fingerprints with their parent and action).
pub fn class_runs(model: &SaModel) -> Found {
    class_runs_with(model, &mut |_| true).unwrap_or_else(|| unreachable!("never stopped"))
}

/// [`class_runs`], telling `progress` the states visited every 65,536 of them; None when
/// `progress` returns false (the search stopped, nothing found is kept).
pub fn class_runs_with(model: &SaModel, progress: &mut dyn FnMut(usize) -> bool) -> Option<Found> {
    let hasher = BuildHasherDefault::<sa_model::state::WyHasher>::default();
    let fp = |s: &State| hasher.hash_one(s);
    let mut arena: Vec<(u32, Option<Action>)> = Vec::new();
    let mut seen = HashSet::new();
    let mut queue: VecDeque<(u32, State)> = VecDeque::new();
    for s in model.init_states() {
        if seen.insert(fp(&s)) {
            arena.push((u32::MAX, None));
            queue.push_back((arena.len() as u32 - 1, s));
        }
    }
    let mut found: BTreeMap<String, (usize, u32, Action)> = BTreeMap::new();
    // (ID, condition, the first state where it holds).
    type Witness = (&'static str, fn(&SaModel, &State) -> bool, Option<u32>);
    let mut witnesses: Vec<Witness> = sa_model::properties::SPECS
        .iter()
        .filter(|s| s.kind == Kind::Witness && (s.applies)(&model.config).is_ok())
        .map(|s| (s.id, s.condition, None))
        .collect();
    let mut actions = Vec::new();
    while let Some((i, state)) = queue.pop_front() {
        if i.is_multiple_of(65_536) && !progress(arena.len()) {
            return None;
        }
        for w in witnesses.iter_mut().filter(|w| w.2.is_none()) {
            if (w.1)(model, &state) {
                w.2 = Some(i);
            }
        }
        actions.clear();
        model.actions(&state, &mut actions);
        for a in actions.drain(..) {
            let Some(next) = model.next_state(&state, a) else {
                continue;
            };
            if let Action::Node { p, event: e } = a {
                let p = usize::from(p);
                let c = class(model, p, &state.nodes[p], &e);
                found.entry(c).or_insert((p, i, a));
                for c in label_classes(&state.nodes[p], &next.nodes[p])
                    .into_iter()
                    .chain(ledger_classes(model, &state.nodes[p], &next.nodes[p]))
                {
                    found.entry(c).or_insert((p, i, a));
                }
            }
            if !seen.insert(fp(&next)) {
                continue;
            }
            arena.push((i, Some(a)));
            queue.push_back((arena.len() as u32 - 1, next));
        }
    }
    let path = |mut k: u32| {
        let mut run = vec![];
        while let Some(&(parent, Some(a))) = arena.get(k as usize) {
            run.push(a);
            k = parent;
        }
        run.reverse();
        run
    };
    let classes = found
        .into_iter()
        .map(|(c, (p, i, last))| {
            let mut run = path(i);
            run.push(last);
            (c, (p, run))
        })
        .collect();
    let witnesses = witnesses
        .into_iter()
        .filter_map(|(id, _, at)| Some((id, path(at?))))
        .collect();
    progress(arena.len());
    Some(Found {
        classes,
        witnesses,
        visited: arena.len(),
    })
}

/// `n` seeded random walks (each to a terminal state or `max_depth` actions).
pub fn random_walks(model: &SaModel, n: usize, seed: u64, max_depth: usize) -> Vec<Run> {
    random_walks_from(model, &[], n, seed, max_depth)
}

/// [`random_walks`] that each start with `prefix` (actions of the model from its initial
/// state) and continue at random up to `max_depth` actions in all; none if the prefix does
/// not replay.
pub fn random_walks_from(
    model: &SaModel,
    prefix: &[Action],
    n: usize,
    seed: u64,
    max_depth: usize,
) -> Vec<Run> {
    let start = model
        .init_states()
        .into_iter()
        .next()
        .and_then(|s0| prefix.iter().try_fold(s0, |s, a| model.next_state(&s, *a)));
    let Some(start) = start else {
        return Vec::new();
    };
    let mut runs = Vec::new();
    for w in 0..n {
        let mut r = sa_testkit::campaign::Rng::new(seed, w as u64);
        let mut state = start.clone();
        let mut run = prefix.to_vec();
        let mut actions = Vec::new();
        while run.len() < max_depth {
            actions.clear();
            model.actions(&state, &mut actions);
            if actions.is_empty() {
                break;
            }
            let a = actions[r.below(actions.len() as u64) as usize];
            let Some(next) = model.next_state(&state, a) else {
                break;
            };
            run.push(a);
            state = next;
        }
        runs.push(run);
    }
    runs
}

/// Gives every sum-type value without a payload ITF's empty tuple (`"value": {"#tup": []}`),
/// as Quint writes them (serde omits it for unit variants; the `itf` reader accepts both).
fn unit_values(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Object(m) => {
            if m.contains_key("tag") && !m.contains_key("value") {
                m.insert("value".into(), serde_json::json!({"#tup": []}));
            }
            m.values_mut().for_each(unit_values);
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(unit_values),
        _ => {}
    }
}

/// The ITF JSON of a trace (deterministic: sorted keys, no timestamps).
pub fn to_itf(model: &SaModel, preset: &str, t: &Trace) -> serde_json::Value {
    let config = serde_json::to_string(&model.config).unwrap_or_default();
    serde_json::json!({
        "#meta": {
            "format": "ITF",
            "format-description": "https://apalache-mc.org/docs/adr/015adr-trace.html",
            "source": "sa-model",
            "format_version": FORMAT_VERSION,
            "description": t.description,
            "preset": preset,
            "node": t.node.to_string(),
            "config": config,
        },
        "params": [],
        "vars": ["event", "sent", "node"],
        "states": t.states.iter().enumerate().map(|(k, s)| {
            let mut v = serde_json::to_value(s).unwrap_or_default();
            unit_values(&mut v);
            v["#meta"] = serde_json::json!({"index": k});
            v
        }).collect::<Vec<_>>(),
    })
}

/// The run a counterexample or witness path of `sa check` took, from its steps' action objects
/// (the JSON of each model action, as the check report stores them): at each state the enabled
/// action with that JSON is taken. Err names the first step no enabled action matches.
pub fn run_of_path(model: &SaModel, actions: &[serde_json::Value]) -> Result<Run, String> {
    let mut state = model
        .init_states()
        .into_iter()
        .next()
        .ok_or("the model has no initial state")?;
    let mut run = Vec::with_capacity(actions.len());
    let mut enabled = Vec::new();
    for (k, want) in actions.iter().enumerate() {
        enabled.clear();
        model.actions(&state, &mut enabled);
        let a = enabled
            .iter()
            .copied()
            .find(|a| serde_json::to_value(a).ok().as_ref() == Some(want))
            .ok_or_else(|| format!("step {}: no enabled action is {want}", k + 1))?;
        state = model
            .next_state(&state, a)
            .ok_or_else(|| format!("step {}: the action changes nothing", k + 1))?;
        run.push(a);
    }
    Ok(run)
}

/// `run` projected onto every honest node it moves, each written as `DIR/{stem}-p{P}.itf.json`
/// (the form `sa conform` replays); returns the files written.
pub fn write_run(
    model: &SaModel,
    preset: &str,
    run: &[Action],
    dir: &Path,
    stem: &str,
    description: &str,
) -> Result<Vec<std::path::PathBuf>, String> {
    let mut traces = Vec::new();
    at_every_node(model, run, &mut traces, |p| {
        (format!("{stem}-p{p}"), format!("{description} at P{p}"))
    })?;
    traces
        .iter()
        .map(|t| write_trace(model, preset, dir, t))
        .collect()
}

/// Writes `t` as `DIR/{name}.itf.json`; returns its path.
fn write_trace(
    model: &SaModel,
    preset: &str,
    dir: &Path,
    t: &Trace,
) -> Result<std::path::PathBuf, String> {
    let text =
        serde_json::to_string_pretty(&to_itf(model, preset, t)).map_err(|e| e.to_string())?;
    let path = dir.join(format!("{}.itf.json", t.name));
    std::fs::write(&path, text + "\n").map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// What `export` did.
pub struct Exported {
    /// Traces written.
    pub traces: Vec<Trace>,
    /// Every reachable class, with how many traces hit it.
    pub coverage: BTreeMap<String, usize>,
    /// States the class search visited.
    pub states_visited: usize,
    /// Every applicable witness the search reached, with how many traces follow its run (one
    /// per honest node it moves); an applicable witness the model never reaches is absent.
    pub witnesses: BTreeMap<String, usize>,
}

/// Where [`export_with`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The breadth-first class search: states visited so far.
    Exploring {
        /// States visited.
        states: usize,
    },
    /// Traces written so far, of how many.
    Writing {
        /// Written.
        done: usize,
        /// To write.
        total: usize,
    },
}

/// Why [`export_with`] stopped without its traces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The progress callback asked to stop (Ctrl-C); files already written are the caller's
    /// to remove.
    Interrupted,
    /// A run did not replay or a file could not be written.
    Failed(String),
}

impl std::fmt::Display for ExportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Interrupted => f.write_str("interrupted"),
            Self::Failed(e) => f.write_str(e),
        }
    }
}

impl From<String> for ExportError {
    fn from(e: String) -> Self {
        Self::Failed(e)
    }
}

/// Selects the class runs and `walks` random walks of `model`, projects them and writes one
/// `.itf.json` per trace into `dir` (which must exist). Deterministic.
pub fn export(
    model: &SaModel,
    preset: &str,
    dir: &Path,
    walks: usize,
    seed: u64,
) -> Result<Exported, String> {
    export_with(model, preset, dir, walks, seed, &mut |_| true).map_err(|e| e.to_string())
}

/// [`export`], telling `progress` where it is; it stops with [`ExportError::Interrupted`]
/// when `progress` returns false.
pub fn export_with(
    model: &SaModel,
    preset: &str,
    dir: &Path,
    walks: usize,
    seed: u64,
    progress: &mut dyn FnMut(Stage) -> bool,
) -> Result<Exported, ExportError> {
    let Found {
        classes: runs,
        witnesses,
        visited,
    } = class_runs_with(model, &mut |states| progress(Stage::Exploring { states }))
        .ok_or(ExportError::Interrupted)?;
    let mut traces = Vec::new();
    for (k, (c, (p, run))) in runs.iter().enumerate() {
        let (states, classes) =
            project(model, run, *p).ok_or_else(|| format!("class {c}: the run does not replay"))?;
        traces.push(Trace {
            name: format!("class-{k:03}"),
            description: format!("shortest run to the class {c} at P{p}"),
            node: *p,
            states,
            classes,
        });
    }
    // The equivocation probes, from the class runs.
    let class_list: Vec<(usize, Run, String)> = runs
        .iter()
        .enumerate()
        .map(|(k, (_, (p, run)))| (*p, run.clone(), format!("class-{k:03}")))
        .collect();
    traces.extend(equivocation_traces(model, &class_list));
    traces.extend(defect_traces(model, &class_list));
    let walk_list = random_walks(model, walks, seed, 200);
    // Edges from the class runs first, then from the random walks (a proof exactly one epoch
    // old needs a candidate delivered past the first epoch, which few class runs reach).
    let mut edge_runs = class_list.clone();
    for (w, run) in walk_list.iter().enumerate() {
        for p in (0..model.n()).filter(|&p| !model.config.is_byzantine(p)) {
            edge_runs.push((p, run.clone(), format!("walk-{w:04}-p{p}")));
        }
    }
    traces.extend(edge_traces(model, &edge_runs));
    // Each witness's shortest run, then each random walk, at every honest node it moves.
    for (id, run) in &witnesses {
        let name = id.trim_start_matches("WIT-").to_lowercase();
        at_every_node(model, run, &mut traces, |p| {
            (
                format!("witness-{name}-p{p}"),
                format!("shortest run to the witness {id}, at P{p}"),
            )
        })?;
    }
    for (w, run) in walk_list.iter().enumerate() {
        at_every_node(model, run, &mut traces, |p| {
            (
                format!("walk-{w:04}-p{p}"),
                format!("random walk {w} (seed {seed}) at P{p}"),
            )
        })?;
    }
    let mut coverage: BTreeMap<String, usize> = runs.keys().map(|c| (c.clone(), 0)).collect();
    for t in &traces {
        for c in &t.classes {
            *coverage.entry(c.clone()).or_default() += 1;
        }
    }
    let total = traces.len();
    for (done, t) in traces.iter().enumerate() {
        if !progress(Stage::Writing { done, total }) {
            return Err(ExportError::Interrupted);
        }
        write_trace(model, preset, dir, t)?;
    }
    let mut witness_traces: BTreeMap<String, usize> =
        witnesses.keys().map(|id| (id.to_string(), 0)).collect();
    for t in &traces {
        if let Some(id) = t.description.strip_prefix("shortest run to the witness ") {
            if let Some(id) = id.split(',').next() {
                *witness_traces.entry(id.to_string()).or_default() += 1;
            }
        }
    }
    Ok(Exported {
        traces,
        coverage,
        states_visited: visited,
        witnesses: witness_traces,
    })
}
