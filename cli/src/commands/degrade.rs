//! `sa degrade`: the graceful-degradation benchmark. Runs the testnet with 0, 1, 2, … absent
//! nodes out of N and reports, for each, the median block time and the iterations per block,
//! as a Markdown table and a PNG plot.

use std::path::PathBuf;

use plotters::prelude::*;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};
use sa_testkit::testnet::{absence_bound, sharp_stake, Options, Summary};

/// Arguments of `sa degrade`.
#[derive(clap::Args)]
pub struct Args {
    /// Provisioners (N ≥ 7 for the benchmark docs/measurements.md reports).
    #[arg(long, default_value_t = 7)]
    nodes: u32,
    /// Largest number of absent nodes (default: the absence bound + 1, to show the cliff).
    #[arg(long)]
    max_absent: Option<u32>,
    /// Blocks per run.
    #[arg(long, default_value_t = 15)]
    blocks: u64,
    /// Seconds per run at most (a run past the bound always takes this long).
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Time scale of the protocol durations.
    #[arg(long, default_value_t = 0.05)]
    time_scale: f64,
    /// Committee credits C.
    #[arg(long, default_value_t = 64)]
    committee: u32,
    /// Where to write the PNG plot.
    #[arg(long, default_value = "degradation.png")]
    plot: PathBuf,
    /// Also write the rows as CSV (one header line; what `sa report --attach` includes).
    #[arg(long, value_name = "FILE")]
    csv: Option<PathBuf>,
    /// Print the rows as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Compute instead of run: the spec's sortition at mainnet parameters, seeded rounds per
    /// absent share (no testnet): probability that an iteration is good, iterations and
    /// seconds per block (docs/measurements.md).
    #[arg(long)]
    sortition: bool,
    /// With --sortition: provisioners.
    #[arg(long, default_value_t = 100, requires = "sortition")]
    provisioners: usize,
    /// With --sortition: stake distribution (uniform: 1000 DUSK each; skewed: 1000·N/k DUSK for
    /// the k-th).
    #[arg(long, default_value = "uniform", value_parser = ["uniform", "skewed"], requires = "sortition")]
    distribution: String,
    /// With --sortition: sampled rounds per row.
    #[arg(long, default_value_t = 10_000, requires = "sortition")]
    samples: usize,
    /// With --sortition: base seed.
    #[arg(long, default_value_t = 1, requires = "sortition")]
    seed: u64,
    /// With --sortition: iterations per round.
    #[arg(long, default_value_t = 50, requires = "sortition")]
    iterations: u8,
    /// With --sortition: absent stake in percent, comma-separated.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "0,5,10,15,20,25,30,33,35,40",
        requires = "sortition"
    )]
    absent: Vec<u32>,
}

