//! `sa check`: model-check a preset or a TOML configuration against spec/properties.md.

use std::path::PathBuf;
use std::time::Duration;

use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::{Config, ConfigError};

use crate::config_args::{load_config, parse_seeds};
use crate::output::{eta, print_report, progress_message, write_chart, View};
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
                  without effect) or NOT CAUGHT (mutations changed decisions and no property \
                  was violated); 4 INCOMPLETE (a limit cut the search); 141 stdout closed \
                  by its reader."
)]
pub struct Args {
    /// Built-in preset to check (default, tiny, small, two-eligible, byzantine,
    /// byzantine-over, async-final, byzantine-async, emergency, matured, warnings, stall, rejoin, largest, dusk, mainnet).
    #[arg(long, default_value = "default", conflicts_with = "config")]
    preset: String,
    /// TOML configuration file to check instead of a preset (docs/designers.md lists the fields).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Enable a mutation (broken variant) on top of the preset or file; repeatable (the
    /// names, and the property each breaks: --help).
    #[arg(long = "mutation", value_name = "NAME", long_help = mutation_help())]
    mutations: Vec<String>,
    /// Check a protocol variant instead of Dusk's finality rule (dusk, sm-fail, closed:
    /// spec/variants.md); the same as `[protocol] finality` in a configuration file.
    #[arg(long, value_name = "VARIANT")]
    finality: Option<String>,
    /// Check a protocol variant instead of Dusk's suspension rule (dusk, lifted:
    /// spec/variants.md); the same as `[protocol] suspension` in a configuration file.
    #[arg(long, value_name = "VARIANT")]
    suspension: Option<String>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print one JSON object instead of the table (format `sa-check/1`, with provenance).
    /// Not with the text report's options (--table, --full, --witnesses) or --print-config.
    #[arg(long, conflicts_with_all = ["table", "full", "witnesses", "print_config"])]
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
    /// Merge the states that differ only in votes nothing can read any more: votes of slots
    /// no node may still decide, that no attestation held and no Success that may still form
    /// needs (spec/faults.md, "State merging"). Every verdict is the full search's.
    #[arg(long)]
    merge_states: bool,
    /// Search one shard of N (1-based I): the states above breadth-first depth
    /// --shard-depth and what lies under the I-th part of the states first reached there.
    /// Run every shard (on as many machines), each with --json, then merge with --merge.
    /// No simulation pass is run.
    #[arg(long, value_name = "I/N", value_parser = crate::config_args::parse_shard,
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
    /// Write each counterexample (and, with --witnesses, each witness path) as ITF traces
    /// into DIR (new or empty): the path projected onto every honest node it moves, one
    /// `ID-pP.itf.json` each, the form `sa conform DIR` replays against sa-node or an adapter.
    /// Reference protocol only (no --mutation), one seed (no --seeds / --all-draws).
    #[arg(long, value_name = "DIR", conflicts_with_all = ["seeds", "all_draws", "merge"])]
    itf: Option<PathBuf>,
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
    let mut config = load_config(
        &args.preset,
        args.config.as_deref(),
        &args.mutations,
        args.print_config,
    )?;
    if let Some(name) = &args.finality {
        config.protocol.finality =
            sa_model::config::Finality::from_name(name).ok_or_else(|| ConfigError::Invalid {
                field: "--finality".into(),
                rule: format!(
                    "`{name}` is not a finality variant; known: {}",
                    sa_model::config::Finality::ALL
                        .map(sa_model::config::Finality::name)
                        .join(", ")
                ),
            })?;
        if !config.protocol.finality.is_dusk() {
            config.name = format!("{} (finality {name})", config.name);
        }
    }
    if let Some(name) = &args.suspension {
        use sa_model::config::Suspension;
        config.protocol.suspension =
            Suspension::from_name(name).ok_or_else(|| ConfigError::Invalid {
                field: "--suspension".into(),
                rule: format!(
                    "`{name}` is not a suspension variant; known: {}",
                    Suspension::ALL.map(Suspension::name).join(", ")
                ),
            })?;
        if !config.protocol.suspension.is_dusk() {
            config.name = format!("{} (suspension {name})", config.name);
        }
    }
    Ok(config)
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
    if let Some(dir) = &args.itf {
        if !args.mutations.is_empty() {
            eprintln!(
                "sa check: --itf: traces are runs of the reference protocol; drop --mutation"
            );
            return EXIT_BAD_INPUT;
        }
        if std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some()) {
            eprintln!(
                "sa check: --itf {}: exists and is not empty (nothing is overwritten)",
                dir.display()
            );
            return EXIT_BAD_INPUT;
        }
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
        return match crate::output::merge_reports(
            &args.merge,
            "sa check --shard I/N --json",
            sa_checker::shard::merge,
        ) {
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
        merge_dead: args.merge_states,
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
        if let Some(report) =
            crate::checking::simulation_pass(&config, walks, &opts, args.exhaustive)
        {
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
                bar.set_message(progress_message(
                    p,
                    sa_checker::sizes::pinned_states(&config),
                ));
                bar.tick();
            }
        })
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    finish(&args, &report)
}

