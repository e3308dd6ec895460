//! A testnet of N `sa node` processes on loopback: a generated genesis, fault injection
//! (absent nodes, kill -9 and restart, network delay, misbehaving nodes, a hostile
//! transaction load) and the [`Monitor`] judging every node's typed events. `sa testnet`,
//! `sa soak` and `sa degrade` are front ends of [`run`].

mod load;
mod monitor;
mod network;
mod schedule;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use sa_node::config::Behaviour;
use sa_node::events::EventLine;
use sa_node::tally::Thresholds;
use serde::Serialize;

pub use monitor::{Monitor, Observed, Property, Violation};
pub use network::{
    absence_bound, parse_crash, parse_misbehave, sharp_stake, write_network, Crash, Network,
};
pub use schedule::{NetworkSpec, ScheduleSpec};

/// How to start one node: `program args... <node file>` (the `sa` binary and `node --config`).
#[derive(Clone, Debug)]
pub struct NodeCommand {
    /// The executable.
    pub program: PathBuf,
    /// Arguments before the node file's path.
    pub args: Vec<String>,
}

/// What a run does.
#[derive(Clone, Debug)]
pub struct Options {
    /// Provisioners (one process each), 1..=64.
    pub nodes: u32,
    /// This many (the highest-numbered) never start.
    pub absent: u32,
    /// Crashes to inject.
    pub crashes: Vec<Crash>,
    /// Misbehaving nodes.
    pub behaviours: BTreeMap<u32, Behaviour>,
    /// Delay added to every message, ms.
    pub delay: u64,
    /// Multiplier of every protocol duration, in (0, 10].
    pub time_scale: f64,
    /// Committee credits C, 1..=64.
    pub committee: u32,
    /// Stop when the first node reaches this height.
    pub blocks: u64,
    /// Stop after this long whatever happened.
    pub duration: Duration,
    /// Directory for the genesis, node files and logs (None: a temporary one, deleted).
    pub dir: Option<PathBuf>,
    /// SLASH-2's WARNINGS.
    pub soft_slash_warnings: u8,
    /// Send the hostile contracts' transactions.
    pub hostile_load: bool,
    /// With the load, the audit's attacks on state.
    pub attack_load: bool,
    /// A network schedule every node applies to what it sends, with the network it was
    /// written for (its stakes and seed replace the testnet's; its node count and committee
    /// replace `nodes` and `committee`).
    pub schedule: Option<ScheduleSpec>,
    /// The finality rule (spec/variants.md; Dusk's by default).
    pub finality: sa_node::config::Finality,
    /// How to start a node.
    pub node_command: NodeCommand,
    /// Set from outside (Ctrl-C) to stop the run early.
    pub interrupt: Arc<AtomicBool>,
}

/// What the driver reports while it runs.
#[derive(Debug)]
pub enum Progress {
    /// The network is written: a header line, and where its files are.
    Started {
        /// One line: nodes, stakes, bound, scale.
        header: String,
        /// The directory.
        dir: PathBuf,
        /// Whether it is kept after the run.
        kept: bool,
    },
    /// A line of the run's story (a new block, a kill, a fallback, a rejection).
    Line(String),
    /// The highest height any node accepted.
    Height(u64),
}

