//! `sa simulate`: seeded random walks through the model, every safety property at every step.

use std::path::PathBuf;
use std::time::Duration;

use sa_checker::simulate::{simulate, SimOptions, SimProgress, Stop, Strategy};
use sa_model::SaModel;

use crate::output::View;
use crate::{EXIT_BAD_INPUT, EXIT_FAILED};

/// Arguments of `sa simulate`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Seeded random walks through the model (a swarm of depth-first runs), every safety \
             property checked at every step",
    long_about = "Runs random walks from the initial state of one configuration, as TLC's \
                  -simulate or `quint run`: each walk takes one enabled action after another \
                  (weighted per walk, swarm testing) until none is enabled, and evaluates every \
                  safety and liveness property of spec/properties.md at every state. For \
                  configurations whose exhaustive search (`sa check`) cannot finish: any size \
                  the model represents (8 provisioners, C = 64).\n\n\
                  Reproducible: walk K of seed S is the same on any machine and thread count, \
                  and a violation is reported from the lowest-numbered walk that has one \
                  (`--walk K` replays it alone). A violation's path is shrunk (steps removed \
                  while it still violates) and printed as `sa check` prints one: story, \
                  --chart, --json.\n\n\
                  Never exhaustive: the verdict is VIOLATED (exit 1) or INCOMPLETE (exit 4; \
                  nothing violated in the walks run); 2 is bad input."
)]
pub struct Args {
    #[command(flatten)]
    what: crate::config_args::ConfigArgs,
    /// The run's seed (walk K of a seed is always the same walk).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Walks to run (fewer if a violation, --timeout or Ctrl-C stops the run).
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    walks: u64,
    /// Run only walk K of the seed (to replay a reported violation).
    #[arg(long, value_name = "K")]
    walk: Option<u64>,
    /// Cut a walk after this many steps (the model's walks end before: rounds are bounded).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    max_depth: usize,
    /// Stop taking new walks after this many seconds.
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Worker threads (default: all cores). The result does not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// How a walk chooses among the enabled actions: mixed (even walks swarm, odd walks PCT),
    /// swarm (weights per actor and kind of event, drawn per walk), pct (priorities per actor
    /// and kind with random change points), uniform.
    #[arg(long, default_value = "mixed", value_parser = ["mixed", "swarm", "pct", "uniform"])]
    strategy: String,
    /// Stop after the lowest-numbered walk that violates any property (by itself or in the
    /// search around its violation). By default every walk is run and each violated property
    /// reports the lowest-numbered walk that violates it.
    #[arg(long, conflicts_with = "stop_on")]
    stop_at_first: bool,
    /// Stop after the lowest-numbered walk that violates this property (repeatable); the
    /// others violated on the way are reported too.
    #[arg(long = "stop-on", value_name = "ID")]
    stop_on: Vec<String>,
    /// States of the breadth-first search run around the first violations of each property,
    /// for the properties not yet violated (0: none).
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    local_states: usize,
    /// Keep a violation's walk as taken instead of shrinking it.
    #[arg(long)]
    no_shrink: bool,
    /// Print one JSON object (the `sa check --json` report, plus `simulation`).
    #[arg(long)]
    json: bool,
    /// Counterexamples in full: every node's belief after every step.
    #[arg(long)]
    full: bool,
    /// The whole report (every property row) even after a violation.
    #[arg(long)]
    table: bool,
    /// Also print the path of the first walk that reached each witness.
    #[arg(long)]
    witnesses: bool,
    /// Write a message sequence chart (SVG) of the first violated property's path.
    #[arg(long, value_name = "FILE.svg")]
    chart: Option<PathBuf>,
    /// Run only the walks of shard I of N (1-based): walk K is in shard K mod N + 1. Run every
    /// shard (on as many machines, e.g. a batch job array), each with --json, then merge
    /// them with --merge: the lowest-numbered violating walk of each property and the counts
    /// are the unsharded run's.
    #[arg(long, value_name = "I/N", value_parser = crate::config_args::parse_shard,
          conflicts_with = "walk")]
    shard: Option<(usize, usize)>,
    /// Merge the JSON reports of a simulation's shards (`sa simulate --shard I/N --json >
    /// part-I.json`) into one report.
    #[arg(long, value_name = "FILE", num_args = 1.., conflicts_with_all = ["preset", "config", "shard", "walk"])]
    merge: Vec<PathBuf>,
}

