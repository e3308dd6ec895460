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
//! `crate::live::rank` (checked on every one), so every cycle of the graph contains a shift,
//! and a shift needs every present honest node to agree on height 1 and hold it Final. Hence
//! on every infinite path the nodes agree and finalize infinitely often, and LIVE-CONVERGENCE
//! and LIVE-FINALITY fail exactly at reachable states without successors that are not excused
//! (`crate::unbounded::stuck_verdict`). If a non-shifting transition did not raise the rank,
//! the per-state check proves nothing and the fair-cycle search of `crate::liveness` decides.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use serde::Serialize;
use stateright::{Model, Property};

use crate::config::Config;
use crate::live::{first_good, rank, LiveCounters};
use crate::model::{Action, SaModel};
use crate::node::skip_idle_steps;
use crate::state::{round_of, BlockId, Label, Msg, Pool, State, Step};

/// A state of the unbounded model: the bounded state (heights relative to the last common
/// Final block), how many heights were dropped so far (saturating once past GST), and whether
/// the step that reached it dropped one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct UState {
    /// Heights relative to the last common Final block.
    pub state: State,
    /// Heights dropped so far, saturating at the GST round (absolute round = relative + this).
    pub dropped: u8,
    /// Whether the step that reached this state made a new height Final at every present
    /// honest node (and so dropped it).
    pub finalized: bool,
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
}

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

    /// Drops height 1 (see the module documentation).
    fn drop_height(&self, s: &mut State, dropped: u8) {
        let config = self.config().clone();
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
        for p in 0..s.nodes.len() {
            let n = &mut s.nodes[p];
            n.last_fallback = None;
            n.anchor = anchor;
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
                skip_idle_steps(next, p, n);
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
    }
}

impl Model for Unbounded {
    type State = UState;
    type Action = Action;

    fn init_states(&self) -> Vec<UState> {
        self.models[0]
            .init_states()
            .into_iter()
            .map(|state| UState {
                state,
                dropped: 0,
                finalized: false,
            })
            .collect()
    }

    fn actions(&self, s: &UState, actions: &mut Vec<Action>) {
        self.model(s.dropped).actions(&s.state, actions);
    }