/// What a run measured.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Provisioners.
    pub nodes: u32,
    /// Never started.
    pub absent: u32,
    /// The absence bound computed from C, the stakes and SORT-5.
    pub absence_bound: u32,
    /// Committee credits.
    pub committee: u32,
    /// Stake of each provisioner in DUSK.
    pub stake_dusk: u64,
    /// Highest height any node accepted.
    pub height: u64,
    /// Highest height Final on every running node.
    pub final_height: u64,
    /// Median time between consecutive blocks (header timestamps), ms.
    pub median_block_ms: Option<u64>,
    /// Mean iterations per block (iteration + 1).
    pub mean_iterations: Option<f64>,
    /// Iterations that failed (Fail attestation or timeout), summed over distinct rounds.
    pub failed_iterations: u64,
    /// Safety violations seen (must be empty).
    pub violations: Vec<Violation>,
    /// Fault proofs found against nodes configured to misbehave.
    pub detected_faults: u64,
    /// Messages rejected by nodes.
    pub rejected: u64,
    /// Seconds from the start to the first acceptance of the highest block (None: no block).
    pub last_block_at_s: Option<f64>,
    /// The run was stopped by its interrupt flag before its height or duration.
    pub interrupted: bool,
    /// Nodes that exited without being killed by the runner (each also reported at once).
    pub unexpected_exits: Vec<String>,
    /// Restarts whose restored chain was compared with what the previous process had reported
    /// accepting (every reported block is durable: the log is fsynced before the event).
    pub restarts_checked: u64,
    /// Restarts whose restored tip lost a block the previous process reported (must be empty;
    /// also in `violations`).
    pub lost_blocks: Vec<Violation>,
    /// Restarted nodes that reported no new Final height after their last restart (a short
    /// run may end first; `sa soak` requires it).
    pub not_back: Vec<String>,
    /// Heights first accepted after the last crash fired (None: no crash): past the absence
    /// bound at most the round in flight can still end (its quorum already formed).
    pub heights_after_last_crash: Option<u64>,
    /// Transactions sent by the hostile load (to each node).
    pub transactions_sent: u64,
    /// Transactions in accepted blocks (after the coinbase), counted once per height.
    pub transactions_included: u64,
    /// Of those, the failed ones by receipt code (spec/execution.md EXEC-TX-2).
    pub transactions_failed: BTreeMap<String, u64>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
}

impl Summary {
    /// The violations of one property.
    pub fn violations_of(&self, p: Property) -> impl Iterator<Item = &Violation> {
        self.violations.iter().filter(move |v| v.property == p)
    }
}

/// What a node's process sends the driver.
enum FromNode {
    Event(u32, u32, EventLine),
    Stderr(u32, String),
}

/// The options with a schedule's network in place of `nodes` and `committee`.
fn with_schedule_network(o: &Options) -> Options {
    let mut o = o.clone();
    if let Some(n) = o.schedule.as_ref().map(|s| s.network.clone()) {
        if let Some(s) = &n.stakes {
            o.nodes = u32::try_from(s.len()).unwrap_or(u32::MAX);
        }
        if let Some(c) = n.committee {
            o.committee = c;
        }
    }
    o
}

/// Checks the options; Err names the flag.
fn validate(o: &Options) -> Result<(), String> {
    if let Some(s) = &o.schedule {
        s.validate(o.nodes)?;
    }
    if o.nodes < 1 || o.nodes > 64 {
        return Err("--nodes must be 1..=64".into());
    }
    if o.absent >= o.nodes {
        return Err(format!("--absent {} leaves no node running", o.absent));
    }
    if !(o.time_scale > 0.0 && o.time_scale <= 10.0) {
        return Err("--time-scale must be in (0, 10]".into());
    }
    if o.committee == 0 || o.committee > 64 {
        return Err("--committee must be 1..=64".into());
    }
    if o.blocks == 0 {
        return Err("--blocks must be at least 1 (the run stops at that height)".into());
    }
    if o.duration.is_zero() {
        return Err("--duration must be at least 1 second".into());
    }
    if let Some(c) = o.crashes.iter().find(|c| c.node >= o.nodes) {
        return Err(format!("--crash: node {} does not exist", c.node));
    }
    if let Some(n) = o.behaviours.keys().find(|n| **n >= o.nodes) {
        return Err(format!("--misbehave: node {n} does not exist"));
    }
    Ok(())
}

/// The run's directory: the given one (refused unless new or empty) or a fresh temporary one.
fn prepare_dir(dir: Option<&Path>) -> Result<PathBuf, String> {
    let dir = match dir {
        Some(d) => {
            // A testnet starts from a fresh genesis: old node logs would be restored against
            // it. Nothing the user kept is deleted; a used directory is refused instead.
            if std::fs::read_dir(d).is_ok_and(|mut entries| entries.next().is_some()) {
                return Err(format!(
                    "--dir {}: exists and is not empty (a testnet starts from a fresh genesis; \
                     choose a new directory)",
                    d.display()
                ));
            }
            d.to_path_buf()
        }
        None => {
            let d = std::env::temp_dir().join(format!("sa-testnet-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            d
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}

/// Starts node `i`'s process; its events reach `tx` tagged with `incarnation` (how many times
/// the node was started before), so that a restart can be compared with what the previous
/// process reported, whatever order the two pipes are read in. Every line is also appended to
/// `nodeI.events.jsonl` beside the node's file (kept with `--dir`; append mode keeps the
/// history across a restart).
fn spawn(
    cmd: &NodeCommand,
    i: u32,
    incarnation: u32,
    config: &Path,
    tx: &mpsc::Sender<FromNode>,
) -> Result<Child, String> {
    let mut command = Command::new(&cmd.program);
    // Its own process group: a Ctrl-C at the terminal reaches the runner, which stops the
    // nodes and prints the summary, not the nodes behind its back.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .args(&cmd.args)
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node {i}: {e}"))?;
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    let events_path = config.with_extension("events.jsonl");
    let mut events = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&events_path)
        .map_err(|e| format!("cannot open {}: {e}", events_path.display()))?;
    let tx2 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = writeln!(events, "{line}");
            if let Some(e) = EventLine::parse(&line) {
                if tx2.send(FromNode::Event(i, incarnation, e)).is_err() {
                    return;
                }
            }
        }
    });
    let tx3 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx3.send(FromNode::Stderr(i, line));
        }
    });
    Ok(child)
}

