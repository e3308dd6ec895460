//! Seeded random walks (`sa simulate`): a swarm of depth-first runs from the initial state,
//! every safety and liveness property evaluated at every state, as TLC's `-simulate` or
//! `quint run` do. For configurations whose exhaustive search cannot finish on one machine.
//!
//! - **Reproducible by seed.** Walk `k` of seed `s` draws from its own generator
//!   (XorShift seeded from `s` and `k`); the actions it chooses from are the model's, in the
//!   model's order (BTree collections: no hash order). The violation reported is the one of
//!   the lowest-numbered walk that has one, whatever the thread count: a thread stops taking
//!   walks numbered above a violation found, and every walk below it is run to its end.
//! - **Swarm** (Groce et al., "Swarm testing", ISSTA 2012): each walk draws a weight per
//!   (provisioner, kind of event), zero for about one pair in four; an action of weight zero
//!   is taken only when every enabled action has weight zero. Walks that starve a node of one
//!   kind of message for a whole walk reach states (a node that never hears of a late Success)
//!   that uniform choice reaches with vanishing probability.
//! - **Never a wrong path.** A walk records the actions it took; a counterexample is rebuilt
//!   by replaying them through `init_states`, `actions` (each must be enabled) and
//!   `next_state` (an action whose `next_state` is `None` is skipped at choice time, never
//!   recorded: the `spawn_simulation` defect of Stateright 0.31 does not arise).
//! - **Shrunk.** A violation's path is shortened by removing steps while the replay stays
//!   enabled and still violates the property (chunks, then single steps, to a fixpoint):
//!   no single step of the result can be removed. Not a shortest path.
//! - **Not exhaustive**, and said so: the report's search line names the seed, the walks and
//!   the states visited; "holds" reads "holds so far".

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{RngExt, SeedableRng};
use rand_xorshift::XorShiftRng;
use stateright::{Expectation, Model, Property};

use crate::checked::Checked;
pub use crate::options::Strategy;
use crate::render::render_steps;
use crate::report::{CheckReport, PropertyReport, Status, Verdict};
pub use crate::report::{SimViolation, SimulationSummary};
use sa_model::config::MAX_PROVISIONERS;
use sa_model::model::{Action, SaModel};
use sa_model::node::Event;
use sa_model::properties::{Kind, SPECS};
use sa_model::state::State;

/// What a simulation is asked to do.
#[derive(Clone, Debug)]
pub struct SimOptions {
    /// The run's seed: walk `k` is a function of (seed, k).
    pub seed: u64,
    /// Walks to run (fewer if a violation, the timeout or an interrupt stops the run).
    pub walks: u64,
    /// Steps after which a walk is cut (the bounded model's walks end well before).
    pub max_depth: usize,
    /// Worker threads.
    pub threads: usize,
    /// Stop taking new walks after this long.
    pub timeout: Option<Duration>,
    /// Set from outside (Ctrl-C) to stop taking new walks.
    pub interrupt: Option<Arc<AtomicBool>>,
    /// How a walk chooses among the enabled actions.
    pub strategy: Strategy,
    /// Shrink each violation's path.
    pub shrink: bool,
    /// Run this walk only (to replay a reported one).
    pub only_walk: Option<u64>,
    /// Run only the walks of one shard: `(index, count)`, index from 0; walk `k` belongs to
    /// shard `k % count`. Shards of one run merge ([`crate::shard::merge_simulations`]) into
    /// the unsharded run's violations and counts.
    pub shard: Option<(u64, u64)>,
    /// When to stop before the walks are done (see [`Stop`]).
    pub stop: Stop,
    /// States of the breadth-first search run around the state where a walk first violated
    /// a property (0: none). What lies a few steps past one violation is often another: a
    /// block Final too early (SAFE-FINAL-PRIOR-ITERATIONS) is a fork (SAFE-FINAL-AGREEMENT)
    /// once a few more messages are delivered in the right order, which a walk rarely does.
    pub local_states: usize,
}

/// When a simulation stops before its walks are done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Stop {
    /// After the lowest-numbered walk that violates any property.
    AnyViolation,
    /// After the lowest-numbered walk that violates one of these properties (the others
    /// violated on the way are reported too).
    On(Vec<&'static str>),
    /// Never: every walk is run, and each property reports the lowest-numbered walk that
    /// violates it.
    Never,
}

