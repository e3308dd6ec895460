//! The Stateright model: the honest nodes' handlers (`crate::node`) composed with the network
//! and the adversary. Every action is one event at one node, or a fault, and names its actor.
//!
//! Per-node views: a message sent is available to every node, but each node decides for itself
//! when (and whether, before its timer) it acts on it, and which quorum it holds. Byzantine
//! provisioners have no node state: like the faulty processes of the Tendermint accountability
//! specs, their votes are present from the start: every tally counts a Byzantine committee
//! member's credits for whatever value is tallied, so two nodes may hold quorums on different
//! values of one step, each with the Byzantine signer in it (an equivocation only a node that
//! holds both can prove).

use std::sync::Arc;

use serde::Serialize;
use stateright::{Model, Property};

use crate::config::Config;
use crate::context::{Context, Contexts, IterationDraw, LedgerBlock};
use crate::mutations::{Hits, Mutation};
use crate::node::{handle, skip_idle_steps, Event};
use crate::sortition::Committee;
use crate::state::{
    block, iteration_of, parent_of, round_of, slot, variant_of, Att, BlockId, FailSet, Msg, Node,
    State, Step, Value, VoteStep,
};

/// One step of the model: an event at one honest node, a fault, or an adversary move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Action {
    /// `event` happens at honest provisioner `p`.
    Node {
        /// Who.
        p: u8,
        /// What.
        event: Event,
    },
    /// Byzantine gen(i) `p` broadcasts candidate `block` (a second, different one when
    /// `variant_of(block) == 1`); which nodes receive it, and when, is up to delivery.
    ByzantinePropose {
        /// The Byzantine generator.
        p: u8,
        /// The candidate.
        block: BlockId,
        /// The failed_iterations it carries: every Fail attestation that can be formed.
        failed: FailSet,
    },
    /// Unbounded model with `faults.rejoin` only: absent provisioner `p` comes back, holding
    /// the common Final chain, and starts the round above it (never in the bounded model).
    Rejoin {
        /// Who.
        p: u8,
    },
}

impl Action {
    /// The provisioner that acts.
    pub fn actor(&self) -> u8 {
        match *self {
            Action::Node { p, .. } | Action::ByzantinePropose { p, .. } | Action::Rejoin { p } => p,
        }
    }
}

/// The model of one configuration.
#[derive(Clone, Debug)]
pub struct SaModel {
    /// The configuration checked.
    pub config: Config,
    contexts: Contexts,
    /// Mutated rules that changed a decision (shared by every thread).
    pub hits: Hits,
    /// Set to stop the search: no state is expanded any more (our own timeout; Stateright's
    /// is only seen by a thread that runs out of work, so a single thread never stops).
    pub stop: Arc<std::sync::atomic::AtomicBool>,
    /// Witnesses reached so far in this search (bit k: `properties::SPECS[k]`).
    pub witnessed: Arc<std::sync::atomic::AtomicU64>,
    /// What the search found about liveness: transitions that did not increase the progress
    /// rank (`crate::live::rank`), stuck states past the bound, worst iterations per round.
    pub live: Arc<crate::live::LiveCounters>,
    /// Unbounded model (`crate::unbounded`): the draws of a height depend on the block below
    /// it only (its iteration and failed_iterations, or the node's anchor), as if that block
    /// were at height 1, so that dropping Final heights never changes a draw.
    pub tip_only: bool,
}

impl SaModel {
    /// The model of `config` (which must be valid).
    pub fn new(config: Config) -> SaModel {
        SaModel::with_contexts(config, Contexts::default())
    }

    fn with_contexts(config: Config, contexts: Contexts) -> SaModel {
        let hits = contexts.hits.clone();
        SaModel {
            config,
            contexts,
            hits,
            stop: Default::default(),
            witnessed: Default::default(),
            live: Default::default(),
            tip_only: false,
        }
    }

    /// The largest credits the provisioners in `mask` hold together in one committee of any
    /// round context computed so far.
    pub fn max_credits_of(&self, mask: u8) -> u32 {
        self.contexts.max_credits_of(mask)
    }

