//! `sa compare`: protocol variants side by side (spec/variants.md): every property's verdict
//! per variant and preset, and the cost in finality at mainnet parameters.

use std::time::Duration;

use serde::Serialize;

use sa_checker::degrade::{finality_lag, DegradeParams, Distribution, LagRow};
use sa_checker::report::{Horizon, Status, Verdict};
use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::config::{Finality, Suspension};
use sa_model::Config;

use crate::config_args::load_config;
use crate::{EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK};

/// Arguments of `sa compare`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Compare protocol variants (spec/variants.md) over presets: every property's verdict, states, seconds, and finality lag at mainnet parameters",
    long_about = "Checks every named preset once per variant (the preset with \
                  `[protocol] finality` and `suspension` set to the variant's) exactly as \
                  `sa check` does: \
                  configurations whose asynchrony lasts until a PNI-1 block can be Final get \
                  the seeded simulation pass first (a violation it finds settles that \
                  property), then the exhaustive search, cut at --timeout. A verdict from a \
                  search that was cut is marked as such: `holds*` means not violated in what \
                  was searched, never that it holds. Then the cost a designer pays: for each \
                  absent stake share, chains of rounds sampled with the spec's sortition at \
                  mainnet parameters (the `sa degrade --sortition` sampling), labelled by the \
                  model's FIN-1..3 under each variant: blocks Attested, finality lag in \
                  heights, blocks never Final (the sampling has no suspension: a suspension \
                  variant costs what its finality rule costs there; its cost is in its \
                  verdicts, LIVE-SUSPEND).\n\n\
                  A preset may carry mutations: `byzantine+dusk-async-own-vote`.\n\n\
                  Exit status: 0 the table was produced (verdicts are its content, not \
                  failures); 2 bad input; 130 interrupted."
)]
pub struct Args {
    /// Variants to compare, comma-separated: dusk, sm-fail, closed (finality), lifted
    /// (suspension), or a finality and a suspension variant joined by `+` (sm-fail+lifted).
    #[arg(long, value_delimiter = ',', default_value = "dusk,sm-fail,closed")]
    variants: Vec<String>,
    /// Presets to check, comma-separated; `PRESET+MUTATION` adds a mutation.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "byzantine,byzantine+dusk-async-own-vote,byzantine-over,async-final,byzantine-async"
    )]
    presets: Vec<String>,
    /// Seconds each exhaustive search may take before it is cut (the simulation pass is not
    /// counted).
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    timeout: u64,
    /// Walks of the simulation pass, for configurations with asynchrony through finality.
    #[arg(long, value_name = "N", default_value_t = 1_000_000)]
    walks: u64,
    /// Worker threads per check (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Chains sampled per absent share for the finality cost (0: no cost table).
    #[arg(long, value_name = "N", default_value_t = 100)]
    chains: usize,
    /// Blocks judged per chain (each gets --window more blocks to become Final).
    #[arg(long, value_name = "N", default_value_t = 60)]
    chain: usize,
    /// Blocks appended after the judged ones.
    #[arg(long, value_name = "N", default_value_t = 60)]
    window: usize,
    /// Absent stake shares of the cost table, in percent.
    #[arg(long, value_delimiter = ',', default_value = "0,10,20,30,40")]
    absent: Vec<u32>,
    /// Seed of the cost sampling (the same seed gives the same table).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object (`sa-compare/1`) instead of the tables.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print one CSV table in long form (table, preset, variant, absent_percent, metric,
    /// value) instead of the tables.
    #[arg(long)]
    csv: bool,
}

/// One check of one preset under one variant.
#[derive(Debug, Serialize)]
struct Run {
    preset: String,
    variant: String,
    verdict: Verdict,
    exhaustive: bool,
    /// How the verdicts were reached: `exhaustive`, `search cut: REASON`, `simulation`.
    settled_by: String,
    unique_states: usize,
    seconds: f64,
    /// Property ID and status, in the report's order.
    properties: Vec<(String, Status)>,
}

