//! The check runner: exhaustive depth-first search, honest exhaustiveness, shortest
//! counterexamples.
//!
//! Stateright reports a run cut by a depth, state-count or time limit as done, and
//! `assert_properties` then passes. This runner records which limits it set and says
//! "exhaustive" only when none of them was reached. It also never lets Stateright stop early
//! because every property has a discovery: the finish condition names no real property.

use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

use stateright::{Checker, HasDiscoveries, Model, Path};

use crate::config::Config;
use crate::model::{Action, SaModel};
use crate::properties::{Kind, SPECS};
use crate::render::{beliefs, describe};
use crate::report::{CheckReport, Counterexample, PropertyReport, Status, Step};
use crate::state::State;

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
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            max_states: None,
            max_depth: None,
            timeout: None,
            shorten: true,
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
}

/// A name that is no property: finishing "when it is discovered" means never finishing early.
const NEVER: &str = "(exhaustive: never stop early)";

fn never_early() -> HasDiscoveries {
    HasDiscoveries::AllOf(BTreeSet::from([NEVER]))
}

fn builder(
    model: SaModel,
    opts: &CheckOptions,
    finish: HasDiscoveries,
) -> stateright::CheckerBuilder<SaModel> {
    let mut b = model
        .checker()
        .threads(opts.threads.max(1))
        .finish_when(finish);
    if let Some(n) = opts.max_states {
        b = b.target_state_count(n);
    }
    if let Some(d) = opts.max_depth {
        b = b.target_max_depth(d);
    }
    if let Some(t) = opts.timeout {
        b = b.timeout(t);
    }
    b
}

fn poll<C: Checker<SaModel>>(checker: &C, start: Instant, progress: &mut dyn FnMut(&Progress)) {
    let mut nap = Duration::from_millis(2);
    loop {
        progress(&Progress {
            unique_states: checker.unique_state_count(),
            total_states: checker.state_count(),
            max_depth: checker.max_depth(),
            elapsed: start.elapsed(),
        });
        if checker.is_done() {
            return;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(100));
    }
}

/// Renders a Stateright path as numbered steps in the spec's words.
pub fn render_path(model: &SaModel, path: Path<State, Action>, shortest: bool) -> Counterexample {
    render_steps(model, path.into_vec(), shortest)
}

/// Renders (state, action taken from it) pairs as numbered steps in the spec's words.
pub fn render_steps(
    model: &SaModel,
    pairs: Vec<(State, Option<Action>)>,
    shortest: bool,
) -> Counterexample {
    let mut steps = Vec::new();
    for (k, (before, action)) in pairs.iter().enumerate() {
        let Some(action) = action else { continue };
        let after = pairs.get(k + 1).map(|(s, _)| s).unwrap_or(before);
        steps.push(Step {
            index: steps.len() + 1,
            actor: format!("P{}", action.actor()),
            action: format!("{action:?}"),
            description: describe(model, before, action),
            beliefs: beliefs(model, after),
        });
    }
    let initial = pairs
        .first()
        .map(|(s, _)| beliefs(model, s))
        .unwrap_or_default();
    Counterexample {
        shortest,
        initial,
        steps,
    }
}

/// Checks `config` (already validated with [`Config::validate`] and
/// [`Config::check_model_limits`]) and reports every property of spec/properties.md.
pub fn check(
    config: &Config,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(&Progress),
) -> CheckReport {
    check_model(SaModel::new(config.clone()), opts, progress)
}

