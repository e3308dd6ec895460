//! `sa report` and `sa explore` in a real browser: Debian's Chromium, headless.
//!
//! Chromium is installed by `scripts/install-browser.sh` (the README's test command runs it;
//! `SA_CHROMIUM` names another binary). Without it these tests fail and say how to install it:
//! they are not skipped.
//!
//! What is checked: the report page loads from disk with no console message and no script
//! error (Chromium's own console log and the page's self-check both), every property of
//! spec/properties.md has its row in the order of the check, every chart of the report
//! (witness paths, broken variants' counterexamples) is drawn (a non-empty bounding box with
//! its step marks), an attached image is decoded and an attached CSV becomes a table; a
//! screenshot is kept in target/tmp/report-screenshot.png. The Explorer serves the model with
//! states in the spec's words and the path chart. The harness itself is shown able to fail: a
//! page with a script error is caught.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

fn chromium() -> PathBuf {
    if let Ok(p) = std::env::var("SA_CHROMIUM") {
        return PathBuf::from(p);
    }
    for c in [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ] {
        if Path::new(c).exists() {
            return PathBuf::from(c);
        }
    }
    panic!(
        "no Chromium found: run `bash scripts/install-browser.sh` (Debian's chromium package), \
         or set SA_CHROMIUM to a Chromium binary"
    );
}

/// Loads `url` headless; returns (DOM after the page's scripts ran, console lines logged).
fn load(url: &str, extra: &[&str]) -> (String, Vec<String>) {
    let profile = tempfile::tempdir().expect("profile dir");
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(extra)
        .arg(url)
        .output()
        .expect("run chromium");
    let console = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter(|l| l.contains(":CONSOLE"))
        .map(str::to_owned)
        .collect();
    (String::from_utf8_lossy(&out.stdout).into_owned(), console)
}

mod common;

use common::sa;

#[test]
fn the_harness_catches_a_page_with_a_script_error() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("broken.html");
    std::fs::write(
        &page,
        "<html><body><script>console.error('broken chart'); missingFunction();</script></body></html>",
    )
    .unwrap();
    let (dom, console) = load(&format!("file://{}", page.display()), &["--dump-dom"]);
    assert!(dom.contains("<body>"), "{dom}");
    assert!(
        console.iter().any(|l| l.contains("broken chart"))
            && console.iter().any(|l| l.contains("missingFunction")),
        "{console:?}"
    );
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one end-to-end scenario in a real browser, each assertion where the page shows it"
)]
fn the_report_loads_with_every_property_row_and_every_chart_drawn() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    // Attachments: a chart as an image, a table as CSV.
    let svg = dir.path().join("plot.svg");
    let (code, _, err) = sa(&[
        "check",
        "--preset",
        "tiny",
        "--chart",
        svg.to_str().unwrap(),
        "--chart-for",
        "WIT-FALLBACK",
    ]);
    assert_eq!(code, 0, "{err}");
    let csv = dir.path().join("degrade.csv");
    std::fs::write(&csv, "absent,blocks,iterations\n0,10,1.0\n1,10,1.4\n").unwrap();
    let (code, _, err) = sa(&[
        "report",
        "--preset",
        "tiny",
        "--variants",
        "double-vote,accept-invalid",
        "--attach",
        svg.to_str().unwrap(),
        "--attach",
        csv.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("2 variants run, 2 caught"), "{err}");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let ids: Vec<String> = json["check"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect();
    let with_path = json["check"]["properties"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| !p["counterexample"].is_null())
        .count();
    assert!(with_path >= 4, "witness paths: {with_path}");
    let expected_charts = with_path + 2;
    assert_eq!(
        std::fs::read_dir(out.join("charts")).unwrap().count(),
        expected_charts
    );

    let index = out.join("index.html");
    let screenshot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report-screenshot.png");
    let (dom, console) = load(&format!("file://{}", index.display()), &["--dump-dom"]);
    assert!(console.is_empty(), "console messages: {console:?}");
    let selftest = dom
        .split("<p id=\"selftest\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .expect("the self-check paragraph");
    let st: serde_json::Value = serde_json::from_str(&selftest.replace("&quot;", "\""))
        .unwrap_or_else(|e| panic!("the self-check did not run ({e}): {selftest}"));
    let rows: Vec<String> = st["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.as_str().unwrap().to_string())
        .collect();
    assert_eq!(rows, ids, "every property row, in the check's order");
    assert_eq!(
        ids.len(),
        sa_model::properties::SPECS.len()
            + sa_checker::unbounded::IDS.len()
            + [
                sa_checker::unbounded::SUSPEND,
                sa_checker::unbounded::REJOIN
            ]
            .len()
    );
    assert_eq!(st["charts"], expected_charts as u64, "{st}");
    assert_eq!(st["drawn"], st["charts"], "every chart drawn: {st}");
    assert_eq!(st["images"], 1, "{st}");
    assert_eq!(st["decoded"], 1, "the attached plot decoded: {st}");
    assert_eq!(st["errors"], serde_json::json!([]), "{st}");
    assert!(
        dom.contains("<th>absent</th>") && dom.contains("<td>1.4</td>"),
        "CSV table"
    );
    // A screenshot as the test's artifact.
    let (_, console) = load(
        &format!("file://{}", index.display()),
        &[
            &format!("--screenshot={}", screenshot.display()),
            "--window-size=1400,2400",
        ],
    );
    assert!(console.is_empty(), "{console:?}");
    let png = std::fs::read(&screenshot).expect("screenshot written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_explorer_serves_states_in_the_spec_words() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_sa"))
            .args(["explore", "--preset", "tiny", "--listen", &addr])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sa explore"),
    );
    // Wait until it accepts connections (it binds before it serves).
    let mut up = false;
    for _ in 0..600 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            up = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(up, "sa explore never listened on {addr}");
    // The initial state, then the state after the first action: beliefs in the spec's words
    // (not a Debug dump), the step described, the path charted.
    let (dom, console) = load(&format!("http://{addr}/#/steps/0/0"), &["--dump-dom"]);
    assert!(dom.contains("Stateright Explorer"), "{dom}");
    assert!(dom.contains("P0: round 1 iteration 0"), "{dom}");
    assert!(
        dom.contains("messages sent (every node may still receive each)"),
        "{dom}"
    );
    assert!(!dom.contains("nodes: ["), "a Debug dump: {dom}");
    assert!(dom.contains("class=\"sa-chart\""), "the path chart: {dom}");
    assert!(
        console.iter().all(|l| !l.contains("Uncaught")),
        "{console:?}"
    );
    drop(server);
}
