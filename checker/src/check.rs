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

use crate::checked::Checked;
use crate::options::{CheckOptions, Progress};
use crate::render::{render_path, render_steps};
use crate::report::{CheckReport, PropertyReport, Status, Verdict};
use sa_model::config::Config;
use sa_model::model::{Action, SaModel};
use sa_model::properties::{Kind, SPECS};
use sa_model::state::State;

/// A name that is no property: finishing "when it is discovered" means never finishing early.
const NEVER: &str = "(exhaustive: never stop early)";

fn never_early() -> HasDiscoveries {
    HasDiscoveries::AllOf(BTreeSet::from([NEVER]))
}

fn builder(
    model: Checked,
    opts: &CheckOptions,
    finish: HasDiscoveries,
) -> stateright::CheckerBuilder<Checked> {
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
    b
}

/// Why a search was stopped from outside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stopped {
    No,
    Timeout,
    Interrupted,
}

/// Polls until the search ends; past the timeout, or once interrupted, it sets the model's
/// stop flag (no state is expanded any more) and says which.
fn poll<C: Checker<Checked>>(
    checker: &C,
    model: &Checked,
    start: Instant,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(&Progress),
) -> Stopped {
    use std::sync::atomic::Ordering;
    let mut nap = Duration::from_millis(2);
    let mut stopped = Stopped::No;
    loop {
        if stopped == Stopped::No {
            if opts.timeout.is_some_and(|t| start.elapsed() >= t) {
                stopped = Stopped::Timeout;
            } else if opts
                .interrupt
                .as_ref()
                .is_some_and(|f| f.load(Ordering::Relaxed))
            {
                stopped = Stopped::Interrupted;
            }
            if stopped != Stopped::No {
                model.stop.store(true, Ordering::Relaxed);
            }
        }
        progress(&Progress {
            unique_states: checker.unique_state_count(),
            total_states: checker.state_count(),
            max_depth: checker.max_depth(),
            elapsed: start.elapsed(),
            unbounded: false,
        });
        if checker.is_done() {
            return stopped;
        }
        std::thread::sleep(nap);
        nap = (nap * 2).min(Duration::from_millis(100));
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
#[allow(
    clippy::too_many_lines,
    reason = "the search and its report are one story: limits, discoveries, shortest paths, verdicts, in the order a reader checks them; issue 32 splits it"
)]
pub fn check_model(
    model: impl Into<Checked>,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(&Progress),
) -> CheckReport {
    let start = Instant::now();
    let mut model: Checked = model.into();
    model.reduce = opts.reduce;
    model.merge_dead = opts.merge_dead;
    model.partition = opts.shard.map(|shard| {
        crate::shard::Partition::new(&model.model, shard, opts.reduce, opts.merge_dead)
    });
    let config = &model.config.clone();
    if !opts.stop_on.is_empty()
        && opts.stop_on.iter().all(|id| {
            crate::unbounded::IDS.contains(id)
                || [crate::unbounded::SUSPEND, crate::unbounded::REJOIN].contains(id)
        })
    {
        return unbounded_only(&model, opts, progress);
    }
    let finish = if opts.stop_on.is_empty() {
        never_early()
    } else {
        HasDiscoveries::AnyOf(opts.stop_on.iter().copied().collect())
    };
    // Breadth-first when stopping at a first discovery (shallow violations are found at once);
    // depth-first otherwise (memory: only the stack holds states).
    let b = builder(model.clone(), opts, finish);
    let (stopped, checker): (Stopped, Box<dyn Checker<Checked>>) =
        if opts.stop_on.is_empty() || opts.depth_first {
            let c = b.spawn_dfs();
            let t = poll(&c, &model, start, opts, progress);
            (t, Box::new(c.join()))
        } else {
            let c = b.spawn_bfs();
            let t = poll(&c, &model, start, opts, progress);
            (t, Box::new(c.join()))
        };
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
    if stopped == Stopped::Timeout {
        cut.push(format!(
            "timeout of {:?} reached",
            opts.timeout.unwrap_or_default()
        ));
    }
    if stopped == Stopped::Interrupted {
        cut.push("interrupted (Ctrl-C)".into());
    }
    if !opts.stop_on.is_empty()
        && checker
            .discoveries()
            .keys()
            .any(|k| opts.stop_on.contains(k))
    {
        cut.push("stopped at the first discovery asked for".into());
    }
    let exhaustive = cut.is_empty();

    let found: HashMap<&'static str, Path<State, Action>> = checker.discoveries();
    let found_ids: BTreeSet<&'static str> = found.keys().copied().collect();
    // Stateright's discoveries are not minimal: one breadth-first pass of our own finds a
    // shortest path to every violated safety property (witness paths are kept as found).
    let violated: BTreeSet<&'static str> = found_ids
        .iter()
        .copied()
        .filter(|id| sa_model::properties::spec(id).is_some_and(|s| s.kind != Kind::Witness))
        .collect();
    // A breadth-first search (stop_on) already gives shortest paths (up to thread races).
    let bfs = !opts.stop_on.is_empty() && !opts.depth_first;
    let mut shortest =
        if opts.shorten && !bfs && !violated.is_empty() && stopped != Stopped::Interrupted {
            shortest_paths(&model, &violated, opts.max_states)
        } else {
            HashMap::new()
        };
    let rank_violations = model
        .live
        .rank_violations
        .load(std::sync::atomic::Ordering::Relaxed);
    let reduced_states = model
        .live
        .reduced_states
        .load(std::sync::atomic::Ordering::Relaxed);
    let merged_states = model
        .live
        .merged_states
        .load(std::sync::atomic::Ordering::Relaxed);
    let properties = SPECS
        .iter()
        .map(|spec| {
            let discovered = found_ids.contains(spec.id);
            let not_applicable = match spec.kind {
                Kind::Witness | Kind::Liveness => (spec.applies)(config).err(),
                Kind::Safety => None,
            };
            let status = match (spec.kind, discovered) {
                (Kind::Safety, false) => Status::Holds,
                (Kind::Safety | Kind::Liveness, true) => Status::Violated,
                (Kind::Liveness, false) if not_applicable.is_some() => Status::NotApplicable,
                (Kind::Liveness, false) if rank_violations > 0 => Status::Inconclusive,
                (Kind::Liveness, false) => Status::Holds,
                (Kind::Witness, true) => Status::Witnessed,
                (Kind::Witness, false) if not_applicable.is_some() => Status::NotApplicable,
                (Kind::Witness, false) => Status::NotWitnessed,
            };
            // Under the reduction a property it does not preserve is settled only by a
            // violation or a witness found (spec/faults.md, "The reduction").
            let unsettled = reduced_states > 0
                && matches!(status, Status::Holds | Status::NotWitnessed)
                && sa_model::reduction::preservation(spec.id, config)
                    == sa_model::reduction::Preservation::NotPreserved;
            let status = if unsettled {
                Status::Inconclusive
            } else {
                status
            };
            let note = match status {
                Status::Inconclusive if unsettled => Some(
                    "not settled: the partial-order reduction does not preserve this property \
                     (spec/faults.md, \"The reduction\"); run without --reduce"
                        .to_owned(),
                ),
                Status::NotApplicable => not_applicable.map(str::to_owned),
                Status::Inconclusive => Some(format!(
                    "not proven: {rank_violations} transition(s) did not increase the progress \
                     rank, so the graph may have cycles (spec/faults.md, liveness)"
                )),
                Status::Violated if spec.kind == Kind::Liveness => {
                    deadlock_note(&model, &shortest, &found, spec.id)
                }
                _ => None,
            };
            let counterexample = if let Some(steps) = shortest.remove(spec.id) {
                Some(render_steps(&model, steps, true))
            } else if bfs {
                found
                    .get(spec.id)
                    .cloned()
                    .map(|p| render_path(&model, p, true))
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
                note,
                counterexample,
            }
        })
        .collect();
    let mutations_without_effect = config
        .mutations
        .iter()
        .filter(|&&m| !model.was_hit(m))
        .map(|m| m.name())
        .collect();
    let mut report = CheckReport {
        config: config.clone(),
        verdict: Verdict::Pass,
        bounds: bounds(&model, false),
        mutations_without_effect,
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
        peak_memory_bytes: None,
        threads: opts.threads.max(1),
        symmetry: "not applied: hash-based sortition gives every provisioner its own committee \
                   seats, so no two provisioners are interchangeable (see spec/faults.md)"
            .into(),
        draw_classes: None,
        seeds: None,
        properties,
        liveness: {
            use std::sync::atomic::Ordering::Relaxed;
            crate::report::LivenessSummary {
                rank_violations,
                stuck_past_bound: model.live.stuck_past_bound.load(Relaxed),
                worst_iterations: model.live.worst_iterations.load(Relaxed),
                ..Default::default()
            }
        },
        horizon: crate::report::Horizon::of(config),
        simulation: None,
        reduced_states: opts.reduce.then_some(reduced_states),
        merged_states: opts.merge_dead.then_some(merged_states),
        shard: opts.shard,
        merged_shards: None,
    };
    if let Some(p) = &model.partition {
        let s = p.shard();
        report.bounds.push(format!(
            "shard {} of {}: the states above breadth-first depth {} and what lies under its \
             part of the {} states first reached there (merge the shards with sa check --merge)",
            s.index + 1,
            s.count,
            s.depth,
            p.frontier_len()
        ));
    }
    report.peak_memory_bytes = crate::report::peak_memory_bytes();
    if opts.reduce {
        report.bounds.push(format!(
            "partial-order reduction (--reduce): persistent sets before GST, {reduced_states} \
             states expanded in part; every state without successors kept, properties it does \
             not preserve settled only by what is found (spec/faults.md, \"The reduction\")"
        ));
    }
    if opts.merge_dead {
        report.bounds.push(format!(
            "state merging (--merge-states): {merged_states} successor states had votes nothing can \
             read any more dropped; every property and transition preserved (spec/faults.md, \
             \"State merging\")"
        ));
    }
    if opts.unbounded && opts.stop_on.is_empty() {
        let mut u_opts = opts.clone();
        u_opts.timeout = opts.timeout.map(|t| t.saturating_sub(start.elapsed()));
        let u = crate::unbounded::check(config, &u_opts, progress);
        report.exhaustive &= u.exhaustive;
        if !u.exhaustive && report.cut_reason.is_none() {
            report.cut_reason = Some("the unbounded search was cut by a limit".into());
        }
        report.properties.extend(u.properties);
        report.liveness.unbounded_states = u.unique_states;
        report.liveness.unbounded_seconds = u.seconds;
        report.liveness.unbounded_rank_violations = u.rank_violations;
        report.liveness.unbounded_stuck_past_bound = u.stuck_past_bound;
        report.seconds = start.elapsed().as_secs_f64();
        report.peak_memory_bytes = crate::report::peak_memory_bytes();
    }
    report.note_horizon();
    report.verdict = report.compute_verdict();
    if let Some(s) = opts.shard {
        // One shard says nothing of the whole search but what it found (a violation is real).
        if report.verdict != Verdict::Violated {
            report.verdict = Verdict::Incomplete;
        }
        if report.cut_reason.is_none() {
            report.cut_reason = Some(format!(
                "shard {} of {}: merge every shard's report (sa check --merge) for a verdict",
                s.index + 1,
                s.count
            ));
        }
    }
    report
}

