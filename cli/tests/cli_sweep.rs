//! `sa sweep`: one row per configuration, safety on every row, liveness up to the bound and
//! failing past it with the path to a stuck state; slices (`--shard`) merge into the whole
//! table; bad grids and bad slice files are rejected with the value and the file named.

mod common;

use common::sa;

fn rows(json: &serde_json::Value) -> Vec<serde_json::Value> {
    json["rows"].as_array().expect("rows").clone()
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one end-to-end scenario: run shards, merge, read the table, each assertion where its output appears"
)]
fn shards_merge_into_the_table_with_liveness_failing_one_past_the_bound() {
    // `tiny` over two rounds, round 1 asynchronous, round 2 after GST: 4 provisioners of 2
    // units, C = 4, SM = 3: one absent provisioner holds 2 credits of a 4-credit committee,
    // past C - SM = 1, so the thresholds predict liveness up to absent = 0.
    let dir = tempfile::tempdir().unwrap();
    let (code, toml, _) = sa(&["check", "--preset", "tiny", "--print-config"]);
    assert_eq!(code, 0);
    let toml = toml
        .replace("rounds = 1\n", "rounds = 2\n")
        .replace("gst_round = 0\n", "gst_round = 2\n");
    assert!(
        toml.contains("gst_round = 2") && toml.contains("rounds = 2"),
        "{toml}"
    );
    let config = dir.path().join("two-rounds.toml");
    std::fs::write(&config, toml).unwrap();
    let config = config.to_str().unwrap();
    let mut parts = Vec::new();
    for shard in ["1/2", "2/2"] {
        let (code, out, err) = sa(&[
            "sweep", "--config", config, "--absent", "0..=1", "--shard", shard, "--json",
        ]);
        // One slice is not the whole grid: INCOMPLETE (4), and it says so.
        assert_eq!(code, 4, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["format"], "sa-sweep/1");
        assert_eq!(v["grid"], 2);
        assert_eq!(rows(&v).len(), 1);
        let path = dir.path().join(format!("part-{}.json", &shard[..1]));
        std::fs::write(&path, out).unwrap();
        parts.push(path);
    }
    let files: Vec<&str> = parts.iter().map(|p| p.to_str().unwrap()).collect();
    let mut args = vec!["sweep", "--merge"];
    args.extend(&files);
    args.push("--json");
    let (code, out, err) = sa(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let r = rows(&v);
    assert_eq!(r.len(), 2);
    // Safety on every row; liveness within the bound (nobody absent), not one past it.
    for row in &r {
        assert_eq!(row["safety"], "holds", "{row}");
        assert!(row["states"].as_u64().unwrap() > 1000);
    }
    // One absence and one suspension (a generator whose candidate round 1's early timers
    // outran) leave no draw of round 2 able to end it: the suspension stall (LIVE-NO-STALL).
    assert_eq!(r[0]["verdict"], "PASS");
    assert_eq!(r[1]["verdict"], "VIOLATED");
    let live = |row: &serde_json::Value, id: &str| {
        row["live_properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p[0] == id)
            .map(|p| p[1].as_str().unwrap().to_string())
    };
    assert_eq!(live(&r[0], "LIVE-NO-STALL").as_deref(), Some("holds"));
    assert_eq!(live(&r[1], "LIVE-NO-STALL").as_deref(), Some("violated"));
    assert_eq!(r[0]["absent"], 0);
    assert_eq!(r[0]["liveness"], "holds");
    assert_eq!(r[0]["stuck_past_bound"], 0);
    assert_eq!(r[1]["absent"], 1);
    assert_eq!(r[1]["liveness"], "violated");
    assert!(r[1]["stuck_past_bound"].as_u64().unwrap() > 0);
    let deadlock: Vec<&str> = r[1]["deadlock"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert!(
        deadlock.iter().any(|l| l.contains("goes offline")),
        "{deadlock:?}"
    );
    assert!(
        deadlock
            .last()
            .is_some_and(|l| l.starts_with("no action is possible")),
        "{deadlock:?}"
    );
    let summary = v["summary"].as_array().unwrap();
    assert!(summary[0]
        .as_str()
        .unwrap()
        .starts_with("safety: holds on every row"));
    assert_eq!(
        summary[1],
        "absence (no Byzantine): liveness held up to absent = 0, failed from absent = 1"
    );
    // The table and the CSV of the same merge.
    let (code, table, _) = sa(&["sweep", "--merge", files[0], files[1]]);
    assert_eq!(code, 0);
    assert!(table.contains("failed from absent = 1"), "{table}");
    assert!(table.contains("no action is possible"), "{table}");
    let (_, csv, _) = sa(&["sweep", "--merge", files[0], files[1], "--csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("index,provisioners,stakes,committee,absent"));
    assert!(lines[2].contains(",holds,violated,"), "{csv}");
    // A missing slice: the merge says how many rows it has, exit 4.
    let (code, table, _) = sa(&["sweep", "--merge", files[0]]);
    assert_eq!(code, 4);
    assert!(
        table.contains("INCOMPLETE: 1 of the grid's 2 rows"),
        "{table}"
    );
}

#[test]
fn bad_grids_and_bad_slice_files_are_rejected_by_name() {
    let (code, _, err) = sa(&["sweep", "--absent", "3..=1"]);
    assert_eq!(code, 2);
    assert!(err.contains("empty range 3..=1"), "{err}");
    let (code, _, err) = sa(&["sweep", "--absent", "0,x"]);
    assert_eq!(code, 2);
    assert!(err.contains("`x` is not a number"), "{err}");
    let (code, _, err) = sa(&["sweep", "--shard", "3/2"]);
    assert_eq!(code, 2);
    assert!(err.contains("need 1 <= I <= N"), "{err}");
    let (code, _, err) = sa(&["sweep", "--preset", "tiny", "--byzantine", "4"]);
    assert_eq!(code, 2);
    assert!(err.contains("--byzantine 4: only 4 provisioners"), "{err}");
    let (code, _, err) = sa(&["sweep", "--preset", "tiny", "--absent", "5"]);
    assert_eq!(code, 2);
    assert!(err.contains("absent"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"rows\": 3}").unwrap();
    let (code, _, err) = sa(&["sweep", "--merge", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        err.contains("bad.json") && err.contains("not the JSON of `sa sweep --json`"),
        "{err}"
    );
}
