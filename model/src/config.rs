//! Model configuration: protocol parameters, provisioners, fault budget, mutations.
//!
//! A configuration is either a named preset ([`Config::preset`]) or a TOML file
//! ([`Config::from_toml_str`]). Every configuration is validated before checking: a value
//! that breaks a rule is rejected with the field's path and the rule it breaks.

use serde::{Deserialize, Serialize};

use crate::error::ConfigError;
use crate::mutations::Mutation;

/// Largest number of provisioners the model supports (votes are kept as bitsets of `u8`).
pub const MAX_PROVISIONERS: usize = 8;
const _: () = assert!(crate::dusk_profile::KEY_SLOTS == MAX_PROVISIONERS);
/// Largest number of rounds (block heights) the model explores.
pub const MAX_ROUNDS: u8 = 6;
/// Largest number of iterations per round (block ids keep one nibble per round: 1 + 2·i + variant).
pub const MAX_ITERATIONS: u8 = 7;
/// Largest committee size the model supports.
pub const MAX_CREDITS: u32 = 64;
/// Lux per stake unit (1 DUSK = 10⁹ lux, as in sa-node): one credit moves at most this much
/// weight (SORT-3), so the model's draws are sa-node's on the same stakes.
pub const LUX_PER_UNIT: u64 = 1_000_000_000;

/// A complete model configuration.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Name shown in reports (optional in a file: `sa check --config F` names it after the
    /// file's stem, so an edited preset never reports the preset's name).
    #[serde(default)]
    pub name: String,
    /// Protocol parameters (spec/protocol.md).
    pub protocol: ProtocolParams,
    /// The provisioner set at genesis, sorted by key = index.
    pub provisioners: Vec<ProvisionerParams>,
    /// What may go wrong, and how much of it (spec/faults.md).
    #[serde(default)]
    pub faults: FaultBudget,
    /// Genesis seed of the sortition.
    #[serde(default)]
    pub sortition: SortitionParams,
    /// Broken variants to check instead of the reference protocol.
    #[serde(default)]
    pub mutations: Vec<Mutation>,
}

/// Protocol parameters; thresholds default to the spec's formulas of C.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProtocolParams {
    /// C: credits of the Validation and Ratification committees (mainnet 64).
    pub committee_credits: u32,
    /// Supermajority for Valid votes; default SM = C − ⌊C/3⌋ (QUORUM-1).
    #[serde(default)]
    pub supermajority: Option<u32>,
    /// Majority for every other vote; default M = ⌊C/2⌋ + 1 (QUORUM-2).
    #[serde(default)]
    pub majority: Option<u32>,
    /// Iterations per round (mainnet 50).
    pub max_iterations: u8,
    /// Failed iterations recorded in a candidate for i < this (mainnet 8).
    pub relaxed_iterations: u8,
    /// EMERGENCY: the first emergency iteration (EMERG-1; mainnet 16). None: no iteration is
    /// an emergency iteration (the rules of EMERG-1 never apply).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub emergency_iteration: Option<u8>,
    /// Rounds (heights above genesis) the model explores.
    pub rounds: u8,
    /// Blocks per epoch (mainnet 2160).
    pub epoch: u32,
    /// Minimum stake in units (mainnet 1000 DUSK).
    pub minimum_stake: u32,
    /// Soft faults tolerated as warnings before suspension (Dusk 1).
    pub soft_slash_warnings: u8,
    /// The finality rule (spec/variants.md): Dusk's FIN-1, FIN-2, FIN-3 unless a variant is named.
    #[serde(default, skip_serializing_if = "Finality::is_dusk")]
    pub finality: Finality,
    /// The suspension rule (spec/variants.md): Dusk's ELIG-3 unless a variant is named.
    #[serde(default, skip_serializing_if = "Suspension::is_dusk")]
    pub suspension: Suspension,
}

