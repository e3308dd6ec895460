//! Helpers shared by the CLI tests.
#![allow(dead_code)]

use std::io::Read;
use std::process::{Command, ExitStatus, Stdio};

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

/// The subcommands, in `sa --help`'s order (those added later are found the same way).
pub fn subcommands() -> Vec<String> {
    let (code, out, _) = sa(&["--help"]);
    assert_eq!(code, 0);
    out.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(String::from)
        .collect()
}

/// One `--json` run of each command cheap enough for the test command, with the `format` its
/// output must name; `p` gives a path in a scratch directory, `net` a `sa genesis` directory.
pub fn json_runs(p: &dyn Fn(&str) -> String, net: &str) -> Vec<(&'static str, Vec<String>)> {
    let suite = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/traces/byzantine"
    );
    let a = |v: &[&str]| v.iter().map(|s| (*s).to_string()).collect::<Vec<_>>();
    vec![
        ("sa-check/1", a(&["check", "--preset", "tiny"])),
        ("sa-check/1", a(&["check", "--preset", "byzantine-over"])),
        (
            "sa-simulate/1",
            a(&["simulate", "--preset", "tiny", "--walks", "20"]),
        ),
        ("sa-conform/1", a(&["conform", suite])),
        (
            "sa-export/1",
            a(&["export", "--preset", "tiny", "--out", &p("traces")]),
        ),
        ("sa-odds/1", a(&["odds", "--samples", "200"])),
        (
            "sa-compare/1",
            a(&[
                "compare",
                "--presets",
                "tiny",
                "--variants",
                "dusk,closed",
                "--chains",
                "2",
                "--chain",
                "5",
                "--window",
                "5",
                "--absent",
                "0,30",
            ]),
        ),
        ("sa-inspect/1", a(&["inspect", net])),
        (
            "sa-degrade-sortition/1",
            a(&[
                "degrade",
                "--sortition",
                "--samples",
                "100",
                "--absent",
                "0,20",
                "--plot",
                &p("d.png"),
            ]),
        ),
        ("sa-campaign/1", a(&["campaign", "--messages", "200"])),
        (
            "sa-sweep/1",
            a(&["sweep", "--preset", "tiny", "--absent", "0"]),
        ),
    ]
}

/// Runs `sa args`, sends it SIGINT after `wait`, and returns how it ended with its stdout and
/// stderr (stdin is an open pipe nobody writes to).
pub fn interrupt_after(args: &[&str], wait: std::time::Duration) -> (ExitStatus, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sa");
    std::thread::sleep(wait);
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
    // Both pipes drained at once (a full stderr pipe must not block the child's stdout).
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        stdout.read_to_string(&mut out).expect("read");
        out
    });
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("piped")
        .read_to_string(&mut err)
        .expect("read");
    let out = reader.join().expect("reader");
    let status = child.wait().expect("wait");
    (status, out, err)
}
