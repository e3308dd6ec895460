//! The Stateright model: every step of every node is an explicit action naming its actor.

use std::sync::Arc;

use stateright::{Model, Property};

use crate::config::Config;
use crate::context::{ledger_blocks, Context, Contexts, IterationDraw, LedgerBlock};
use crate::finality;
use crate::mutations::Mutation;
use crate::sortition::Committee;
use crate::state::{
    iteration_of, parent_of, round_of, slot, Attestation, BlockId, Entry, FailSet, FallbackRecord,
    Msg, Node, State, Step, Value, VoteStep,
};

/// One step of one node, or a fault. `p` is always the provisioner that acts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Action {
    /// Fault: provisioner `p` goes offline for good (absent).
    Crash {
        /// Who.
        p: u8,
    },
    /// gen(i) broadcasts its candidate (invalid when `valid` is false: a fault).
    Propose {
        /// The generator.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
        /// Whether the candidate is valid.
        valid: bool,
    },
    /// `p` receives the candidate, validates it and casts its Validation vote if a member.
    ReceiveCandidate {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
    },
    /// `p`'s Proposal timer fires: it votes NoCandidate if a member.
    ProposalTimeout {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
    },
    /// `p` sees a Validation quorum on `value` and casts its Ratification vote if a member.
    ValidationQuorum {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
        /// The quorum's value.
        value: Value,
    },
    /// `p`'s Validation timer fires: result NoQuorum.
    ValidationTimeout {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
    },
    /// `p` sees a Ratification quorum on `value`: it forms the attestation.
    RatificationQuorum {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
        /// The quorum's value.
        value: Value,
    },
    /// `p`'s Ratification timer fires: no attestation, next iteration.
    RatificationTimeout {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
    },
    /// `p` sees a Success quorum of an earlier iteration of its current round and accepts it.
    PastSuccess {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// The earlier iteration.
        iteration: u8,
    },
    /// `p` replaces its block at `height` by the Success of `iteration` (fork choice).
    Fallback {
        /// Who.
        p: u8,
        /// Height of the replaced block.
        height: u8,
        /// Iteration of the block accepted instead.
        iteration: u8,
    },
    /// Mutation `double-vote`: `p`, having voted NoCandidate, votes again on the late candidate.
    Revote {
        /// Who.
        p: u8,
        /// Round.
        round: u8,
        /// Iteration.
        iteration: u8,
    },
}

impl Action {
    /// The provisioner that acts.
    pub fn actor(&self) -> u8 {
        match *self {
            Action::Crash { p }
            | Action::Propose { p, .. }
            | Action::ReceiveCandidate { p, .. }
            | Action::ProposalTimeout { p, .. }
            | Action::ValidationQuorum { p, .. }
            | Action::ValidationTimeout { p, .. }
            | Action::RatificationQuorum { p, .. }
            | Action::RatificationTimeout { p, .. }
            | Action::PastSuccess { p, .. }
            | Action::Fallback { p, .. }
            | Action::Revote { p, .. } => p,
        }
    }
}

/// The model of one configuration.
#[derive(Clone, Debug)]
pub struct SaModel {
    /// The configuration checked.
    pub config: Config,
    contexts: Contexts,
}

/// A tally: credits counted and the signers (bitset).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// Credits counted.
    pub credits: u32,
    /// Signers counted.
    pub signers: u8,
}

impl SaModel {
    /// The model of `config` (which must be valid).
    pub fn new(config: Config) -> SaModel {
        SaModel {
            config,
            contexts: Contexts::default(),
        }
    }

    /// The model of `config` whose first round uses the given draws (gen(i), Validation,
    /// Ratification per iteration) instead of its seed's: to check every allowed draw.
    pub fn with_first_round(config: Config, profile: &crate::draws::Profile) -> SaModel {
        let n = config.provisioners.len();
        let genesis = Contexts::default().get(&config, &[]);
        let drawable = genesis.weights[..n].iter().filter(|&&w| w > 0).count();
        let draws = profile
            .iter()
            .enumerate()
            .map(|(i, &(generator, validation, ratification))| {
                let next = profile.get(i + 1).and_then(|d| d.0);
                IterationDraw {
                    generator,
                    excluded: crate::context::exclusions(&config, drawable, generator, next),
                    validation,
                    ratification,
                }
            })
            .collect();
        let contexts = Contexts::with_first_round(&config, draws);
        SaModel { config, contexts }
    }