    /// The model of `config` whose first round uses the given draws (gen(i), Validation,
    /// Ratification per iteration) instead of its seed's: to check every allowed draw.
    pub fn with_first_round(config: Config, profile: &crate::draws::Profile) -> SaModel {
        let n = config.provisioners.len();
        let hits = Hits::default();
        let genesis = Contexts::default().get(&config, &[]);
        let drawable = genesis.weights[..n].iter().filter(|&&w| w > 0).count();
        let draws = profile
            .iter()
            .enumerate()
            .map(|(i, &(generator, validation, ratification))| {
                let next = profile.get(i + 1).and_then(|d| d.0);
                IterationDraw {
                    generator,
                    excluded: crate::context::exclusions(&config, drawable, generator, next, &hits),
                    validation,
                    ratification,
                }
            })
            .collect();
        let contexts = Contexts::with_first_round(&config, draws, hits);
        SaModel::with_contexts(config, contexts)
    }

    /// Number of provisioners.
    pub fn n(&self) -> usize {
        self.config.provisioners.len()
    }

    /// Context of a ledger-block prefix.
    pub fn context(&self, chain: &[LedgerBlock]) -> Arc<Context> {
        self.contexts.get(&self.config, chain)
    }

    /// A property's verdict on one chain, computed once per thread ([`Contexts::memo`]).
    pub fn memo(&self, tag: u8, chain: &[LedgerBlock], f: impl FnOnce() -> bool) -> bool {
        self.contexts.memo(tag, chain, f)
    }

    /// Context in which `node` decides its current round.
    pub fn node_context(&self, node: &Node) -> Arc<Context> {
        if self.tip_only {
            let blocks = crate::context::ledger_blocks(&node.chain);
            return self.contexts.get_tip(
                &self.config,
                node.base,
                node.anchor,
                node.seed_class,
                &blocks,
            );
        }
        self.contexts.of_chain(&self.config, &node.chain)
    }

    /// Unbounded model: registers a ledger carried across a dropped height; its id.
    pub fn register_base(&self, ledger: crate::ledger::Ledger) -> u64 {
        self.contexts.register_base(ledger)
    }

    /// Unbounded model: the context of a relative chain above the carried ledger `base` and
    /// the last dropped block `anchor` (see `Contexts::get_tip`).
    pub fn tip_context(
        &self,
        base: u64,
        anchor: Option<LedgerBlock>,
        class: u8,
        chain: &[LedgerBlock],
    ) -> Arc<Context> {
        self.contexts
            .get_tip(&self.config, base, anchor, class, chain)
    }

    /// Context of the block id `parent` (ancestors' failed_iterations read from the pool).
    pub fn path_context(&self, state: &State, parent: BlockId) -> Arc<Context> {
        let r = round_of(parent);
        let mut blocks = [(0u8, FailSet::default()); 8];
        let mut id = 0;
        for k in 1..=r {
            let nib = ((parent >> (4 * (u32::from(k) - 1))) & 0xF) as u8 - 1;
            id = block(id, nib / 2, nib % 2);
            let failed = candidate(state, id).map_or(FailSet::default(), |(_, f)| f);
            blocks[usize::from(k) - 1] = (nib / 2, failed);
        }
        if self.tip_only {
            let anchor = state.nodes.iter().find_map(|n| n.anchor);
            let base = state.nodes.iter().map(|n| n.base).max().unwrap_or(0);
            let class = state.nodes.iter().map(|n| n.seed_class).max().unwrap_or(0);
            return self.contexts.get_tip(
                &self.config,
                base,
                anchor,
                class,
                &blocks[..usize::from(r)],
            );
        }
        self.context(&blocks[..usize::from(r)])
    }

    /// Draws of the slot `s`.
    pub fn slot_draw(&self, state: &State, s: BlockId) -> Option<IterationDraw> {
        self.path_context(state, parent_of(s))
            .iterations
            .get(usize::from(iteration_of(s)))
            .cloned()
    }

    /// Threshold a node uses for `value` (QUORUM-1/2).
    pub fn threshold(&self, value: Value) -> u32 {
        let reference = if value.is_valid() {
            self.config.supermajority()
        } else {
            self.config.majority()
        };
        if self.config.has(Mutation::ValidThresholdBelowMajority) {
            let t = (self.config.protocol.committee_credits / 2).max(1);
            if t != reference {
                self.hits.hit(Mutation::ValidThresholdBelowMajority);
            }
            t
        } else {
            reference
        }
    }

