//! Genesis (provisioners, stakes, parameters) and node configuration files (TOML), validated
//! before use: every error names the field and the rule it breaks.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::hash::blake2b256;
use crate::keys::{from_hex, to_hex, KeyRing, Keypair, PublicKey, SigError, Signature};
use crate::message::Seed;

/// The most iterations a round may have: the sortition step byte `3·iteration + kind` (SORT-4)
/// must fit in one byte (3·84 + 2 = 254).
pub const MAX_ITERATIONS: u8 = 85;

/// A configuration that cannot be used.
#[derive(Debug, Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// TOML syntax or types.
    #[error("{path}: {message}")]
    Parse {
        /// Path.
        path: PathBuf,
        /// Parser message (names line and field).
        message: String,
    },
    /// A value breaks a rule.
    #[error("{field}: {problem}")]
    Invalid {
        /// The field.
        field: String,
        /// The rule.
        problem: String,
    },
}

fn invalid(field: impl Into<String>, problem: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// Protocol parameters (spec/protocol.md §1); durations in milliseconds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Params {
    /// C: credits of a Validation or Ratification committee (1..=64: the StepVotes bitset).
    pub committee_credits: u32,
    /// MAX_ITER: iterations per round.
    pub max_iterations: u8,
    /// RELAXED: failed iterations are recorded for i < RELAXED.
    pub relaxed_iterations: u8,
    /// EMERGENCY: first emergency iteration (EMERG-1).
    pub emergency_iteration: u8,
    /// EPOCH: blocks per epoch.
    pub epoch: u64,
    /// MIN_STAKE in lux (1 DUSK = 10^9 lux).
    pub minimum_stake: u64,
    /// WARNINGS: soft faults tolerated before suspension.
    pub soft_slash_warnings: u8,
    /// Reward of one block in lux (REW-1).
    pub block_reward: u64,
    /// TIME-1: lower clamp of a step timeout.
    pub timeout_min_ms: u64,
    /// TIME-1: upper clamp and the default.
    pub timeout_max_ms: u64,
    /// TIME-2: added after each expiry for the rest of the round.
    pub timeout_increase_ms: u64,
    /// STEP-PROP-1: a generator proposes no earlier than parent timestamp + this.
    pub min_block_time_ms: u64,
    /// STEP-VAL-1: a candidate more than this far in the future gets no vote.
    pub max_future_ms: u64,
    /// FORK-2: no block for this long: ask peers for blocks after the last Final one.
    pub stall_timeout_ms: u64,
    /// The finality rule (spec/variants.md): Dusk's FIN-1, FIN-2, FIN-3 unless a variant is named.
    #[serde(skip_serializing_if = "Finality::is_dusk")]
    pub finality: Finality,
    /// The suspension rule (spec/variants.md): Dusk's ELIG-3 unless a variant is named.
    #[serde(skip_serializing_if = "Suspension::is_dusk")]
    pub suspension: Suspension,
}

/// A suspension variant of spec/variants.md (`VAR-SUSP-*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Suspension {
    /// ELIG-3 in every iteration of a round.
    #[default]
    Dusk,
    /// VAR-SUSP-LIFTED: ELIG-3 in the iterations below RELAXED only; from RELAXED on an
    /// iteration is drawn on the provisioners eligible by ELIG-1 and ELIG-2.
    Lifted,
}

impl Suspension {
    /// Whether this is Dusk's rule (not written out).
    pub fn is_dusk(&self) -> bool {
        *self == Suspension::Dusk
    }
}

/// A finality variant of spec/variants.md (`VAR-FIN-*`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finality {
    /// VAR-FIN-DUSK: a Fail attestation of M credits counts toward PNI; a PNI-k block is
    /// Confirmed once 2·k Attested blocks stand on it.
    #[default]
    Dusk,
    /// VAR-FIN-SM: only Fail attestations of SM Ratification credits are recorded in
    /// failed_iterations and count toward PNI.
    SmFail,
    /// VAR-FIN-CLOSED: VAR-FIN-SM, and a block with PNI > 0 is never Confirmed.
    Closed,
}

impl Finality {
    /// Whether this is Dusk's rule (not written out).
    pub fn is_dusk(&self) -> bool {
        *self == Finality::Dusk
    }

    /// Whether a Fail attestation counts only with SM Ratification credits.
    pub fn fail_needs_supermajority(self) -> bool {
        self != Finality::Dusk
    }
}

