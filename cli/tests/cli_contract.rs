//! The CLI as a contract (issue 33): each test is named after the row of the issue's table it
//! fixes, and fails on the main before the fix.

mod common;

use std::io::Read;
use std::process::{Command, Stdio};

use common::{interrupt_after, json_runs, sa, subcommands};

/// Row "`sa check --preset tiny --json | head`": the reader closes the pipe after one line;
/// `sa` exits quietly (141, a closed pipe's status) instead of panicking (101).
#[test]
fn row_json_into_head_exits_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(["check", "--preset", "tiny", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run sa");
    let mut first = [0u8; 1];
    child
        .stdout
        .as_mut()
        .expect("piped")
        .read_exact(&mut first)
        .expect("one byte");
    drop(child.stdout.take()); // the reader goes away, as `head -c1` does
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(first[0], b'{');
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{err}");
}

/// Row "`sa check --preset tiny --mutation ignore-pni`": a broken variant that changed
/// decisions and was not caught is NOT CAUGHT, exit 3, not PASS.
#[test]
fn row_uncaught_mutation_is_not_caught_with_exit_3() {
    let (code, out, err) = sa(&["check", "--preset", "tiny", "--mutation", "ignore-pni"]);
    assert_eq!(code, 3, "{err}");
    assert!(out.starts_with("sa check: configuration `tiny`"), "{out}");
    assert!(
        out.lines()
            .next()
            .unwrap_or("")
            .ends_with("verdict NOT CAUGHT"),
        "{out}"
    );
    assert!(
        out.trim_end()
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("NOT CAUGHT: the mutation(s) ignore-pni")),
        "{out}"
    );
    let (_, json, _) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "ignore-pni",
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["verdict"], "NOT_CAUGHT");
    // A mutation that is caught is still VIOLATED, exit 1.
    let (code, _, _) = sa(&["check", "--preset", "tiny", "--mutation", "double-vote"]);
    assert_eq!(code, 1);
}

/// Row "VACUOUS verdict": the last line names what made it vacuous.
#[test]
fn row_vacuous_names_what_had_no_effect() {
    let (code, out, _) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "dusk-two-eligible",
    ]);
    assert_eq!(code, 3, "{out}");
    let last = out.trim_end().lines().last().unwrap_or("").to_string();
    assert!(
        last.starts_with("VACUOUS: nothing violated, but no effect: dusk-two-eligible"),
        "{last}"
    );
}