    /// Number of provisioners.
    pub fn n(&self) -> usize {
        self.config.provisioners.len()
    }

    /// Context of a ledger-block prefix.
    pub fn context(&self, chain: &[LedgerBlock]) -> Arc<Context> {
        self.contexts.get(&self.config, chain)
    }

    /// Context in which `node` decides its current round.
    pub fn node_context(&self, node: &Node) -> Arc<Context> {
        self.context(&ledger_blocks(&node.chain))
    }

    /// Context of the block id `parent` (ancestors' failed_iterations read from the pool).
    pub fn path_context(&self, state: &State, parent: BlockId) -> Arc<Context> {
        let r = round_of(parent);
        let mut blocks = Vec::with_capacity(usize::from(r));
        let mut id = 0;
        for k in 1..=r {
            let it = ((parent >> (4 * (u32::from(k) - 1))) & 0xF) as u8 - 1;
            id = slot(id, it);
            let failed = candidate(state, id).map_or(FailSet::default(), |(_, f)| f);
            blocks.push((it, failed));
        }
        self.context(&blocks)
    }

    /// Threshold a node uses for `value` (QUORUM-1/2).
    pub fn threshold(&self, value: Value) -> u32 {
        if self.config.has(Mutation::ValidThresholdBelowMajority) {
            (self.config.protocol.committee_credits / 2).max(1)
        } else if value == Value::Valid {
            self.config.supermajority()
        } else {
            self.config.majority()
        }
    }

    /// TALLY-1..3: credits of the committee members who voted `value` for (`slot`, `step`).
    /// A signer with two different votes for one step is not counted (conflict: a fault proof).
    pub fn tally(
        &self,
        state: &State,
        committee: &Committee,
        slot: BlockId,
        step: VoteStep,
        value: Value,
    ) -> Tally {
        let mut t = Tally::default();
        for v in 0..self.n() as u8 {
            if !state.pool.contains(&Msg::Vote {
                slot,
                step,
                value,
                voter: v,
            }) {
                continue;
            }
            if has_conflict(state, slot, step, v) {
                continue;
            }
            let c = committee.credits(usize::from(v));
            let counted = if c > 0 {
                c
            } else if self.config.has(Mutation::CountNonMembers) {
                1
            } else {
                0
            };
            if counted > 0 {
                t.credits += counted;
                t.signers |= 1 << v;
            }
        }
        t
    }

    fn quorum(
        &self,
        state: &State,
        draw: &IterationDraw,
        slot: BlockId,
        value: Value,
    ) -> Option<Attestation> {
        let thr = self.threshold(value);
        let rat = self.tally(
            state,
            &draw.ratification,
            slot,
            VoteStep::Ratification,
            value,
        );
        if rat.credits < thr {
            return None;
        }
        let val = if value == Value::NoQuorum {
            Tally::default()
        } else {
            let val = self.tally(state, &draw.validation, slot, VoteStep::Validation, value);
            if val.credits < thr {
                return None;
            }
            val
        };
        Some(Attestation {
            slot,
            value,
            validation: val.signers,
            ratification: rat.signers,
        })
    }

    fn validation_quorum(
        &self,
        state: &State,
        draw: &IterationDraw,
        slot: BlockId,
        value: Value,
    ) -> bool {
        self.tally(state, &draw.validation, slot, VoteStep::Validation, value)
            .credits
            >= self.threshold(value)
    }

    fn cast(
        &self,
        state: &mut State,
        committee: &Committee,
        p: u8,
        slot: BlockId,
        step: VoteStep,
        value: Value,
    ) {
        if committee.credits(usize::from(p)) > 0 || self.config.has(Mutation::CountNonMembers) {
            state.pool.insert(Msg::Vote {
                slot,
                step,
                value,
                voter: p,
            });
        }
    }

    /// STEP-VAL-1: `p` has the candidate of `s` (valid or not) and votes on it if a member.
    fn validate(&self, state: &mut State, p: u8, draw: &IterationDraw, s: BlockId, valid: bool) {
        let n = &mut state.nodes[usize::from(p)];
        n.candidate = Some(valid);
        n.step = Step::Validation;
        let value = if valid { Value::Valid } else { Value::Invalid };
        self.cast(state, &draw.validation, p, s, VoteStep::Validation, value);
    }

