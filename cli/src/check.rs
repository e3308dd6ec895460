//! `sa check`: model-check a preset or a TOML configuration against spec/properties.md.

use std::path::PathBuf;
use std::time::Duration;

use sa_checker::report::{Counterexample, NodeView, Status, Verdict};
use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::{Config, ConfigError};

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Arguments of `sa check`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Model-check a preset or configuration exhaustively against spec/properties.md",
    long_about = "Explores every reachable state of the Succinct Attestation model for one \
                  configuration (depth-first, multi-threaded) and reports each property of \
                  spec/properties.md: safety properties hold or are VIOLATED (with a \
                  counterexample), witnesses are witnessed or NOT witnessed.\n\n\
                  Exit status (the verdict): 0 PASS (exhaustive, every safety property holds, \
                  every applicable witness reached, every mutation changed a decision); \
                  1 VIOLATED; 2 bad input; 3 VACUOUS (a witness not reached or a mutation \
                  without effect); 4 INCOMPLETE (a limit cut the search)."
)]
pub struct Args {
    /// Built-in preset to check (default, tiny, small, two-eligible, byzantine,
    /// byzantine-over, async-final, byzantine-async, emergency, matured, rejoin, largest, mainnet).
    #[arg(long, default_value = "default", conflicts_with = "config")]
    preset: String,
    /// TOML configuration file to check instead of a preset (see README.md for the fields).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Enable a mutation (broken variant) on top of the preset or file; repeatable (the
    /// names, and the property each breaks: --help).
    #[arg(long = "mutation", value_name = "NAME", long_help = mutation_help())]
    mutations: Vec<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
    /// Stop after this many generated states (the result is then not exhaustive).
    #[arg(long, value_name = "N")]
    max_states: Option<usize>,
    /// Do not explore beyond this depth (the result is then not exhaustive).
    #[arg(long, value_name = "N")]
    max_depth: Option<usize>,
    /// Stop after this many seconds (the result is then not exhaustive).
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Keep the depth-first discoveries as found instead of shortening them breadth-first.
    #[arg(long)]
    no_shorten: bool,
    /// Skip the unbounded search (rounds for ever, heights relative to the last common Final
    /// block) that checks LIVE-CONVERGENCE and LIVE-FINALITY after the bounded one.
    #[arg(long)]
    no_unbounded: bool,
    /// Expand only a persistent subset of each state's actions where the partial-order
    /// reduction applies (spec/faults.md, "The reduction").
    #[arg(long)]
    reduce: bool,
    /// Search one shard of N (1-based I): the states above breadth-first depth
    /// --shard-depth and what lies under the I-th part of the states first reached there.
    /// Run every shard (on as many machines), each with --json, then merge with --merge.
    /// No simulation pass is run.
    #[arg(long, value_name = "I/N", value_parser = crate::sweep::parse_shard,
          conflicts_with_all = ["all_draws", "seeds"])]
    shard: Option<(usize, usize)>,
    /// The breadth-first depth at which --shard splits the states.
    #[arg(long, value_name = "D", default_value_t = 8, requires = "shard")]
    shard_depth: usize,
    /// Merge the JSON reports of a search's shards (`sa check --shard I/N --json > part-I.json`)
    /// into one report and verdict; not exhaustive unless every shard is there.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["preset", "config", "shard"])]
    merge: Vec<PathBuf>,
    /// Check every class of first-round draws SORT-3..5 allow (up to relabelling provisioners
    /// of equal stake) instead of the seed's draw only; one exhaustive search per class.
    #[arg(long, conflicts_with = "seeds")]
    all_draws: bool,
    /// Check once per seed of FROM..=TO (whole draw sequences, every height: seeded sampling
    /// of the draws) and merge: a property holds only if it holds for every seed; each
    /// violation and witness names its seed. The limits apply to the whole sweep.
    #[arg(long, value_name = "FROM..=TO")]
    seeds: Option<String>,
    /// Print the configuration being checked as TOML and exit (a starting point for --config).
    #[arg(long)]
    print_config: bool,
    /// Counterexamples in full: every node's belief after every step (by default a step
    /// shows only the nodes whose belief it changed).
    #[arg(long)]
    full: bool,
    /// Also print the path to each witness reached (as found, not shortened), in the same
    /// form as counterexamples.
    #[arg(long)]
    witnesses: bool,
    /// After a violation, print the whole report (bounds, every property row, every
    /// counterexample) instead of the story of the first violation.
    #[arg(long)]
    table: bool,
    /// Write a message sequence chart (SVG) of the first violated property's counterexample,
    /// or of the property named by --chart-for.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// The property whose path --chart draws: a violated property or a witness reached.
    #[arg(long, value_name = "ID", requires = "chart")]
    chart_for: Option<String>,
    /// Walks of the seeded simulation (`sa simulate`, seed 0) run before the exhaustive
    /// search. Default: 1000000 when asynchrony lasts until a PNI-1 block can be Final (the
    /// report header's horizon; the exhaustive search of such a configuration does not finish
    /// on 2 cores), 0 otherwise. If the walks violate a property, the report is theirs (not
    /// exhaustive, said so) and the exhaustive search runs only with --exhaustive.
    #[arg(long, value_name = "N")]
    simulate: Option<u64>,
    /// Run the exhaustive search even after the simulation pass found a violation.
    #[arg(long)]
    exhaustive: bool,
    /// List every mutation: its name, what it breaks, the property it violates and the preset
    /// it is shown on; then exit.
    #[arg(long)]
    list_mutations: bool,
}

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
    p: &sa_checker::PropertyReport,
    cx: &Counterexample,
    full: bool,
) {
    out.push_str(&format!(
        "\n{title} for {} ({} steps{}):\n",
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

/// A search's progress in one line: states, depth, rate.
pub fn progress_message(p: &sa_checker::Progress) -> String {
    let secs = p.elapsed.as_secs_f64().max(1e-3);
    format!(
        "{} unique states, {} total, depth {}, {:.0} states/s",
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

/// `--mutation`'s long help: every mutation with the property it is shown to violate and the
/// preset it is shown on (spec/properties.md).
fn mutation_help() -> String {
    let mut out = String::from(
        "Enable a mutation (broken variant) on top of the preset or file; repeatable. Each is \
         shown to violate one property (checker/tests/model_mutations.rs), on this preset:\n",
    );
    for (m, property, _) in sa_model::mutations::INTENDED {
        out.push_str(&format!("  {:<34} {property} ({})\n", m.name(), m.preset()));
    }
    out
}

/// `--list-mutations`: one row per mutation: name, what it breaks, the properties it is
/// shown to violate and on which preset, and the command that shows it.
pub fn mutation_list() -> String {
    let mut out = String::from(
        "Mutations (broken variants; each is shown to violate the properties listed, on the \
         preset named, by checker/tests/model_mutations.rs):\n\n",
    );
    for m in sa_model::Mutation::ALL {
        let props: Vec<&str> = sa_model::mutations::INTENDED
            .iter()
            .filter(|(n, _, _)| *n == m)
            .map(|(_, p, _)| *p)
            .collect();
        let preset = if m.preset() == "default" {
            String::new()
        } else {
            format!(" --preset {}", m.preset())
        };
        out.push_str(&format!(
            "{}\n    breaks:   {}\n    violates: {} (preset {})\n    run:      sa check{preset} --mutation {}\n",
            m.name(),
            m.summary(),
            props.join(", "),
            m.preset(),
            m.name()
        ));
    }
    out
}

fn load(args: &Args) -> Result<Config, ConfigError> {
    load_config(
        &args.preset,
        args.config.as_deref(),
        &args.mutations,
        args.print_config,
    )
}

/// The configuration other commands (`sa report`, `sa explore`) take, as `sa check` does.
#[derive(clap::Args, Debug)]
pub struct ConfigArgs {
    /// Built-in preset (default, tiny, small, two-eligible, byzantine, byzantine-over,
    /// async-final, byzantine-async, emergency, matured, rejoin, largest, mainnet).
    #[arg(long, default_value = "default", conflicts_with = "config")]
    pub preset: String,
    /// TOML configuration file instead of a preset.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Enable a mutation (broken variant); repeatable (`sa check --list-mutations`).
    #[arg(long = "mutation", value_name = "NAME")]
    pub mutations: Vec<String>,
}

impl ConfigArgs {
    /// The configuration named, validated and within the model's limits.
    pub fn load(&self) -> Result<Config, ConfigError> {
        load_config(&self.preset, self.config.as_deref(), &self.mutations, false)
    }
}

/// The configuration a command names: a preset or a TOML file, plus mutations; validated
/// (and, unless `print_only`, checked against the model's limits).
pub fn load_config(
    preset: &str,
    file: Option<&std::path::Path>,
    mutations: &[String],
    print_only: bool,
) -> Result<Config, ConfigError> {
    let mut config = match file {
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| ConfigError::Parse {
                origin: origin.clone(),
                message: format!("cannot read file: {e}"),
            })?;
            let mut c = Config::from_toml_str(&text, &origin)?;
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_else(|| origin.clone());
            if c.name.is_empty() {
                c.name = stem;
            } else if Config::preset(&c.name).is_some_and(|p| p != c) {
                // A preset printed with --print-config and then edited: say so, never report
                // the preset's name for other parameters.
                c.name = format!("{} (edited, {origin})", c.name);
            }
            c
        }
        None => Config::preset(preset).ok_or_else(|| ConfigError::UnknownPreset {
            name: preset.to_string(),
            known: Config::preset_names().join(", "),
        })?,
    };
    for name in mutations {
        let m = serde_json::from_value(serde_json::Value::String(name.clone())).map_err(|_| {
            ConfigError::Invalid {
                field: "--mutation".into(),
                rule: format!(
                    "`{name}` is not a known mutation; known: {}",
                    sa_model::Mutation::ALL
                        .iter()
                        .map(|m| m.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            }
        })?;
        if !config.mutations.contains(&m) {
            config.mutations.push(m);
        }
    }
    config.validate()?;
    if !print_only {
        config.check_model_limits()?;
    }
    Ok(config)
}

/// Parses `FROM..=TO` (or `FROM..TO`, also inclusive of TO: a seed range names seeds).
fn parse_seeds(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once("..=")
        .or_else(|| s.split_once(".."))
        .ok_or("expected FROM..=TO, e.g. 0..=20")?;
    let num = |x: &str, what: &str| {
        x.trim()
            .parse::<u64>()
            .map_err(|_| format!("{what} `{x}` is not a seed (an unsigned integer)"))
    };
    let (from, to) = (num(a, "FROM")?, num(b, "TO")?);
    if from > to {
        return Err(format!("FROM {from} is after TO {to}"));
    }
    if to - from >= 100_000 {
        return Err("at most 100000 seeds in one sweep".into());
    }
    Ok((from, to))
}

/// Runs `sa check`; returns the process exit status.
#[allow(
    clippy::too_many_lines,
    reason = "a subcommand: flags, presets, progress, report, exit code, in that order"
)]
pub fn run(args: Args) -> u8 {
    if args.list_mutations {
        print!("{}", mutation_list());
        return EXIT_OK;
    }
    if let Some(chart) = &args.chart {
        if let Err(e) = crate::writable(chart) {
            eprintln!("sa check: `--chart {}`: {e}", chart.display());
            return EXIT_BAD_INPUT;
        }
    }
    if let Some(id) = &args.chart_for {
        if sa_model::properties::spec(id).is_none() {
            eprintln!(
                "sa check: `--chart-for {id}`: not a property ID of spec/properties.md; known: {}",
                sa_model::properties::SPECS
                    .iter()
                    .map(|s| s.id)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            return EXIT_BAD_INPUT;
        }
    }
    if !args.merge.is_empty() {
        return match merge_files(&args.merge) {
            Ok(report) => finish(&args, &report),
            Err(e) => {
                eprintln!("sa check --merge: {e}");
                EXIT_BAD_INPUT
            }
        };
    }
    let config = match load(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa check: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.print_config {
        match toml::to_string_pretty(&config) {
            Ok(t) => {
                print!("{t}");
                return EXIT_OK;
            }
            Err(e) => {
                eprintln!("sa check: cannot print configuration: {e}");
                return EXIT_FAILED;
            }
        }
    }
    if args.threads == Some(0) {
        eprintln!("sa check: `--threads` must be at least 1");
        return EXIT_BAD_INPUT;
    }
    let seeds = match args.seeds.as_deref().map(parse_seeds).transpose() {
        Ok(s) => s,
        Err(e) => {
            eprintln!(
                "sa check: `--seeds {}`: {e}",
                args.seeds.unwrap_or_default()
            );
            return EXIT_BAD_INPUT;
        }
    };
    let mut opts = CheckOptions {
        max_states: args.max_states,
        max_depth: args.max_depth,
        timeout: args.timeout.map(Duration::from_secs),
        shorten: !args.no_shorten,
        unbounded: !args.no_unbounded,
        reduce: args.reduce,
        shard: args.shard.map(|(i, n)| sa_checker::shard::Shard {
            index: i - 1,
            count: n,
            depth: args.shard_depth,
        }),
        ..CheckOptions::default()
    };
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    // Ctrl-C stops the search and prints what it saw, marked INCOMPLETE.
    opts.interrupt = Some(crate::ctrl_c_flag());
    let bar = crate::spinner();
    let started = std::time::Instant::now();
    let part = |p: Option<&sa_checker::Progress>| {
        p.map_or(String::new(), |p| {
            format!(
                "; this one: {} states, {:.0} states/s, depth {}",
                p.unique_states,
                p.unique_states as f64 / p.elapsed.as_secs_f64().max(1e-3),
                p.max_depth
            )
        })
    };
    let walks = args.simulate.unwrap_or(
        if sa_checker::report::Horizon::of(&config).through_finality
            && seeds.is_none()
            && !args.all_draws
            && args.shard.is_none()
        {
            1_000_000
        } else {
            0
        },
    );
    if walks > 0 {
        if let Some(report) = simulation_pass(&config, walks, &opts, args.exhaustive) {
            return finish(&args, &report);
        }
    }
    let report = if args.all_draws {
        sa_checker::check::check_all_draws(&config, &opts, &mut |done, total, p| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "draw class {} of {total}{}{}",
                    (done + 1).min(total),
                    eta(started.elapsed(), done, total),
                    part(p)
                ));
                bar.tick();
            }
        })
    } else if let Some((from, to)) = seeds {
        sa_checker::check::check_seeds(&config, from, to, &opts, &mut |done, total, p| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "seed {} ({done} of {total} done{}){}",
                    from + done as u64,
                    eta(started.elapsed(), done, total),
                    part(p)
                ));
                bar.tick();
            }
        })
    } else {
        check(&config, &opts, &mut |p| {
            if let Some(bar) = &bar {
                bar.set_message(progress_message(p));
                bar.tick();
            }
        })
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    finish(&args, &report)
}