/// Row "`sa export --preset mainnet`": refused as `sa check` refuses it, at once.
#[test]
fn row_export_refuses_what_the_model_cannot_enumerate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("m");
    let (code, _, err) = sa(&[
        "export",
        "--preset",
        "mainnet",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_iterations"), "{err}");
    assert!(!out.exists(), "nothing written for refused input");
}

/// Row "`sa export`": `--config` as every command takes it, and the same default preset.
#[test]
fn row_export_takes_a_config_and_defaults_to_the_default_preset() {
    let (_, help, _) = sa(&["export", "--help"]);
    assert!(help.contains("--config <FILE>"), "{help}");
    assert!(help.contains("[default: default]"), "{help}");
    let dir = tempfile::tempdir().unwrap();
    let (code, toml, _) = sa(&["check", "--preset", "tiny", "--print-config"]);
    assert_eq!(code, 0);
    let file = dir.path().join("mine.toml");
    std::fs::write(&file, toml.replace("name = \"tiny\"\n", "")).unwrap();
    let out = dir.path().join("traces");
    let (code, text, err) = sa(&[
        "export",
        "--config",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(text.starts_with("sa export: preset `mine`"), "{text}");
    let (code, text, _) = sa(&["conform", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    // A mutation is refused: traces are runs of the reference protocol.
    let (code, _, err) = sa(&[
        "export",
        "--preset",
        "tiny",
        "--mutation",
        "ignore-pni",
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("--mutation"), "{err}");
}

/// Row "`sa testnet --nodes 4 --duration 0`": refused, exit 2, before any node starts.
#[test]
fn row_testnet_refuses_a_zero_duration() {
    let (code, out, err) = sa(&["testnet", "--nodes", "4", "--duration", "0"]);
    assert_eq!(code, 2, "{out}");
    assert!(err.contains("--duration"), "{err}");
    assert!(!out.contains("height"), "{out}");
}

/// Row "`sa --version`, reports": the version names the commit; `--json` and the HTML report
/// carry the provenance (version, commit, date, command line, configuration digest).
#[test]
fn row_provenance_everywhere() {
    let (code, version, _) = sa(&["--version"]);
    assert_eq!(code, 0);
    let commit = version
        .split("(commit ")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .expect("a commit in `sa --version`")
        .to_string();
    assert!(commit.len() >= 7, "{version}");
    let (_, json, _) = sa(&["check", "--preset", "two-eligible", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["format"], "sa-check/1");
    let p = &v["provenance"];
    assert_eq!(p["commit"], commit.as_str());
    assert_eq!(p["command_line"][1], "check");
    assert_eq!(p["config_digest"].as_str().map(str::len), Some(64));
    assert!(p["run_at"].as_str().is_some_and(|t| t.ends_with('Z')));
    // The same configuration has the same digest; another one another.
    let (_, again, _) = sa(&["check", "--preset", "two-eligible", "--json"]);
    let again: serde_json::Value = serde_json::from_str(&again).expect("json");
    assert_eq!(again["provenance"]["config_digest"], p["config_digest"]);
    let (_, tiny, _) = sa(&["check", "--preset", "tiny", "--json"]);
    let tiny: serde_json::Value = serde_json::from_str(&tiny).expect("json");
    assert_ne!(tiny["provenance"]["config_digest"], p["config_digest"]);
    // The HTML report.
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, _, err) = sa(&[
        "report",
        "--preset",
        "two-eligible",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let html = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(html.contains(&format!("built from commit <code>{commit}</code>")));
    assert!(html.contains("command line <code>"), "no command line");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["provenance"]["commit"], commit.as_str());
}

/// Row "no shell completions": `sa completions SHELL` prints a script generated from the flags.
#[test]
fn row_completions_for_the_usual_shells() {
    let (code, bash, _) = sa(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(
        bash.contains("_sa()") && bash.contains("--preset"),
        "{bash}"
    );
    for shell in ["zsh", "fish", "elvish", "powershell"] {
        let (code, script, _) = sa(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(script.contains("check"), "{shell}");
    }
    let (code, _, err) = sa(&["completions", "tcsh"]);
    assert_eq!(code, 2, "{err}");
}

/// Row "`--json --table`, `--print-config --json`": a combination whose one flag would be
/// silently ignored is refused (exit 2, naming both).
#[test]
fn row_contradictory_output_flags_are_refused() {
    for (a, b) in [
        ("--json", "--table"),
        ("--json", "--full"),
        ("--json", "--witnesses"),
        ("--print-config", "--json"),
    ] {
        let (code, out, err) = sa(&["check", "--preset", "tiny", a, b]);
        assert_eq!(code, 2, "{a} {b}");
        assert!(out.is_empty(), "{a} {b}: {out}");
        assert!(err.contains("cannot be used with"), "{err}");
    }
}

/// Row "`sa inspect DIR` right after `sa genesis`; `sa inspect DIR/node0`": a node that never
/// ran is reported as such (exit 0), and a node's data directory is accepted as its node file.
#[test]
fn row_inspect_a_fresh_network_and_a_data_directory() {
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let (code, _, err) = sa(&["genesis", "--nodes", "4", "--out", net.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = sa(&["inspect", net.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.matches("has not run yet").count(), 4, "{out}");
    let node0 = net.join("node0");
    let (code, out, err) = sa(&["inspect", node0.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with(&format!("{}.toml", node0.display())),
        "{out}"
    );
    assert_eq!(out.matches("has not run yet").count(), 1, "{out}");
    // A directory that is neither still says what it wants.
    let (code, _, err) = sa(&["inspect", dir.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("no node*.toml here"), "{err}");
}

/// Row "`--seeds 47..=48` on `byzantine-over`": the counterexample's header names the seed that
/// violated (before, only the JSON's note did).
#[test]
fn row_the_counterexample_names_its_seed() {
    let (code, out, _) = sa(&[
        "check",
        "--preset",
        "byzantine-over",
        "--seeds",
        "47..=48",
        "--no-shorten",
    ]);
    assert_eq!(code, 1);
    // The path's length is the search's discovery (31 steps on an idle machine, 32 seen in a
    // loaded CI run: with two threads and --no-shorten, which thread finds it first decides);
    // the seed is what this row is about.
    let header = out
        .lines()
        .find(|l| l.starts_with("Counterexample for SAFE-FINAL-AGREEMENT ("))
        .unwrap_or_else(|| panic!("no counterexample header: {out}"));
    assert!(header.ends_with(" steps, found with seed 48):"), "{header}");
    // A single-seed check names none (there is only the preset's).
    let (_, out, _) = sa(&["check", "--preset", "byzantine-over", "--no-shorten"]);
    assert!(!out.contains("found with seed"), "{out}");
}

/// Row "`sa report --no-unbounded`, `--seeds`, `--timeout`": the report takes the check's
/// search flags.
#[test]
fn row_report_takes_the_check_s_search_flags() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let (code, _, err) = sa(&[
        "report",
        "--preset",
        "byzantine-over",
        "--seeds",
        "47..=48",
        "--no-unbounded",
        "--timeout",
        "600",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["check"]["seeds"], serde_json::json!([47, 48]));
    // --no-unbounded: the unbounded model's properties are not reported, as with sa check.
    let ids = |v: &serde_json::Value| -> Vec<String> {
        v["properties"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["id"].as_str().map(String::from))
            .collect()
    };
    assert!(!ids(&json["check"]).contains(&"LIVE-FINALITY".to_string()));
    let (_, check, _) = sa(&[
        "check",
        "--preset",
        "byzantine-over",
        "--seeds",
        "47..=48",
        "--no-unbounded",
        "--json",
    ]);
    let check: serde_json::Value = serde_json::from_str(&check).unwrap();
    assert_eq!(ids(&check), ids(&json["check"]));
    let (code, _, err) = sa(&[
        "report",
        "--seeds",
        "9..=1",
        "--out",
        dir.path().join("x").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
}

/// Row "`--json` of check, conform, odds, inspect, export, degrade": every `--json` output
/// names its `format` (`sa-<command>/<version>`) and carries the run's provenance.
#[test]
fn row_every_json_output_names_its_format_and_provenance() {
    let dir = tempfile::tempdir().unwrap();
    let p = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    assert_eq!(sa(&["genesis", "--nodes", "4", "--out", &p("net")]).0, 0);
    let runs = json_runs(&p, &p("net"));
    for (format, mut args) in runs {
        args.push("--json".into());
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let (code, out, err) = sa(&argv);
        assert!(
            matches!(code, 0 | 1 | 3 | 4),
            "{argv:?}: exit {code}\n{err}"
        );
        let v: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{argv:?}: {e}\n{out}"));
        assert_eq!(v["format"], format, "{argv:?}");
        let schema = format!(
            "{}/../schema/{}.schema.json",
            env!("CARGO_MANIFEST_DIR"),
            format.replace('/', "-v")
        );
        assert!(
            std::path::Path::new(&schema).is_file(),
            "no schema for {format}"
        );
        assert!(
            v["provenance"]["commit"].is_string() && v["provenance"]["command_line"][1] == argv[0],
            "{argv:?}: {}",
            v["provenance"]
        );
    }
}

/// Row "`sa conform --adapter cat`": an answer that is not of the protocol is named as such,
/// the adapter's stderr is quoted, and a mismatch shows the event as ITF JSON (the trace's own
/// form), not Rust's Debug.
#[test]
fn row_adapter_errors_say_what_went_wrong() {
    let trace = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/traces/default/class-000.itf.json"
    );
    let (code, out, _) = sa(&["conform", trace, "--adapter", "cat"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("not an answer of the adapter protocol") && !out.contains("without a message"),
        "{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("adapter.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\necho 'cannot start: no key file' >&2\nexit 3\n",
    )
    .unwrap();
    let (code, out, _) = sa(&[
        "conform",
        trace,
        "--adapter",
        &format!("sh {}", script.display()),
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("the adapter's stderr: cannot start: no key file"),
        "{out}"
    );
    // A mismatch names the event in ITF JSON.
    let text = std::fs::read_to_string(trace).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let last = v["states"].as_array_mut().unwrap().last_mut().unwrap();
    last["node"]["round"] = serde_json::json!({"#bigint": "9"});
    let altered = dir.path().join("altered.itf.json");
    std::fs::write(&altered, v.to_string()).unwrap();
    let (code, out, _) = sa(&["conform", altered.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains(": after {\"tag\":"), "{out}");
    assert!(!out.contains("Big("), "{out}");
}

/// Row "a stable machine interface": every subcommand's `--help` ends with the one exit-code
/// table, and every subcommand refuses a bad flag with 2.
#[test]
fn row_one_exit_code_table_for_every_subcommand() {
    let names = subcommands();
    assert!(names.len() >= 17, "{names:?}");
    let (_, top, _) = sa(&["--help"]);
    assert!(top.contains("Exit status (every sa command):"), "{top}");
    for c in &names {
        let (code, help, _) = sa(&[c, "--help"]);
        assert_eq!(code, 0, "{c}");
        assert!(
            help.trim_end().ends_with("nothing more is printed")
                && help.contains("  2    bad input")
                && help.contains("  130  interrupted"),
            "sa {c} --help lacks the exit table"
        );
        let (code, _, err) = sa(&[c, "--no-such-flag"]);
        assert_eq!(code, 2, "sa {c} --no-such-flag: {err}");
    }
}

/// The table's interrupted rows, on real processes: a search stopped by Ctrl-C is INCOMPLETE
/// (4) and says so; a testnet stopped by Ctrl-C exits 130 with its summary.
#[test]
fn row_ctrl_c_gives_the_table_s_codes() {
    let (status, out, err) = interrupt_after(
        &["check", "--preset", "small"],
        std::time::Duration::from_secs(2),
    );
    assert_eq!(status.code(), Some(4), "{out}\n{err}");
    assert!(out.contains("interrupted (Ctrl-C)"), "{out}");
    let (status, out, err) = interrupt_after(
        &["testnet", "--nodes", "4", "--duration", "60"],
        std::time::Duration::from_secs(3),
    );
    assert_eq!(status.code(), Some(130), "{out}\n{err}");
    assert!(out.contains("interrupted by Ctrl-C"), "{out}");
}

/// Row "charts": a candidate's square is blue (green means "became Final", as the legend
/// says), and labels on the last lane end left of their mark instead of running into the
/// step text.
#[test]
fn row_chart_colours_match_the_legend_and_labels_stay_in_their_lane() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("c.svg");
    let (code, _, err) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "double-vote",
        "--chart",
        f.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    let svg = std::fs::read_to_string(&f).unwrap();
    assert!(
        svg.contains("blue ■ broadcasts a candidate") && svg.contains("green text: became Final")
    );
    assert!(svg.contains("fill=\"#1565c0\"/>"), "a broadcast square");
    assert!(!svg.contains("fill=\"#2e7d32\"/>"), "no green square");
    assert!(
        svg.contains("text-anchor=\"end\">"),
        "a last-lane label anchored at its end"
    );
}

/// "Counterexamples and witnesses in ITF": `sa check --itf DIR` writes the counterexample (and
/// with --witnesses each witness path) as traces `sa conform` replays against sa-node.
#[test]
fn counterexamples_as_itf_replay_against_sa_node() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("cx");
    let (code, _, err) = sa(&[
        "check",
        "--preset",
        "byzantine",
        "--itf",
        d.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("wrote the counterexample of SAFE-ONE-OUTCOME as"),
        "{err}"
    );
    assert!(d.join("safe-one-outcome-p0.itf.json").is_file());
    let (code, out, _) = sa(&["conform", d.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains(" 0 failed"), "{out}");
    // Witness paths too, on a passing preset.
    let w = dir.path().join("w");
    let (code, _, err) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--witnesses",
        "--itf",
        w.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(w.join("wit-fallback-p0.itf.json").is_file(), "{err}");
    let (code, out, _) = sa(&["conform", w.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    // Refused: a mutated protocol, a used directory.
    let (code, _, err) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "double-vote",
        "--itf",
        dir.path().join("m").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, _) = sa(&["check", "--preset", "tiny", "--itf", d.to_str().unwrap()]);
    assert_eq!(code, 2);
}
