//! Every `--json` output validates against its schema in schema/ (named by its `format`),
//! checked by an independent validator (Python's `jsonschema`, Draft 2020-12), and a wrong
//! output is refused (schema/README.md says which formats are validated here).

mod common;

use std::path::{Path, PathBuf};

use common::{json_runs, sa};

fn schema_of(format: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../schema")
        .join(format!("{}.schema.json", format.replace('/', "-v")))
}

/// Validates each (schema, file) pair; Err: the validator's complaint.
fn validate(pairs: &[(PathBuf, PathBuf)]) -> Result<(), String> {
    let script = r#"
import json, sys
import jsonschema
args = sys.argv[1:]
for schema, doc in zip(args[0::2], args[1::2]):
    s = json.load(open(schema))
    jsonschema.Draft202012Validator.check_schema(s)
    jsonschema.validate(json.load(open(doc)), s, cls=jsonschema.Draft202012Validator)
"#;
    let mut cmd = std::process::Command::new("python3");
    cmd.args(["-c", script]);
    for (s, d) in pairs {
        cmd.arg(s).arg(d);
    }
    let out = cmd.output().map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

#[test]
fn every_json_output_validates_against_its_schema() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    assert_eq!(sa(&["genesis", "--nodes", "4", "--out", &p("net")]).0, 0);
    let mut runs: Vec<Vec<String>> = json_runs(&p, &p("net")).into_iter().map(|r| r.1).collect();
    runs.push(
        ["check", "--preset", "tiny", "--mutation", "ignore-pni"]
            .map(String::from)
            .to_vec(),
    );
    runs.push(
        [
            "testnet",
            "--nodes",
            "4",
            "--blocks",
            "2",
            "--duration",
            "60",
        ]
        .map(String::from)
        .to_vec(),
    );
    // The testnet-driving outputs: a degradation run (one row) and a soak with one kill.
    runs.push(
        [
            "degrade",
            "--nodes",
            "4",
            "--max-absent",
            "0",
            "--blocks",
            "3",
            "--plot",
            &p("degrade.png"),
        ]
        .map(String::from)
        .to_vec(),
    );
    runs.push(
        ["soak", "--nodes", "4", "--kills", "1", "--settle", "5"]
            .map(String::from)
            .to_vec(),
    );
    let mut pairs = Vec::new();
    for (k, mut args) in runs.into_iter().enumerate() {
        args.push("--json".into());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = sa(&argv);
        assert!(matches!(code, 0 | 1 | 3 | 4), "{argv:?}: {code}\n{err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let format = v["format"].as_str().expect("format").to_string();
        let file = dir.path().join(format!("out-{k}.json"));
        std::fs::write(&file, &out).unwrap();
        pairs.push((schema_of(&format), file));
    }
    // sa report's report.json.
    assert!(matches!(
        sa(&["report", "--preset", "tiny", "--out", &p("report")]).0,
        0 | 1
    ));
    pairs.push((
        schema_of("sa-report/1"),
        dir.path().join("report/report.json"),
    ));
    validate(&pairs).unwrap();
    // A wrong output is refused: a verdict outside the table, a provenance without a commit.
    let (_, out, _) = sa(&["check", "--preset", "tiny", "--json"]);
    for (field, bad) in [
        ("/verdict", serde_json::json!("MAYBE")),
        ("/provenance", serde_json::json!({"version": "x"})),
    ] {
        let mut v: serde_json::Value = serde_json::from_str(&out).unwrap();
        *v.pointer_mut(field).unwrap() = bad;
        let file = dir.path().join("bad.json");
        std::fs::write(&file, v.to_string()).unwrap();
        assert!(
            validate(&[(schema_of("sa-check/1"), file)]).is_err(),
            "{field} accepted"
        );
    }
}