    fn crashed(&self, state: &State) -> u8 {
        state.nodes.iter().filter(|n| !n.alive).count() as u8
    }

    /// Records an attestation; the first one formed for a (slot, value) is the canonical one
    /// (the one the next block carries), so later formations with more signers add nothing.
    fn record(&self, state: &mut State, att: Attestation) -> Attestation {
        let lo = Attestation {
            validation: 0,
            ratification: 0,
            ..att
        };
        let hi = Attestation {
            validation: u8::MAX,
            ratification: u8::MAX,
            ..att
        };
        if let Some(first) = state.attestations.range(lo..=hi).next() {
            return *first;
        }
        state.attestations.insert(att);
        att
    }

    /// Skips the steps in which `p` has nothing to do (not the generator, not a member):
    /// they send nothing and their timers lead to the same state.
    fn skip_idle_steps(&self, state: &mut State, p: usize) {
        let node = &state.nodes[p];
        if !matches!(node.step, Step::Proposal | Step::Validation) {
            return;
        }
        let ctx = self.node_context(node);
        let draw = &ctx.iterations[usize::from(node.iteration)];
        let member = |c: &Committee| c.credits(p) > 0 || self.config.has(Mutation::CountNonMembers);
        let node = &mut state.nodes[p];
        if node.step == Step::Proposal && draw.generator != Some(p) && !member(&draw.validation) {
            node.step = Step::Validation;
        }
        if node.step == Step::Validation && !member(&draw.ratification) {
            node.step = Step::Ratification;
        }
    }

    fn accept(&self, state: &mut State, p: usize, att: Attestation) {
        let failed = candidate(state, att.slot).map_or(FailSet::default(), |(_, f)| f);
        let iteration = iteration_of(att.slot);
        let att = self.record(state, att);
        let rounds = self.config.protocol.rounds;
        let node = &mut state.nodes[p];
        finality::push(
            &self.config,
            &mut node.chain,
            Entry {
                iteration,
                failed,
                signers: att.validation | att.ratification,
                label: crate::state::Label::Accepted,
            },
        );
        node.iteration = 0;
        node.candidate = None;
        node.result = None;
        node.fails = FailSet::default();
        node.step = if node.round() > rounds {
            Step::Done
        } else {
            Step::Proposal
        };
    }

    fn next_iteration(&self, node: &mut Node) {
        node.candidate = None;
        node.result = None;
        if node.iteration + 1 < self.config.protocol.max_iterations {
            node.iteration += 1;
            node.step = Step::Proposal;
        } else {
            node.step = Step::Open;
        }
    }

    /// TIME-3: whether `p`'s timer for `step` fires on time, i.e. nothing that could complete
    /// the step is available or on its way: for Proposal, no candidate and gen(i) can no longer
    /// propose on this slot; for a vote step, no quorum is available and every committee member
    /// that has not voted is absent or past that step. A timer that fires otherwise is a late
    /// message and uses one unit of the `late` budget.
    pub fn nothing_pending(&self, state: &State, p: usize, step: Step) -> bool {
        let node = &state.nodes[p];
        let (tip, j) = (node.tip(), node.iteration);
        let s = slot(tip, j);
        let r = node.round();
        let ctx = self.node_context(node);
        let draw = &ctx.iterations[usize::from(j)];
        let may_still = |q: usize, before: Step| may_still_act(state, q, tip, r, j, before);
        match step {
            Step::Proposal => {
                candidate(state, s).is_none()
                    && draw
                        .generator
                        .is_none_or(|g| g == p || !may_still(g, Step::Proposal))
            }
            Step::Validation | Step::Ratification => {
                let available = if step == Step::Validation {
                    [Value::NoCandidate, Value::Valid, Value::Invalid]
                        .iter()
                        .any(|&v| self.validation_quorum(state, draw, s, v))
                } else {
                    [
                        Value::NoCandidate,
                        Value::Valid,
                        Value::Invalid,
                        Value::NoQuorum,
                    ]
                    .iter()
                    .any(|&v| self.quorum(state, draw, s, v).is_some())
                };
                if available {
                    return false;
                }
                let (committee, vstep, before) = if step == Step::Validation {
                    (&draw.validation, VoteStep::Validation, Step::Proposal)
                } else {
                    (&draw.ratification, VoteStep::Ratification, Step::Validation)
                };
                committee.members().all(|q| {
                    let voted = votes_cast(state, s, vstep, q as u8) > 0;
                    voted || !may_still(q, before)
                })
            }
            Step::Open | Step::Done => true,
        }
    }

