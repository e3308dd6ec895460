//! `sa export`'s core: every reachable transition class of a preset covered by a trace, the
//! traces read back with the `itf` crate, byte-identical on a second export.

use sa_conformance::export::export;
use sa_conformance::trace::{read, Event};
use sa_model::{Config, SaModel};

fn tiny() -> SaModel {
    SaModel::new(Config::preset("tiny").unwrap())
}

#[test]
fn every_class_is_covered_and_every_trace_reads_back() {
    let m = tiny();
    let dir = tempfile::tempdir().unwrap();
    let e = export(&m, "tiny", dir.path(), 5, 1).unwrap();
    assert!(e.coverage.len() > 10, "{:?}", e.coverage.keys());
    for (c, n) in &e.coverage {
        assert!(*n > 0, "class {c} is reachable but no trace covers it");
    }
    let mut files = 0;
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let t = read(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(t.states[0].value.event, Event::Init);
        assert!(t.states.len() > 1);
        files += 1;
    }
    assert_eq!(files, e.traces.len());
}

#[test]
fn export_is_deterministic() {
    let m = tiny();
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    export(&m, "tiny", a.path(), 3, 9).unwrap();
    export(&m, "tiny", b.path(), 3, 9).unwrap();
    let mut names: Vec<_> = std::fs::read_dir(a.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    names.sort();
    assert!(!names.is_empty());
    for n in names {
        assert_eq!(
            std::fs::read(a.path().join(&n)).unwrap(),
            std::fs::read(b.path().join(&n)).unwrap(),
            "{n:?}"
        );
    }
}

#[test]
fn bad_traces_are_refused_with_the_place() {
    assert!(read("{").unwrap_err().contains("not JSON"));
    let e =
        read(r##"{"#meta": {"format_version": "sa-conformance/0"}, "states": []}"##).unwrap_err();
    assert!(e.contains("format_version"), "{e}");
    let e = read(
        r##"{"#meta": {"format_version": "sa-conformance/4"}, "states": [
            {"#meta": {"index": 0}, "event": {"tag": "Init", "value": {"#tup": []}}, "sent": {"#set": []},
             "node": {"alive": true, "round": {"#bigint": "1"}, "iteration": {"#bigint": "0"},
                      "step": {"tag": "Proposal", "value": {"#tup": []}}, "chain": [], "final_height": {"#bigint": "0"}, "ledger": []}},
            {"#meta": {"index": 1}, "event": {"tag": "Teleport", "value": {"#tup": []}}, "sent": {"#set": []},
             "node": {"alive": true, "round": {"#bigint": "1"}, "iteration": {"#bigint": "0"},
                      "step": {"tag": "Proposal", "value": {"#tup": []}}, "chain": [], "final_height": {"#bigint": "0"}, "ledger": []}}
        ]}"##,
    )
    .unwrap_err();
    assert!(e.contains("states[1]") && e.contains("Teleport"), "{e}");
}

#[test]
fn exported_traces_satisfy_the_json_schema() {
    // The schema of spec/conformance.md, checked by an independent validator (Python's
    // jsonschema, Draft 2020-12) on every exported file.
    let m = tiny();
    let dir = tempfile::tempdir().unwrap();
    let e = export(&m, "tiny", dir.path(), 3, 2).unwrap();
    let schema = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/trace.schema.json");
    let script = r#"
import glob, json, sys
import jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator.check_schema(schema)
files = sorted(glob.glob(sys.argv[2] + "/*.itf.json"))
for f in files:
    jsonschema.validate(json.load(open(f)), schema, cls=jsonschema.Draft202012Validator)
print(len(files))
"#;
    let out = std::process::Command::new("python3")
        .args(["-c", script, schema, dir.path().to_str().unwrap()])
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let n: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert_eq!(n, e.traces.len());
    // And the validator bites: a trace without format_version is refused.
    let bad = dir.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("class-000.itf.json")).unwrap(),
    )
    .unwrap();
    v["#meta"].as_object_mut().unwrap().remove("format_version");
    std::fs::write(bad.join("x.itf.json"), v.to_string()).unwrap();
    let out = std::process::Command::new("python3")
        .args(["-c", script, schema, bad.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(!out.status.success());
}

/// Every witness `sa check` reaches on a preset has traces (its shortest run, projected onto
/// each node it moves), and no other: the two searches are independent code.
#[test]
fn every_witness_the_check_reaches_is_exported_as_traces() {
    for preset in ["tiny", "byzantine"] {
        let config = Config::preset(preset).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let e = export(&SaModel::new(config.clone()), preset, dir.path(), 0, 1).unwrap();
        let report = sa_checker::check(
            &config,
            &sa_checker::CheckOptions {
                threads: 2,
                ..Default::default()
            },
            &mut |_| {},
        );
        let mut witnessed: Vec<String> = report
            .properties
            .iter()
            .filter(|p| p.status == sa_checker::report::Status::Witnessed)
            .map(|p| p.id.clone())
            .collect();
        witnessed.sort();
        let exported: Vec<String> = e.witnesses.keys().cloned().collect();
        assert_eq!(exported, witnessed, "{preset}");
        assert!(e.witnesses.values().all(|n| *n > 0), "{preset}");
        for id in e.witnesses.keys() {
            let name = format!("witness-{}-p", id.trim_start_matches("WIT-").to_lowercase());
            let files = std::fs::read_dir(dir.path())
                .unwrap()
                .filter(|f| {
                    f.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .starts_with(&name)
                })
                .count();
            assert!(files > 0, "{preset}: no trace file for {id}");
        }
    }
}

/// The progress `sa export` shows: the class search's states, rising to the states visited,
/// then every trace written; a callback that says stop ends the export with nothing more
/// written.
#[test]
fn export_reports_its_progress_and_stops_when_asked() {
    use sa_conformance::export::{export_with, ExportError, Stage};
    let m = tiny();
    let dir = tempfile::tempdir().unwrap();
    let mut stages = Vec::new();
    let e = export_with(&m, "tiny", dir.path(), 2, 1, &mut |s| {
        stages.push(s);
        true
    })
    .unwrap();
    let explored: Vec<usize> = stages
        .iter()
        .filter_map(|s| match s {
            Stage::Exploring { states } => Some(*states),
            Stage::Writing { .. } => None,
        })
        .collect();
    assert!(explored.len() >= 3, "{explored:?}");
    assert!(explored.windows(2).all(|w| w[0] <= w[1]), "{explored:?}");
    assert_eq!(explored.last(), Some(&e.states_visited));
    let total = e.traces.len();
    let written: Vec<usize> = stages
        .iter()
        .filter_map(|s| match s {
            Stage::Writing { done, total: t } => {
                assert_eq!(*t, total);
                Some(*done)
            }
            Stage::Exploring { .. } => None,
        })
        .collect();
    assert_eq!(written, (0..total).collect::<Vec<_>>());

    // Stopped during the search: nothing written; during the writing: only what came before.
    for stop_at in [1, explored.len() + 5] {
        let other = tempfile::tempdir().unwrap();
        let mut calls = 0;
        let r = export_with(&m, "tiny", other.path(), 2, 1, &mut |_| {
            calls += 1;
            calls < stop_at
        });
        assert_eq!(r.err(), Some(ExportError::Interrupted));
        let files = std::fs::read_dir(other.path()).unwrap().count();
        assert_eq!(files, (stop_at).saturating_sub(explored.len() + 1));
    }
}
