//! Rounds that go on for ever, in a finite abstraction (spec/faults.md, "Unbounded rounds"):
//! heights are kept relative to the last block that is Final at every present honest node.
//!
//! The model is the bounded one ([`SaModel`]) with one more rule applied after every step:
//! when every present honest node holds the same block at height 1 and holds it Final, that
//! height is dropped: each chain loses its first block, every block id its first round, the
//! messages and attestations of the dropped round are forgotten, and a node that had run past
//! the window (`rounds`) starts its next round. The state space is then finite (at most
//! `rounds` heights above the last common Final block) and has cycles: a round after a shift is
//! the same as the round before it when the nodes' views agree.
//!
//! Two things are abstracted, and say so in every report's bounds: the draws of a height are
//! those of the same position above genesis (a function of the blocks since the last common
//! Final block, not of the whole chain: the seed's chain is cut at the window), and the ledger
//! (rewards, slashes, suspension) restarts at each shift. GST keeps its meaning: the number of
//! shifts so far is kept (saturating), so a relative round's absolute round is known.
//!
//! Liveness here: every non-shifting transition strictly increases the progress rank of
//! `sa_model::live::rank` (checked on every one), so every cycle of the graph contains a shift,
//! and a shift needs every present honest node to agree on height 1 and hold it Final. Hence
//! on every infinite path the nodes agree and finalize infinitely often, and LIVE-CONVERGENCE
//! and LIVE-FINALITY fail exactly at reachable states without successors that are not excused
//! (`crate::unbounded::stuck_verdict`). If a non-shifting transition did not raise the rank,
//! the per-state check proves nothing and the fair-cycle search of `crate::liveness` decides.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;
use stateright::{Model, Property};

use crate::checked::LiveCounters;
use sa_model::config::Config;
use sa_model::draws::IterationDraw;
use sa_model::live::{first_good_with, rank, starved_by_suspension};
use sa_model::model::{Action, SaModel};
use sa_model::node::skip_idle_steps;
use sa_model::state::{round_of, BlockId, Label, Msg, Pool, Root, State, Step};

/// A state of the unbounded model: the bounded state (heights relative to the last common
/// Final block), how many heights were dropped so far (saturating once past GST), and whether
/// the step that reached it dropped one.
///
/// Built only by [`UState::new`], which computes its digest once: the state's `Hash` is that
/// digest (Stateright fingerprints every generated state with it; the per-thread cache of
/// [`Unbounded::stuck_verdict`] and of the actions keys on it without hashing again). Its fields
/// are read, never written, after construction.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UState {
    /// Heights relative to the last common Final block (its root: the last dropped height).
    pub state: State,
    /// With `faults.rejoin`: who came back from absence, and when.
    pub returns: Returns,
    /// Heights dropped so far, saturating at the GST round (absolute round = relative + this).
    pub dropped: u8,
    /// Whether the step that reached this state made a new height Final at every present
    /// honest node (and so dropped it).
    pub finalized: bool,
    /// Whether a height that step dropped was decided after an iteration whose generator is
    /// absent: an offline generator's slot cost the round an iteration (LIVE-SUSPEND).
    pub missed: bool,
    /// With `faults.rejoin` only (LIVE-REJOIN's monitor): provisioners back from absence that
    /// no height made Final since has paid a reward (0 otherwise): the generator of the
    /// iteration that produced its block and the signers of its attestation (REW-1/2).
    pub owed: u8,
    /// The 64-bit WyHash of the fields above.
    #[serde(skip)]
    digest: u64,
}

/// Provisioners back from absence (`faults.rejoin`; the unbounded model only): the liveness
/// monitor's record, not protocol state.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize)]
pub struct Returns {
    /// Bit `p`: provisioner `p` came back.
    pub returned: u8,
    /// For each provisioner that came back, the highest (relative) round a present honest node
    /// had entered when it did: in those rounds it counts as absent when iterations are judged
    /// good (spec/faults.md: a provisioner back during a round was absent in that round);
    /// lowered at every dropped height.
    pub back_from: [u8; sa_model::config::MAX_PROVISIONERS],
}

impl Returns {
    /// Whether provisioner `p` came back.
    pub fn has_returned(&self, p: usize) -> bool {
        self.returned & 1 << p != 0
    }
}

/// The progress rank of an unbounded state: the bounded model's (`sa_model::live::rank`), with
/// a return counting 2 (absent counted 1): coming back raises the rank.
pub fn urank(state: &State, returns: &Returns) -> (u32, u32, u32) {
    let (sent, place, votes) = rank(state);
    (sent + 2 * returns.returned.count_ones(), place, votes)
}

impl UState {
    /// A state with its digest.
    pub fn new(
        state: State,
        returns: Returns,
        dropped: u8,
        finalized: bool,
        missed: bool,
        owed: u8,
    ) -> UState {
        use std::hash::{Hash, Hasher};
        let mut h = sa_model::state::WyHasher::default();
        state.hash(&mut h);
        returns.hash(&mut h);
        (dropped, finalized, missed, owed).hash(&mut h);
        UState {
            state,
            returns,
            dropped,
            finalized,
            missed,
            owed,
            digest: h.finish(),
        }
    }
}

impl std::hash::Hash for UState {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        h.write_u64(self.digest);
    }
}

/// A state's digest, its [`Stuck`] class, and its actions until taken.
type Evaluated = (u64, Stuck, Option<Vec<Action>>);

thread_local! {
    /// The last state whose properties were evaluated on this thread (by digest), with its
    /// [`Stuck`] class and its actions until [`Model::actions`] takes them: Stateright evaluates
    /// both properties of a state and then asks for its actions, one state at a time per
    /// thread, so the actions are computed once per state instead of twice.
    static LAST: std::cell::RefCell<Option<Evaluated>> =
        const { std::cell::RefCell::new(None) };
}

