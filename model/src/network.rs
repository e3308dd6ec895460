//! The network: which events each honest node may take in a state (deliveries, timers,
//! crashes), before GST in every order, after GST synchronously and one node at a time
//! (TIME-3, TIME-4). The handler (`crate::node`) decides what an event does; this module
//! decides which events exist.

use crate::draws::IterationDraw;
use crate::model::{Action, SaModel};
use crate::mutations::Mutation;
use crate::node::Event;
use crate::rules::Rule;
use crate::state::{
    block, candidate, iteration_of, slot, votes_cast, BlockId, FailSet, Msg, State, Step, Value,
    VoteStep,
};

impl SaModel {
    /// The actions of `state` (Stateright's `actions`); with `first`, stops at the first one
    /// found (the caller only asks whether there is any).
    pub(crate) fn actions_until(&self, state: &State, actions: &mut Vec<Action>, first: bool) {
        Rule::Time4.applies();
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

    /// Whether `p`'s timer of `step` may fire now. Before GST (with early timers) any time;
    /// after GST only when on time (TIME-3): nothing that could complete the step can still
    /// arrive. For Proposal: no candidate, and gen(i) is not an honest node that may still
    /// propose (a Byzantine generator may withhold for ever). For a vote step: no quorum can be
    /// held, and every honest member that has not voted is absent or past the step.
    pub fn timer_may_fire(&self, state: &State, p: usize, step: Step) -> bool {
        Rule::Time3.applies();
        let node = &state.nodes[p];
        if !self.post_gst(node) && self.config.faults.early_timers {
            return true;
        }
        let (tip, j, r) = (node.tip(), node.iteration, node.round());
        let ctx = self.node_context(&state.root, node);
        let draw = &ctx.iterations[usize::from(j)];
        let honest = |q: usize| !self.config.is_byzantine(q);
        let may_still = |q: usize, before: Step| may_still_act(state, q, tip, r, j, before);
        match step {
            Step::Proposal => {
                let any_candidate = (0..2).any(|v| candidate(state, block(tip, j, v)).is_some());
                let gen_pending = draw
                    .generator
                    .is_some_and(|g| honest(g) && may_still(g, Step::Proposal));
                if !any_candidate
                    && !gen_pending
                    && self
                        .config
                        .broken(Rule::Time3)
                        .contains(Mutation::NoProposalTimeout)
                {
                    // Waits for an offline generator too.
                    if draw
                        .generator
                        .is_some_and(|g| honest(g) && !state.nodes[g].alive)
                    {
                        Mutation::NoProposalTimeout.hit();
                        return false;
                    }
                }
                if gen_pending
                    && draw.generator == Some(p)
                    && self
                        .config
                        .broken(Rule::Time3)
                        .contains(Mutation::GeneratorMaySkip)
                {
                    Mutation::GeneratorMaySkip.hit();
                    return !any_candidate;
                }
                !any_candidate && !gen_pending
            }
            Step::Validation | Step::Ratification => {
                self.vote_timer_may_fire(state, p, draw, step == Step::Ratification)
            }
            Step::Open | Step::Done => false,
        }
    }

    /// TIME-3 for a vote step: on time once no quorum can be held and every honest member that
    /// has not voted is absent or past the step.
    fn vote_timer_may_fire(
        &self,
        state: &State,
        p: usize,
        draw: &IterationDraw,
        ratification: bool,
    ) -> bool {
        let node = &state.nodes[p];
        let (tip, j, r) = (node.tip(), node.iteration, node.round());
        let s = slot(tip, j);
        let honest = |q: usize| !self.config.is_byzantine(q);
        let may_still = |q: usize, before: Step| may_still_act(state, q, tip, r, j, before);
        let available = Self::values(state, s, ratification).any(|v| {
            if ratification {
                self.attestation(state, Some(p), draw, s, v).is_some()
            } else {
                self.quorum_signers(state, Some(p), &draw.validation, s, VoteStep::Validation, v)
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
        if !on_time
            && self
                .config
                .broken(Rule::Time3)
                .contains(Mutation::ImpatientTimers)
        {
            Mutation::ImpatientTimers.hit();
            return true;
        }
        on_time
    }

    /// Every event the network offers honest node `p` now.
    pub fn node_events(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        if state.nodes[p].step != Step::Done {
            self.step_events(state, p, out);
            self.past_successes(state, p, out);
            self.late_votes(state, p, out);
            self.revote(state, p, out);
        }
        self.fork_choice(state, p, out);
    }

    /// The events of the step node `p` is in: its own proposal, a candidate, a quorum, its
    /// timer.
    fn step_events(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        let node = &state.nodes[p];
        let (tip, it) = (node.tip(), node.iteration);
        let s = slot(tip, it);
        let ctx = self.node_context(&state.root, node);
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
    }

    /// ITER-2: the Success attestations of earlier iterations of `p`'s round (of every
    /// iteration, in open consensus).
    fn past_successes(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        let node = &state.nodes[p];
        let (tip, it) = (node.tip(), node.iteration);
        Rule::Iter2.applies();
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
    }

    /// Mutation `double-vote`: having voted NoCandidate, `p` receives the candidate and may vote
    /// again.
    fn revote(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        let node = &state.nodes[p];
        let (tip, it) = (node.tip(), node.iteration);
        let s = slot(tip, it);
        if self
            .config
            .broken(Rule::Vote1)
            .contains(Mutation::DoubleVote)
            && node.step == Step::Validation
        {
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

    /// EMERG-1: emergency iterations stay open. For each emergency iteration the node has left
    /// (or whose Proposal step it has left without a candidate) whose valid candidate is now
    /// there, a Validation member that has not voted there votes Valid.
    fn late_votes(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        let Some(e) = self.config.protocol.emergency_iteration else {
            return;
        };
        if self
            .config
            .broken(Rule::Emerg1)
            .contains(Mutation::IgnoreEmergency)
        {
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
        let ctx = self.node_context(&state.root, node);
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

    fn crashed(&self, state: &State) -> u8 {
        state
            .nodes
            .iter()
            .enumerate()
            .filter(|(p, n)| !n.alive && !self.config.is_byzantine(*p))
            .count() as u8
    }
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