/// Parses `PRESET[+MUTATION...]` into a configuration.
fn preset_config(spec: &str) -> Result<Config, String> {
    let mut parts = spec.split('+');
    let preset = parts.next().unwrap_or_default();
    let mutations: Vec<String> = parts.map(str::to_string).collect();
    load_config(preset, None, &mutations, false).map_err(|e| format!("`--presets {spec}`: {e}"))
}

/// Each `--presets` entry with its configuration.
type Presets = Vec<(String, Config)>;

/// A named protocol variant: a finality rule and a suspension rule (spec/variants.md).
#[derive(Clone, Debug, PartialEq, Eq)]
struct Variant {
    name: String,
    finality: Finality,
    suspension: Suspension,
}

impl Variant {
    /// `NAME[+NAME]`: each part a finality or a suspension variant (`dusk` changes nothing).
    fn parse(spec: &str) -> Result<Variant, String> {
        let mut v = Variant {
            name: spec.to_string(),
            finality: Finality::Dusk,
            suspension: Suspension::Dusk,
        };
        for part in spec.split('+') {
            if let Some(f) = Finality::from_name(part).filter(|f| !f.is_dusk()) {
                v.finality = f;
            } else if let Some(s) = Suspension::from_name(part) {
                v.suspension = s;
            } else {
                return Err(format!(
                    "`--variants`: `{part}` is not a variant; known: {} (finality), {} (suspension)",
                    Finality::ALL.map(Finality::name).join(", "),
                    Suspension::ALL[1..]
                        .iter()
                        .map(|s| s.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
        }
        Ok(v)
    }
}

/// The variants and the presets' configurations, or what is wrong with the arguments.
fn parse(args: &Args) -> Result<(Vec<Variant>, Presets), String> {
    let mut rules: Vec<Variant> = Vec::new();
    for spec in &args.variants {
        let v = Variant::parse(spec)?;
        if rules
            .iter()
            .any(|r| r.finality == v.finality && r.suspension == v.suspension)
        {
            return Err(format!("`--variants`: `{spec}` is named twice"));
        }
        rules.push(v);
    }
    let configs = args
        .presets
        .iter()
        .map(|spec| preset_config(spec).map(|c| (spec.clone(), c)))
        .collect::<Result<Vec<_>, _>>()?;
    if rules.is_empty() || configs.is_empty() || args.threads == Some(0) {
        return Err("at least one variant, one preset and one thread".into());
    }
    if let Some(&pct) = args.absent.iter().find(|&&p| p > 100) {
        return Err(format!("`--absent {pct}`: a share of the stake, 0 to 100"));
    }
    Ok((rules, configs))
}

/// Runs `sa compare`.
pub fn run(args: Args) -> u8 {
    let (rules, configs) = match parse(&args) {
        Ok(x) => x,
        Err(e) => {
            eprintln!("sa compare: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let interrupt = crate::ctrl_c_flag();
    // As `sa check` runs: the unbounded rounds too (LIVE-CONVERGENCE, LIVE-FINALITY,
    // LIVE-NO-STALL, LIVE-SUSPEND, LIVE-REJOIN), each search cut at --timeout.
    let mut opts = CheckOptions {
        timeout: Some(Duration::from_secs(args.timeout)),
        interrupt: Some(interrupt.clone()),
        unbounded: true,
        ..CheckOptions::default()
    };
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    let bar = crate::spinner();
    let mut runs = Vec::new();
    for (spec, base) in &configs {
        for rule in &rules {
            let mut config = base.clone();
            config.protocol.finality = rule.finality;
            config.protocol.suspension = rule.suspension;
            if let Some(bar) = &bar {
                bar.set_message(format!("{spec} under {}", rule.name));
                bar.tick();
            }
            let report = check_like_sa_check(&config, args.walks, &opts);
            if interrupt.load(std::sync::atomic::Ordering::SeqCst) {
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                eprintln!("sa compare: interrupted during {spec} under {}", rule.name);
                return EXIT_INTERRUPTED;
            }
            runs.push(run_of(spec, rule, &report));
        }
    }
    let cost = if args.chains > 0 {
        if let Some(bar) = &bar {
            bar.set_message("finality cost at mainnet parameters");
            bar.tick();
        }
        variant_costs(&cost_params(&args), &rules, args.chain, args.window)
    } else {
        Vec::new()
    };
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    if args.json {
        let v = serde_json::json!({
            "variants": rules.iter().map(|r| r.name.clone()).collect::<Vec<_>>(),
            "timeout_seconds": args.timeout,
            "walks": args.walks,
            "runs": runs,
            "cost": { "params": cost_params(&args), "chain": args.chain, "window": args.window, "rows": cost },
        });
        crate::provenance::print_json("sa-compare/1", &v, None);
    } else if args.csv {
        print_csv(&runs, &cost);
    } else {
        print_tables(&args, &rules, &runs, &cost);
    }
    EXIT_OK
}

/// The cost rows of each variant: its finality rule's (the sampling has no suspension),
/// named after the variant.
fn variant_costs(
    params: &DegradeParams,
    rules: &[Variant],
    chain: usize,
    window: usize,
) -> Vec<LagRow> {
    let mut finality: Vec<Finality> = rules.iter().map(|r| r.finality).collect();
    finality.sort();
    finality.dedup();
    let rows = finality_lag(params, &finality, chain, window);
    let mut out = Vec::new();
    for row in &rows {
        for r in rules.iter().filter(|r| r.finality.name() == row.variant) {
            out.push(LagRow {
                variant: r.name.clone(),
                ..row.clone()
            });
        }
    }
    out
}

fn cost_params(args: &Args) -> DegradeParams {
    DegradeParams {
        provisioners: 100,
        distribution: Distribution::Uniform,
        committee_credits: 64,
        max_iterations: 50,
        samples: args.chains,
        seed: args.seed,
        absent_percent: args.absent.clone(),
        threads: 1,
    }
}

/// `sa check`'s decision: the simulation pass first when asynchrony lasts through finality
/// (its violation settles the run), else (or when it finds nothing) the exhaustive search.
fn check_like_sa_check(config: &Config, walks: u64, opts: &CheckOptions) -> CheckReport {
    if walks > 0 && Horizon::of(config).through_finality {
        if let Some(report) = crate::checking::simulation_pass(config, walks, opts, false) {
            return report;
        }
    }
    check(config, opts, &mut |_| {})
}

fn run_of(spec: &str, rule: &Variant, r: &CheckReport) -> Run {
    let settled_by = if r.simulation.is_some() && r.unique_states == 0 {
        "simulation".to_string()
    } else if r.exhaustive {
        "exhaustive".to_string()
    } else {
        format!(
            "search cut: {}",
            r.cut_reason.clone().unwrap_or_else(|| "a limit".into())
        )
    };
    Run {
        preset: spec.to_string(),
        variant: rule.name.clone(),
        verdict: r.verdict,
        exhaustive: r.exhaustive,
        settled_by,
        unique_states: r.unique_states,
        seconds: r.seconds,
        properties: r
            .properties
            .iter()
            .map(|p| (p.id.clone(), p.status))
            .collect(),
    }
}

/// A verdict's name as `sa check --json` writes it (`NOT_CAUGHT`).
fn verdict_name(v: Verdict) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// A verdict as the table shows it: a result of a search that did not finish is marked.
fn cell(status: Status, exhaustive: bool) -> String {
    let name = match status {
        Status::Holds => "holds",
        Status::Violated => "VIOLATED",
        Status::Witnessed => "witnessed",
        Status::NotWitnessed => "not witnessed",
        Status::NotApplicable => "n/a",
        Status::Inconclusive => "inconclusive",
    };
    if !exhaustive && matches!(status, Status::Holds | Status::NotWitnessed) {
        format!("{name}*")
    } else {
        name.to_string()
    }
}

fn print_tables(args: &Args, rules: &[Variant], runs: &[Run], cost: &[LagRow]) {
    println!(
        "sa compare: {} variant(s) x {} preset(s); each check as `sa check` runs it (simulation pass of {} walks first when asynchrony lasts through finality), exhaustive search cut at {} s",
        rules.len(),
        args.presets.len(),
        args.walks,
        args.timeout
    );
    println!("`*`: not violated in what was searched (the search was cut): not a proof\n");
    for spec in &args.presets {
        let row: Vec<&Run> = rules
            .iter()
            .filter_map(|r| {
                runs.iter()
                    .find(|x| &x.preset == spec && x.variant == r.name)
            })
            .collect();
        print_preset(spec, &row);
        println!();
    }
    print_cost(args, cost);
}

/// One preset's block: a column per variant.
fn print_preset(spec: &str, row: &[&Run]) {
    let width = 16;
    println!("preset {spec}");
    let mut line = format!("  {:<30}", "");
    for r in row {
        line += &format!("{:>width$}", r.variant);
    }
    println!("{line}");
    let mut line = format!("  {:<30}", "verdict");
    for r in row {
        line += &format!("{:>width$}", verdict_name(r.verdict));
    }
    println!("{line}");
    let mut line = format!("  {:<30}", "states (settled by)");
    for r in row {
        let how = match r.settled_by.as_str() {
            "exhaustive" => "ex",
            "simulation" => "sim",
            _ => "cut",
        };
        line += &format!("{:>width$}", format!("{} {how}", r.unique_states));
    }
    println!("{line}");
    let mut line = format!("  {:<30}", "seconds");
    for r in row {
        line += &format!("{:>width$.1}", r.seconds);
    }
    println!("{line}");
    if let Some(first) = row.first() {
        for (k, (id, _)) in first.properties.iter().enumerate() {
            let mut line = format!("  {id:<30}");
            for r in row {
                let c = r
                    .properties
                    .get(k)
                    .map_or("-".to_string(), |(_, s)| cell(*s, r.exhaustive));
                line += &format!("{c:>width$}");
            }
            println!("{line}");
        }
    }
}

/// The cost table at mainnet parameters.
fn print_cost(args: &Args, cost: &[LagRow]) {
    if cost.is_empty() {
        return;
    }
    println!(
        "cost at mainnet parameters (100 provisioners of 1000 DUSK, C = 64, 50 iterations, RELAXED 8; {} chains of {} judged blocks + {} per absent share, seed {}; the spec's sortition, latency zero):",
        args.chains, args.chain, args.window, args.seed
    );
    println!(
        "{:>7} {:>10} {:>10} {:>10} {:>10} {:>9} {:>12}",
        "absent", "variant", "its/block", "attested", "lag mean", "lag p99", "never Final"
    );
    for r in cost {
        let or_dash =
            |x: Option<f64>, digits: usize| x.map_or("-".to_string(), |x| format!("{x:.digits$}"));
        println!(
            "{:>6}% {:>10} {:>10.2} {:>9.1}% {:>10} {:>9} {:>11.1}%",
            r.absent_percent,
            r.variant,
            r.mean_iterations,
            100.0 * r.attested_share,
            or_dash(r.mean_lag, 2),
            or_dash(r.p99_lag, 0),
            100.0 * r.never_final
        );
    }
    println!(
        "\nlag: blocks appended until a block is Final (1 = the next block), over the blocks that became Final; never Final: not Final {} blocks after the judged part",
        args.window
    );
}

fn print_csv(runs: &[Run], cost: &[LagRow]) {
    println!("table,preset,variant,absent_percent,metric,value");
    for r in runs {
        let base = format!("check,{},{},", r.preset, r.variant);
        println!("{base},verdict,{}", verdict_name(r.verdict));
        println!("{base},exhaustive,{}", r.exhaustive);
        println!("{base},unique_states,{}", r.unique_states);
        println!("{base},seconds,{:.3}", r.seconds);
        for (id, s) in &r.properties {
            println!("{base},{id},{}", cell(*s, r.exhaustive));
        }
    }
    for c in cost {
        let base = format!("cost,,{},{}", c.variant, c.absent_percent);
        println!("{base},blocks,{}", c.blocks);
        println!("{base},mean_iterations,{:.4}", c.mean_iterations);
        println!("{base},attested_share,{:.4}", c.attested_share);
        let or_empty = |x: Option<f64>| x.map_or(String::new(), |x| format!("{x:.4}"));
        println!("{base},mean_lag,{}", or_empty(c.mean_lag));
        println!("{base},p99_lag,{}", or_empty(c.p99_lag));
        println!("{base},never_final,{:.4}", c.never_final);
    }
}
