//! `sa check` as a user runs it: exit codes, JSON, messages.

use std::process::Command;

mod common;

use common::sa;

/// The README's main command: every property holds and every witness is reached except
/// LIVE-NO-STALL, which Dusk's suspension rule violates (the suspension stall: exit 1). The
/// README's main command: its state counts are pinned here (any change of the state space must
/// be noticed and the count updated on purpose, with the reason in the commit), which the
/// library-level pins of `checker/tests/model_state_counts.rs` leave to this test rather than
/// search the default preset twice.
#[test]
fn default_preset_reports_only_the_suspension_stall_with_exit_1_and_json() {
    let (code, out, _) = sa(&["check", "--json"]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["verdict"], "VIOLATED");
    assert_eq!(v["exhaustive"], true);
    assert_eq!(v["unique_states"], 13_127_694);
    // Generated states (transitions), counted per block by the vendored checker
    // (vendor/stateright/PATCHES.md): exact, as the per-state count is.
    assert_eq!(v["total_states"], 46_034_380);
    assert_eq!(v["liveness"]["unbounded_states"], 12_976_292);
    // Per-round liveness is proven: the rank rose on every transition, bounded and unbounded.
    assert_eq!(v["liveness"]["rank_violations"], 0);
    assert_eq!(v["liveness"]["unbounded_rank_violations"], 0);
    let c = &v["config"]["protocol"];
    assert_eq!(c["committee_credits"], 5, "SM != M: C = 5 gives 4 / 3");
    assert!(c["rounds"].as_u64().unwrap() >= 3);
    let bounds: Vec<&str> = v["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b.as_str().unwrap())
        .collect();
    for needle in [
        "SM = 4, M = 3",
        "Byzantine: none",
        "absent: at most 1",
        "GST: round 2",
        "every timer",
    ] {
        assert!(
            bounds.iter().any(|b| b.contains(needle)),
            "{needle}: {bounds:?}"
        );
    }
    for p in v["properties"].as_array().unwrap() {
        let s = p["status"].as_str().unwrap();
        if p["id"] == "LIVE-NO-STALL" {
            assert_eq!(s, "violated");
            let note = p["note"].as_str().unwrap_or_default();
            assert!(note.contains("suspended"), "{note}");
            continue;
        }
        assert!(
            s == "holds" || s == "witnessed" || s == "not_applicable",
            "{}: {s}",
            p["id"]
        );
    }
}

#[test]
fn byzantine_presets_report_the_fork_and_its_evidence() {
    for (preset, relation, fork) in [
        // At the bound: two outcomes of one iteration, no Final fork (TALLY-4).
        ("byzantine", "within the bound", "holds"),
        ("byzantine-over", "PAST the bound", "violated"),
    ] {
        let (code, out, _) = sa(&["check", "--preset", preset, "--json", "--no-shorten"]);
        assert_eq!(code, 1, "{preset}: VIOLATED");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["verdict"], "VIOLATED");
        assert_eq!(v["exhaustive"], true);
        let status = |id: &str| {
            common::property(&v, id)["status"]
                .as_str()
                .unwrap()
                .to_owned()
        };
        assert_eq!(status("SAFE-ONE-OUTCOME"), "violated", "{preset}");
        assert_eq!(status("SAFE-FINAL-AGREEMENT"), fork, "{preset}");
        assert_eq!(status("ACC-FORK-EVIDENCE"), "holds", "{preset}");
        assert_eq!(status("WIT-EQUIVOCATION-DETECTED"), "witnessed", "{preset}");
        assert!(out.contains(relation), "{preset}");
    }
}

#[test]
fn a_mutation_without_effect_is_vacuous_with_exit_3() {
    let (code, out, _) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "dusk-two-eligible",
    ]);
    assert_eq!(code, 3, "{out}");
    assert!(
        out.contains("NO EFFECT: mutation(s) dusk-two-eligible"),
        "{out}"
    );
    assert!(out.contains("VACUOUS"), "{out}");
}

