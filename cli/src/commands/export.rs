//! `sa export`: conformance traces from the model (sa_conformance::export).

use std::path::PathBuf;

use sa_model::SaModel;

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
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        eprintln!("sa export: --out {}: {e}", args.out.display());
        return EXIT_BAD_INPUT;
    }
    let model = SaModel::new(config.clone());
    let e = match sa_conformance::export::export(&model, &name, &args.out, args.random, args.seed) {
        Ok(e) => e,
        Err(err) => {
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
    println!(
        "sa export: preset `{}`: {} traces ({} steps) in {}; {} reachable transition classes (from {} states)",
        name,
        e.traces.len(),
        steps,
        args.out.display(),
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
    EXIT_OK
}