    /// TALLY-1..3: a quorum on `value` for (`slot`, `step`) that a node can hold, as the
    /// smallest set of signers in key order, honest senders first, then Byzantine members
    /// (the adversary shows a node no more of its votes than needed): `None` if the honest
    /// votes sent plus every Byzantine member's credits stay below the threshold.
    pub fn quorum_signers(
        &self,
        state: &State,
        viewer: Option<usize>,
        committee: &Committee,
        s: BlockId,
        step: VoteStep,
        value: Value,
    ) -> Option<u8> {
        let threshold = self.threshold(value);
        let known = viewer.map_or(0, |n| {
            self.known_equivocators(state, n, committee, s, step, value)
        });
        let mut credits = 0;
        let mut signers = 0u8;
        let byz = self.config.byzantine_mask();
        let voted = state.pool.voters(s, step, value);
        for pass in [false, true] {
            for v in 0..self.n() {
                if credits >= threshold {
                    return Some(signers);
                }
                let is_byz = byz & (1 << v) != 0;
                if is_byz != pass {
                    continue;
                }
                let c = committee.credits(v);
                let counted = if is_byz {
                    if known & (1 << v) != 0 {
                        0
                    } else {
                        c
                    }
                } else if voted & (1 << v) != 0 {
                    if c == 0 && self.config.has(Mutation::CountNonMembers) {
                        self.hits.hit(Mutation::CountNonMembers);
                        1
                    } else {
                        c
                    }
                } else {
                    0
                };
                if counted > 0 {
                    credits += counted;
                    signers |= 1 << v;
                }
            }
        }
        (credits >= threshold).then_some(signers)
    }

    /// The actions of `state` (Stateright's `actions`); with `first`, stops at the first one
    /// found (the caller only asks whether there is any).
    fn actions_until(&self, state: &State, actions: &mut Vec<Action>, first: bool) {
        let can_crash = self.crashed(state) < self.config.faults.absent;
        // TIME-4: after GST delivery is synchronous and the nodes past GST are run one at a
        // time, in key order. Before GST every interleaving is explored.
        let mut scheduled_post_gst = false;
        let mut events = Vec::new();
        for (p, node) in state.nodes.iter().enumerate() {
            if !node.alive || self.config.is_byzantine(p) {
                continue;
            }
            let post_gst = self.post_gst(node);
            if can_crash && !post_gst {
                actions.push(Action::Node {
                    p: p as u8,
                    event: Event::Crash,
                });
                if first {
                    return;
                }
            }
            if post_gst && scheduled_post_gst {
                continue;
            }
            events.clear();
            self.node_events(state, p, &mut events);
            if post_gst && !events.is_empty() {
                scheduled_post_gst = true;
            }
            actions.extend(
                events
                    .drain(..)
                    .map(|event| Action::Node { p: p as u8, event }),
            );
            if first && !actions.is_empty() {
                return;
            }
        }
        self.byzantine_moves(state, actions);
    }

    /// Whether any action is possible in `state` (none: a stuck state).
    pub fn has_action(&self, state: &State) -> bool {
        let mut actions = Vec::new();
        self.actions_until(state, &mut actions, true);
        !actions.is_empty()
    }

    /// TALLY-3 at node `n`: the Byzantine members whose vote on `value` node `n` must not count
    /// because it holds an attestation of the same slot on another value that needed that
    /// member's vote in this step (the honest votes of that value and the other Byzantine
    /// members' credits do not reach its threshold): `n` holds both of its votes, a fault
    /// proof. A member that was not needed may have been left out of what `n` received, so it
    /// still counts (the adversary's best case).
    pub fn known_equivocators(
        &self,
        state: &State,
        n: usize,
        committee: &Committee,
        s: BlockId,
        step: VoteStep,
        value: Value,
    ) -> u8 {
        let byz = self.config.byzantine_mask();
        if byz == 0 {
            return 0;
        }
        let mut known = 0u8;
        for &(slot_id, other) in &state.nodes[n].held {
            if slot_id != s || other == value {
                continue;
            }
            if step == VoteStep::Validation && other == Value::NoQuorum {
                continue;
            }
            let threshold = self.threshold(other);
            let voted = state.pool.voters(s, step, other);
            let honest: u32 = committee
                .members()
                .filter(|&q| byz & (1 << q) == 0 && voted & (1 << q) != 0)
                .map(|q| committee.credits(q))
                .sum();
            let byz_total: u32 = committee
                .members()
                .filter(|&q| byz & (1 << q) != 0)
                .map(|q| committee.credits(q))
                .sum();
            for b in committee.members().filter(|&q| byz & (1 << q) != 0) {
                if honest + byz_total - committee.credits(b) < threshold {
                    known |= 1 << b;
                }
            }
        }
        known
    }

