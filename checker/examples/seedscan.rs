//! Which sortition seeds of a preset make a property fail: one exhaustive check per seed.
//!
//! `cargo run --release -p sa-checker --example seedscan -- PRESET GST_ROUND ROUNDS FIRST_SEED
//! [COUNT [TIMEOUT_S [--mutations]]]` checks seeds FIRST_SEED..FIRST_SEED+COUNT (default 120,
//! each cut at TIMEOUT_S, default 30 s) and prints, per seed, the verdict, the unique states and
//! every violated or unwitnessed property. With `--mutations` it then runs every mutation of
//! `mutations::INTENDED` (stopping at its intended property) on the seeds whose reference check
//! passes, and lists the mutations that miss. Used to choose the seeds of the presets
//! (spec/faults.md).

use sa_checker::report::Status;
use sa_checker::{check, CheckOptions};
use sa_model::mutations::INTENDED;
use sa_model::Config;

fn arg<T: std::str::FromStr>(k: usize, default: T) -> T {
    std::env::args()
        .nth(k)
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let preset: String = arg(1, "byzantine".to_string());
    let gst: u8 = arg(2, 2);
    let rounds: u8 = arg(3, 2);
    let from: u64 = arg(4, 0);
    let count: u64 = arg(5, 120);
    let timeout = std::time::Duration::from_secs(arg(6, 30));
    let mutations = std::env::args().any(|a| a == "--mutations");
    for seed in from..from + count {
        let Some(mut c) = Config::preset(&preset) else {
            eprintln!("unknown preset {preset}");
            return;
        };
        c.faults.gst_round = gst;
        c.protocol.rounds = rounds;
        c.sortition.seed = seed;
        let opts = CheckOptions {
            threads: 2,
            shorten: false,
            timeout: Some(timeout),
            ..Default::default()
        };
        let r = check(&c, &opts, &mut |_| {});
        let v: Vec<_> = r
            .properties
            .iter()
            .filter(|p| matches!(p.status, Status::Violated | Status::NotWitnessed))
            .map(|p| format!("{}:{:?}", p.id, p.status))
            .collect();
        println!(
            "seed {seed:3} {:?} states={} {:.1}s {:?}",
            r.verdict, r.unique_states, r.search_seconds, v
        );
        if !mutations || !v.is_empty() || !r.exhaustive {
            continue;
        }
        let mut missed = Vec::new();
        for &(m, id, depth_first) in INTENDED {
            let mut mc = c.clone();
            mc.mutations = vec![m];
            let o = CheckOptions {
                stop_on: vec![id],
                depth_first,
                ..opts.clone()
            };
            let r = check(&mc, &o, &mut |_| {});
            if r.property(id).map(|p| p.status) != Some(Status::Violated) {
                missed.push(format!("{}→{id}", m.name()));
            }
        }
        println!("seed {seed:3} mutations missed: {missed:?}");
    }
}
