//! Which seeds of a preset reach LIVE-SUSPEND's situation (an absent generator's slot costs an
//! iteration in a round that ends after GST): the unbounded search only, one per seed.
//!
//! `cargo run --release -p sa-checker --example suspendscan -- PRESET FIRST_SEED [COUNT
//! [MUTATION]]` prints, per seed, the unbounded states and every LIVE line with its note.
//! Used to choose the seed of the `suspend` preset (spec/faults.md).

use sa_checker::CheckOptions;
use sa_model::Config;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let preset = args.get(1).cloned().unwrap_or_else(|| "default".into());
    let from: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0);
    let count: u64 = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(10);
    let mutation = args.get(4).cloned();
    for seed in from..from + count {
        let Some(mut c) = Config::preset(&preset) else {
            eprintln!("unknown preset {preset}");
            return;
        };
        c.sortition.seed = seed;
        if let Some(cc) = args.get(8).and_then(|r| r.parse().ok()) {
            c.protocol.committee_credits = cc;
        }
        if let Some(k) = args.get(7).and_then(|r| r.parse().ok()) {
            c.sortition.seed_classes = k;
        }
        if let Some(r) = args.get(6).and_then(|r| r.parse().ok()) {
            c.protocol.rounds = r;
        }
        if let Some(stakes) = args.get(5) {
            for (p, st) in stakes.split(',').enumerate() {
                if let (Some(prov), Ok(st)) = (c.provisioners.get_mut(p), st.parse()) {
                    prov.stake = st;
                }
            }
        }
        if let Some(m) = mutation.as_ref().filter(|m| *m != "-") {
            match serde_json::from_value(serde_json::Value::String(m.clone())) {
                Ok(m) => c.mutations = vec![m],
                Err(e) => {
                    eprintln!("unknown mutation {m}: {e}");
                    return;
                }
            }
        }
        let opts = CheckOptions {
            threads: 2,
            ..CheckOptions::default()
        };
        let r = sa_checker::unbounded::check(&c, &opts, &mut |_| {});
        println!(
            "seed {seed}: {} states, {:.0} s, rank violations {}, drops that changed a draw {}",
            r.unique_states, r.seconds, r.rank_violations, r.draws_changed
        );
        for p in &r.properties {
            println!(
                "  {} {:?} {}",
                p.id,
                p.status,
                p.note.as_deref().unwrap_or("")
            );
        }
    }
}