/// `sa degrade --sortition`: the table computed with the spec's sortition.
#[allow(
    clippy::too_many_lines,
    reason = "a subcommand mode: flags, seeded rounds, CSV, chart"
)]
fn run_sortition(args: &Args) -> u8 {
    use sa_checker::degrade::{degradation, DegradeParams, Distribution};
    if args.provisioners < 3 || args.samples == 0 || args.iterations == 0 || args.committee == 0 {
        eprintln!("sa degrade: --provisioners must be at least 3; --samples, --iterations, --committee at least 1");
        return EXIT_BAD_INPUT;
    }
    if let Some(bad) = args.absent.iter().find(|a| **a >= 100) {
        eprintln!("sa degrade: --absent {bad}: a percentage below 100");
        return EXIT_BAD_INPUT;
    }
    let params = DegradeParams {
        provisioners: args.provisioners,
        distribution: if args.distribution == "skewed" {
            Distribution::Skewed
        } else {
            Distribution::Uniform
        },
        committee_credits: args.committee,
        max_iterations: args.iterations,
        samples: args.samples,
        seed: args.seed,
        absent_percent: args.absent.clone(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let started = std::time::Instant::now();
    let rows = degradation(&params);
    let c = args.committee;
    let sm = c - c / 3;
    if args.json {
        let v = serde_json::json!({ "params": params, "rows": rows });
        crate::provenance::print_json("sa-degrade-sortition/1", &v, None);
    } else {
        println!(
            "N = {}, {} stakes, C = {c}, SM = {sm}, {} iterations, {} seeded rounds per row, seed {}; {:.1} s",
            args.provisioners,
            args.distribution,
            args.iterations,
            args.samples,
            args.seed,
            started.elapsed().as_secs_f64()
        );
        println!();
        println!("| absent stake | P(good iteration) | binomial estimate | mean iterations | p99 iterations | rounds with no good iteration | mean s/block | p99 s/block |");
        println!("|---:|---:|---:|---:|---:|---:|---:|---:|");
        for r in &rows {
            println!(
                "| {:.1}% | {:.4} ± {:.4} | {:.4} | {:.2} | {} | {:.2}% | {:.1} | {:.1} |",
                r.absent_share * 100.0,
                r.p_good,
                r.p_good_std_error,
                r.p_good_binomial,
                r.mean_iterations,
                r.p99_iterations,
                r.no_good_iteration * 100.0,
                r.mean_seconds,
                r.p99_seconds
            );
        }
    }
    if let Some(file) = &args.csv {
        let mut out = String::from("absent_percent,absent_share,p_good,p_good_std_error,p_good_binomial,mean_iterations,p99_iterations,no_good_iteration,mean_seconds,p99_seconds\n");
        for r in &rows {
            out.push_str(&format!(
                "{},{:.4},{:.6},{:.6},{:.6},{:.4},{},{:.6},{:.3},{:.3}\n",
                r.absent_percent,
                r.absent_share,
                r.p_good,
                r.p_good_std_error,
                r.p_good_binomial,
                r.mean_iterations,
                r.p99_iterations,
                r.no_good_iteration,
                r.mean_seconds,
                r.p99_seconds
            ));
        }
        match std::fs::write(file, out) {
            Ok(()) => eprintln!("CSV written to {}", file.display()),
            Err(e) => eprintln!("sa degrade: cannot write {}: {e}", file.display()),
        }
    }
    let label = format!("N = {} {}, C = {c}", args.provisioners, args.distribution);
    match plot_sortition(&args.plot, &rows, c, sm, &label) {
        Ok(()) => eprintln!("plot written to {}", args.plot.display()),
        Err(e) => {
            eprintln!("sa degrade: no plot: {e}");
            return EXIT_FAILED;
        }
    }
    EXIT_OK
}

/// A plot panel: its area, title, y label and lines (name, points, colour).
type Panel<'r, 'b> = (
    &'r DrawingArea<BitMapBackend<'b>, plotters::coord::Shift>,
    &'static str,
    &'static str,
    Vec<(&'static str, Vec<(f64, f64)>, RGBColor)>,
);

#[allow(
    clippy::too_many_lines,
    reason = "one chart: axes, series, legend, in drawing order (plotters)"
)]
fn plot_sortition(
    path: &PathBuf,
    rows: &[sa_checker::degrade::DegradeRow],
    c: u32,
    sm: u32,
    label: &str,
) -> Result<(), String> {
    register_font()?;
    let root = BitMapBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(600);
    let xmax = rows
        .iter()
        .map(|r| r.absent_share * 100.0)
        .fold(0.0f64, f64::max);
    let bound = f64::from(c - sm) / f64::from(c) * 100.0;
    let series = |f: &dyn Fn(&sa_checker::degrade::DegradeRow) -> f64| -> Vec<(f64, f64)> {
        rows.iter()
            .map(|r| (r.absent_share * 100.0, f(r)))
            .collect()
    };
    let panels: [Panel<'_, '_>; 2] = [
        (
            &left,
            "P(good iteration)",
            "probability",
            vec![
                ("sortition (seeded rounds)", series(&|r| r.p_good), BLUE),
                (
                    "binomial estimate",
                    series(&|r| r.p_good_binomial),
                    RGBColor(120, 120, 120),
                ),
            ],
        ),
        (
            &right,
            "iterations per round",
            "iterations",
            vec![
                ("mean", series(&|r| r.mean_iterations), BLUE),
                (
                    "99th percentile",
                    series(&|r| f64::from(r.p99_iterations)),
                    RGBColor(230, 120, 0),
                ),
            ],
        ),
    ];
    for (area, title, ylabel, lines) in panels {
        let ymax = lines
            .iter()
            .flat_map(|(_, d, _)| d.iter().map(|p| p.1))
            .fold(1.0f64, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(area)
            .caption(format!("{title} ({label})"), ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..xmax.max(1.0), 0f64..ymax)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("absent stake (%)")
            .y_desc(ylabel)
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 16))
            .draw()
            .map_err(|e| e.to_string())?;
        if bound <= xmax {
            chart
                .draw_series(LineSeries::new(
                    [(bound, 0.0), (bound, ymax)],
                    RED.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(format!("(C - SM)/C = {bound:.1}%"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
        }
        for (name, data, colour) in lines {
            chart
                .draw_series(LineSeries::new(
                    data.iter().copied(),
                    colour.stroke_width(2),
                ))
                .map_err(|e| e.to_string())?
                .label(name)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2))
                });
            chart
                .draw_series(data.iter().map(|p| Circle::new(*p, 4, colour.filled())))
                .map_err(|e| e.to_string())?;
        }
        legend(&mut chart)?;
    }
    root.present().map_err(|e| e.to_string())
}