/// The unbounded model of a configuration.
#[derive(Clone, Debug)]
pub struct Unbounded {
    /// One bounded model per number of heights dropped (0 ..= GST round - 1): model `k` has
    /// GST at relative round `max(gst - k, 1)`.
    models: Vec<SaModel>,
    /// Non-shifting transitions that did not raise the rank; stuck states past the bound.
    pub live: Arc<LiveCounters>,
    /// Set to stop the search.
    pub stop: Arc<std::sync::atomic::AtomicBool>,
    /// States where every node ran past the window with no common Final block.
    pub window_exhausted: Arc<std::sync::atomic::AtomicU64>,
    /// LIVE-SUSPEND's ranking (see [`Unbounded::suspend_rank`]): dropped heights at which an
    /// absent provisioner's rank did not strictly fall although its slot cost an iteration, or
    /// rose.
    pub suspend_unproven: Arc<std::sync::atomic::AtomicU64>,
    /// Rejoin transitions taken (LIVE-REJOIN exercised).
    pub returns_seen: Arc<std::sync::atomic::AtomicU64>,
    /// Drops after which a node's draws for the round it is in differ from those before (the
    /// abstraction promises they never do: checked on every drop).
    pub draws_changed: Arc<std::sync::atomic::AtomicU64>,
    /// Transitions that can lie on a cycle (`dropped` saturated) and dropped a height at which
    /// an absent generator's slot cost an iteration.
    pub missed_drops: Arc<std::sync::atomic::AtomicU64>,
    /// With `faults.rejoin`: every state reached with a returned provisioner still owed (the
    /// only states where LIVE-REJOIN can fail), recorded by `next_state` up to
    /// [`OWED_RECORD_STATES`]; `None` once past it.
    pub owed_states: Arc<std::sync::Mutex<Option<std::collections::HashSet<UState>>>>,
}

/// Owed states recorded for LIVE-REJOIN's search before it falls back to the whole graph.
pub const OWED_RECORD_STATES: usize = 2_000_000;

impl Unbounded {
    /// The unbounded model of `config` (valid; GST set: without GST nothing is promised).
    pub fn new(config: &Config) -> Unbounded {
        let gst = config.faults.gst_round.max(1);
        let models = (0..gst)
            .map(|k| {
                let mut c = config.clone();
                if c.faults.gst_round != 0 {
                    c.faults.gst_round = (gst - k).max(1);
                }
                let mut m = SaModel::new(c);
                m.tip_only = true;
                m
            })
            .collect();
        Unbounded {
            models,
            live: Default::default(),
            stop: Default::default(),
            window_exhausted: Default::default(),
            suspend_unproven: Default::default(),
            missed_drops: Default::default(),
            draws_changed: Default::default(),
            returns_seen: Default::default(),
            owed_states: Arc::new(std::sync::Mutex::new(Some(Default::default()))),
        }
    }

    /// [`Unbounded::new`] under the abstraction before 2026-12-07 (stake maturing inside the
    /// window, forgotten only at a drop: a drop can then change the draws of a round in
    /// progress). Kept so that a test shows the report calls such a path not proven.
    pub fn with_maturing_in_window(config: &Config) -> Unbounded {
        let mut u = Unbounded::new(config);
        for m in &mut u.models {
            m.keep_maturing_in_window();
        }
        u
    }

    /// Records `s` if a returned provisioner is still owed there (see `owed_states`).
    fn record_owed(&self, s: &UState) {
        if s.owed == 0 {
            return;
        }
        let mut guard = self.owed_states.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(set) = guard.as_mut() {
            if set.len() >= OWED_RECORD_STATES {
                *guard = None;
            } else {
                set.insert(s.clone());
            }
        }
    }

    /// The bounded model that decides a state with `dropped` heights dropped.
    pub fn model(&self, dropped: u8) -> &SaModel {
        &self.models[usize::from(dropped).min(self.models.len() - 1)]
    }

    /// The configuration.
    pub fn config(&self) -> &Config {
        &self.models[0].config
    }

    /// Whether every present honest node holds the same Final block at height 1.
    fn can_drop(&self, s: &State) -> bool {
        let config = self.config();
        let mut first = None;
        let mut any = false;
        for (p, n) in s.nodes.iter().enumerate() {
            if config.is_byzantine(p) || !n.alive {
                continue;
            }
            any = true;
            let Some(e) = n.chain.first() else {
                return false;
            };
            if e.label != Label::Final {
                return false;
            }
            let b = n.block_at(1);
            if *first.get_or_insert(b) != b {
                return false;
            }
        }
        any
    }

    /// LIVE-SUSPEND's ranking of an absent provisioner `p` in a carried ledger: its stake
    /// with weight, then its soft and hard fault counters, reversed. Its own code, not the
    /// slashing rules': it only compares ledgers. Bounded below (stake ≥ 0, counters saturate),
    /// so a rank that never rises and strictly falls at every missed slot allows finitely many
    /// missed slots on any path: no cycle holds one.
    pub fn suspend_rank(ledger: &sa_model::ledger::Ledger, p: usize) -> (u64, u8, u8) {
        (
            ledger.stake[p],
            u8::MAX - ledger.faults[p],
            u8::MAX - ledger.hard_faults[p],
        )
    }

