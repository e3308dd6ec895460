//! `sa inspect DIR`: what a node (or every node of a testnet directory) holds on disk, read
//! without changing anything: its log checked (a torn tail or corruption is reported, never
//! repaired here), its chain rebuilt from the log with labels, its ledger at every height (a
//! digest per height, so ledgers of several nodes compare at a glance) and its votes cast.

use std::path::PathBuf;

use sa_testkit::inspect::{inspect, Report};

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Arguments of `sa inspect`.
#[derive(clap::Args)]
pub struct Args {
    /// A node file (`nodeI.toml`) or a directory of them (`sa testnet --dir DIR`).
    path: PathBuf,
    /// Print one JSON object instead of the text report.
    #[arg(long)]
    json: bool,
}

/// Runs `sa inspect`; returns the exit status (1 if nodes on one block disagree on a ledger).
pub fn run(args: Args) -> u8 {
    let report = match inspect(&args.path) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("sa inspect: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.json {
        crate::provenance::print_json("sa-inspect/1", &report, None);
    } else {
        print_text(&report);
    }
    if report.ledger_disagreements.is_empty() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

fn print_text(r: &Report) {
    for n in &r.nodes {
        println!(
            "{} (key {}): log {} — {} records, {}; tip {}, Final up to {}, {} votes cast; state root {}",
            n.config,
            n.key,
            n.log,
            n.records,
            n.log_state,
            n.tip,
            n.last_final,
            n.votes_cast,
            n.state_root
        );
    }
    println!();
    print!("{:>6}", "height");
    for (i, _) in r.nodes.iter().enumerate() {
        print!("  {:<36}", format!("node {i}: block / label / ledger"));
    }
    println!();
    let top = r.nodes.iter().map(|n| n.tip).max().unwrap_or(0);
    for h in 1..=top {
        print!("{h:>6}");
        for n in &r.nodes {
            match n.chain.get(h as usize - 1) {
                Some(e) => print!(
                    "  {:<36}",
                    format!(
                        "{} it{} {:<8} {}",
                        &e.hash[..8],
                        e.iteration,
                        e.label,
                        &e.ledger_digest[..8]
                    )
                ),
                None => print!("  {:<36}", "-"),
            }
        }
        println!();
    }
    if r.ledger_disagreements.is_empty() {
        println!("\nledgers: every node holding a block holds the same ledger after it");
    } else {
        println!(
            "\nLEDGERS DISAGREE at heights {:?} (nodes on the same block, different ledgers)",
            r.ledger_disagreements
        );
    }
}
