//! A testnet run as the testnet commands show it (`sa testnet`, `sa soak`, `sa degrade`): the
//! driver of `sa_testkit::testnet` started with this binary's `sa node`, its story printed
//! line by line with a progress bar on a terminal.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};
use sa_testkit::testnet::{NodeCommand, Options, Progress, Summary};

/// This binary's `sa node --config`.
pub fn node_command() -> Result<NodeCommand, String> {
    Ok(NodeCommand {
        program: std::env::current_exe().map_err(|e| format!("cannot find the sa binary: {e}"))?,
        args: vec!["node".into(), "--config".into()],
    })
}

/// Runs the driver, printing its story (`show`), with a progress bar on a terminal; `own_dir`:
/// the caller says what happens to the directory (no line about it here).
pub fn drive(o: &Options, show: bool, own_dir: bool) -> Result<Summary, String> {
    let pb = (show && std::io::stdout().is_terminal()).then(|| {
        let pb = ProgressBar::new(o.blocks);
        pb.set_style(
            ProgressStyle::with_template("{spinner} blocks {pos}/{len} {elapsed} {msg}")
                .expect("template"),
        );
        pb
    });
    let say = |line: String| match &pb {
        Some(pb) => pb.println(line),
        None if show => println!("{line}"),
        None => {}
    };
    let summary = sa_testkit::testnet::run(o, &mut |p| match p {
        Progress::Started { header, dir, kept } => {
            say(format!("sa testnet: {header}"));
            if own_dir {
            } else if kept {
                say(format!("directory: {} (kept)", dir.display()));
            } else {
                say(format!(
                    "directory: {} (temporary, deleted at the end; --dir DIR keeps the logs, events and configs)",
                    dir.display()
                ));
            }
        }
        Progress::Line(l) => say(l),
        Progress::Height(h) => {
            if let Some(pb) = &pb {
                pb.set_position(h.min(o.blocks));
            }
        }
    });
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    summary
}