    /// Drops height 1 (see the module documentation); whether an absent generator's slot cost
    /// the dropped round an iteration.
    #[allow(
        clippy::too_many_lines,
        reason = "one dropped height: the ranking checks, the carried ledger and the rebasing of chains, pool and holdings must happen together"
    )]
    fn drop_height(&self, s: &mut State, returns: &mut Returns, dropped: u8) -> bool {
        let config = self.config().clone();
        let m = self.model(dropped);
        let (carried, missed, class) = {
            let n0 = s
                .nodes
                .iter()
                .enumerate()
                .find(|(p, n)| !config.is_byzantine(*p) && n.alive)
                .map(|(_, n)| n)
                .expect("a present honest node (can_drop)");
            let block1 = (n0.chain[0].iteration, n0.chain[0].failed);
            let root = &s.root;
            let round = m.tip_context(root.base, root.anchor, root.seed_class, &[]);
            let after = m.tip_context(root.base, root.anchor, root.seed_class, &[block1]);
            let generator = round.iterations[usize::from(block1.0)].generator;
            let k = config.sortition.seed_classes;
            let class = if k >= 2 {
                sa_model::draws::next_class(&config, &round.seed, generator)
            } else {
                0
            };
            let absent =
                |g: usize| !config.is_byzantine(g) && s.nodes.get(g).is_some_and(|n| !n.alive);
            let missed_by: u8 = (0..block1.0)
                .filter_map(|j| round.iterations[usize::from(j)].generator)
                .filter(|&g| absent(g))
                .fold(0, |mask, g| mask | 1 << g);
            let carried = after.ledger.carried(generator);
            // The ranking, checked on every drop (the base changes only there) that can lie on
            // a cycle: `dropped` never decreases and rises at every drop until it saturates,
            // so a drop before that is on no cycle.
            let cyclic = usize::from(dropped) + 1 >= self.models.len();
            if cyclic && missed_by != 0 {
                self.missed_drops.fetch_add(1, Ordering::Relaxed);
            }
            for g in (0..s.nodes.len()).filter(|&g| cyclic && absent(g)) {
                let before = Self::suspend_rank(&round.ledger, g);
                let now = Self::suspend_rank(&carried, g);
                if now > before || (missed_by & 1 << g != 0 && now == before) {
                    self.suspend_unproven.fetch_add(1, Ordering::Relaxed);
                }
            }
            (carried, missed_by != 0, class)
        };
        let id = self.register_base(carried);
        let (f, anchor) = s
            .nodes
            .iter()
            .enumerate()
            .find(|(p, n)| !config.is_byzantine(*p) && n.alive)
            .map_or((0, None), |(_, n)| {
                (
                    n.block_at(1),
                    n.chain.first().map(|e| (e.iteration, e.failed)),
                )
            });
        let rebase = |id: BlockId| -> Option<BlockId> {
            (round_of(id) >= 2 && id & 0xF == f).then_some(id >> 4)
        };
        let next = self.model(dropped.saturating_add(1));
        let root = Root {
            anchor,
            base: id,
            seed_class: class,
        };
        s.root = root;
        for b in &mut returns.back_from {
            *b = b.saturating_sub(1);
        }
        for p in 0..s.nodes.len() {
            let n = &mut s.nodes[p];
            n.last_fallback = None;
            if config.is_byzantine(p) || !n.alive {
                // Never acts again: what it held is not read by any liveness goal.
                n.chain.clear();
                n.held.clear();
                continue;
            }
            n.chain.remove(0);
            let mut held: Vec<_> = n
                .held
                .iter()
                .filter_map(|&(slot, v)| rebase(slot).map(|x| (x, v)))
                .collect();
            held.sort_unstable();
            n.held = held;
            if n.step == Step::Done {
                n.step = Step::Proposal;
                n.iteration = 0;
                skip_idle_steps(next, &root, p, n);
            }
        }
        let mut pool = Pool::default();
        pool.extend(s.pool.iter().filter_map(|m| match *m {
            Msg::Candidate {
                block,
                valid,
                failed,
            } => rebase(block).map(|block| Msg::Candidate {
                block,
                valid,
                failed,
            }),
            Msg::Vote {
                slot,
                step,
                value,
                voter,
            } => rebase(slot).map(|slot| Msg::Vote {
                slot,
                step,
                value,
                voter,
            }),
        }));
        s.pool = pool;
        missed
    }

    /// LIVE-REJOIN: the provisioners the block at height 1 (about to be dropped) pays a reward
    /// (REW-1/REW-2, `sa_model::draws::rewards`, the rule SAFE-REWARD-SIGNERS checks): the
    /// generator of the iteration that produced it, and per step the committee members that
    /// signed its Success attestation (every member that sent that vote, abstraction 2), under
    /// the draws of its round.
    fn credited(&self, s: &State) -> u8 {
        let config = self.config();
        let Some(n0) = s
            .nodes
            .iter()
            .enumerate()
            .find(|(p, n)| !config.is_byzantine(*p) && n.alive)
            .map(|(_, n)| n)
        else {
            return 0;
        };
        let Some(e) = n0.chain.first() else {
            return 0;
        };
        let m = self.model(0);
        // The context of height 1's round, as `signers` reads it (`SaModel::slot_draw`).
        let round = m.path_context(s, 0);
        let value = sa_model::state::Value::Valid(e.variant);
        let att = sa_model::properties::signers(m, s, sa_model::state::slot(0, e.iteration), value);
        sa_model::draws::rewards(
            config,
            &round,
            e.iteration,
            att.validation,
            att.ratification,
        )
        .into_iter()
        .filter(|&(_, amount)| amount > 0)
        .fold(0u8, |mask, (p, _)| mask | 1 << p)
    }

    /// Registers a carried ledger with every bounded model (each has its own contexts).
    fn register_base(&self, ledger: sa_model::ledger::Ledger) -> u64 {
        let mut id = 0;
        for m in &self.models {
            id = m.register_base(ledger.clone());
        }
        id
    }
}

impl Model for Unbounded {
    type State = UState;
    type Action = Action;

    fn init_states(&self) -> Vec<UState> {
        self.models[0]
            .init_states()
            .into_iter()
            .map(|state| UState::new(state, Returns::default(), 0, false, false, 0))
            .collect()
    }

    fn actions(&self, s: &UState, actions: &mut Vec<Action>) {
        let cached = LAST.with(|l| match l.borrow_mut().as_mut() {
            Some((digest, _, acts)) if *digest == s.digest => acts.take(),
            _ => None,
        });
        match cached {
            Some(acts) => actions.extend(acts),
            None => self.compute_actions(s, actions),
        }
    }

    fn next_state(&self, last: &UState, action: Action) -> Option<UState> {
        let m = self.model(last.dropped);
        if let Action::Rejoin { p } = action {
            let p = usize::from(p);
            let mut state = last.state.clone();
            let mut n = sa_model::state::Node::new();
            let mut returns = last.returns;
            returns.returned |= 1 << p;
            returns.back_from[p] = last
                .state
                .nodes
                .iter()
                .enumerate()
                .filter(|(q, o)| o.alive && !self.config().is_byzantine(*q))
                .map(|(_, o)| o.round())
                .max()
                .unwrap_or(0);
            skip_idle_steps(m, &state.root, p, &mut n);
            state.nodes[p] = n;
            if urank(&state, &returns) <= urank(&last.state, &last.returns) {
                self.live.rank_violations.fetch_add(1, Ordering::Relaxed);
            }
            self.returns_seen.fetch_add(1, Ordering::Relaxed);
            let next = UState::new(
                state,
                returns,
                last.dropped,
                false,
                false,
                last.owed | 1 << p,
            );
            self.record_owed(&next);
            return Some(next);
        }
        let mut state = m.next_state(&last.state, action)?;
        let mut returns = last.returns;
        if urank(&state, &returns) <= urank(&last.state, &last.returns) {
            self.live.rank_violations.fetch_add(1, Ordering::Relaxed);
        }
        let mut dropped = last.dropped;
        let mut finalized = false;
        let mut missed = false;
        let before = self.round_draws(dropped, &state);
        let mut drops = 0usize;
        let mut owed = last.owed;
        while self.can_drop(&state) {
            drops += 1;
            if owed != 0 {
                owed &= !self.credited(&state);
            }
            missed |= self.drop_height(&mut state, &mut returns, dropped);
            dropped = dropped.saturating_add(1).min(self.models.len() as u8 - 1);
            finalized = true;
        }
        if drops > 0 && self.draws_differ(&before, dropped, &state) {
            self.draws_changed.fetch_add(1, Ordering::Relaxed);
        }
        let next = UState::new(state, returns, dropped, finalized, missed, owed);
        self.record_owed(&next);
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("LIVE-CONVERGENCE", |m: &Unbounded, s: &UState| {
                m.stuck_verdict(s, Goal::Convergence)
            }),
            Property::always("LIVE-FINALITY", |m: &Unbounded, s: &UState| {
                m.stuck_verdict(s, Goal::Finality)
            }),
            Property::always("LIVE-NO-STALL", |m: &Unbounded, s: &UState| {
                m.stuck_verdict(s, Goal::NoStall)
            }),
        ]
    }

    fn within_boundary(&self, _: &UState) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }
}

