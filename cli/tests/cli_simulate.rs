//! `sa simulate` and the horizon of every report, as a user runs them. The full runs that
//! find the `async-final` fork from scratch (`sa simulate --preset async-final`, `sa check
//! --preset async-final`, about 40 s each) are in scripts/long-checks.sh; here the walk that
//! finds it is replayed alone, and the search machinery is exercised on quick configurations.

mod common;

use common::sa;
use serde_json::Value;

fn json(args: &[&str]) -> (i32, Value) {
    let (code, out, err) = sa(args);
    let v = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, v)
}

fn status<'a>(v: &'a Value, id: &str) -> &'a str {
    v["properties"]
        .as_array()
        .expect("properties")
        .iter()
        .find(|p| p["id"] == id)
        .and_then(|p| p["status"].as_str())
        .unwrap_or_else(|| panic!("no {id}"))
}

/// The walk that finds the fork, replayed alone: the search around its early finality reaches
/// two honest nodes with different Final blocks, and the counterexample ends there.
#[test]
fn walk_774500_of_seed_0_forks_finality_on_async_final() {
    let (code, v) = json(&[
        "simulate",
        "--preset",
        "async-final",
        "--seed",
        "0",
        "--walk",
        "774500",
        "--json",
    ]);
    assert_eq!(code, 1, "VIOLATED");
    assert_eq!(v["verdict"], "VIOLATED");
    assert_eq!(v["exhaustive"], false);
    assert_eq!(status(&v, "SAFE-FINAL-AGREEMENT"), "violated");
    assert_eq!(status(&v, "SAFE-FINAL-PRIOR-ITERATIONS"), "violated");
    assert_eq!(status(&v, "ACC-FORK-EVIDENCE"), "violated");
    assert_eq!(v["config"]["faults"]["byzantine"], serde_json::json!([]));
    let found = v["simulation"]["violations"]
        .as_array()
        .expect("violations");
    let fork = found
        .iter()
        .find(|x| x["id"] == "SAFE-FINAL-AGREEMENT")
        .expect("the fork");
    assert_eq!(fork["walk"], 774_500);
    assert_eq!(fork["local"], true, "found by the search around the walk");
    let prior = found
        .iter()
        .find(|x| x["id"] == "SAFE-FINAL-PRIOR-ITERATIONS")
        .expect("the early finality");
    assert_eq!(prior["local"], false, "found by the walk itself");
    // The counterexample's last step is where a second Final block appears.
    let p = v["properties"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["id"] == "SAFE-FINAL-AGREEMENT")
        .unwrap();
    let steps = p["counterexample"]["steps"].as_array().expect("steps");
    assert!(steps.len() >= 30, "{} steps", steps.len());
    let beliefs: Vec<&str> = steps.last().unwrap()["beliefs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    assert!(
        beliefs.iter().any(|b| b.contains("B1.0:Final")),
        "{beliefs:?}"
    );
    assert!(
        beliefs.iter().any(|b| b.contains("B1.1:Final")),
        "{beliefs:?}"
    );
    // The horizon says why: asynchrony lasts until a PNI-1 block can be Final.
    assert_eq!(v["horizon"]["through_finality"], true);
}

