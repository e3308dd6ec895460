//! Provenance for `sa --version`, `--json` and the HTML report: the commit this binary was
//! built from and its date, read with git at build time (`unknown` outside a checkout, e.g. a
//! crates.io build); a `+` marks uncommitted changes in the tree.

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        .filter(|s| !s.is_empty())
}

fn main() {
    let commit = git(&["rev-parse", "--short=12", "HEAD"]).unwrap_or_else(|| "unknown".into());
    let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some();
    let date = git(&["log", "-1", "--format=%cs"]).unwrap_or_else(|| "unknown".into());
    println!(
        "cargo:rustc-env=SA_COMMIT={commit}{}",
        if dirty { "+" } else { "" }
    );
    println!("cargo:rustc-env=SA_COMMIT_DATE={date}");
    // A new commit or checkout changes HEAD or the branch it points to.
    if let Some(git_dir) = git(&["rev-parse", "--git-dir"]) {
        println!("cargo:rerun-if-changed={git_dir}/HEAD");
        if let Some(head) = git(&["symbolic-ref", "-q", "HEAD"]) {
            println!("cargo:rerun-if-changed={git_dir}/{head}");
        }
        println!("cargo:rerun-if-changed={git_dir}/index");
    }
}