/// The two unbounded goals.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Goal {
    /// Present honest nodes agree on every height they both hold.
    Convergence,
    /// The common Final prefix keeps growing.
    Finality,
    /// No round stops for good because suspension starves it (LIVE-NO-STALL).
    NoStall,
}

/// Why a state without successors is or is not excused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stuck {
    /// The state has a successor.
    No,
    /// Every stuck node is in a round it entered before GST (GST never came for it).
    BeforeGst,
    /// A stuck node's round has no good iteration (absence or Byzantine past the bound).
    PastBound,
    /// A stuck node's round has no good iteration because suspensions starve it (no iteration
    /// can reach SM with the suspended kept out, one could without them): LIVE-NO-STALL
    /// violated, the other two excused as past the bound.
    Stalled(String),
    /// Every node ran past the window (`rounds`) with no common Final block: the abstraction
    /// is too small for this configuration's finality (neither proof nor counterexample).
    WindowTooSmall,
    /// Not excused: a node stuck in a round after GST that has a good iteration.
    Failure(String),
}

impl Unbounded {
    /// Present honest nodes whose chains disagree at some height both hold.
    /// The draws of the round each present honest node of `state` is in, when a height can be
    /// dropped from it (a node whose round the drop ends starts a new one: not compared).
    fn round_draws(&self, dropped: u8, state: &State) -> Vec<Option<Vec<IterationDraw>>> {
        if !self.can_drop(state) {
            return Vec::new();
        }
        let m = self.model(dropped);
        state
            .nodes
            .iter()
            .map(|n| {
                (n.alive && n.step != Step::Done && !n.chain.is_empty())
                    .then(|| m.node_context(&state.root, n).iterations.clone())
            })
            .collect()
    }

    /// Whether the nodes of `after` (heights dropped, `dropped` so far) decide their round
    /// under other draws than `before` recorded.
    fn draws_differ(
        &self,
        before: &[Option<Vec<IterationDraw>>],
        dropped: u8,
        after: &State,
    ) -> bool {
        let m = self.model(dropped);
        after.nodes.iter().zip(before).any(|(n, b)| {
            b.as_ref()
                .is_some_and(|b| *b != m.node_context(&after.root, n).iterations)
        })
    }

    /// Whether a path of this model crosses a dropped height that changed the draws of a round
    /// a node was in (where the abstraction is unsound: spec/faults.md, "Unbounded rounds").
    pub fn path_changes_draws(&self, path: &[(UState, Option<Action>)]) -> bool {
        path.windows(2).any(|w| {
            let ((last, Some(action)), (next, _)) = (&w[0], &w[1]) else {
                return false;
            };
            if !next.finalized || matches!(action, Action::Rejoin { .. }) {
                return false;
            }
            let Some(pre) = self.model(last.dropped).next_state(&last.state, *action) else {
                return false;
            };
            let before = self.round_draws(last.dropped, &pre);
            self.draws_differ(&before, next.dropped, &next.state)
        })
    }

    fn disagree(&self, s: &State) -> bool {
        let config = self.config();
        let live: Vec<_> = s
            .nodes
            .iter()
            .enumerate()
            .filter(|(p, n)| !config.is_byzantine(*p) && n.alive)
            .map(|(_, n)| n)
            .collect();
        live.iter().any(|a| {
            live.iter().any(|b| {
                let k = a.chain.len().min(b.chain.len());
                a.block_at(k) != b.block_at(k)
            })
        })
    }

    /// The actions of `s` (Stateright's `actions`, uncached): the bounded model's, and the
    /// returns of absent provisioners.
    fn compute_actions(&self, s: &UState, actions: &mut Vec<Action>) {
        self.model(s.dropped).actions(&s.state, actions);
        // Coming back: right after a height was made Final everywhere, after GST (the count
        // of dropped heights has saturated), once per provisioner.
        if self.config().faults.rejoin
            && s.finalized
            && usize::from(s.dropped) + 1 >= self.models.len()
        {
            for (p, n) in s.state.nodes.iter().enumerate() {
                if !n.alive && !s.returns.has_returned(p) && !self.config().is_byzantine(p) {
                    actions.push(Action::Rejoin { p: p as u8 });
                }
            }
        }
    }

    /// Classifies a state (see [`Stuck`]).
    pub fn stuck(&self, s: &UState) -> Stuck {
        if self.model(s.dropped).has_action(&s.state) {
            return Stuck::No;
        }
        self.stuck_idle(s)
    }

    /// Classifies a state in which no node can act (returns aside).
    fn stuck_idle(&self, s: &UState) -> Stuck {
        let m = self.model(s.dropped);
        let config = self.config();
        let gst = config.faults.gst_round;
        let live: Vec<usize> = (0..s.state.nodes.len())
            .filter(|&p| !config.is_byzantine(p) && s.state.nodes[p].alive)
            .collect();
        if live.is_empty() {
            return Stuck::BeforeGst;
        }
        let absolute = |p: usize| usize::from(s.state.nodes[p].round()) + usize::from(s.dropped);
        let waiting: Vec<usize> = live
            .iter()
            .copied()
            .filter(|&p| s.state.nodes[p].step != Step::Done)
            .collect();
        if waiting.is_empty() {
            // FIN-1..3: a block with PNI > 0 needs 2·PNI stable blocks above it; past the
            // window that is the abstraction's limit, not a failure. A window of attested
            // blocks (PNI 0) with nothing Final is a failure of finality itself.
            let pni_above = live.iter().any(|&p| {
                s.state.nodes[p].chain.iter().any(|e| {
                    e.label != Label::Final && e.iteration > e.failed.below(e.iteration).count()
                })
            });
            if pni_above {
                return Stuck::WindowTooSmall;
            }
            return Stuck::Failure(format!(
                "every node ran past the window of {} rounds holding only attested blocks \
                 (PNI 0) and none of them is Final at every node",
                config.protocol.rounds
            ));
        }
        if gst == 0 || waiting.iter().all(|&p| absolute(p) < usize::from(gst)) {
            return Stuck::BeforeGst;
        }
        let mut failures = Vec::new();
        let mut stalls = Vec::new();
        let mut past = false;
        for &p in &waiting {
            let n = &s.state.nodes[p];
            if absolute(p) < usize::from(gst) {
                continue;
            }
            match first_good_with(m, &s.state, n, &s.returns.back_from) {
                Some(g) => failures.push(format!(
                    "P{p} stuck at height {} (relative) iteration {} {:?}; iteration {g} of that \
                     round is good",
                    n.round(),
                    n.iteration,
                    n.step
                )),
                None => {
                    past = true;
                    let back = &s.returns.back_from;
                    if let Some(out) = starved_by_suspension(m, &s.state, n, back) {
                        let out: Vec<String> = out.iter().map(|q| format!("P{q}")).collect();
                        stalls.push(format!(
                            "P{p} stuck at height {} (relative) iteration {} {:?}: no iteration \
                             of that round can reach SM with {} suspended, one could without \
                             the suspension",
                            n.round(),
                            n.iteration,
                            n.step,
                            out.join(", ")
                        ));
                    }
                }
            }
        }
        if failures.is_empty() && !stalls.is_empty() {
            Stuck::Stalled(format!("no action is possible: {}", stalls.join("; ")))
        } else if failures.is_empty() && past {
            Stuck::PastBound
        } else if failures.is_empty() {
            Stuck::BeforeGst
        } else {
            Stuck::Failure(format!("no action is possible: {}", failures.join("; ")))
        }
    }

