//! What the model-checking commands print: the report table, the counterexample story, the
//! progress line and the chart (`sa check`, `sa simulate`, `sa report`, `sa sweep`).

use std::time::Duration;

use sa_checker::report::{Counterexample, NodeView, Status, Verdict};
use sa_checker::CheckReport;
use sa_model::Config;

/// The tip of a chain as `NodeView::chain` writes it (`genesis <- B1.0:Attested` -> `B1.0`).
fn tip(chain: &str) -> &str {
    let last = chain.rsplit(" <- ").next().unwrap_or(chain);
    last.split(':').next().unwrap_or(last)
}

/// `round R iteration I` of a place (`round 1 iteration 0 Proposal`), if it has one.
fn iteration_of_place(place: &str) -> Option<String> {
    let w: Vec<&str> = place.split(' ').collect();
    (w.len() >= 4 && w[0] == "round" && w[2] == "iteration").then(|| w[..4].join(" "))
}

/// What changed in one node's belief, in one line (`Ratification`, `round 2 iteration 0
/// Proposal; chain genesis <- B1.0:Attested`, `absent`).
fn delta(before: Option<&NodeView>, after: &NodeView) -> Option<String> {
    let mut parts = Vec::new();
    if before.is_some_and(|b| b.alive) && !after.alive {
        parts.push("absent".to_string());
    }
    if before.map(|b| &b.place) != Some(&after.place) {
        let same_iteration = before.and_then(|b| iteration_of_place(&b.place))
            == iteration_of_place(&after.place)
            && iteration_of_place(&after.place).is_some();
        let step = after.place.rsplit(' ').next().unwrap_or(&after.place);
        parts.push(if same_iteration {
            step.to_string()
        } else {
            after.place.clone()
        });
    }
    if before.map(|b| &b.chain) != Some(&after.chain) {
        parts.push(format!("chain {}", after.chain));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The draws a path meets, once each: `round 1 iteration 0 on genesis: gen P0, ...`.
fn draws_legend(cx: &Counterexample) -> Vec<String> {
    let mut seen = Vec::new();
    let all = std::iter::once(&cx.initial_views).chain(cx.steps.iter().map(|s| &s.views));
    for views in all {
        for v in views {
            let Some(it) = iteration_of_place(&v.place) else {
                continue;
            };
            if v.draws.is_empty() {
                continue;
            }
            let line = format!("{it} on {}: {}", tip(&v.chain), v.draws);
            if !seen.contains(&line) {
                seen.push(line);
            }
        }
    }
    seen
}

/// The initial state, nodes with the same belief on one line.
fn initial_lines(cx: &Counterexample) -> Vec<String> {
    let mut groups: Vec<(String, Vec<&str>)> = Vec::new();
    for v in &cx.initial_views {
        let what = if v.byzantine {
            "Byzantine (no node state; may sign anything it is drawn for)".to_string()
        } else {
            format!(
                "{}{}; chain {}",
                if v.alive { "" } else { "[absent] " },
                v.place,
                v.chain
            )
        };
        match groups.iter_mut().find(|(w, _)| *w == what) {
            Some((_, names)) => names.push(&v.name),
            None => groups.push((what, vec![&v.name])),
        }
    }
    groups
        .into_iter()
        .map(|(what, names)| format!("{}: {what}", names.join(" ")))
        .collect()
}

/// A counterexample or witness path in the spec's words: the draws it meets, then one line
/// per step (who acted, what it did, `=>` what that changed in its belief); with `full`,
/// every node's whole belief after every step. Closes with a line tying it to `p`.
fn path(
    out: &mut String,
    title: &str,
    outcome: &str,
    (r, p): (&CheckReport, &sa_checker::PropertyReport),
    cx: &Counterexample,
    full: bool,
) {
    // A check over several seeds or draw classes found this path in one of them: the header
    // names it (the sweep records it as the property's note), so it can be re-run alone.
    let part = (r.seeds.is_some() || r.draw_classes.is_some_and(|n| n > 1))
        .then_some(p.note.as_deref())
        .flatten()
        .map_or(String::new(), |n| format!(", found with {n}"));
    out.push_str(&format!(
        "\n{title} for {} ({} steps{}{part}):\n",
        p.id,
        cx.steps.len(),
        if cx.shortest { ", shortest found" } else { "" }
    ));
    if full {
        out.push_str(
            "   0. initial state (a node skips the steps in which it has nothing to do: \
             not gen(i), not a member of the step's committee)\n",
        );
        for b in &cx.initial {
            out.push_str(&format!("        {b}\n"));
        }
        for s in &cx.steps {
            loop_marker(out, cx, s.index);
            out.push_str(&format!("  {:>2}. {}\n", s.index, s.description));
            for b in &s.beliefs {
                out.push_str(&format!("        {b}\n"));
            }
        }
    } else {
        out.push_str("  draws met (seeded sortition, per round, iteration and parent):\n");
        for d in draws_legend(cx) {
            out.push_str(&format!("    {d}\n"));
        }
        out.push_str(
            "   0. initial state (a node skips the steps in which it has nothing to do: not \
             gen(i), not a member of the step's committee):\n",
        );
        for l in initial_lines(cx) {
            out.push_str(&format!("        {l}\n"));
        }
        let mut before = &cx.initial_views;
        for s in &cx.steps {
            let changes: Vec<String> = s
                .views
                .iter()
                .enumerate()
                .filter_map(|(k, v)| {
                    delta(before.get(k), v).map(|d| {
                        if k == s.chart.actor {
                            d
                        } else {
                            format!("{}: {d}", v.name)
                        }
                    })
                })
                .collect();
            let changes = if changes.is_empty() {
                "(no node's belief changed)".to_string()
            } else {
                format!("=> {}", changes.join("; "))
            };
            loop_marker(out, cx, s.index);
            out.push_str(&format!("  {:>2}. {}  {changes}\n", s.index, s.description));
            before = &s.views;
        }
    }
    out.push_str(&format!(
        "  => {} {outcome} after step {}: {}\n",
        p.id,
        cx.steps.len(),
        p.statement
    ));
    if p.kind == sa_model::properties::Kind::Liveness && p.status == Status::Violated {
        if let Some(why) = &p.note {
            out.push_str(&format!("     {why}\n"));
        }
    }
}

/// Before the first step of a lasso's loop: says that from there the steps repeat for ever.
fn loop_marker(out: &mut String, cx: &Counterexample, index: usize) {
    if cx.loop_start == Some(index) {
        out.push_str(&format!(
            "  -- loop: steps {index}..{} repeat for ever (step {} returns to the state before \
             step {index}) --\n",
            cx.steps.len(),
            cx.steps.len()
        ));
    }
}

/// A search's progress in one line: states, depth, rate, and the estimate against `pinned`
/// (the size of an unchanged preset's search, [`sa_checker::sizes`]).
pub fn progress_message(p: &sa_checker::Progress, pinned: Option<u64>) -> String {
    let secs = p.elapsed.as_secs_f64().max(1e-3);
    let (phase, estimate) = if p.unbounded {
        ("unbounded rounds: ", "no ETA".to_string())
    } else {
        (
            "",
            sa_checker::sizes::estimate(p.unique_states as u64, p.elapsed, pinned),
        )
    };
    format!(
        "{phase}{} unique states, {} total, depth {}, {:.0} states/s; {estimate}",
        p.unique_states,
        p.total_states,
        p.max_depth,
        p.unique_states as f64 / secs
    )
}

/// ", N/min, ETA 3m 20s" after `done` of `total` parts in `elapsed` (nothing before the
/// first part is done: no rate to estimate from).
pub fn eta(elapsed: Duration, done: usize, total: usize) -> String {
    if done == 0 || done >= total {
        return String::new();
    }
    let secs = elapsed.as_secs_f64().max(1e-3);
    let left = (secs / done as f64 * (total - done) as f64).round() as u64;
    format!(
        ", {:.1}/min, ETA {}m {:02}s",
        done as f64 * 60.0 / secs,
        left / 60,
        left % 60
    )
}

/// Prints `report` as one JSON object or as the human report (a simulation pass's report
/// names the command that ran it); false when it cannot be encoded.
pub fn print_report(command: &str, report: &CheckReport, json: bool, view: &View) -> bool {
    if json {
        let format = if command == "sa simulate" {
            "sa-simulate/1"
        } else {
            "sa-check/1"
        };
        let stamped = crate::provenance::stamp(format, report, Some(&report.config));
        return match serde_json::to_string_pretty(&stamped) {
            Ok(s) => {
                println!("{s}");
                true
            }
            Err(e) => {
                eprintln!("{command}: cannot encode report: {e}");
                false
            }
        };
    }
    let text = table(report, view);
    let text = if report.simulation.is_some() && command != "sa simulate" {
        text.replacen("sa simulate:", &format!("{command} (simulation pass):"), 1)
    } else {
        text
    };
    print!("{text}");
    true
}

/// Writes the chart of `id`'s path (default: the first violated property) to `file`; says
/// which path it drew.
pub fn write_chart(
    report: &CheckReport,
    file: &std::path::Path,
    id: Option<&str>,
) -> Result<String, String> {
    let p = match id {
        Some(id) => report
            .property(id)
            .ok_or_else(|| format!("`{id}` is not a property of this check"))?,
        None => report
            .properties
            .iter()
            .find(|p| p.status == Status::Violated)
            .ok_or("no property is violated; name a witness with --chart-for")?,
    };
    let cx = p
        .counterexample
        .as_ref()
        .ok_or_else(|| format!("{} has no path ({})", p.id, status_text(p.status)))?;
    let (ending, what) = if p.status == Status::Violated {
        (sa_checker::chart::Ending::Violation, "counterexample")
    } else {
        (sa_checker::chart::Ending::Witness, "witness")
    };
    let title = format!(
        "{} {}: {} (configuration {})",
        p.id,
        if p.status == Status::Violated {
            "VIOLATED"
        } else {
            "witnessed"
        },
        p.statement,
        report.config.name
    );
    std::fs::write(file, sa_checker::chart::svg(&title, cx, ending))
        .map_err(|e| format!("cannot write: {e}"))?;
    Ok(format!("the {what} for {}", p.id))
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Holds => "holds",
        Status::Violated => "VIOLATED",
        Status::Witnessed => "witnessed",
        Status::NotWitnessed => "NOT witnessed",
        Status::NotApplicable => "not applicable",
        Status::Inconclusive => "NOT proven",
    }
}

/// How much of a report to print.
#[derive(Default)]
pub struct View {
    /// Every node's whole belief after every step.
    pub full: bool,
    /// The paths to the witnesses too.
    pub witnesses: bool,
    /// The whole report even after a violation.
    pub table: bool,
}

/// The human report. After a violation (unless `view.table`): the verdict, the violated
/// properties, a one-line summary of the rest and the story of the first violation. Else:
/// verdict, bounds, every property, the counterexamples, the verdict again.
#[allow(
    clippy::too_many_lines,
    reason = "the report's text table, one section after the other as it prints"
)]
pub fn table(r: &CheckReport, view: &View) -> String {
    let mut out = String::new();
    let mutations = if r.config.mutations.is_empty() {
        "none (reference protocol)".to_string()
    } else {
        r.config
            .mutations
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push_str(&format!(
        "sa {}: configuration `{}`, {} provisioners: verdict {}\n",
        if r.simulation.is_some() {
            "simulate"
        } else {
            "check"
        },
        r.config.name,
        r.config.provisioners.len(),
        r.verdict.name()
    ));
    out.push_str(&format!("horizon: {}\n", r.horizon.line));
    let draws = match (r.draw_classes, r.seeds) {
        (Some(k), _) => format!(" over {k} draw classes"),
        (None, Some([a, b])) => format!(" over the {} seeds {a}..={b}", b - a + 1),
        (None, None) => String::new(),
    };
    let memory = r.peak_memory_bytes.map_or(String::new(), |b| {
        format!(", peak memory {} MB", b / 1_000_000)
    });
    let search = if let Some(sim) = &r.simulation {
        simulation_line(r, sim)
    } else {
        format!(
        "search: {}{draws}; {} unique states, {} total, max depth {}, {:.2} s ({:.0} states/s, {} threads{memory})\n",
        if r.exhaustive {
            "exhaustive (every reachable state visited)".to_string()
        } else {
            format!("NOT exhaustive: {}", r.cut_reason.clone().unwrap_or_default())
        },
        r.unique_states,
        r.total_states,
        r.max_depth,
        r.seconds,
        r.states_per_second,
        r.threads
    )
    };
    if r.verdict == Verdict::Violated && !view.table {
        story(&mut out, r, view, &mutations, &search);
        return out;
    }
    for b in &r.bounds {
        out.push_str(&format!("  {b}\n"));
    }
    out.push_str(&format!("mutations: {mutations}\n"));
    out.push_str(&liveness_line(r));
    if !r.mutations_without_effect.is_empty() {
        out.push_str(&format!(
            "NO EFFECT: mutation(s) {} never changed a decision in this search: the result says nothing about them\n",
            r.mutations_without_effect.join(", ")
        ));
    }
    out.push_str(&search);
    out.push('\n');
    let w = r
        .properties
        .iter()
        .map(|p| p.id.len())
        .max()
        .unwrap_or(2)
        .max(8);
    out.push_str(&format!(
        "{:<w$}  {:<7}  {:<14}  statement\n",
        "property", "kind", "result"
    ));
    for p in &r.properties {
        let kind = match p.kind {
            sa_model::properties::Kind::Safety => "safety",
            sa_model::properties::Kind::Witness => "witness",
            sa_model::properties::Kind::Liveness => "liveness",
        };
        let note = p.note.as_ref().map_or(String::new(), |n| format!(" ({n})"));
        // A cut search proves nothing holds: say what was seen.
        let result = match p.status {
            Status::Holds if !r.exhaustive => "holds so far",
            Status::NotWitnessed if !r.exhaustive => "not yet seen",
            s => status_text(s),
        };
        out.push_str(&format!(
            "{:<w$}  {:<7}  {:<14}  {}{note}\n",
            p.id, kind, result, p.statement
        ));
    }
    for p in &r.properties {
        let (title, outcome) = match p.status {
            Status::Violated => ("Counterexample", "VIOLATED"),
            Status::Witnessed if view.witnesses => ("Witness", "WITNESSED"),
            _ => continue,
        };
        if let Some(cx) = &p.counterexample {
            path(&mut out, title, outcome, (r, p), cx, view.full);
        }
    }
    out.push_str(&format!("\n{}\n", verdict_line(r)));
    out
}

/// The last line of a report: the verdict and, when it is not PASS, what made it so.
pub fn verdict_line(r: &CheckReport) -> String {
    match r.verdict {
        Verdict::Pass => "PASS: exhaustive; every safety and liveness property holds and every applicable witness is reachable".into(),
        Verdict::Violated => "VIOLATED: a safety property fails (counterexample above)".into(),
        Verdict::Vacuous => {
            let missed: Vec<&str> = r
                .properties
                .iter()
                .filter(|p| p.status == Status::NotWitnessed)
                .map(|p| p.id.as_str())
                .collect();
            let mut why = Vec::new();
            if !missed.is_empty() {
                why.push(format!("not witnessed: {}", missed.join(", ")));
            }
            if !r.mutations_without_effect.is_empty() {
                why.push(format!(
                    "no effect: {}",
                    r.mutations_without_effect.join(", ")
                ));
            }
            format!("VACUOUS: nothing violated, but {}", why.join("; "))
        }
        Verdict::Incomplete if r.exhaustive => {
            let unsettled = r
                .properties
                .iter()
                .filter(|p| p.status == Status::Inconclusive)
                .count();
            format!(
                "INCOMPLETE: every reachable state was visited, but {unsettled} propert{} not \
                 settled (the NOT proven rows and their notes); nothing violated",
                if unsettled == 1 { "y is" } else { "ies are" }
            )
        }
        Verdict::Incomplete => "INCOMPLETE: a limit cut the search; nothing violated in what it saw".into(),
        Verdict::NotCaught => {
            let names: Vec<String> = r.config.mutations.iter().map(|m| m.name()).collect();
            format!(
                "NOT CAUGHT: the mutation(s) {} changed decisions and no property was violated: this broken variant is not caught here",
                names.join(", ")
            )
        }
    }
}

/// The search line of a simulation: what was run, its rates, and how to replay a violation.
fn simulation_line(r: &CheckReport, sim: &sa_checker::simulate::SimulationSummary) -> String {
    let memory = r.peak_memory_bytes.map_or(String::new(), |b| {
        format!(", peak memory {} MB", b / 1_000_000)
    });
    let mut line = format!(
        "search: NOT exhaustive: {}; {:.2} s ({:.0} walks/s, {:.0} states/s, {} threads{memory})\n",
        sim.line(),
        sim.seconds,
        sim.walks_per_second,
        sim.states_per_second,
        r.threads
    );
    let what = if Config::preset(&r.config.name).is_some_and(|p| p == r.config) {
        format!("--preset {}", r.config.name)
    } else {
        "--config FILE".to_string()
    };
    for v in &sim.violations {
        line.push_str(&format!(
            "{} found by {}walk {} of seed {} after {} steps (shrunk to {}; {} walks violate \
             it; replay: sa simulate {what} --seed {} --walk {})\n",
            v.id,
            if v.local {
                "the breadth-first search around "
            } else {
                ""
            },
            v.walk,
            sim.seed,
            v.steps,
            v.shrunk_to,
            v.walks_violating,
            sim.seed,
            v.walk
        ));
    }
    line
}

/// One line on per-round liveness: whether the rank argument held, how long rounds after GST
/// took, and the stuck states past the bound.
fn liveness_line(r: &CheckReport) -> String {
    let l = &r.liveness;
    if r.config.faults.gst_round == 0 {
        return "liveness: no GST, nothing promised\n".into();
    }
    let acyclic = if l.rank_violations == 0 {
        format!(
            "acyclic (the progress rank rose on all {} transitions)",
            r.total_states.saturating_sub(1)
        )
    } else {
        format!(
            "NOT shown acyclic ({} transitions did not raise the progress rank)",
            l.rank_violations
        )
    };
    let past = if l.stuck_past_bound == 0 {
        "no round after GST stuck".to_string()
    } else {
        format!(
            "{} stuck states in rounds with no good iteration (past the bound)",
            l.stuck_past_bound
        )
    };
    let unbounded = if l.unbounded_states == 0 {
        "unbounded rounds: not searched (--no-unbounded)".to_string()
    } else {
        format!(
            "unbounded rounds: {} states in {:.1} s, {}",
            l.unbounded_states,
            l.unbounded_seconds,
            if l.unbounded_rank_violations == 0 {
                "every cycle drops a Final height (rank rose on every other transition)".to_string()
            } else {
                format!(
                    "{} transitions dropped no height and did not raise the rank",
                    l.unbounded_rank_violations
                )
            }
        )
    };
    format!(
        "liveness: {acyclic}; rounds after GST ended within {} iteration(s); {past}\n  {unbounded}\n",
        l.worst_iterations
    )
}

/// The report of a violation, story first: the violated properties, a summary of the rest,
/// the first counterexample step by step, and where the rest is.
fn story(out: &mut String, r: &CheckReport, view: &View, mutations: &str, search: &str) {
    out.push_str(&format!("mutations: {mutations}; {search}"));
    let violated: Vec<&sa_checker::PropertyReport> = r
        .properties
        .iter()
        .filter(|p| p.status == Status::Violated)
        .collect();
    for p in &violated {
        out.push_str(&format!("VIOLATED  {}: {}\n", p.id, p.statement));
    }
    let count = |f: &dyn Fn(&sa_checker::PropertyReport) -> bool| {
        r.properties.iter().filter(|p| f(p)).count()
    };
    let holds = count(&|p| p.status == Status::Holds);
    let witnessed = count(&|p| p.status == Status::Witnessed);
    let missing = count(&|p| p.status == Status::NotWitnessed);
    let na = count(&|p| p.status == Status::NotApplicable);
    out.push_str(&format!(
        "({holds} other safety and liveness properties hold; {witnessed} witnesses witnessed, {missing} not \
         witnessed, {na} not applicable; --table for every row and the bounds)\n"
    ));
    if let Some(first) = violated.first() {
        if let Some(cx) = &first.counterexample {
            path(out, "Counterexample", "VIOLATED", (r, first), cx, view.full);
        }
    }
    for p in violated.iter().skip(1) {
        if let Some(cx) = &p.counterexample {
            out.push_str(&format!(
                "(counterexample for {}: {} steps; --table prints it, --chart FILE.svg \
                 --chart-for {} draws it)\n",
                p.id,
                cx.steps.len(),
                p.id
            ));
        }
    }
}

/// Reads the shard reports in `files` (each the JSON of `made_by`) and merges them with
/// `merge` (`sa_checker::shard::merge` or `merge_simulations`); errors name the file.
pub fn merge_reports(
    files: &[std::path::PathBuf],
    made_by: &str,
    merge: fn(&[CheckReport]) -> Result<CheckReport, sa_checker::shard::MergeError>,
) -> Result<CheckReport, String> {
    use sa_checker::shard::MergeError;
    let mut reports = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        let r: CheckReport = serde_json::from_str(&text)
            .map_err(|e| format!("{}: not the JSON of `{made_by}`: {e}", f.display()))?;
        reports.push(r);
    }
    merge(&reports).map_err(|e| match e {
        MergeError::NotAShard(k) | MergeError::Mismatch(k, _) => files
            .get(k)
            .map_or_else(|| e.to_string(), |f| format!("{}: {e}", f.display())),
        MergeError::Twice(_) | MergeError::Empty => e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 33's row "VACUOUS verdict": the last line names the witness that was missed.
    #[test]
    fn a_vacuous_verdict_names_the_witness_missed() {
        let config = Config::preset("two-eligible").expect("preset");
        let opts = sa_checker::CheckOptions {
            threads: 1,
            ..sa_checker::CheckOptions::default()
        };
        let mut r = sa_checker::check(&config, &opts, &mut |_| {});
        assert_eq!(r.verdict, Verdict::Pass);
        let w = r
            .properties
            .iter_mut()
            .find(|p| p.status == Status::Witnessed)
            .expect("a witness reached");
        w.status = Status::NotWitnessed;
        let id = w.id.clone();
        r.verdict = r.compute_verdict();
        assert_eq!(r.verdict, Verdict::Vacuous);
        assert_eq!(
            verdict_line(&r),
            format!("VACUOUS: nothing violated, but not witnessed: {id}")
        );
    }

    #[test]
    fn eta_extrapolates_the_rate_so_far() {
        assert_eq!(eta(Duration::from_secs(10), 0, 5), "");
        assert_eq!(eta(Duration::from_secs(10), 5, 5), "");
        // 2 parts in 60 s: 2.0/min, 8 left at 30 s each: 4 minutes.
        assert_eq!(eta(Duration::from_secs(60), 2, 10), ", 2.0/min, ETA 4m 00s");
        assert_eq!(eta(Duration::from_secs(10), 1, 3), ", 6.0/min, ETA 0m 20s");
    }
}