/// `--itf DIR`: every counterexample (and witness path, with `witnesses`) of the bounded model
/// as ITF traces; a path of another model (the unbounded one's liveness lassos) is skipped
/// with a note.
fn write_itf(report: &CheckReport, dir: &std::path::Path, witnesses: bool) -> Result<(), String> {
    use sa_checker::report::Status;
    std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    let model = sa_model::SaModel::new(report.config.clone());
    let mut written = 0;
    for p in &report.properties {
        let wanted = p.status == Status::Violated || (witnesses && p.status == Status::Witnessed);
        let Some(cx) = p.counterexample.as_ref().filter(|_| wanted) else {
            continue;
        };
        let actions: Vec<serde_json::Value> = cx.steps.iter().map(|s| s.action.clone()).collect();
        let what = if p.status == Status::Violated {
            "counterexample"
        } else {
            "witness"
        };
        match sa_conformance::export::run_of_path(&model, &actions) {
            Ok(run) => {
                let files = sa_conformance::export::write_run(
                    &model,
                    &report.config.name,
                    &run,
                    dir,
                    &p.id.to_lowercase(),
                    &format!("the {what} of {}", p.id),
                )?;
                eprintln!(
                    "sa check: wrote the {what} of {} as {} trace(s) in {}",
                    p.id,
                    files.len(),
                    dir.display()
                );
                written += files.len();
            }
            Err(e) => eprintln!(
                "sa check: --itf: the {what} of {} is not a run of the bounded model ({e}); not written",
                p.id
            ),
        }
    }
    if written == 0 {
        eprintln!(
            "sa check: --itf: no path to write (nothing violated; --witnesses adds witness paths)"
        );
    }
    Ok(())
}

/// Prints `report` as `args` ask, writes the chart; returns the exit status.
fn finish(args: &Args, report: &CheckReport) -> u8 {
    let view = View {
        full: args.full,
        witnesses: args.witnesses,
        table: args.table,
    };
    if !print_report("sa check", report, args.json, &view) {
        return EXIT_FAILED;
    }
    if let Some(dir) = &args.itf {
        if let Err(e) = write_itf(report, dir, args.witnesses) {
            eprintln!("sa check: --itf {}: {e}", dir.display());
            return EXIT_BAD_INPUT;
        }
    }
    if let Some(file) = &args.chart {
        match write_chart(report, file, args.chart_for.as_deref()) {
            Ok(what) => eprintln!("sa check: wrote the chart of {what} to {}", file.display()),
            // Nothing to draw (a passing run, a witness not reached) is a warning: the
            // verdict stands. A file that cannot be written is bad input.
            Err(e) if e.starts_with("cannot write") => {
                eprintln!("sa check: `--chart {}`: {e}", file.display());
                return EXIT_BAD_INPUT;
            }
            Err(e) => eprintln!(
                "sa check: warning: no chart written to {}: {e}",
                file.display()
            ),
        }
    }
    report.verdict.exit_code()
}