/// A search for LIVE-CONVERGENCE, LIVE-FINALITY or LIVE-SUSPEND alone (`stop_on` names only
/// those): the
/// unbounded model, stopping at the first discovery asked for; the report holds those two
/// lines only and is not exhaustive unless the search finished anyway.
fn unbounded_only(
    model: &SaModel,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(&Progress),
) -> CheckReport {
    let u = crate::unbounded::check(&model.config, opts, progress);
    let found = u
        .properties
        .iter()
        .any(|p| opts.stop_on.contains(&p.id.as_str()) && p.status == Status::Violated);
    let exhaustive = u.exhaustive && !found;
    let mut report = CheckReport {
        config: model.config.clone(),
        verdict: Verdict::Pass,
        bounds: bounds(model, false),
        mutations_without_effect: Vec::new(),
        exhaustive,
        cut_reason: (!exhaustive).then(|| {
            "stopped at the first discovery asked for (the unbounded search only)".to_string()
        }),
        unique_states: u.unique_states,
        total_states: u.total_states,
        max_depth: 0,
        seconds: u.seconds,
        search_seconds: u.seconds,
        states_per_second: u.unique_states as f64 / u.seconds.max(1e-9),
        peak_memory_bytes: crate::report::peak_memory_bytes(),
        threads: opts.threads.max(1),
        symmetry: "not applied".into(),
        draw_classes: None,
        seeds: None,
        properties: u.properties,
        liveness: crate::report::LivenessSummary {
            unbounded_states: u.unique_states,
            unbounded_seconds: u.seconds,
            unbounded_rank_violations: u.rank_violations,
            unbounded_stuck_past_bound: u.stuck_past_bound,
            ..Default::default()
        },
        horizon: crate::report::Horizon::of(&model.config),
        simulation: None,
        reduced_states: None,
        merged_states: None,
        shard: None,
        merged_shards: None,
    };
    report.verdict = report.compute_verdict();
    report
}

