//! `sa report --out DIR`: one static HTML page for auditors, readable offline.
//!
//! The page holds: the configuration and every bound that shapes the result; each property
//! of spec/properties.md with its ID, the spec's statement and rule IDs, its status, its broken
//! variant and the command that reproduces both; the path to each witness and counterexample
//! as a message sequence chart with its steps; optionally the broken variants run (each one's
//! counterexample charted) and files attached (the degradation plot and table of
//! `sa degrade`, a sweep table). Next to it: `report.json` (the same, for machines) and
//! `charts/*.svg`. The page checks itself when it loads (every property row present, every
//! chart drawn, no script error) and writes the result into `#selftest`, which the browser
//! test reads.

use std::path::{Path, PathBuf};
use std::time::Instant;

use sa_checker::chart::{escape, svg, Ending};
use sa_checker::report::{Counterexample, Status, Verdict};
use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::mutations::INTENDED;
use sa_model::{Config, Mutation};
use serde::Serialize;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED};

/// Arguments of `sa report`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Write a static HTML report for auditors (properties, bounds, charts, variants)",
    long_about = "Checks a preset or configuration (as `sa check`) and writes DIR/index.html: \
                  the configuration and its bounds, every property of spec/properties.md with \
                  its statement, rule IDs, status, broken variant and the commands that \
                  reproduce them, and each witness and counterexample as a message sequence \
                  chart with its steps. With --variants, each broken variant is run too and its \
                  counterexample charted. With --attach, files are included (PNG/SVG plots, CSV \
                  tables: `sa degrade`'s plot and table). Also writes DIR/report.json and \
                  DIR/charts/*.svg. Opens offline: no external resource.\n\n\
                  Exit status: the check's verdict (0 PASS, 1 VIOLATED, 3 VACUOUS or NOT \
                  CAUGHT, 4 INCOMPLETE), 3 if a broken variant run did not violate its property, \
                  2 for bad input."
)]
pub struct Args {
    /// Directory to write (created if missing; files of an earlier report are replaced).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[command(flatten)]
    what: crate::config_args::ConfigArgs,
    /// Also run broken variants, each on its own preset, stopping at the violation of its
    /// property: every one (`--variants`) or those named (`--variants a,b`); one run per
    /// mutation (`sa check --list-mutations`).
    #[arg(long, value_name = "NAMES", num_args = 0.., value_delimiter = ',')]
    variants: Option<Vec<String>>,
    /// A file to include: .png or .svg (a plot), .csv (a table); repeatable.
    #[arg(long, value_name = "FILE")]
    attach: Vec<PathBuf>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    threads: Option<usize>,
    /// Stop the main check after this many seconds (the result is then not exhaustive), as
    /// `sa check --timeout`.
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// Do not explore beyond this many states, as `sa check --max-states`.
    #[arg(long, value_name = "N")]
    max_states: Option<usize>,
    /// Do not explore beyond this depth, as `sa check --max-depth`.
    #[arg(long, value_name = "N")]
    max_depth: Option<usize>,
    /// Skip the unbounded search (LIVE-CONVERGENCE, LIVE-FINALITY, ...), as `sa check
    /// --no-unbounded`.
    #[arg(long)]
    no_unbounded: bool,
    /// Check once per seed of FROM..=TO and merge, as `sa check --seeds` (each violation names
    /// its seed); the broken variants still run on the configuration's own seed.
    #[arg(long, value_name = "FROM..=TO", value_parser = crate::config_args::parse_seeds)]
    seeds: Option<(u64, u64)>,
}

/// One broken variant run.
#[derive(Serialize)]
struct VariantRun {
    mutation: String,
    breaks: String,
    property: &'static str,
    preset: &'static str,
    /// Whether the run reported the property VIOLATED.
    caught: bool,
    seconds: f64,
    command: String,
    counterexample: Option<Counterexample>,
}

#[derive(Serialize)]
struct Json<'a> {
    format: &'static str,
    provenance: crate::provenance::Provenance,
    check: &'a CheckReport,
    variants: &'a [VariantRun],
    attachments: Vec<String>,
}

