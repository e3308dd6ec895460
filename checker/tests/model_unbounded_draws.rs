//! The unbounded model's abstraction, held to its promise: a dropped height never changes the
//! draws of a round a node is in (spec/faults.md, "Unbounded rounds", abstractions 1 and 3).
//! Under the abstraction before 2026-12-07 (stake maturing inside the window, forgotten only at
//! a drop) `matured` reached a state where every node was stuck, on a path across such a drop
//! (spec/incidents.md, "Settled: LIVE-FINALITY on `matured`'s unbounded rounds"); the report
//! must call that path not proven, and the fixed abstraction must hold LIVE-FINALITY there.

mod common;

use common::{preset, unbounded_status};
use sa_checker::report::Status;
use sa_checker::unbounded::{check, check_model, Unbounded};
use sa_checker::CheckOptions;

/// `matured` without its absent provisioner (the stuck path needs none: it needs the invalid
/// candidate and the drop), so that the test command can afford it.
#[test]
fn a_path_across_a_drop_that_changes_a_round_s_draws_is_not_a_violation() {
    let mut config = preset("matured");
    config.faults.absent = 0;
    let opts = CheckOptions {
        threads: 2,
        stop_on: vec!["LIVE-FINALITY"],
        ..CheckOptions::default()
    };
    let old = check_model(
        Unbounded::with_maturing_in_window(&config),
        &config,
        &opts,
        &mut |_| {},
    );
    assert!(
        old.draws_changed > 0,
        "the old abstraction changes draws at drops"
    );
    let (s, note) = unbounded_status(&old, "LIVE-FINALITY");
    assert_eq!(s, Status::Inconclusive, "{note}");
    assert!(note.contains("changes the draws of a round"), "{note}");
    // The same configuration under the fixed abstraction: no drop changes a draw, and the
    // stuck state is gone.
    fixed_abstraction_holds(&config);
}

#[test]
#[ignore = "long check (about 2 min on 2 cores): scripts/long-checks.sh"]
fn the_fixed_abstraction_changes_no_draw_and_holds_live_finality_on_matured() {
    fixed_abstraction_holds(&preset("matured"));
}

/// The unbounded search of `config` is exhaustive, changes no draw at a drop, and holds
/// LIVE-CONVERGENCE and LIVE-FINALITY.
fn fixed_abstraction_holds(config: &sa_model::Config) {
    let opts = CheckOptions {
        threads: 2,
        ..CheckOptions::default()
    };
    let new = check(config, &opts, &mut |_| {});
    assert!(new.exhaustive);
    assert_eq!(new.draws_changed, 0);
    for id in ["LIVE-CONVERGENCE", "LIVE-FINALITY"] {
        let (s, note) = unbounded_status(&new, id);
        assert_eq!(s, Status::Holds, "{id}: {note}");
    }
}
