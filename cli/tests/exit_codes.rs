//! The exit-code table (`sa --help`, README) against real processes: every subcommand, those
//! added later included (the list comes from `sa --help`), is run on good input, on bad input
//! and interrupted by SIGINT, and each status is compared with the table's meaning.
//!
//! A subcommand without a case here fails the test: a new one must say what its good, bad and
//! interrupted runs are.

mod common;

use std::time::Duration;

use common::{interrupt_after, sa, subcommands};

/// What an interrupted run must end with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ends {
    /// An exit status of the table: 4 (a search cut, what it saw reported) or 130 (stopped
    /// before a result, nothing half-written).
    Code(i32),
    /// Killed by the signal itself (no result to save; a shell reports 128 + 2 = 130).
    Signal,
}

/// One subcommand's three runs; `None` where the run does not exist, with the reason.
struct Case {
    name: &'static str,
    /// Good input and the status it must give (0; 4 for a search that cannot be exhaustive).
    good: Result<(Vec<String>, i32), &'static str>,
    /// Bad input: must give 2 and say something on stderr.
    bad: Vec<String>,
    /// A run long enough to be interrupted, and how it must end.
    interrupted: Result<(Vec<String>, Ends), &'static str>,
}

/// The cheap `--json` run of `tests/common` that prints `format` (without `--json`).
fn cheap_run(p: &dyn Fn(&str) -> String, net: &str, format: &str) -> Vec<String> {
    common::json_runs(p, net)
        .into_iter()
        .find(|(f, _)| *f == format)
        .map(|(_, args)| args)
        .expect("a cheap run of that format")
}

fn v(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| (*s).to_string()).collect()
}

#[allow(clippy::too_many_lines, reason = "the table: one case per subcommand")]
fn cases(p: &dyn Fn(&str) -> String, net: &str, node: &str) -> Vec<Case> {
    let suite = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../conformance/traces/byzantine"
    );
    vec![
        Case {
            name: "check",
            good: Ok((v(&["check", "--preset", "tiny"]), 0)),
            bad: v(&["check", "--preset", "no-such-preset"]),
            interrupted: Ok((v(&["check", "--preset", "small"]), Ends::Code(4))),
        },
        Case {
            name: "compare",
            good: Ok((
                v(&[
                    "compare",
                    "--presets",
                    "tiny",
                    "--variants",
                    "dusk",
                    "--chains",
                    "0",
                ]),
                0,
            )),
            bad: v(&["compare", "--variants", "fast"]),
            interrupted: Ok((v(&["compare", "--presets", "default"]), Ends::Code(130))),
        },
        Case {
            name: "simulate",
            // Random walks never prove: nothing found is INCOMPLETE (4), not PASS.
            good: Ok((v(&["simulate", "--preset", "tiny", "--walks", "20"]), 4)),
            bad: v(&["simulate", "--preset", "tiny", "--walks", "0"]),
            interrupted: Ok((v(&["simulate", "--preset", "default"]), Ends::Code(4))),
        },
        Case {
            name: "explore",
            good: Err("serves until stopped: its good run is the interrupted one"),
            bad: v(&["explore", "--preset", "mainnet"]),
            interrupted: Ok((
                v(&["explore", "--preset", "tiny", "--listen", "127.0.0.1:0"]),
                Ends::Signal,
            )),
        },
        Case {
            name: "report",
            good: Ok((v(&["report", "--preset", "tiny", "--out", &p("report")]), 0)),
            bad: v(&[
                "report",
                "--preset",
                "tiny",
                "--out",
                &p("r2"),
                "--seeds",
                "3..=1",
            ]),
            interrupted: Ok((
                v(&["report", "--preset", "small", "--out", &p("r3")]),
                Ends::Code(130),
            )),
        },
        Case {
            name: "sweep",
            good: Ok((v(&["sweep", "--preset", "tiny", "--absent", "0"]), 0)),
            bad: v(&["sweep", "--preset", "tiny", "--absent", "9"]),
            interrupted: Ok((
                v(&["sweep", "--preset", "small", "--absent", "0"]),
                Ends::Code(4),
            )),
        },
        Case {
            name: "export",
            good: Ok((v(&["export", "--preset", "tiny", "--out", &p("traces")]), 0)),
            bad: v(&["export", "--preset", "mainnet", "--out", &p("t2")]),
            interrupted: Ok((
                v(&["export", "--preset", "default", "--out", &p("t3")]),
                Ends::Code(130),
            )),
        },
        Case {
            name: "conform",
            good: Ok((v(&["conform", suite]), 0)),
            bad: v(&["conform", &p("no-such-dir")]),
            interrupted: Ok((v(&["conform", &p("many"), "--threads", "1"]), Ends::Signal)),
        },
        Case {
            name: "adapter",
            good: Ok((v(&["adapter"]), 0)),
            bad: v(&["adapter", "surplus-argument"]),
            interrupted: Err("reads its stdin: covered by `conform --adapter` tests"),
        },
        Case {
            name: "completions",
            good: Ok((v(&["completions", "bash"]), 0)),
            bad: v(&["completions", "no-such-shell"]),
            interrupted: Err("prints a script at once: nothing to interrupt"),
        },
        Case {
            name: "genesis",
            good: Ok((v(&["genesis", "--nodes", "4", "--out", &p("g")]), 0)),
            bad: v(&["genesis", "--nodes", "4", "--out", net]),
            interrupted: Err("writes a few files at once: nothing to interrupt"),
        },
        Case {
            name: "node",
            good: Err("runs until stopped: its good run is the interrupted one"),
            bad: v(&["node", "--config", &p("no-such-node.toml")]),
            // Its durable state is made for kill -9: SIGINT ends it like any signal.
            interrupted: Ok((v(&["node", "--config", node]), Ends::Signal)),
        },
        Case {
            name: "testnet",
            good: Ok((v(&["testnet", "--nodes", "4", "--duration", "5"]), 0)),
            bad: v(&["testnet", "--nodes", "4", "--duration", "0"]),
            interrupted: Ok((
                v(&["testnet", "--nodes", "4", "--duration", "60"]),
                Ends::Code(130),
            )),
        },
        Case {
            name: "odds",
            good: Ok((v(&["odds", "--samples", "200"]), 0)),
            bad: v(&["odds", "--committee", "0"]),
            interrupted: Ok((v(&["odds", "--samples", "100000000"]), Ends::Signal)),
        },
        Case {
            name: "inspect",
            good: Ok((v(&["inspect", net]), 0)),
            bad: v(&["inspect", &p("no-such-dir")]),
            interrupted: Err("reads a few files at once: nothing to interrupt"),
        },
        Case {
            name: "campaign",
            good: Ok((v(&["campaign", "--messages", "200"]), 0)),
            bad: v(&["campaign", "--threads", "0"]),
            interrupted: Ok((v(&["campaign", "--messages", "1000000000"]), Ends::Signal)),
        },
        Case {
            name: "soak",
            good: Err("minutes of kill -9 per run: the long soak test and docs/tests.md"),
            bad: v(&["soak", "--nodes", "1"]),
            interrupted: Ok((
                v(&["soak", "--nodes", "4", "--kills", "50", "--dir", &p("soak")]),
                Ends::Code(130),
            )),
        },
        Case {
            name: "degrade",
            // The cheap run the JSON tests use too.
            good: Ok((cheap_run(p, net, "sa-degrade-sortition/1"), 0)),
            bad: v(&["degrade", "--sortition", "--absent", "120"]),
            interrupted: Ok((
                v(&["degrade", "--nodes", "4", "--plot", &p("d2.png")]),
                Ends::Code(130),
            )),
        },
    ]
}