/// The simulation pass of `sa check`: `walks` seeded walks (seed 0). Returns its report when it
/// violated a property and the exhaustive search is not asked for; None otherwise (the
/// exhaustive search then runs).
fn simulation_pass(
    config: &Config,
    walks: u64,
    opts: &CheckOptions,
    exhaustive: bool,
) -> Option<CheckReport> {
    use sa_checker::simulate::{simulate, SimOptions};
    let sim = SimOptions {
        walks,
        threads: opts.threads,
        interrupt: opts.interrupt.clone(),
        ..SimOptions::default()
    };
    let bar = crate::spinner();
    let report = simulate(
        sa_model::SaModel::new(config.clone()),
        &sim,
        &mut |p: &sa_checker::simulate::SimProgress| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "simulation pass: {} of {walks} walks, {} states",
                    p.walks, p.states
                ));
                bar.tick();
            }
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let violated = report.verdict == Verdict::Violated;
    eprintln!(
        "sa check: simulation pass ({walks} seeded walks, seed 0): {}",
        if !violated {
            "nothing violated; the exhaustive search follows".to_string()
        } else if exhaustive {
            "a violation; the exhaustive search follows (--exhaustive)".to_string()
        } else {
            "a violation, reported below; the exhaustive search was not run (--exhaustive runs \
             it; it does not finish on 2 cores for this configuration)"
                .to_string()
        }
    );
    (violated && !exhaustive).then_some(report)
}

