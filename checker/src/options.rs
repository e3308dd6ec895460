//! What a caller asks of a search (limits, threads, what to stop on) and what a running search
//! tells it (progress).

use std::time::Duration;

use serde::Serialize;

/// Limits and resources of a check.
#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Worker threads.
    pub threads: usize,
    /// Stop after this many generated states (makes the run non-exhaustive if reached).
    pub max_states: Option<usize>,
    /// Do not expand states at this depth (non-exhaustive if reached).
    pub max_depth: Option<usize>,
    /// Stop after this long (non-exhaustive if reached).
    pub timeout: Option<Duration>,
    /// Re-run breadth-first to shorten every discovery to a shortest path.
    pub shorten: bool,
    /// Stop as soon as one of these properties is discovered (the result is then not
    /// exhaustive unless the search had finished anyway): for tests that only need to know a
    /// broken variant is caught.
    pub stop_on: Vec<&'static str>,
    /// With `stop_on`: search depth-first instead of breadth-first (for violations that lie
    /// deep, which a breadth-first search reaches only after most of the state space).
    pub depth_first: bool,
    /// Set from outside (Ctrl-C) to stop the search: the report is then INCOMPLETE, with
    /// "interrupted" as the reason, and no counterexample is shortened.
    pub interrupt: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    /// Also search the unbounded model (`crate::unbounded`) for LIVE-CONVERGENCE and
    /// LIVE-FINALITY after the bounded search (what `sa check` does; off by default in the
    /// library so tests of other things do not pay for it).
    pub unbounded: bool,
    /// Expand only a persistent subset of each state's actions where the reduction applies
    /// (`sa_model::reduction`; spec/faults.md, "The reduction").
    pub reduce: bool,
    /// Drop the votes nothing can read any more after every transition, merging the states
    /// that differ only in them (`sa_model::merging`; spec/faults.md, "State merging").
    pub merge_dead: bool,
    /// Search one shard only (`crate::shard`): its report is to be merged with the others'.
    pub shard: Option<Shard>,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_states: None,
            max_depth: None,
            timeout: None,
            shorten: true,
            stop_on: Vec::new(),
            depth_first: false,
            interrupt: None,
            unbounded: false,
            reduce: false,
            merge_dead: false,
            shard: None,
        }
    }
}

/// Progress of a running search.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// Unique states so far.
    pub unique_states: usize,
    /// Generated states so far.
    pub total_states: usize,
    /// Deepest path so far.
    pub max_depth: usize,
    /// Time since the search started.
    pub elapsed: Duration,
    /// True in the search with rounds for ever ([`crate::unbounded`]), which follows the
    /// bounded one and counts its own states (a pinned size does not apply to it).
    pub unbounded: bool,
}

/// How a walk chooses the next action among the enabled ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Every enabled action equally likely.
    Uniform,
    /// Swarm testing: a weight per (actor, kind of event) drawn per walk, zero for about one
    /// pair in four (taken only when nothing else is enabled).
    Swarm,
    /// Probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010), over classes
    /// (actor, kind of event) instead of threads: a random priority per class, the walk always
    /// takes an action of the highest-priority enabled class, and at a few random steps (the
    /// change points) that class drops below every other. One node runs ahead while another
    /// never hears of something, until a change point lets it.
    Pct,
    /// Even-numbered walks swarm, odd-numbered walks PCT.
    Mixed,
}

impl Strategy {
    /// The name `--strategy` takes.
    pub fn name(self) -> &'static str {
        match self {
            Strategy::Uniform => "uniform",
            Strategy::Swarm => "swarm",
            Strategy::Pct => "pct",
            Strategy::Mixed => "mixed",
        }
    }
}

/// One shard of a search (`crate::shard`): the `index`-th of `count`, split at breadth-first
/// depth `depth`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Shard {
    /// 0-based.
    pub index: usize,
    /// How many shards the search is split into.
    pub count: usize,
    /// The breadth-first depth of the frontier.
    pub depth: usize,
}