/// The legend box of a plot panel, upper left.
type Panel2d =
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>;

fn legend<'a, DB: DrawingBackend + 'a>(
    chart: &mut ChartContext<'a, DB, Panel2d>,
) -> Result<(), String> {
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK)
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(|e| e.to_string())
}

fn register_font() -> Result<(), String> {
    let font = FONT_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or("no DejaVuSans.ttf font found for the plot's text")?;
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "the font could not be loaded".to_string())
}

/// The rows as CSV.
fn csv(rows: &[Summary]) -> String {
    let mut out = String::from(
        "absent,blocks,median_block_s,iterations_per_block,failed_iterations,final_height,safety\n",
    );
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            r.absent,
            r.height,
            r.median_block_ms
                .map(|b| format!("{:.3}", b as f64 / 1000.0))
                .unwrap_or_default(),
            r.mean_iterations
                .map(|i| format!("{i:.2}"))
                .unwrap_or_default(),
            r.failed_iterations,
            r.final_height,
            if r.violations.is_empty() {
                "ok".to_string()
            } else {
                r.violations
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
                    .replace(',', ";")
            }
        ));
    }
    out
}

/// Runs the sweep.
#[allow(
    clippy::too_many_lines,
    reason = "a subcommand: flags, grid, testnet runs, table and chart"
)]
pub fn run(args: Args) -> u8 {
    let stake = sharp_stake(args.nodes, args.committee);
    let bound = absence_bound(args.nodes, args.committee, stake);
    let max = args.max_absent.unwrap_or(bound + 1).min(args.nodes - 1);
    // Bad input before any work: the plot's directory must exist.
    if let Err(e) = crate::writable(&args.plot) {
        eprintln!("sa degrade: --plot {}: {e}", args.plot.display());
        return EXIT_BAD_INPUT;
    }
    if let Some(Err(e)) = args.csv.as_deref().map(crate::writable) {
        eprintln!(
            "sa degrade: --csv {}: {e}",
            args.csv
                .as_deref()
                .unwrap_or(std::path::Path::new(""))
                .display()
        );
        return EXIT_BAD_INPUT;
    }
    if args.sortition {
        return run_sortition(&args);
    }
    let node_command = match crate::running::node_command() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("sa degrade: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let interrupt = crate::ctrl_c_flag();
    let mut rows: Vec<Summary> = Vec::new();
    for k in 0..=max {
        eprintln!("sa degrade: {} nodes, {k} absent ...", args.nodes);
        let net = Options {
            nodes: args.nodes,
            absent: k,
            crashes: vec![],
            behaviours: std::collections::BTreeMap::new(),
            delay: 0,
            time_scale: args.time_scale,
            committee: args.committee,
            blocks: args.blocks,
            duration: std::time::Duration::from_secs(args.duration),
            dir: None,
            soft_slash_warnings: 1,
            schedule: None,
            finality: Default::default(),
            hostile_load: false,
            attack_load: false,
            node_command: node_command.clone(),
            interrupt: interrupt.clone(),
        };
        match sa_testkit::testnet::run(&net, &mut |_| {}) {
            Ok(s) => rows.push(s),
            Err(e) => {
                eprintln!("sa degrade: {e}");
                return EXIT_BAD_INPUT;
            }
        }
        if interrupt.load(std::sync::atomic::Ordering::Relaxed) {
            eprintln!("sa degrade: interrupted (Ctrl-C); no table or plot written");
            return crate::EXIT_INTERRUPTED;
        }
    }
    if args.json {
        crate::provenance::print_json("sa-degrade/1", &serde_json::json!({ "rows": rows }), None);
    } else {
        println!(
            "N = {}, C = {}, stake {} DUSK each, absence bound {}, time scale {}, {} blocks or {} s per run",
            args.nodes, args.committee, stake, bound, args.time_scale, args.blocks, args.duration
        );
        println!();
        println!("| absent | blocks | median block time (s) | iterations per block | failed iterations | Final height | safety |");
        println!("|---:|---:|---:|---:|---:|---:|---|");
        for r in &rows {
            println!(
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.absent,
                r.height,
                r.median_block_ms
                    .map(|b| format!("{:.2}", b as f64 / 1000.0))
                    .unwrap_or_else(|| "no block".into()),
                r.mean_iterations
                    .map(|i| format!("{i:.2}"))
                    .unwrap_or_else(|| "-".into()),
                r.failed_iterations,
                r.final_height,
                if r.violations.is_empty() {
                    "ok".to_string()
                } else {
                    r.violations
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; ")
                }
            );
        }
    }
    if let Some(file) = &args.csv {
        match std::fs::write(file, csv(&rows)) {
            Ok(()) => eprintln!("CSV written to {}", file.display()),
            Err(e) => eprintln!("sa degrade: cannot write {}: {e}", file.display()),
        }
    }
    match plot(&args.plot, &rows, bound, args.time_scale) {
        Ok(()) => eprintln!("plot written to {}", args.plot.display()),
        Err(e) => eprintln!("sa degrade: no plot: {e}"),
    }
    if rows.iter().all(|r| r.violations.is_empty()) {
        EXIT_OK
    } else {
        EXIT_FAILED
    }
}

const FONT_PATHS: &[&str] = &[
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
];

#[allow(
    clippy::too_many_lines,
    reason = "one chart: axes, series, legend, in drawing order (plotters)"
)]
fn plot(path: &PathBuf, rows: &[Summary], bound: u32, scale: f64) -> Result<(), String> {
    register_font()?;
    let root = BitMapBackend::new(path, (1200, 600)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(600);
    let max_k = rows.iter().map(|r| r.absent).max().unwrap_or(0);
    let bt: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| {
            r.median_block_ms
                .map(|b| (f64::from(r.absent), b as f64 / 1000.0 / scale))
        })
        .collect();
    let its: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| r.mean_iterations.map(|i| (f64::from(r.absent), i)))
        .collect();
    let stalled: Vec<f64> = rows
        .iter()
        .filter(|r| r.median_block_ms.is_none())
        .map(|r| f64::from(r.absent))
        .collect();
    // The axis ends at the data (half a step of margin each side); the bound is drawn between
    // the last absence within it and the first past it.
    let (x0, x1) = (-0.25, f64::from(max_k) + 0.25);
    let bound_x = f64::from(bound) + if bound < max_k { 0.5 } else { 0.0 };
    for (area, title, data, ylabel) in [
        (
            &left,
            "median block time",
            &bt,
            "seconds (unscaled protocol time)",
        ),
        (&right, "iterations per block", &its, "iterations"),
    ] {
        let ymax = data.iter().map(|(_, y)| *y).fold(1.0f64, f64::max) * 1.15;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "{title} (N = {}, bound {bound} absent)",
                    rows.first().map_or(0, |r| r.nodes)
                ),
                ("sans-serif", 22),
            )
            .margin(16)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, 0f64..ymax)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("absent provisioners")
            .y_desc(ylabel)
            .axis_desc_style(("sans-serif", 18))
            .label_style(("sans-serif", 16))
            .x_labels((max_k + 1) as usize * 2 + 1)
            .x_label_formatter(&|x| {
                if (x - x.round()).abs() < 1e-9 && *x >= 0.0 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(
                [(bound_x, 0.0), (bound_x, ymax)],
                RED.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("absence bound: at most {bound} absent"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], RED.stroke_width(2)));
        chart
            .draw_series(LineSeries::new(data.iter().copied(), BLUE.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label("measured (testnet)")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        chart
            .draw_series(data.iter().map(|p| Circle::new(*p, 5, BLUE.filled())))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(stalled.iter().map(|k| {
                Text::new(
                    "no block",
                    (*k - 0.2, ymax * 0.5),
                    ("sans-serif", 16).into_font().color(&RED),
                )
            }))
            .map_err(|e| e.to_string())?;
        legend(&mut chart)?;
    }
    root.present().map_err(|e| e.to_string())
}
