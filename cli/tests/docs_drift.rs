//! The lists the code knows, in the docs, cannot drift from the code:
//!
//! - docs/cli.md is every subcommand's `--help`, exactly (regenerate with
//!   `UPDATE_DOCS=1 cargo test --release -p sa-cli --test docs_drift`);
//! - docs/mutations.md is `sa check --list-mutations`, exactly (same);
//! - the README's preset table has one row per preset, in the code's order, and on the presets
//!   cheap enough to check here its verdict and unique-state count are what `sa check` says
//!   (the others: scripts/long-checks.sh);
//! - every field of `sa check --json` (top level, per property) is named in docs/auditors.md.
//!
//! Each check is shown able to fail on an edited copy of its input.

mod common;

use std::path::{Path, PathBuf};

use common::{sa, subcommands};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// docs/cli.md as the binary would write it.
fn cli_reference() -> String {
    let mut out = String::from(
        "# The `sa` command: every subcommand's flags\n\n\
         Generated from `sa <command> --help` and checked against the binary by\n\
         `cli/tests/docs_drift.rs` (regenerate: `UPDATE_DOCS=1 cargo test --release -p sa-cli\n\
         --test docs_drift`). Every help ends with the one exit-code table\n\
         (`cli/tests/exit_codes.rs` runs every subcommand against it).\n",
    );
    for c in subcommands() {
        let (code, help, _) = sa(&[&c, "--help"]);
        assert_eq!(code, 0, "sa {c} --help");
        out.push_str(&format!(
            "\n## `sa {c}`\n\n```text\n{}\n```\n",
            help.trim_end()
        ));
    }
    out
}

/// docs/mutations.md as the binary would write it.
fn mutation_reference() -> String {
    let (code, list, _) = sa(&["check", "--list-mutations"]);
    assert_eq!(code, 0);
    format!(
        "# Broken variants (mutations)\n\n\
         Generated from `sa check --list-mutations` and checked against it by\n\
         `cli/tests/docs_drift.rs` (regenerate: `UPDATE_DOCS=1 cargo test --release -p sa-cli\n\
         --test docs_drift`). Each is shown to violate the properties listed, on the preset\n\
         named, by `checker/tests/model_mutations.rs` (some in scripts/long-checks.sh).\n\n\
         ```text\n{}\n```\n",
        list.trim_end()
    )
}

/// Compares `rel` with `want`; rewrites it under UPDATE_DOCS=1. Err: where they first differ.
fn golden(rel: &str, want: &str) -> Result<(), String> {
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(root().join(rel), want).expect("writable");
        return Ok(());
    }
    let have = std::fs::read_to_string(root().join(rel)).unwrap_or_default();
    first_difference(&have, want).map_or(Ok(()), |(n, h, w)| {
        Err(format!(
            "{rel} differs from the code at line {n}:\n  file: {h}\n  code: {w}\n\
             regenerate with `UPDATE_DOCS=1 cargo test --release -p sa-cli --test docs_drift`"
        ))
    })
}

/// The first line where `have` and `want` differ: (line number, have's, want's).
fn first_difference(have: &str, want: &str) -> Option<(usize, String, String)> {
    let (mut h, mut w) = (have.lines(), want.lines());
    for n in 1.. {
        match (h.next(), w.next()) {
            (None, None) => return None,
            (a, b) if a == b => {}
            (a, b) => {
                return Some((
                    n,
                    a.unwrap_or("(end)").to_string(),
                    b.unwrap_or("(end)").to_string(),
                ))
            }
        }
    }
    None
}

#[test]
fn the_cli_reference_is_the_help_text() {
    let want = cli_reference();
    assert!(want.contains("## `sa check`") && want.contains("## `sa testnet`"));
    golden("docs/cli.md", &want).unwrap();
    // Shown able to fail: a flag dropped from the reference is a difference.
    let edited = want.replacen("--print-config", "--print-conf", 1);
    assert!(first_difference(&edited, &want).is_some());
}

#[test]
fn the_mutation_list_is_the_code_s() {
    let want = mutation_reference();
    for m in sa_model::Mutation::ALL {
        assert!(want.contains(&m.name()), "{} not listed", m.name());
    }
    golden("docs/mutations.md", &want).unwrap();
    let last = sa_model::Mutation::ALL.last().expect("mutations").name();
    let without_last: String = want
        .lines()
        .take_while(|l| *l != last)
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(first_difference(&without_last, &want).is_some());
}

/// The README's preset table: (preset, `sa check` column, unique states column).
fn preset_rows(readme: &str) -> Vec<(String, String, String)> {
    let table = readme
        .split("| preset | what it is | `sa check` | unique states |")
        .nth(1)
        .expect("the README has the preset table");
    table
        .lines()
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            (
                cells[0].trim_matches('`').to_string(),
                cells.get(2).unwrap_or(&"").to_string(),
                cells.get(3).unwrap_or(&"").to_string(),
            )
        })
        .collect()
}

/// Differences between the table's names and the code's presets.
fn preset_names_differ(rows: &[(String, String, String)]) -> Option<String> {
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let code = sa_model::Config::preset_names();
    (names != code).then(|| format!("README presets {names:?}, code {code:?}"))
}

