//! Exhaustive searches split over machines: a partition of the states first reached at a fixed
//! breadth-first depth (the *frontier*), each shard exploring everything above the frontier
//! and what lies under its part of it; the shards' reports merged into one.
//!
//! Why the union of the shards is the whole search: every path from the initial state to a
//! state first reached deeper than the frontier passes through a frontier state (first-reach
//! depth grows by at most one per step), so every state is above the frontier (every shard
//! explores it), in the frontier (its owner explores it), or under some frontier state (the
//! owner of the first frontier state on its path explores it). A shard stops at frontier states
//! it does not own: they look to the search like states without successors, which no property
//! is judged by (the liveness conditions ask the model itself whether a state has an action).
//! Duplicates across shards are allowed: the merged counts are sums, said so.

use std::collections::HashSet;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::Arc;

use stateright::Model;

use crate::report::{CheckReport, Status};
use sa_model::state::State;
use sa_model::SaModel;

pub use crate::options::Shard;

/// A stable fingerprint of a state (the same in every process and on every machine).
pub fn fingerprint(s: &State) -> u64 {
    let mut h = DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// What a shard's search needs: the frontier, and which part of it is its own.
#[derive(Debug)]
pub struct Partition {
    frontier: HashSet<u64>,
    shard: Shard,
}

impl Partition {
    /// The states first reached at `shard.depth` (breadth-first, the model's actions, reduced
    /// if `reduce`, merged if `merge`), of which `shard` owns those whose fingerprint is `index`
    /// modulo `count`.
    pub fn new(model: &SaModel, shard: Shard, reduce: bool, merge: bool) -> Arc<Partition> {
        let mut seen: HashSet<u64> = HashSet::new();
        let mut level = model.init_states();
        for s in &level {
            seen.insert(fingerprint(s));
        }
        let mut actions = Vec::new();
        for _ in 0..shard.depth {
            let mut next = Vec::new();
            for s in &level {
                actions.clear();
                model.actions(s, &mut actions);
                if reduce {
                    model.reduce(s, &mut actions);
                }
                for &a in &actions {
                    if let Some(mut t) = model.next_state(s, a) {
                        if merge {
                            model.merge(&mut t);
                        }
                        if seen.insert(fingerprint(&t)) {
                            next.push(t);
                        }
                    }
                }
            }
            level = next;
        }
        Arc::new(Partition {
            frontier: level.iter().map(fingerprint).collect(),
            shard,
        })
    }

    /// Whether the shard stops at `s`: a frontier state another shard owns.
    pub fn cut(&self, s: &State) -> bool {
        let f = fingerprint(s);
        self.frontier.contains(&f) && f % self.shard.count as u64 != self.shard.index as u64
    }

    /// States in the frontier.
    pub fn frontier_len(&self) -> usize {
        self.frontier.len()
    }

    /// The shard.
    pub fn shard(&self) -> Shard {
        self.shard
    }
}

/// Why shard reports cannot be merged.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MergeError {
    /// No report given.
    #[error("no shard report given")]
    Empty,
    /// A report of a search that was not sharded.
    #[error("report {0} is not a shard's (run with --shard I/N)")]
    NotAShard(usize),
    /// Reports of different searches.
    #[error("report {0} is of another search: {1}")]
    Mismatch(usize, &'static str),
    /// The same shard twice (its 0-based index).
    #[error("shard {} given twice", .0 + 1)]
    Twice(usize),
}

/// Merges the reports of a search's shards: a property is violated (witnessed) if a shard
/// violated (reached) it, holds only if it holds in every shard; the search is exhaustive only
/// if every shard's was and every shard is there; counts are summed (states above the
/// frontier are counted once per shard).
pub fn merge(reports: &[CheckReport]) -> Result<CheckReport, MergeError> {
    let first = reports.first().ok_or(MergeError::Empty)?;
    let shard = first.shard.ok_or(MergeError::NotAShard(0))?;
    let mut seen = vec![false; shard.count];
    let mut out = first.clone();
    out.cut_reason = None;
    out.unique_states = 0;
    out.total_states = 0;
    out.max_depth = 0;
    for (k, r) in reports.iter().enumerate() {
        let s = r.shard.ok_or(MergeError::NotAShard(k))?;
        if s.count != shard.count || s.depth != shard.depth {
            return Err(MergeError::Mismatch(k, "shard count or depth"));
        }
        if r.config != first.config {
            return Err(MergeError::Mismatch(k, "configuration"));
        }
        if r.reduced_states.is_some() != first.reduced_states.is_some() {
            return Err(MergeError::Mismatch(
                k,
                "reduction on in one, off in the other",
            ));
        }
        if r.merged_states.is_some() != first.merged_states.is_some() {
            return Err(MergeError::Mismatch(
                k,
                "state merging on in one, off in the other",
            ));
        }
        if std::mem::replace(&mut seen[s.index], true) {
            return Err(MergeError::Twice(s.index));
        }
        out.unique_states += r.unique_states;
        out.total_states += r.total_states;
        out.max_depth = out.max_depth.max(r.max_depth);
        if !r.exhaustive {
            out.exhaustive = false;
            out.cut_reason.clone_from(&r.cut_reason);
        }
        out.seconds = out.seconds.max(r.seconds);
        if k > 0 {
            for (p, q) in out.properties.iter_mut().zip(&r.properties) {
                if rank(q.status) > rank(p.status) {
                    *p = q.clone();
                }
            }
        }
    }
    let missing = seen.iter().filter(|&&s| !s).count();
    if missing > 0 {
        out.exhaustive = false;
        out.cut_reason = Some(format!("{missing} of {} shards missing", shard.count));
    }
    out.shard = None;
    out.merged_shards = Some(shard.count - missing);
    out.verdict = out.compute_verdict();
    Ok(out)
}

/// Which of two shards' statuses of one property the merge keeps: what was found beats what
/// was not.
fn rank(s: Status) -> u8 {
    match s {
        Status::NotApplicable => 0,
        Status::Holds => 1,
        Status::NotWitnessed => 2,
        Status::Inconclusive => 3,
        Status::Witnessed => 4,
        Status::Violated => 5,
    }
}

/// Merges the reports of one simulation's shards (`sa simulate --shard I/N`): walk `k` ran in
/// shard `k % N` exactly as it runs unsharded (a walk is a function of the seed and `k`), so
/// each violated property's lowest-numbered walk is the lowest of the shards', and walks and
/// states add up. With `--local-states 0` the merged violations are the unsharded run's, walk
/// for walk (tested); a search around a violation runs in the shard of its walk, so with
/// local searches a property one of them found may be credited to another walk than
/// unsharded. Never exhaustive: a missing shard is named in `stopped`.
pub fn merge_simulations(reports: &[CheckReport]) -> Result<CheckReport, MergeError> {
    use crate::report::SimViolation;
    let first = reports.first().ok_or(MergeError::Empty)?;
    let sim_of = |k: usize, r: &CheckReport| {
        r.simulation
            .as_ref()
            .filter(|s| s.shard.is_some())
            .cloned()
            .ok_or(MergeError::NotAShard(k))
    };
    let base = sim_of(0, first)?;
    let count = base.shard.map_or(1, |s| s.count);
    let mut seen = vec![false; usize::try_from(count).unwrap_or(usize::MAX).min(1 << 20)];
    let mut out = first.clone();
    let mut sim = no_walks_like(&base);
    let mut steps = 0.0;
    let mut lowest: std::collections::BTreeMap<String, (SimViolation, usize)> =
        std::collections::BTreeMap::new();
    for (k, r) in reports.iter().enumerate() {
        let s = sim_of(k, r)?;
        let shard = s.shard.ok_or(MergeError::NotAShard(k))?;
        if let Some(what) = [
            (shard.count != count, "shard count"),
            (r.config != first.config, "configuration"),
            (
                (s.seed, s.walks_asked, s.strategy) != (base.seed, base.walks_asked, base.strategy),
                "seed, walks or strategy",
            ),
        ]
        .iter()
        .find_map(|(differs, what)| differs.then_some(*what))
        {
            return Err(MergeError::Mismatch(k, what));
        }
        let slot = seen
            .get_mut(usize::try_from(shard.index).unwrap_or(usize::MAX))
            .ok_or(MergeError::Mismatch(k, "shard index"))?;
        if std::mem::replace(slot, true) {
            return Err(MergeError::Twice(
                usize::try_from(shard.index).unwrap_or(usize::MAX),
            ));
        }
        add_counts(&mut sim, &s);
        steps += s.mean_depth * s.walks as f64;
        if let Some(why) = &s.stopped {
            sim.stopped = Some(format!("shard {}: {why}", shard.index + 1));
        }
        lowest_walks(&mut lowest, &s.violations, k);
        if k > 0 {
            for (p, q) in out.properties.iter_mut().zip(&r.properties) {
                let credited = lowest.get(&q.id).is_some_and(|(_, from)| *from == k);
                if credited || (p.status != Status::Violated && rank(q.status) > rank(p.status)) {
                    *p = q.clone();
                }
            }
        }
        out.mutations_without_effect
            .retain(|m| r.mutations_without_effect.contains(m));
    }
    let missing = seen.iter().filter(|&&s| !s).count();
    if missing > 0 {
        sim.stopped = Some(format!("{missing} of {count} shards missing"));
    }
    rates(&mut sim, steps);
    sim.violations = lowest.into_values().map(|(v, _)| v).collect();
    sim.shard = None;
    out.cut_reason = Some(sim.line());
    out.seconds = sim.seconds;
    out.simulation = Some(sim);
    out.merged_shards = Some(count as usize - missing);
    out.verdict = out.compute_verdict();
    Ok(out)
}

/// `base` with nothing counted yet (its seed, walks asked and strategy kept).
fn no_walks_like(base: &crate::report::SimulationSummary) -> crate::report::SimulationSummary {
    crate::report::SimulationSummary {
        walks: 0,
        states: 0,
        walks_cut: 0,
        local_searches: 0,
        local_states: 0,
        max_depth: 0,
        seconds: 0.0,
        violations: Vec::new(),
        stopped: None,
        ..base.clone()
    }
}

/// The merged means and rates, from the summed counts and `steps` (the walks' steps).
fn rates(sim: &mut crate::report::SimulationSummary, steps: f64) {
    sim.mean_depth = steps / sim.walks.max(1) as f64;
    sim.walks_per_second = sim.walks as f64 / sim.seconds.max(1e-9);
    sim.states_per_second = sim.states as f64 / sim.seconds.max(1e-9);
}

/// Adds one shard's counts to the merged ones (shards run at once: seconds is the longest).
fn add_counts(sim: &mut crate::report::SimulationSummary, s: &crate::report::SimulationSummary) {
    sim.walks += s.walks;
    sim.states += s.states;
    sim.walks_cut += s.walks_cut;
    sim.local_searches += s.local_searches;
    sim.local_states += s.local_states;
    sim.max_depth = sim.max_depth.max(s.max_depth);
    sim.seconds = sim.seconds.max(s.seconds);
}

/// Keeps, per property, the lowest-numbered violating walk of the shards so far and the shard
/// it came from, adding up the walks that violate it.
fn lowest_walks(
    lowest: &mut std::collections::BTreeMap<String, (crate::report::SimViolation, usize)>,
    violations: &[crate::report::SimViolation],
    shard: usize,
) {
    for v in violations {
        let e = lowest
            .entry(v.id.clone())
            .or_insert_with(|| (v.clone(), shard));
        if v.walk < e.0.walk {
            let violating = e.0.walks_violating;
            *e = (v.clone(), shard);
            e.0.walks_violating += violating;
        } else if e.1 != shard {
            e.0.walks_violating += v.walks_violating;
        }
    }
}
