//! `sa conform DIR`: replays exported traces against sa-node (sa_conformance::replay).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sa_conformance::replay::{replay_with, Adapter, Replayed, SaNode};
use sa_conformance::trace::read;
use sa_model::Config;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Arguments of `sa conform`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Replay conformance traces (from `sa export`) against sa-node and compare every step",
    long_about = "Replays every .itf.json trace in DIR against sa-node in process: each event is \
                  turned into real signed messages or timers, and what the node sends and shows \
                  (round, iteration, chain with labels, Final height) is compared with the \
                  trace. A mismatch stops that trace and is printed with the file, the state, \
                  the event, the field, expected and actual, and the command that replays just \
                  that trace. Exit status 0 when every trace passes; 1 when the implementation \
                  does not conform to one (a mismatch, or the adapter failed); 2 for bad \
                  input: no trace in DIR, a file that cannot be read or is not a trace, \
                  a trace whose #meta is wrong, or bad arguments."
)]
pub struct Args {
    /// Directory of traces (`sa export --out DIR`), or one trace file.
    path: PathBuf,
    /// Replay through an adapter process speaking the JSON-lines protocol of
    /// spec/conformance.md instead of sa-node in process, e.g. `--adapter "sa adapter"`
    /// (the command and its arguments, split at spaces).
    #[arg(long)]
    adapter: Option<String>,
    /// Replay threads (default: the machine's cores; one adapter each).
    #[arg(long)]
    threads: Option<usize>,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    json: bool,
    /// Print every trace's outcome (PASS, DIVERGED at a state and field, PARTIAL where the
    /// adapter cannot represent an event), not only the divergences.
    #[arg(long)]
    list: bool,
}

/// One trace's outcome: passed (steps), partial (steps compared, the state and reason), or a
/// failure (its JSON).
enum TraceOutcome {
    Passed(usize),
    Partial(serde_json::Value),
}

/// Arguments of `sa adapter`.
#[derive(clap::Args, Debug)]
#[command(
    about = "sa-node as a conformance adapter: the JSON-lines protocol of spec/conformance.md on stdin/stdout",
    long_about = "Reads one request per line on stdin (init, deliver, observe) and answers one                   line on stdout, driving sa-node in process. `sa conform DIR --adapter \"sa \
                  adapter\"` runs the suite through it, as an implementation in another \
                  language would be run."
)]
pub struct AdapterArgs {}

/// Runs `sa adapter`.
pub fn adapter(_: AdapterArgs) -> u8 {
    let stdin = std::io::stdin();
    let stdout = std::io::stdout();
    match sa_conformance::jsonl::serve(&mut SaNode::default(), stdin.lock(), stdout.lock()) {
        Ok(()) => EXIT_OK,
        Err(e) => {
            eprintln!("sa adapter: {e}");
            EXIT_FAILED
        }
    }
}

fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut v: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".itf.json"))
        .collect();
    v.sort();
    Ok(v)
}

/// Replays one trace file: its steps, or the failure (file, state, field, ...).
fn run_one(adapter: &mut dyn Adapter, f: &Path) -> Result<TraceOutcome, serde_json::Value> {
    let name = f.display().to_string();
    // What is wrong with the file itself (unreadable, not a trace, its metadata): bad input,
    // not a finding about the implementation.
    let fail = |e: String| serde_json::json!({"file": name, "error": e, "bad_input": true});
    let text = std::fs::read_to_string(f).map_err(|e| fail(e.to_string()))?;
    let trace = read(&text).map_err(fail)?;
    let config: Config = trace
        .meta
        .other
        .get("config")
        .ok_or_else(|| "#meta.config is missing".to_string())
        .and_then(|c| serde_json::from_str(c).map_err(|e| format!("#meta.config: {e}")))
        .map_err(fail)?;
    let node: usize = trace
        .meta
        .other
        .get("node")
        .ok_or_else(|| "#meta.node is missing".to_string())
        .and_then(|n| {
            n.parse()
                .map_err(|_| format!("#meta.node {n:?} is not a number"))
        })
        .map_err(fail)?;
    if node >= config.provisioners.len() {
        return Err(fail(format!("#meta.node {node} is not a provisioner")));
    }
    let states: Vec<_> = trace.states.into_iter().map(|s| s.value).collect();
    match replay_with(adapter, &config, node, &states) {
        Ok(Replayed::Passed(n)) => Ok(TraceOutcome::Passed(n)),
        Ok(Replayed::Partial { state, reason }) => Ok(TraceOutcome::Partial(serde_json::json!({
            "file": name, "state": state, "of": states.len() - 1, "reason": reason,
        }))),
        Ok(Replayed::Diverged(m)) => Err(serde_json::json!({
            "file": name, "state": m.state, "event": m.event, "field": m.field,
            "expected": m.expected, "actual": m.actual,
            "replay": format!("sa conform {name}"),
        })),
        Err(e) => Err(serde_json::json!({"file": name, "error": e})),
    }
}