/// The human output names the seed and walk and how to replay them.
#[test]
fn a_violation_names_its_seed_walk_and_replay_command() {
    let (code, out, _) = sa(&["simulate", "--preset", "async-final", "--walk", "774500"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("horizon: asynchronous in every explored round"),
        "{out}"
    );
    assert!(out.contains("NOT exhaustive: seeded random walks"), "{out}");
    assert!(
        out.contains(
            "SAFE-FINAL-AGREEMENT found by the breadth-first search around walk 774500 of seed 0"
        ),
        "{out}"
    );
    assert!(
        out.contains("replay: sa simulate --preset async-final --seed 0 --walk 774500"),
        "{out}"
    );
    assert!(
        out.contains("Counterexample for SAFE-FINAL-AGREEMENT"),
        "{out}"
    );
}

/// Walk K of seed S is the same whatever the thread count: the same properties violated, by
/// the same walks, along the same paths.
#[test]
fn results_do_not_depend_on_the_thread_count() {
    let run = |threads: &str| {
        json(&[
            "simulate",
            "--preset",
            "byzantine",
            "--walks",
            "3000",
            "--seed",
            "7",
            "--threads",
            threads,
            "--json",
        ])
        .1
    };
    let (one, two) = (run("1"), run("2"));
    assert_eq!(
        one["simulation"]["violations"],
        two["simulation"]["violations"]
    );
    assert!(
        !one["simulation"]["violations"]
            .as_array()
            .unwrap()
            .is_empty(),
        "byzantine: something is violated in 3000 walks"
    );
    let paths = |v: &Value| {
        v["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["status"] == "violated")
            .map(|p| p["counterexample"]["steps"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(paths(&one), paths(&two));
    assert_eq!(one["simulation"]["walks"], 3000);
    assert_eq!(one["simulation"]["states"], two["simulation"]["states"]);
}

/// The largest configuration the model represents (8 provisioners, C = 64) runs and reports
/// its rates.
#[test]
fn simulate_runs_on_eight_provisioners_and_c_64() {
    let (code, v) = json(&["simulate", "--preset", "largest", "--walks", "6", "--json"]);
    assert!(
        code == 1 || code == 4,
        "VIOLATED or INCOMPLETE, never PASS: {code}"
    );
    assert_eq!(v["exhaustive"], false);
    assert_eq!(v["config"]["provisioners"].as_array().unwrap().len(), 8);
    assert_eq!(v["config"]["protocol"]["committee_credits"], 64);
    let sim = &v["simulation"];
    assert_eq!(sim["walks"], 6);
    assert!(sim["walks_per_second"].as_f64().unwrap() > 0.0);
    assert!(sim["states_per_second"].as_f64().unwrap() > 0.0);
    assert!(
        sim["mean_depth"].as_f64().unwrap() > 20.0,
        "walks reach past round 1"
    );
}

#[test]
fn bad_arguments_are_refused_with_the_reason() {
    for (args, needle) in [
        (
            vec!["--stop-on", "SAFE-NOPE"],
            "not a safety or liveness property",
        ),
        (
            vec!["--stop-on", "WIT-FINAL"],
            "not a safety or liveness property",
        ),
        (vec!["--walks", "0"], "at least 1"),
        (vec!["--preset", "nope"], "nope"),
    ] {
        let mut all = vec!["simulate"];
        all.extend(args.iter().copied());
        let (code, _, err) = sa(&all);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// `sa check`'s simulation pass: on a configuration whose horizon reaches finality, a
/// violation found by the walks is the report (not exhaustive), and the exhaustive search is
/// not run; `--simulate 0` skips the pass.
#[test]
fn check_runs_a_simulation_pass_where_asynchrony_reaches_finality() {
    let (code, v) = json(&[
        "check",
        "--preset",
        "byzantine-async",
        "--simulate",
        "3000",
        "--json",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["exhaustive"], false);
    assert_eq!(v["simulation"]["walks"], 3000);
    assert_eq!(status(&v, "SAFE-ONE-OUTCOME"), "violated");
    let (_, out, err) = sa(&["check", "--preset", "byzantine-async", "--simulate", "3000"]);
    assert!(err.contains("the exhaustive search was not run"), "{err}");
    assert!(out.contains("NOT exhaustive: seeded random walks"), "{out}");
}

/// Every preset's report states its horizon, and only the presets that keep the network
/// asynchronous until a PNI-1 block can be Final say that it does.
#[test]
fn every_preset_states_its_horizon() {
    for name in sa_model::Config::preset_names() {
        let config = sa_model::Config::preset(name).expect("preset");
        let h = sa_checker::report::Horizon::of(&config);
        let through = ["async-final", "byzantine-async", "largest"].contains(name);
        assert_eq!(h.through_finality, through, "{name}: {}", h.line);
        assert!(!h.line.is_empty());
        if !through && h.max_pni > 0 {
            assert!(h.caveat("SAFE-FINAL-AGREEMENT").is_some(), "{name}");
        }
        assert!(
            h.caveat("SAFE-VOTE-UNIQUE").is_none(),
            "only SAFE-FINAL-* get it"
        );
    }
    let (_, out, _) = sa(&["check", "--preset", "tiny", "--no-unbounded"]);
    let second = out.lines().nth(1).unwrap_or_default();
    assert!(second.starts_with("horizon: "), "{out}");
    assert!(
        out.contains("SAFE-FINAL-AGREEMENT") && out.contains("(only with asynchrony over"),
        "a SAFE-FINAL-* result that holds carries the caveat: {out}"
    );
}

/// `sa simulate --shard I/N` in separate processes, merged with `--merge`: the same verdict,
/// walks, states, violated properties with their lowest walks and counterexamples as the
/// unsharded run (`--local-states 0`: every violation found by a walk itself). A shard
/// missing or given twice is said.
#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one story: run, shard, merge, compare, refuse"
)]
fn simulation_shards_merge_into_the_unsharded_run() {
    let dir = tempfile::tempdir().unwrap();
    let run = |extra: &[&str]| {
        let mut args = vec![
            "simulate",
            "--preset",
            "byzantine",
            "--walks",
            "3000",
            "--local-states",
            "0",
            "--json",
        ];
        args.extend_from_slice(extra);
        let (code, out, err) = sa(&args);
        assert_eq!(code, 1, "{extra:?}: {err}");
        out
    };
    let whole: Value = serde_json::from_str(&run(&[])).unwrap();
    let mut files = Vec::new();
    for i in 1..=3 {
        let f = dir.path().join(format!("part-{i}.json"));
        std::fs::write(&f, run(&["--shard", &format!("{i}/3")])).unwrap();
        files.push(f.to_string_lossy().into_owned());
    }
    let merge = |files: &[&str]| {
        let mut args = vec!["simulate", "--json", "--merge"];
        args.extend_from_slice(files);
        sa(&args)
    };
    let f: Vec<&str> = files.iter().map(String::as_str).collect();
    let (code, out, err) = merge(&f);
    assert_eq!(code, 1, "{err}");
    let merged: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(merged["verdict"], whole["verdict"]);
    for field in ["walks", "states", "max_depth", "walks_cut"] {
        assert_eq!(
            merged["simulation"][field], whole["simulation"][field],
            "{field}"
        );
    }
    let violations = |v: &Value| {
        let mut l: Vec<(String, u64, u64)> = v["simulation"]["violations"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["id"].as_str().unwrap().to_string(),
                    x["walk"].as_u64().unwrap(),
                    x["walks_violating"].as_u64().unwrap(),
                )
            })
            .collect();
        l.sort();
        l
    };
    assert!(!violations(&whole).is_empty());
    assert_eq!(violations(&merged), violations(&whole));
    for (p, q) in merged["properties"]
        .as_array()
        .unwrap()
        .iter()
        .zip(whole["properties"].as_array().unwrap())
    {
        assert_eq!(p["id"], q["id"]);
        assert_eq!(p["status"], q["status"], "{}", p["id"]);
        if q["status"] == "violated" {
            assert_eq!(p["counterexample"], q["counterexample"], "{}", p["id"]);
        }
    }
    // A shard short: the merge says so; a shard twice is refused.
    let (_, out, _) = merge(&f[..2]);
    let short: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(short["simulation"]["stopped"], "1 of 3 shards missing");
    let (code, _, err) = merge(&[f[0], f[0]]);
    assert_eq!(code, 2);
    assert!(err.contains("shard 1 given twice"), "{err}");
    // An unsharded report is not a shard's.
    let lone = dir.path().join("whole.json");
    std::fs::write(&lone, whole.to_string()).unwrap();
    let (code, _, err) = merge(&[f[0], lone.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a shard's"), "{err}");
}
