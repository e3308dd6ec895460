//! `sa`: the command-line front end of sa-reference.
//!
//! Argument parsing, progress display and output formatting only: protocol
//! logic lives in `sa-model` (checking) and `sa-node` (running nodes).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod checking;
mod commands;
mod config_args;
mod output;
mod provenance;
mod running;

use commands::{
    campaign, check, compare, conform, degrade, explore, export, genesis, inspect, node, odds,
    report, simulate, soak, sweep, testnet,
};

/// Exit status when every checked property holds / the command succeeded.
pub const EXIT_OK: u8 = 0;
/// Exit status when a property is violated or a witness is missing.
pub const EXIT_FAILED: u8 = 1;
/// Exit status for bad input (configuration, arguments, files).
pub const EXIT_BAD_INPUT: u8 = 2;
/// Exit status of a run stopped by Ctrl-C before a result (128 + SIGINT, the shell's
/// convention).
pub const EXIT_INTERRUPTED: u8 = 130;

/// `sa --version`: the crate version, the commit it was built from (`+` when the tree had
/// uncommitted changes) and that commit's date (cli/build.rs; `unknown` outside a git checkout).
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("SA_COMMIT"),
    ", ",
    env!("SA_COMMIT_DATE"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "sa",
    version = VERSION,
    about = "Succinct Attestation reference: exhaustive model checking of the protocol in spec/, and a real node and testnet"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Model-check a preset or configuration exhaustively against spec/properties.md.
    Check(check::Args),
    /// Compare protocol variants over presets: every property's verdict, states, seconds, and
    /// finality lag at mainnet parameters.
    Compare(compare::Args),
    /// Seeded random walks through the model (a swarm of depth-first runs), every safety
    /// property checked at every step: for configurations too large to check exhaustively.
    Simulate(simulate::Args),
    /// Walk the model's state space in a browser (Stateright's Explorer), in the spec's words.
    Explore(explore::Args),
    /// Write a static HTML report for auditors: bounds, properties, charts, broken variants.
    Report(report::Args),
    /// Check a grid of configurations (absent, Byzantine, provisioners, C): safety and
    /// liveness per row, and where liveness stops holding.
    Sweep(sweep::Args),
    /// Export conformance traces (ITF JSON) from the model, covering every transition class.
    Export(export::Args),
    /// Replay conformance traces against sa-node and compare every step.
    Conform(conform::Args),
    /// sa-node as a conformance adapter (JSON lines on stdin/stdout).
    Adapter(conform::AdapterArgs),
    /// Print a shell completion script for `sa` (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Write a genesis and node files for running `sa node` by hand.
    Genesis(genesis::Args),
    /// Run one sa-node process (JSON events on stdout, one per line).
    Node(node::Args),
    /// Start N node processes on loopback with fault injection and safety monitoring.
    Testnet(testnet::Args),
    /// Probability that sortition gives the Byzantine stake the credits of the Success+Fail fork.
    Odds(odds::Args),
    /// What a node (or every node of a testnet directory) holds on disk: log state, chain with
    /// labels, ledger digest per height, votes cast. Reads only.
    Inspect(inspect::Args),
    /// Fault campaign: random, mutated and crafted messages through sa-node's core, counted per
    /// rejection reason.
    Campaign(campaign::Args),
    /// Seeded kill -9 of testnet nodes at random instants; durability and safety checks.
    Soak(soak::Args),
    /// Graceful-degradation benchmark: the testnet with 0, 1, 2, ... absent nodes; table and PNG.
    Degrade(degrade::Args),
}

/// Checks before any work that `file` can be written: its directory exists and it is not a
/// directory itself.
pub fn writable(file: &std::path::Path) -> Result<(), String> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    if !dir.is_dir() {
        return Err(format!("the directory {} does not exist", dir.display()));
    }
    if file.is_dir() {
        return Err(format!("{} is a directory", file.display()));
    }
    Ok(())
}

