//! What a node (or every node of a testnet directory) holds on disk, read without changing
//! anything: its log checked (a torn tail or corruption is reported, never repaired here), its
//! chain rebuilt from the log with labels, its ledger at every height (a digest per height, so
//! ledgers of several nodes compare at a glance) and its votes cast. `sa inspect` prints it;
//! `sa soak` judges equal ledgers on equal blocks with it.

use std::path::{Path, PathBuf};

use sa_node::config::{Genesis, NodeConfig};
use sa_node::hash::blake2b256;
use sa_node::keys::to_hex;
use sa_node::node::Node;
use sa_node::storage::{scan, Scan};
use serde::Serialize;

/// One height of a node's chain.
#[derive(Serialize)]
pub struct Height {
    pub height: u64,
    pub hash: String,
    pub iteration: u8,
    pub label: String,
    /// BLAKE2b-256 of the canonical JSON of the ledger after this block (first 16 hex digits).
    pub ledger_digest: String,
}

/// What one node holds.
#[derive(Serialize)]
pub struct NodeReport {
    pub config: String,
    pub key: String,
    pub log: String,
    pub records: usize,
    /// "ok", or what a node would repair at start (torn tail), or the corruption.
    pub log_state: String,
    pub tip: u64,
    pub last_final: u64,
    pub votes_cast: usize,
    pub chain: Vec<Height>,
    /// The state root after the tip (EXEC-ROOT-1, spec/execution.md): the ledger and the
    /// application state (balances, nonces, contracts, their storage), computed from the state
    /// the restore executed block by block, each block's root checked against its header
    /// (EXEC-ROOT-2). `ledger_digest` per height is a digest of the ledger
    /// alone (BLAKE2b-256 of its canonical JSON, first 16 hex digits).
    pub state_root: String,
    /// Stake and reward balance (lux) of each provisioner after the tip.
    pub balances: Vec<(String, u64, u64)>,
}

#[derive(Serialize)]
pub struct Report {
    pub nodes: Vec<NodeReport>,
    /// Heights at which nodes holding the same block hold different ledgers (must be empty).
    pub ledger_disagreements: Vec<u64>,
}

fn root<T: Serialize>(v: &T) -> String {
    let json = serde_json::to_vec(v).unwrap_or_default();
    to_hex(&blake2b256(&[&json]))
}

fn digest<T: Serialize>(v: &T) -> String {
    root(v)[..16].to_string()
}

pub fn inspect_node(cfg_path: &Path) -> Result<NodeReport, String> {
    let (cfg, me) = NodeConfig::load(cfg_path).map_err(|e| e.to_string())?;
    let (genesis, keys): (Genesis, _) = Genesis::load(&cfg.genesis).map_err(|e| e.to_string())?;
    let log = cfg.data_dir.join("node.log");
    // A node that never ran has no log yet (right after `sa genesis`): its chain is genesis.
    let never_ran = !log.exists();
    let bytes = if never_ran {
        Vec::new()
    } else {
        std::fs::read(&log).map_err(|e| format!("{}: {e}", log.display()))?
    };
    let read = if never_ran {
        Scan {
            records: Vec::new(),
            torn: None,
        }
    } else {
        scan(&log, &bytes).map_err(|e| format!("corrupt, a node would not start: {e}"))?
    };
    let log_state = match &read.torn {
        None if never_ran => format!("has not run yet (no log at {})", log.display()),
        None => "ok".to_string(),
        Some(t) => format!(
            "torn tail at byte {} ({} bytes; a node repairs it at start): {}",
            t.valid_len,
            bytes.len() as u64 - t.valid_len,
            t.error
        ),
    };
    let node = Node::restore(genesis, keys, me, cfg.behaviour.clone(), &read.records)
        .map_err(|e| format!("{}: {e}", log.display()))?;
    let labels = node.chain_labels();
    let chain = (1..=node.tip_height())
        .filter_map(|h| {
            let b = node.block(h)?;
            Some(Height {
                height: h,
                hash: to_hex(&b.hash())[..16].to_string(),
                iteration: b.header().iteration,
                label: format!("{:?}", labels.get(h as usize)?.1).to_lowercase(),
                ledger_digest: digest(node.ledger_at(h)?),
            })
        })
        .collect();
    let ledger = serde_json::to_value(node.ledger()).unwrap_or_default();
    let balances = ledger["accounts"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, a)| {
                    (
                        k.chars().take(16).collect(),
                        a["stake"].as_u64().unwrap_or(0),
                        a["reward"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(NodeReport {
        config: cfg_path.display().to_string(),
        key: node.public_key().short(),
        log: log.display().to_string(),
        records: read.records.len(),
        log_state,
        tip: node.tip_height(),
        last_final: node.last_final(),
        votes_cast: node.my_votes().count(),
        // Computed from the state the restore executed (every block's root was compared with
        // its header's on the way, EXEC-ROOT-2), not read from the tip's header.
        state_root: to_hex(&sa_node::exec::state_root(node.ledger(), node.app_state())),
        chain,
        balances,
    })
}

pub fn node_files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if path.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    // A node's data directory (`DIR/nodeI`) stands for its node file beside it (`DIR/nodeI.toml`,
    // as `sa genesis` and `sa testnet --dir` write them).
    let beside = path.with_extension("toml");
    if beside.is_file() && !(path.is_dir() && has_node_files(path)) {
        return Ok(vec![beside]);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            name.starts_with("node") && name.ends_with(".toml")
        })
        .collect();
    files.sort_by_key(|p| {
        let name = p.file_stem().and_then(|n| n.to_str()).unwrap_or("");
        (name.len(), name.to_string())
    });
    if files.is_empty() {
        return Err(format!(
            "{}: no node*.toml here (give a testnet directory, a node file, or a node's data directory)",
            path.display()
        ));
    }
    Ok(files)
}

/// Heights at which nodes holding the same block hold different ledgers.
pub fn disagreements(nodes: &[NodeReport]) -> Vec<u64> {
    let mut out = Vec::new();
    let top = nodes.iter().map(|n| n.tip).max().unwrap_or(0);
    for h in 1..=top {
        let mut seen: std::collections::BTreeMap<&str, &str> = Default::default();
        for n in nodes {
            if let Some(e) = n.chain.get(h as usize - 1) {
                if seen
                    .insert(&e.hash, &e.ledger_digest)
                    .is_some_and(|d| d != e.ledger_digest)
                {
                    out.push(h);
                    break;
                }
            }
        }
    }
    out
}

/// The ledger check of [`inspect`] alone (for `sa soak`).
pub fn ledger_disagreements(dir: &Path) -> Result<Vec<u64>, String> {
    let nodes = node_files(dir)?
        .iter()
        .map(|f| inspect_node(f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(disagreements(&nodes))
}

fn has_node_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|entries| {
        entries.filter_map(Result::ok).any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            name.starts_with("node") && name.ends_with(".toml")
        })
    })
}

/// What a node file, a node's data directory, or every node file of a directory, holds.
pub fn inspect(path: &Path) -> Result<Report, String> {
    let mut nodes = Vec::new();
    for f in &node_files(path)? {
        nodes.push(inspect_node(f).map_err(|e| format!("{}: {e}", f.display()))?);
    }
    let ledger_disagreements = disagreements(&nodes);
    Ok(Report {
        nodes,
        ledger_disagreements,
    })
}