/// A protocol variant of suspension (spec/variants.md, VAR-SUSP-*): which iterations of a
/// round a soft- or hard-slashed provisioner's suspension keeps it out of. Dusk's rule is the
/// reference.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Suspension {
    /// ELIG-3 as Dusk has it: a suspended provisioner is drawn in no iteration of a round
    /// below the round its suspension ends at.
    #[default]
    Dusk,
    /// VAR-SUSP-LIFTED: a suspension applies to the iterations below `relaxed_iterations`
    /// only (those whose failures SLASH-1 records); iteration i ≥ `relaxed_iterations` is
    /// drawn, generator, exclusions and committees, from the provisioners eligible without
    /// ELIG-3. A round that suspensions starve reaches iterations where only the absence bound
    /// counts.
    Lifted,
}

impl Suspension {
    /// Every rule, reference first.
    pub const ALL: [Suspension; 2] = [Suspension::Dusk, Suspension::Lifted];

    /// Whether this is Dusk's rule (the reference; not written out in a configuration).
    #[inline]
    pub fn is_dusk(&self) -> bool {
        *self == Suspension::Dusk
    }

    /// The name a configuration and `sa compare` use.
    pub fn name(self) -> &'static str {
        match self {
            Suspension::Dusk => "dusk",
            Suspension::Lifted => "lifted",
        }
    }

    /// The rule of that name.
    pub fn from_name(name: &str) -> Option<Suspension> {
        Suspension::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether a suspension keeps a provisioner out of iteration `i` of a round.
    #[inline]
    pub fn applies_at(self, i: u8, relaxed_iterations: u8) -> bool {
        self == Suspension::Dusk || i < relaxed_iterations
    }
}

/// A protocol variant of finality (spec/variants.md, VAR-FIN-*): which Fail attestations count
/// toward PNI, and which blocks the walk-back may confirm. Dusk's rule is the reference.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Finality {
    /// FIN-1, FIN-2, FIN-3 as Dusk has them: a Fail attestation (M credits) counts toward PNI; a PNI-k
    /// block is Confirmed once 2·k Attested blocks stand on it.
    #[default]
    Dusk,
    /// VAR-FIN-SM: a candidate's failed_iterations records only the Fail attestations whose
    /// Ratification signers hold at least SM credits, so a Success and a counted Fail of one
    /// iteration need 2·SM − C equivocating credits (more than f). Walk-back as Dusk's.
    SmFail,
    /// VAR-FIN-CLOSED: as `sm-fail`, and a block with PNI > 0 is never Confirmed by the
    /// walk-back (an iteration not shown failed may still succeed under asynchrony), so it and
    /// every block above it stay unfinal.
    Closed,
}

impl Finality {
    /// Every rule, reference first.
    pub const ALL: [Finality; 3] = [Finality::Dusk, Finality::SmFail, Finality::Closed];

    /// Whether this is Dusk's rule (the reference; not written out in a configuration).
    #[inline]
    pub fn is_dusk(&self) -> bool {
        *self == Finality::Dusk
    }

    /// The name a configuration and `sa compare` use.
    pub fn name(self) -> &'static str {
        match self {
            Finality::Dusk => "dusk",
            Finality::SmFail => "sm-fail",
            Finality::Closed => "closed",
        }
    }

    /// The rule of that name.
    pub fn from_name(name: &str) -> Option<Finality> {
        Finality::ALL.into_iter().find(|r| r.name() == name)
    }

    /// Whether only Fail attestations of SM credits are recorded in failed_iterations.
    #[inline]
    pub fn fail_needs_supermajority(self) -> bool {
        self != Finality::Dusk
    }
}

/// One provisioner at genesis.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProvisionerParams {
    /// Stake in units (one unit is the weight one credit removes in sortition).
    pub stake: u32,
    /// First round at which the stake is mature (ELIG-2); 1 = from the first round.
    #[serde(default = "one")]
    pub eligible_from: u32,
}

fn one() -> u32 {
    1
}

