//! The CLI's layout: one module per subcommand under `cli/src/commands/`, each calling
//! libraries and the CLI's shared modules (`config_args`, `output`, `running`), never another
//! subcommand; and harnesses stay out of the node (sa-node's `src/` holds no simulator,
//! campaign or testnet driver: they live in sa-testkit).

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).expect("folder") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// Code without `//` comments.
fn code(path: &Path) -> String {
    std::fs::read_to_string(path)
        .expect("readable")
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The subcommands: the files of `commands/` but `mod.rs`.
fn commands(dir: &Path) -> Vec<String> {
    rust_files(dir)
        .iter()
        .filter_map(|p| p.file_stem().and_then(|s| s.to_str()).map(String::from))
        .filter(|s| s != "mod")
        .collect()
}

/// The subcommands `file` imports: `crate::commands::X`, `super::X` or `crate::X` for a
/// subcommand X.
fn imported_commands(file: &Path, names: &[String]) -> Vec<String> {
    let text = code(file);
    let mine = file.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    names
        .iter()
        .filter(|n| n.as_str() != mine)
        .filter(|n| {
            [
                format!("crate::commands::{n}"),
                format!("super::{n}"),
                format!("crate::{n}::"),
            ]
            .iter()
            .any(|p| text.contains(p.as_str()))
        })
        .cloned()
        .collect()
}

#[test]
fn no_subcommand_imports_another() {
    let dir = root().join("cli/src/commands");
    let names = commands(&dir);
    assert!(names.len() >= 15, "subcommands found: {names:?}");
    let mut bad = Vec::new();
    for f in rust_files(&dir) {
        for n in imported_commands(&f, &names) {
            bad.push(format!("{} imports the subcommand `{n}`", f.display()));
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

#[test]
fn the_import_check_sees_an_import_between_subcommands() {
    // The check itself, shown able to fail: a file naming another subcommand is caught.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("soak.rs");
    std::fs::write(
        &f,
        "// crate::testnet:: in a comment is not an import\nuse crate::testnet::Args;\n",
    )
    .unwrap();
    let names = vec![
        "soak".to_string(),
        "testnet".to_string(),
        "check".to_string(),
    ];
    assert_eq!(imported_commands(&f, &names), vec!["testnet".to_string()]);
    std::fs::write(&f, "// crate::testnet:: only in a comment\n").unwrap();
    assert!(imported_commands(&f, &names).is_empty());
}

#[test]
fn the_node_holds_no_harness() {
    let src = root().join("impl/src");
    let mut found = Vec::new();
    for f in rust_files(&src) {
        let stem = f.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if ["sim", "campaign", "testnet", "soak"].contains(&stem) {
            found.push(f.display().to_string());
        }
        let text = code(&f);
        for m in ["mod sim", "mod campaign", "mod testnet"] {
            if text.contains(m) {
                found.push(format!("{}: `{m}`", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "harness code in sa-node: {found:?}");
    assert!(root().join("testkit/src/sim.rs").is_file());
    assert!(root().join("testkit/src/campaign.rs").is_file());
}

#[test]
fn spec_text_reaches_the_cli_only_through_a_library() {
    let mut bad = Vec::new();
    for f in rust_files(&root().join("cli/src")) {
        if code(&f).contains("include_str!") {
            bad.push(f.display().to_string());
        }
    }
    assert!(bad.is_empty(), "include_str! in the CLI: {bad:?}");
}
