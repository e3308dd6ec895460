//! `sa sweep`: checks a grid of configurations (provisioners, committee size, absent,
//! Byzantine) and prints one row per configuration: safety, liveness (every round entered
//! after GST ends), worst iterations per round, states, seconds; at the bottom where liveness
//! stopped holding. `--shard I/N` runs one slice, `--merge` combines slices.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use sa_checker::report::{Status, Verdict};
use sa_checker::CheckOptions;
use sa_model::properties::Kind;
use sa_model::{Config, SaModel};

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Arguments of `sa sweep`.
#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    base: crate::config_args::ConfigArgs,
    /// Absent honest provisioners to try: a range `0..=3` or a list `0,1,3`.
    #[arg(long, default_value = "0..=2", value_parser = parse_list)]
    absent: List,
    /// Byzantine provisioners to try (the last k in key order): a range or a list.
    #[arg(long, default_value = "0", value_parser = parse_list)]
    byzantine: List,
    /// Provisioner counts to try (each of stake --stake; default: the base's provisioners).
    #[arg(long, value_parser = parse_list)]
    provisioners: Option<List>,
    /// Stake (units) of each provisioner when --provisioners is given.
    #[arg(long, default_value_t = 2)]
    stake: u32,
    /// Committee credits C to try (SM and M from the spec's formulas; default: the base's).
    #[arg(long, value_parser = parse_list)]
    committee: Option<List>,
    /// Run only slice I of N (1-based: rows k with k mod N = I - 1), for a job array.
    #[arg(long, value_name = "I/N", value_parser = crate::config_args::parse_shard)]
    shard: Option<(usize, usize)>,
    /// Combine the JSON outputs of shards (`sa sweep --shard I/N --json > part-I.json`) into
    /// one table; no configuration is checked.
    #[arg(long, value_name = "FILES", num_args = 1..)]
    merge: Vec<PathBuf>,
    /// Stop each row's search after this many seconds (the row is then incomplete).
    #[arg(long)]
    timeout: Option<u64>,
    /// Worker threads per search (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print one JSON object instead of the table.
    #[arg(long, conflicts_with = "csv")]
    json: bool,
    /// Print the rows as CSV instead of the table.
    #[arg(long)]
    csv: bool,
}

/// One configuration of the grid and what its check found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Row {
    /// Position in the whole grid (shards keep it).
    pub index: usize,
    /// Configuration name.
    pub name: String,
    /// Provisioners.
    pub provisioners: usize,
    /// Stakes in units, key order.
    pub stakes: Vec<u32>,
    /// C.
    pub committee: u32,
    /// Absent honest provisioners allowed.
    pub absent: u32,
    /// Byzantine provisioners.
    pub byzantine: u32,
    /// Most credits the Byzantine provisioners hold together in one committee of round 1.
    pub byzantine_credits: u32,
    /// `holds`, `violated` or `incomplete`.
    pub safety: String,
    /// Safety properties violated.
    pub violated: Vec<String>,
    /// Every round entered after GST ends on every path: `holds`, `violated`,
    /// `not applicable` (no GST) or `incomplete`.
    pub liveness: String,
    /// LIVE-GOOD-ITERATION and LIVE-ROUND-ENDS as the check reports them.
    pub live_properties: Vec<(String, String)>,
    /// Most iterations a round entered after GST took to end.
    pub worst_iterations: u32,
    /// Stuck states in rounds with no good iteration.
    pub stuck_past_bound: u64,
    /// Unique states.
    pub states: usize,
    /// Seconds of the check.
    pub seconds: f64,
    /// The check's verdict.
    pub verdict: String,
    /// Where liveness fails: a shortest path to a stuck state, one step a line, then why.
    pub deadlock: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct Output {
    format: String,
    base: String,
    grid: usize,
    shard: Option<(usize, usize)>,
    rows: Vec<Row>,
}

/// A list of values given as `0..=3` or `0,1,3`.
#[derive(Clone, Debug)]
pub struct List(Vec<u32>);

fn parse_list(s: &str) -> Result<List, String> {
    parse_values(s).map(List)
}

fn parse_values(s: &str) -> Result<Vec<u32>, String> {
    if let Some((a, b)) = s.split_once("..=") {
        let a: u32 = a
            .trim()
            .parse()
            .map_err(|_| format!("`{a}` is not a number"))?;
        let b: u32 = b
            .trim()
            .parse()
            .map_err(|_| format!("`{b}` is not a number"))?;
        if a > b {
            return Err(format!("empty range {a}..={b}"));
        }
        return Ok((a..=b).collect());
    }
    s.split(',')
        .map(|x| {
            x.trim()
                .parse()
                .map_err(|_| format!("`{x}` is not a number (a list `0,1,2` or a range `0..=3`)"))
        })
        .collect()
}