/// The processes, their files and the crash schedule.
struct Procs {
    cmd: NodeCommand,
    children: Vec<Option<Child>>,
    configs: Vec<PathBuf>,
    running: u32,
    pending: Vec<Crash>,
    restarts: Vec<(f64, u32)>,
    unexpected_exits: Vec<String>,
}

impl Procs {
    fn alive(&self) -> Vec<u32> {
        (0..self.running)
            .filter(|n| self.children[*n as usize].is_some())
            .collect()
    }

    /// Kills what is due, restarts what is due, notes unexpected exits; returns whether the
    /// last crash fired now, and the lines to show.
    fn inject(
        &mut self,
        secs: f64,
        mon: &mut Monitor,
        tx: &mpsc::Sender<FromNode>,
    ) -> Result<(bool, Vec<String>), String> {
        let mut lines = Vec::new();
        let before = self.pending.len();
        let mut fired = Vec::new();
        self.pending.retain(|c| {
            let due = c.at <= secs;
            if due {
                fired.push(c.clone());
            }
            !due
        });
        for c in fired {
            if let Some(mut ch) = self.children[c.node as usize].take() {
                let _ = ch.kill(); // SIGKILL
                let _ = ch.wait();
                lines.push(format!("  [{secs:6.1}s] killed n{} (kill -9)", c.node));
            }
            if let Some(d) = c.down {
                self.restarts.push((c.at + d, c.node));
            }
        }
        let mut due = Vec::new();
        self.restarts.retain(|(t, n)| {
            let now = *t <= secs;
            if now {
                due.push(*n);
            }
            !now
        });
        for n in due {
            if n < self.running && self.children[n as usize].is_none() {
                let k = mon.started(n);
                let child = spawn(&self.cmd, n, k, &self.configs[n as usize], tx)?;
                self.children[n as usize] = Some(child);
                lines.push(format!("  [{secs:6.1}s] restarted n{n} from its log"));
            }
        }
        // A node that exits without being killed is reported at once.
        for (n, slot) in self.children.iter_mut().enumerate() {
            let status = slot.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = status {
                *slot = None;
                let what = format!("n{n} exited unexpectedly at {secs:.1} s ({status})");
                lines.push(format!("  [{secs:6.1}s] {what}"));
                self.unexpected_exits.push(what);
            }
        }
        Ok((before > 0 && self.pending.is_empty(), lines))
    }

