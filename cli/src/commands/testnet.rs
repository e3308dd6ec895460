//! `sa testnet`: N node processes on loopback with a generated genesis, per-round progress,
//! fault injection (absent nodes, kill -9 and restart, network delay) and safety monitoring
//! (no Final block reverted, Final blocks agree, no honest node equivocates). The driver and
//! its monitor are `sa_testkit::testnet`; this module parses flags and prints.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use sa_testkit::testnet::{parse_crash, parse_misbehave, Options, Summary};

use crate::running::{drive, node_command};

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Arguments of `sa testnet`.
#[derive(clap::Args, Clone)]
pub struct Args {
    /// Number of provisioners (one node process each).
    #[arg(long, default_value_t = 7)]
    pub nodes: u32,
    /// This many nodes (the highest-numbered) never start.
    #[arg(long, default_value_t = 0)]
    pub absent: u32,
    /// Kill -9 a node and restart it: NODE@SECONDS[+DOWN], e.g. `2@5+3` kills node 2 at 5 s and
    /// restarts it 3 s later (no `+DOWN`: it stays down). Repeatable.
    #[arg(long = "crash")]
    pub crash: Vec<String>,
    /// Make a node misbehave: NODE:invalid-candidates (proposes candidates whose state root
    /// re-execution does not reproduce) or NODE:double-vote (signs two different Validation votes). Repeatable.
    #[arg(long = "misbehave")]
    pub misbehave: Vec<String>,
    /// Delay added to every message, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay: u64,
    /// Multiplies every protocol duration (timeouts of 7–40 s, 10 s minimum block time).
    #[arg(long, default_value_t = 0.05)]
    pub time_scale: f64,
    /// Committee credits C.
    #[arg(long, default_value_t = 64)]
    pub committee: u32,
    /// Stop after this many blocks (height reached by the first node).
    #[arg(long, default_value_t = 20)]
    pub blocks: u64,
    /// Stop after this many seconds whatever happened.
    #[arg(long, default_value_t = 120)]
    pub duration: u64,
    /// Directory for the genesis, node files and logs (default: a new temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Soft faults a generator may commit before it is suspended (SLASH-2's WARNINGS; the
    /// spec's value is 1).
    #[arg(long, default_value_t = 1)]
    pub soft_slash_warnings: u8,
    /// Send a stream of hostile transactions (spec/execution.md): a client deploys the sample
    /// contracts (an infinite loop, unbounded memory growth, deep recursion, a huge allocation,
    /// a panic, a forged host call, an import of protocol state, an invalid module, and a
    /// benign one) and then calls each of them every 250 ms on every node. Each block's line
    /// shows its transactions and why the failed ones failed.
    #[arg(long)]
    pub hostile_load: bool,
    /// With the hostile load, send the audit's attacks on state every 250 ms (issue 29,
    /// spec/execution.md EXEC-TX-1, EXEC-POOL-1): a deploy naming node 0's account but signed
    /// by another key, a deploy from an empty account, a replay of the load's first deploy,
    /// and 100 calls from 100 empty accounts. Every node must refuse them all (`rejected`
    /// events) and keep equal state roots (`sa inspect --dir`).
    #[arg(long)]
    pub attack_load: bool,
    /// A network schedule: delays, holds and drops per message kind, pair of nodes, round,
    /// iteration and window, the same file for every node, its times scaled by --time-scale
    /// (docs/operators.md, "A network schedule"); a file, or a built-in name: async-final (the fork of Final blocks
    /// that asynchrony alone allows, on the async-final preset's stakes and seed). Its
    /// [network] table replaces --nodes and --committee.
    #[arg(long, value_name = "FILE|NAME")]
    pub schedule: Option<String>,
    /// The finality rule every node runs (dusk, sm-fail, closed: spec/variants.md).
    #[arg(long, default_value = "dusk", value_name = "VARIANT")]
    pub finality: String,
    /// Print only the summary.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

impl Args {
    /// The driver's options (Err: a flag that does not parse).
    pub fn options(&self) -> Result<Options, String> {
        let crashes = self
            .crash
            .iter()
            .map(|s| parse_crash(s, self.nodes))
            .collect::<Result<Vec<_>, _>>()?;
        let mut behaviours = BTreeMap::new();
        for m in &self.misbehave {
            parse_misbehave(m, self.nodes, &mut behaviours)?;
        }
        let schedule = self
            .schedule
            .as_deref()
            .map(sa_testkit::testnet::ScheduleSpec::load)
            .transpose()?;
        let finality = match self.finality.as_str() {
            "dusk" => sa_node::config::Finality::Dusk,
            "sm-fail" => sa_node::config::Finality::SmFail,
            "closed" => sa_node::config::Finality::Closed,
            other => {
                return Err(format!(
                    "--finality {other:?}: one of dusk, sm-fail, closed"
                ))
            }
        };
        Ok(Options {
            schedule,
            finality,
            nodes: self.nodes,
            absent: self.absent,
            crashes,
            behaviours,
            delay: self.delay,
            time_scale: self.time_scale,
            committee: self.committee,
            blocks: self.blocks,
            duration: Duration::from_secs(self.duration),
            dir: self.dir.clone(),
            soft_slash_warnings: self.soft_slash_warnings,
            hostile_load: self.hostile_load,
            attack_load: self.attack_load,
            node_command: node_command()?,
            interrupt: crate::ctrl_c_flag(),
        })
    }
}

/// `sa testnet`.
pub fn run(args: Args) -> u8 {
    let summary = match args
        .options()
        .and_then(|o| drive(&o, !args.quiet && !args.json, false))
    {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sa testnet: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.json {
        crate::provenance::print_json("sa-testnet/1", &summary, None);
    } else {
        print_summary(&summary);
    }
    if !summary.violations.is_empty() || !summary.unexpected_exits.is_empty() {
        EXIT_FAILED
    } else if summary.interrupted {
        crate::EXIT_INTERRUPTED
    } else {
        EXIT_OK
    }
}

fn print_summary(s: &Summary) {
    println!();
    println!(
        "summary: height {} reached, Final on every running node up to {}, {:.1} s",
        s.height, s.final_height, s.seconds
    );
    match (s.median_block_ms, s.mean_iterations) {
        (Some(b), Some(i)) => println!(
            "median block time {:.2} s, {:.2} iterations per block, {} failed iterations",
            b as f64 / 1000.0,
            i,
            s.failed_iterations
        ),
        _ if s.height > 0 => println!(
            "{} block(s) accepted: too few for a median block time",
            s.height
        ),
        _ if s.absent > s.absence_bound => println!(
            "no block accepted ({} absent of {}, absence bound {}): liveness lost, as the spec expects past the bound",
            s.absent, s.nodes, s.absence_bound
        ),
        _ => println!(
            "no block accepted although {} absent of {} is within the absence bound {}: liveness was expected and did not come",
            s.absent, s.nodes, s.absence_bound
        ),
    }
    for e in &s.unexpected_exits {
        println!("NODE EXIT {e}");
    }
    if s.interrupted {
        println!(
            "interrupted by Ctrl-C after {:.1} s: the figures above are up to then",
            s.seconds
        );
    }
    println!("rejected messages: {}", s.rejected);
    if s.transactions_sent > 0 || s.transactions_included > 0 {
        let failed: u64 = s.transactions_failed.values().sum();
        let list: Vec<String> = s
            .transactions_failed
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        println!(
            "transactions: {} sent to each node, {} in accepted blocks, {} failed and contained ({})",
            s.transactions_sent,
            s.transactions_included,
            failed,
            list.join(", ")
        );
    }
    if s.detected_faults > 0 {
        println!(
            "fault proofs against misbehaving nodes: {} (TALLY-3 / SLASH-4)",
            s.detected_faults
        );
    }
    if s.violations.is_empty() {
        println!("safety: no Final block reverted, Final blocks agree, no equivocation");
    } else {
        for v in &s.violations {
            println!("VIOLATION {v}");
        }
    }
}