/// The grid's configurations, validated, in order.
fn grid(args: &Args, base: &Config) -> Result<Vec<Config>, String> {
    let sizes = args
        .provisioners
        .clone()
        .map_or_else(|| vec![base.provisioners.len() as u32], |l| l.0);
    let committees = args
        .committee
        .clone()
        .map_or_else(|| vec![base.protocol.committee_credits], |l| l.0);
    let mut out = Vec::new();
    for &n in &sizes {
        for &c in &committees {
            for &b in &args.byzantine.0 {
                for &a in &args.absent.0 {
                    let mut cfg = base.clone();
                    if args.provisioners.is_some() {
                        cfg.provisioners = (0..n)
                            .map(|_| sa_model::config::ProvisionerParams {
                                stake: args.stake,
                                eligible_from: 1,
                            })
                            .collect();
                    }
                    if args.committee.is_some() {
                        cfg.protocol.committee_credits = c;
                        cfg.protocol.supermajority = None;
                        cfg.protocol.majority = None;
                    }
                    if b >= n {
                        return Err(format!(
                            "--byzantine {b}: only {n} provisioners (at least one must be honest)"
                        ));
                    }
                    cfg.faults.absent = u8::try_from(a).map_err(|_| format!("--absent {a}"))?;
                    cfg.faults.byzantine = ((n - b)..n).map(|p| p as u8).collect();
                    cfg.name = format!("{} n={n} C={c} absent={a} byzantine={b}", base.name);
                    cfg.validate()
                        .and_then(|()| cfg.check_model_limits())
                        .map_err(|e| format!("{}: {e}", cfg.name))?;
                    out.push(cfg);
                }
            }
        }
    }
    Ok(out)
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Holds => "holds",
        Status::Violated => "violated",
        Status::NotApplicable => "not applicable",
        Status::Inconclusive => "not proven",
        Status::Witnessed => "witnessed",
        Status::NotWitnessed => "not witnessed",
    }
}

