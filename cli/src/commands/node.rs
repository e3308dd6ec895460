//! `sa node --config FILE`: run one node (sa-node's runtime), printing one JSON event per line.

use std::path::PathBuf;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED};

/// Arguments of `sa node`.
#[derive(clap::Args)]
pub struct Args {
    /// The node's configuration file (TOML: secret_key, genesis, listen, peers, data_dir).
    #[arg(long)]
    config: PathBuf,
}

/// Runs the node; returns only on error.
pub fn run(args: Args) -> u8 {
    match sa_node::runtime::run_from_file(&args.config) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("sa node: {e}");
            if e.contains("network") {
                EXIT_FAILED
            } else {
                EXIT_BAD_INPUT
            }
        }
    }
}
