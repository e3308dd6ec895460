//! Bad input to `sa-dusk adapter` gets an answer naming what is wrong, and the adapter goes on:
//! no panic, no state changed by a refused request.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

fn config(preset: &str) -> serde_json::Value {
    serde_json::to_value(sa_model::Config::preset(preset).unwrap()).unwrap()
}

#[test]
fn every_bad_request_is_refused_by_name_and_the_adapter_goes_on() {
    let at = serde_json::json!({"ledger": [], "round": {"#bigint": "1"},
        "iteration": {"#bigint": "0"}, "step": {"tag": "Proposal"}});
    let requests: Vec<(String, &str)> = vec![
        ("garbage".into(), "request is not JSON"),
        (r#"{"op":"observe"}"#.into(), "no init"),
        (r#"{"op":"frobnicate"}"#.into(), "unknown op"),
        (
            r#"{"op":"init","config":{"name":"x"},"node":0}"#.into(),
            "init.config",
        ),
        (
            serde_json::json!({"op": "init", "config": config("default"), "node": 0}).to_string(),
            "needs the Dusk profile",
        ),
        (
            serde_json::json!({"op": "init", "config": config("dusk"), "node": 9}).to_string(),
            "init.node: 9 is not a provisioner",
        ),
        (
            serde_json::json!({"op": "init", "config": config("dusk"), "node": 1,
                "proposals": [{"round": 1, "iteration": "x", "valid": true}]})
            .to_string(),
            "init.proposals",
        ),
        (
            serde_json::json!({"op": "init", "config": config("dusk"), "node": 1}).to_string(),
            "",
        ),
        (
            serde_json::json!({"op": "deliver", "event": {"tag": "Candidate",
                "value": {"block": "B1.0"}}, "at": at})
            .to_string(),
            "no field `valid`",
        ),
        (
            serde_json::json!({"op": "deliver", "event": {"tag": "Nope"}, "at": at}).to_string(),
            "unknown event Nope",
        ),
        (r#"{"op":"observe"}"#.into(), ""),
    ];
    let mut child = Command::new(env!("CARGO_BIN_EXE_sa-dusk"))
        .arg("adapter")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    for (request, refusal) in &requests {
        writeln!(stdin, "{request}").unwrap();
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let answer: serde_json::Value = serde_json::from_str(&line).unwrap();
        if refusal.is_empty() {
            assert_eq!(answer["ok"], true, "{request} -> {answer}");
            if let Some(node) = answer.get("node") {
                // After the refused deliveries, the node is the node after init.
                assert_eq!(node["round"]["#bigint"], "1", "{answer}");
                assert_eq!(node["chain"], serde_json::json!([]), "{answer}");
            }
        } else {
            assert_eq!(answer["ok"], false, "{request} -> {answer}");
            let e = answer["error"].as_str().unwrap();
            assert!(e.contains(refusal), "{request} -> {e}");
        }
    }
    drop(stdin);
    assert!(child.wait().unwrap().success());
}
