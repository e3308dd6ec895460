//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use std::process::Command;

/// Runs the `sa` binary: (exit status, stdout, stderr).
pub fn sa(args: &[&str]) -> (i32, String, String) {
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

/// The line of property `id` in the JSON of a check report.
pub fn property<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["properties"]
        .as_array()
        .expect("a properties array")
        .iter()
        .find(|p| p["id"] == id)
        .unwrap_or_else(|| panic!("no property {id}"))
}