/// A spinner with the elapsed time, on a terminal only (None when stderr is not one).
pub fn spinner() -> Option<indicatif::ProgressBar> {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal().then(|| {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar
    })
}

/// A flag set when the process receives Ctrl-C (SIGINT), watched by a thread of its own.
pub fn ctrl_c_flag() -> std::sync::Arc<std::sync::atomic::AtomicBool> {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    let flag = Arc::new(AtomicBool::new(false));
    let set = Arc::clone(&flag);
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        if let Ok(rt) = rt {
            if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
                set.store(true, Ordering::SeqCst);
            }
        }
    });
    flag
}

/// Exit status when the reader of stdout went away (`sa check --json | head`): 128 + SIGPIPE,
/// what a Unix tool killed by SIGPIPE reports; nothing is printed.
pub const EXIT_BROKEN_PIPE: u8 = 141;

/// `println!` panics when stdout is a closed pipe; Rust ignores SIGPIPE, so that panic is how a
/// closed pipe shows. This hook turns exactly that panic into a quiet exit (141) and leaves
/// every other panic to the default hook.
fn quiet_on_broken_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let msg = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        if msg.contains("failed printing to stdout") && msg.contains("Broken pipe") {
            std::process::exit(i32::from(EXIT_BROKEN_PIPE));
        }
        default(info);
    }));
}

/// Arguments of `sa completions`.
#[derive(clap::Args)]
#[command(
    long_about = "Prints a completion script for SHELL on stdout, generated from sa's own flags. \
                  bash: `sa completions bash > ~/.local/share/bash-completion/completions/sa`; \
                  zsh: into a directory of $fpath as `_sa`; fish: \
                  `~/.config/fish/completions/sa.fish`."
)]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// The exit statuses, one meaning each for every subcommand (README, docs/cli.md; every
/// `--help` ends with this table).
pub const EXIT_TABLE: &str = "Exit status (every sa command):
  0    success: PASS, the run did what was asked
  1    a finding: a property VIOLATED, a trace that does not conform, a safety violation seen
  2    bad input: arguments, configuration, trace or directory refused, nothing done with it
  3    VACUOUS (a witness not reached, a mutation without effect) or NOT CAUGHT (a mutation
       changed decisions and nothing was violated)
  4    INCOMPLETE: a limit or Ctrl-C cut a search; what it saw is reported
  130  interrupted by Ctrl-C before a result, nothing half-written (report, export, testnet,
       soak, degrade); commands with nothing to save (explore, node, conform, odds, campaign)
       end on the signal itself, which a shell reports as 130
  141  stdout closed by its reader (e.g. `| head`); nothing more is printed";

/// The command line parsed, every subcommand's help ending with [`EXIT_TABLE`].
fn parse() -> Cli {
    use clap::{CommandFactory, FromArgMatches};
    let cmd = Cli::command()
        .after_long_help(EXIT_TABLE)
        .mut_subcommands(|c| c.after_long_help(EXIT_TABLE));
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
}

fn main() -> ExitCode {
    quiet_on_broken_pipe();
    let cli = parse();
    let code = match cli.command {
        Command::Check(args) => check::run(args),
        Command::Sweep(args) => sweep::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Node(args) => node::run(args),
        Command::Genesis(args) => genesis::run(args),
        Command::Export(args) => export::run(args),
        Command::Explore(args) => explore::run(args),
        Command::Report(args) => report::run(args),
        Command::Conform(args) => conform::run(args),
        Command::Adapter(args) => conform::adapter(args),
        Command::Completions(args) => {
            use clap::CommandFactory;
            let mut cmd = Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "sa", &mut std::io::stdout());
            EXIT_OK
        }
        Command::Testnet(args) => testnet::run(args),
        Command::Degrade(args) => degrade::run(args),
        Command::Odds(args) => odds::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Inspect(args) => inspect::run(args),
        Command::Campaign(args) => campaign::run(args),
        Command::Soak(args) => soak::run(args),
    };
    ExitCode::from(code)
}
