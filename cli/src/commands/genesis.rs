//! `sa genesis`: the files of a local network (a genesis and one node file per provisioner),
//! for running `sa node` by hand.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::{EXIT_BAD_INPUT, EXIT_OK};
use sa_testkit::testnet::{absence_bound, sharp_stake, write_network, Network};

/// Arguments of `sa genesis`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Write a genesis and one node file per provisioner (testnet keys, loopback ports) for `sa node --config`",
    long_about = "Writes DIR/genesis.toml (N provisioners with sa-node's testnet keys, each staking \
                  the stake that makes the absence bound sharp, genesis time now) and \
                  DIR/nodeI.toml for each (its secret key, listening address 127.0.0.1:PORT+I, \
                  every other node as a peer, its data directory DIR/nodeI). Start each with \
                  `sa node --config DIR/nodeI.toml`. The directory must be new or empty."
)]
pub struct Args {
    /// Provisioners.
    #[arg(long, default_value_t = 4)]
    nodes: u32,
    /// Directory to write (new or empty).
    #[arg(long)]
    out: PathBuf,
    /// Node i listens on 127.0.0.1:(base-port + i).
    #[arg(long, default_value_t = 7400)]
    base_port: u16,
    #[command(flatten)]
    net: crate::config_args::NetOptions,
}

/// Runs `sa genesis`.
pub fn run(args: Args) -> u8 {
    let bad = |m: String| {
        eprintln!("sa genesis: {m}");
        EXIT_BAD_INPUT
    };
    if !(1..=64).contains(&args.nodes) {
        return bad(format!("--nodes {}: must be 1..=64", args.nodes));
    }
    if !(1..=64).contains(&args.net.committee) {
        return bad(format!(
            "--committee {}: must be 1..=64",
            args.net.committee
        ));
    }
    if !(args.net.time_scale > 0.0 && args.net.time_scale <= 10.0) {
        return bad(format!(
            "--time-scale {}: must be in (0, 10]",
            args.net.time_scale
        ));
    }
    if u32::from(args.base_port) + args.nodes > 65_536 || args.base_port == 0 {
        return bad(format!(
            "--base-port {}: ports {}..{} do not exist",
            args.base_port,
            args.base_port,
            u32::from(args.base_port) + args.nodes
        ));
    }
    if std::fs::read_dir(&args.out).is_ok_and(|mut e| e.next().is_some()) {
        return bad(format!(
            "--out {}: exists and is not empty (nothing is overwritten; choose a new directory)",
            args.out.display()
        ));
    }
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        return bad(format!("--out {}: {e}", args.out.display()));
    }
    let net = Network {
        nodes: args.nodes,
        committee: args.net.committee,
        time_scale: args.net.time_scale,
        delay: args.net.delay,
        addrs: (0..args.nodes)
            .map(|i| SocketAddr::from(([127, 0, 0, 1], args.base_port + i as u16)))
            .collect(),
        behaviours: Default::default(),
        soft_slash_warnings: 1,
        schedule: Default::default(),
        stakes: None,
        seed: None,
        finality: Default::default(),
    };
    let files = match write_network(&args.out, &net) {
        Ok(f) => f,
        Err(e) => return bad(e),
    };
    let stake = sharp_stake(args.nodes, args.net.committee);
    println!(
        "sa genesis: {} provisioners of {stake} DUSK, C = {}, absence bound {}, time scale {}; wrote {} and:",
        args.nodes,
        args.net.committee,
        absence_bound(args.nodes, args.net.committee, stake),
        args.net.time_scale,
        args.out.join("genesis.toml").display()
    );
    for (i, f) in files.iter().enumerate() {
        println!("  {}  (listens on {})", f.display(), net.addrs[i]);
    }
    println!(
        "start each with: sa node --config {}",
        args.out.join("nodeI.toml").display()
    );
    EXIT_OK
}