impl Default for Params {
    fn default() -> Params {
        Params {
            committee_credits: 64,
            max_iterations: 50,
            relaxed_iterations: 8,
            emergency_iteration: 16,
            epoch: 2160,
            minimum_stake: 1_000 * 1_000_000_000,
            soft_slash_warnings: 1,
            block_reward: 19_863_047_000,
            timeout_min_ms: 7_000,
            timeout_max_ms: 40_000,
            timeout_increase_ms: 2_000,
            min_block_time_ms: 10_000,
            max_future_ms: 3_000,
            stall_timeout_ms: 60_000,
            finality: Finality::Dusk,
            suspension: Suspension::Dusk,
        }
    }
}

impl Params {
    /// Checks every rule; the error names the field.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.committee_credits == 0 || self.committee_credits > 64 {
            return Err(invalid(
                "params.committee_credits",
                format!(
                    "must be 1..=64 (StepVotes bitset), found {}",
                    self.committee_credits
                ),
            ));
        }
        if self.max_iterations == 0 || self.max_iterations > MAX_ITERATIONS {
            return Err(invalid(
                "params.max_iterations",
                "must be 1..=85: the sortition step byte 3·iteration + kind (SORT-4) must fit in one byte",
            ));
        }
        if self.relaxed_iterations > self.max_iterations {
            return Err(invalid(
                "params.relaxed_iterations",
                "must not exceed max_iterations",
            ));
        }
        if self.epoch == 0 {
            return Err(invalid("params.epoch", "must be at least 1"));
        }
        if self.timeout_min_ms == 0 || self.timeout_min_ms > self.timeout_max_ms {
            return Err(invalid(
                "params.timeout_min_ms",
                "must be at least 1 and at most timeout_max_ms",
            ));
        }
        if self.stall_timeout_ms == 0 {
            return Err(invalid("params.stall_timeout_ms", "must be at least 1"));
        }
        Ok(())
    }

    /// Multiplies every duration by `scale` (a demo need not wait 40-second steps).
    pub fn scaled(&self, scale: f64) -> Params {
        let s = |ms: u64| ((ms as f64 * scale).round() as u64).max(1);
        Params {
            timeout_min_ms: s(self.timeout_min_ms),
            timeout_max_ms: s(self.timeout_max_ms),
            timeout_increase_ms: s(self.timeout_increase_ms),
            min_block_time_ms: (self.min_block_time_ms as f64 * scale).round() as u64,
            max_future_ms: s(self.max_future_ms),
            stall_timeout_ms: s(self.stall_timeout_ms),
            ..self.clone()
        }
    }
}

/// One genesis provisioner.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenesisProvisioner {
    /// Its BLS public key (hex).
    pub key: PublicKey,
    /// Proof of possession of the key (hex): makes aggregation safe against rogue keys.
    pub pop: Signature,
    /// Stake in lux.
    pub stake: u64,
    /// First round it may be drawn in (ELIG-2).
    #[serde(default)]
    pub eligible_from: u64,
}

/// The genesis: parameters, provisioners, the seed and time of block 0.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Genesis {
    /// Seed number of the genesis seed.
    pub seed: u64,
    /// Timestamp of block 0 (ms since the Unix epoch).
    pub timestamp: u64,
    /// Protocol parameters.
    #[serde(default)]
    pub params: Params,
    /// The provisioners.
    pub provisioners: Vec<GenesisProvisioner>,
}

impl Genesis {
    /// Validates everything and returns the key ring of the provisioners.
    pub fn validate(&self) -> Result<KeyRing, ConfigError> {
        self.params.validate()?;
        if self.provisioners.is_empty() {
            return Err(invalid(
                "provisioners",
                "at least one provisioner is needed",
            ));
        }
        let mut ring = KeyRing::default();
        let mut seen = std::collections::BTreeSet::new();
        for (i, p) in self.provisioners.iter().enumerate() {
            let field = format!("provisioners[{i}]");
            if !seen.insert(p.key) {
                return Err(invalid(format!("{field}.key"), "duplicate key"));
            }
            ring.insert(p.key, &p.pop).map_err(|e| match e {
                SigError::BadKey => invalid(format!("{field}.key"), e.to_string()),
                _ => invalid(format!("{field}.pop"), e.to_string()),
            })?;
        }
        let mut total: u64 = 0;
        for (i, p) in self.provisioners.iter().enumerate() {
            total = total.checked_add(p.stake).ok_or_else(|| {
                invalid(
                    format!("provisioners[{i}].stake"),
                    "the total stake overflows 64 bits of lux",
                )
            })?;
        }
        let eligible = self
            .provisioners
            .iter()
            .filter(|p| p.stake >= self.params.minimum_stake && p.eligible_from <= 1)
            .count();
        if eligible == 0 {
            return Err(invalid(
                "provisioners",
                "no provisioner is eligible in round 1 (stake >= minimum_stake, eligible_from <= 1)",
            ));
        }
        Ok(ring)
    }