    /// The condition of a goal's property: false exactly at a reachable state without
    /// successors that is not excused (and, for convergence, where the nodes disagree).
    pub fn stuck_verdict(&self, s: &UState, goal: Goal) -> bool {
        // Both goals ask about the same state one after the other, on the same thread, and
        // Stateright asks for its actions next: they are computed once, here ([`LAST`]).
        let cached = LAST.with(|l| {
            l.borrow()
                .as_ref()
                .and_then(|(digest, st, _)| (*digest == s.digest).then(|| st.clone()))
        });
        let stuck = cached.unwrap_or_else(|| {
            let mut actions = Vec::new();
            self.compute_actions(s, &mut actions);
            // Returns aside, as `stuck`.
            let st = if actions.iter().any(|a| !matches!(a, Action::Rejoin { .. })) {
                Stuck::No
            } else {
                self.stuck_idle(s)
            };
            LAST.with(|l| *l.borrow_mut() = Some((s.digest, st.clone(), Some(actions))));
            st
        });
        match stuck {
            Stuck::No | Stuck::BeforeGst => true,
            Stuck::Stalled(_) if goal == Goal::NoStall => false,
            Stuck::PastBound | Stuck::Stalled(_) => {
                if goal == Goal::Finality {
                    self.live.stuck_past_bound.fetch_add(1, Ordering::Relaxed);
                }
                true
            }
            Stuck::WindowTooSmall => {
                if goal == Goal::Finality {
                    self.window_exhausted.fetch_add(1, Ordering::Relaxed);
                }
                true
            }
            Stuck::Failure(_) => goal == Goal::Convergence && !self.disagree(&s.state),
        }
    }
}

/// The IDs the Stateright search of this model checks, in report order.
pub const IDS: [&str; 3] = ["LIVE-CONVERGENCE", "LIVE-FINALITY", "LIVE-NO-STALL"];

/// Decided on the same search by a ranking, or by the fair-cycle search of `crate::liveness`.
pub const SUSPEND: &str = "LIVE-SUSPEND";

/// Decided by the fair-cycle search of `crate::liveness` (AG AF), with `faults.rejoin`.
pub const REJOIN: &str = "LIVE-REJOIN";

/// States the fair-cycle search for a LIVE-SUSPEND lasso may explore (about 120 bytes each).
pub const LASSO_SEARCH_STATES: usize = 30_000_000;

/// The statements, as in spec/properties.md.
pub fn statement(id: &str) -> &'static str {
    match id {
        REJOIN => {
            "after GST, rounds for ever: a provisioner back from absence earns rewards again (paid by REW-1/2 for a block made Final everywhere, as its generator or a signer of its attestation), on every fair path"
        }
        SUSPEND => {
            "after GST, rounds for ever: an absent generator stops costing iterations (its missed slots are finitely many on every fair path)"
        }
        "LIVE-NO-STALL" => {
            "after GST, rounds for ever: no round stops for good because suspensions keep out the stake a Success needs (a round some draw could end without them never becomes one no draw can end)"
        }
        "LIVE-CONVERGENCE" => {
            "after GST, rounds for ever: honest nodes agree on every height infinitely often and are never stuck disagreeing"
        }
        _ => "after GST, rounds for ever: the common Final prefix keeps growing while the blocks above it are attested",
    }
}

/// What the unbounded search found.
#[derive(Clone, Debug)]
pub struct UnboundedResult {
    /// LIVE-CONVERGENCE and LIVE-FINALITY, as report lines.
    pub properties: Vec<crate::report::PropertyReport>,
    /// Unique states of the unbounded model.
    pub unique_states: usize,
    /// Generated states.
    pub total_states: usize,
    /// Seconds of the search (and counterexample rendering).
    pub seconds: f64,
    /// Whether the search visited every reachable state.
    pub exhaustive: bool,
    /// Non-shifting transitions that did not raise the rank.
    pub rank_violations: u64,
    /// Stuck states past the bound.
    pub stuck_past_bound: u64,
    /// Drops that changed the draws of a round a node was in (the abstraction promises none).
    pub draws_changed: u64,
}

/// Searches the unbounded model of `config` depth-first (counterexamples as found, not
/// shortened) with the limits of `opts` and reports LIVE-CONVERGENCE and LIVE-FINALITY.
pub fn check(
    config: &Config,
    opts: &crate::options::CheckOptions,
    progress: &mut dyn FnMut(&crate::options::Progress),
) -> UnboundedResult {
    check_model(Unbounded::new(config), config, opts, progress)
}

