//! A search split into shards (`sa_checker::shard`, `sa check --shard I/N` then `--merge`)
//! gives, merged, the unsharded verdict of every property, on presets where both finish; a
//! merge with a shard missing is not exhaustive, and reports of different searches or the same
//! shard twice are refused.

mod common;

use common::{preset, statuses};
use sa_checker::shard::{merge, MergeError, Shard};
use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::Config;

/// Which reductions a search runs: (partial-order reduction, state merging).
type Reductions = (bool, bool);

fn run(config: &Config, shard: Option<Shard>, (reduce, merge_dead): Reductions) -> CheckReport {
    let opts = CheckOptions {
        threads: 2,
        shorten: false,
        reduce,
        merge_dead,
        shard,
        ..CheckOptions::default()
    };
    check(config, &opts, &mut |_| {})
}

/// The shards' reports, each through its JSON (as files between machines carry them).
fn shards(config: &Config, count: usize, depth: usize, reduce: Reductions) -> Vec<CheckReport> {
    (0..count)
        .map(|index| {
            let r = run(
                config,
                Some(Shard {
                    index,
                    count,
                    depth,
                }),
                reduce,
            );
            let json = serde_json::to_string(&r).expect("a report serializes");
            serde_json::from_str(&json).expect("and reads back")
        })
        .collect()
}

#[test]
fn merged_shards_give_the_unsharded_verdicts() {
    let mut async1 = preset("byzantine-async");
    async1.protocol.rounds = 1;
    let cases = [
        (preset("tiny"), 3, 6, (false, false)),
        (preset("tiny"), 4, 10, (true, false)),
        (preset("tiny"), 3, 10, (true, true)),
        (async1.clone(), 3, 8, (false, false)),
        (async1, 2, 8, (false, true)),
        (preset("byzantine"), 2, 12, (false, false)),
    ];
    for (config, count, depth, reduce) in cases {
        let name = format!("{} in {count} shards at depth {depth}", config.name);
        let whole = run(&config, None, reduce);
        let parts = shards(&config, count, depth, reduce);
        // Each shard alone explores less than the whole search.
        for p in &parts {
            assert!(p.unique_states < whole.unique_states, "{name}");
            assert!(p.exhaustive, "{name}");
        }
        let merged = merge(&parts).expect("shards of one search");
        assert_eq!(merged.merged_shards, Some(count));
        assert!(merged.exhaustive, "{name}");
        assert_eq!(statuses(&merged), statuses(&whole), "{name}");
        assert_eq!(merged.verdict, whole.verdict, "{name}");
        // Duplicates are allowed (the states above the frontier, once per shard), losses not.
        assert!(merged.unique_states >= whole.unique_states, "{name}");
    }
}

#[test]
fn a_merge_with_a_shard_missing_is_not_exhaustive_and_bad_sets_are_refused() {
    let config = preset("tiny");
    let parts = shards(&config, 3, 6, (false, false));
    let partial = merge(&parts[..2]).expect("two shards of three");
    assert!(!partial.exhaustive);
    assert_eq!(partial.cut_reason.as_deref(), Some("1 of 3 shards missing"));
    assert_ne!(partial.verdict, sa_checker::report::Verdict::Pass);

    let twice = [parts[0].clone(), parts[0].clone()];
    assert_eq!(merge(&twice).unwrap_err(), MergeError::Twice(0));
    let mut other = parts[1].clone();
    other.config.sortition.seed += 1;
    assert!(matches!(
        merge(&[parts[0].clone(), other]),
        Err(MergeError::Mismatch(1, _))
    ));
    // A shard searched with state merging and one without are not parts of one search.
    let mut merged_part = parts[1].clone();
    merged_part.merged_states = Some(0);
    assert_eq!(
        merge(&[parts[0].clone(), merged_part, parts[2].clone()]).unwrap_err(),
        MergeError::Mismatch(1, "state merging on in one, off in the other")
    );
    let whole = run(&config, None, (false, false));
    assert_eq!(merge(&[whole]).unwrap_err(), MergeError::NotAShard(0));
    assert_eq!(merge(&[]).unwrap_err(), MergeError::Empty);
}