/// The fault budget.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultBudget {
    /// Honest provisioners that may be absent: offline from the start or crashing at any
    /// point before GST (the absent stay absent).
    #[serde(default)]
    pub absent: u8,
    /// Before GST, every timer of every node may fire early: before the candidate or the votes
    /// it waits for arrive, although they were sent (per node, no global count). When false,
    /// timers fire only when nothing that could complete the step can still arrive (TIME-3).
    #[serde(default = "yes")]
    pub early_timers: bool,
    /// GST as a round (0 = no GST: asynchronous in every round). From this round on the
    /// network is synchronous: timers fire only when nothing more can arrive, an honest
    /// generator proposes before its Proposal timer, no new provisioner goes absent, and the
    /// nodes past GST are run one at a time in key order (TIME-4).
    #[serde(default)]
    pub gst_round: u8,
    /// Honest generators that may propose an invalid candidate (misconfigured, not malicious).
    #[serde(default)]
    pub invalid_candidates: u8,
    /// Byzantine provisioners (indices in key order): they may vote any value in any step they
    /// are drawn for, send different votes to different nodes (equivocate), propose two
    /// different candidates as generator, or withhold anything.
    #[serde(default)]
    pub byzantine: Vec<u8>,
    /// Unbounded model only: an absent provisioner may come back after GST, once, right after
    /// a height is made Final everywhere (it holds the common Final chain and starts the round
    /// above it). Enables LIVE-REJOIN.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rejoin: bool,
}

fn yes() -> bool {
    true
}

/// Sortition parameters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SortitionParams {
    /// Genesis seed (the seed of round 1 is derived from it).
    #[serde(default)]
    pub seed: u64,
    /// Unbounded model only (spec/faults.md, "Unbounded rounds"): 0 or 1 keeps the draws of a
    /// height a function of the block below it; K ≥ 2 keeps K seed classes: the round above a
    /// dropped height is drawn from the seed of class k (`seed + k`), rounds above it follow
    /// the real seed chain (SORT-6), and a drop moves to the class the dropped block's child
    /// seed names (its first byte mod K). At most 8.
    #[serde(default, skip_serializing_if = "is_zero_u8")]
    pub seed_classes: u8,
    /// Whose keys, seeds and sortition hash the draws use: `reference` (spec/: the testnet
    /// keys, BLAKE2b-256, SORT-6's seed) or `dusk` (dusk-consensus 1.7.0's: keys, seeds and
    /// committees computed as that crate computes them; [`crate::dusk_profile`]).
    #[serde(default, skip_serializing_if = "Profile::is_reference")]
    pub profile: Profile,
}

/// The profile of keys, seeds and draws (`sortition.profile`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// spec/protocol.md SORT-1 to SORT-6 as sa-node implements them.
    #[default]
    Reference,
    /// dusk-consensus 1.7.0: its keys (a table the `sa-dusk` crate generates), its seeds
    /// (the generator's multisig signature over the parent seed), SHA3-256 in the sortition
    /// hash, and its exclusion rule (gen(i) and gen(i+1) whenever more than one provisioner
    /// is eligible, whatever that leaves).
    Dusk,
}

impl Profile {
    /// Whether this is the reference profile (not written into configurations).
    pub fn is_reference(&self) -> bool {
        *self == Profile::Reference
    }
}

fn is_zero_u8(x: &u8) -> bool {
    *x == 0
}

const PRESETS: &[&str] = &[
    "default",
    "tiny",
    "small",
    "two-eligible",
    "byzantine",
    "byzantine-over",
    "async-final",
    "byzantine-async",
    "emergency",
    "matured",
    "warnings",
    "stall",
    "rejoin",
    "largest",
    "dusk",
    "mainnet",
];

