//! `sa explore`: the state space in a browser (Stateright's Explorer), in the spec's words.

use std::net::{SocketAddr, TcpListener};

use sa_checker::explore::Explore;
use sa_model::SaModel;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED};

/// Arguments of `sa explore`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Walk the model's state space in a browser (Stateright's Explorer)",
    long_about = "Serves Stateright's Explorer for one configuration: start from the initial \
                  state, pick any enabled step, see every node's belief and the messages sent \
                  in the spec's words, the path walked as a message sequence chart, and each \
                  property of spec/properties.md as the explorer's checker finds it. Runs \
                  until interrupted (Ctrl-C)."
)]
pub struct Args {
    #[command(flatten)]
    what: crate::config_args::ConfigArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:3000")]
    listen: SocketAddr,
    /// Worker threads of the explorer's checker.
    #[arg(long, default_value_t = 1)]
    threads: usize,
}

/// Runs `sa explore` (returns only on an error).
pub fn run(args: Args) -> u8 {
    let config = match args.what.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa explore: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.threads == 0 {
        eprintln!("sa explore: `--threads` must be at least 1");
        return EXIT_BAD_INPUT;
    }
    // Stateright's server panics on a bind error: try the address first, for a clear message.
    if let Err(e) = TcpListener::bind(args.listen) {
        eprintln!("sa explore: cannot listen on {}: {e}", args.listen);
        return EXIT_BAD_INPUT;
    }
    let name = config.name.clone();
    let model = Explore::new(SaModel::new(config));
    eprintln!(
        "sa explore: configuration `{name}`: Explorer at http://{}/ (Ctrl-C to stop)",
        args.listen
    );
    model.serve(args.threads, args.listen);
    EXIT_FAILED
}