/// Runs `sa conform`.
#[allow(
    clippy::too_many_lines,
    reason = "a subcommand: flags, trace loading, replay, coverage gate, exit code"
)]
pub fn run(args: Args) -> u8 {
    let files = match files(&args.path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("sa conform: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let start = Instant::now();
    let bar = (!args.json && std::io::stderr().is_terminal()).then(|| {
        let b = ProgressBar::new(files.len() as u64);
        b.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:40} {pos}/{len} traces ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b
    });
    if args.threads == Some(0) {
        eprintln!("sa conform: --threads must be at least 1");
        return EXIT_BAD_INPUT;
    }
    let threads = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .clamp(1, files.len().max(1));
    let cache = SaNode::default();
    let make = || -> Result<Box<dyn Adapter>, String> {
        match &args.adapter {
            None => Ok(Box::new(cache.sharing_signatures())),
            Some(cmd) => {
                let mut parts = cmd.split_whitespace().map(str::to_owned);
                let program = parts.next().ok_or("--adapter is empty")?;
                let rest: Vec<String> = parts.collect();
                Ok(Box::new(sa_conformance::jsonl::Remote::spawn(
                    &program, &rest,
                )?))
            }
        }
    };
    // One adapter per thread, each trace on a fresh node; results in file order.
    let mut results: Vec<(usize, Result<TraceOutcome, serde_json::Value>)> = vec![];
    let mut setup_error = None;
    // What the adapter does not observe is not compared: said in every report.
    let mut not_observed: Vec<&str> = vec![];
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (files, bar, make) = (&files, &bar, &make);
                scope.spawn(move || -> Result<(Vec<_>, Vec<&str>), String> {
                    let mut adapter = make()?;
                    let mut out = vec![];
                    for (k, f) in files.iter().enumerate().skip(t).step_by(threads) {
                        out.push((k, run_one(adapter.as_mut(), f)));
                        if let Some(b) = bar {
                            b.inc(1);
                        }
                    }
                    Ok((out, adapter.observes().missing()))
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(Ok((v, missing))) => {
                    results.extend(v);
                    not_observed = missing;
                }
                Ok(Err(e)) => setup_error = Some(e),
                Err(_) => setup_error = Some("a replay thread panicked".into()),
            }
        }
    });
    if let Some(e) = setup_error {
        eprintln!("sa conform: {e}");
        return EXIT_BAD_INPUT;
    }
    results.sort_by_key(|(k, _)| *k);
    let (mut passed, mut steps) = (0usize, 0usize);
    let mut failures: Vec<serde_json::Value> = vec![];
    let mut partials: Vec<serde_json::Value> = vec![];
    let mut listing: Vec<String> = vec![];
    for (k, r) in results {
        let file = files[k].display().to_string();
        match r {
            Ok(TraceOutcome::Passed(n)) => {
                passed += 1;
                steps += n;
                listing.push(format!("PASS      {file} ({n} steps)"));
            }
            Ok(TraceOutcome::Partial(p)) => {
                steps += p["state"].as_u64().unwrap_or(0) as usize;
                listing.push(format!(
                    "PARTIAL   {file}: states 0..{} equal; state {} not representable: {}",
                    p["state"],
                    p["state"],
                    p["reason"].as_str().unwrap_or("?")
                ));
                partials.push(p);
            }
            Err(f) => {
                listing.push(match f.get("field") {
                    Some(field) => format!(
                        "DIVERGED  {file}: state {}: {}",
                        f["state"],
                        field.as_str().unwrap_or("?")
                    ),
                    None => format!("ERROR     {file}: {}", f["error"].as_str().unwrap_or("?")),
                });
                failures.push(f);
            }
        }
    }

    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let secs = start.elapsed().as_secs_f64();
    let ok = !files.is_empty() && failures.is_empty();
    // No trace, or a file that is not one: bad input (exit 2), whatever else was replayed.
    let bad_input = files.is_empty() || failures.iter().any(|f| f["bad_input"] == true);
    let verdict = if bad_input {
        "BAD INPUT"
    } else if ok {
        "PASS"
    } else {
        "FAILED"
    };
    if args.json {
        let v = serde_json::json!({
            "traces": files.len(), "passed": passed, "failed": failures.len(),
            "partial": partials.len(), "partials": partials, "not_observed": not_observed,
            "steps": steps,
            "seconds": secs, "traces_per_second": files.len() as f64 / secs.max(1e-9),
            "failures": failures, "verdict": verdict,
        });
        crate::provenance::print_json("sa-conform/1", &v, None);
    } else {
        if args.list {
            for l in &listing {
                println!("{l}");
            }
        }
        for f in &failures {
            match f.get("error") {
                Some(e) => println!(
                    "{}: {}",
                    f["file"].as_str().unwrap_or("?"),
                    e.as_str().unwrap_or("?")
                ),
                None => println!(
                    "{}: state {}: after {}\n  {}: expected {}\n  {}  actual   {}\n  replay: {}",
                    f["file"].as_str().unwrap_or("?"),
                    f["state"],
                    f["event"].as_str().unwrap_or("?"),
                    f["field"].as_str().unwrap_or("?"),
                    f["expected"].as_str().unwrap_or("?"),
                    " ".repeat(f["field"].as_str().unwrap_or("?").len()),
                    f["actual"].as_str().unwrap_or("?"),
                    f["replay"].as_str().unwrap_or("?"),
                ),
            }
        }
        if files.is_empty() {
            println!(
                "sa conform: no .itf.json trace in {} (nothing was checked)",
                args.path.display()
            );
        }
        println!(
            "sa conform: {} traces, {passed} passed, {} failed, {} partial; {steps} steps replayed in {secs:.1} s ({:.0} traces/s)",
            files.len(),
            failures.len(),
            partials.len(),
            files.len() as f64 / secs.max(1e-9)
        );
        if !not_observed.is_empty() {
            println!(
                "not compared (the adapter does not observe them): {}",
                not_observed.join(", ")
            );
        }
        if !partials.is_empty() {
            println!(
                "partial: {} traces compared up to an event the adapter cannot represent (--list names each)",
                partials.len()
            );
        }
        println!("{verdict}");
    }
    if bad_input {
        EXIT_BAD_INPUT
    } else if ok {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
