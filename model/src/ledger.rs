//! Stakes, rewards and penalties (spec ELIG-*, REW-*, SLASH-*), derived from a chain.
//!
//! The model never stores a ledger: it is a pure function of a node's chain, computed block by
//! block in [`crate::context`]. Amounts are in lux; one stake unit is `LUX_PER_UNIT` lux.

use crate::config::{Config, LUX_PER_UNIT, MAX_PROVISIONERS};

/// Block reward in lux: chosen so every share of REW-1 is a whole number for C ≤ 64.
pub const BLOCK_REWARD: u64 = 1_280_000;

/// Balances and penalty counters of every provisioner.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ledger {
    /// Stake with weight (lux).
    pub stake: [u64; MAX_PROVISIONERS],
    /// Locked stake: soft-slashed, no weight, not burned.
    pub locked: [u64; MAX_PROVISIONERS],
    /// Burned by hard slashes.
    pub burned: [u64; MAX_PROVISIONERS],
    /// Soft fault counter.
    pub faults: [u8; MAX_PROVISIONERS],
    /// Hard fault counter.
    pub hard_faults: [u8; MAX_PROVISIONERS],
    /// First round at which a suspended provisioner is eligible again (0 = not suspended).
    pub suspended_until: [u32; MAX_PROVISIONERS],
    /// First round at which the stake is mature.
    pub eligible_from: [u32; MAX_PROVISIONERS],
    /// Stake added by STAKE-1 and not mature yet: no weight.
    pub maturing: [u64; MAX_PROVISIONERS],
    /// Round from which `maturing` joins the stake.
    pub matures_at: [u32; MAX_PROVISIONERS],
}

impl Ledger {
    /// The genesis ledger of a configuration.
    pub fn genesis(config: &Config) -> Ledger {
        let mut l = Ledger {
            stake: [0; MAX_PROVISIONERS],
            locked: [0; MAX_PROVISIONERS],
            burned: [0; MAX_PROVISIONERS],
            faults: [0; MAX_PROVISIONERS],
            hard_faults: [0; MAX_PROVISIONERS],
            suspended_until: [0; MAX_PROVISIONERS],
            eligible_from: [u32::MAX; MAX_PROVISIONERS],
            maturing: [0; MAX_PROVISIONERS],
            matures_at: [0; MAX_PROVISIONERS],
        };
        for (p, prov) in config.provisioners.iter().enumerate() {
            l.stake[p] = u64::from(prov.stake) * LUX_PER_UNIT;
            l.eligible_from[p] = prov.eligible_from;
        }
        l
    }

    /// ELIG-1..3: staked at least the minimum, mature, not suspended at `round`.
    pub fn eligible(&self, config: &Config, p: usize, round: u32) -> bool {
        self.stake[p] >= u64::from(config.protocol.minimum_stake) * LUX_PER_UNIT
            && round >= self.eligible_from[p]
            && round >= self.suspended_until[p]
    }

    /// Eligibility without the suspension rule (used only by the `draw-suspended` mutation).
    pub fn eligible_ignoring_suspension(&self, config: &Config, p: usize, round: u32) -> bool {
        self.stake[p] >= u64::from(config.protocol.minimum_stake) * LUX_PER_UNIT
            && round >= self.eligible_from[p]
    }

    /// Principal of `p`: stake + locked + burned + maturing (what the provisioner put in).
    pub fn principal(&self, p: usize) -> u64 {
        self.stake[p] + self.locked[p] + self.burned[p] + self.maturing[p]
    }

    /// STAKE-1: `amount` added at height `h` matures at round `next_epoch(h) + EPOCH`.
    pub fn stake_added(&mut self, config: &Config, p: usize, amount: u64, h: u32) {
        let epoch = config.protocol.epoch;
        self.maturing[p] += amount;
        self.matures_at[p] = next_epoch(h, epoch) + epoch;
    }

    /// STAKE-1: stake maturing by round `round` joins the weight (applied when the block of
    /// height `round − 1` is accepted, before its slashes).
    pub fn mature(&mut self, round: u32) {
        for p in 0..MAX_PROVISIONERS {
            if self.maturing[p] > 0 && self.matures_at[p] <= round {
                self.stake[p] += self.maturing[p];
                self.maturing[p] = 0;
            }
        }
    }
}

/// `next_epoch(h) = h + EPOCH − h mod EPOCH` (ELIG-4).
pub fn next_epoch(h: u32, epoch: u32) -> u32 {
    h + epoch - h % epoch
}

/// What accepting one block did to the ledger (for the reward and penalty properties).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Effects {
    /// The block's generator.
    pub generator: Option<usize>,
    /// Provisioners soft-slashed, with the iteration whose Fail attestation caused it.
    pub soft_slashed: Vec<(usize, u8)>,
    /// Provisioners hard-slashed.
    pub hard_slashed: Vec<usize>,
    /// Provisioners newly suspended.
    pub suspended: Vec<usize>,
}

impl Ledger {
    /// Soft slash (SLASH-1..3): warning first, then suspension and stake moved to `locked`.
    pub fn soft_slash(
        &mut self,
        config: &Config,
        p: usize,
        height: u32,
        fx: &mut Effects,
        hits: &crate::mutations::Hits,
    ) {
        self.faults[p] = self.faults[p].saturating_add(1);
        let warnings = config.protocol.soft_slash_warnings;
        if self.faults[p] > warnings {
            let eff = u32::from(self.faults[p] - warnings);
            self.suspended_until[p] =
                next_epoch(height, config.protocol.epoch) + eff * config.protocol.epoch;
            let moved = (self.stake[p] / 10 * u64::from(eff)).min(self.stake[p]);
            if config.has(crate::mutations::Mutation::LockWithoutDebit) && moved > 0 {
                hits.hit(crate::mutations::Mutation::LockWithoutDebit);
            } else {
                self.stake[p] -= moved;
            }
            self.locked[p] += moved;
            fx.suspended.push(p);
        }
    }

    /// Hard slash (SLASH-4): suspension and 10%·hard_faults of the stake burned.
    pub fn hard_slash(&mut self, config: &Config, p: usize, height: u32, fx: &mut Effects) {
        self.hard_faults[p] = self.hard_faults[p].saturating_add(1);
        let eff = u32::from(self.hard_faults[p]);
        self.suspended_until[p] =
            next_epoch(height, config.protocol.epoch) + eff * config.protocol.epoch;
        let burned = (self.stake[p] / 10 * u64::from(eff)).min(self.stake[p]);
        self.stake[p] -= burned;
        self.burned[p] += burned;
        fx.hard_slashed.push(p);
        fx.suspended.push(p);
    }
}