/// [`check`] of a given unbounded model of `config` (for [`Unbounded::with_maturing_in_window`]).
#[allow(
    clippy::too_many_lines,
    reason = "the unbounded search and its report lines in the order a reader checks them; issue 32 splits it"
)]
pub fn check_model(
    model: Unbounded,
    config: &Config,
    opts: &crate::options::CheckOptions,
    progress: &mut dyn FnMut(&crate::options::Progress),
) -> UnboundedResult {
    use crate::report::{PropertyReport, Status};
    use stateright::Checker;
    let start = std::time::Instant::now();
    let na = config.faults.gst_round == 0;
    if na {
        let properties = IDS
            .iter()
            .chain([&SUSPEND, &REJOIN])
            .map(|id| PropertyReport {
                id: (*id).into(),
                kind: sa_model::properties::Kind::Liveness,
                statement: statement(id).into(),
                status: Status::NotApplicable,
                note: Some(
                    "no GST in this configuration (asynchronous in every round): liveness is \
                     promised only after GST"
                        .into(),
                ),
                counterexample: None,
            })
            .collect();
        return UnboundedResult {
            properties,
            unique_states: 0,
            total_states: 0,
            seconds: 0.0,
            exhaustive: true,
            rank_violations: 0,
            stuck_past_bound: 0,
            draws_changed: 0,
        };
    }
    // The Stateright search's own properties asked to stop at (LIVE-SUSPEND is decided after it).
    let stop_on: Vec<&'static str> = IDS
        .iter()
        .copied()
        .filter(|id| opts.stop_on.contains(id))
        .collect();
    let mut b = model
        .clone()
        .checker()
        .threads(opts.threads.max(1))
        // Without `stop_on` the search never stops at a discovery (`AnyOf` an empty set): it
        // sees every state, so LIVE-SUSPEND's ranking and LIVE-REJOIN's search from the recorded
        // owed states decide even when the first two properties fail (the whole-graph searches
        // they would fall back to cost far more than finishing this one).
        .finish_when(stateright::HasDiscoveries::AnyOf(
            stop_on.iter().copied().collect(),
        ));
    if let Some(n) = opts.max_states {
        b = b.target_state_count(n);
    }
    let checker = b.spawn_dfs();
    let mut nap = std::time::Duration::from_millis(2);
    let mut cut = None;
    while !checker.is_done() {
        let elapsed = start.elapsed();
        if cut.is_none() {
            if opts.timeout.is_some_and(|t| elapsed >= t) {
                cut = Some("timeout");
            } else if opts
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
            {
                cut = Some("interrupted");
            }
            if cut.is_some() {
                model.stop.store(true, Ordering::Relaxed);
            }
        }
        progress(&crate::options::Progress {
            unique_states: checker.unique_state_count(),
            total_states: checker.state_count(),
            max_depth: checker.max_depth(),
            elapsed,
            unbounded: true,
        });
        std::thread::sleep(nap);
        nap = (nap * 2).min(std::time::Duration::from_millis(100));
    }
    let checker = checker.join();
    let total_states = checker.state_count();
    let exhaustive = cut.is_none() && opts.max_states.is_none_or(|n| total_states < n);
    let rank_violations = model.live.rank_violations.load(Ordering::Relaxed);
    let draws_changed = model.draws_changed.load(Ordering::Relaxed);
    let window = model.window_exhausted.load(Ordering::Relaxed);
    let discoveries = checker.discoveries();
    let mut properties: Vec<PropertyReport> = IDS
        .iter()
        .map(|id| {
            let path = discoveries.get(id);
            // A path across a drop that changed a round's draws shows the abstraction, not the
            // protocol: not a violation.
            let artefact = path.is_some_and(|p| model.path_changes_draws(&p.clone().into_vec()));
            let status = match path {
                Some(_) if artefact => Status::Inconclusive,
                Some(_) => Status::Violated,
                None if rank_violations > 0 || draws_changed > 0 => Status::Inconclusive,
                None => Status::Holds,
            };
            let (note, counterexample) = match path {
                Some(p) => {
                    let pairs = p.clone().into_vec();
                    let last = pairs.last().map(|(s, _)| s.clone());
                    let note = last.map(|s| match model.stuck(&s) {
                        Stuck::Failure(why) | Stuck::Stalled(why) => why,
                        other => format!("{other:?}"),
                    });
                    let note = if artefact {
                        note.map(|n| {
                            format!(
                                "not proven: the path found drops a height that changes the \
                                 draws of a round a node is in (the abstraction is unsound \
                                 there; spec/faults.md, \"Unbounded rounds\"): {n}"
                            )
                        })
                    } else {
                        note
                    };
                    (note, Some(render(&model, pairs, false)))
                }
                None if draws_changed > 0 => (
                    Some(format!(
                        "not proven: {draws_changed} dropped height(s) changed the draws of a \
                         round a node was in (the abstraction is unsound there)"
                    )),
                    None,
                ),
                None if rank_violations > 0 => (
                    Some(format!(
                        "not proven: {rank_violations} transition(s) that dropped no height did \
                         not increase the progress rank, so a cycle without a shift may exist"
                    )),
                    None,
                ),
                None if window > 0 => (
                    Some(format!(
                        "{window} reachable state(s) where every node ran past the window of {} \
                         rounds with a PNI > 0 block not yet Final: beyond the abstraction, \
                         counted, not judged",
                        config.protocol.rounds
                    )),
                    None,
                ),
                None => (None, None),
            };
            PropertyReport {
                id: (*id).into(),
                kind: sa_model::properties::Kind::Liveness,
                statement: statement(id).into(),
                status,
                note,
                counterexample,
            }
        })
        .collect();
    // Whether the search saw every reachable state: with `stop_on` it stops at the first of
    // those discoveries.
    let searched_all =
        exhaustive && draws_changed == 0 && (stop_on.is_empty() || discoveries.is_empty());
    let cap = opts
        .max_states
        .map_or(LASSO_SEARCH_STATES, |n| n.min(LASSO_SEARCH_STATES));
    if cut == Some("interrupted") {
        // Interrupted: the whole-graph searches these two may fall back to are not started
        // (they would run for minutes after Ctrl-C).
        properties.extend([SUSPEND, REJOIN].map(|id| PropertyReport {
            id: id.into(),
            kind: sa_model::properties::Kind::Liveness,
            statement: statement(id).into(),
            status: Status::Inconclusive,
            note: Some("not decided: the search was interrupted (Ctrl-C)".into()),
            counterexample: None,
        }));
    } else {
        properties.push(suspend_report(config, &model, searched_all, cap));
        properties.push(rejoin_report(config, &model, searched_all, cap));
    }
    UnboundedResult {
        properties,
        unique_states: checker.unique_state_count(),
        total_states,
        seconds: start.elapsed().as_secs_f64(),
        exhaustive,
        rank_violations,
        stuck_past_bound: model.live.stuck_past_bound.load(Ordering::Relaxed),
        draws_changed,
    }
}

