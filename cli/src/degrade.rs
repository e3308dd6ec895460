//! `sa degrade`: the graceful-degradation benchmark. Runs the testnet with 0, 1, 2, … absent
//! nodes out of N and reports, for each, the median block time and the iterations per block,
//! as a Markdown table and a PNG plot.

use std::path::PathBuf;

use plotters::prelude::*;

use crate::testnet::{run_testnet, Args as NetArgs, Summary};
use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Arguments of `sa degrade`.
#[derive(clap::Args)]
pub struct Args {
    /// Provisioners (N ≥ 7 for the benchmark the README reports).
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
    /// Print the rows as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Runs the sweep.
pub fn run(args: Args) -> u8 {
    let stake = crate::testnet::sharp_stake(args.nodes, args.committee);
    let bound = crate::testnet::absence_bound(args.nodes, args.committee, stake);
    let max = args.max_absent.unwrap_or(bound + 1).min(args.nodes - 1);
    // Bad input before any work: the plot's directory must exist.
    if let Err(e) = crate::writable(&args.plot) {
        eprintln!("sa degrade: --plot {}: {e}", args.plot.display());
        return EXIT_BAD_INPUT;
    }
    let mut rows: Vec<Summary> = Vec::new();
    for k in 0..=max {
        eprintln!("sa degrade: {} nodes, {k} absent ...", args.nodes);
        let net = NetArgs {
            nodes: args.nodes,
            absent: k,
            crash: vec![],
            misbehave: vec![],
            delay: 0,
            time_scale: args.time_scale,
            committee: args.committee,
            blocks: args.blocks,
            duration: args.duration,
            dir: None,
            soft_slash_warnings: 1,
            quiet: true,
            json: false,
        };
        match run_testnet(&net, false) {
            Ok(s) => rows.push(s),
            Err(e) => {
                eprintln!("sa degrade: {e}");
                return EXIT_BAD_INPUT;
            }
        }
    }
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&rows).expect("serializable")
        );
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
                    r.violations.join("; ")
                }
            );
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

fn plot(path: &PathBuf, rows: &[Summary], bound: u32, scale: f64) -> Result<(), String> {
    let font = FONT_PATHS
        .iter()
        .find_map(|p| std::fs::read(p).ok())
        .ok_or("no DejaVuSans.ttf font found for the plot's text")?;
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, font)
        .map_err(|_| "the font could not be loaded")?;
    let root = BitMapBackend::new(path, (900, 520)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (left, right) = root.split_horizontally(450);
    let max_k = rows.iter().map(|r| r.absent).max().unwrap_or(0);
    let bt: Vec<(u32, f64)> = rows
        .iter()
        .filter_map(|r| {
            r.median_block_ms
                .map(|b| (r.absent, b as f64 / 1000.0 / scale))
        })
        .collect();
    let its: Vec<(u32, f64)> = rows
        .iter()
        .filter_map(|r| r.mean_iterations.map(|i| (r.absent, i)))
        .collect();
    let stalled: Vec<u32> = rows
        .iter()
        .filter(|r| r.median_block_ms.is_none())
        .map(|r| r.absent)
        .collect();
    for (area, title, data, ylabel) in [
        (
            &left,
            "median block time",
            &bt,
            "seconds (unscaled protocol time)",
        ),
        (&right, "iterations per block", &its, "iterations"),
    ] {
        let ymax = data.iter().map(|(_, y)| *y).fold(1.0f64, f64::max) * 1.3;
        let mut chart = ChartBuilder::on(area)
            .caption(
                format!(
                    "{title} (N = {}, bound {bound})",
                    rows.first().map_or(0, |r| r.nodes)
                ),
                ("sans-serif", 18),
            )
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0u32..max_k + 1, 0f64..ymax)
            .map_err(|e| e.to_string())?;
        chart
            .configure_mesh()
            .x_desc("absent provisioners")
            .y_desc(ylabel)
            .x_labels((max_k + 2) as usize)
            .draw()
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(LineSeries::new(data.iter().copied(), &BLUE))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(data.iter().map(|p| Circle::new(*p, 4, BLUE.filled())))
            .map_err(|e| e.to_string())?;
        chart
            .draw_series(stalled.iter().map(|k| {
                Text::new(
                    "no block",
                    (*k, ymax * 0.5),
                    ("sans-serif", 14).into_font().color(&RED),
                )
            }))
            .map_err(|e| e.to_string())?;
    }
    root.present().map_err(|e| e.to_string())
}