/// Rule IDs named in a statement: `FIN-1..4`, `TALLY-1/2`, `STEP-VAL-1`, ...
pub fn rule_ids(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for token in text.split(|c: char| !(c.is_ascii_alphanumeric() || "-./".contains(c))) {
        let token = token.trim_end_matches(['.', '/']);
        let Some((head, tail)) = token.rsplit_once('-') else {
            continue;
        };
        let head_ok = !head.is_empty()
            && head
                .split('-')
                .all(|w| !w.is_empty() && w.chars().all(|c| c.is_ascii_uppercase()));
        let tail_ok = tail.chars().next().is_some_and(|c| c.is_ascii_digit());
        if head_ok && tail_ok && !head.starts_with("SAFE") && !head.starts_with("WIT") {
            let t = token.to_string();
            if !out.contains(&t) {
                out.push(t);
            }
        }
    }
    out
}

/// Markdown inline code and bold to HTML (the spec's table cells use nothing else).
fn inline_md(text: &str) -> String {
    let mut out = String::new();
    let mut code = false;
    for (k, part) in escape(text).split('`').enumerate() {
        if k > 0 {
            out.push_str(if code { "</code>" } else { "<code>" });
            code = !code;
        }
        let mut bold = false;
        for (j, b) in part.split("**").enumerate() {
            if j > 0 {
                out.push_str(if bold { "</b>" } else { "<b>" });
                bold = !bold;
            }
            out.push_str(b);
        }
        if bold {
            out.push_str("</b>");
        }
    }
    if code {
        out.push_str("</code>");
    }
    out
}

fn status_class(s: Status) -> (&'static str, &'static str) {
    match s {
        Status::Holds => ("ok", "holds"),
        Status::Violated => ("bad", "VIOLATED"),
        Status::Witnessed => ("ok", "witnessed"),
        Status::NotWitnessed => ("bad", "NOT witnessed"),
        Status::NotApplicable => ("na", "not applicable"),
        Status::Inconclusive => ("bad", "NOT proven"),
    }
}

fn preset_flag(preset: &str) -> String {
    if preset == "default" {
        String::new()
    } else {
        format!(" --preset {preset}")
    }
}

/// Validates the arguments that need no search: the output directory, the attachments, the
/// variant names.
fn validate(args: &Args) -> Result<Vec<(Mutation, &'static str, bool)>, String> {
    if args.out.exists() && !args.out.is_dir() {
        return Err(format!(
            "--out {}: exists and is not a directory",
            args.out.display()
        ));
    }
    for a in &args.attach {
        if !a.is_file() {
            return Err(format!("--attach {}: no such file", a.display()));
        }
        let ext = a
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if !["png", "svg", "csv"].contains(&ext.as_str()) {
            return Err(format!(
                "--attach {}: only .png, .svg and .csv files can be included",
                a.display()
            ));
        }
    }
    if args.threads == Some(0) {
        return Err("`--threads` must be at least 1".into());
    }
    let Some(names) = &args.variants else {
        return Ok(Vec::new());
    };
    let names: Vec<&String> = names.iter().filter(|n| !n.is_empty()).collect();
    for n in &names {
        if !Mutation::ALL.iter().any(|m| m.name() == **n) {
            return Err(format!(
                "--variants: `{n}` is not a known mutation (`sa check --list-mutations`)"
            ));
        }
    }
    Ok(INTENDED
        .iter()
        .copied()
        .filter(|(m, _, _)| names.is_empty() || names.iter().any(|n| **n == m.name()))
        .collect())
}