#[test]
fn a_mutation_gives_exit_1_and_a_counterexample() {
    let (code, out, _) = sa(&["check", "--preset", "tiny", "--mutation", "double-vote"]);
    assert_eq!(code, 1);
    assert!(out.contains("SAFE-VOTE-UNIQUE"));
    assert!(out.contains("VIOLATED"));
    assert!(out.contains("Counterexample for SAFE-VOTE-UNIQUE"));
    assert!(out.contains("votes AGAIN in Validation"));
    assert!(
        out.contains("=> SAFE-VOTE-UNIQUE VIOLATED after step"),
        "{out}"
    );
    // By default each step is one line ending in what it changed in the actor's belief;
    // --full lists every node's whole belief after every step.
    let (_, full, _) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "double-vote",
        "--full",
    ]);
    let numbered = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.trim_start()
                    .split('.')
                    .next()
                    .is_some_and(|n| n.parse::<u32>().is_ok())
            })
            .map(str::to_owned)
            .collect()
    };
    let steps = numbered(&out);
    assert!(steps.len() > 2, "{out}");
    assert_eq!(numbered(&full).len(), steps.len(), "{full}");
    let belief_lines = |text: &str| text.lines().filter(|l| l.starts_with("        P")).count();
    // 4 nodes: every node after every step and in the initial state in full; compact: the
    // initial state grouped, nothing else.
    assert_eq!(belief_lines(&full), 4 * steps.len(), "{full}");
    assert!(belief_lines(&out) <= 4, "{out}");
    // Every step but the initial state says what it changed, or that it changed nothing (the
    // late re-vote changes no belief).
    for l in &steps[1..] {
        assert!(
            l.contains("  => ") || l.contains("(no node's belief changed)"),
            "{l}"
        );
    }
    assert!(out.contains("(no node's belief changed)"), "{out}");
    assert!(out.contains("draws met (seeded sortition"), "{out}");
}

/// After a violation the report leads with the verdict and the violated properties, then the
/// story of the first one; `--table` gives the whole report.
#[test]
fn a_violation_is_told_as_a_story_verdict_first() {
    let (code, out, _) = sa(&["check", "--preset", "tiny", "--mutation", "double-vote"]);
    assert_eq!(code, 1);
    let first = out.lines().next().unwrap_or_default();
    assert!(first.ends_with("verdict VIOLATED"), "{out}");
    assert!(out.contains("VIOLATED  SAFE-VOTE-UNIQUE: "), "{out}");
    assert!(
        out.contains("other safety and liveness properties hold"),
        "{out}"
    );
    // No property table, no bounds: the story is short.
    assert!(
        !out.contains("SAFE-FINAL-AGREEMENT          safety"),
        "{out}"
    );
    assert!(
        out.lines().count() < 45,
        "{} lines:\n{out}",
        out.lines().count()
    );
    let (code, table, _) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "double-vote",
        "--table",
    ]);
    assert_eq!(code, 1);
    assert!(
        table.contains("SAFE-FINAL-AGREEMENT          safety   holds"),
        "{table}"
    );
    assert!(table.contains("rounds: "), "the bounds: {table}");
    assert!(
        table.contains("Counterexample for SAFE-VOTE-UNIQUE"),
        "{table}"
    );
}