/// Prints `report` as one JSON object or as the human report (a simulation pass's report
/// names the command that ran it); false when it cannot be encoded.
pub fn print_report(command: &str, report: &CheckReport, json: bool, view: &View) -> bool {
    if json {
        return match serde_json::to_string_pretty(report) {
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

/// Prints `report` as `args` ask, writes the chart; returns the exit status.
/// Reads the shard reports in `files` and merges them (`sa_checker::shard::merge`).
fn merge_files(files: &[PathBuf]) -> Result<CheckReport, String> {
    let mut reports = Vec::new();
    for f in files {
        let text =
            std::fs::read_to_string(f).map_err(|e| format!("{}: cannot read: {e}", f.display()))?;
        let r: CheckReport = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: not the JSON of `sa check --shard I/N --json`: {e}",
                f.display()
            )
        })?;
        reports.push(r);
    }
    sa_checker::shard::merge(&reports).map_err(|e| {
        let name = |k: usize| {
            files
                .get(k)
                .map_or(String::new(), |f| f.display().to_string())
        };
        match e {
            sa_checker::shard::MergeError::NotAShard(k)
            | sa_checker::shard::MergeError::Mismatch(k, _) => format!("{}: {e}", name(k)),
            sa_checker::shard::MergeError::Twice(_) | sa_checker::shard::MergeError::Empty => {
                e.to_string()
            }
        }
    })
}