    /// The Success attestation formable now for `slot`, if any.
    pub fn success(&self, state: &State, slot: BlockId) -> Option<Attestation> {
        let ctx = self.path_context(state, parent_of(slot));
        let draw = &ctx.iterations[usize::from(iteration_of(slot))];
        candidate(state, slot)?;
        self.quorum(state, draw, slot, Value::Valid)
    }
}

/// The candidate proposed for `slot`: (valid, failed_iterations).
pub fn candidate(state: &State, slot: BlockId) -> Option<(bool, FailSet)> {
    let lo = Msg::Candidate {
        slot,
        valid: false,
        failed: FailSet(0),
    };
    let hi = Msg::Candidate {
        slot,
        valid: true,
        failed: FailSet(u16::MAX),
    };
    state.pool.range(lo..=hi).next().map(|m| match *m {
        Msg::Candidate { valid, failed, .. } => (valid, failed),
        Msg::Vote { .. } => unreachable_vote(),
    })
}

fn unreachable_vote() -> (bool, FailSet) {
    // The range above only spans candidates; a vote cannot appear in it.
    (false, FailSet(0))
}

const VALUES: [Value; 4] = [
    Value::NoCandidate,
    Value::Valid,
    Value::Invalid,
    Value::NoQuorum,
];

/// Number of different votes `voter` cast for (`slot`, `step`).
pub fn votes_cast(state: &State, slot: BlockId, step: VoteStep, voter: u8) -> usize {
    VALUES
        .iter()
        .filter(|&&value| {
            state.pool.contains(&Msg::Vote {
                slot,
                step,
                value,
                voter,
            })
        })
        .count()
}

/// Whether node `q` may still act in step `before_or_at` (or earlier) of iteration `j` of
/// round `r` on `tip`: alive, and not past that point (a node behind may still get there).
pub fn may_still_act(
    state: &State,
    q: usize,
    tip: BlockId,
    r: u8,
    j: u8,
    before_or_at: Step,
) -> bool {
    let n = &state.nodes[q];
    n.alive
        && (n.round() < r
            || (n.round() == r
                && n.tip() == tip
                && (n.iteration < j || (n.iteration == j && n.step <= before_or_at))))
}

/// Whether `voter` cast two different votes for (`slot`, `step`).
pub fn has_conflict(state: &State, slot: BlockId, step: VoteStep, voter: u8) -> bool {
    votes_cast(state, slot, step, voter) > 1
}