impl Config {
    /// Names of the built-in presets.
    pub fn preset_names() -> &'static [&'static str] {
        PRESETS
    }

    /// A built-in preset by name.
    #[allow(
        clippy::too_many_lines,
        reason = "the table of presets: one arm per preset, each a few fields from `default`, read top to bottom"
    )]
    pub fn preset(name: &str) -> Option<Config> {
        let protocol = ProtocolParams {
            committee_credits: 4,
            supermajority: None,
            majority: None,
            max_iterations: 2,
            relaxed_iterations: 2,
            emergency_iteration: None,
            rounds: 1,
            epoch: 1,
            minimum_stake: 1,
            soft_slash_warnings: 0,
            finality: Finality::Dusk,
            suspension: Suspension::Dusk,
        };
        let stakes = |s: &[u32]| {
            s.iter()
                .map(|&stake| ProvisionerParams {
                    stake,
                    eligible_from: 1,
                })
                .collect::<Vec<_>>()
        };
        let faults = FaultBudget {
            absent: 0,
            early_timers: true,
            gst_round: 0,
            invalid_candidates: 0,
            byzantine: vec![],
            rejoin: false,
        };
        let config =
            |protocol: ProtocolParams, stake: &[u32], faults: FaultBudget, seed: u64| Config {
                name: name.into(),
                protocol,
                provisioners: stakes(stake),
                faults,
                sortition: SortitionParams {
                    seed,
                    seed_classes: 0,
                    profile: Profile::Reference,
                },
                mutations: vec![],
            };
        let byzantine = |p3_stake: u32, seed: u64| {
            config(
                ProtocolParams {
                    committee_credits: 7,
                    rounds: 2,
                    ..protocol.clone()
                },
                &[5, 5, 5, p3_stake],
                FaultBudget {
                    byzantine: vec![3],
                    gst_round: 2,
                    ..faults.clone()
                },
                seed,
            )
        };
        let c = match name {
            // 4 provisioners of 2 units, C = 5 (SM 4 != M 3), 3 rounds of up to 2 iterations.
            // Excluding gen(i) and gen(i+1) leaves 4 units: committees hold 4 of the nominal 5
            // credits (SORT-3), so a Success needs every member and a Fail 3 credits. Before GST
            // (round 1) every timer of every node may fire early, one provisioner may go absent
            // at any point, one generator may propose an invalid candidate; rounds 2 and 3 are
            // synchronous. In the unbounded model the absent provisioner may come back after
            // GST (LIVE-REJOIN; the bounded model has no returns).
            "default" => config(
                ProtocolParams {
                    committee_credits: 5,
                    rounds: 3,
                    epoch: 2,
                    ..protocol
                },
                &[2, 2, 2, 2],
                FaultBudget {
                    absent: 1,
                    gst_round: 2,
                    invalid_candidates: 1,
                    rejoin: true,
                    ..faults.clone()
                },
                2,
            ),
            // The default preset with one block per epoch: the stake each block adds
            // (spec/execution.md) matures and a soft-slashed generator's suspension ends inside
            // the explored rounds, so locked and maturing stake meet the sortition.
            "matured" => config(
                ProtocolParams {
                    committee_credits: 5,
                    rounds: 3,
                    epoch: 1,
                    ..protocol.clone()
                },
                &[2, 2, 2, 2],
                FaultBudget {
                    absent: 1,
                    gst_round: 2,
                    invalid_candidates: 1,
                    ..faults.clone()
                },
                2,
            ),
            // One round, 4 provisioners, early timers only: the quickest check.
            "tiny" => config(protocol, &[2, 2, 2, 2], faults, 5),
            // One round, one absent provisioner, one invalid candidate.
            "small" => config(
                protocol,
                &[2, 2, 2, 2],
                FaultBudget {
                    absent: 1,
                    invalid_candidates: 1,
                    ..faults
                },
                7,
            ),
            // Exactly two eligible provisioners (rusk #3717 edge, spec SORT-5).
            "two-eligible" => config(
                ProtocolParams {
                    committee_credits: 3,
                    ..protocol
                },
                &[3, 3],
                faults,
                // gen(0) != gen(1): Dusk's exclusion rule empties a committee.
                0,
            ),
            // C = 7 (SM 5, M 4): a Success and a Fail in one iteration need SM + M - C = 2
            // equivocating credits, and the Byzantine provisioner P3 (stake 2) holds at most
            // 2 = floor((C-1)/3) credits of any committee: at the bound. Round 1 asynchronous
            // (every timer may fire early), round 2 synchronous: an Attested (PNI 0) block of
            // round 1 becomes Final when round 2's is Attested, so a node cut off during round
            // 1 stays cut off as long as that takes; an Accepted (PNI 1) block needs round 3,
            // past GST: this preset says nothing about asynchrony through finality
            // (`async-final` does). A demonstration preset: expected verdict VIOLATED, by
            // SAFE-ONE-OUTCOME; SAFE-FINAL-AGREEMENT holds (with `dusk-async-own-vote` it
            // fails: spec/incidents.md, "Success and Fail in one iteration").
            "byzantine" => byzantine(2, 41),
            // As `byzantine`, with P3 staking 3: up to 3 Byzantine credits, one past the bound.
            // Seed 48: two honest nodes finalize different blocks (seeds 1-60 scanned: the
            // first with a fork under TALLY-4).
            "byzantine-over" => byzantine(3, 48),
            // The `byzantine` stakes with P3 honest, 3 rounds and no GST: every timer of every
            // node may fire early and messages arrive in any order in every explored round,
            // so asynchrony lasts until a PNI-1 block can be Final (Accepted in round 1,
            // Final once the blocks of rounds 2 and 3 on top of it are Attested: FIN-1, FIN-2, FIN-3).
            // No Byzantine provisioner, no absence, no invalid candidate: message timing
            // alone. Expected verdict VIOLATED, by SAFE-FINAL-AGREEMENT (spec/incidents.md,
            // "Asynchrony through finality").
            "async-final" => {
                let mut c = byzantine(2, 41);
                c.protocol.rounds = 3;
                c.faults.gst_round = 0;
                c.faults.byzantine.clear();
                c
            }
            // `async-final` with P3 Byzantine (stake 2: at most 2 = floor((C-1)/3) credits of
            // any committee, at the bound).
            "byzantine-async" => {
                let mut c = byzantine(2, 41);
                c.protocol.rounds = 3;
                c.faults.gst_round = 0;
                c
            }
            // The last iterations of a round (spec EMERG-1, FAIL-1): 4 iterations, relaxed
            // threshold 1 (only iteration 0 is recorded as failed), emergency from iteration 2
            // (iterations 2 and 3 stay open; no Fail attestations there). 3 provisioners of 2
            // units, C = 3: each committee is the one provisioner left after excluding gen(i)
            // and gen(i+1), with 2 credits (SM = M = 2). 3 rounds; round 1 asynchronous (early
            // timers, one absence, one invalid candidate), rounds 2-3 synchronous.
            "emergency" => config(
                ProtocolParams {
                    committee_credits: 3,
                    max_iterations: 4,
                    relaxed_iterations: 1,
                    emergency_iteration: Some(2),
                    rounds: 3,
                    epoch: 2,
                    ..protocol
                },
                &[2, 2, 2],
                FaultBudget {
                    absent: 1,
                    gst_round: 2,
                    invalid_candidates: 1,
                    ..faults
                },
                5,
            ),
            // The `emergency` preset where the absent provisioner may come back after GST
            // (unbounded model), with 3 seed classes: LIVE-REJOIN is checked. Without seed
            // classes the draws of a round depend on the block below only, and on this preset
            // they repeat with the provisioner back from absence in no committee: a lasso of
            // the abstraction, not of the protocol (spec/faults.md).
            // `matured` with the spec's soft-slash warnings (WARNINGS = 1; every other small
            // preset sets 0): a generator's first missed slot is a warning, the second
            // suspends it, and the suspension ends inside the explored rounds. The preset on
            // which SLASH-1's warning changes an outcome (the `warnings` conformance suite).
            "warnings" => {
                let mut c = Config::preset("matured").expect("a preset");
                c.name = name.into();
                c.protocol.soft_slash_warnings = 1;
                c
            }
            // The default preset with relaxed threshold 1: the same behaviour under Dusk's rules
            // (with 2 iterations only iteration 0's failure can be recorded either way), and
            // an iteration above the threshold for VAR-SUSP-LIFTED to lift suspensions in. The
            // suspension stall: a misconfigured generator's invalid candidate suspends it
            // (SLASH-4), one absence leaves committees short of SM, and the round never ends
            // (LIVE-NO-STALL; spec/incidents.md, "Suspension stall").
            "stall" => {
                let mut c = Config::preset("default").expect("a preset");
                c.name = name.into();
                c.protocol.relaxed_iterations = 1;
                c
            }
            "rejoin" => {
                let mut c = Config::preset("emergency").expect("a preset");
                c.name = name.into();
                c.faults.rejoin = true;
                c.sortition.seed_classes = 3;
                c
            }
            // The largest configuration the model represents, for `sa simulate` (its exhaustive
            // search does not finish): 8 provisioners of 1000 DUSK, mainnet's C = 64, the
            // model's limits of 7 iterations (emergency from iteration 5) and 6 rounds;
            // rounds 1-3 asynchronous (asynchrony lasts until a PNI-1 block can be Final),
            // two absences, one invalid candidate, P7 Byzantine (with gen(i) and gen(i+1)
            // excluded, 1/6 of the eligible stake: about 11 of 64 credits, within the bound of
            // 21 and often past the 12 a Success and a Fail of one iteration need).
            "largest" => config(
                ProtocolParams {
                    committee_credits: 64,
                    supermajority: None,
                    majority: None,
                    max_iterations: MAX_ITERATIONS,
                    relaxed_iterations: 4,
                    emergency_iteration: Some(5),
                    rounds: MAX_ROUNDS,
                    epoch: 2160,
                    minimum_stake: 1000,
                    soft_slash_warnings: 1,
                    finality: Finality::Dusk,
                    suspension: Suspension::Dusk,
                },
                &[1000; MAX_PROVISIONERS],
                FaultBudget {
                    absent: 2,
                    gst_round: 4,
                    invalid_candidates: 1,
                    byzantine: vec![7],
                    ..faults.clone()
                },
                0,
            ),
            // Dusk's own draws (`sortition.profile = "dusk"`: dusk-consensus 1.7.0's keys,
            // seeds, SHA3-256 sortition and exclusion rule) at Dusk's C = 64 (SM 43, M 33) on
            // 4 provisioners of 1000-2500 DUSK (Dusk's minimum stake is 1000), 2 rounds of up
            // to 2 iterations. Round 1 asynchronous (early timers, one absence, one invalid
            // candidate), round 2 synchronous. The preset the Dusk conformance suite is
            // exported from (`dusk/`, docs/dusk-conformance.md).
            "dusk" => {
                let mut c = config(
                    ProtocolParams {
                        committee_credits: 64,
                        rounds: 2,
                        epoch: 2,
                        minimum_stake: 1000,
                        ..protocol
                    },
                    &[1000, 1500, 2000, 2500],
                    FaultBudget {
                        absent: 1,
                        gst_round: 2,
                        invalid_candidates: 1,
                        ..faults
                    },
                    36,
                );
                c.sortition.profile = Profile::Dusk;
                c
            }
            // Dusk mainnet parameters: valid, far too large to check exhaustively.
            "mainnet" => config(
                ProtocolParams {
                    committee_credits: 64,
                    supermajority: None,
                    majority: None,
                    max_iterations: 50,
                    relaxed_iterations: 8,
                    emergency_iteration: Some(16),
                    rounds: 2,
                    epoch: 2160,
                    minimum_stake: 1000,
                    soft_slash_warnings: 1,
                    finality: Finality::Dusk,
                    suspension: Suspension::Dusk,
                },
                &[1000; 8],
                FaultBudget {
                    absent: 2,
                    invalid_candidates: 1,
                    ..faults
                },
                0,
            ),
            _ => return None,
        };
        Some(c)
    }

    /// Parses and validates a TOML configuration; `origin` names the file in errors.
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Parse {
            origin: origin.to_owned(),
            message: e.to_string().trim_end().to_owned(),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Supermajority threshold SM (Valid votes).
    #[inline]
    pub fn supermajority(&self) -> u32 {
        let c = self.protocol.committee_credits;
        self.protocol.supermajority.unwrap_or(c - c / 3)
    }

    /// Majority threshold M (every other vote).
    #[inline]
    pub fn majority(&self) -> u32 {
        let c = self.protocol.committee_credits;
        self.protocol.majority.unwrap_or(c / 2 + 1)
    }

    /// Whether provisioner `p` is Byzantine.
    #[inline]
    pub fn is_byzantine(&self, p: usize) -> bool {
        self.faults.byzantine.iter().any(|&b| usize::from(b) == p)
    }

    /// The Byzantine provisioners as a bitset.
    #[inline]
    pub fn byzantine_mask(&self) -> u8 {
        self.faults.byzantine.iter().fold(0, |m, &b| m | 1 << b)
    }

    /// Equivocating credits a Success and a Fail quorum of one committee need: SM + M - C
    /// (spec/faults.md). Two honest nodes can see both only if the Byzantine credits of that
    /// committee reach it.
    pub fn success_fail_overlap(&self) -> u32 {
        (self.supermajority() + self.majority()).saturating_sub(self.protocol.committee_credits)
    }

    /// The Byzantine bound floor((C-1)/3) on the credits of one committee.
    pub fn byzantine_bound(&self) -> u32 {
        (self.protocol.committee_credits - 1) / 3
    }

    /// Whether a mutation is enabled.
    #[inline]
    pub fn has(&self, m: Mutation) -> bool {
        self.mutations.contains(&m)
    }

    /// The mutation hook of `rule`: the configured mutations that break it (each mutation breaks
    /// one rule, [`Mutation::rule`]). A rule's site asks `broken(rule).contains(m)`.
    #[inline]
    pub fn broken(&self, rule: crate::rules::Rule) -> crate::mutations::MutationSet {
        let mut set = crate::mutations::MutationSet::default();
        for &m in &self.mutations {
            if m.rule() == rule {
                set = set.with(m);
            }
        }
        set
    }

    /// Checks that the model can represent this configuration (bounded state encoding).
    /// A protocol-valid configuration such as `mainnet` may still be too large for the model.
    pub fn check_model_limits(&self) -> Result<(), ConfigError> {
        let p = &self.protocol;
        let err = |field: &str, rule: String| {
            Err(ConfigError::Invalid {
                field: field.to_owned(),
                rule,
            })
        };
        if p.max_iterations > MAX_ITERATIONS {
            return err(
                "protocol.max_iterations",
                format!(
                    "is {}; the model checks at most {MAX_ITERATIONS} iterations per round",
                    p.max_iterations
                ),
            );
        }
        if self.sortition.seed_classes > 8 {
            return err(
                "sortition.seed_classes",
                format!(
                    "is {}; the unbounded model keeps at most 8 seed classes",
                    self.sortition.seed_classes
                ),
            );
        }
        if self.sortition.profile == Profile::Dusk {
            let stakes: Vec<u32> = self.provisioners.iter().map(|p| p.stake).collect();
            crate::dusk_profile::check_limits(
                self.sortition.seed,
                p.rounds,
                self.sortition.seed_classes,
                &stakes,
            )
            .map_err(|(field, rule)| ConfigError::Invalid {
                field: field.into(),
                rule,
            })?;
        }
        if p.rounds > MAX_ROUNDS {
            return err(
                "protocol.rounds",
                format!(
                    "is {}; the model checks at most {MAX_ROUNDS} rounds",
                    p.rounds
                ),
            );
        }
        if u32::from(self.faults.gst_round) > u32::from(p.rounds) + 1 {
            return err(
                "faults.gst_round",
                format!(
                    "must be 0 (no GST) or at most rounds + 1 = {}",
                    p.rounds + 1
                ),
            );
        }
        Ok(())
    }

    /// Checks every rule; the error names the field and the rule it breaks.
    #[allow(
        clippy::too_many_lines,
        reason = "one check per field, in the order of the fields, each naming its field and rule"
    )]
    pub fn validate(&self) -> Result<(), ConfigError> {
        let p = &self.protocol;
        let err = |field: &str, rule: String| {
            Err(ConfigError::Invalid {
                field: field.to_owned(),
                rule,
            })
        };
        if p.committee_credits == 0 {
            return err(
                "protocol.committee_credits",
                "must be at least 1 (a committee of zero credits can never reach a quorum)".into(),
            );
        }
        if p.committee_credits > MAX_CREDITS {
            return err(
                "protocol.committee_credits",
                format!("must be at most {MAX_CREDITS}"),
            );
        }
        let c = p.committee_credits;
        for (field, value) in [
            ("protocol.supermajority", self.supermajority()),
            ("protocol.majority", self.majority()),
        ] {
            if value == 0 {
                return err(field, "must be at least 1 credit".into());
            }
            if value > c {
                return err(
                    field,
                    format!("{value} credits can never be met by a committee of C = {c} credits"),
                );
            }
        }
        if self.majority() > self.supermajority() {
            return err(
                "protocol.majority",
                format!(
                    "M = {} credits is more than SM = {} (a Fail would need more credits than a \
                     Success; spec/protocol.md: SM = C - floor(C/3) >= M = floor(C/2) + 1)",
                    self.majority(),
                    self.supermajority()
                ),
            );
        }
        if p.max_iterations == 0 {
            return err("protocol.max_iterations", "must be at least 1".into());
        }
        if p.relaxed_iterations > p.max_iterations {
            return err(
                "protocol.relaxed_iterations",
                format!("must be at most max_iterations ({})", p.max_iterations),
            );
        }
        if let Some(e) = p.emergency_iteration {
            if e >= p.max_iterations {
                return err(
                    "protocol.emergency_iteration",
                    format!(
                        "{e} is not an iteration of a round of max_iterations = {} (0..{}): no \
                         iteration would be an emergency iteration; leave the field out for that",
                        p.max_iterations,
                        p.max_iterations - 1
                    ),
                );
            }
            if e < p.relaxed_iterations {
                return err(
                    "protocol.emergency_iteration",
                    format!(
                        "{e} is below relaxed_iterations = {}: emergency iterations (no Fail \
                         attestations) would have to be recorded as failed (FAIL-1); mainnet: \
                         relaxed 8, emergency 16",
                        p.relaxed_iterations
                    ),
                );
            }
        }
        if p.rounds == 0 {
            return err("protocol.rounds", "must be at least 1".into());
        }
        if p.epoch == 0 {
            return err("protocol.epoch", "must be at least 1 block".into());
        }
        if p.minimum_stake == 0 {
            return err("protocol.minimum_stake", "must be at least 1 unit".into());
        }
        let n = self.provisioners.len();
        if n == 0 {
            return err(
                "provisioners",
                "at least one provisioner is required".into(),
            );
        }
        if n > MAX_PROVISIONERS {
            return err(
                "provisioners",
                format!("at most {MAX_PROVISIONERS} provisioners are supported, got {n}"),
            );
        }
        for (i, prov) in self.provisioners.iter().enumerate() {
            if prov.stake == 0 {
                return err(
                    &format!("provisioners[{i}].stake"),
                    "must be at least 1 unit (an unstaked key is not a provisioner)".into(),
                );
            }
            if prov.stake > 1_000_000 {
                return err(
                    &format!("provisioners[{i}].stake"),
                    "must be at most 1000000 units".into(),
                );
            }
        }
        if usize::from(self.faults.absent) > n {
            return err(
                "faults.absent",
                format!(
                    "{} absent provisioners is more than the {n} provisioners configured",
                    self.faults.absent
                ),
            );
        }
        let mut byz = std::collections::BTreeSet::new();
        for (k, &b) in self.faults.byzantine.iter().enumerate() {
            if usize::from(b) >= n {
                return err(
                    &format!("faults.byzantine[{k}]"),
                    format!("provisioner index {b} does not exist (there are {n} provisioners)"),
                );
            }
            if !byz.insert(b) {
                return err(
                    &format!("faults.byzantine[{k}]"),
                    format!("provisioner {b} is listed twice"),
                );
            }
        }
        if usize::from(self.faults.absent) + byz.len() > n {
            return err(
                "faults.absent",
                format!(
                    "{} absent plus {} Byzantine provisioners is more than the {n} configured",
                    self.faults.absent,
                    byz.len()
                ),
            );
        }
        let eligible_somewhere = self
            .provisioners
            .iter()
            .any(|prov| prov.stake >= p.minimum_stake && prov.eligible_from <= u32::from(p.rounds));
        if !eligible_somewhere {
            return err(
                "provisioners",
                "no provisioner is eligible in any explored round (stake below minimum_stake or \
                 eligible_from beyond rounds): nothing could ever be proposed"
                    .into(),
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for m in &self.mutations {
            if !seen.insert(*m) {
                return err("mutations", format!("`{}` is listed twice", m.name()));
            }
        }
        Ok(())
    }
}