    fn next_state(&self, last: &UState, action: Action) -> Option<UState> {
        let m = self.model(last.dropped);
        let mut state = m.next_state(&last.state, action)?;
        if rank(&state) <= rank(&last.state) {
            self.live.rank_violations.fetch_add(1, Ordering::Relaxed);
        }
        let mut dropped = last.dropped;
        let mut finalized = false;
        while self.can_drop(&state) {
            self.drop_height(&mut state, dropped);
            dropped = dropped.saturating_add(1).min(self.models.len() as u8 - 1);
            finalized = true;
        }
        Some(UState {
            state,
            dropped,
            finalized,
        })
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("LIVE-CONVERGENCE", |m: &Unbounded, s: &UState| {
                m.stuck_verdict(s, Goal::Convergence)
            }),
            Property::always("LIVE-FINALITY", |m: &Unbounded, s: &UState| {
                m.stuck_verdict(s, Goal::Finality)
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
    /// Every node ran past the window (`rounds`) with no common Final block: the abstraction
    /// is too small for this configuration's finality (neither proof nor counterexample).
    WindowTooSmall,
    /// Not excused: a node stuck in a round after GST that has a good iteration.
    Failure(String),
}

impl Unbounded {
    /// Present honest nodes whose chains disagree at some height both hold.
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

    /// Classifies a state (see [`Stuck`]).
    pub fn stuck(&self, s: &UState) -> Stuck {
        let m = self.model(s.dropped);
        let mut actions = Vec::new();
        m.actions(&s.state, &mut actions);
        if !actions.is_empty() {
            return Stuck::No;
        }
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
        let mut past = false;
        for &p in &waiting {
            let n = &s.state.nodes[p];
            if absolute(p) < usize::from(gst) {
                continue;
            }
            match first_good(m, &s.state, &m.node_context(n), n.tip()) {
                Some(g) => failures.push(format!(
                    "P{p} stuck at height {} (relative) iteration {} {:?}; iteration {g} of that \
                     round is good",
                    n.round(),
                    n.iteration,
                    n.step
                )),
                None => past = true,
            }
        }
        if failures.is_empty() && past {
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
        // Both goals ask about the same state one after the other, on the same thread: the
        // actions are computed once.
        thread_local! {
            static LAST: std::cell::RefCell<Option<(u64, Stuck)>> = const { std::cell::RefCell::new(None) };
        }
        use std::hash::BuildHasher;
        let fp = std::hash::BuildHasherDefault::<crate::state::WyHasher>::default().hash_one(s);
        let cached = LAST.with(|l| {
            l.borrow()
                .as_ref()
                .and_then(|(f, st)| (*f == fp).then(|| st.clone()))
        });
        let stuck = cached.unwrap_or_else(|| {
            let st = self.stuck(s);
            LAST.with(|l| *l.borrow_mut() = Some((fp, st.clone())));
            st
        });
        match stuck {
            Stuck::No | Stuck::BeforeGst => true,
            Stuck::PastBound => {
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

/// The IDs this model checks, in report order.
pub const IDS: [&str; 2] = ["LIVE-CONVERGENCE", "LIVE-FINALITY"];

/// The statements, as in spec/properties.md.
pub fn statement(id: &str) -> &'static str {
    match id {
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
}

/// Searches the unbounded model of `config` depth-first (counterexamples as found, not
/// shortened) with the limits of `opts` and reports LIVE-CONVERGENCE and LIVE-FINALITY.
pub fn check(
    config: &Config,
    opts: &crate::CheckOptions,
    progress: &mut dyn FnMut(&crate::Progress),
) -> UnboundedResult {
    use crate::report::{PropertyReport, Status};
    use stateright::Checker;
    let start = std::time::Instant::now();
    let model = Unbounded::new(config);
    let na = config.faults.gst_round == 0;
    if na {
        let properties = IDS
            .iter()
            .map(|id| PropertyReport {
                id: (*id).into(),
                kind: crate::properties::Kind::Liveness,
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
        };
    }
    let mut b = model
        .clone()
        .checker()
        .threads(opts.threads.max(1))
        .finish_when(if opts.stop_on.is_empty() {
            stateright::HasDiscoveries::AllOf(IDS.iter().copied().collect())
        } else {
            stateright::HasDiscoveries::AnyOf(
                IDS.iter()
                    .copied()
                    .filter(|id| opts.stop_on.contains(id))
                    .collect(),
            )
        });
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
        progress(&crate::Progress {
            unique_states: checker.unique_state_count(),
            total_states: checker.state_count(),
            max_depth: checker.max_depth(),
            elapsed,
        });
        std::thread::sleep(nap);
        nap = (nap * 2).min(std::time::Duration::from_millis(100));
    }
    let checker = checker.join();
    let total_states = checker.state_count();
    let exhaustive = cut.is_none() && opts.max_states.is_none_or(|n| total_states < n);
    let rank_violations = model.live.rank_violations.load(Ordering::Relaxed);
    let window = model.window_exhausted.load(Ordering::Relaxed);
    let discoveries = checker.discoveries();
    let properties = IDS
        .iter()
        .map(|id| {
            let path = discoveries.get(id);
            let status = match path {
                Some(_) => Status::Violated,
                None if rank_violations > 0 => Status::Inconclusive,
                None => Status::Holds,
            };
            let (note, counterexample) = match path {
                Some(p) => {
                    let pairs = p.clone().into_vec();
                    let last = pairs.last().map(|(s, _)| s.clone());
                    let note = last.map(|s| match model.stuck(&s) {
                        Stuck::Failure(why) => why,
                        other => format!("{other:?}"),
                    });
                    (note, Some(render(&model, pairs, false)))
                }
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
                kind: crate::properties::Kind::Liveness,
                statement: statement(id).into(),
                status,
                note,
                counterexample,
            }
        })
        .collect();
    UnboundedResult {
        properties,
        unique_states: checker.unique_state_count(),
        total_states,
        seconds: start.elapsed().as_secs_f64(),
        exhaustive,
        rank_violations,
        stuck_past_bound: model.live.stuck_past_bound.load(Ordering::Relaxed),
    }
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
    let mut cx = crate::check::render_steps(model.model(0), plain, shortest);
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
                    crate::node::Event::Crash | crate::node::Event::Propose { valid: false }
                );
                (m.post_gst(node) && !fault).then_some(u32::from(p))
            }
            Action::ByzantinePropose { .. } => None,
        }
    }
}

/// The goal the fair-cycle search checks on the unbounded model (AG AF goal): a height was
/// just made Final everywhere, or the state is stuck in a way the properties excuse (before
/// GST, past the bound, past the window with PNI > 0 blocks).
pub fn progress_goal(m: &Unbounded, s: &UState) -> bool {
    s.finalized
        || matches!(
            m.stuck(s),
            Stuck::BeforeGst | Stuck::PastBound | Stuck::WindowTooSmall
        )
}