/// The options `args` ask for, or what is wrong with them.
pub fn options(args: &Args) -> Result<SimOptions, String> {
    if args.threads == Some(0) || args.walks == 0 || args.max_depth == 0 {
        return Err("`--threads`, `--walks` and `--max-depth` must be at least 1".into());
    }
    let mut stop_on = Vec::new();
    for id in &args.stop_on {
        match sa_model::properties::spec(id) {
            Some(s) if s.kind != sa_model::properties::Kind::Witness => stop_on.push(s.id),
            _ => {
                return Err(format!(
                    "`--stop-on {id}`: not a safety or liveness property of spec/properties.md"
                ))
            }
        }
    }
    let stop = if args.stop_at_first {
        Stop::AnyViolation
    } else if stop_on.is_empty() {
        Stop::Never
    } else {
        Stop::On(stop_on)
    };
    let mut opts = SimOptions {
        stop,
        seed: args.seed,
        walks: args.walks,
        max_depth: args.max_depth,
        timeout: args.timeout.map(Duration::from_secs),
        interrupt: Some(crate::ctrl_c_flag()),
        strategy: match args.strategy.as_str() {
            "swarm" => Strategy::Swarm,
            "pct" => Strategy::Pct,
            "uniform" => Strategy::Uniform,
            _ => Strategy::Mixed,
        },
        shrink: !args.no_shrink,
        only_walk: args.walk,
        local_states: args.local_states,
        shard: args.shard.map(|(i, n)| (i as u64 - 1, n as u64)),
        ..SimOptions::default()
    };
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    Ok(opts)
}

/// Runs `sa simulate`; returns the process exit status.
pub fn run(args: Args) -> u8 {
    if let Some(chart) = &args.chart {
        if let Err(e) = crate::writable(chart) {
            eprintln!("sa simulate: `--chart {}`: {e}", chart.display());
            return EXIT_BAD_INPUT;
        }
    }
    let view = View {
        full: args.full,
        witnesses: args.witnesses,
        table: args.table,
    };
    if !args.merge.is_empty() {
        let report = match crate::output::merge_reports(
            &args.merge,
            "sa simulate --shard I/N --json",
            sa_checker::shard::merge_simulations,
        ) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("sa simulate --merge: {e}");
                return EXIT_BAD_INPUT;
            }
        };
        if !crate::output::print_report("sa simulate", &report, args.json, &view) {
            return EXIT_FAILED;
        }
        return report.verdict.exit_code();
    }
    let config = match args.what.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa simulate: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let opts = match options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("sa simulate: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let bar = crate::spinner();
    let report = simulate(SaModel::new(config), &opts, &mut |p: &SimProgress| {
        if let Some(bar) = &bar {
            let secs = p.elapsed.as_secs_f64().max(1e-3);
            bar.set_message(format!(
                "{} of {} walks, {} states, max depth {}, {:.0} walks/s, {:.0} states/s",
                p.walks,
                args.walk.map_or(args.walks, |_| 1),
                p.states,
                p.max_depth,
                p.walks as f64 / secs,
                p.states as f64 / secs
            ));
            bar.tick();
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if !crate::output::print_report("sa simulate", &report, args.json, &view) {
        return EXIT_FAILED;
    }
    if let Some(file) = &args.chart {
        match crate::output::write_chart(&report, file, None) {
            Ok(what) => eprintln!(
                "sa simulate: wrote the chart of {what} to {}",
                file.display()
            ),
            Err(e) => eprintln!("sa simulate: `--chart {}`: {e}", file.display()),
        }
    }
    report.verdict.exit_code()
}
