//! The model as a search runs it: the protocol's [`SaModel`] plus what the search counts.
//!
//! The protocol crate is pure: it reports a mutated rule's effect to a per-thread sink
//! ([`sa_model::mutations::take_hits`]) and knows no counters, limits or reports. [`Checked`]
//! implements `stateright::Model` by delegating every call to [`SaModel`], and after each call
//! collects, on the thread that made it, the mutations that changed a decision; it also
//! counts the transitions that did not raise the progress rank (the liveness results rest on
//! there being none), stops expanding states when asked (our own timeout: Stateright's is only
//! seen by a thread that runs out of work), evaluates a witness only until it is reached, and
//! records what LIVE-ROUND-ENDS saw past the bound.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;

use sa_model::live::{rank, round_ends_at, worst_iterations, RoundEnds};
use sa_model::mutations::take_hits;
use sa_model::properties::{Kind, SPECS};
use sa_model::state::State;
use sa_model::{Action, Mutation, SaModel};
use stateright::{Model, Property};

/// What the searches of one model found about liveness (shared by every thread).
#[derive(Debug, Default)]
pub struct LiveCounters {
    /// Transitions on which the progress rank did not increase (0: the graph is acyclic).
    pub rank_violations: AtomicU64,
    /// States without successors where a present honest node is stuck in a round entered
    /// after GST that has no good iteration (absence or Byzantine credits past the bound).
    pub stuck_past_bound: AtomicU64,
    /// Most iterations a round entered after GST took to end (1 = ended in iteration 0).
    pub worst_iterations: AtomicU32,
    /// States whose actions the partial-order reduction cut to a persistent subset.
    pub reduced_states: AtomicU64,
    /// Transitions whose successor state merging changed (`sa_model::merging`).
    pub merged_states: AtomicU64,
}

/// [`SaModel`] with the counters of a search (a clone shares them).
#[derive(Clone, Debug)]
pub struct Checked {
    /// The protocol.
    pub model: SaModel,
    /// Mutations that changed at least one decision (bit per `Mutation::ALL` index).
    hits: Arc<AtomicU32>,
    /// Set to stop the search: no state is expanded any more.
    pub stop: Arc<AtomicBool>,
    /// Witnesses reached so far in this search (bit k: `SPECS[k]`).
    witnessed: Arc<AtomicU64>,
    /// Rank violations, stuck states past the bound, worst iterations per round.
    pub live: Arc<LiveCounters>,
    /// Expand only a persistent subset of each state's actions (`sa_model::reduction`).
    pub reduce: bool,
    /// Merge states that differ only in votes nothing can read (`sa_model::merging`).
    pub merge_dead: bool,
    /// A shard's search: stop at the frontier states other shards own (`crate::shard`).
    pub partition: Option<Arc<crate::shard::Partition>>,
}

impl Deref for Checked {
    type Target = SaModel;
    fn deref(&self) -> &SaModel {
        &self.model
    }
}

impl From<SaModel> for Checked {
    fn from(model: SaModel) -> Checked {
        Checked::new(model)
    }
}

impl Checked {
    /// The search counters around `model`, all zero.
    pub fn new(model: SaModel) -> Checked {
        // Whatever an earlier, uncollected use of a model left on this thread is not ours.
        let _ = take_hits();
        Checked {
            model,
            hits: Arc::default(),
            stop: Arc::default(),
            witnessed: Arc::default(),
            live: Arc::default(),
            reduce: false,
            merge_dead: false,
            partition: None,
        }
    }

    /// Collects the mutations this thread's calls into the model reported.
    fn collect(&self) {
        let h = take_hits();
        if !h.is_empty() {
            self.hits.fetch_or(h.0, Ordering::Relaxed);
        }
    }

    /// Whether mutation `m` changed a decision during the searches of this model so far.
    pub fn was_hit(&self, m: Mutation) -> bool {
        self.collect();
        sa_model::mutations::MutationSet(self.hits.load(Ordering::Relaxed)).contains(m)
    }

