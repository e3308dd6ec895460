//! `sa testnet`: N node processes on loopback with a generated genesis, per-round progress,
//! fault injection (absent nodes, kill -9 and restart, network delay) and safety monitoring
//! (no Final block reverted, Final blocks agree, no honest node equivocates).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, IsTerminal, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use sa_node::config::{Genesis, NodeConfig, Params};
use sa_node::keys::Keypair;
use sa_node::sortition::CREDIT_WEIGHT;
use sa_node::tally::Thresholds;
use serde::Serialize;
use serde_json::Value;

use crate::{EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK};

/// Exit status of a run stopped by Ctrl-C (128 + SIGINT, the shell's convention).
const EXIT_INTERRUPTED: u8 = 130;

/// Arguments of `sa testnet`.
#[derive(clap::Args, Clone)]
pub struct Args {
    /// Number of provisioners (one node process each).
    #[arg(long, default_value_t = 7)]
    pub nodes: u32,
    /// This many nodes (the highest-numbered) never start.
    #[arg(long, default_value_t = 0)]
    pub absent: u32,
    /// Kill -9 a node and restart it: NODE@SECONDS[+DOWN], e.g. `2@5+3` kills node 2 at 5 s and
    /// restarts it 3 s later (no `+DOWN`: it stays down). Repeatable.
    #[arg(long = "crash")]
    pub crash: Vec<String>,
    /// Make a node misbehave: NODE:invalid-candidates (proposes candidates whose state root
    /// re-execution does not reproduce) or NODE:double-vote (signs two different Validation votes). Repeatable.
    #[arg(long = "misbehave")]
    pub misbehave: Vec<String>,
    /// Delay added to every message, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay: u64,
    /// Multiplies every protocol duration (timeouts of 7–40 s, 10 s minimum block time).
    #[arg(long, default_value_t = 0.05)]
    pub time_scale: f64,
    /// Committee credits C.
    #[arg(long, default_value_t = 64)]
    pub committee: u32,
    /// Stop after this many blocks (height reached by the first node).
    #[arg(long, default_value_t = 20)]
    pub blocks: u64,
    /// Stop after this many seconds whatever happened.
    #[arg(long, default_value_t = 120)]
    pub duration: u64,
    /// Directory for the genesis, node files and logs (default: a new temporary directory).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Soft faults a generator may commit before it is suspended (SLASH-2's WARNINGS; the
    /// spec's value is 1).
    #[arg(long, default_value_t = 1)]
    pub soft_slash_warnings: u8,
    /// Send a stream of hostile transactions (spec/execution.md): a client deploys the sample
    /// contracts (an infinite loop, unbounded memory growth, deep recursion, a huge allocation,
    /// a panic, a forged host call, an import of protocol state, an invalid module, and a
    /// benign one) and then calls each of them every 250 ms on every node. Each block's line
    /// shows its transactions and why the failed ones failed.
    #[arg(long)]
    pub hostile_load: bool,
    /// With the hostile load, send the audit's attacks on state every 250 ms (issue 29,
    /// spec/execution.md EXEC-TX-1, EXEC-POOL-1): a deploy naming node 0's account but signed
    /// by another key, a deploy from an empty account, a replay of the load's first deploy,
    /// and 100 calls from 100 empty accounts. Every node must refuse them all (`rejected`
    /// events) and keep equal state roots (`sa inspect --dir`).
    #[arg(long)]
    pub attack_load: bool,
    /// Print only the summary.
    #[arg(long)]
    pub quiet: bool,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Options of a local network shared by `sa genesis` and `sa soak`.
#[derive(clap::Args, Clone, Debug)]
pub struct NetOptions {
    /// Committee credits C.
    #[arg(long, default_value_t = 64)]
    pub committee: u32,
    /// Multiplies every protocol duration (1 = Dusk's 7-40 s timeouts and 10 s blocks).
    #[arg(long, default_value_t = 0.05)]
    pub time_scale: f64,
    /// Delay added to every message, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub delay: u64,
}

/// A crash to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct Crash {
    node: u32,
    at: f64,
    down: Option<f64>,
}

/// Parses NODE@SECONDS[+DOWN].
pub fn parse_crash(s: &str, nodes: u32) -> Result<Crash, String> {
    let bad = || format!("--crash {s:?}: expected NODE@SECONDS[+DOWN], e.g. 2@5+3");
    let (node, rest) = s.split_once('@').ok_or_else(bad)?;
    let node: u32 = node.trim().parse().map_err(|_| bad())?;
    if node >= nodes {
        return Err(format!(
            "--crash {s:?}: node {node} does not exist (nodes 0..{})",
            nodes - 1
        ));
    }
    let (at, down) = match rest.split_once('+') {
        Some((a, d)) => (a, Some(d)),
        None => (rest, None),
    };
    let at: f64 = at.trim().parse().map_err(|_| bad())?;
    let down = down
        .map(|d| d.trim().parse::<f64>().map_err(|_| bad()))
        .transpose()?;
    if at < 0.0 || down.is_some_and(|d| d < 0.0) {
        return Err(bad());
    }
    Ok(Crash { node, at, down })
}