    /// The attestation on `value` a node can form for slot `s` (ATT-1): Ratification quorum,
    /// plus the Validation quorum on the same value (none for NoQuorum).
    pub fn attestation(
        &self,
        state: &State,
        viewer: Option<usize>,
        draw: &IterationDraw,
        s: BlockId,
        value: Value,
    ) -> Option<Att> {
        let ratification = self.quorum_signers(
            state,
            viewer,
            &draw.ratification,
            s,
            VoteStep::Ratification,
            value,
        )?;
        let validation = if value == Value::NoQuorum {
            0
        } else {
            self.quorum_signers(
                state,
                viewer,
                &draw.validation,
                s,
                VoteStep::Validation,
                value,
            )?
        };
        Some(Att {
            slot: s,
            value,
            validation,
            ratification,
        })
    }

    /// The Success attestation of candidate `b` a node can form, if the candidate exists.
    pub fn success(
        &self,
        state: &State,
        viewer: Option<usize>,
        b: BlockId,
    ) -> Option<(Att, FailSet)> {
        let (valid, failed) = candidate(state, b)?;
        let _ = valid;
        let s = slot(parent_of(b), iteration_of(b));
        let draw = self.slot_draw(state, s)?;
        let att = self.attestation(state, viewer, &draw, s, Value::Valid(variant_of(b)))?;
        Some((att, failed))
    }

    /// TALLY-4: a node counts its own vote as soon as it casts it, so a quorum its own credits
    /// reach alone is held at once, in the same step as the vote (not as a later event another
    /// event could overtake). Applies such quorums to node `p` until none is left.
    pub fn own_quorums(&self, state: &mut State, p: usize) {
        let dusk = self.config.has(Mutation::DuskAsyncOwnVote);
        loop {
            let node = &state.nodes[p];
            if !node.alive {
                return;
            }
            let step = match node.step {
                Step::Validation => VoteStep::Validation,
                Step::Ratification => VoteStep::Ratification,
                _ => return,
            };
            let (tip, it) = (node.tip(), node.iteration);
            let s = slot(tip, it);
            let ctx = self.node_context(node);
            let Some(draw) = ctx.iterations.get(usize::from(it)) else {
                return;
            };
            let committee = match step {
                VoteStep::Validation => &draw.validation,
                VoteStep::Ratification => &draw.ratification,
            };
            let own = committee.credits(p);
            let value = Self::values(state, s, true).find(|&value| {
                own >= self.threshold(value)
                    && state.pool.contains(&Msg::Vote {
                        slot: s,
                        step,
                        value,
                        voter: p as u8,
                    })
            });
            let Some(value) = value else {
                return;
            };
            if dusk {
                // The quorum stays a later event (offered by `node_events`, with this node
                // among its signers).
                self.hits.hit(Mutation::DuskAsyncOwnVote);
                return;
            }
            let event = match step {
                VoteStep::Validation => Event::ValidationQuorum {
                    value,
                    signers: 1 << p,
                },
                VoteStep::Ratification => {
                    let validation = if value == Value::NoQuorum {
                        0
                    } else {
                        match self.quorum_signers(
                            state,
                            Some(p),
                            &draw.validation,
                            s,
                            VoteStep::Validation,
                            value,
                        ) {
                            Some(signers) => signers,
                            None => return,
                        }
                    };
                    let failed = match value {
                        Value::Valid(v) => {
                            candidate(state, block(tip, it, v)).map_or(FailSet::default(), |c| c.1)
                        }
                        _ => FailSet::default(),
                    };
                    Event::RatificationQuorum {
                        att: Att {
                            slot: s,
                            value,
                            validation,
                            ratification: 1 << p,
                        },
                        failed,
                    }
                }
            };
            let (node, out) = handle(self, p, &state.nodes[p], &event);
            state.nodes[p] = node;
            state.pool.extend(out);
        }
    }