fn run_check(config: &Config, opts: &CheckOptions, what: &str) -> CheckReport {
    let bar = crate::spinner();
    let report = check(config, opts, &mut |p| {
        if let Some(bar) = &bar {
            bar.set_message(format!(
                "{what}: {}",
                crate::output::progress_message(p, sa_checker::sizes::pinned_states(config))
            ));
            bar.tick();
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report
}

/// The configuration's check over a range of seeds, its progress on a spinner.
fn run_seeds(
    config: &Config,
    (from, to): (u64, u64),
    opts: &CheckOptions,
    parts: usize,
) -> CheckReport {
    let bar = crate::spinner();
    let started = Instant::now();
    let report = sa_checker::check::check_seeds(config, from, to, opts, &mut |done, total, p| {
        if let Some(bar) = &bar {
            bar.set_message(format!(
                "part 1 of {parts}: seed {} ({done} of {total} done{}){}",
                from + done as u64,
                crate::output::eta(started.elapsed(), done, total),
                p.map_or(String::new(), |p| format!(
                    "; {}",
                    crate::output::progress_message(p, None)
                ))
            ));
            bar.tick();
        }
    });
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    report
}

/// Runs `sa report`; returns the exit status.
#[allow(
    clippy::too_many_lines,
    reason = "a subcommand: flags, the check, the variants' runs, the page, exit code"
)]
pub fn run(args: Args) -> u8 {
    let variants = match validate(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("sa report: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let config = match args.what.load() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa report: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let charts_dir = args.out.join("charts");
    if let Err(e) = std::fs::create_dir_all(&charts_dir) {
        eprintln!("sa report: cannot create {}: {e}", charts_dir.display());
        return EXIT_BAD_INPUT;
    }
    let mut opts = CheckOptions {
        unbounded: !args.no_unbounded,
        timeout: args.timeout.map(std::time::Duration::from_secs),
        max_states: args.max_states,
        max_depth: args.max_depth,
        interrupt: Some(crate::ctrl_c_flag()),
        ..CheckOptions::default()
    };
    if let Some(t) = args.threads {
        opts.threads = t;
    }
    // Ctrl-C: no page of a cut run is written (the empty charts folder goes too).
    let interrupted = |opts: &CheckOptions| {
        let cut = opts
            .interrupt
            .as_ref()
            .is_some_and(|f| f.load(std::sync::atomic::Ordering::Relaxed));
        if cut {
            eprintln!("sa report: interrupted (Ctrl-C); no report written");
            let _ = std::fs::remove_dir(&charts_dir);
        }
        cut
    };
    let started = Instant::now();
    // The parts of the run: the configuration's check, then each broken variant.
    let parts = 1 + variants.len();
    let report = match args.seeds {
        Some((from, to)) => run_seeds(&config, (from, to), &opts, parts),
        None => run_check(
            &config,
            &opts,
            &format!("part 1 of {parts}: checking `{}`", config.name),
        ),
    };
    if interrupted(&opts) {
        return crate::EXIT_INTERRUPTED;
    }
    // The variants run with the same limits, each on the configuration's own seed.
    eprintln!(
        "sa report: `{}` checked: {} ({} unique states, {:.1} s)",
        config.name,
        report.verdict.name(),
        report.unique_states,
        report.seconds
    );
    let mut runs = Vec::new();
    for (k, (m, id, depth_first)) in variants.iter().enumerate() {
        let Some(mut c) = Config::preset(m.preset()) else {
            continue;
        };
        c.mutations.push(*m);
        let o = CheckOptions {
            stop_on: vec![id],
            depth_first: *depth_first,
            shorten: !depth_first,
            ..opts.clone()
        };
        let t = Instant::now();
        let r = run_check(
            &c,
            &o,
            &format!(
                "part {} of {parts}{}: variant {}",
                k + 2,
                crate::output::eta(started.elapsed(), k + 1, parts),
                m.name()
            ),
        );
        if interrupted(&opts) {
            return crate::EXIT_INTERRUPTED;
        }
        let p = r.property(id);
        let caught = p.is_some_and(|p| p.status == Status::Violated);
        eprintln!(
            "sa report: variant {} -> {id} {} ({:.1} s)",
            m.name(),
            if caught {
                "VIOLATED (caught)"
            } else {
                "NOT caught"
            },
            t.elapsed().as_secs_f64()
        );
        runs.push(VariantRun {
            mutation: m.name(),
            breaks: m.summary(),
            property: id,
            preset: m.preset(),
            caught,
            seconds: t.elapsed().as_secs_f64(),
            command: format!(
                "sa check{} --mutation {}",
                preset_flag(m.preset()),
                m.name()
            ),
            counterexample: p.and_then(|p| p.counterexample.clone()),
        });
    }
    // Attachments next to the page.
    let mut attached = Vec::new();
    if !args.attach.is_empty() {
        let dir = args.out.join("attachments");
        if let Err(e) = std::fs::create_dir_all(&dir) {
            eprintln!("sa report: cannot create {}: {e}", dir.display());
            return EXIT_FAILED;
        }
        for a in &args.attach {
            let name = a
                .file_name()
                .map(|n| n.to_string_lossy().to_string())
                .unwrap_or_default();
            if let Err(e) = std::fs::copy(a, dir.join(&name)) {
                eprintln!("sa report: cannot copy {}: {e}", a.display());
                return EXIT_FAILED;
            }
            attached.push((name, a.clone()));
        }
    }
    let page = match page(&report, &runs, &attached, &charts_dir, &args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("sa report: {e}");
            return EXIT_FAILED;
        }
    };
    let index = args.out.join("index.html");
    let json = Json {
        format: "sa-report/1",
        provenance: crate::provenance::of_run(Some(&report.config)),
        check: &report,
        variants: &runs,
        attachments: attached.iter().map(|(n, _)| n.clone()).collect(),
    };
    let written = std::fs::write(&index, page).and_then(|_| {
        std::fs::write(
            args.out.join("report.json"),
            serde_json::to_string_pretty(&json).unwrap_or_default(),
        )
    });
    if let Err(e) = written {
        eprintln!("sa report: cannot write {}: {e}", index.display());
        return EXIT_FAILED;
    }
    let caught = runs.iter().filter(|r| r.caught).count();
    eprintln!(
        "sa report: wrote {} ({} properties, {} variants run, {caught} caught; {:.1} s)",
        index.display(),
        report.properties.len(),
        runs.len(),
        started.elapsed().as_secs_f64()
    );
    if caught < runs.len() && report.verdict == Verdict::Pass {
        return Verdict::Vacuous.exit_code();
    }
    report.verdict.exit_code()
}

/// A chart and its steps, written to `charts/NAME.svg` and inlined.
fn figure(
    out: &mut String,
    charts_dir: &Path,
    name: &str,
    title: &str,
    cx: &Counterexample,
    ending: Ending,
) -> Result<(), String> {
    let chart = svg(title, cx, ending);
    let file = charts_dir.join(format!("{name}.svg"));
    std::fs::write(&file, &chart).map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    out.push_str(&format!(
        "<figure id=\"chart-{name}\"><figcaption>{} ({} steps{}; <a href=\"charts/{name}.svg\">SVG</a>)</figcaption>\n<div class=\"chart\">{chart}</div>\n<details><summary>steps in the spec's words</summary><ol start=\"0\">",
        escape(title),
        cx.steps.len(),
        if cx.shortest { ", shortest found" } else { "" }
    ));
    out.push_str(&format!(
        "<li>initial state<ul>{}</ul></li>",
        cx.initial
            .iter()
            .map(|b| format!("<li>{}</li>", escape(b)))
            .collect::<String>()
    ));
    for s in &cx.steps {
        out.push_str(&format!("<li>{}</li>", escape(&s.description)));
    }
    out.push_str("</ol></details></figure>\n");
    Ok(())
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;margin:2em;\
color:#222;max-width:1500px}h1{font-size:1.6em}h2{border-bottom:1px solid #ccc;margin-top:2em}\
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #ccc;padding:4px 6px;\
vertical-align:top;text-align:left}th{background:#f3f3f3}.ok{color:#2e7d32;font-weight:bold}\
.bad{color:#c62828;font-weight:bold}.na{color:#777}.verdict{font-size:1.3em;padding:.5em 1em;\
display:inline-block;border-radius:4px}.verdict.PASS{background:#e8f5e9;color:#2e7d32}\
.verdict.VIOLATED,.verdict.VACUOUS,.verdict.INCOMPLETE,.verdict.CAUGHT{background:#fdecea;color:#c62828}\
code,pre{background:#f6f6f6;padding:1px 3px}.chart{overflow-x:auto;border:1px solid #ddd}\
figure{margin:1em 0 2em 0}figcaption{font-weight:bold;margin-bottom:.4em}\
#selftest{color:#999;font-size:.8em}";

/// The page checks itself once loaded: every property row present, every chart drawn (a
/// non-empty bounding box and its step marks), every image decoded, no script error.
const SELFTEST: &str = r#"<script>
window.saErrors = [];
window.addEventListener('error', function (e) { window.saErrors.push(String(e.message)); });
(function () {
  var original = console.error;
  console.error = function () {
    window.saErrors.push(Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
})();
window.addEventListener('load', function () {
  var charts = Array.prototype.slice.call(document.querySelectorAll('svg.sa-chart'));
  var drawn = charts.filter(function (c) {
    var b = c.getBBox();
    return b.width > 0 && b.height > 0 && c.querySelectorAll('.sa-step').length > 0;
  }).length;
  var images = Array.prototype.slice.call(document.images);
  var decoded = images.filter(function (i) { return i.complete && i.naturalWidth > 0; }).length;
  var rows = Array.prototype.map.call(document.querySelectorAll('tr.property'), function (r) {
    return r.id.replace('property-', '');
  });
  document.getElementById('selftest').textContent = JSON.stringify({
    rows: rows, charts: charts.length, drawn: drawn, images: images.length,
    decoded: decoded, errors: window.saErrors
  });
});
</script>"#;

#[allow(
    clippy::too_many_lines,
    reason = "one HTML page written top to bottom; its sections follow the page"
)]
fn page(
    r: &CheckReport,
    runs: &[VariantRun],
    attached: &[(String, PathBuf)],
    charts_dir: &Path,
    args: &Args,
) -> Result<String, String> {
    let p = crate::provenance::of_run(Some(&r.config));
    let mut o = String::new();
    let name = &r.config.name;
    let check_cmd = match &args.what.config {
        Some(f) => format!("sa check --config {}", f.display()),
        None => format!("sa check{}", preset_flag(&args.what.preset)),
    };
    let check_cmd = r
        .config
        .mutations
        .iter()
        .fold(check_cmd, |c, m| format!("{c} --mutation {}", m.name()));
    o.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>sa report: {0}</title><style>{STYLE}</style>{SELFTEST}</head><body>\n\
         <h1>Succinct Attestation model check: configuration <code>{0}</code></h1>\n\
         <p><span class=\"verdict {1}\">verdict {1}</span> &nbsp; reproduce: <code>{2}</code> \
         (exit status {3}); written by <code>sa report</code> {4}</p>\n\
         <p class=\"provenance\">built from commit <code>{5}</code> ({6}); run at {7}; \
         command line <code>{8}</code>; configuration digest <code>{9}</code></p>\n",
        escape(name),
        r.verdict.name(),
        escape(&check_cmd),
        r.verdict.exit_code(),
        crate::VERSION,
        p.commit,
        p.commit_date,
        p.run_at,
        escape(&p.command_line.join(" ")),
        p.config_digest.as_deref().unwrap_or("-")
    ));
    // Configuration and bounds.
    o.push_str(
        "<h2 id=\"configuration\">Configuration and the bounds that shape the result</h2>\n<ul>",
    );
    o.push_str(&format!(
        "<li><strong>horizon</strong>: {}</li>",
        escape(&r.horizon.line)
    ));
    for b in &r.bounds {
        o.push_str(&format!("<li>{}</li>", escape(b)));
    }
    o.push_str(&format!(
        "<li>mutations: {}</li><li>symmetry: {}</li></ul>\n<p>search: {}; {} unique states, {} \
         total, max depth {}, {:.2} s ({:.0} states/s, {} threads)</p>\n",
        if r.config.mutations.is_empty() {
            "none (reference protocol)".to_string()
        } else {
            escape(
                &r.config
                    .mutations
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            )
        },
        escape(&r.symmetry),
        if r.exhaustive {
            "exhaustive (every reachable state visited)".to_string()
        } else {
            format!(
                "NOT exhaustive: {}",
                escape(&r.cut_reason.clone().unwrap_or_default())
            )
        },
        r.unique_states,
        r.total_states,
        r.max_depth,
        r.seconds,
        r.states_per_second,
        r.threads
    ));
    let toml = toml::to_string_pretty(&r.config).unwrap_or_default();
    o.push_str(&format!(
        "<details><summary>the configuration as TOML (<code>sa check --config FILE</code> \
         reads it)</summary><pre>{}</pre></details>\n",
        escape(&toml)
    ));
    // Properties.
    o.push_str(
        "<h2 id=\"properties\">Properties (spec/properties.md)</h2>\n<table><thead><tr>\
         <th>ID</th><th>kind</th><th>status</th><th>statement (spec)</th><th>rules</th>\
         <th>broken variant: shown able to fail by</th><th>path</th></tr></thead><tbody>\n",
    );
    for p in &r.properties {
        let spec = sa_checker::spec_text::row(&p.id);
        let statement = spec
            .as_ref()
            .map_or_else(|| escape(&p.statement), |s| inline_md(&s.statement));
        let why = spec
            .as_ref()
            .filter(|s| !s.why.is_empty())
            .map_or(String::new(), |s| {
                format!("<br><i>why: {}</i>", inline_md(&s.why))
            });
        let rules = rule_ids(&spec.as_ref().map_or(String::new(), |s| s.statement.clone()));
        let (class, text) = status_class(p.status);
        let note = p.note.as_ref().map_or(String::new(), |n| {
            format!("<br><span class=\"na\">{}</span>", escape(n))
        });
        let variants: Vec<String> = INTENDED
            .iter()
            .filter(|(_, id, _)| *id == p.id)
            .map(|(m, _, _)| {
                let cmd = format!(
                    "sa check{} --mutation {}",
                    preset_flag(m.preset()),
                    m.name()
                );
                let run = runs
                    .iter()
                    .find(|v| v.mutation == m.name() && v.property == p.id)
                    .map_or(String::new(), |v| {
                        if v.caught {
                            format!(
                                " <a class=\"ok\" href=\"#chart-variant-{}-{}\">caught</a>",
                                v.mutation, v.property
                            )
                        } else {
                            " <span class=\"bad\">NOT caught</span>".to_string()
                        }
                    });
                format!(
                    "<code>{}</code> ({}){run}<br><code>{}</code>",
                    m.name(),
                    escape(&m.summary()),
                    escape(&cmd)
                )
            })
            .collect();
        let variants = if variants.is_empty() {
            "(a witness: shown by reaching it)".to_string()
        } else {
            variants.join("<br>")
        };
        let link = if p.counterexample.is_some() {
            format!("<a href=\"#chart-{}\">chart</a>", p.id)
        } else {
            String::new()
        };
        o.push_str(&format!(
            "<tr class=\"property\" id=\"property-{0}\"><td><code>{0}</code></td><td>{1}</td>\
             <td class=\"{class}\">{text}{note}</td><td>{statement}{why}</td><td>{2}</td>\
             <td>{variants}</td><td>{link}</td></tr>\n",
            escape(&p.id),
            match p.kind {
                sa_model::properties::Kind::Safety => "safety",
                sa_model::properties::Kind::Witness => "witness",
                sa_model::properties::Kind::Liveness => "liveness",
            },
            escape(&rules.join(", "))
        ));
    }
    o.push_str("</tbody></table>\n");
    // Counterexamples and witness paths.
    let violated: Vec<_> = r
        .properties
        .iter()
        .filter(|p| p.status == Status::Violated)
        .collect();
    if !violated.is_empty() {
        o.push_str("<h2 id=\"counterexamples\">Counterexamples</h2>\n");
        for p in violated {
            if let Some(cx) = &p.counterexample {
                let title = format!("{} VIOLATED: {}", p.id, p.statement);
                figure(&mut o, charts_dir, &p.id, &title, cx, Ending::Violation)?;
            }
        }
    }
    o.push_str(
        "<h2 id=\"witnesses\">Witnesses</h2>\n<p>Each witness reached, with the path that \
         reached it (as found by the search, not shortened): the safety results above are not \
         vacuous.</p>\n",
    );
    for p in r
        .properties
        .iter()
        .filter(|p| p.status == Status::Witnessed)
    {
        if let Some(cx) = &p.counterexample {
            let title = format!("{} witnessed: {}", p.id, p.statement);
            figure(&mut o, charts_dir, &p.id, &title, cx, Ending::Witness)?;
        }
    }
    if !runs.is_empty() {
        o.push_str(
            "<h2 id=\"variants\">Broken variants run</h2>\n<table><thead><tr><th>mutation</th>\
             <th>breaks</th><th>property</th><th>preset</th><th>result</th><th>seconds</th>\
             <th>command</th></tr></thead><tbody>\n",
        );
        for v in runs {
            o.push_str(&format!(
                "<tr><td><code>{}</code></td><td>{}</td><td><code>{}</code></td><td>{}</td>\
                 <td class=\"{}\">{}</td><td>{:.1}</td><td><code>{}</code></td></tr>\n",
                v.mutation,
                escape(&v.breaks),
                v.property,
                v.preset,
                if v.caught { "ok" } else { "bad" },
                if v.caught {
                    "VIOLATED (caught)"
                } else {
                    "NOT caught"
                },
                v.seconds,
                escape(&v.command)
            ));
        }
        o.push_str("</tbody></table>\n");
        for v in runs {
            if let Some(cx) = &v.counterexample {
                let title = format!(
                    "{} VIOLATED under {} (preset {})",
                    v.property, v.mutation, v.preset
                );
                let name = format!("variant-{}-{}", v.mutation, v.property);
                figure(&mut o, charts_dir, &name, &title, cx, Ending::Violation)?;
            }
        }
    }
    if !attached.is_empty() {
        o.push_str("<h2 id=\"attachments\">Attached results</h2>\n");
        for (name, source) in attached {
            o.push_str(&format!("<h3>{}</h3>\n", escape(name)));
            if name.to_lowercase().ends_with(".csv") {
                let text = std::fs::read_to_string(source)
                    .map_err(|e| format!("cannot read {}: {e}", source.display()))?;
                o.push_str("<table>");
                for (k, line) in text.lines().enumerate() {
                    let cell = if k == 0 { "th" } else { "td" };
                    o.push_str("<tr>");
                    for c in line.split(',') {
                        o.push_str(&format!("<{cell}>{}</{cell}>", escape(c)));
                    }
                    o.push_str("</tr>");
                }
                o.push_str("</table>\n");
            } else {
                o.push_str(&format!(
                    "<img src=\"attachments/{0}\" alt=\"{0}\" style=\"max-width:100%\">\n",
                    escape(name)
                ));
            }
        }
    }
    o.push_str(&format!(
        "<p id=\"selftest\">(self-check runs when the page has loaded)</p>\n<p class=\"na\">\
         Generated in {:.1} s of checking. Exit statuses: 0 PASS, 1 VIOLATED, 2 bad input, 3 \
         VACUOUS or NOT CAUGHT, 4 INCOMPLETE (spec/properties.md).</p></body></html>\n",
        r.seconds + runs.iter().map(|v| v.seconds).sum::<f64>()
    ));
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ids_are_found_in_the_spec_statements() {
        assert_eq!(
            rule_ids("No node ever reverts a block (FIN-4, FORK-2)."),
            vec!["FIN-4", "FORK-2"]
        );
        assert_eq!(
            rule_ids("the tally (TALLY-1/2) and FIN-1..4, STEP-VAL-1; not SAFE-X-1"),
            vec!["TALLY-1/2", "FIN-1..4", "STEP-VAL-1"]
        );
        assert!(rule_ids("no rule here, C - SM credits").is_empty());
    }

    #[test]
    fn the_spec_statement_names_its_rules() {
        let row = sa_checker::spec_text::row("SAFE-FINAL-NO-REVERT").unwrap();
        assert_eq!(rule_ids(&row.statement), vec!["FIN-4", "FORK-2"]);
    }

    #[test]
    fn inline_markdown_is_escaped_then_formatted() {
        assert_eq!(
            inline_md("a `x<y` and **b**"),
            "a <code>x&lt;y</code> and <b>b</b>"
        );
    }
}
