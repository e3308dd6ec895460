//! `sa export`: conformance traces from the model (sa_conformance::export).

use std::path::PathBuf;

use sa_conformance::export::{export_with, ExportError, Exported, Stage};
use sa_model::{Config, SaModel};

use crate::{EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `sa export`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Export conformance traces (ITF JSON) from the model: every transition class covered, plus seeded random walks",
    long_about = "Explores the preset's whole state space breadth-first and keeps, for every \
                  transition class (event kind x step x value or outcome at one node), a \
                  shortest run reaching it; adds --random seeded random walks; projects each \
                  run onto its node under test and writes one .itf.json per trace into --out \
                  (spec/conformance.md). Prints the coverage table: each class and how many \
                  traces hit it. Deterministic: the same command gives byte-identical files."
)]
pub struct Args {
    #[command(flatten)]
    what: crate::config_args::ConfigArgs,
    /// Directory to write (new or empty).
    #[arg(long)]
    out: PathBuf,
    /// Seeded random walks to add (each projected onto every honest node it touches).
    #[arg(long, default_value_t = 0)]
    random: usize,
    /// Seed of the random walks.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// The export with its progress on a spinner: states against the preset's pinned size while
/// the class search runs (an ETA for an unchanged preset), then traces written of how many.
/// Ctrl-C stops it.
fn export(config: &Config, args: &Args) -> Result<Exported, ExportError> {
    let model = SaModel::new(config.clone());
    let interrupt = crate::ctrl_c_flag();
    let pinned = sa_checker::sizes::pinned_states(config);
    let bar = crate::spinner();
    let started = std::time::Instant::now();
    let e = export_with(
        &model,
        &config.name,
        &args.out,
        args.random,
        args.seed,
        &mut |stage| {
            if let Some(bar) = &bar {
                bar.set_message(match stage {
                    Stage::Exploring { states } => format!(
                        "class search: {states} states; {}",
                        sa_checker::sizes::estimate(states as u64, started.elapsed(), pinned)
                    ),
                    Stage::Writing { done, total } => {
                        format!("writing traces: {done} of {total}")
                    }
                });
                bar.tick();
            }
            !interrupt.load(std::sync::atomic::Ordering::Relaxed)
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    e
}

/// Runs `sa export`.
pub fn run(args: Args) -> u8 {
    // The same configuration flags and default preset as `sa check`; a configuration beyond
    // what the model can enumerate (`mainnet`) is refused as `sa check` refuses it.
    let config = match args.what.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa export: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if !config.mutations.is_empty() {
        eprintln!(
            "sa export: --mutation: traces are runs of the reference protocol (a broken variant's \
             runs would be replayed as if the reference made them); export without it"
        );
        return EXIT_BAD_INPUT;
    }
    let name = config.name.clone();
    if std::fs::read_dir(&args.out).is_ok_and(|mut e| e.next().is_some()) {
        eprintln!(
            "sa export: --out {}: exists and is not empty (nothing is overwritten)",
            args.out.display()
        );
        return EXIT_BAD_INPUT;
    }
    let existed = args.out.exists();
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("sa export: --out {}: {e}", args.out.display());
        return EXIT_BAD_INPUT;
    }
    let e = match export(&config, &args) {
        Ok(e) => e,
        Err(err) => {
            // Nothing half-written stays: the directory goes back to how it was (new or empty).
            let _ = std::fs::remove_dir_all(&args.out);
            if existed {
                let _ = std::fs::create_dir_all(&args.out);
            }
            if err == ExportError::Interrupted {
                eprintln!(
                    "sa export: interrupted (Ctrl-C); nothing written to {}",
                    args.out.display()
                );
                return crate::EXIT_INTERRUPTED;
            }
            eprintln!("sa export: {err}");
            return crate::EXIT_FAILED;
        }
    };
    let steps: usize = e.traces.iter().map(|t| t.states.len() - 1).sum();
    if args.json {
        let v = serde_json::json!({
            "preset": name,
            "out": args.out,
            "traces": e.traces.len(),
            "steps": steps,
            "states_visited": e.states_visited,
            "classes": e.coverage,
            "uncovered": e.coverage.iter().filter(|(_, n)| **n == 0).map(|(c, _)| c).collect::<Vec<_>>(),
            "witnesses": e.witnesses,
        });
        crate::provenance::print_json("sa-export/1", &v, Some(&config));
        return EXIT_OK;
    }
    print_table(&e, &name, &args.out, steps);
    EXIT_OK
}

/// The coverage table of an export.
fn print_table(e: &Exported, name: &str, out: &std::path::Path, steps: usize) {
    println!(
        "sa export: preset `{}`: {} traces ({} steps) in {}; {} reachable transition classes (from {} states)",
        name,
        e.traces.len(),
        steps,
        out.display(),
        e.coverage.len(),
        e.states_visited
    );
    println!(
        "\n{:<60} traces",
        "class (event @ step of the node under test)"
    );
    for (c, n) in &e.coverage {
        println!("{c:<60} {n:>6}");
    }
    println!(
        "\n{:<60} traces",
        "witness (its shortest run, at each node it moves)"
    );
    for (w, n) in &e.witnesses {
        println!("{w:<60} {n:>6}");
    }
    let uncovered = e.coverage.values().filter(|n| **n == 0).count();
    println!(
        "\ncoverage: {} of {} reachable classes; {} witnesses reached",
        e.coverage.len() - uncovered,
        e.coverage.len(),
        e.witnesses.len()
    );
}