    /// The vote values that can be tallied for slot `s` in `step`: the fixed ones and
    /// Valid/Invalid of every candidate sent for the slot.
    fn values(state: &State, s: BlockId, ratification: bool) -> impl Iterator<Item = Value> {
        // At most 6 values: a fixed array, no allocation (called on every transition).
        let mut values = [Value::NoCandidate; 6];
        let mut n = 1;
        for v in 0..2 {
            if candidate(state, block(parent_of(s), iteration_of(s), v)).is_some() {
                values[n] = Value::Valid(v);
                values[n + 1] = Value::Invalid(v);
                n += 2;
            }
        }
        if ratification {
            values[n] = Value::NoQuorum;
            n += 1;
        }
        values.into_iter().take(n)
    }

    /// Whether iteration `it` is an emergency iteration (EMERG-1).
    pub fn emergency(&self, it: u8) -> bool {
        let e = self
            .config
            .protocol
            .emergency_iteration
            .is_some_and(|e| it >= e);
        if e && self.config.has(Mutation::IgnoreEmergency) {
            self.hits.hit(Mutation::IgnoreEmergency);
            return false;
        }
        e
    }

    /// Whether the network is synchronous for `node` (it is at or past the GST round).
    pub fn post_gst(&self, node: &Node) -> bool {
        let gst = self.config.faults.gst_round;
        gst != 0 && node.round() >= gst
    }

    /// Whether `p`'s timer of `step` may fire now. Before GST (with early timers) any time;
    /// after GST only when on time (TIME-3): nothing that could complete the step can still
    /// arrive. For Proposal: no candidate, and gen(i) is not an honest node that may still
    /// propose (a Byzantine generator may withhold for ever). For a vote step: no quorum can be
    /// held, and every honest member that has not voted is absent or past the step.
    pub fn timer_may_fire(&self, state: &State, p: usize, step: Step) -> bool {
        let node = &state.nodes[p];
        if !self.post_gst(node) && self.config.faults.early_timers {
            return true;
        }
        let (tip, j, r) = (node.tip(), node.iteration, node.round());
        let s = slot(tip, j);
        let ctx = self.node_context(node);
        let draw = &ctx.iterations[usize::from(j)];
        let honest = |q: usize| !self.config.is_byzantine(q);
        let may_still = |q: usize, before: Step| may_still_act(state, q, tip, r, j, before);
        match step {
            Step::Proposal => {
                let any_candidate = (0..2).any(|v| candidate(state, block(tip, j, v)).is_some());
                let gen_pending = draw
                    .generator
                    .is_some_and(|g| honest(g) && may_still(g, Step::Proposal));
                if !any_candidate && !gen_pending && self.config.has(Mutation::NoProposalTimeout) {
                    // Waits for an offline generator too.
                    if draw
                        .generator
                        .is_some_and(|g| honest(g) && !state.nodes[g].alive)
                    {
                        self.hits.hit(Mutation::NoProposalTimeout);
                        return false;
                    }
                }
                if gen_pending
                    && draw.generator == Some(p)
                    && self.config.has(Mutation::GeneratorMaySkip)
                {
                    self.hits.hit(Mutation::GeneratorMaySkip);
                    return !any_candidate;
                }
                !any_candidate && !gen_pending
            }
            Step::Validation | Step::Ratification => {
                let ratification = step == Step::Ratification;
                let available = Self::values(state, s, ratification).any(|v| {
                    if ratification {
                        self.attestation(state, Some(p), draw, s, v).is_some()
                    } else {
                        self.quorum_signers(
                            state,
                            Some(p),
                            &draw.validation,
                            s,
                            VoteStep::Validation,
                            v,
                        )
                        .is_some()
                    }
                });
                if available {
                    return false;
                }

                let (committee, vstep, before) = if ratification {
                    (&draw.ratification, VoteStep::Ratification, Step::Validation)
                } else {
                    (&draw.validation, VoteStep::Validation, Step::Proposal)
                };
                let on_time = committee.members().all(|q| {
                    !honest(q) || votes_cast(state, s, vstep, q as u8) > 0 || !may_still(q, before)
                });
                if !on_time && self.config.has(Mutation::ImpatientTimers) {
                    self.hits.hit(Mutation::ImpatientTimers);
                    return true;
                }
                on_time
            }
            Step::Open | Step::Done => false,
        }
    }