/// LIVE-SUSPEND's line. Proven by the ranking of [`Unbounded::suspend_rank`], checked at every
/// dropped height of the search just run: an absent provisioner's rank never rises and falls
/// at each height its slot cost an iteration, so no cycle of the graph holds such a height.
/// Where the ranking fails, the fair-cycle search of `crate::liveness` looks for a lasso
/// through such a height (bounded by `cap` states): VIOLATED with the lasso, or NOT proven.
#[allow(
    clippy::too_many_lines,
    reason = "LIVE-SUSPEND's verdict: ranking proof, whole-graph fallback, each case with its own note"
)]
fn suspend_report(
    config: &Config,
    model: &Unbounded,
    searched_all: bool,
    cap: usize,
) -> crate::report::PropertyReport {
    use crate::report::{PropertyReport, Status};
    let line = |status, note: String, counterexample| PropertyReport {
        id: SUSPEND.into(),
        kind: sa_model::properties::Kind::Liveness,
        statement: statement(SUSPEND).into(),
        status,
        note: Some(note),
        counterexample,
    };
    if config.faults.absent == 0 {
        return line(
            Status::NotApplicable,
            "no provisioner may be absent in this configuration (faults.absent = 0)".into(),
            None,
        );
    }
    let unproven = model.suspend_unproven.load(Ordering::Relaxed);
    let missed = model.missed_drops.load(Ordering::Relaxed);
    if unproven == 0 && searched_all {
        let note = if missed == 0 {
            "no height whose round an absent generator's slot cost an iteration is made Final \
             where a cycle may pass (on these draws an absent generator's round has no good \
             iteration, past the bound, or it is never drawn): holds, not exercised here (the \
             `emergency` preset exercises it)"
                .to_string()
        } else {
            format!(
                "{missed} transition(s) made Final a height whose round an absent generator's \
                 slot cost an iteration; at each, that provisioner's rank (stake with weight, \
                 fault counters) fell, and no transition raised it: finitely many on every path"
            )
        };
        return line(Status::Holds, note, None);
    }
    let why = |n: u64| {
        if n > 0 {
            format!("the ranking failed at {n} dropped height(s)")
        } else {
            "the search above stopped before it saw every state".to_string()
        }
    };
    let fresh = Unbounded::new(config);
    let r = crate::liveness::check_recurrence(&fresh, &|_, s: &UState| s.missed, true, Some(cap));
    match r.failure {
        Some(crate::liveness::Failure::Lasso { prefix, cycle }) => {
            let cx = render_lasso(&fresh, prefix, cycle);
            line(
                Status::Violated,
                format!(
                    "a fair cycle makes Final, again and again, a height whose round an absent \
                     generator's slot cost an iteration ({}; fair-cycle search: {} states, {} \
                     cyclic components, {} excluded by fairness)",
                    why(unproven),
                    r.states,
                    r.cyclic_components,
                    r.unfair_components
                ),
                Some(cx),
            )
        }
        _ if !r.truncated => line(
            Status::Holds,
            format!(
                "{}; the fair-cycle search decided: no fair cycle through one of the {} \
                 state(s) reached by making such a height Final, in {} states ({} cyclic \
                 components, {} excluded by fairness)",
                why(unproven),
                r.non_goal_states,
                r.states,
                r.cyclic_components,
                r.unfair_components
            ),
            None,
        ),
        _ => line(
            Status::Inconclusive,
            format!(
                "not proven: {} and the fair-cycle search found no lasso within {cap} states \
                 (cut)",
                why(unproven)
            ),
            None,
        ),
    }
}

/// LIVE-REJOIN's line: with `faults.rejoin`, the fair-cycle search of `crate::liveness` checks
/// AG AF "no provisioner back from absence is still owed a credit" (the monitor
/// [`UState::owed`]) under weak fairness; a stuck state counts as the goal (LIVE-CONVERGENCE
/// and LIVE-FINALITY judge those), so a failure is a fair lasso.
#[allow(
    clippy::too_many_lines,
    reason = "LIVE-REJOIN's verdict: the owed-state search, then the whole-graph fallback, each case with its own note"
)]
fn rejoin_report(
    config: &Config,
    searched: &Unbounded,
    searched_all: bool,
    cap: usize,
) -> crate::report::PropertyReport {
    use crate::report::{PropertyReport, Status};
    let line = |status, note: String, counterexample| PropertyReport {
        id: REJOIN.into(),
        kind: sa_model::properties::Kind::Liveness,
        statement: statement(REJOIN).into(),
        status,
        note: Some(note),
        counterexample,
    };
    if !config.faults.rejoin || config.faults.absent == 0 {
        return line(
            Status::NotApplicable,
            "no provisioner comes back from absence in this configuration (faults.rejoin = \
             false or faults.absent = 0)"
                .into(),
            None,
        );
    }
    let goal = rejoin_goal;
    let returns = searched.returns_seen.load(Ordering::Relaxed);
    // Every failure lies among the owed states: when the search above saw every state and
    // recorded each owed one, the search from those decides (figures in the note); else, or on
    // a failure (for the shortest lasso from an initial state), the whole graph is searched.
    let seeds = if searched_all {
        searched
            .owed_states
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
    } else {
        None
    };
    if let Some(seeds) = seeds {
        let owed = seeds.len();
        // The same model (its ledger registry names the bases the recorded states carry).
        let probe = searched.clone();
        let r = crate::liveness::check_eventually_from(
            &probe,
            seeds.into_iter().collect(),
            &goal,
            true,
            Some(cap),
        );
        if r.holds() {
            let figures = format!(
                "fair-cycle search from the {owed} reachable state(s) with a returned \
                 provisioner still owed (recorded by the search above): {} states explored, {} \
                 owed, {} cyclic components of those, {} excluded by fairness; {returns} \
                 return(s) taken",
                r.states, r.non_goal_states, r.cyclic_components, r.unfair_components
            );
            return if returns == 0 {
                line(
                    Status::Holds,
                    format!("holds, not exercised: no provisioner came back ({figures})"),
                    None,
                )
            } else {
                line(Status::Holds, figures, None)
            };
        }
    }
    let model = Unbounded::new(config);
    let r = crate::liveness::check_eventually(&model, &goal, true, Some(cap));
    let figures = format!(
        "fair-cycle search: {} states, {} with a returned provisioner still owed, {} cyclic \
         components of those, {} excluded by fairness; {returns} return(s) taken",
        r.states, r.non_goal_states, r.cyclic_components, r.unfair_components
    );
    match r.failure {
        Some(crate::liveness::Failure::Lasso { prefix, cycle }) => {
            let cx = render_lasso(&model, prefix, cycle);
            line(
                Status::Violated,
                format!(
                    "a fair cycle on which a provisioner back from absence is never paid a reward \
                     ({figures})"
                ),
                Some(cx),
            )
        }
        Some(crate::liveness::Failure::Deadlock { path }) => line(
            Status::Violated,
            format!(
                "a state without successors where a provisioner back from absence was never \
                 paid a reward ({figures})"
            ),
            Some(render(&model, path, true)),
        ),
        None if r.truncated => line(
            Status::Inconclusive,
            format!("not proven: the fair-cycle search was cut at {cap} states ({figures})"),
            None,
        ),
        None if returns == 0 => line(
            Status::Holds,
            format!("holds, not exercised: no provisioner came back ({figures})"),
            None,
        ),
        None => line(Status::Holds, figures, None),
    }
}