    /// Property `k` of [`SPECS`] at `s`, with the search's bookkeeping.
    fn evaluate(&self, s: &State, k: usize) -> bool {
        let spec = &SPECS[k];
        let holds = match spec.kind {
            Kind::Witness => {
                let bit = 1u64 << k;
                if self.witnessed.load(Ordering::Relaxed) & bit != 0 {
                    false
                } else {
                    let found = (spec.condition)(&self.model, s);
                    if found {
                        self.witnessed.fetch_or(bit, Ordering::Relaxed);
                    }
                    found
                }
            }
            Kind::Liveness if spec.id == "LIVE-ROUND-ENDS" => {
                let worst = worst_iterations(&self.model, s);
                self.live
                    .worst_iterations
                    .fetch_max(worst, Ordering::Relaxed);
                match round_ends_at(&self.model, s) {
                    RoundEnds::NotStuck => true,
                    RoundEnds::StuckPastBound => {
                        self.live.stuck_past_bound.fetch_add(1, Ordering::Relaxed);
                        true
                    }
                    RoundEnds::StuckWithinBound => false,
                }
            }
            Kind::Safety | Kind::Liveness => (spec.condition)(&self.model, s),
        };
        self.collect();
        holds
    }
}

/// One condition function per index of [`SPECS`] (Stateright takes plain function pointers).
macro_rules! conditions {
    ($($k:literal)*) => {
        [$({
            fn c(m: &Checked, s: &State) -> bool {
                m.evaluate(s, $k)
            }
            c as fn(&Checked, &State) -> bool
        }),*]
    };
}

const CONDITIONS: [fn(&Checked, &State) -> bool; 64] = conditions!(
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
    32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47 48 49 50 51 52 53 54 55 56 57 58 59 60 61
    62 63
);

// A witness is one bit of a u64, and each property one entry of CONDITIONS.
const _: () = assert!(SPECS.len() <= CONDITIONS.len());

impl Model for Checked {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let init = self.model.init_states();
        self.collect();
        init
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        if self.partition.as_ref().is_some_and(|p| p.cut(state)) {
            return;
        }
        self.model.actions(state, actions);
        if self.reduce
            && self.model.reduce(state, actions) == sa_model::reduction::Reduced::Persistent
        {
            self.live.reduced_states.fetch_add(1, Ordering::Relaxed);
        }
        self.collect();
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let next = self.model.next_state(last, action);
        self.collect();
        let mut next = next?;
        if self.merge_dead && self.model.merge(&mut next) > 0 {
            self.live.merged_states.fetch_add(1, Ordering::Relaxed);
        }
        // The liveness results rest on this: every transition increases the progress rank.
        if rank(&next) <= rank(last) {
            self.live.rank_violations.fetch_add(1, Ordering::Relaxed);
        }
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        SPECS
            .iter()
            .zip(CONDITIONS)
            .map(|(s, c)| match s.kind {
                Kind::Safety | Kind::Liveness => Property::always(s.id, c),
                Kind::Witness => Property::sometimes(s.id, c),
            })
            .collect()
    }

    fn within_boundary(&self, _: &State) -> bool {
        !self.stop.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tiny() -> SaModel {
        SaModel::new(sa_model::Config::preset("tiny").expect("preset"))
    }

    #[test]
    fn what_the_model_reports_on_this_thread_is_collected_and_nothing_older() {
        // A hit left on this thread by an earlier, uncollected use of some model.
        Mutation::IgnorePni.hit();
        let checked = Checked::new(tiny());
        assert!(
            !checked.was_hit(Mutation::IgnorePni),
            "a stale hit was taken"
        );
        // A hit reported during a call through the wrapper is collected by it, and shared by
        // its clones (the search threads).
        let clone = checked.clone();
        Mutation::NoWalkBack.hit();
        let _ = clone.init_states();
        assert!(checked.was_hit(Mutation::NoWalkBack));
        assert!(!checked.was_hit(Mutation::IgnorePni));
    }
}