/// For a violated per-round liveness property: why its last state is one (a deadlock names
/// the stuck nodes; LIVE-GOOD-ITERATION the node past its good iteration).
fn deadlock_note(
    model: &SaModel,
    shortest: &HashMap<&'static str, Vec<(State, Option<Action>)>>,
    found: &HashMap<&'static str, Path<State, Action>>,
    id: &str,
) -> Option<String> {
    let last = match shortest.get(id) {
        Some(steps) => steps.last().map(|(s, _)| s.clone()),
        None => found.get(id).map(|p| p.last_state().clone()),
    }?;
    Some(sa_model::live::explain(model, &last, id))
}

/// Every bound that shapes a result, one line each, in the spec's words.
pub fn bounds(model: &SaModel, all_draws: bool) -> Vec<String> {
    bounds_of(
        model,
        if all_draws {
            Draws::AllClasses
        } else {
            Draws::Seed
        },
    )
}

/// [`bounds`] for any kind of draws.
#[allow(
    clippy::too_many_lines,
    reason = "one line per bound of the report header, in the order the header prints them"
)]
pub fn bounds_of(model: &SaModel, draws: Draws) -> Vec<String> {
    let c = &model.config;
    let p = &c.protocol;
    let f = &c.faults;
    let mut out = vec![
        format!(
            "rounds: {} (heights above genesis), at most {} iterations each, relaxed threshold {}",
            p.rounds, p.max_iterations, p.relaxed_iterations
        ),
        match p.emergency_iteration {
            Some(e) => format!(
                "emergency mode from iteration {e} (EMERG-1: no NoCandidate or Invalid votes, \
                 Ratification only on Valid, no Fail attestations, iterations {e}.. stay open: \
                 late Validation votes count); the Emergency Block is not modelled (spec/faults.md)"
            ),
            None => "emergency mode: none (no emergency iteration in this configuration); the \
                     Emergency Block is not modelled (spec/faults.md)"
                .to_string(),
        },
        format!(
            "committees: C = {} credits, SM = {}, M = {}; a Success and a Fail of one iteration need SM + M - C = {} equivocating credits",
            p.committee_credits,
            c.supermajority(),
            c.majority(),
            c.success_fail_overlap()
        ),
        if f.gst_round == 0 {
            "GST: none (asynchronous in every round)".to_string()
        } else {
            format!(
                "GST: round {} (from then on synchronous: timers only on time, urgent honest generators, nodes run one at a time in key order: TIME-4)",
                f.gst_round
            )
        },
        if f.early_timers {
            "early timers: before GST every timer of every node may fire before the messages it waits for (per node, unbounded)".to_string()
        } else {
            "early timers: none (timers fire only when nothing more can arrive)".to_string()
        },
        format!(
            "absent: at most {} honest provisioner(s), offline from the start or crashing at any point before GST{}",
            f.absent,
            if f.rejoin && f.absent > 0 {
                "; in the unbounded model each may come back once after GST, right after a height is made Final everywhere (LIVE-REJOIN)"
            } else {
                ""
            }
        ),
        format!("invalid candidates: at most {}", f.invalid_candidates),
    ];
    if f.byzantine.is_empty() {
        out.push("Byzantine: none".into());
    } else {
        let mask = c.byzantine_mask();
        let held = model.max_credits_of(mask);
        let bound = c.byzantine_bound();
        let relation = if held > bound {
            "PAST the bound"
        } else {
            "within the bound"
        };
        out.push(format!(
            "Byzantine: {} — at most {held} credits of one committee in the rounds explored, bound floor((C-1)/3) = {bound}: {relation}",
            f.byzantine
                .iter()
                .map(|b| format!("P{b}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    out.push(match draws {
        Draws::AllClasses => {
            "draws: every class of first-round draws SORT-3..5 allow; later rounds by the seed"
                .into()
        }
        Draws::Seed => format!("draws: the seed's ({}), every round", c.sortition.seed),
        Draws::Seeds(a, b) => format!(
            "draws: those of every seed {a}..={b}, every round (seeded sampling of whole draw sequences)"
        ),
    });
    if c.sortition.profile == sa_model::config::Profile::Dusk {
        out.push(
            "profile: Dusk's draws (dusk-consensus 1.7.0's keys and seeds from model/data/dusk-profile.json, SHA3-256 sortition, gen(i) and gen(i+1) excluded whenever more than one is eligible)"
                .into(),
        );
    }
    match c.protocol.finality {
        sa_model::config::Finality::Dusk => {}
        sa_model::config::Finality::SmFail => out.push(
            "finality: variant sm-fail (VAR-FIN-SM: only Fail attestations of SM credits are recorded and count toward PNI; spec/variants.md)"
                .into(),
        ),
        sa_model::config::Finality::Closed => out.push(
            "finality: variant closed (VAR-FIN-CLOSED: Fail attestations count at SM; a block with PNI > 0 is never Confirmed; spec/variants.md)"
                .into(),
        ),
    }
    if c.protocol.suspension == sa_model::config::Suspension::Lifted {
        out.push(format!(
            "suspension: variant lifted (VAR-SUSP-LIFTED: a suspension keeps a provisioner out of iterations 0..{} only; later iterations are drawn without ELIG-3; spec/variants.md)",
            c.protocol.relaxed_iterations
        ));
    }
    out.push(
        "reductions: idle steps skipped; after GST one node at a time in key order (TIME-4); symmetry not applied"
            .into(),
    );
    out
}

/// A predicate over states, for [`shortest_to`].
pub type StatePredicate<'a> = Box<dyn Fn(&SaModel, &State) -> bool + 'a>;

/// A shortest path (in steps) to a violation of each target safety or liveness property, or
/// to each target witness ([`shortest_to`]).
pub fn shortest_paths(
    model: &Checked,
    targets: &BTreeSet<&'static str>,
    max_states: Option<usize>,
) -> HashMap<&'static str, Vec<(State, Option<Action>)>> {
    let specs: Vec<_> = SPECS.iter().filter(|s| targets.contains(s.id)).collect();
    let preds: Vec<StatePredicate<'_>> = specs
        .iter()
        .map(|spec| {
            Box::new(move |m: &SaModel, s: &State| {
                (spec.condition)(m, s) == (spec.kind == Kind::Witness)
            }) as StatePredicate<'_>
        })
        .collect();
    let found = shortest_to(model, &preds, max_states);
    specs
        .iter()
        .zip(found)
        .filter_map(|(spec, path)| path.map(|p| (spec.id, p)))
        .collect()
}

/// Breadth-first search, one thread, stopping once every predicate has held in some state:
/// for each, a shortest path to a state where it holds (`None`: no reachable state).
///
/// Memory: visited states are kept as 64-bit fingerprints with (parent, action) only; full
/// states are held for the frontier alone, and a path is rebuilt by replaying its actions.
#[allow(clippy::type_complexity)]
pub fn shortest_to(
    model: &Checked,
    preds: &[StatePredicate<'_>],
    max_states: Option<usize>,
) -> Vec<Option<Vec<(State, Option<Action>)>>> {
    use std::collections::VecDeque;
    use std::hash::{BuildHasher, BuildHasherDefault};

    let hasher = BuildHasherDefault::<sa_model::state::WyHasher>::default();
    let fingerprint = |s: &State| hasher.hash_one(s);
    // Visited: fingerprint -> nothing; arena: (parent index, action from the parent).
    let mut arena: Vec<(u32, Option<Action>)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut queue: VecDeque<(u32, State)> = VecDeque::new();
    for s in model.init_states() {
        if seen.insert(fingerprint(&s)) {
            arena.push((u32::MAX, None));
            queue.push_back((arena.len() as u32 - 1, s));
        }
    }
    let mut found: Vec<Option<u32>> = vec![None; preds.len()];
    let mut actions = Vec::new();
    while let Some((i, state)) = queue.pop_front() {
        for (k, pred) in preds.iter().enumerate() {
            if found[k].is_none() && pred(&model.model, &state) {
                found[k] = Some(i);
            }
        }
        if found.iter().all(Option::is_some) || max_states.is_some_and(|m| arena.len() >= m) {
            break;
        }
        actions.clear();
        model.actions(&state, &mut actions);
        for a in actions.drain(..) {
            let Some(next) = model.next_state(&state, a) else {
                continue;
            };
            if !model.within_boundary(&next) || !seen.insert(fingerprint(&next)) {
                continue;
            }
            arena.push((i, Some(a)));
            queue.push_back((arena.len() as u32 - 1, next));
        }
    }
    found
        .into_iter()
        .map(|i| i.and_then(|i| replay(model, &arena, i)))
        .collect()
}

/// Rebuilds the path to arena entry `i` by replaying its actions from the initial state.
fn replay(
    model: &Checked,
    arena: &[(u32, Option<Action>)],
    mut i: u32,
) -> Option<Vec<(State, Option<Action>)>> {
    let mut actions = Vec::new();
    while let Some(&(parent, action)) = arena.get(i as usize) {
        match action {
            Some(a) => actions.push(a),
            None => break,
        }
        i = parent;
    }
    actions.reverse();
    let mut state = model.init_states().into_iter().next()?;
    let mut out = Vec::with_capacity(actions.len() + 1);
    for a in actions {
        let next = model.next_state(&state, a)?;
        out.push((state, Some(a)));
        state = next;
    }
    out.push((state, None));
    Some(out)
}

/// What a check's draws are: the seed's, every first-round class, or a range of seeds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Draws {
    /// The configuration's seed, every round.
    Seed,
    /// Every class of first-round draws (`--all-draws`).
    AllClasses,
    /// Every seed of `from..=to`, every round (`--seeds`).
    Seeds(u64, u64),
}

/// Checks `count` models (`make(k)`, the k-th with its name) and merges the reports: a safety
/// property holds only if it holds for every model (the first violation found is kept, its note
/// naming the model), a witness is witnessed if some model reaches it. The limits apply to the
/// whole sweep. Progress reports (models done, models).
fn sweep(
    count: usize,
    unit: &str,
    make: &dyn Fn(usize) -> (String, SaModel),
    opts: &crate::check::CheckOptions,
    progress: &mut dyn FnMut(usize, usize, Option<&Progress>),
) -> Option<CheckReport> {
    use crate::report::Status;
    let start = std::time::Instant::now();
    let mut merged: Option<CheckReport> = None;
    // Each model gets what the previous ones left.
    let mut states_left = opts.max_states;
    for k in 0..count {
        progress(k, count, None);
        let mut run_opts = opts.clone();
        run_opts.max_states = states_left;
        run_opts.timeout = opts.timeout.map(|t| t.saturating_sub(start.elapsed()));
        let (name, model) = make(k);
        let mut r = check_model(model, &run_opts, &mut |p| progress(k, count, Some(p)));
        states_left = states_left.map(|n| n.saturating_sub(r.total_states));
        let cut = !r.exhaustive;
        for p in &mut r.properties {
            if matches!(p.status, Status::Violated | Status::Witnessed) {
                p.note = Some(match &p.note {
                    Some(n) => format!("{n}; {name}"),
                    None => name.clone(),
                });
            }
        }
        merged = Some(match merged {
            None => r,
            Some(mut m) => {
                m.exhaustive &= r.exhaustive;
                if m.cut_reason.is_none() {
                    m.cut_reason = r.cut_reason.clone();
                }
                m.unique_states += r.unique_states;
                m.liveness.rank_violations += r.liveness.rank_violations;
                m.liveness.stuck_past_bound += r.liveness.stuck_past_bound;
                m.liveness.worst_iterations =
                    m.liveness.worst_iterations.max(r.liveness.worst_iterations);
                m.total_states += r.total_states;
                m.max_depth = m.max_depth.max(r.max_depth);
                m.search_seconds += r.search_seconds;
                m.mutations_without_effect
                    .retain(|x| r.mutations_without_effect.contains(x));
                for (a, b) in m.properties.iter_mut().zip(r.properties) {
                    let worse = matches!(
                        (a.status, b.status),
                        (Status::Holds, Status::Violated)
                            | (Status::NotWitnessed, Status::Witnessed)
                            | (Status::NotApplicable, Status::Witnessed)
                    );
                    if worse {
                        *a = b;
                    }
                }
                m
            }
        });
        if cut {
            if let Some(m) = merged.as_mut() {
                m.cut_reason = Some(format!(
                    "{} (after {} of {count} {unit})",
                    m.cut_reason.clone().unwrap_or_default(),
                    k + 1,
                ));
            }
            break;
        }
    }
    progress(count, count, None);
    merged
}

/// Finishes a sweep's merged report.
fn finish_sweep(
    merged: Option<CheckReport>,
    config: &Config,
    draws: Draws,
    opts: &crate::check::CheckOptions,
    start: std::time::Instant,
) -> CheckReport {
    let mut report = merged.unwrap_or_else(|| check(config, opts, &mut |_| {}));
    report.bounds = bounds_of(&SaModel::new(config.clone()), draws);
    report.verdict = report.compute_verdict();
    report.seconds = start.elapsed().as_secs_f64();
    report.states_per_second = report.unique_states as f64 / report.search_seconds.max(1e-9);
    report
}

/// Checks one model per allowed draw class of the first round and merges the reports (a
/// safety property holds only if it holds for every class; see [`sweep`]). Progress reports
/// (classes done, classes).
pub fn check_all_draws(
    config: &Config,
    opts: &crate::check::CheckOptions,
    progress: &mut dyn FnMut(usize, usize, Option<&Progress>),
) -> CheckReport {
    let start = std::time::Instant::now();
    let n = config.provisioners.len();
    let base = SaModel::new(config.clone());
    let weights = base.context(&[]).weights[..n].to_vec();
    let classes: Vec<_> = sa_model::draw_classes::allowed_classes(config, &weights)
        .into_iter()
        .collect();
    let make = |k: usize| {
        (
            format!("draw class {} of {}", k + 1, classes.len()),
            SaModel::with_first_round(config.clone(), &classes[k]),
        )
    };
    let merged = sweep(classes.len(), "draw classes", &make, opts, progress);
    let mut report = finish_sweep(merged, config, Draws::AllClasses, opts, start);
    report.draw_classes = Some(classes.len());
    report
}

/// Checks the configuration once per seed of `from..=to` (whole draw sequences, every height:
/// seeded sampling of the draws) and merges the reports as [`check_all_draws`] does; each
/// violation and witness names the seed it came from.
pub fn check_seeds(
    config: &Config,
    from: u64,
    to: u64,
    opts: &crate::check::CheckOptions,
    progress: &mut dyn FnMut(usize, usize, Option<&Progress>),
) -> CheckReport {
    let start = std::time::Instant::now();
    let count = usize::try_from(to.saturating_sub(from) + 1).unwrap_or(usize::MAX);
    let make = |k: usize| {
        let mut c = config.clone();
        c.sortition.seed = from + k as u64;
        (format!("seed {}", c.sortition.seed), SaModel::new(c))
    };
    let merged = sweep(count, "seeds", &make, opts, progress);
    let mut report = finish_sweep(merged, config, Draws::Seeds(from, to), opts, start);
    report.seeds = Some([from, to]);
    report
}