/// The check of one row, its progress on a spinner.
fn check_on_spinner(model: &SaModel, opts: &CheckOptions, label: &str) -> sa_checker::CheckReport {
    let bar = crate::spinner();
    let pinned = sa_checker::sizes::pinned_states(&model.config);
    let r = sa_checker::check_model(model.clone(), opts, &mut |p| {
        if let Some(bar) = &bar {
            bar.set_message(format!(
                "{label}: {}",
                crate::output::progress_message(p, pinned)
            ));
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    r
}

/// Checks one configuration of the grid.
fn check_row(index: usize, config: &Config, opts: &CheckOptions, label: &str) -> Row {
    let model = SaModel::new(config.clone());
    let mask = config.byzantine_mask();
    let byzantine_credits = model
        .context(&[])
        .iterations
        .iter()
        .map(|d| {
            d.validation
                .credits_of(mask)
                .max(d.ratification.credits_of(mask))
        })
        .max()
        .unwrap_or(0);
    let r = check_on_spinner(&model, opts, label);
    let violated: Vec<String> = r
        .properties
        .iter()
        .filter(|p| p.kind == Kind::Safety && p.status == Status::Violated)
        .map(|p| p.id.clone())
        .collect();
    let safety = if !violated.is_empty() {
        "violated"
    } else if r.exhaustive {
        "holds"
    } else {
        "incomplete"
    };
    let live_properties: Vec<(String, String)> = r
        .properties
        .iter()
        .filter(|p| p.kind == Kind::Liveness)
        .map(|p| (p.id.clone(), status_name(p.status).to_string()))
        .collect();
    let liveness = if config.faults.gst_round == 0 {
        "not applicable"
    } else if !r.liveness.every_round_ends(&r)
        || r.properties
            .iter()
            .any(|p| p.kind == Kind::Liveness && p.status == Status::Violated)
    {
        "violated"
    } else if r.verdict == Verdict::Incomplete {
        "incomplete"
    } else {
        "holds"
    };
    let deadlock = if liveness == "violated" {
        deadlock_path(config, &r)
    } else {
        Vec::new()
    };
    Row {
        index,
        name: config.name.clone(),
        provisioners: config.provisioners.len(),
        stakes: config.provisioners.iter().map(|p| p.stake).collect(),
        committee: config.protocol.committee_credits,
        absent: u32::from(config.faults.absent),
        byzantine: config.faults.byzantine.len() as u32,
        byzantine_credits,
        safety: safety.into(),
        violated,
        liveness: liveness.into(),
        live_properties,
        worst_iterations: r.liveness.worst_iterations,
        stuck_past_bound: r.liveness.stuck_past_bound,
        states: r.unique_states,
        seconds: r.seconds,
        verdict: r.verdict.name().into(),
        deadlock,
    }
}

/// A shortest path to a state where a node is stuck in a round entered after GST: the
/// LIVE-ROUND-ENDS counterexample if there is one, else a breadth-first search of its own.
fn deadlock_path(config: &Config, r: &sa_checker::CheckReport) -> Vec<String> {
    let model = SaModel::new(config.clone());
    let (steps, last) = match r
        .property("LIVE-ROUND-ENDS")
        .and_then(|p| p.counterexample.as_ref().map(|c| (c, p.note.clone())))
    {
        Some((cx, note)) => (cx.steps.clone(), note.unwrap_or_default()),
        None => {
            let pred: sa_checker::check::StatePredicate<'_> =
                Box::new(sa_model::live::stuck_after_gst);
            let Some(Some(path)) = sa_checker::check::shortest_to(
                &sa_checker::Checked::new(model.clone()),
                &[pred],
                None,
            )
            .pop() else {
                return vec!["(no stuck state found again)".into()];
            };
            let why = path
                .last()
                .map(|(s, _)| sa_model::live::explain(&model, s, "LIVE-ROUND-ENDS"))
                .unwrap_or_default();
            (
                sa_checker::render::render_steps(&model, path, true).steps,
                why,
            )
        }
    };
    let mut out: Vec<String> = steps
        .iter()
        .map(|s| format!("{}. {}", s.index, s.description))
        .collect();
    out.push(last);
    out
}

/// Entry point.
pub fn run(args: Args) -> u8 {
    if !args.merge.is_empty() {
        return merge(&args);
    }
    let base = match args.base.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa sweep: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let configs = match grid(&args, &base) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa sweep: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let opts = CheckOptions {
        threads: args.threads.unwrap_or(CheckOptions::default().threads),
        timeout: args.timeout.map(std::time::Duration::from_secs),
        interrupt: Some(crate::ctrl_c_flag()),
        unbounded: true,
        ..CheckOptions::default()
    };
    let total = configs.len();
    let started = std::time::Instant::now();
    let mine = (0..total)
        .filter(|k| args.shard.is_none_or(|(i, n)| k % n == i - 1))
        .count();
    let mut rows = Vec::new();
    for (k, c) in configs.iter().enumerate() {
        if let Some((i, n)) = args.shard {
            if k % n != i - 1 {
                continue;
            }
        }
        let name = format!("row {}/{total} ({})", k + 1, c.name);
        let label = format!(
            "{name}{}",
            crate::output::eta(started.elapsed(), rows.len(), mine)
        );
        let row = check_row(k, c, &opts, &label);
        if !args.json && !args.csv {
            eprintln!(
                "{name}: safety {}, liveness {}, {} states, {:.1} s",
                row.safety, row.liveness, row.states, row.seconds
            );
        }
        rows.push(row);
        if opts
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed))
        {
            eprintln!("sa sweep: interrupted; the rows so far follow");
            break;
        }
    }
    let out = Output {
        format: "sa-sweep/1".into(),
        base: base.name.clone(),
        grid: total,
        shard: args.shard,
        rows,
    };
    print(&args, &out)
}

fn merge(args: &Args) -> u8 {
    let mut merged: Option<Output> = None;
    for f in &args.merge {
        let text = match std::fs::read_to_string(f) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("sa sweep --merge: {}: cannot read: {e}", f.display());
                return EXIT_BAD_INPUT;
            }
        };
        let part: Output = match serde_json::from_str(&text) {
            Ok(p) => p,
            Err(e) => {
                eprintln!(
                    "sa sweep --merge: {}: not the JSON of `sa sweep --json`: {e}",
                    f.display()
                );
                return EXIT_BAD_INPUT;
            }
        };
        if part.format != "sa-sweep/1" {
            eprintln!(
                "sa sweep --merge: {}: format `{}`, expected sa-sweep/1",
                f.display(),
                part.format
            );
            return EXIT_BAD_INPUT;
        }
        merged = Some(match merged {
            None => part,
            Some(mut m) => {
                if m.base != part.base || m.grid != part.grid {
                    eprintln!(
                        "sa sweep --merge: {}: another sweep ({} rows of `{}`, not {} of `{}`)",
                        f.display(),
                        part.grid,
                        part.base,
                        m.grid,
                        m.base
                    );
                    return EXIT_BAD_INPUT;
                }
                m.rows.extend(part.rows);
                m
            }
        });
    }
    let Some(mut out) = merged else {
        return EXIT_BAD_INPUT;
    };
    out.rows.sort_by_key(|r| r.index);
    out.rows.dedup_by_key(|r| r.index);
    out.shard = None;
    print(args, &out)
}