    /// Every event the network offers honest node `p` now.
    pub fn node_events(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        let node = &state.nodes[p];
        let (tip, it) = (node.tip(), node.iteration);
        let s = slot(tip, it);
        if node.step != Step::Done {
            let ctx = self.node_context(node);
            let draw = &ctx.iterations[usize::from(it)];
            match node.step {
                Step::Proposal => {
                    let own = candidate(state, s).is_some();
                    if draw.generator == Some(p) && !own {
                        out.push(Event::Propose { valid: true });
                        if state.invalid_used < self.config.faults.invalid_candidates {
                            out.push(Event::Propose { valid: false });
                        }
                    }
                    for v in 0..2 {
                        let b = block(tip, it, v);
                        if let Some((valid, _)) = candidate(state, b) {
                            out.push(Event::Candidate { block: b, valid });
                        }
                    }
                    if self.timer_may_fire(state, p, Step::Proposal) {
                        out.push(Event::Timeout {
                            step: Step::Proposal,
                        });
                    }
                }
                Step::Validation => {
                    for value in Self::values(state, s, false) {
                        if let Some(signers) = self.quorum_signers(
                            state,
                            Some(p),
                            &draw.validation,
                            s,
                            VoteStep::Validation,
                            value,
                        ) {
                            out.push(Event::ValidationQuorum { value, signers });
                        }
                    }
                    if self.timer_may_fire(state, p, Step::Validation) {
                        out.push(Event::Timeout {
                            step: Step::Validation,
                        });
                    }
                }
                Step::Ratification => {
                    // EMERG-1: no Fail attestations in an emergency iteration.
                    let emergency = self.emergency(it);
                    for value in Self::values(state, s, true) {
                        if emergency && !value.is_valid() {
                            continue;
                        }
                        if let Some(att) = self.attestation(state, Some(p), draw, s, value) {
                            let failed = match value {
                                Value::Valid(v) => candidate(state, block(tip, it, v))
                                    .map_or(FailSet::default(), |c| c.1),
                                _ => FailSet::default(),
                            };
                            out.push(Event::RatificationQuorum { att, failed });
                        }
                    }
                    if self.timer_may_fire(state, p, Step::Ratification) {
                        out.push(Event::Timeout {
                            step: Step::Ratification,
                        });
                    }
                }
                Step::Open | Step::Done => {}
            }
            // Success attestations of earlier iterations of this round (all, when Open).
            let upto = if node.step == Step::Open {
                self.config.protocol.max_iterations
            } else {
                it
            };
            for j in 0..upto {
                for v in 0..2 {
                    if let Some((att, failed)) = self.success(state, Some(p), block(tip, j, v)) {
                        out.push(Event::PastSuccess { att, failed });
                    }
                }
            }
            self.late_votes(state, p, out);
            if self.config.has(Mutation::DoubleVote) && node.step == Step::Validation {
                let voted_no_candidate = state.pool.contains(&Msg::Vote {
                    slot: s,
                    step: VoteStep::Validation,
                    value: Value::NoCandidate,
                    voter: p as u8,
                });
                let b = block(tip, it, 0);
                if voted_no_candidate
                    && candidate(state, b).is_some()
                    && votes_cast(state, s, VoteStep::Validation, p as u8) == 1
                {
                    out.push(Event::Revote { block: b });
                }
            }
        }
        self.fork_choice(state, p, out);
    }