impl Default for SimOptions {
    fn default() -> Self {
        SimOptions {
            seed: 0,
            walks: 1_000_000,
            max_depth: 10_000,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            timeout: None,
            interrupt: None,
            strategy: Strategy::Mixed,
            shrink: true,
            only_walk: None,
            shard: None,
            stop: Stop::Never,
            local_states: 200_000,
        }
    }
}

/// Progress of a running simulation.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SimProgress {
    /// Walks finished.
    pub walks: u64,
    /// States visited (every state of every walk, counting revisits).
    pub states: u64,
    /// Longest walk so far.
    pub max_depth: usize,
    /// Time since the run started.
    pub elapsed: Duration,
}

/// How many kinds of action the swarm weighs apart (see [`kind`]).
const KINDS: usize = 12;

/// The kind of an action, for its swarm weight.
fn kind(a: &Action) -> usize {
    match a {
        Action::Node { event, .. } => match event {
            Event::Propose { .. } => 0,
            Event::Candidate { .. } => 1,
            Event::Timeout { .. } => 2,
            Event::ValidationQuorum { .. } => 3,
            Event::RatificationQuorum { .. } => 4,
            Event::PastSuccess { .. } => 5,
            Event::Fallback { .. } => 6,
            Event::Revote { .. } => 7,
            Event::LateVote { .. } => 8,
            Event::Crash => 9,
        },
        Action::ByzantinePropose { .. } => 10,
        Action::Rejoin { .. } => 11,
    }
}

/// The generator of walk `k` of `seed`.
fn walk_rng(seed: u64, k: u64) -> XorShiftRng {
    // Distinct (seed, k) pairs give distinct 64-bit seeds for any k below 2^32; the generator
    // expands its seed with PCG32, so nearby seeds give unrelated streams.
    XorShiftRng::seed_from_u64(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ k)
}

/// Swarm weights are 2^0 .. 2^(SWARM_SPAN - 1).
const SWARM_SPAN: u32 = 4;

/// Weights or priorities of the classes (actor, kind).
type Table = [[i64; KINDS]; MAX_PROVISIONERS];

/// The choices of one walk: its strategy's weights or priorities, drawn at its start.
struct Chooser {
    pct: bool,
    /// Swarm: weights (all 1 for uniform). PCT: priorities.
    table: Table,
    /// PCT: the steps at which the top class drops, ascending.
    changes: Vec<usize>,
    /// PCT: the priority the next dropped class gets (below every other).
    low: i64,
}

impl Chooser {
    fn new(rng: &mut XorShiftRng, strategy: Strategy, k: u64) -> Chooser {
        let strategy = match strategy {
            Strategy::Mixed if k.is_multiple_of(2) => Strategy::Swarm,
            Strategy::Mixed => Strategy::Pct,
            s => s,
        };
        let mut table = [[1; KINDS]; MAX_PROVISIONERS];
        let mut changes = Vec::new();
        match strategy {
            Strategy::Swarm => {
                for x in table.iter_mut().flatten() {
                    *x = if rng.random_range(0..4u32) == 0 {
                        0
                    } else {
                        1 << rng.random_range(0..SWARM_SPAN)
                    };
                }
            }
            Strategy::Pct => {
                for x in table.iter_mut().flatten() {
                    *x = rng.random_range(0..1_000_000i64);
                }
                let d = rng.random_range(1..=8usize);
                changes = (0..d).map(|_| rng.random_range(0..64usize)).collect();
                changes.sort_unstable();
            }
            Strategy::Uniform | Strategy::Mixed => {}
        }
        Chooser {
            pct: strategy == Strategy::Pct,
            table,
            changes,
            low: 0,
        }
    }

    fn class(a: &Action) -> (usize, usize) {
        (usize::from(a.actor()) % MAX_PROVISIONERS, kind(a))
    }

