//! `sa check` (not yet implemented).

/// Arguments of `sa check`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `sa check`; returns the process exit status.
pub fn run(_args: Args) -> u8 {
    eprintln!("sa check: not implemented yet");
    crate::EXIT_BAD_INPUT
}