/// LIVE-REJOIN's goal: no returned provisioner is still owed a credit. A stuck state counts
/// as the goal: LIVE-CONVERGENCE and LIVE-FINALITY judge those (excused or their failure), so
/// this property's failures are fair cycles.
pub fn rejoin_goal(m: &Unbounded, s: &UState) -> bool {
    s.owed == 0 || m.stuck(s) != Stuck::No
}

/// Renders a lasso (the prefix ends at the loop's first state, which the loop returns to):
/// one path whose steps from `loop_start` on repeat for ever.
fn render_lasso(
    model: &Unbounded,
    prefix: Vec<(UState, Option<Action>)>,
    cycle: Vec<(UState, Option<Action>)>,
) -> crate::report::Counterexample {
    let loop_start = prefix.len();
    let mut pairs = prefix;
    pairs.pop();
    pairs.extend(cycle);
    let mut cx = render(model, pairs, true);
    cx.loop_start = Some(loop_start);
    cx
}

/// Renders a path of the unbounded model in the spec's words; a step that made a height
/// Final everywhere says that heights are renumbered from there.
pub fn render(
    model: &Unbounded,
    pairs: Vec<(UState, Option<Action>)>,
    shortest: bool,
) -> crate::report::Counterexample {
    let finalized: Vec<bool> = pairs.iter().map(|(s, _)| s.finalized).collect();
    let plain: Vec<(State, Option<Action>)> =
        pairs.into_iter().map(|(s, a)| (s.state, a)).collect();
    let mut cx = crate::render::render_steps(model.model(0), plain, shortest);
    for (k, step) in cx.steps.iter_mut().enumerate() {
        if finalized.get(k + 1).copied().unwrap_or(false) {
            step.description.push_str(
                " [height 1 is now Final at every present honest node: it is dropped and the \
                 heights renumbered]",
            );
        }
    }
    cx
}

/// Weak fairness for the fair-cycle search of `crate::liveness`: after GST every node's events
/// are fair (a node that can act eventually acts: delivery and on-time timers, TIME-3/4), one
/// class per node; before GST nothing is (timers may fire early, delivery may wait), and the
/// adversary's moves (absence, Byzantine candidates) never are.
impl crate::liveness::Fairness for Unbounded {
    fn fairness_class(&self, s: &UState, a: &Action) -> Option<u32> {
        match *a {
            Action::Node { p, event } => {
                let m = self.model(s.dropped);
                let node = &s.state.nodes[usize::from(p)];
                let fault = matches!(
                    event,
                    sa_model::node::Event::Crash | sa_model::node::Event::Propose { valid: false }
                );
                (m.post_gst(node) && !fault).then_some(u32::from(p))
            }
            Action::ByzantinePropose { .. } | Action::Rejoin { .. } => None,
        }
    }
}

/// The goal the fair-cycle search checks on the unbounded model (AG AF goal): a height was
/// just made Final everywhere, or the state is stuck in a way the properties excuse (before
/// GST, past the bound, past the window with PNI > 0 blocks) or LIVE-NO-STALL judges.
pub fn progress_goal(m: &Unbounded, s: &UState) -> bool {
    s.finalized
        || matches!(
            m.stuck(s),
            Stuck::BeforeGst | Stuck::PastBound | Stuck::WindowTooSmall | Stuck::Stalled(_)
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The digest is a function of the fields, and the per-thread cache that the goals' stuck
    /// check fills gives `actions` exactly the actions computed afresh, once; a state whose
    /// properties were not evaluated last is never served another state's actions.
    #[test]
    fn digest_and_action_cache_agree_with_fresh_computation() {
        let config = sa_model::config::Config::preset("rejoin").expect("preset");
        let model = Unbounded::new(&config);
        let mut seen = std::collections::HashSet::new();
        let mut queue: std::collections::VecDeque<UState> = model.init_states().into();
        let (mut checked, mut rejoins, mut stuck) = (0usize, 0usize, 0usize);
        let mut previous: Option<UState> = None;
        // Depth-first, crashes and heights made Final first, to reach returns and states
        // without actions within the budget.
        while let Some(s) = queue.pop_back() {
            if checked == 50_000 {
                break;
            }
            checked += 1;
            let rebuilt = UState::new(
                s.state.clone(),
                s.returns,
                s.dropped,
                s.finalized,
                s.missed,
                s.owed,
            );
            assert_eq!(rebuilt, s);
            let mut fresh = Vec::new();
            model.compute_actions(&s, &mut fresh);
            rejoins += fresh
                .iter()
                .filter(|a| matches!(a, Action::Rejoin { .. }))
                .count();
            // Evaluated for `s`, then asked for the previous state: not served `s`'s actions.
            let conv = model.stuck_verdict(&s, Goal::Convergence);
            if let Some(p) = &previous {
                let mut theirs = Vec::new();
                model.actions(p, &mut theirs);
                let mut expected = Vec::new();
                model.compute_actions(p, &mut expected);
                assert_eq!(theirs, expected);
            }
            // The verdict again (cached) and the actions from the cache, then afresh.
            let fin = model.stuck_verdict(&s, Goal::Finality);
            let fresh_stuck = model.stuck(&s);
            stuck += usize::from(fresh_stuck != Stuck::No);
            let expected_conv = match &fresh_stuck {
                Stuck::Failure(_) => !model.disagree(&s.state),
                _ => true,
            };
            assert_eq!(conv, expected_conv);
            assert_eq!(fin, !matches!(fresh_stuck, Stuck::Failure(_)));
            for _ in 0..2 {
                let mut served = Vec::new();
                model.actions(&s, &mut served);
                assert_eq!(served, fresh);
            }
            let mut next: Vec<UState> = fresh
                .into_iter()
                .filter_map(|a| model.next_state(&s, a))
                .filter(|n| seen.insert(n.clone()))
                .collect();
            // A crash, then heights made Final, first (popped first): returns follow them.
            next.sort_by_key(|n| {
                let down = n.state.nodes.iter().filter(|x| !x.alive).count();
                (down, n.finalized, n.dropped)
            });
            queue.extend(next);
            previous = Some(s);
        }
        assert_eq!(checked, 50_000);
        assert!(rejoins > 0, "no return among the states checked");
        assert!(
            stuck > 0,
            "no state without actions among the states checked"
        );
    }
}