    /// An index of `actions` (not empty), at step `step` of the walk.
    fn pick(&mut self, rng: &mut XorShiftRng, actions: &[Action], step: usize) -> usize {
        let value = |t: &Table, a: &Action| {
            let (p, c) = Chooser::class(a);
            t[p][c]
        };
        if self.pct {
            while self.changes.first().is_some_and(|&c| c <= step) {
                self.changes.remove(0);
                if let Some(top) = actions.iter().max_by_key(|a| value(&self.table, a)) {
                    let (p, c) = Chooser::class(top);
                    self.low -= 1;
                    self.table[p][c] = self.low;
                }
            }
            let best = actions
                .iter()
                .map(|a| value(&self.table, a))
                .max()
                .unwrap_or(0);
            let of_best: Vec<usize> = (0..actions.len())
                .filter(|&i| value(&self.table, &actions[i]) == best)
                .collect();
            return of_best[rng.random_range(0..of_best.len())];
        }
        let total: u64 = actions
            .iter()
            .map(|a| value(&self.table, a).unsigned_abs())
            .sum();
        if total == 0 {
            return rng.random_range(0..actions.len());
        }
        let mut x = rng.random_range(0..total);
        for (i, a) in actions.iter().enumerate() {
            let w = value(&self.table, a).unsigned_abs();
            if x < w {
                return i;
            }
            x -= w;
        }
        actions.len() - 1
    }
}

/// How one walk ended.
struct Walk {
    /// The actions taken, in order.
    actions: Vec<Action>,
    /// Indices (in `props`) of the properties violated, each with the number of steps after
    /// which it first was (the walk goes on after a violation: a later state may violate
    /// another property, as a fork of Final blocks comes after a block Final too early).
    violated: Vec<(usize, usize)>,
    /// Indices of the witnesses first reached by this walk, with the step count reaching them.
    witnessed: Vec<(usize, usize)>,
    /// States visited.
    states: u64,
    /// Cut by the depth cap.
    cut: bool,
}

/// One walk: from the initial state, a weighted choice among the enabled actions until none
/// is enabled, a property is violated or the depth cap is reached.
fn walk(
    m: &Checked,
    props: &[Property<Checked>],
    seen: &AtomicU64,
    opts: &SimOptions,
    k: u64,
) -> Walk {
    let mut rng = walk_rng(opts.seed, k);
    let mut chooser = Chooser::new(&mut rng, opts.strategy, k);
    let mut state = m.init_states().swap_remove(0);
    // A kept prefix (its states were checked by the walk that first took it), or none.

    let mut taken = Vec::new();
    let mut witnessed = Vec::new();
    let mut enabled = Vec::new();
    let mut states = 0;
    let mut violated: Vec<(usize, usize)> = Vec::new();
    loop {
        states += 1;
        for (i, p) in props.iter().enumerate() {
            match p.expectation {
                Expectation::Always => {
                    if !violated.iter().any(|&(j, _)| j == i) && !(p.condition)(m, &state) {
                        violated.push((i, taken.len()));
                    }
                }
                Expectation::Sometimes => {
                    let bit = 1u64 << i;
                    if seen.load(Ordering::Relaxed) & bit == 0 && (p.condition)(m, &state) {
                        seen.fetch_or(bit, Ordering::Relaxed);
                        witnessed.push((i, taken.len()));
                    }
                }
                Expectation::Eventually => {}
            }
        }
        let done = |actions, violated, cut| Walk {
            actions,
            violated,
            witnessed: witnessed.clone(),
            states,
            cut,
        };
        if taken.len() >= opts.max_depth {
            return done(taken, violated, true);
        }
        enabled.clear();
        m.actions(&state, &mut enabled);
        loop {
            if enabled.is_empty() {
                return done(taken, violated, false);
            }
            let i = chooser.pick(&mut rng, &enabled, taken.len());
            let a = enabled.swap_remove(i);
            if let Some(next) = m.next_state(&state, a) {
                taken.push(a);
                state = next;
                break;
            }
        }
    }
}

/// Replays `actions` from the initial state; each must be enabled where it is taken. Returns
/// the (state, action) pairs, cut at the first state where `violates` holds (the pairs end
/// with that state and no action), or None if an action is not enabled or `violates` never
/// holds.
pub fn replay(
    m: &SaModel,
    actions: &[Action],
    violates: &dyn Fn(&State) -> bool,
) -> Option<Vec<(State, Option<Action>)>> {
    let mut state = m.init_states().swap_remove(0);
    let mut pairs = Vec::new();
    let mut enabled = Vec::new();
    for &a in actions {
        if violates(&state) {
            break;
        }
        enabled.clear();
        m.actions(&state, &mut enabled);
        if !enabled.contains(&a) {
            return None;
        }
        let next = m.next_state(&state, a)?;
        pairs.push((std::mem::replace(&mut state, next), Some(a)));
    }
    if !violates(&state) {
        return None;
    }
    pairs.push((state, None));
    Some(pairs)
}