/// Where liveness stopped holding along one axis: (largest value with every row holding,
/// smallest value with a row failing).
fn bound(rows: &[&Row], value: fn(&Row) -> u32) -> (Option<u32>, Option<u32>) {
    let failed = rows
        .iter()
        .filter(|r| r.liveness == "violated")
        .map(|r| value(r))
        .min();
    let held = rows
        .iter()
        .filter(|r| r.liveness == "holds" && failed.is_none_or(|f| value(r) < f))
        .map(|r| value(r))
        .max();
    (held, failed)
}

fn summary(out: &Output) -> Vec<String> {
    let mut lines = Vec::new();
    let unsafe_rows = out.rows.iter().filter(|r| r.safety == "violated").count();
    lines.push(if unsafe_rows == 0 {
        format!("safety: holds on every row ({} rows)", out.rows.len())
    } else {
        format!(
            "safety: VIOLATED on {unsafe_rows} of {} rows",
            out.rows.len()
        )
    });
    let no_byz: Vec<&Row> = out.rows.iter().filter(|r| r.byzantine == 0).collect();
    let (held, failed) = bound(&no_byz, |r| r.absent);
    lines.push(format!(
        "absence (no Byzantine): liveness held up to absent = {}, failed from absent = {}",
        held.map_or("-".into(), |v| v.to_string()),
        failed.map_or("- (never)".into(), |v| v.to_string())
    ));
    let no_absent: Vec<&Row> = out.rows.iter().filter(|r| r.absent == 0).collect();
    let (held, failed) = bound(&no_absent, |r| r.byzantine_credits);
    lines.push(format!(
        "Byzantine (no absence): liveness held up to {} Byzantine credits, failed from {}",
        held.map_or("-".into(), |v| v.to_string()),
        failed.map_or("- (never)".into(), |v| v.to_string())
    ));
    if out.rows.len() < out.grid {
        lines.push(format!(
            "INCOMPLETE: {} of the grid's {} rows (a shard, or rows missing from the merge)",
            out.rows.len(),
            out.grid
        ));
    }
    lines
}

#[allow(
    clippy::too_many_lines,
    reason = "the sweep's table and its notes, printed in order"
)]
fn print(args: &Args, out: &Output) -> u8 {
    if args.json {
        let mut v = serde_json::to_value(out).unwrap_or_default();
        v["summary"] = serde_json::json!(summary(out));
        v["provenance"] = serde_json::to_value(crate::provenance::of_run(None)).unwrap_or_default();
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else if args.csv {
        println!("index,provisioners,stakes,committee,absent,byzantine,byzantine_credits,safety,liveness,worst_iterations,stuck_past_bound,states,seconds");
        for r in &out.rows {
            println!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{:.2}",
                r.index,
                r.provisioners,
                r.stakes
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(" "),
                r.committee,
                r.absent,
                r.byzantine,
                r.byzantine_credits,
                r.safety,
                r.liveness,
                r.worst_iterations,
                r.stuck_past_bound,
                r.states,
                r.seconds
            );
        }
    } else {
        println!(
            "sa sweep: `{}`, {} of {} configurations",
            out.base,
            out.rows.len(),
            out.grid
        );
        println!(
            "{:>3} {:>3} {:>4} {:>6} {:>10} {:<11} {:<15} {:>9} {:>11} {:>8}",
            "#",
            "n",
            "C",
            "absent",
            "byz(cred)",
            "safety",
            "liveness",
            "worst it.",
            "states",
            "seconds"
        );
        for r in &out.rows {
            println!(
                "{:>3} {:>3} {:>4} {:>6} {:>10} {:<11} {:<15} {:>9} {:>11} {:>8.1}",
                r.index + 1,
                r.provisioners,
                r.committee,
                r.absent,
                format!("{} ({})", r.byzantine, r.byzantine_credits),
                r.safety,
                r.liveness,
                r.worst_iterations,
                r.states,
                r.seconds
            );
        }
        for line in summary(out) {
            println!("{line}");
        }
        if let Some(r) = out.rows.iter().find(|r| r.liveness == "violated") {
            println!(
                "first liveness failure (row {}, {}), shortest path to a stuck state:",
                r.index + 1,
                r.name
            );
            for l in &r.deadlock {
                println!("  {l}");
            }
        }
    }
    if out.rows.iter().any(|r| r.safety == "violated") {
        EXIT_FAILED
    } else if out.rows.len() < out.grid || out.rows.iter().any(|r| r.verdict == "INCOMPLETE") {
        4
    } else {
        EXIT_OK
    }
}