    /// The seed of block 0: 48 bytes of BLAKE2b-256("sa-genesis" ‖ seed) ‖ BLAKE2b-256(that).
    pub fn genesis_seed(&self) -> Seed {
        let a = blake2b256(&[b"sa-genesis", &self.seed.to_le_bytes()]);
        let b = blake2b256(&[&a]);
        let mut s = [0u8; 48];
        s[..32].copy_from_slice(&a);
        s[32..].copy_from_slice(&b[..16]);
        Signature(s)
    }

    /// A testnet genesis: `n` provisioners with the keys [`Keypair::testnet`] and `stake` lux each.
    pub fn testnet(n: u32, stake: u64, params: Params, timestamp: u64) -> Genesis {
        Genesis {
            seed: 1,
            timestamp,
            params,
            provisioners: (0..n)
                .map(|i| {
                    let k = Keypair::testnet(i);
                    GenesisProvisioner {
                        key: k.public,
                        pop: k.proof_of_possession(),
                        stake,
                        eligible_from: 0,
                    }
                })
                .collect(),
        }
    }

    /// Reads and validates a genesis file.
    pub fn load(path: &Path) -> Result<(Genesis, KeyRing), ConfigError> {
        let g: Genesis = read_toml(path)?;
        let ring = g.validate()?;
        Ok((g, ring))
    }
}

/// Misbehaviour a node can be configured with, for fault-injection tests only.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Behaviour {
    /// As generator, propose candidates whose header commits to a state root re-execution does
    /// not reproduce: a misconfigured generator (EXEC-BLOCK-3; Invalid votes, Fail(Invalid),
    /// SLASH-4).
    pub invalid_candidates: bool,
    /// Equivocate: with every Validation vote, also sign and send a different one (a broken
    /// node, for showing that equivocation is detected: SAFE-VOTE-UNIQUE, TALLY-3).
    pub double_vote: bool,
    /// As generator, add a stake operation of this many lux of its own to every candidate (0:
    /// none). The model's abstraction puts one stake unit in every candidate
    /// (spec/execution.md); conformance adapters set this so sa-node's ledger follows.
    pub stake_each_block: u64,
}

/// One node's configuration file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// 32 bytes of secret key material (hex).
    pub secret_key: String,
    /// Genesis file (relative to this file's directory).
    pub genesis: PathBuf,
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Peers to connect to.
    #[serde(default)]
    pub peers: Vec<SocketAddr>,
    /// Directory of the node's log (created if absent).
    pub data_dir: PathBuf,
    /// Delay added to every message this node sends, in milliseconds.
    #[serde(default)]
    pub send_delay_ms: u64,
    /// Largest frame accepted from the network, in bytes.
    #[serde(default = "default_max_frame")]
    pub max_frame_bytes: usize,
    /// A connection silent this long is closed (a frame half sent included), in milliseconds
    /// (at least 1,000).
    #[serde(default = "default_idle_timeout")]
    pub idle_timeout_ms: u64,
    /// Fault injection.
    #[serde(default)]
    pub behaviour: Behaviour,
    /// Fault injection: the network schedule (delays, holds, drops per kind, pair, round and
    /// window) this node applies to what it sends (`sa testnet --schedule`).
    #[serde(default, skip_serializing_if = "crate::schedule::Schedule::is_empty")]
    pub schedule: crate::schedule::Schedule,
}

fn default_max_frame() -> usize {
    4 * 1024 * 1024
}

fn default_idle_timeout() -> u64 {
    60_000
}

impl NodeConfig {
    /// Reads a node file; relative paths are resolved against its directory.
    pub fn load(path: &Path) -> Result<(NodeConfig, Keypair), ConfigError> {
        let mut c: NodeConfig = read_toml(path)?;
        let base = path.parent().unwrap_or(Path::new("."));
        if c.genesis.is_relative() {
            c.genesis = base.join(&c.genesis);
        }
        if c.data_dir.is_relative() {
            c.data_dir = base.join(&c.data_dir);
        }
        let seed = from_hex::<32>(&c.secret_key).map_err(|e| invalid("secret_key", e))?;
        if c.max_frame_bytes < 1024 {
            return Err(invalid("max_frame_bytes", "must be at least 1024"));
        }
        if c.idle_timeout_ms < 1000 {
            return Err(invalid("idle_timeout_ms", "must be at least 1000"));
        }
        Ok((c, Keypair::from_seed(&seed)))
    }

    /// The hex form of key material, for writing configs.
    pub fn secret_hex(seed: &[u8; 32]) -> String {
        to_hex(seed)
    }
}

/// Reads a TOML file into `T`, naming the file in errors.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    toml::from_str(&text).map_err(|e| ConfigError::Parse {
        path: path.to_path_buf(),
        message: e.to_string(),
    })
}