/// Parses NODE:KIND into the behaviour of that node.
pub fn parse_misbehave(
    s: &str,
    nodes: u32,
    out: &mut BTreeMap<u32, sa_node::config::Behaviour>,
) -> Result<(), String> {
    let bad = || format!("--misbehave {s:?}: expected NODE:invalid-candidates or NODE:double-vote");
    let (node, kind) = s.split_once(':').ok_or_else(bad)?;
    let node: u32 = node.trim().parse().map_err(|_| bad())?;
    if node >= nodes {
        return Err(format!("--misbehave {s:?}: node {node} does not exist"));
    }
    let b = out.entry(node).or_default();
    match kind.trim() {
        "invalid-candidates" => b.invalid_candidates = true,
        "double-vote" => b.double_vote = true,
        _ => return Err(bad()),
    }
    Ok(())
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
    pub violations: Vec<String>,
    /// Fault proofs found against nodes configured to misbehave (--misbehave).
    pub detected_faults: u64,
    /// Messages rejected by nodes.
    pub rejected: u64,
    /// Seconds from the start to the first acceptance of the highest block (None: no block).
    pub last_block_at_s: Option<f64>,
    /// The run was stopped by Ctrl-C before its height or duration (exit status 130).
    pub interrupted: bool,
    /// Nodes that exited without being killed by the runner (each also printed at once).
    pub unexpected_exits: Vec<String>,
    /// Restarts whose restored chain was compared with what the previous process had reported
    /// accepting (every reported block is durable: the log is fsynced before the event).
    pub restarts_checked: u64,
    /// Restarts whose restored tip lost a block the previous process reported (must be empty;
    /// also in `violations`).
    pub lost_blocks: Vec<String>,
    /// Restarted nodes that reported no new Final height after their last restart (a short
    /// run may end first; `sa soak` requires it).
    pub not_back: Vec<String>,
    /// Heights first accepted after the last `--crash` fired (None: no crash): past the
    /// absence bound at most the round in flight can still end (its quorum already formed).
    pub heights_after_last_crash: Option<u64>,
    /// Transactions sent by `--hostile-load` (to each node).
    pub transactions_sent: u64,
    /// Transactions in accepted blocks (after the coinbase), counted once per height.
    pub transactions_included: u64,
    /// Of those, the failed ones by receipt code (spec/execution.md EXEC-TX-2).
    pub transactions_failed: BTreeMap<String, u64>,
    /// Wall-clock seconds of the run.
    pub seconds: f64,
}

/// Stake per provisioner (DUSK) that makes the absence bound sharp: each provisioner holds at
/// most `stake` credits (SORT-3) and the N−2 provisioners left after SORT-5's exclusions can
/// just fill a committee, so a committee's present credits follow presence exactly.
pub fn sharp_stake(nodes: u32, c: u32) -> u64 {
    let pool = nodes.saturating_sub(2).max(1);
    u64::from(c.div_ceil(pool))
}

/// Largest K for which a Success stays possible: gen(i) present, gen(i+1) absent, the other
/// K−1 absent in the committee pool, holding at most (K−1)·stake credits: C − (K−1)·s ≥ SM.
pub fn absence_bound(nodes: u32, c: u32, stake: u64) -> u32 {
    let sm = u64::from(Thresholds::for_credits(c).supermajority);
    let c = u64::from(c);
    let mut k = 0;
    while k + 1 < nodes && c.saturating_sub(u64::from(k) * stake) >= sm {
        k += 1;
    }
    k
}

/// `n` distinct free loopback addresses: every listener is held until all are bound, so the
/// system cannot hand the same port out twice (binding and releasing one at a time once gave
/// two nodes one port).
fn free_addrs(n: u32) -> Result<Vec<SocketAddr>, String> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map_err(|e| e.to_string()))
        .collect()
}

struct Proc {
    child: Option<Child>,
    config: PathBuf,
}

/// Starts node `i`'s process; its events reach `tx` tagged with `incarnation` (how many times
/// the node was started before), so that a restart can be compared with what the previous
/// process reported, whatever order the two pipes are read in.
fn spawn(
    i: u32,
    incarnation: u32,
    config: &Path,
    tx: &mpsc::Sender<(u32, Value)>,
) -> Result<Child, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let mut cmd = Command::new(exe);
    // Its own process group: a Ctrl-C at the terminal reaches the runner, which stops the
    // nodes and prints the summary, not the nodes behind its back.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .arg("node")
        .arg("--config")
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start node {i}: {e}"))?;
    let out = child.stdout.take().expect("piped");
    let err = child.stderr.take().expect("piped");
    // Every event line is also appended to `nodeI.events.jsonl` beside the node's config, so a
    // run kept with `--dir` can be inspected afterwards (rejection reasons, timers, faults);
    // append mode keeps the history across a restart.
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
            if let Ok(mut v) = serde_json::from_str::<Value>(&line) {
                v["incarnation"] = incarnation.into();
                if tx2.send((i, v)).is_err() {
                    return;
                }
            }
        }
    });
    let tx3 = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            let _ = tx3.send((i, serde_json::json!({"event": "stderr", "line": line})));
        }
    });
    Ok(child)
}

/// Per-node view the monitor keeps.
#[derive(Default)]
struct View {
    finals: BTreeMap<u64, String>,
    last_final: u64,
    /// Processes started so far.
    incarnations: u32,
}