fn finish(args: &Args, report: &CheckReport) -> u8 {
    let view = View {
        full: args.full,
        witnesses: args.witnesses,
        table: args.table,
    };
    if !print_report("sa check", report, args.json, &view) {
        return EXIT_FAILED;
    }
    if let Some(file) = &args.chart {
        match write_chart(report, file, args.chart_for.as_deref()) {
            Ok(what) => eprintln!("sa check: wrote the chart of {what} to {}", file.display()),
            Err(e) => {
                eprintln!("sa check: `--chart {}`: {e}", file.display());
                if report.verdict == Verdict::Pass {
                    return EXIT_BAD_INPUT;
                }
            }
        }
    }
    report.verdict.exit_code()
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
            path(&mut out, title, outcome, p, cx, view.full);
        }
    }
    let verdict = match r.verdict {
        Verdict::Pass => "PASS: exhaustive; every safety and liveness property holds and every applicable witness is reachable",
        Verdict::Violated => "VIOLATED: a safety property fails (counterexample above)",
        Verdict::Vacuous => "VACUOUS: nothing violated, but a witness was not reached or a mutation had no effect",
        Verdict::Incomplete => "INCOMPLETE: a limit cut the search; nothing violated in what it saw",
    };
    out.push_str(&format!("\n{verdict}\n"));
    out
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
            path(out, "Counterexample", "VIOLATED", first, cx, view.full);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eta_extrapolates_the_rate_so_far() {
        assert_eq!(eta(Duration::from_secs(10), 0, 5), "");
        assert_eq!(eta(Duration::from_secs(10), 5, 5), "");
        // 2 parts in 60 s: 2.0/min, 8 left at 30 s each: 4 minutes.
        assert_eq!(eta(Duration::from_secs(60), 2, 10), ", 2.0/min, ETA 4m 00s");
        assert_eq!(eta(Duration::from_secs(10), 1, 3), ", 6.0/min, ETA 0m 20s");
    }
}
