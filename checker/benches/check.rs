//! Model-checking speed and memory: unique states per second (median of 3 exhaustive runs) and
//! peak resident memory per unique state of each preset, on 1 thread and on all cores.
//! `cargo bench -p sa-checker`. Figures are printed, never asserted.
//!
//! Memory is measured in a child process per (preset, threads) so that each peak is its own:
//! the child reads its peak resident set (VmHWM in /proc/self/status) after one search and
//! subtracts the peak before it.

use std::process::Command;
use std::time::Instant;

use sa_checker::{check, CheckOptions};
use sa_model::Config;

// The allocator `sa` uses (cli/src/main.rs), so the figures are those of `sa check`.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn child(name: &str, threads: usize) {
    let config = Config::preset(name).expect("preset");
    let before = peak_kib().unwrap_or(0);
    let opts = CheckOptions {
        threads,
        shorten: false,
        ..Default::default()
    };
    let start = Instant::now();
    let r = check(&config, &opts, &mut |_| {});
    let secs = start.elapsed().as_secs_f64();
    let after = peak_kib().unwrap_or(0);
    println!(
        "{} {} {} {secs} {}",
        r.unique_states,
        r.total_states,
        r.exhaustive,
        (after.saturating_sub(before)) * 1024
    );
}

fn main() {
    if let (Ok(name), Ok(t)) = (
        std::env::var("SA_BENCH_PRESET"),
        std::env::var("SA_BENCH_THREADS"),
    ) {
        child(&name, t.parse().unwrap_or(1));
        return;
    }
    let exe = std::env::current_exe().expect("own path");
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("preset          threads  unique_states  total_states  median_s  states_per_s  bytes_per_state");
    for name in ["tiny", "byzantine", "default"] {
        for t in [1, threads] {
            let mut runs = Vec::new();
            let mut last = String::new();
            for _ in 0..3 {
                let out = Command::new(&exe)
                    .env("SA_BENCH_PRESET", name)
                    .env("SA_BENCH_THREADS", t.to_string())
                    .output()
                    .expect("run child");
                last = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let f: Vec<&str> = last.split_whitespace().collect();
                runs.push(
                    f.get(3)
                        .and_then(|s| s.parse::<f64>().ok())
                        .unwrap_or(f64::NAN),
                );
            }
            runs.sort_by(f64::total_cmp);
            let f: Vec<&str> = last.split_whitespace().collect();
            let unique: f64 = f.first().and_then(|s| s.parse().ok()).unwrap_or(0.0);
            let bytes: f64 = f.get(4).and_then(|s| s.parse().ok()).unwrap_or(0.0);
            println!(
                "{name:<14}  {t:>7}  {:>13}  {:>12}  {:>8.2}  {:>12.0}  {:>15.1}",
                f.first().unwrap_or(&"?"),
                f.get(1).unwrap_or(&"?"),
                runs[1],
                unique / runs[1],
                bytes / unique.max(1.0)
            );
            if t == threads {
                break;
            }
        }
    }
}