#[test]
fn every_preset_has_its_row_and_the_cheap_ones_say_what_sa_check_says() {
    let rows = preset_rows(&read("README.md"));
    if let Some(d) = preset_names_differ(&rows) {
        panic!("{d}");
    }
    // Shown able to fail: a preset without its row.
    assert!(preset_names_differ(&rows[1..]).is_some());
    for preset in ["tiny", "two-eligible", "byzantine", "byzantine-over"] {
        row_agrees(&rows, preset);
    }
}

/// The preset lists in `--help` (every "Built-in preset ... (a, b, ...)") against the code's
/// presets, with the first list that differs.
fn help_preset_lists_differ(help: &str) -> Option<String> {
    let code = sa_model::Config::preset_names().join(", ");
    let lists: Vec<String> = help
        .split("Built-in preset")
        .skip(1)
        .filter_map(|rest| {
            let open = rest.find('(')?;
            let close = rest[open..].find(')')? + open;
            Some(
                rest[open + 1..close]
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect();
    if lists.is_empty() {
        return Some("no preset list in --help".into());
    }
    lists
        .into_iter()
        .find(|l| *l != code)
        .map(|l| format!("--help lists ({l}), the code has ({code})"))
}

#[test]
fn every_help_preset_list_is_the_code_s() {
    let help = cli_reference();
    if let Some(d) = help_preset_lists_differ(&help) {
        panic!("{d}: edit the doc comments of `--preset` (cli/src)");
    }
    // Shown able to fail: a list missing a preset.
    let short = help.replacen(", warnings", "", 1);
    assert!(help_preset_lists_differ(&short).is_some());
}

/// The sizes progress estimates use (`sa_checker::sizes::PRESET_STATES`) are the README's:
/// every row with a count has its pinned size and every pinned size its row.
#[test]
fn the_pinned_sizes_of_progress_estimates_are_the_readme_s() {
    let rows = preset_rows(&read("README.md"));
    let counted: Vec<(String, u64)> = rows
        .iter()
        .filter_map(|(name, _, states)| Some((name.clone(), states.replace(',', "").parse().ok()?)))
        .collect();
    let pinned: Vec<(String, u64)> = sa_checker::sizes::PRESET_STATES
        .iter()
        .map(|(n, c)| ((*n).to_string(), *c))
        .collect();
    assert_eq!(counted, pinned, "README preset table vs sa_checker::sizes");
    assert!(counted.len() >= 9);
}

#[test]
#[ignore = "long check (about 6 min on 2 cores): scripts/long-checks.sh"]
fn the_exhaustive_presets_too_say_what_the_readme_says() {
    let rows = preset_rows(&read("README.md"));
    for preset in [
        "default",
        "small",
        "emergency",
        "matured",
        "rejoin",
        "stall",
    ] {
        row_agrees(&rows, preset);
    }
}

/// The README row of `preset` against what `sa check --preset` says: the verdict, the first
/// violated property, the unique-state count.
fn row_agrees(rows: &[(String, String, String)], preset: &str) {
    let (_, verdict, states) = rows.iter().find(|r| r.0 == preset).expect("row");
    let (_, out, err) = sa(&["check", "--preset", preset, "--json", "--no-shorten"]);
    let v: serde_json::Value =
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{preset}: {e}\n{err}"));
    let want = v["verdict"].as_str().expect("verdict");
    assert!(
        verdict.starts_with(want),
        "{preset}: README says {verdict:?}, sa check {want}"
    );
    let n = v["unique_states"].as_u64().expect("count");
    assert_eq!(
        states.replace(',', "").parse::<u64>().ok(),
        Some(n),
        "{preset}: README says {states}"
    );
    if want == "VIOLATED" {
        let first = v["properties"]
            .as_array()
            .expect("properties")
            .iter()
            .find(|p| p["status"] == "violated")
            .and_then(|p| p["id"].as_str())
            .expect("a violated property");
        assert!(
            verdict.contains(first),
            "{preset}: {verdict:?} names {first}?"
        );
    }
}

/// JSON field names of `sa check --json` not named (in backticks) in `doc`.
fn undocumented_fields(v: &serde_json::Value, doc: &str) -> Vec<String> {
    let mut names: Vec<String> = v.as_object().expect("object").keys().cloned().collect();
    if let Some(p) = v["properties"].as_array().and_then(|a| a.first()) {
        names.extend(p.as_object().expect("object").keys().cloned());
    }
    names
        .into_iter()
        .filter(|n| !doc.contains(&format!("`{n}`")))
        .collect()
}

#[test]
fn every_json_field_of_sa_check_is_documented() {
    let (_, out, _) = sa(&["check", "--preset", "tiny", "--json"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let doc = read("docs/auditors.md");
    let missing = undocumented_fields(&v, &doc);
    assert!(missing.is_empty(), "not in docs/auditors.md: {missing:?}");
    assert_eq!(
        undocumented_fields(&v, &doc.replace("`verdict`", "verdict")),
        vec!["verdict".to_string()]
    );
}
