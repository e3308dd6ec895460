//! Safety for every sortition draw of the first round, not just one seed: every class of
//! committee assignments SORT-3..5 allow (generators and credit vectors, up to relabelling
//! provisioners of equal weight) is checked exhaustively with the `small` preset's absence and
//! invalid candidate, timers on time (`early_timers = false`): with every early timer a class
//! takes ~3M states, 244 classes too long for CI (`sa check --preset small --all-draws` runs
//! that sweep by hand).

use sa_model::draws::{allowed_classes, canonical, profile_of};
use sa_model::report::Status;
use sa_model::{check_model, CheckOptions, Config, SaModel};

fn weights(config: &Config) -> Vec<u64> {
    let m = SaModel::new(config.clone());
    m.context(&[]).weights[..config.provisioners.len()].to_vec()
}

#[test]
fn the_seed_draw_is_one_of_the_allowed_classes() {
    for name in ["tiny", "small", "default"] {
        let c = Config::preset(name).unwrap();
        let w = weights(&c);
        let class = canonical(&profile_of(&SaModel::new(c.clone()).context(&[])), &w);
        assert!(allowed_classes(&c, &w).contains(&class), "{name}");
    }
}

#[test]
fn every_allowed_draw_class_of_round_one_is_safe() {
    let mut base = Config::preset("small").unwrap();
    base.faults.early_timers = false;
    let w = weights(&base);
    let classes = allowed_classes(&base, &w);
    assert_eq!(classes.len(), 244, "the number of allowed classes changed");
    let opts = CheckOptions {
        threads: 2,
        shorten: false,
        ..Default::default()
    };
    let mut states = 0;
    for profile in &classes {
        let r = check_model(
            SaModel::with_first_round(base.clone(), profile),
            &opts,
            &mut |_| {},
        );
        assert!(r.exhaustive);
        let violated: Vec<_> = r
            .properties
            .iter()
            .filter(|p| p.status == Status::Violated)
            .map(|p| p.id.clone())
            .collect();
        assert!(violated.is_empty(), "draw {profile:?}: {violated:?}");
        states += r.unique_states;
    }
    println!(
        "{} draw classes checked, {states} unique states in all",
        classes.len()
    );
}

#[test]
fn a_broken_draw_is_caught() {
    // The same sweep catches a draw that breaks role separation: gen(0) given Validation credits.
    let base = Config::preset("small").unwrap();
    let w = weights(&base);
    let mut profile = profile_of(&SaModel::new(base.clone()).context(&[]));
    let g = profile[0].0.unwrap();
    profile[0].1 .0[g] = 1;
    assert!(!allowed_classes(&base, &w).contains(&canonical(&profile, &w)));
    let opts = CheckOptions {
        threads: 2,
        shorten: false,
        ..Default::default()
    };
    let r = check_model(
        SaModel::with_first_round(base, &profile),
        &opts,
        &mut |_| {},
    );
    let p = r.property("SAFE-COMMITTEE-WELLFORMED").unwrap();
    assert_eq!(p.status, Status::Violated);
}