/// Shortens `actions` while its replay still reaches a state where `violates` holds: drops
/// chunks of halving size, then single steps, until no single step can be dropped.
pub fn shrink(m: &SaModel, actions: &[Action], violates: &dyn Fn(&State) -> bool) -> Vec<Action> {
    let reach = |a: &[Action]| {
        replay(m, a, violates).map(|p| p.iter().filter_map(|(_, a)| *a).collect::<Vec<_>>())
    };
    let Some(mut best) = reach(actions) else {
        return actions.to_vec();
    };
    let mut chunk = (best.len() / 2).max(1);
    loop {
        let mut i = 0;
        let mut dropped = false;
        while i < best.len() {
            let end = (i + chunk).min(best.len());
            let mut trial = best[..i].to_vec();
            trial.extend_from_slice(&best[end..]);
            match reach(&trial) {
                Some(shorter) => {
                    best = shorter;
                    dropped = true;
                }
                None => i += chunk,
            }
        }
        if chunk == 1 && !dropped {
            return best;
        }
        chunk = (chunk / 2).max(1);
    }
}

/// What the walks found, merged in walk order.
#[derive(Default)]
struct Found {
    /// Per property index: the lowest-numbered walk that violates it, and its actions up to
    /// the first violating state.
    violations: std::collections::BTreeMap<usize, (u64, Vec<Action>, bool)>,
    /// Per witness index: the first walk (in walk order) that reached it, and its actions.
    witnesses: std::collections::BTreeMap<usize, Vec<Action>>,
    /// The lowest-numbered walk that met the stop condition (None: none did).
    stop_walk: Option<u64>,
    walks: u64,
    states: u64,
    steps: u64,
    cut: u64,
    max_depth: usize,
    /// Per property index: how many walks violated it.
    violating_walks: std::collections::BTreeMap<usize, u64>,
    /// Breadth-first searches run around a violation, and the states they visited.
    local_searches: u64,
    local_visited: u64,
}

/// Walks per batch and thread: a batch's walks are merged in walk order (and the searches
/// around their violations run then), so the run does not depend on the thread count.
const BATCH_PER_THREAD: u64 = 256;

/// Runs the walks in batches on `opts.threads` threads; between batches, merges them in walk
/// order, reports progress and checks the timeout and interrupt.
fn run_walks(
    m: &Checked,
    opts: &SimOptions,
    start: Instant,
    progress: &mut dyn FnMut(&SimProgress),
) -> (Found, Option<String>) {
    let props = m.properties();
    let seen = AtomicU64::new(0);
    let threads = opts.threads.max(1);
    let mut found = Found::default();
    let (mut first, end) = match opts.only_walk {
        Some(k) => (k, k + 1),
        None => (0, opts.walks),
    };
    let mut stopped = None;
    while first < end && found.stop_walk.is_none() {
        if opts.timeout.is_some_and(|t| start.elapsed() >= t) {
            stopped = Some(format!(
                "timeout of {} s reached",
                opts.timeout.unwrap_or_default().as_secs()
            ));
            break;
        }
        if opts
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(Ordering::Relaxed))
        {
            stopped = Some("interrupted (Ctrl-C)".into());
            break;
        }
        let last = end.min(first + BATCH_PER_THREAD * threads as u64);
        let next = AtomicU64::new(first);
        let results: Mutex<Vec<(u64, Walk)>> = Mutex::new(Vec::new());
        std::thread::scope(|scope| {
            for _ in 0..threads {
                scope.spawn(|| loop {
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    if k >= last {
                        return;
                    }
                    if opts.shard.is_some_and(|(i, n)| k % n != i) {
                        continue;
                    }
                    let w = walk(m, &props, &seen, opts, k);
                    results
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((k, w));
                });
            }
        });
        let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        results.sort_unstable_by_key(|(k, _)| *k);
        for (k, w) in results {
            merge(m, &mut found, &props, opts, k, w);
        }
        first = last;
        progress(&SimProgress {
            walks: found.walks,
            states: found.states,
            max_depth: found.max_depth,
            elapsed: start.elapsed(),
        });
    }
    if let Some(k) = opts.only_walk {
        // Report walk K only.
        found.violations.retain(|_, (j, _, _)| *j == k);
    }
    (found, stopped)
}

