//! Model-checking speed: unique states per second and wall time of an exhaustive check of each
//! preset, median of 3 runs. `cargo bench -p sa-model`. Figures are printed, never asserted.

use std::time::Instant;

use sa_model::{check, CheckOptions, Config};

fn main() {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("preset        threads  unique_states  total_states  median_s  states_per_s");
    for name in ["tiny", "small", "default"] {
        let config = Config::preset(name).expect("preset");
        for t in [1, threads] {
            let opts = CheckOptions {
                threads: t,
                shorten: false,
                ..Default::default()
            };
            let mut runs = Vec::new();
            let mut last = None;
            for _ in 0..3 {
                let start = Instant::now();
                let r = check(&config, &opts, &mut |_| {});
                runs.push(start.elapsed().as_secs_f64());
                last = Some(r);
            }
            runs.sort_by(f64::total_cmp);
            let r = last.expect("three runs");
            let median = runs[1];
            println!(
                "{name:<12}  {t:>7}  {:>13}  {:>12}  {median:>8.2}  {:>12.0}",
                r.unique_states,
                r.total_states,
                r.unique_states as f64 / median
            );
            if t == threads {
                break;
            }
        }
    }
}