    /// EMERG-1: emergency iterations stay open. For each emergency iteration the node has left
    /// (or whose Proposal step it has left without a candidate) whose valid candidate is now
    /// there, a Validation member that has not voted there votes Valid.
    fn late_votes(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        let Some(e) = self.config.protocol.emergency_iteration else {
            return;
        };
        if self.config.has(Mutation::IgnoreEmergency) {
            return;
        }
        let node = &state.nodes[p];
        let (tip, it) = (node.tip(), node.iteration);
        let last = match node.step {
            Step::Proposal => it,
            Step::Validation | Step::Ratification => it + 1,
            Step::Open => self.config.protocol.max_iterations,
            Step::Done => return,
        };
        if e >= last {
            return;
        }
        let ctx = self.node_context(node);
        for j in e..last {
            let member = ctx
                .iterations
                .get(usize::from(j))
                .is_some_and(|d| d.validation.credits(p) > 0);
            if !member || votes_cast(state, slot(tip, j), VoteStep::Validation, p as u8) > 0 {
                continue;
            }
            for v in 0..2 {
                let b = block(tip, j, v);
                if candidate(state, b).is_some_and(|(valid, _)| valid) {
                    out.push(Event::LateVote { block: b });
                }
            }
        }
    }

    /// FORK-1: a Success of a strictly lower iteration on the parent of a block this node
    /// holds above its last Final block.
    fn fork_choice(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        if self.config.has(Mutation::NoFallback) {
            let before = out.len();
            self.fork_choice_reference(state, p, out);
            if out.len() > before {
                self.hits.hit(Mutation::NoFallback);
                out.truncate(before);
            }
            return;
        }
        self.fork_choice_reference(state, p, out);
    }

    /// FORK-1 as the spec states it (and the mutations that change it).
    fn fork_choice_reference(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        let node = &state.nodes[p];
        let final_height = node.final_height();
        let any_iteration = self.config.has(Mutation::FallbackAnyIteration)
            || self.config.has(Mutation::DuskStalledRecovery);
        let ignore_final = self.config.has(Mutation::DuskStalledRecovery);
        for h in 1..=node.chain.len() {
            let below_final = h <= final_height;
            if below_final && !ignore_final {
                continue;
            }
            let have = node.chain[h - 1].iteration;
            let parent = node.block_at(h - 1);
            for j in 0..self.config.protocol.max_iterations {
                let allowed = if any_iteration { j != have } else { j < have };
                if !allowed {
                    continue;
                }
                for v in 0..2 {
                    if let Some((att, failed)) = self.success(state, Some(p), block(parent, j, v)) {
                        if j >= have {
                            self.hits.hit(Mutation::FallbackAnyIteration);
                        }
                        if below_final {
                            self.hits.hit(Mutation::DuskStalledRecovery);
                        }
                        out.push(Event::Fallback {
                            height: h as u8,
                            att,
                            failed,
                        });
                    }
                }
            }
        }
    }

    /// The candidates a Byzantine generator can broadcast now: for each slot an honest node is
    /// deciding whose gen(i) is Byzantine, each of two different candidates not yet sent.
    fn byzantine_moves(&self, state: &State, out: &mut Vec<Action>) {
        if self.config.faults.byzantine.is_empty() {
            return;
        }
        let mut slots: Vec<(BlockId, u8)> = state
            .nodes
            .iter()
            .filter(|n| {
                n.alive
                    && matches!(
                        n.step,
                        Step::Proposal | Step::Validation | Step::Ratification
                    )
            })
            .map(|n| (n.tip(), n.iteration))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        for (tip, it) in slots {
            let ctx = self.path_context(state, tip);
            let Some(g) = ctx.iterations[usize::from(it)].generator else {
                continue;
            };
            if !self.config.is_byzantine(g) {
                continue;
            }
            let failed = self.formable_fails(state, &ctx, tip, it);
            for v in 0..2 {
                let b = block(tip, it, v);
                if candidate(state, b).is_none() {
                    out.push(Action::ByzantinePropose {
                        p: g as u8,
                        block: b,
                        failed,
                    });
                }
            }
        }
    }

    /// Every Fail attestation of iterations below `it` (and the relaxed threshold) on `tip`
    /// that can be formed from the votes sent and the Byzantine credits.
    fn formable_fails(&self, state: &State, ctx: &Context, tip: BlockId, it: u8) -> FailSet {
        let mut failed = FailSet::default();
        for j in 0..it.min(self.config.protocol.relaxed_iterations) {
            let s = slot(tip, j);
            let draw = &ctx.iterations[usize::from(j)];
            for value in Self::values(state, s, true) {
                if !value.is_valid() && self.attestation(state, None, draw, s, value).is_some() {
                    failed = failed.with(j, value);
                    break;
                }
            }
        }
        failed
    }