/// Breadth-first from the end of `prefix`, at most `budget` states (by fingerprint): for each
/// safety or liveness property not in `known` that a state violates, the first such path
/// (shortest from the prefix's end). Also returns the states visited.
fn local_search(
    m: &Checked,
    props: &[Property<Checked>],
    prefix: &[Action],
    budget: usize,
    known: &[usize],
) -> (Vec<(usize, Vec<Action>)>, u64) {
    use std::hash::{DefaultHasher, Hash, Hasher};
    let fingerprint = |s: &State| {
        let mut h = DefaultHasher::new();
        s.hash(&mut h);
        h.finish()
    };
    let mut state = m.init_states().swap_remove(0);
    for &a in prefix {
        state = m.next_state(&state, a).unwrap_or(state);
    }
    // Paths as parent links: (parent index, action) per visited state.
    let mut links: Vec<(usize, Option<Action>)> = vec![(0, None)];
    let mut seen = std::collections::HashSet::from([fingerprint(&state)]);
    let mut queue = std::collections::VecDeque::from([(state, 0usize)]);
    let mut found: Vec<(usize, Vec<Action>)> = Vec::new();
    let path_to = |links: &[(usize, Option<Action>)], mut at: usize| {
        let mut tail = Vec::new();
        while let (parent, Some(a)) = links[at] {
            tail.push(a);
            at = parent;
        }
        let mut path = prefix.to_vec();
        path.extend(tail.into_iter().rev());
        path
    };
    let mut enabled = Vec::new();
    while let Some((state, at)) = queue.pop_front() {
        enabled.clear();
        m.actions(&state, &mut enabled);
        for &a in &enabled {
            if seen.len() >= budget {
                return (found, seen.len() as u64);
            }
            let Some(next) = m.next_state(&state, a) else {
                continue;
            };
            if !seen.insert(fingerprint(&next)) {
                continue;
            }
            links.push((at, Some(a)));
            let here = links.len() - 1;
            for (i, p) in props.iter().enumerate() {
                if p.expectation == Expectation::Always
                    && !known.contains(&i)
                    && !found.iter().any(|(j, _)| *j == i)
                    && !(p.condition)(m, &next)
                {
                    found.push((i, path_to(&links, here)));
                }
            }
            queue.push_back((next, here));
        }
    }
    (found, seen.len() as u64)
}

/// The first this many walks to violate a property each get a breadth-first search around
/// the violation (a search costs as much as thousands of walks; the first few violating walks
/// of each property are where a worse violation nearby is looked for).
const LOCAL_PER_PROPERTY: u64 = 8;

/// Adds walk `k` (merged in walk order) to what was found.
#[allow(
    clippy::too_many_arguments,
    reason = "the merge of one walk reads the run's model, properties and options"
)]
fn merge(
    m: &Checked,
    found: &mut Found,
    props: &[Property<Checked>],
    opts: &SimOptions,
    k: u64,
    w: Walk,
) {
    if found.stop_walk.is_some() {
        // Above the walk that stopped the run: dropped, whatever the thread count ran.
        return;
    }
    found.walks += 1;
    found.states += w.states;
    found.steps += w.actions.len() as u64;
    found.cut += u64::from(w.cut);
    found.max_depth = found.max_depth.max(w.actions.len());
    for &(i, len) in &w.witnessed {
        found
            .witnesses
            .entry(i)
            .or_insert_with(|| w.actions[..len].to_vec());
    }
    for &(i, len) in &w.violated {
        *found.violating_walks.entry(i).or_insert(0) += 1;
        found
            .violations
            .entry(i)
            .or_insert_with(|| (k, w.actions[..len].to_vec(), false));
    }
    // Around each state where this walk first violated a property (among the first
    // LOCAL_PER_PROPERTY walks to violate it): a breadth-first search for the properties not
    // yet violated, in walk order on one thread (the same on every run), while some are left.
    if opts.local_states > 0 {
        for &(i, len) in &w.violated {
            let left = props.iter().enumerate().any(|(i, p)| {
                p.expectation == Expectation::Always && !found.violations.contains_key(&i)
            });
            if !left || found.violating_walks.get(&i).copied().unwrap_or(0) > LOCAL_PER_PROPERTY {
                continue;
            }
            let known: Vec<usize> = found.violations.keys().copied().collect();
            let (more, visited) =
                local_search(m, props, &w.actions[..len], opts.local_states, &known);
            found.local_searches += 1;
            found.local_visited += visited;
            for (i, path) in more {
                found.violations.entry(i).or_insert((k, path, true));
            }
        }
    }
    let stops = match &opts.stop {
        Stop::AnyViolation => !w.violated.is_empty(),
        // Found by this walk, or by the search around one of its violations.
        Stop::On(ids) => found
            .violations
            .iter()
            .any(|(&i, (j, _, _))| *j == k && ids.contains(&props[i].name)),
        Stop::Never => false,
    };
    if stops && opts.only_walk.is_none_or(|j| j == k) {
        found.stop_walk = Some(k);
    }
}