/// Checks a model built by the caller (e.g. with fixed first-round draws).
pub fn check_model(
    model: SaModel,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(&Progress),
) -> CheckReport {
    let start = Instant::now();
    let config = &model.config.clone();
    let checker = builder(model.clone(), opts, never_early()).spawn_dfs();
    poll(&checker, start, progress);
    let checker = checker.join();
    let search_seconds = start.elapsed().as_secs_f64();
    let unique_states = checker.unique_state_count();
    let total_states = checker.state_count();
    let max_depth = checker.max_depth();

    let mut cut = Vec::new();
    if opts.max_states.is_some_and(|n| total_states >= n) {
        cut.push(format!(
            "state limit {} reached",
            opts.max_states.unwrap_or(0)
        ));
    }
    if opts.max_depth.is_some_and(|d| max_depth >= d) {
        cut.push(format!(
            "depth limit {} reached",
            opts.max_depth.unwrap_or(0)
        ));
    }
    if opts.timeout.is_some_and(|t| start.elapsed() >= t) {
        cut.push(format!(
            "timeout of {:?} reached",
            opts.timeout.unwrap_or_default()
        ));
    }
    let exhaustive = cut.is_empty();

    let found: HashMap<&'static str, Path<State, Action>> = checker.discoveries();
    let found_ids: BTreeSet<&'static str> = found.keys().copied().collect();
    // Stateright's discoveries are not minimal: one breadth-first pass of our own finds a
    // shortest path to every discovered property.
    let mut shortest = if opts.shorten && !found_ids.is_empty() {
        shortest_paths(&model, &found_ids, opts.max_states)
    } else {
        HashMap::new()
    };
    let properties = SPECS
        .iter()
        .map(|spec| {
            let discovered = found_ids.contains(spec.id);
            let status = match (spec.kind, discovered) {
                (Kind::Safety, false) => Status::Holds,
                (Kind::Safety, true) => Status::Violated,
                (Kind::Witness, true) => Status::Witnessed,
                (Kind::Witness, false) => Status::NotWitnessed,
            };
            let counterexample = if let Some(steps) = shortest.remove(spec.id) {
                Some(render_steps(&model, steps, true))
            } else {
                found
                    .get(spec.id)
                    .cloned()
                    .map(|p| render_path(&model, p, false))
            };
            PropertyReport {
                id: spec.id.to_owned(),
                kind: spec.kind,
                statement: spec.statement.to_owned(),
                status,
                counterexample,
            }
        })
        .collect();
    CheckReport {
        config: config.clone(),
        exhaustive,
        cut_reason: if exhaustive {
            None
        } else {
            Some(cut.join("; "))
        },
        unique_states,
        total_states,
        max_depth,
        seconds: start.elapsed().as_secs_f64(),
        search_seconds,
        states_per_second: unique_states as f64 / search_seconds.max(1e-9),
        threads: opts.threads.max(1),
        symmetry: "not applied: hash-based sortition gives every provisioner its own committee \
                   seats, so no two provisioners are interchangeable (see spec/faults.md)"
            .into(),
        draw_classes: None,
        properties,
    }
}

/// Breadth-first search, one thread, stopping once every target property is discovered: the
/// path to each is a shortest one (in steps). Safety targets are found where their condition
/// fails, witnesses where it holds.
pub fn shortest_paths(
    model: &SaModel,
    targets: &BTreeSet<&'static str>,
    max_states: Option<usize>,
) -> HashMap<&'static str, Vec<(State, Option<Action>)>> {
    use std::collections::hash_map::DefaultHasher;
    use std::collections::VecDeque;
    use std::hash::{Hash, Hasher};

    let specs: Vec<_> = SPECS.iter().filter(|s| targets.contains(s.id)).collect();
    let fingerprint = |s: &State| {
        let mut h = DefaultHasher::new();
        s.hash(&mut h);
        h.finish()
    };
    // Arena of visited states with their parent and the action from the parent.
    let mut arena: Vec<(State, Option<(usize, Action)>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut queue = VecDeque::new();
    for s in model.init_states() {
        if seen.insert(fingerprint(&s)) {
            arena.push((s, None));
            queue.push_back(arena.len() - 1);
        }
    }
    let mut out = HashMap::new();
    let mut actions = Vec::new();
    while let Some(i) = queue.pop_front() {
        for spec in &specs {
            if out.contains_key(spec.id) {
                continue;
            }
            let holds = (spec.condition)(model, &arena[i].0);
            if holds == (spec.kind == Kind::Witness) {
                out.insert(spec.id, path_to(&arena, i));
            }
        }
        if out.len() == specs.len() || max_states.is_some_and(|m| arena.len() >= m) {
            break;
        }
        actions.clear();
        model.actions(&arena[i].0, &mut actions);
        for a in actions.drain(..) {
            let Some(next) = model.next_state(&arena[i].0, a) else {
                continue;
            };
            if !model.within_boundary(&next) || !seen.insert(fingerprint(&next)) {
                continue;
            }
            arena.push((next, Some((i, a))));
            queue.push_back(arena.len() - 1);
        }
    }
    out
}

fn path_to(
    arena: &[(State, Option<(usize, Action)>)],
    mut i: usize,
) -> Vec<(State, Option<Action>)> {
    let mut rev = vec![(arena[i].0.clone(), None)];
    while let Some((parent, action)) = arena[i].1 {
        rev.push((arena[parent].0.clone(), Some(action)));
        i = parent;
    }
    rev.reverse();
    rev
}