impl Model for SaModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let mut state = State {
            nodes: vec![Node::new(); self.n()],
            pool: Default::default(),
            attestations: Default::default(),
            invalid_used: 0,
            late_used: 0,
        };
        for p in 0..self.n() {
            self.skip_idle_steps(&mut state, p);
        }
        vec![state]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        let late = state.late_used < self.config.faults.late;
        let can_crash = self.crashed(state) < self.config.faults.absent;
        // TIME-4: after GST delivery is synchronous and the model runs the nodes that are past
        // GST one at a time, in key order (a synchronous round). Before GST every interleaving
        // is explored. Crashes stay possible at every point.
        let mut scheduled_post_gst = false;
        for (pi, node) in state.nodes.iter().enumerate() {
            if !node.alive {
                continue;
            }
            let p = pi as u8;
            let gst = self.config.faults.gst_round;
            let post_gst = gst != 0 && node.round() >= gst;
            if can_crash && !post_gst {
                actions.push(Action::Crash { p });
            }
            if post_gst && scheduled_post_gst {
                continue;
            }
            let before = actions.len();
            let round = node.round();
            let iteration = node.iteration;
            let tip = node.tip();
            let late = late && !post_gst;
            let early_all = self.config.faults.late_all_steps;
            if node.step != Step::Done {
                let ctx = self.node_context(node);
                let draw = &ctx.iterations[usize::from(iteration)];
                let s = slot(tip, iteration);
                match node.step {
                    Step::Proposal => {
                        let cand = candidate(state, s);
                        let is_gen = draw.generator == Some(pi);
                        if is_gen && cand.is_none() {
                            actions.push(Action::Propose {
                                p,
                                round,
                                iteration,
                                valid: true,
                            });
                            if state.invalid_used < self.config.faults.invalid_candidates {
                                actions.push(Action::Propose {
                                    p,
                                    round,
                                    iteration,
                                    valid: false,
                                });
                            }
                        }
                        if cand.is_some() {
                            actions.push(Action::ReceiveCandidate {
                                p,
                                round,
                                iteration,
                            });
                        }
                        if (late && early_all) || self.nothing_pending(state, pi, Step::Proposal) {
                            actions.push(Action::ProposalTimeout {
                                p,
                                round,
                                iteration,
                            });
                        }
                    }
                    Step::Validation => {
                        let mut any = false;
                        for value in [Value::NoCandidate, Value::Valid, Value::Invalid] {
                            if self.validation_quorum(state, draw, s, value) {
                                any = true;
                                actions.push(Action::ValidationQuorum {
                                    p,
                                    round,
                                    iteration,
                                    value,
                                });
                            }
                        }
                        if (late && early_all)
                            || (!any && self.nothing_pending(state, pi, Step::Validation))
                        {
                            actions.push(Action::ValidationTimeout {
                                p,
                                round,
                                iteration,
                            });
                        }
                    }
                    Step::Ratification => {
                        let mut any = false;
                        for value in [
                            Value::NoCandidate,
                            Value::Valid,
                            Value::Invalid,
                            Value::NoQuorum,
                        ] {
                            if self.quorum(state, draw, s, value).is_some() {
                                any = true;
                                actions.push(Action::RatificationQuorum {
                                    p,
                                    round,
                                    iteration,
                                    value,
                                });
                            }
                        }
                        if late || (!any && self.nothing_pending(state, pi, Step::Ratification)) {
                            actions.push(Action::RatificationTimeout {
                                p,
                                round,
                                iteration,
                            });
                        }
                    }
                    Step::Open | Step::Done => {}
                }
                // Success quorums of earlier iterations of this round (and all, when Open).
                let upto = if node.step == Step::Open {
                    self.config.protocol.max_iterations
                } else {
                    iteration
                };
                for j in 0..upto {
                    if self.success(state, slot(tip, j)).is_some() {
                        actions.push(Action::PastSuccess {
                            p,
                            round,
                            iteration: j,
                        });
                    }
                }
                if self.config.has(Mutation::DoubleVote)
                    && matches!(node.step, Step::Validation | Step::Ratification)
                    && node.candidate.is_none()
                    && draw.validation.credits(pi) > 0
                    && candidate(state, s).is_some()
                    && !has_conflict(state, s, VoteStep::Validation, p)
                {
                    actions.push(Action::Revote {
                        p,
                        round,
                        iteration,
                    });
                }
            }
            // Fork choice: a competing Success at a height this node already decided.
            let final_height = node.final_height();
            let any_iteration = self.config.has(Mutation::FallbackAnyIteration)
                || self.config.has(Mutation::DuskStalledRecovery);
            let ignore_final = self.config.has(Mutation::DuskStalledRecovery);
            for h in 1..=node.chain.len() {
                if h <= final_height && !ignore_final {
                    continue;
                }
                let have = node.chain[h - 1].iteration;
                let parent = node.block_at(h - 1);
                for j in 0..self.config.protocol.max_iterations {
                    let allowed = if any_iteration { j != have } else { j < have };
                    if allowed && self.success(state, slot(parent, j)).is_some() {
                        actions.push(Action::Fallback {
                            p,
                            height: h as u8,
                            iteration: j,
                        });
                    }
                }
            }
            if post_gst && actions.len() > before {
                scheduled_post_gst = true;
            }
        }
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        let pi = usize::from(action.actor());
        let p = action.actor();
        let node = state.nodes[pi].clone();
        let ctx = self.node_context(&node);
        let tip = node.tip();
        let iteration = node.iteration;
        let draw = ctx.iterations.get(usize::from(iteration)).cloned();
        let s = slot(tip, iteration);
        let timeout_step = match action {
            Action::ProposalTimeout { .. } => {
                Some(Step::Proposal).filter(|_| self.config.faults.late_all_steps)
            }
            Action::ValidationTimeout { .. } => {
                Some(Step::Validation).filter(|_| self.config.faults.late_all_steps)
            }
            Action::RatificationTimeout { .. } => Some(Step::Ratification),
            _ => None,
        };
        if let Some(step) = timeout_step {
            if !self.nothing_pending(last, pi, step) {
                state.late_used += 1;
            }
        }
        match action {
            Action::Crash { .. } => state.nodes[pi].alive = false,
            Action::Propose { valid, .. } => {
                let draw = draw?;
                let failed = node.fails.below(self.config.protocol.relaxed_iterations);
                state.pool.insert(Msg::Candidate {
                    slot: s,
                    valid,
                    failed,
                });
                if !valid {
                    state.invalid_used += 1;
                }
                self.validate(&mut state, p, &draw, s, valid);
            }
            Action::ReceiveCandidate { .. } => {
                let draw = draw?;
                let (valid, _) = candidate(&state, s)?;
                self.validate(&mut state, p, &draw, s, valid);
            }
            Action::ProposalTimeout { .. } => {
                let draw = draw?;
                let n = &mut state.nodes[pi];
                n.candidate = None;
                n.step = Step::Validation;
                self.cast(
                    &mut state,
                    &draw.validation,
                    p,
                    s,
                    VoteStep::Validation,
                    Value::NoCandidate,
                );
            }
            Action::ValidationQuorum { value, .. } => {
                let draw = draw?;
                let n = &mut state.nodes[pi];
                n.result = Some(value);
                n.step = Step::Ratification;
                self.cast(
                    &mut state,
                    &draw.ratification,
                    p,
                    s,
                    VoteStep::Ratification,
                    value,
                );
            }
            Action::ValidationTimeout { .. } => {
                let draw = draw?;
                let n = &mut state.nodes[pi];
                n.result = Some(Value::NoQuorum);
                n.step = Step::Ratification;
                self.cast(
                    &mut state,
                    &draw.ratification,
                    p,
                    s,
                    VoteStep::Ratification,
                    Value::NoQuorum,
                );
            }
            Action::RatificationQuorum { value, .. } => {
                let draw = draw?;
                let att = self.quorum(&state, &draw, s, value)?;
                if value == Value::Valid {
                    self.accept(&mut state, pi, att);
                } else {
                    self.record(&mut state, att);
                    let n = &mut state.nodes[pi];
                    n.fails = n.fails.with(iteration, value);
                    self.next_iteration(n);
                }
            }
            Action::RatificationTimeout { .. } => self.next_iteration(&mut state.nodes[pi]),
            Action::PastSuccess { iteration: j, .. } => {
                let att = self.success(&state, slot(tip, j))?;
                self.accept(&mut state, pi, att);
            }
            Action::Fallback {
                height,
                iteration: j,
                ..
            } => {
                let h = usize::from(height);
                let parent = node.block_at(h - 1);
                let att = self.success(&state, slot(parent, j))?;
                let record = FallbackRecord {
                    height,
                    from_iteration: node.chain[h - 1].iteration,
                    to_iteration: j,
                    reverted_label: node.chain[h - 1..].iter().map(|e| e.label).max()?,
                };
                let n = &mut state.nodes[pi];
                n.chain.truncate(h - 1);
                n.last_fallback = Some(record);
                self.accept(&mut state, pi, att);
            }
            Action::Revote { .. } => {
                let draw = draw?;
                let (valid, _) = candidate(&state, s)?;
                let value = if valid { Value::Valid } else { Value::Invalid };
                self.cast(
                    &mut state,
                    &draw.validation,
                    p,
                    s,
                    VoteStep::Validation,
                    value,
                );
            }
        }
        self.skip_idle_steps(&mut state, pi);
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        crate::properties::all()
    }
}

/// Round of the slot a node is deciding (for descriptions).
pub fn slot_round(s: BlockId) -> u8 {
    round_of(s)
}
