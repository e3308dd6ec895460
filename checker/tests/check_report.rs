//! The report: JSON shape, honest exhaustiveness, counterexample text.

use sa_checker::report::Status;
use sa_checker::{check, CheckOptions};
use sa_model::{Config, Mutation};

#[test]
fn json_has_the_documented_shape() {
    let c = Config::preset("tiny").unwrap();
    let r = check(
        &c,
        &CheckOptions {
            threads: 1,
            ..Default::default()
        },
        &mut |_| {},
    );
    let v = serde_json::to_value(&r).unwrap();
    for key in [
        "rank_violations",
        "stuck_past_bound",
        "worst_iterations",
        "unbounded_states",
    ] {
        assert!(v["liveness"].get(key).is_some(), "missing liveness.{key}");
    }
    for key in [
        "config",
        "verdict",
        "bounds",
        "mutations_without_effect",
        "exhaustive",
        "unique_states",
        "total_states",
        "max_depth",
        "seconds",
        "properties",
        "liveness",
        "peak_memory_bytes",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let props = v["properties"].as_array().unwrap();
    assert_eq!(props.len(), sa_model::properties::SPECS.len());
    for p in props {
        let status = p["status"].as_str().unwrap();
        assert!([
            "holds",
            "violated",
            "witnessed",
            "not_witnessed",
            "not_applicable",
            "inconclusive"
        ]
        .contains(&status));
        assert!(p["kind"] == "safety" || p["kind"] == "witness" || p["kind"] == "liveness");
        assert!(p.get("counterexample").is_some());
    }
}

#[test]
fn a_cut_search_is_not_called_exhaustive() {
    let c = Config::preset("default").unwrap();
    let opts = CheckOptions {
        threads: 2,
        max_states: Some(2_000),
        shorten: false,
        ..Default::default()
    };
    let r = check(&c, &opts, &mut |_| {});
    assert!(!r.exhaustive);
    assert!(r.cut_reason.as_deref().unwrap().contains("state limit"));
    assert!(!r.passed(), "a cut search must never pass");
    assert_eq!(r.verdict, sa_checker::report::Verdict::Incomplete);
    assert_eq!(r.verdict.exit_code(), 4);

    let opts = CheckOptions {
        threads: 2,
        max_depth: Some(5),
        shorten: false,
        ..Default::default()
    };
    let r = check(&c, &opts, &mut |_| {});
    assert!(!r.exhaustive);
    assert!(r.cut_reason.as_deref().unwrap().contains("depth limit"));
}

#[test]
fn progress_is_reported() {
    let c = Config::preset("tiny").unwrap();
    let mut calls = 0;
    let r = check(
        &c,
        &CheckOptions {
            threads: 1,
            ..Default::default()
        },
        &mut |p| {
            calls += 1;
            assert!(p.unique_states <= TINY_STATES);
        },
    );
    assert!(calls >= 1);
    assert_eq!(r.unique_states, TINY_STATES);
}

const TINY_STATES: usize = 186_134;

#[test]
fn a_single_thread_search_stops_at_its_timeout() {
    // Stateright checks its own timeout only when a thread runs out of work, which a single
    // thread never does: the runner stops expansion itself.
    let c = Config::preset("default").unwrap();
    let opts = CheckOptions {
        threads: 1,
        timeout: Some(std::time::Duration::from_millis(300)),
        shorten: false,
        ..Default::default()
    };
    let r = check(&c, &opts, &mut |_| {});
    assert!(!r.exhaustive);
    assert!(r.cut_reason.as_deref().unwrap().contains("timeout"));
    assert_eq!(r.verdict, sa_checker::report::Verdict::Incomplete);
    assert!(r.unique_states < 12_000_000);
}

#[test]
fn double_vote_counterexample_reads_in_the_spec_words() {
    let mut c = Config::preset("tiny").unwrap();
    c.mutations = vec![Mutation::DoubleVote];
    let r = check(
        &c,
        &CheckOptions {
            threads: 1,
            ..Default::default()
        },
        &mut |_| {},
    );
    let p = r.property("SAFE-VOTE-UNIQUE").unwrap();
    assert_eq!(p.status, Status::Violated);
    let cx = p.counterexample.as_ref().unwrap();
    assert!(cx.shortest);
    let text: Vec<String> = cx
        .steps
        .iter()
        .map(|s| format!("{}. {}", s.index, s.description))
        .collect();
    insta_like(&text);
    // Beliefs name every node.
    assert_eq!(cx.steps[0].beliefs.len(), 4);
}

/// The exact text of the shortest counterexample (BFS on one thread is deterministic).
fn insta_like(text: &[String]) {
    let expected = EXPECTED_DOUBLE_VOTE;
    assert_eq!(text.join("\n"), expected, "counterexample text changed");
}

const EXPECTED_DOUBLE_VOTE: &str = "\
1. P0 round 1 iteration 0 Proposal: timer fires, no candidate; sends Validation vote NoCandidate
2. P3 round 1 iteration 0: is gen(0), broadcasts a valid candidate B1.0 on genesis
3. P0 round 1 iteration 0: receives the late candidate B1.0 and votes AGAIN in Validation";