/// `--chart` writes the counterexample as a message sequence chart: one lane per provisioner,
/// one mark per step, the violating step highlighted; `--chart-for` draws a witness path; a
/// chart into a missing directory is refused before the search.
#[test]
fn chart_writes_the_counterexample_as_svg() {
    let dir = std::env::temp_dir().join(format!("sa-chart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("cx.svg");
    let f = file.to_str().unwrap();
    let (code, out, err) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--mutation",
        "double-vote",
        "--chart",
        f,
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("wrote the chart of the counterexample for SAFE-VOTE-UNIQUE"),
        "{err}"
    );
    let svg = std::fs::read_to_string(&file).unwrap();
    let steps = out
        .lines()
        .filter(|l| {
            l.trim_start()
                .split('.')
                .next()
                .is_some_and(|n| n.parse::<u32>().is_ok_and(|n| n > 0))
        })
        .count();
    assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    assert_eq!(svg.matches("class=\"sa-step\"").count(), steps, "{svg}");
    assert_eq!(svg.matches("class=\"sa-ending\"").count(), 1);
    assert!(svg.contains("#c62828"), "the violation in red");
    for p in ["P0", "P1", "P2", "P3"] {
        assert!(svg.contains(&format!(">{p}</text>")), "lane {p}");
    }
    assert!(
        svg.contains("votes AGAIN in Validation"),
        "the step in the spec's words"
    );
    // A witness path, on request.
    let (code, _, err) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--chart",
        f,
        "--chart-for",
        "WIT-FALLBACK",
    ]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(&file).unwrap();
    assert!(svg.contains("WIT-FALLBACK witnessed"), "{svg}");
    assert!(
        svg.contains("class=\"sa-final\"") || svg.contains("falls back"),
        "{svg}"
    );
    // Nothing violated and nothing named (issue 33's row "`sa check --chart c.svg` on a
    // passing run"): PASS, exit 0, a warning that no chart was written.
    let (code, out, err) = sa(&["check", "--preset", "tiny", "--chart", f]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.trim_end()
            .ends_with("every applicable witness is reachable"),
        "{out}"
    );
    assert!(
        err.contains("warning: no chart written") && err.contains("no property is violated"),
        "{err}"
    );
    // An unknown ID, and a missing directory: refused before any search.
    let (code, out, err) = sa(&["check", "--chart", f, "--chart-for", "SAFE-NOPE"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("SAFE-NOPE") && err.contains("not a property ID"),
        "{err}"
    );
    assert!(out.is_empty());
    let (code, out, err) = sa(&["check", "--chart", "/nonexistent/dir/x.svg"]);
    assert_eq!(code, 2);
    assert!(err.contains("does not exist"), "{err}");
    assert!(out.is_empty());
    std::fs::remove_dir_all(&dir).ok();
}

/// `sa check --help` names every built-in preset.
#[test]
fn help_names_every_preset() {
    let (code, out, _) = sa(&["check", "--help"]);
    assert_eq!(code, 0);
    let line = out
        .lines()
        .find(|l| l.contains("Built-in preset to check"))
        .expect("the --preset line");
    for name in sa_model::Config::preset_names() {
        assert!(line.contains(name), "{name}: {line}");
    }
}

/// `--list-mutations` names every mutation, what it breaks, the property it violates, its
/// preset and the command to see it.
#[test]
fn list_mutations_names_each_with_its_property_and_preset() {
    let (code, out, _) = sa(&["check", "--list-mutations"]);
    assert_eq!(code, 0);
    for m in sa_model::Mutation::ALL {
        assert!(
            out.contains(&format!("\n{}\n    breaks:", m.name()))
                || out.contains(&format!("{}\n    breaks:", m.name())),
            "{}",
            m.name()
        );
        assert!(out.contains(&m.summary()), "{}", m.name());
    }
    for (m, property, _) in sa_model::mutations::INTENDED {
        let line = out
            .split(&format!("{}\n", m.name()))
            .nth(1)
            .and_then(|rest| rest.lines().nth(1))
            .unwrap_or_default();
        assert!(line.contains(property), "{}: {line}", m.name());
        assert!(line.contains(&format!("(preset {})", m.preset())), "{line}");
    }
    assert!(
        out.contains("run:      sa check --preset byzantine --mutation dusk-async-own-vote"),
        "{out}"
    );
}

#[test]
fn a_cut_search_gives_exit_4_and_says_so() {
    let (code, out, _) = sa(&["check", "--max-states", "10"]);
    assert_eq!(code, 4);
    assert!(
        out.contains("NOT exhaustive: state limit 10 reached"),
        "{out}"
    );
    assert!(out.contains("INCOMPLETE"), "{out}");
    let (code, out, _) = sa(&[
        "check",
        "--preset",
        "small",
        "--all-draws",
        "--max-states",
        "1000",
    ]);
    assert_eq!(code, 4, "the limit applies to the whole sweep");
    assert!(out.contains("draw classes)"), "{out}");
}

/// Ctrl-C (SIGINT) stops the search and prints the partial report, INCOMPLETE, exit 4.
#[test]
fn ctrl_c_prints_the_partial_report_marked_incomplete() {
    let child = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(["check", "--threads", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run sa");
    // The default preset's search takes tens of seconds; interrupt it once it is under way.
    std::thread::sleep(std::time::Duration::from_secs(3));
    let killed = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(killed.success());
    let out = child.wait_with_output().expect("wait");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(4), "{text}");
    assert!(
        text.contains("NOT exhaustive: interrupted (Ctrl-C)"),
        "{text}"
    );
    assert!(text.contains("holds so far"), "{text}");
    assert!(
        text.trim_end().ends_with("nothing violated in what it saw"),
        "{text}"
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

    // M above SM: refused, naming the field and both values.
    std::fs::write(
        &path,
        text.replace("majority = 3", "").replace(
            "[protocol]\n",
            "[protocol]\nsupermajority = 3\nmajority = 4\n",
        ),
    )
    .unwrap();
    let (code, _, err) = sa(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("protocol.majority") && err.contains("M = 4") && err.contains("SM = 3"),
        "{err}"
    );

    // --help lists every mutation with the property it breaks and its preset.
    let (code, help, _) = sa(&["check", "--help"]);
    assert_eq!(code, 0);
    for m in sa_model::Mutation::ALL {
        assert!(help.contains(&m.name()), "{} missing from --help", m.name());
    }
    assert!(help.contains("SAFE-FINAL-AGREEMENT (byzantine)"), "{help}");
}

#[test]
fn a_config_file_is_named_after_itself_and_an_edited_preset_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let (_, text, _) = sa(&["check", "--preset", "tiny", "--print-config"]);
    // No name: the file's stem.
    let path = dir.path().join("my-run.toml");
    std::fs::write(&path, text.replace("name = \"tiny\"\n", "")).unwrap();
    let (code, out, err) = sa(&["check", "--config", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("configuration `my-run`"), "{out}");
    // The preset's name on other parameters: marked as edited, with the file.
    let edited = dir.path().join("edited.toml");
    std::fs::write(&edited, text.replace("seed = 5", "seed = 6")).unwrap();
    let (_, out, _) = sa(&["check", "--config", edited.to_str().unwrap()]);
    assert!(out.contains("configuration `tiny (edited,"), "{out}");
    // The preset unchanged: its own name.
    let same = dir.path().join("same.toml");
    std::fs::write(&same, &text).unwrap();
    let (_, out, _) = sa(&["check", "--config", same.to_str().unwrap()]);
    assert!(out.contains("configuration `tiny`,"), "{out}");
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
    assert_eq!(v["unique_states"], 186134);
    // tiny has one round: WIT-FINAL is not applicable there (said, not hidden), so it passes.
    assert_eq!(code, 0);
    assert!(out.contains("needs more rounds"));
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
    assert_eq!(code, 0);

    let (_, out, _) = sa(&[
        "check",
        "--preset",
        "two-eligible",
        "--all-draws",
        "--mutation",
        "dusk-two-eligible",
    ]);
    assert!(
        out.contains("VIOLATED  SAFE-COMMITTEE-WELLFORMED: "),
        "{out}"
    );
    assert!(out.contains("draw classes"), "{out}");
}

#[test]
fn a_seed_sweep_merges_and_names_the_seed_of_each_violation() {
    // Seeds 47 and 48 of byzantine-over: only 48 gives a fork of Final blocks.
    let (code, out, _) = sa(&[
        "check",
        "--preset",
        "byzantine-over",
        "--seeds",
        "47..=48",
        "--no-shorten",
        "--json",
    ]);
    assert_eq!(code, 1, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "VIOLATED");
    assert_eq!(v["seeds"], serde_json::json!([47, 48]));
    assert_eq!(v["exhaustive"], true);
    let prop = |id: &str| {
        v["properties"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["id"] == id)
            .unwrap()
            .clone()
    };
    let fork = prop("SAFE-FINAL-AGREEMENT");
    assert_eq!(fork["status"], "violated");
    assert_eq!(fork["note"], "seed 48");
    assert_eq!(prop("ACC-FORK-EVIDENCE")["status"], "holds");
    assert!(v["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|b| b.as_str().unwrap().contains("every seed 47..=48")));
    for bad in ["9..=3", "x..=3", "3"] {
        let (code, _, err) = sa(&["check", "--preset", "tiny", "--seeds", bad]);
        assert_eq!(code, 2, "{bad}");
        assert!(err.contains("--seeds"), "{err}");
    }
}

#[test]
fn export_then_conform_passes_and_bad_traces_fail_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tiny");
    let run = sa;
    let (code, text, err) = run(&[
        "export",
        "--preset",
        "tiny",
        "--out",
        out.to_str().unwrap(),
        "--random",
        "3",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        text.contains("coverage: 18 of 18 reachable classes"),
        "{text}"
    );
    let (code, text, _) = run(&["conform", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(
        text.contains("0 failed") && text.trim_end().ends_with("PASS"),
        "{text}"
    );
    // A second export into the same directory is refused; an unknown preset is bad input.
    assert_eq!(run(&["export", "--out", out.to_str().unwrap()]).0, 2);
    assert_eq!(
        run(&[
            "export",
            "--preset",
            "nope",
            "--out",
            dir.path().join("x").to_str().unwrap()
        ])
        .0,
        2
    );
    // An empty directory checks nothing: bad input (exit 2), said so.
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, text, _) = run(&["conform", empty.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(text.contains("no .itf.json trace"), "{text}");
    // A truncated trace and a wrong version are reported by file; the others still run.
    let first = std::fs::read_dir(&out)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let text0 = std::fs::read_to_string(&first).unwrap();
    std::fs::write(out.join("zz-truncated.itf.json"), &text0[..text0.len() / 2]).unwrap();
    std::fs::write(
        out.join("zz-version.itf.json"),
        text0.replace("\"sa-conformance/", "\"sa-conformance/9"),
    )
    .unwrap();
    let (code, text, _) = run(&["conform", out.to_str().unwrap(), "--json"]);
    assert_eq!(code, 2, "files that are not traces are bad input");
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["verdict"], "BAD INPUT", "{v}");
    assert_eq!(v["failed"], 2, "{v}");
    assert!(v["passed"].as_u64().unwrap() > 10);
    let errors = v["failures"].to_string();
    assert!(
        errors.contains("zz-truncated") && errors.contains("not JSON"),
        "{errors}"
    );
    assert!(
        errors.contains("zz-version") && errors.contains("format_version"),
        "{errors}"
    );
}

/// Issue 33's row "`sa conform` on a truncated trace, `{}` or an empty folder": bad input is
/// exit 2, and only a real non-conformance is exit 1.
#[test]
fn conform_tells_bad_input_from_a_non_conformance() {
    let dir = tempfile::tempdir().unwrap();
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/traces/default");
    let first = std::fs::read_dir(suite)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".itf.json"))
        .min()
        .unwrap();
    let text = std::fs::read_to_string(&first).unwrap();
    let put = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    for (name, body) in [
        ("truncated.itf.json", &text[..text.len() / 3]),
        ("empty-object.itf.json", "{}"),
    ] {
        let (code, out, _) = sa(&["conform", &put(name, body)]);
        assert_eq!(code, 2, "{name}: {out}");
        assert!(out.trim_end().ends_with("BAD INPUT"), "{out}");
    }
    // The same trace with one expected field altered: the implementation does not conform.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let last = v["states"].as_array_mut().unwrap().last_mut().unwrap();
    last["node"]["iteration"] = serde_json::json!({"#bigint": "7"});
    let (code, out, _) = sa(&["conform", &put("altered.itf.json", &v.to_string())]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("iteration") && out.trim_end().ends_with("FAILED"),
        "{out}"
    );
    // And the unaltered trace passes.
    let (code, out, _) = sa(&["conform", first.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_suite_runs_through_the_json_lines_adapter_too() {
    let sa = env!("CARGO_BIN_EXE_sa");
    let suite = concat!(env!("CARGO_MANIFEST_DIR"), "/../conformance/traces/default");
    let o = std::process::Command::new(sa)
        .args([
            "conform",
            suite,
            "--json",
            "--adapter",
            &format!("{sa} adapter"),
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(o.status.code(), Some(0), "{v}");
    assert_eq!(v["failed"], 0);
    assert!(v["passed"].as_u64().unwrap() >= 100);
    // An adapter that answers nothing fails every trace, with the reason.
    let o = std::process::Command::new(sa)
        .args(["conform", suite, "--json", "--adapter", "true"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["passed"], 0);
    assert!(v["failures"].to_string().contains("adapter"), "{v}");
}

/// `sa degrade` refuses a plot path in a missing directory before running any testnet.
#[test]
fn degrade_refuses_a_plot_in_a_missing_directory_before_any_run() {
    let (code, out, err) = sa(&["degrade", "--plot", "/nonexistent/dir/x.png"]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("/nonexistent/dir") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!err.contains("absent ..."), "a run started: {err}");
    assert!(out.is_empty());
    let (code, _, err) = sa(&[
        "degrade",
        "--plot",
        "/tmp/x.png",
        "--csv",
        "/nonexistent/d/x.csv",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("--csv") && err.contains("does not exist"),
        "{err}"
    );
    assert!(!err.contains("absent ..."), "a run started: {err}");
}

/// `--witnesses` prints the path to each witness reached, in the counterexamples' form;
/// without it the report has none.
#[test]
fn witness_paths_are_printed_on_request() {
    let (code, out, _) = sa(&["check", "--preset", "tiny", "--witnesses"]);
    assert_eq!(code, 0);
    assert!(out.contains("Witness for WIT-FALLBACK ("), "{out}");
    assert!(
        out.contains("=> WIT-FALLBACK WITNESSED after step"),
        "{out}"
    );
    assert!(out.contains("falls back: replaces"), "{out}");
    let (_, plain, _) = sa(&["check", "--preset", "tiny"]);
    assert!(!plain.contains("Witness for"), "{plain}");
}

/// `sa degrade --sortition`: the mainnet-scale table from the spec's sortition, with its CSV
/// and plot; bad percentages refused before any work.
#[test]
fn degrade_sortition_computes_the_table_csv_and_plot() {
    let dir = tempfile::tempdir().unwrap();
    let (png, csv) = (dir.path().join("d.png"), dir.path().join("d.csv"));
    let (code, out, err) = sa(&[
        "degrade",
        "--sortition",
        "--samples",
        "300",
        "--absent",
        "0,20,40",
        "--plot",
        png.to_str().unwrap(),
        "--csv",
        csv.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let p: Vec<f64> = rows.iter().map(|r| r["p_good"].as_f64().unwrap()).collect();
    assert_eq!(p[0], 1.0);
    assert!(p[0] > p[1] && p[1] > p[2], "{p:?}");
    let its: Vec<f64> = rows
        .iter()
        .map(|r| r["mean_iterations"].as_f64().unwrap())
        .collect();
    assert!(its[0] == 1.0 && its[2] > its[1], "{its:?}");
    assert_eq!(v["params"]["committee_credits"], 64);
    assert!(std::fs::read(&png).unwrap().starts_with(b"\x89PNG"));
    assert_eq!(std::fs::read_to_string(&csv).unwrap().lines().count(), 4);
    let (code, _, err) = sa(&["degrade", "--sortition", "--absent", "0,120"]);
    assert_eq!(code, 2);
    assert!(err.contains("--absent 120"), "{err}");
}

/// `--reduce`: the reduced search says how many states it cut, prints the bound, and reports a
/// property it does not preserve as not settled (verdict INCOMPLETE, exit 4), never as holding.
#[test]
fn reduce_reports_what_it_cannot_settle() {
    let (code, out, _) = sa(&["check", "--preset", "tiny", "--reduce", "--json"]);
    assert_eq!(code, 4, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["exhaustive"], true);
    assert_eq!(v["unique_states"], 38_554);
    assert!(v["reduced_states"].as_u64().unwrap() > 0);
    let bounds = v["bounds"].to_string();
    assert!(bounds.contains("partial-order reduction"), "{bounds}");
    let status = |id: &str| {
        let p = common::property(&v, id);
        (p["status"].as_str().unwrap().to_owned(), p["note"].clone())
    };
    let (s, note) = status("SAFE-FINAL-PRIOR-ITERATIONS");
    assert_eq!(s, "inconclusive");
    assert!(note.to_string().contains("does not preserve"), "{note}");
    assert_eq!(status("SAFE-FINAL-AGREEMENT").0, "holds");
    assert_eq!(status("SAFE-FINAL-NO-REVERT").0, "holds");
    // The text report says why it is incomplete: not a limit, the properties left unsettled.
    let (code, out, _) = sa(&["check", "--preset", "tiny", "--reduce"]);
    assert_eq!(code, 4, "{out}");
    assert!(
        out.contains(
            "INCOMPLETE: every reachable state was visited, but 6 properties are not settled"
        ),
        "{out}"
    );
    assert!(!out.contains("a limit cut the search"), "{out}");
    // Without it, the same preset passes: the reduction is opt-in.
    let (code, _, _) = sa(&["check", "--preset", "tiny", "--json"]);
    assert_eq!(code, 0);
    // State merging keeps every verdict: PASS, fewer states, and the report says what it did.
    let (code, out, _) = sa(&["check", "--preset", "tiny", "--merge-states", "--json"]);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(v["unique_states"], 116_276);
    assert!(v["merged_states"].as_u64().unwrap() > 0);
    assert!(v["bounds"].to_string().contains("state merging"));
}

/// `--shard I/N` then `--merge`: each shard alone is INCOMPLETE (exit 4), the merge of all of
/// them gives the unsharded verdict; a merge with one missing is INCOMPLETE, a file that is no
/// shard report is bad input (exit 2).
#[test]
fn shards_merge_to_the_unsharded_verdict() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let mut files = Vec::new();
    for i in 1..=3 {
        let shard = format!("{i}/3");
        let (code, out, _) = sa(&[
            "check",
            "--preset",
            "tiny",
            "--no-unbounded",
            "--shard",
            &shard,
            "--shard-depth",
            "6",
            "--json",
        ]);
        assert_eq!(code, 4, "{out}");
        let f = dir.path().join(format!("part-{i}.json"));
        std::fs::write(&f, out).expect("write");
        files.push(f.display().to_string());
    }
    let merge = |files: &[String]| {
        let mut args = vec!["check", "--json", "--merge"];
        args.extend(files.iter().map(String::as_str));
        sa(&args)
    };
    let (code, out, _) = merge(&files);
    assert_eq!(code, 0, "{out}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["verdict"], "PASS");
    assert_eq!(v["merged_shards"], 3);
    let (code, out, _) = merge(&files[..2]);
    assert_eq!(code, 4, "{out}");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{}").expect("write");
    let (code, _, err) = merge(&[bad.display().to_string()]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.json"), "{err}");
}