/// What one process of a node reported: where its chain started (restored from the log) and
/// its tip as its accepted and fallback events moved it, the highest Final height it
/// reported, and the highest Final height of any node when it was started.
#[derive(Clone, Debug, Default)]
struct Incarnation {
    restored: Option<(u64, String)>,
    tip: Option<(u64, String)>,
    final_height: u64,
    floor: u64,
}

/// What a local network's files say: N provisioners with the sharp stake, their addresses.
pub struct Network {
    /// Provisioners.
    pub nodes: u32,
    /// Committee credits C.
    pub committee: u32,
    /// Multiplier of every protocol duration.
    pub time_scale: f64,
    /// Delay added to every message, ms.
    pub delay: u64,
    /// Each node's listening address.
    pub addrs: Vec<SocketAddr>,
    /// Misbehaving nodes.
    pub behaviours: BTreeMap<u32, sa_node::config::Behaviour>,
    /// SLASH-2's WARNINGS.
    pub soft_slash_warnings: u8,
}

/// Writes `genesis.toml` (testnet keys, stake [`sharp_stake`] each, genesis time now) and one
/// `nodeI.toml` per provisioner into `dir` (paths in them relative to `dir`); returns the node
/// files.
pub fn write_network(dir: &Path, net: &Network) -> Result<Vec<PathBuf>, String> {
    let stake = sharp_stake(net.nodes, net.committee);
    let params = Params {
        committee_credits: net.committee,
        minimum_stake: CREDIT_WEIGHT,
        epoch: 100,
        soft_slash_warnings: net.soft_slash_warnings,
        ..Params::default()
    }
    .scaled(net.time_scale);
    let genesis = Genesis::testnet(
        net.nodes,
        stake * CREDIT_WEIGHT,
        params,
        sa_node::runtime::now_ms(),
    );
    std::fs::write(
        dir.join("genesis.toml"),
        toml::to_string(&genesis).map_err(|e| e.to_string())?,
    )
    .map_err(|e| e.to_string())?;
    let mut files = vec![];
    for i in 0..net.nodes {
        let me = net.addrs[i as usize];
        let cfg = NodeConfig {
            secret_key: NodeConfig::secret_hex(&Keypair::testnet_seed(i)),
            genesis: PathBuf::from("genesis.toml"),
            listen: me,
            peers: net.addrs.iter().copied().filter(|a| *a != me).collect(),
            data_dir: PathBuf::from(format!("node{i}")),
            send_delay_ms: net.delay,
            max_frame_bytes: 4 * 1024 * 1024,
            behaviour: net.behaviours.get(&i).cloned().unwrap_or_default(),
        };
        let path = dir.join(format!("node{i}.toml"));
        std::fs::write(&path, toml::to_string(&cfg).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        files.push(path);
    }
    Ok(files)
}

/// Runs a testnet and returns its summary (Err: bad arguments or a setup failure).
#[allow(
    clippy::too_many_lines,
    reason = "the testnet driver as it stands; issue 32 turns it into a library with typed events"
)]
pub fn run_testnet(args: &Args, show: bool) -> Result<Summary, String> {
    if args.nodes < 1 || args.nodes > 64 {
        return Err("--nodes must be 1..=64".into());
    }
    if args.absent >= args.nodes {
        return Err(format!("--absent {} leaves no node running", args.absent));
    }
    if !(args.time_scale > 0.0 && args.time_scale <= 10.0) {
        return Err("--time-scale must be in (0, 10]".into());
    }
    if args.committee == 0 || args.committee > 64 {
        return Err("--committee must be 1..=64".into());
    }
    if args.blocks == 0 {
        return Err("--blocks must be at least 1 (the run stops at that height)".into());
    }
    let crashes = args
        .crash
        .iter()
        .map(|s| parse_crash(s, args.nodes))
        .collect::<Result<Vec<_>, _>>()?;
    let mut behaviours = BTreeMap::new();
    for m in &args.misbehave {
        parse_misbehave(m, args.nodes, &mut behaviours)?;
    }
    let dir = match &args.dir {
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
            d.clone()
        }
        None => {
            let d = std::env::temp_dir().join(format!("sa-testnet-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&d);
            d
        }
    };
    std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let stake = sharp_stake(args.nodes, args.committee);
    let bound = absence_bound(args.nodes, args.committee, stake);
    let addrs = free_addrs(args.nodes)?;
    let net = Network {
        nodes: args.nodes,
        committee: args.committee,
        time_scale: args.time_scale,
        delay: args.delay,
        addrs,
        behaviours,
        soft_slash_warnings: args.soft_slash_warnings,
    };
    let mut procs: Vec<Proc> = write_network(&dir, &net)?
        .into_iter()
        .map(|config| Proc {
            child: None,
            config,
        })
        .collect();
    let behaviours = net.behaviours;
    let keys: Vec<String> = (0..args.nodes)
        .map(|i| Keypair::testnet(i).public.short())
        .collect();
    let name = |short: &str| {
        keys.iter()
            .position(|k| k == short)
            .map(|i| format!("n{i}"))
            .unwrap_or_else(|| short.to_string())
    };
    let running = args.nodes - args.absent;
    if show {
        println!(
            "sa testnet: {} nodes ({} running, {} absent), C = {}, stake {} DUSK each (at most {} credits per committee), absence bound {} (SORT-5 + SM = {}), time scale {}, delay {} ms",
            args.nodes,
            running,
            args.absent,
            args.committee,
            stake,
            stake,
            bound,
            Thresholds::for_credits(args.committee).supermajority,
            args.time_scale,
            args.delay
        );
        if args.quiet {
            // a caller (sa soak) that owns the directory and says what happens to it
        } else if args.dir.is_some() {
            println!("directory: {} (kept)", dir.display());
        } else {
            println!(
                "directory: {} (temporary, deleted at the end; --dir DIR keeps the logs, events and configs)",
                dir.display()
            );
        }
    }
    let (tx, rx) = mpsc::channel::<(u32, Value)>();
    let mut views: BTreeMap<u32, View> = BTreeMap::new();
    let mut incs: BTreeMap<(u32, u32), Incarnation> = BTreeMap::new();
    for i in 0..running {
        procs[i as usize].child = Some(spawn(i, 0, &procs[i as usize].config, &tx)?);
        views.entry(i).or_default().incarnations = 1;
    }
    let start = Instant::now();
    let load_stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let included_seen = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let attack = args.attack_load;
    let load = (args.hostile_load || attack).then(|| {
        let addrs: Vec<SocketAddr> = net.addrs[..running as usize].to_vec();
        let stop = load_stop.clone();
        let seen = included_seen.clone();
        std::thread::spawn(move || hostile_load(&addrs, &stop, &seen, attack))
    });
    let mut included = 0u64;
    let mut tx_failed: BTreeMap<String, u64> = BTreeMap::new();
    let pb = if show && std::io::stdout().is_terminal() {
        let pb = ProgressBar::new(args.blocks);
        pb.set_style(
            ProgressStyle::with_template("{spinner} blocks {pos}/{len} {elapsed} {msg}")
                .expect("template"),
        );
        Some(pb)
    } else {
        None
    };
    let say = |line: String| match &pb {
        Some(pb) => pb.println(line),
        None if show => println!("{line}"),
        None => {}
    };
    let mut blocks: BTreeMap<u64, (u64, u8)> = BTreeMap::new(); // height -> (timestamp, iteration)
    let mut hashes: BTreeMap<u64, String> = BTreeMap::new();
    let mut final_shown: BTreeSet<u64> = BTreeSet::new();
    let mut failed: BTreeSet<(u64, u64)> = BTreeSet::new();
    let mut violations: Vec<String> = Vec::new();
    let mut rejected = 0u64;
    let mut detected_faults = 0u64;
    let mut last_block_at: Option<f64> = None;
    let mut height_at_last_crash: Option<u64> = None;
    let mut unexpected_exits: Vec<String> = Vec::new();
    let mut pending_crashes = crashes.clone();
    let mut restarts: Vec<(f64, u32)> = Vec::new();
    let deadline = Duration::from_secs(args.duration);
    let interrupted = crate::ctrl_c_flag();
    let mut was_interrupted = false;
    loop {
        if interrupted.load(Ordering::SeqCst) {
            was_interrupted = true;
            say(format!(
                "  [{:6.1}s] interrupted (Ctrl-C): stopping the nodes",
                start.elapsed().as_secs_f64()
            ));
            break;
        }
        let elapsed = start.elapsed();
        if elapsed >= deadline || blocks.keys().next_back().copied().unwrap_or(0) >= args.blocks {
            break;
        }
        let secs = elapsed.as_secs_f64();
        // Fault injection.
        let before = pending_crashes.len();
        let top = blocks.keys().next_back().copied().unwrap_or(0);
        pending_crashes.retain(|c| {
            if c.at <= secs {
                if let Some(mut ch) = procs[c.node as usize].child.take() {
                    let _ = ch.kill(); // SIGKILL
                    let _ = ch.wait();
                    say(format!("  [{secs:6.1}s] killed n{} (kill -9)", c.node));
                }
                if let Some(d) = c.down {
                    restarts.push((c.at + d, c.node));
                }
                false
            } else {
                true
            }
        });
        if before > 0 && pending_crashes.is_empty() {
            height_at_last_crash = Some(top);
        }
        let mut due = Vec::new();
        restarts.retain(|(t, n)| {
            if *t <= secs {
                due.push(*n);
                false
            } else {
                true
            }
        });
        for n in due {
            if n < running && procs[n as usize].child.is_none() {
                let floor = views.values().map(|w| w.last_final).max().unwrap_or(0);
                let w = views.entry(n).or_default();
                let k = w.incarnations;
                w.incarnations += 1;
                incs.entry((n, k)).or_default().floor = floor;
                procs[n as usize].child = Some(spawn(n, k, &procs[n as usize].config, &tx)?);
                say(format!("  [{secs:6.1}s] restarted n{n} from its log"));
            }
        }
        // A node that exits without being killed is reported at once.
        for (n, p) in procs.iter_mut().enumerate() {
            let status = p.child.as_mut().and_then(|c| c.try_wait().ok().flatten());
            if let Some(status) = status {
                p.child = None;
                let what = format!("n{n} exited unexpectedly at {secs:.1} s ({status})");
                say(format!("  [{secs:6.1}s] {what}"));
                unexpected_exits.push(what);
            }
        }
        let Ok((i, v)) = rx.recv_timeout(Duration::from_millis(50)) else {
            continue;
        };
        let ev = v["event"].as_str().unwrap_or("");
        let height = v["height"].as_u64().unwrap_or(0);
        let inc = incs
            .entry((i, v["incarnation"].as_u64().unwrap_or(0) as u32))
            .or_default();
        match ev {
            "started" => {
                let tip = (height, v["tip"].as_str().unwrap_or("").to_string());
                inc.restored = Some(tip.clone());
                inc.tip = Some(tip);
            }
            "accepted" => {
                let hash = v["hash"].as_str().unwrap_or("").to_string();
                inc.tip = Some((height, hash.clone()));
                if v["label"] == "final" {
                    inc.final_height = inc.final_height.max(height);
                }
                let it = v["iteration"].as_u64().unwrap_or(0) as u8;
                let ts = v["timestamp"].as_u64().unwrap_or(0);
                if v["label"] == "final" {
                    note_final(&mut views, &mut violations, i, height, &hash);
                }
                if let std::collections::btree_map::Entry::Vacant(e) = blocks.entry(height) {
                    e.insert((ts, it));
                    last_block_at = Some(start.elapsed().as_secs_f64());
                    hashes.insert(height, hash.clone());
                    let dt = blocks
                        .get(&(height - 1))
                        .map(|(p, _)| format!("{:.2} s", ts.saturating_sub(*p) as f64 / 1000.0))
                        .unwrap_or_else(|| "-".into());
                    let voters: Vec<String> = v["voters"]
                        .as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_str()).map(name).collect())
                        .unwrap_or_default();
                    let txs = v["transactions"].as_u64().unwrap_or(0);
                    included += txs;
                    included_seen.store(included, Ordering::SeqCst);
                    let mut why: BTreeMap<String, u64> = BTreeMap::new();
                    for f in v["failed"].as_array().into_iter().flatten() {
                        let code = f["code"].as_str().unwrap_or("?").to_string();
                        *why.entry(code.clone()).or_default() += 1;
                        *tx_failed.entry(code).or_default() += 1;
                    }
                    let tx_note = if txs == 0 {
                        String::new()
                    } else {
                        let failed: u64 = why.values().sum();
                        let list: Vec<String> =
                            why.iter().map(|(c, n)| format!("{c} {n}")).collect();
                        format!(
                            "  txs {txs}, failed {failed}{}",
                            if list.is_empty() {
                                String::new()
                            } else {
                                format!(" ({})", list.join(", "))
                            }
                        )
                    };
                    say(format!(
                        "height {height:4}  iteration {it:2}  block time {dt:>8}  generator {}  voters {} ({}/{})  {}{tx_note}",
                        name(v["generator"].as_str().unwrap_or("?")),
                        voters.join(" "),
                        voters.len(),
                        args.nodes,
                        v["label"].as_str().unwrap_or("")
                    ));
                    if let Some(pb) = &pb {
                        pb.set_position(height.min(args.blocks));
                    }
                }
            }
            "label" => {
                let hash = v["hash"].as_str().unwrap_or("").to_string();
                if v["label"] == "final" {
                    inc.final_height = inc.final_height.max(height);
                    note_final(&mut views, &mut violations, i, height, &hash);
                    let alive: Vec<u32> = (0..running)
                        .filter(|n| procs[*n as usize].child.is_some())
                        .collect();
                    let have = alive
                        .iter()
                        .filter(|n| views.get(n).is_some_and(|w| w.finals.contains_key(&height)))
                        .count();
                    if have == alive.len() && final_shown.insert(height) {
                        say(format!(
                            "height {height:4}  Final on all {have} running nodes"
                        ));
                    }
                }
            }
            "fallback" => {
                let to = v["to_height"].as_u64().unwrap_or(0);
                // The tip is now the kept ancestor; its hash follows from the next accepted
                // event (a restart in between is compared by height only).
                inc.tip = Some((to, String::new()));
                let lf = views.get(&i).map(|w| w.last_final).unwrap_or(0);
                say(format!(
                    "  n{i} fell back from height {} to {to} (FORK-1)",
                    v["from_height"]
                ));
                if to < lf {
                    violations.push(format!(
                        "SAFE-FINAL-NO-REVERT: n{i} reverted to {to} below its Final height {lf}"
                    ));
                }
            }
            "iteration_failed" => {
                failed.insert((
                    v["round"].as_u64().unwrap_or(0),
                    v["iteration"].as_u64().unwrap_or(0),
                ));
            }
            "fault" => {
                let offender = name(v["offender"].as_str().unwrap_or("?"));
                let honest = offender
                    .strip_prefix('n')
                    .and_then(|n| n.parse::<u32>().ok())
                    .is_some_and(|n| !behaviours.get(&n).is_some_and(|b| b.double_vote));
                let line = format!(
                    "SAFE-VOTE-UNIQUE: n{i} holds a fault proof against {offender} (round {}, iteration {})",
                    v["round"], v["iteration"]
                );
                if honest {
                    violations.push(format!("{line}: an honest node equivocated"));
                } else {
                    say(format!("  fault detected (injected): {line}"));
                    detected_faults += 1;
                }
            }
            "rejected" => {
                rejected += 1;
                // The first few reasons are shown; all are in nodeI.events.jsonl.
                if rejected <= 5 {
                    say(format!(
                        "  n{i} rejected {} from peer {}: {}",
                        v["kind"].as_str().unwrap_or("?"),
                        v["peer"],
                        v["reason"].as_str().unwrap_or("?")
                    ));
                }
            }
            "stderr" => say(format!("  n{i}: {}", v["line"].as_str().unwrap_or(""))),
            _ => {}
        }
    }
    load_stop.store(true, Ordering::SeqCst);
    let transactions_sent = load.and_then(|h| h.join().ok()).unwrap_or(0);
    for p in &mut procs {
        if let Some(mut c) = p.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    if let Some(pb) = &pb {
        pb.finish_and_clear();
    }
    if args.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    let (restarts_checked, lost_blocks) = durability(&incs);
    for what in &lost_blocks {
        say(format!("  {what}"));
        violations.push(what.clone());
    }
    let mut not_back = Vec::new();
    for (n, w) in &views {
        let k = w.incarnations.saturating_sub(1);
        if k == 0 {
            continue;
        }
        if let Some(last) = incs.get(&(*n, k)) {
            if last.final_height <= last.floor {
                not_back.push(format!(
                    "n{n}: no Final height above {} after its last restart (process {k}; highest Final it reported: {})",
                    last.floor, last.final_height
                ));
            }
        }
    }
    let heights: Vec<u64> = blocks.keys().copied().collect();
    let mut gaps: Vec<u64> = heights
        .windows(2)
        .filter(|w| w[1] == w[0] + 1)
        .map(|w| blocks[&w[1]].0.saturating_sub(blocks[&w[0]].0))
        .collect();
    gaps.sort_unstable();
    let median_block_ms = (!gaps.is_empty()).then(|| gaps[gaps.len() / 2]);
    let mean_iterations = (!blocks.is_empty()).then(|| {
        blocks
            .values()
            .map(|(_, it)| f64::from(*it) + 1.0)
            .sum::<f64>()
            / blocks.len() as f64
    });
    let final_height = (0..running)
        .filter_map(|n| views.get(&n).map(|w| w.last_final))
        .min()
        .unwrap_or(0);
    Ok(Summary {
        nodes: args.nodes,
        absent: args.absent,
        absence_bound: bound,
        committee: args.committee,
        stake_dusk: stake,
        height: heights.last().copied().unwrap_or(0),
        final_height,
        median_block_ms,
        mean_iterations,
        failed_iterations: failed.len() as u64,
        violations,
        detected_faults,
        rejected,
        last_block_at_s: last_block_at,
        unexpected_exits,
        restarts_checked,
        lost_blocks,
        not_back,
        interrupted: was_interrupted,
        heights_after_last_crash: height_at_last_crash.map(|h| {
            blocks
                .keys()
                .next_back()
                .copied()
                .unwrap_or(0)
                .saturating_sub(h)
        }),
        transactions_sent,
        transactions_included: included,
        transactions_failed: tx_failed,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// `--hostile-load`: connects to every node as a client, deploys the sample contracts, then
/// calls each of them every 250 ms until `stop`; returns the transactions sent. Transactions
/// are signed by the running provisioners' keys (funded at genesis), round robin, each key's
/// at consecutive nonces (EXEC-TX-1); new ones are sent only while at most 8 per key are
/// waiting (`included` counts what blocks took), so that none falls outside a pool's nonce
/// window (EXEC-POOL-1). Each goes to every node (a node relays what it admits; duplicates
/// are ignored). Frames are the runtime's (4-byte big-endian length, then
/// `Message::Transaction`); what the nodes send back is read and dropped. A node that is down
/// is retried on the next batch.
fn hostile_load(
    addrs: &[SocketAddr],
    stop: &std::sync::atomic::AtomicBool,
    included: &std::sync::atomic::AtomicU64,
    attack: bool,
) -> u64 {
    use sa_node::exec::{self, contract_id, samples};
    use std::net::TcpStream;
    let keys: Vec<Keypair> = (0..addrs.len() as u32).map(Keypair::testnet).collect();
    let mut nonces = vec![0u64; keys.len()];
    let mut turn = 0usize;
    let mut sign = |nonces: &mut Vec<u64>, f: &dyn Fn(&Keypair, u64) -> exec::Tx| {
        let k = turn % keys.len();
        turn += 1;
        nonces[k] += 1;
        f(&keys[k], nonces[k] - 1).encode()
    };
    let benign = samples::compile(samples::BENIGN);
    let mut modules: Vec<Vec<u8>> = samples::hostile().into_iter().map(|h| h.1).collect();
    modules.push(benign.clone());
    let mut queue: std::collections::VecDeque<Vec<u8>> = modules
        .iter()
        .map(|code| sign(&mut nonces, &|k, n| exec::deploy(k, n, code.clone())))
        .collect();
    let attacks = if attack {
        Attacks::new(&benign, queue.front().cloned().unwrap_or_default())
    } else {
        Attacks::default()
    };
    let mut conns: Vec<Option<TcpStream>> = addrs.iter().map(|_| None).collect();
    let mut sent = 0u64;
    let mut batch = 0u64;
    let room = 8 * keys.len() as u64;
    while !stop.load(Ordering::SeqCst) {
        if queue.is_empty() {
            for (k, code) in modules.iter().enumerate() {
                let input = format!("call {batch} {k}").into_bytes();
                let gas = if *code == benign { 100_000 } else { 1_000_000 };
                let id = contract_id(code);
                queue.push_back(sign(&mut nonces, &|key, n| {
                    exec::call(key, n, id, input.clone(), gas)
                }));
            }
            batch += 1;
        }
        let waiting = sent.saturating_sub(included.load(Ordering::SeqCst));
        let take = room.saturating_sub(waiting).min(queue.len() as u64) as usize;
        let txs: Vec<Vec<u8>> = queue.drain(..take).collect();
        let mut delivered = false;
        // The replay is refused only once its original is in a block (before, it is a
        // duplicate the pool already holds): attacks start after the first batch is in.
        let attacking = attack && included.load(Ordering::SeqCst) > 0;
        for (i, addr) in addrs.iter().enumerate() {
            if conns[i].is_none() {
                conns[i] = client(addr);
            }
            let Some(s) = conns[i].as_mut() else { continue };
            if txs.iter().all(|tx| s.write_all(&frame(tx)).is_ok()) {
                delivered = true;
            } else {
                conns[i] = None;
                continue;
            }
            if attacking
                && !attacks
                    .at(&keys[0], nonces[0])
                    .iter()
                    .all(|tx| s.write_all(&frame(tx)).is_ok())
            {
                conns[i] = None;
            }
        }
        if delivered {
            sent += txs.len() as u64;
        } else {
            // No node took them: send them again first next time (the nonces stay in order).
            for tx in txs.into_iter().rev() {
                queue.push_front(tx);
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    sent
}

/// The runtime's frame of a transaction: 4-byte big-endian length, then the message.
fn frame(tx: &[u8]) -> Vec<u8> {
    let body = sa_node::message::Message::Transaction(tx.to_vec()).to_bytes();
    let mut f = (body.len() as u32).to_be_bytes().to_vec();
    f.extend(body);
    f
}

/// A client connection to a node; what the node sends back is read and dropped.
fn client(addr: &SocketAddr) -> Option<std::net::TcpStream> {
    std::net::TcpStream::connect_timeout(addr, Duration::from_millis(200))
        .ok()
        .inspect(|s| {
            if let Ok(mut r) = s.try_clone() {
                std::thread::spawn(move || {
                    let mut buf = [0u8; 65536];
                    while matches!(std::io::Read::read(&mut r, &mut buf), Ok(n) if n > 0) {}
                });
            }
        })
}

/// `--attack-load`: what every node must refuse (never counted as sent).
#[derive(Default)]
struct Attacks {
    thief: Option<Keypair>,
    code: Vec<u8>,
    fixed: Vec<Vec<u8>>,
}

impl Attacks {
    /// A deploy from the thief's empty account, a replay of `first`, 100 junk calls from
    /// 100 empty accounts.
    fn new(code: &[u8], first: Vec<u8>) -> Attacks {
        use sa_node::exec;
        let thief = Keypair::testnet(900);
        let mut fixed = vec![exec::deploy(&thief, 0, code.to_vec()).encode(), first];
        fixed.extend(
            (0..100u32).map(|j| {
                exec::call(&Keypair::testnet(1_000 + j), 0, [9; 32], vec![], 1_000).encode()
            }),
        );
        Attacks {
            thief: Some(thief),
            code: code.to_vec(),
            fixed,
        }
    }

    /// The fixed attacks and a deploy naming `victim`'s account at `nonce` (the load's next
    /// for it: inside the pool's window and payable, so only the signature refuses it),
    /// signed by the thief.
    fn at(&self, victim: &Keypair, nonce: u64) -> Vec<Vec<u8>> {
        let Some(thief) = &self.thief else {
            return vec![];
        };
        let mut t = sa_node::exec::deploy(victim, nonce, self.code.clone());
        if let sa_node::exec::Tx::Signed(s) = &mut t {
            s.signature = thief.sign(&s.digest());
        }
        let mut v = self.fixed.clone();
        v.push(t.encode());
        v
    }
}

/// Durability across restarts: each restarted process must hold at least the tip its
/// predecessor reported (events follow the fsync), the same block if at the same height.
/// Returns the restarts compared and the ones that lost a block.
fn durability(incs: &BTreeMap<(u32, u32), Incarnation>) -> (u64, Vec<String>) {
    let mut checked = 0;
    let mut lost = Vec::new();
    for (&(n, k), now) in incs {
        if k == 0 {
            continue;
        }
        // The latest earlier process that reported anything (one killed before its start
        // event reported nothing and changed nothing it had not logged).
        let prev = (0..k)
            .rev()
            .find_map(|j| incs.get(&(n, j)).and_then(|p| p.tip.clone()));
        let (Some(prev), Some(restored)) = (prev, now.restored.clone()) else {
            continue; // this process was killed before it reported its start
        };
        checked += 1;
        let same = prev.1.is_empty() || restored.0 > prev.0 || restored.1 == prev.1;
        if restored.0 < prev.0 || !same {
            lost.push(format!(
                "SAFE-DURABLE: n{n} restarted (process {k}) at height {} but had reported accepting height {} ({})",
                restored.0,
                prev.0,
                &prev.1[..prev.1.len().min(16)]
            ));
        }
    }
    (checked, lost)
}

fn note_final(
    views: &mut BTreeMap<u32, View>,
    violations: &mut Vec<String>,
    node: u32,
    height: u64,
    hash: &str,
) {
    for (other, w) in views.iter() {
        if let Some(h) = w.finals.get(&height) {
            if h != hash {
                violations.push(format!(
                    "SAFE-FINAL-AGREEMENT: n{node} and n{other} hold different Final blocks at height {height}"
                ));
            }
        }
    }
    let w = views.entry(node).or_default();
    if let Some(old) = w.finals.insert(height, hash.to_string()) {
        if old != hash {
            violations.push(format!(
                "SAFE-FINAL-NO-REVERT: n{node} replaced its Final block at height {height}"
            ));
        }
    }
    w.last_final = w.last_final.max(height);
}

/// `sa testnet`.
pub fn run(args: Args) -> u8 {
    let summary = match run_testnet(&args, !args.quiet && !args.json) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("sa testnet: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&summary).expect("serializable")
        );
    } else {
        print_summary(&summary);
    }
    if !summary.violations.is_empty() || !summary.unexpected_exits.is_empty() {
        EXIT_FAILED
    } else if summary.interrupted {
        EXIT_INTERRUPTED
    } else {
        EXIT_OK
    }
}

fn print_summary(s: &Summary) {
    println!();
    println!(
        "summary: height {} reached, Final on every running node up to {}, {:.1} s",
        s.height, s.final_height, s.seconds
    );
    match (s.median_block_ms, s.mean_iterations) {
        (Some(b), Some(i)) => println!(
            "median block time {:.2} s, {:.2} iterations per block, {} failed iterations",
            b as f64 / 1000.0,
            i,
            s.failed_iterations
        ),
        _ if s.height > 0 => println!(
            "{} block(s) accepted: too few for a median block time",
            s.height
        ),
        _ if s.absent > s.absence_bound => println!(
            "no block accepted ({} absent of {}, absence bound {}): liveness lost, as the spec expects past the bound",
            s.absent, s.nodes, s.absence_bound
        ),
        _ => println!(
            "no block accepted although {} absent of {} is within the absence bound {}: liveness was expected and did not come",
            s.absent, s.nodes, s.absence_bound
        ),
    }
    for e in &s.unexpected_exits {
        println!("NODE EXIT {e}");
    }
    if s.interrupted {
        println!(
            "interrupted by Ctrl-C after {:.1} s: the figures above are up to then",
            s.seconds
        );
    }
    println!("rejected messages: {}", s.rejected);
    if s.transactions_sent > 0 || s.transactions_included > 0 {
        let failed: u64 = s.transactions_failed.values().sum();
        let list: Vec<String> = s
            .transactions_failed
            .iter()
            .map(|(c, n)| format!("{c} {n}"))
            .collect();
        println!(
            "transactions: {} sent to each node, {} in accepted blocks, {} failed and contained ({})",
            s.transactions_sent,
            s.transactions_included,
            failed,
            list.join(", ")
        );
    }
    if s.detected_faults > 0 {
        println!(
            "fault proofs against misbehaving nodes: {} (TALLY-3 / SLASH-4)",
            s.detected_faults
        );
    }
    if s.violations.is_empty() {
        println!("safety: no Final block reverted, Final blocks agree, no equivocation");
    } else {
        for v in &s.violations {
            println!("VIOLATION {v}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{durability, Incarnation};
    use std::collections::BTreeMap;

    #[test]
    fn a_restart_below_the_reported_tip_is_a_lost_block() {
        let inc = |restored: Option<(u64, &str)>, tip: Option<(u64, &str)>| Incarnation {
            restored: restored.map(|(h, x)| (h, x.to_string())),
            tip: tip.map(|(h, x)| (h, x.to_string())),
            ..Incarnation::default()
        };
        let mut incs = BTreeMap::new();
        incs.insert((1, 0), inc(Some((0, "g")), Some((5, "b5"))));
        incs.insert((1, 1), inc(Some((5, "b5")), Some((7, "b7"))));
        assert_eq!(durability(&incs), (1, vec![]));
        // killed before its start event: compared with the one before
        incs.insert((1, 2), inc(None, None));
        incs.insert((1, 3), inc(Some((6, "b6")), Some((6, "b6"))));
        let (n, lost) = durability(&incs);
        assert_eq!((n, lost.len()), (2, 1), "{lost:?}");
        // same height, another block
        let mut incs = BTreeMap::new();
        incs.insert((2, 0), inc(Some((0, "g")), Some((3, "x"))));
        incs.insert((2, 1), inc(Some((3, "y")), None));
        assert_eq!(durability(&incs).1.len(), 1);
    }

    #[test]
    fn the_addresses_of_one_testnet_are_distinct() {
        let addrs = super::free_addrs(64).unwrap();
        let distinct: std::collections::BTreeSet<_> = addrs.iter().collect();
        assert_eq!(distinct.len(), 64);
    }
}
