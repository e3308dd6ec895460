//! `sa node` (not yet implemented).

/// Arguments of `sa node`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs `sa node`; returns the process exit status.
pub fn run(_args: Args) -> u8 {
    eprintln!("sa node: not implemented yet");
    crate::EXIT_BAD_INPUT
}
