//! `sa check` as a user runs it: exit codes, JSON, messages.

use std::process::Command;

fn sa(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(args)
        .output()
        .expect("run sa");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn default_preset_passes_with_exit_0_and_json() {
    let (code, out, _) = sa(&["check", "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["exhaustive"], true);
    assert!(v["unique_states"].as_u64().unwrap() >= 10_000);
    for p in v["properties"].as_array().unwrap() {
        let s = p["status"].as_str().unwrap();
        assert!(s == "holds" || s == "witnessed", "{}: {s}", p["id"]);
    }
}

#[test]
fn a_mutation_gives_exit_1_and_a_counterexample() {
    let (code, out, _) = sa(&["check", "--preset", "tiny", "--mutation", "double-vote"]);
    assert_eq!(code, 1);
    assert!(out.contains("SAFE-VOTE-UNIQUE"));
    assert!(out.contains("VIOLATED"));
    assert!(out.contains("Counterexample for SAFE-VOTE-UNIQUE"));
    assert!(out.contains("votes AGAIN in Validation"));
}

#[test]
fn a_cut_search_gives_exit_1_and_says_so() {
    let (code, out, _) = sa(&["check", "--max-states", "500"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("NOT exhaustive: state limit 500 reached"),
        "{out}"
    );
}

#[test]
fn bad_input_gives_exit_2_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let (_, text, _) = sa(&["check", "--preset", "tiny", "--print-config"]);
    std::fs::write(&path, text.replace("absent = 0", "absent = 9")).unwrap();
    let (code, _, err) = sa(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("faults.absent"), "{err}");

    let (code, _, err) = sa(&["check", "--preset", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("unknown preset `nope`"), "{err}");

    let (code, _, err) = sa(&["check", "--mutation", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a known mutation"), "{err}");

    let (code, _, err) = sa(&["check", "--config", "/no/such/file.toml"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read file"), "{err}");

    let (code, _, err) = sa(&["check", "--preset", "mainnet"]);
    assert_eq!(code, 2);
    assert!(err.contains("protocol.max_iterations"), "{err}");
}

#[test]
fn a_config_file_round_trips_through_print_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tiny.toml");
    let (code, text, _) = sa(&["check", "--preset", "tiny", "--print-config"]);
    assert_eq!(code, 0);
    std::fs::write(&path, text).unwrap();
    let (code, out, _) = sa(&["check", "--config", path.to_str().unwrap(), "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["unique_states"], 2721);
    // tiny has one round: WIT-FINAL cannot be reached, so the verdict is 1 (honestly).
    assert_eq!(code, 1);
}

#[test]
fn all_draws_checks_every_class_and_catches_the_dusk_two_eligible_rule() {
    let (code, out, _) = sa(&["check", "--preset", "two-eligible", "--all-draws", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        v["draw_classes"].as_u64().unwrap() >= 2,
        "{}",
        v["draw_classes"]
    );
    assert_eq!(v["exhaustive"], true);
    let violated = v["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["status"] == "violated")
        .count();
    assert_eq!(violated, 0);
    // One round and no faults: some witnesses are unreachable, so the verdict is 1.
    assert_eq!(code, 1);

    let (_, out, _) = sa(&[
        "check",
        "--preset",
        "two-eligible",
        "--all-draws",
        "--mutation",
        "dusk-two-eligible",
    ]);
    assert!(
        out.contains("SAFE-COMMITTEE-WELLFORMED     safety   VIOLATED"),
        "{out}"
    );
    assert!(out.contains("over all"), "{out}");
}