/// (state, action taken from it) along a path; the last state has none.
type Pairs = Vec<(State, Option<Action>)>;

/// Every property's line from what the walks found: violations shrunk and replayed, witness
/// paths replayed; and where each violation was found.
fn property_reports(
    m: &Checked,
    props: &[Property<Checked>],
    found: &Found,
    opts: &SimOptions,
) -> (Vec<PropertyReport>, Vec<SimViolation>) {
    let mut violations: Vec<(usize, Pairs)> = Vec::new();
    let mut sim_violations = Vec::new();
    for (i, (k, actions, local)) in &found.violations {
        let cond = props[*i].condition;
        let violates = |s: &State| !cond(m, s);
        let path = if opts.shrink {
            shrink(m, actions, &violates)
        } else {
            actions.clone()
        };
        if let Some(pairs) = replay(m, &path, &violates) {
            sim_violations.push(SimViolation {
                id: props[*i].name.to_owned(),
                walk: *k,
                steps: actions.len(),
                shrunk_to: pairs.len() - 1,
                walks_violating: found.violating_walks.get(i).copied().unwrap_or(0),
                local: *local,
            });
            violations.push((*i, pairs));
        }
    }
    let witness_paths: Vec<(usize, Vec<Action>)> = found.witnesses.clone().into_iter().collect();
    let properties = SPECS
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let not_applicable = match spec.kind {
                Kind::Witness | Kind::Liveness => (spec.applies)(&m.config).err(),
                Kind::Safety => None,
            };
            let violation = violations.iter().find(|(j, _)| *j == i);
            let witness = witness_paths.iter().find(|(j, _)| *j == i);
            let status = match (spec.kind, violation.is_some(), witness.is_some()) {
                (Kind::Safety | Kind::Liveness, true, _) => Status::Violated,
                (Kind::Liveness, false, _) if not_applicable.is_some() => Status::NotApplicable,
                (Kind::Safety | Kind::Liveness, false, _) => Status::Holds,
                (Kind::Witness, _, true) => Status::Witnessed,
                (Kind::Witness, _, false) if not_applicable.is_some() => Status::NotApplicable,
                (Kind::Witness, _, false) => Status::NotWitnessed,
            };
            let counterexample = if let Some((_, pairs)) = violation {
                Some(render_steps(m, pairs.clone(), false))
            } else if let Some((_, actions)) = witness {
                replay(m, actions, &|s| (spec.condition)(m, s))
                    .map(|pairs| render_steps(m, pairs, false))
            } else {
                None
            };
            PropertyReport {
                id: spec.id.to_owned(),
                kind: spec.kind,
                statement: spec.statement.to_owned(),
                status,
                note: not_applicable
                    .map(str::to_owned)
                    .filter(|_| status == Status::NotApplicable),
                counterexample,
            }
        })
        .collect();
    (properties, sim_violations)
}

