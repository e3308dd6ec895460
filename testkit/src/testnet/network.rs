//! A local network's files and figures: the genesis and node files of N provisioners with the
//! stake that makes the absence bound sharp, their loopback addresses, and the faults a run
//! injects (crashes, misbehaving nodes).

use std::collections::BTreeMap;
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};

use sa_node::config::{Genesis, NodeConfig, Params};
use sa_node::keys::Keypair;
use sa_node::sortition::CREDIT_WEIGHT;
use sa_node::tally::Thresholds;

/// A crash to inject.
#[derive(Clone, Debug, PartialEq)]
pub struct Crash {
    pub node: u32,
    pub at: f64,
    pub down: Option<f64>,
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
pub(crate) fn free_addrs(n: u32) -> Result<Vec<SocketAddr>, String> {
    let listeners = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").map_err(|e| format!("no free port: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    listeners
        .iter()
        .map(|l| l.local_addr().map_err(|e| e.to_string()))
        .collect()
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
    /// The network schedule every node applies to what it sends (empty: none), its times at
    /// time scale 1 (scaled with the protocol's durations when written).
    pub schedule: sa_node::schedule::Schedule,
    /// Stake of each provisioner in DUSK (None: [`sharp_stake`] each).
    pub stakes: Option<Vec<u64>>,
    /// The genesis seed number (None: the testnet's, 1).
    pub seed: Option<u64>,
    /// The finality rule.
    pub finality: sa_node::config::Finality,
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
        finality: net.finality,
        ..Params::default()
    }
    .scaled(net.time_scale);
    let mut genesis = Genesis::testnet(
        net.nodes,
        stake * CREDIT_WEIGHT,
        params,
        sa_node::runtime::now_ms(),
    );
    if let Some(stakes) = &net.stakes {
        if stakes.len() != genesis.provisioners.len() {
            return Err(format!(
                "{} stakes for {} provisioners",
                stakes.len(),
                genesis.provisioners.len()
            ));
        }
        for (p, s) in genesis.provisioners.iter_mut().zip(stakes) {
            p.stake = s * CREDIT_WEIGHT;
        }
    }
    if let Some(seed) = net.seed {
        genesis.seed = seed;
    }
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
            idle_timeout_ms: 60_000,
            behaviour: net.behaviours.get(&i).cloned().unwrap_or_default(),
            schedule: net.schedule.scaled(net.time_scale),
        };
        let path = dir.join(format!("node{i}.toml"));
        std::fs::write(&path, toml::to_string(&cfg).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
        files.push(path);
    }
    Ok(files)
}
