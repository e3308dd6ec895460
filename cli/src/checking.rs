//! A check as `sa check` runs it, shared by the commands that check configurations
//! (`sa check`, `sa compare`): the seeded simulation pass that comes first when asynchrony
//! lasts through finality.

use sa_checker::report::Verdict;
use sa_checker::{CheckOptions, CheckReport};
use sa_model::Config;

/// The simulation pass of `sa check`: `walks` seeded walks (seed 0). Returns its report when it
/// violated a property and the exhaustive search is not asked for; None otherwise (the
/// exhaustive search then runs).
pub fn simulation_pass(
    config: &Config,
    walks: u64,
    opts: &CheckOptions,
    exhaustive: bool,
) -> Option<CheckReport> {
    use sa_checker::simulate::{simulate, SimOptions};
    let sim = SimOptions {
        walks,
        threads: opts.threads,
        interrupt: opts.interrupt.clone(),
        ..SimOptions::default()
    };
    let bar = crate::spinner();
    let report = simulate(
        sa_model::SaModel::new(config.clone()),
        &sim,
        &mut |p: &sa_checker::simulate::SimProgress| {
            if let Some(bar) = &bar {
                bar.set_message(format!(
                    "simulation pass: {} of {walks} walks, {} states",
                    p.walks, p.states
                ));
                bar.tick();
            }
        },
    );
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let violated = report.verdict == Verdict::Violated;
    eprintln!(
        "sa check: simulation pass ({walks} seeded walks, seed 0): {}",
        if !violated {
            "nothing violated; the exhaustive search follows".to_string()
        } else if exhaustive {
            "a violation; the exhaustive search follows (--exhaustive)".to_string()
        } else {
            "a violation, reported below; the exhaustive search was not run (--exhaustive runs \
             it; it does not finish on 2 cores for this configuration)"
                .to_string()
        }
    );
    (violated && !exhaustive).then_some(report)
}
