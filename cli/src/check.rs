//! `sa check`: model-check a preset or a TOML configuration against spec/properties.md.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};
use sa_model::report::{Status, Verdict};
use sa_model::{check, CheckOptions, CheckReport, Config, ConfigError};

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
    /// byzantine-over, mainnet).
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
}

/// A counterexample or witness path: the numbered steps in the spec's words, each followed by
/// the beliefs it changed (every node's with `full`), and a closing line tying it to `p`.
fn path(
    out: &mut String,
    title: &str,
    outcome: &str,
    p: &sa_model::PropertyReport,
    cx: &sa_model::report::Counterexample,
    full: bool,
) {
    out.push_str(&format!(
        "\n{title} for {} ({} steps{}):\n",
        p.id,
        cx.steps.len(),
        if cx.shortest { ", shortest found" } else { "" }
    ));
    if !full {
        out.push_str(
            "  (each step: who acted and what it did, then only the beliefs it changed; \
             --full for every node at every step)\n",
        );
    }
    out.push_str(
        "   0. initial state (a node skips the steps in which it has nothing to do: \
         not gen(i), not a member of the step's committee)\n",
    );
    for b in &cx.initial {
        out.push_str(&format!("        {b}\n"));
    }
    let mut before = &cx.initial;
    for s in &cx.steps {
        out.push_str(&format!("  {:>2}. {}\n", s.index, s.description));
        let changed: Vec<&String> = s
            .beliefs
            .iter()
            .enumerate()
            .filter(|(k, b)| full || before.get(*k) != Some(*b))
            .map(|(_, b)| b)
            .collect();
        if changed.is_empty() {
            out.push_str("        (no node's belief changed)\n");
        }
        for b in changed {
            out.push_str(&format!("        {b}\n"));
        }
        before = &s.beliefs;
    }
    out.push_str(&format!(
        "  => {} {outcome} after step {}: {}\n",
        p.id,
        cx.steps.len(),
        p.statement
    ));
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
         shown to violate one property (model/tests/model_mutations.rs), on this preset:\n",
    );
    for (m, property, _) in sa_model::mutations::INTENDED {
        let preset = match m {
            sa_model::Mutation::DuskTwoEligible => "two-eligible",
            sa_model::Mutation::DuskAsyncOwnVote => "byzantine",
            _ => "default",
        };
        out.push_str(&format!("  {:<34} {property} ({preset})\n", m.name()));
    }
    out
}

fn load(args: &Args) -> Result<Config, ConfigError> {
    let mut config = match &args.config {
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
        None => Config::preset(&args.preset).ok_or_else(|| ConfigError::UnknownPreset {
            name: args.preset.clone(),
            known: Config::preset_names().join(", "),
        })?,
    };
    for name in &args.mutations {
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
    if !args.print_config {
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
pub fn run(args: Args) -> u8 {
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
        ..CheckOptions::default()
    };
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    let bar = if std::io::stderr().is_terminal() {
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        Some(bar)
    } else {
        None
    };
    let started = std::time::Instant::now();
    let report = if args.all_draws {
        sa_model::check::check_all_draws(&config, &opts, &mut |done, total| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "draw class {done} of {total}{}",
                    eta(started.elapsed(), done, total)
                ));
                bar.tick();
            }
        })
    } else if let Some((from, to)) = seeds {
        sa_model::check::check_seeds(&config, from, to, &opts, &mut |done, total| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "seed {} ({done} of {total} done{})",
                    from + done as u64,
                    eta(started.elapsed(), done, total)
                ));
                bar.tick();
            }
        })
    } else {
        check(&config, &opts, &mut |p| {
            if let Some(bar) = &bar {
                let secs = p.elapsed.as_secs_f64().max(1e-3);
                bar.set_message(format!(
                    "{} unique states, {} total, depth {}, {:.0} states/s",
                    p.unique_states,
                    p.total_states,
                    p.max_depth,
                    p.unique_states as f64 / secs
                ));
                bar.tick();
            }
        })
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        match serde_json::to_string_pretty(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("sa check: cannot encode report: {e}");
                return EXIT_FAILED;
            }
        }
    } else {
        print!("{}", table(&report, args.full, args.witnesses));
    }
    report.verdict.exit_code()
}

fn status_text(s: Status) -> &'static str {
    match s {
        Status::Holds => "holds",
        Status::Violated => "VIOLATED",
        Status::Witnessed => "witnessed",
        Status::NotWitnessed => "NOT witnessed",
        Status::NotApplicable => "not applicable",
    }
}

/// The human report: verdict, bounds, property table, counterexamples, verdict again.
pub fn table(r: &CheckReport, full: bool, witnesses: bool) -> String {
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
        "sa check: configuration `{}`, {} provisioners: verdict {}\n",
        r.config.name,
        r.config.provisioners.len(),
        r.verdict.name()
    ));
    for b in &r.bounds {
        out.push_str(&format!("  {b}\n"));
    }
    out.push_str(&format!("mutations: {mutations}\n"));
    if !r.mutations_without_effect.is_empty() {
        out.push_str(&format!(
            "NO EFFECT: mutation(s) {} never changed a decision in this search: the result says nothing about them\n",
            r.mutations_without_effect.join(", ")
        ));
    }
    let draws = match (r.draw_classes, r.seeds) {
        (Some(k), _) => format!(" over {k} draw classes"),
        (None, Some([a, b])) => format!(" over the {} seeds {a}..={b}", b - a + 1),
        (None, None) => String::new(),
    };
    out.push_str(&format!(
        "search: {}{draws}; {} unique states, {} total, max depth {}, {:.2} s ({:.0} states/s, {} threads)\n\n",
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
    ));
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
        };
        let note = p.note.as_ref().map_or(String::new(), |n| format!(" ({n})"));
        out.push_str(&format!(
            "{:<w$}  {:<7}  {:<14}  {}{note}\n",
            p.id,
            kind,
            status_text(p.status),
            p.statement
        ));
    }
    for p in &r.properties {
        let (title, outcome) = match p.status {
            Status::Violated => ("Counterexample", "VIOLATED"),
            Status::Witnessed if witnesses => ("Witness", "WITNESSED"),
            _ => continue,
        };
        if let Some(cx) = &p.counterexample {
            path(&mut out, title, outcome, p, cx, full);
        }
    }
    let verdict = match r.verdict {
        Verdict::Pass => "PASS: exhaustive; every safety property holds and every applicable witness is reachable",
        Verdict::Violated => "VIOLATED: a safety property fails (counterexample above)",
        Verdict::Vacuous => "VACUOUS: nothing violated, but a witness was not reached or a mutation had no effect",
        Verdict::Incomplete => "INCOMPLETE: a limit cut the search; nothing violated in what it saw",
    };
    out.push_str(&format!("\n{verdict}\n"));
    out
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
