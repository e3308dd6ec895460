//! `sa-dusk profile`: prints the Dusk profile's table (model/data/dusk-profile.json).
//! `sa-dusk adapter`: serves the JSON-lines adapter protocol with dusk-consensus 1.7.0.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("profile") => {
            print!(
                "{}",
                sa_dusk::profile::table_json(sa_dusk::profile::GENESIS, sa_dusk::profile::DEPTH)
            );
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "usage: sa-dusk profile   (prints the Dusk profile's table for model/data/dusk-profile.json)"
            );
            ExitCode::from(2)
        }
    }
}
