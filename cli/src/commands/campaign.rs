//! `sa campaign`: the fault campaign against sa-node's core (sa_testkit::campaign).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use sa_node::node::Reason;
use sa_testkit::campaign::{run as run_campaign, Fixture};

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Arguments of `sa campaign`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Fault campaign: millions of random, mutated and crafted messages through sa-node's core, counted per rejection reason",
    long_about = "Feeds random frames, mutated real messages and crafted messages (each well formed \
                  and correctly signed except for the one thing a check of spec/node.md looks \
                  at) to a node in the middle of a round, each to a fresh copy of it. Prints \
                  the count per rejection reason (REJ-* of spec/node.md), the messages taken, \
                  panics, and rejections that changed the node's state. Exit status 0 when \
                  every reachable reason was produced, no panic, no rejection changed the \
                  state and every crafted message was refused for its own reason; 1 otherwise; \
                  2 for bad arguments. The counts are a function of --messages and --seed only."
)]
pub struct Args {
    /// Messages to feed (the crafted sequences that fill buffers come on top).
    #[arg(long, default_value_t = 1_000_000)]
    messages: u64,
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Worker threads (default: the machine's cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// Runs `sa campaign`.
#[allow(
    clippy::too_many_lines,
    reason = "a subcommand: flags, run, table, exit code; issue 32 moves the harness into a library"
)]
pub fn run(args: Args) -> u8 {
    if args.messages == 0 || args.threads == Some(0) {
        eprintln!("sa campaign: --messages and --threads must be at least 1");
        return EXIT_BAD_INPUT;
    }
    let threads = args.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    let bar = std::io::stderr().is_terminal().then(|| {
        let bar = ProgressBar::new(args.messages);
        bar.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:40} {pos}/{len} messages ({per_sec}, eta {eta})",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar
    });
    let fixture = Fixture::new();
    let rep = run_campaign(&fixture, args.messages, args.seed, threads, &|done| {
        if let Some(b) = &bar {
            b.set_position(done.min(args.messages));
        }
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let verdict = if rep.clean() { "PASS" } else { "FAILED" };
    if args.json {
        let mut v = serde_json::to_value(&rep).unwrap_or_default();
        v["verdict"] = verdict.into();
        v["seed"] = args.seed.into();
        v["threads"] = threads.into();
        crate::provenance::print_json("sa-campaign/1", &v, None);
    } else {
        let (round, iteration) = fixture.node.position();
        println!(
            "sa campaign: {} messages (seed {}) to node 0 of 5 in round {round}, iteration {iteration} (tip {}, last Final {}): verdict {verdict}",
            rep.messages,
            args.seed,
            fixture.node.tip_height(),
            fixture.node.last_final()
        );
        println!(
            "  sources: {} random frames, {} mutated messages, {} crafted (buffer-filling sequences included)",
            rep.random, rep.mutated, rep.crafted
        );
        println!("\nreason                              rejected");
        for x in Reason::ALL {
            let id = x.id();
            match rep.rejected.get(&id) {
                Some(n) => println!("{id:<35} {n:>9}"),
                None => match Reason::DEFENSIVE.iter().find(|(d, _)| *d == x) {
                    Some((_, why)) => println!("{id:<35} {:>9}  defensive: {why}", 0),
                    None => println!("{id:<35} {:>9}  NEVER HIT (a gap)", 0),
                },
            }
        }
        println!(
            "\ntaken (accepted, buffered, late or duplicate, evidence recorded): {} ({} changed the node's state)",
            rep.taken, rep.taken_changed_state
        );
        println!("panics: {}", rep.panics);
        println!(
            "rejections that changed the node's state: {}",
            rep.rejected_but_changed
        );
        for (id, got) in &rep.crafted_misses {
            println!("crafted for {id}, but the core answered {got}");
        }
        println!(
            "{:.1} s on {threads} thread(s), {:.0} messages/s",
            rep.seconds,
            rep.messages as f64 / rep.seconds.max(1e-9)
        );
        println!("{verdict}");
    }
    if rep.clean() {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}