    fn stop_all(&mut self) {
        for c in self.children.iter_mut().filter_map(Option::take) {
            let mut c = c;
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The network a run writes (a schedule's stakes and seed in place of the sharp stake) and the
/// largest stake in DUSK.
fn network_of(o: &Options) -> Result<(Network, u64), String> {
    let spec = o.schedule.as_ref().map(|s| &s.network);
    let stakes = spec.and_then(|n| n.stakes.clone());
    let stake = stakes
        .as_ref()
        .and_then(|s| s.iter().max().copied())
        .unwrap_or_else(|| sharp_stake(o.nodes, o.committee));
    let net = Network {
        nodes: o.nodes,
        committee: o.committee,
        time_scale: o.time_scale,
        delay: o.delay,
        addrs: network::free_addrs(o.nodes)?,
        behaviours: o.behaviours.clone(),
        soft_slash_warnings: o.soft_slash_warnings,
        schedule: o.schedule.clone().map(|s| s.schedule).unwrap_or_default(),
        stakes,
        seed: spec.and_then(|n| n.seed),
        finality: o.finality,
    };
    Ok((net, stake))
}

/// The run's header line.
fn header_of(o: &Options, net: &Network, stake: u64, bound: u32) -> String {
    let running = o.nodes - o.absent;
    let stakes_text = match &net.stakes {
        Some(s) => format!(
            "stakes {} DUSK, seed {}",
            s.iter().map(u64::to_string).collect::<Vec<_>>().join(", "),
            net.seed.unwrap_or(1)
        ),
        None => format!("stake {stake} DUSK each (at most {stake} credits per committee)"),
    };
    let mut extra = String::new();
    if let Some(s) = &o.schedule {
        extra += &format!(", schedule {} ({} rules)", s.source, s.schedule.rules.len());
    }
    if !o.finality.is_dusk() {
        // The name `--finality` takes (sa-node's serde name: dusk, sm-fail, closed).
        let name = serde_json::to_value(o.finality).unwrap_or_default();
        extra += &format!(", finality {}", name.as_str().unwrap_or("?"));
    }
    format!(
        "{} nodes ({running} running, {} absent), C = {}, {stakes_text}, absence bound {bound} (SORT-5 + SM = {}), time scale {}, delay {} ms{extra}",
        o.nodes,
        o.absent,
        o.committee,
        Thresholds::for_credits(o.committee).supermajority,
        o.time_scale,
        o.delay
    )
}

/// Runs a testnet and returns its summary (Err: bad options or a setup failure).
pub fn run(o: &Options, progress: &mut dyn FnMut(Progress)) -> Result<Summary, String> {
    let o = &with_schedule_network(o);
    validate(o)?;
    let dir = prepare_dir(o.dir.as_deref())?;
    let (net, stake) = network_of(o)?;
    let bound = absence_bound(o.nodes, o.committee, stake);
    let configs = write_network(&dir, &net)?;
    let chain = load::Chain::of(&dir.join("genesis.toml"))?;
    let running = o.nodes - o.absent;
    progress(Progress::Started {
        header: header_of(o, &net, stake, bound),
        dir: dir.clone(),
        kept: o.dir.is_some(),
    });
    let (tx, rx) = mpsc::channel::<FromNode>();
    let mut mon = Monitor::new(o.nodes, &o.behaviours);
    let mut procs = Procs {
        cmd: o.node_command.clone(),
        children: (0..o.nodes).map(|_| None).collect(),
        configs,
        running,
        pending: o.crashes.clone(),
        restarts: vec![],
        unexpected_exits: vec![],
    };
    for i in 0..running {
        let k = mon.started(i);
        let child = spawn(&procs.cmd, i, k, &procs.configs[i as usize], &tx);
        match child {
            Ok(c) => procs.children[i as usize] = Some(c),
            Err(e) => {
                procs.stop_all();
                return Err(e);
            }
        }
    }
    let addrs: Vec<SocketAddr> = net.addrs[..running as usize].to_vec();
    let result = drive(
        o,
        &mut procs,
        &mut mon,
        (&tx, &rx),
        (&addrs, &chain),
        progress,
    );
    procs.stop_all();
    if o.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (run, transactions_sent) = result?;
    Ok(summarize(
        o,
        bound,
        stake,
        mon,
        procs,
        run,
        transactions_sent,
        progress,
    ))
}

/// What the loop of [`drive`] saw besides the monitor.
struct RunState {
    start: Instant,
    last_block_at: Option<f64>,
    height_at_last_crash: Option<u64>,
    interrupted: bool,
}

/// The run's loop: inject faults, read events, until the height, the duration or an
/// interrupt; returns its state and the transactions the load sent.
fn drive(
    o: &Options,
    procs: &mut Procs,
    mon: &mut Monitor,
    (tx, rx): (&mpsc::Sender<FromNode>, &mpsc::Receiver<FromNode>),
    (addrs, chain): (&[SocketAddr], &load::Chain),
    progress: &mut dyn FnMut(Progress),
) -> Result<(RunState, u64), String> {
    let mut st = RunState {
        start: Instant::now(),
        last_block_at: None,
        height_at_last_crash: None,
        interrupted: false,
    };
    let load_stop = Arc::new(AtomicBool::new(false));
    let included_seen = Arc::new(AtomicU64::new(0));
    let load = (o.hostile_load || o.attack_load).then(|| {
        let (addrs, stop, seen, attack, chain) = (
            addrs.to_vec(),
            load_stop.clone(),
            included_seen.clone(),
            o.attack_load,
            chain.clone(),
        );
        std::thread::spawn(move || load::hostile_load(&addrs, &chain, &stop, &seen, attack))
    });
    let outcome = loop {
        if o.interrupt.load(Ordering::SeqCst) {
            st.interrupted = true;
            progress(Progress::Line(format!(
                "  [{:6.1}s] interrupted (Ctrl-C): stopping the nodes",
                st.start.elapsed().as_secs_f64()
            )));
            break Ok(());
        }
        let elapsed = st.start.elapsed();
        if elapsed >= o.duration || mon.top() >= o.blocks {
            break Ok(());
        }
        let top = mon.top();
        let (last_fired, lines) = match procs.inject(elapsed.as_secs_f64(), mon, tx) {
            Ok(x) => x,
            Err(e) => break Err(e),
        };
        if last_fired {
            st.height_at_last_crash = Some(top);
        }
        lines.into_iter().for_each(|l| progress(Progress::Line(l)));
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(FromNode::Event(i, k, e)) => {
                let seen = mon.observe(i, k, &e.event, &procs.alive());
                seen.lines
                    .into_iter()
                    .for_each(|l| progress(Progress::Line(l)));
                if let Some(h) = seen.new_height {
                    st.last_block_at = Some(st.start.elapsed().as_secs_f64());
                    included_seen.store(mon.included, Ordering::SeqCst);
                    progress(Progress::Height(h));
                }
            }
            Ok(FromNode::Stderr(i, line)) => progress(Progress::Line(format!("  n{i}: {line}"))),
            Err(_) => {}
        }
    };
    load_stop.store(true, Ordering::SeqCst);
    let sent = load.and_then(|h| h.join().ok()).unwrap_or(0);
    outcome.map(|()| (st, sent))
}

/// The summary of a finished run.
#[allow(
    clippy::too_many_arguments,
    reason = "the parts of a finished run, each consumed once"
)]
fn summarize(
    o: &Options,
    bound: u32,
    stake: u64,
    mut mon: Monitor,
    procs: Procs,
    st: RunState,
    transactions_sent: u64,
    progress: &mut dyn FnMut(Progress),
) -> Summary {
    let (restarts_checked, lost_blocks) = monitor::durability(&mon.incs);
    for v in &lost_blocks {
        progress(Progress::Line(format!("  {v}")));
        mon.violations.push(v.clone());
    }
    let not_back = mon.not_back();
    let top = mon.top();
    let heights: Vec<u64> = mon.blocks.keys().copied().collect();
    let mut gaps: Vec<u64> = heights
        .windows(2)
        .filter(|w| w[1] == w[0] + 1)
        .map(|w| {
            mon.blocks[&w[1]]
                .timestamp
                .saturating_sub(mon.blocks[&w[0]].timestamp)
        })
        .collect();
    gaps.sort_unstable();
    let mean_iterations = (!mon.blocks.is_empty()).then(|| {
        mon.blocks
            .values()
            .map(|b| f64::from(b.iteration) + 1.0)
            .sum::<f64>()
            / mon.blocks.len() as f64
    });
    let final_height = (0..procs.running)
        .filter_map(|n| mon.views.get(&n).map(|w| w.last_final))
        .min()
        .unwrap_or(0);
    Summary {
        nodes: o.nodes,
        absent: o.absent,
        absence_bound: bound,
        committee: o.committee,
        stake_dusk: stake,
        height: top,
        final_height,
        median_block_ms: (!gaps.is_empty()).then(|| gaps[gaps.len() / 2]),
        mean_iterations,
        failed_iterations: mon.failed.len() as u64,
        violations: mon.violations,
        detected_faults: mon.detected_faults,
        rejected: mon.rejected,
        last_block_at_s: st.last_block_at,
        unexpected_exits: procs.unexpected_exits,
        restarts_checked,
        lost_blocks,
        not_back,
        interrupted: st.interrupted,
        heights_after_last_crash: st.height_at_last_crash.map(|h| top.saturating_sub(h)),
        transactions_sent,
        transactions_included: mon.included,
        transactions_failed: mon.tx_failed,
        seconds: st.start.elapsed().as_secs_f64(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_addresses_of_one_testnet_are_distinct() {
        let addrs = super::network::free_addrs(64).unwrap();
        let distinct: std::collections::BTreeSet<_> = addrs.iter().collect();
        assert_eq!(distinct.len(), 64);
    }
}