/// Runs a simulation of `model` and reports it as `sa check` does: every property with a
/// status (never "exhaustive"), a counterexample per violated property, the path of the
/// first walk that reached each witness, and the simulation's figures.
pub fn simulate(
    model: SaModel,
    opts: &SimOptions,
    progress: &mut dyn FnMut(&SimProgress),
) -> CheckReport {
    let start = Instant::now();
    let m = Checked::new(model);
    let props = m.properties();
    let (found, mut stopped) = run_walks(&m, opts, start, progress);
    let seconds = start.elapsed().as_secs_f64();
    let (walks, states) = (found.walks, found.states);
    if let Some(k) = found.stop_walk {
        stopped.get_or_insert_with(|| format!("stop condition met by walk {k}"));
    }
    let (properties, sim_violations) = property_reports(&m, &props, &found, opts);
    let summary = SimulationSummary {
        seed: opts.seed,
        walks_asked: if opts.only_walk.is_some() {
            1
        } else {
            opts.walks
        },
        walks,
        states,
        max_depth: found.max_depth,
        mean_depth: found.steps as f64 / walks.max(1) as f64,
        walks_cut: found.cut,
        seconds,
        walks_per_second: walks as f64 / seconds.max(1e-9),
        states_per_second: states as f64 / seconds.max(1e-9),
        strategy: opts.strategy,
        shard: opts
            .shard
            .map(|(index, count)| crate::report::SimShard { index, count }),
        local_searches: found.local_searches,
        local_states: found.local_visited,
        violations: sim_violations,
        stopped,
    };
    let mutations_without_effect = m
        .config
        .mutations
        .iter()
        .filter(|&&x| !m.was_hit(x))
        .map(|x| x.name())
        .collect();
    let mut report = CheckReport {
        config: m.config.clone(),
        verdict: Verdict::Pass,
        bounds: crate::check::bounds(&m, false),
        mutations_without_effect,
        exhaustive: false,
        cut_reason: Some(summary.line()),
        unique_states: 0,
        total_states: states as usize,
        max_depth: summary.max_depth,
        seconds: start.elapsed().as_secs_f64(),
        search_seconds: seconds,
        states_per_second: summary.states_per_second,
        peak_memory_bytes: crate::report::peak_memory_bytes(),
        threads: opts.threads.max(1),
        symmetry: "not applied (random walks)".into(),
        draw_classes: None,
        seeds: None,
        properties,
        liveness: crate::report::LivenessSummary {
            rank_violations: m.live.rank_violations.load(Ordering::Relaxed),
            stuck_past_bound: m.live.stuck_past_bound.load(Ordering::Relaxed),
            worst_iterations: m.live.worst_iterations.load(Ordering::Relaxed),
            ..Default::default()
        },
        horizon: crate::report::Horizon::of(&m.config),
        simulation: Some(summary),
        reduced_states: None,
        merged_states: None,
        shard: None,
        merged_shards: None,
    };
    report.note_horizon();
    report.verdict = report.compute_verdict();
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SaModel {
        SaModel::new(sa_model::Config::preset("tiny").expect("preset"))
    }

    #[test]
    fn a_walk_is_a_function_of_seed_and_number() {
        let m = Checked::new(tiny());
        let props = m.properties();
        let opts = SimOptions::default();
        let a = walk(&m, &props, &AtomicU64::new(0), &opts, 7);
        let b = walk(&m, &props, &AtomicU64::new(0), &opts, 7);
        let c = walk(&m, &props, &AtomicU64::new(0), &opts, 8);
        assert_eq!(a.actions, b.actions);
        assert!(!a.actions.is_empty());
        assert_ne!(a.actions, c.actions, "walks 7 and 8 took the same path");
    }

    #[test]
    fn replay_refuses_an_action_that_is_not_enabled() {
        let m = tiny();
        let w = walk(
            &Checked::new(m.clone()),
            &Checked::new(m.clone()).properties(),
            &AtomicU64::new(0),
            &SimOptions::default(),
            0,
        );
        assert!(replay(&m, &w.actions, &|_| false).is_none());
        assert!(replay(&m, &w.actions, &|_| true).is_some());
        // The walk's own actions replay to its last state, the first without an enabled
        // action (the walk ended there).
        let stuck = |s: &State| {
            let mut a = Vec::new();
            m.actions(s, &mut a);
            a.is_empty()
        };
        let end = replay(&m, &w.actions, &stuck).expect("the walk replays");
        assert_eq!(end.len(), w.actions.len() + 1);
        let mut wrong = w.actions.clone();
        wrong.insert(0, Action::Rejoin { p: 0 });
        assert!(replay(&m, &wrong, &|_| false).is_none());
    }
}