#[test]
fn every_subcommand_on_good_bad_and_interrupted_input_gives_the_table_s_code() {
    let dir = tempfile::tempdir().unwrap();
    let p = |s: &str| dir.path().join(s).to_string_lossy().into_owned();
    let net = p("net");
    let (code, _, err) = sa(&["genesis", "--nodes", "4", "--out", &net]);
    assert_eq!(code, 0, "{err}");
    let node = format!("{net}/node0.toml");
    // A suite long enough to interrupt (the default suite 40 times: about 30 s on one thread).
    let default_suite = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/traces/default");
    std::fs::create_dir(p("many")).unwrap();
    for f in std::fs::read_dir(default_suite).unwrap() {
        let f = f.unwrap().path();
        let name = f.file_name().unwrap().to_string_lossy().into_owned();
        for k in 0..40 {
            std::fs::copy(&f, p(&format!("many/{k:02}-{name}"))).unwrap();
        }
    }
    let cases = cases(&p, &net, &node);
    // Every subcommand has its case, and no case names a subcommand that is gone.
    let names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    for c in subcommands() {
        assert!(
            names.contains(&c.as_str()),
            "sa {c} has no case here: say what its good, bad and interrupted runs are"
        );
    }
    assert_eq!(names.len(), subcommands().len());

    for c in &cases {
        if let Ok((args, want)) = &c.good {
            let a: Vec<&str> = args.iter().map(String::as_str).collect();
            let (code, _, err) = sa(&a);
            assert_eq!(code, *want, "good input: sa {}: {err}", args.join(" "));
        }
        let a: Vec<&str> = c.bad.iter().map(String::as_str).collect();
        let (code, _, err) = sa(&a);
        assert_eq!(code, 2, "bad input: sa {}: {err}", c.bad.join(" "));
        assert!(
            !err.trim().is_empty(),
            "bad input: sa {}: says nothing",
            c.bad.join(" ")
        );
    }

    // The interrupted runs, all at once (each is stopped after a few seconds).
    let runs: Vec<(&Case, &Vec<String>, Ends)> = cases
        .iter()
        .filter_map(|c| c.interrupted.as_ref().ok().map(|(a, e)| (c, a, *e)))
        .collect();
    assert!(runs.len() >= 12, "{}", runs.len());
    std::thread::scope(|s| {
        let handles: Vec<_> = runs
            .iter()
            .map(|(c, args, want)| {
                s.spawn(move || {
                    use std::os::unix::process::ExitStatusExt;
                    let a: Vec<&str> = args.iter().map(String::as_str).collect();
                    let (status, _, err) = interrupt_after(&a, Duration::from_secs(3));
                    let (code, signal) = (status.code(), status.signal());
                    let got = match (code, signal) {
                        (Some(c), _) => Ends::Code(c),
                        _ => {
                            assert_eq!(signal, Some(2), "sa {}: {err}", c.name);
                            Ends::Signal
                        }
                    };
                    (c.name, *want, got, err)
                })
            })
            .collect();
        let wrong: Vec<String> = handles
            .into_iter()
            .map(|h| h.join().expect("no panic"))
            .filter(|(_, want, got, _)| got != want)
            .map(|(name, want, got, err)| format!("sa {name}: {got:?}, not {want:?}: {err}"))
            .collect();
        assert!(wrong.is_empty(), "interrupted:\n{}", wrong.join("\n"));
    });
    // Nothing half-written: the interrupted export left its directory as it found it.
    assert!(std::fs::read_dir(p("t3")).is_err_and(|e| e.kind() == std::io::ErrorKind::NotFound));
}