    fn crashed(&self, state: &State) -> u8 {
        state
            .nodes
            .iter()
            .enumerate()
            .filter(|(p, n)| !n.alive && !self.config.is_byzantine(*p))
            .count() as u8
    }
}

/// The candidate `b` if it was sent: (valid, failed_iterations).
pub fn candidate(state: &State, b: BlockId) -> Option<(bool, FailSet)> {
    let lo = Msg::Candidate {
        block: b,
        valid: false,
        failed: FailSet(0),
    };
    // The first message at or after `lo` in the sorted pool is the first candidate of `b`, if
    // there is one.
    match state.pool.from(&lo).first() {
        Some(&Msg::Candidate {
            block: x,
            valid,
            failed,
        }) if x == b => Some((valid, failed)),
        _ => None,
    }
}

/// Number of different votes `voter` cast for (`slot`, `step`).
pub fn votes_cast(state: &State, s: BlockId, step: VoteStep, voter: u8) -> usize {
    let mut values = vec![Value::NoCandidate, Value::NoQuorum];
    for v in 0..2 {
        values.push(Value::Valid(v));
        values.push(Value::Invalid(v));
    }
    values
        .into_iter()
        .filter(|&value| {
            state.pool.contains(&Msg::Vote {
                slot: s,
                step,
                value,
                voter,
            })
        })
        .count()
}

/// Whether node `q` may still act in step `before_or_at` (or earlier) of iteration `j` of
/// round `r` on `tip`: alive, and not past that point: on `tip` and not yet past the step, or
/// behind on `tip`'s branch, or on another branch that it will leave for `tip`'s by fork choice
/// (FORK-1: at the height where the branches part, `tip`'s block has the lower iteration and
/// `q`'s block there is not Final). After GST such a node receives `tip`'s blocks and falls
/// back before any timer fires.
pub fn may_still_act(
    state: &State,
    q: usize,
    tip: BlockId,
    r: u8,
    j: u8,
    before_or_at: Step,
) -> bool {
    let n = &state.nodes[q];
    if !n.alive {
        return false;
    }
    let ancestor = |h: u8| -> BlockId {
        if h == 0 {
            0
        } else {
            tip & (u32::MAX >> (32 - 4 * u32::from(h)))
        }
    };
    let common = (1..=n.chain.len().min(usize::from(r) - 1))
        .take_while(|&h| n.block_at(h) == ancestor(h as u8))
        .count();
    if common == n.chain.len() {
        // On tip's branch: behind, or at tip and not yet past the step.
        return n.round() < r
            || (n.round() == r
                && (n.iteration < j || (n.iteration == j && n.step <= before_or_at)));
    }
    let d = common + 1;
    if d >= usize::from(r) {
        // q is past tip on a branch that contains it: not coming back to this slot.
        return false;
    }
    let theirs = iteration_of(ancestor(d as u8));
    d > n.final_height() && theirs < n.chain[d - 1].iteration
}

impl Model for SaModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let mut nodes = vec![Node::new(); self.n()];
        for (p, node) in nodes.iter_mut().enumerate() {
            if self.config.is_byzantine(p) {
                node.alive = false;
                node.step = Step::Done;
            } else {
                skip_idle_steps(self, p, node);
            }
        }
        vec![State {
            nodes,
            pool: Default::default(),
            invalid_used: 0,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.actions_until(state, actions, false);
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        match action {
            // Only the unbounded model offers it, and handles it itself.
            Action::Rejoin { .. } => return None,
            Action::ByzantinePropose { block, failed, .. } => {
                state.pool.insert(Msg::Candidate {
                    block,
                    valid: true,
                    failed,
                });
            }
            Action::Node { p, event } => {
                let p = usize::from(p);
                if let Event::Propose { valid: false } = event {
                    state.invalid_used += 1;
                }
                let (node, out) = handle(self, p, &last.nodes[p], &event);
                state.nodes[p] = node;
                state.pool.extend(out);
                self.own_quorums(&mut state, p);
            }
        }
        // The liveness results rest on this: every transition increases the progress rank.
        if crate::live::rank(&state) <= crate::live::rank(last) {
            self.live
                .rank_violations
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        crate::properties::all()
    }

    fn within_boundary(&self, _: &State) -> bool {
        !self.stop.load(std::sync::atomic::Ordering::Relaxed)
    }
}
