//! `sa testnet` (not yet implemented).

/// Arguments of `sa testnet`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `sa testnet`; returns the process exit status.
pub fn run(_args: Args) -> u8 {
    eprintln!("sa testnet: not implemented yet");
    crate::EXIT_BAD_INPUT
}
