//! Which sortition seeds of a preset make a property fail: one exhaustive check per seed.
//!
//! `cargo run --release -p sa-model --example seedscan -- PRESET GST_ROUND ROUNDS FIRST_SEED`
//! checks seeds FIRST_SEED..FIRST_SEED+120 (each cut at 30 s) and prints, per seed, the verdict,
//! the unique states and every violated or unwitnessed property. Used to choose the seeds of the
//! `byzantine` and `byzantine-over` presets (spec/faults.md).

use sa_model::report::Status;
use sa_model::{check, CheckOptions, Config};

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
    for seed in from..from + 120 {
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
            timeout: Some(std::time::Duration::from_secs(30)),
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
            "seed {seed:3} {:?} states={} {:?}",
            r.verdict, r.unique_states, v
        );
    }
}
