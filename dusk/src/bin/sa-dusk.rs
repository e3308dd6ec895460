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
        Some("adapter") => {
            let stdin = std::io::stdin();
            match sa_dusk::serve::serve(stdin.lock(), std::io::stdout().lock()) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("sa-dusk adapter: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!(
                "usage: sa-dusk profile   prints the Dusk profile's table (model/data/dusk-profile.json)\n       \
                 sa-dusk adapter   dusk-consensus 1.7.0 behind the JSON-lines adapter protocol \
                 (sa conform DIR --adapter \"dusk/target/release/sa-dusk adapter\")"
            );
            ExitCode::from(2)
        }
    }
}
