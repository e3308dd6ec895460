//! The provisioner ledger after each block: stakes, eligibility, rewards and slashes
//! (spec/protocol.md ELIG-1, ELIG-2, ELIG-3, ELIG-4, ELIG-5, REW-1, REW-2, REW-3, SLASH-1, SLASH-2, SLASH-3, SLASH-4). Weight is stake only: rewards and
//! locked stake never count.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::config::{Genesis, Params};
use crate::keys::PublicKey;
use crate::rules::Rule;

/// One provisioner's account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// Stake with weight (lux).
    pub stake: u64,
    /// Stake moved out of weight by soft slashes (SLASH-2), not burned.
    pub locked: u64,
    /// Accumulated rewards (REW-1): never weight.
    pub reward: u64,
    /// First eligible round (ELIG-2).
    pub eligible_from: u64,
    /// Soft faults (SLASH-1).
    pub soft_faults: u8,
    /// Hard faults (SLASH-4).
    pub hard_faults: u8,
    /// Not eligible before this round (ELIG-3).
    pub suspended_until: u64,
    /// Stake added by STAKE-1 that is not mature yet: no weight before `matures_at`.
    pub maturing: u64,
    /// The round from which `maturing` counts (`next_epoch(h) + EPOCH` of the staking block).
    pub matures_at: u64,
}

/// All accounts plus the Dusk fund and what was burned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ledger {
    /// Accounts by key.
    pub accounts: BTreeMap<PublicKey, Account>,
    /// REW-1: 10% of each block reward.
    pub dusk_fund: u64,
    /// Unassigned rewards and hard-slashed stake.
    pub burned: u64,
    /// Fault proofs already punished: (offender, round, iteration) — one punishment each.
    pub punished: BTreeSet<(PublicKey, u64, u8)>,
}

/// ELIG-4: the first height of the next epoch.
pub fn next_epoch(h: u64, epoch: u64) -> u64 {
    Rule::Elig4.applies();
    h + epoch - (h % epoch)
}

/// What one accepted block does to the ledger.
#[derive(Clone, Debug, Default)]
pub struct BlockEffects {
    /// Height of the block.
    pub height: u64,
    /// Its generator.
    pub generator: Option<PublicKey>,
    /// Credits of each attestation signer, summed over both steps (REW-2).
    pub signer_credits: BTreeMap<PublicKey, u32>,
    /// Minimum credits an attestation needs (the two thresholds).
    pub quorum_credits: u32,
    /// SLASH-1: generators of Fail(NoCandidate) iterations below RELAXED.
    pub soft: Vec<PublicKey>,
    /// SLASH-4: generators of Fail(Invalid) iterations and offenders of fault proofs.
    pub hard: Vec<(PublicKey, u64, u8)>,
}

impl Ledger {
    /// The ledger of block 0.
    pub fn genesis(g: &Genesis) -> Ledger {
        Ledger {
            accounts: g
                .provisioners
                .iter()
                .map(|p| {
                    (
                        p.key,
                        Account {
                            stake: p.stake,
                            locked: 0,
                            reward: 0,
                            eligible_from: p.eligible_from,
                            soft_faults: 0,
                            hard_faults: 0,
                            suspended_until: 0,
                            maturing: 0,
                            matures_at: 0,
                        },
                    )
                })
                .collect(),
            dusk_fund: 0,
            burned: 0,
            punished: BTreeSet::new(),
        }
    }

    /// ELIG-1, ELIG-2, ELIG-3: the weights of round `round` (the ledger is the state after block round−1).
    pub fn eligible(&self, round: u64, params: &Params) -> BTreeMap<PublicKey, u64> {
        Rule::Elig3.applies();
        Rule::Slash3.applies();
        self.eligible_with(round, params, true)
    }

    /// ELIG-1, ELIG-2 (and ELIG-3 when `suspension`): the weights of round `round`. Without
    /// ELIG-3: the set VAR-SUSP-LIFTED draws the iterations from RELAXED on from.
    pub fn eligible_with(
        &self,
        round: u64,
        params: &Params,
        suspension: bool,
    ) -> BTreeMap<PublicKey, u64> {
        Rule::Elig1.applies();
        Rule::Elig2.applies();
        self.accounts
            .iter()
            .filter(|(_, a)| {
                a.stake >= params.minimum_stake
                    && a.stake > 0
                    && a.eligible_from <= round
                    && (!suspension || a.suspended_until <= round)
            })
            .map(|(k, a)| (*k, a.stake))
            .collect()
    }

    /// SLASH-1, SLASH-2: a soft fault at height `h`.
    pub fn soft_slash(&mut self, pk: &PublicKey, h: u64, params: &Params) {
        Rule::Slash1.applies();
        Rule::Slash2.applies();
        let Some(a) = self.accounts.get_mut(pk) else {
            return;
        };
        a.soft_faults = a.soft_faults.saturating_add(1);
        if a.soft_faults > params.soft_slash_warnings {
            let eff = u64::from(a.soft_faults - params.soft_slash_warnings);
            a.suspended_until = next_epoch(h, params.epoch) + eff * params.epoch;
            let moved = (a.stake / 10).saturating_mul(eff).min(a.stake);
            a.stake -= moved;
            a.locked += moved;
        }
    }

    /// SLASH-4: a hard fault at height `h`: suspension and 10%·hard_faults of stake burned.
    pub fn hard_slash(&mut self, pk: &PublicKey, h: u64, params: &Params) {
        Rule::Slash4.applies();
        let Some(a) = self.accounts.get_mut(pk) else {
            return;
        };
        a.hard_faults = a.hard_faults.saturating_add(1);
        let eff = u64::from(a.hard_faults);
        a.suspended_until = next_epoch(h, params.epoch) + eff * params.epoch;
        let burned = (a.stake / 10).saturating_mul(eff).min(a.stake);
        a.stake -= burned;
        self.burned += burned;
    }

    /// Applies one block: slashes, then REW-1 rewards to the generator and to the
    /// attestation's signers only (REW-2), the generator's reward resetting its soft fault
    /// counter (REW-3: soft faults are generator faults). Returns the amount paid, which never exceeds the block reward.
    pub fn apply(&mut self, fx: &BlockEffects, params: &Params) -> u64 {
        Rule::Rew1.applies();
        Rule::Rew2.applies();
        Rule::Rew3.applies();
        Rule::Stake1.applies();
        // STAKE-1: stake maturing by the next round joins the weight (before this block's
        // slashes, which then apply to it as to any stake).
        for a in self.accounts.values_mut() {
            if a.maturing > 0 && a.matures_at <= fx.height + 1 {
                a.stake += a.maturing;
                a.maturing = 0;
            }
        }
        for pk in &fx.soft {
            self.soft_slash(pk, fx.height, params);
        }
        for (pk, round, iteration) in &fx.hard {
            if self.punished.insert((*pk, *round, *iteration)) {
                self.hard_slash(pk, fx.height, params);
            }
        }
        let r = params.block_reward;
        let c2 = 2 * u64::from(params.committee_credits);
        let mut paid = 0u64;
        let dusk = r / 10;
        self.dusk_fund += dusk;
        paid += dusk;
        let total: u64 = fx.signer_credits.values().map(|c| u64::from(*c)).sum();
        if let Some(gen) = &fx.generator {
            let q = u64::from(fx.quorum_credits);
            let extra = if c2 > q {
                (r / 10) * total.saturating_sub(q).min(c2 - q) / (c2 - q)
            } else {
                0
            };
            let g = r * 7 / 10 + extra;
            if let Some(a) = self.accounts.get_mut(gen) {
                a.reward += g;
                a.soft_faults = 0;
                paid += g;
            }
        }
        for (pk, credits) in &fx.signer_credits {
            // REW-2: a whole amount per credit (the spec's 10%/(2C), rounded down), so that
            // the per-step and the summed payments agree.
            let v = (r / 10) / c2.max(1) * u64::from(*credits);
            if let Some(a) = self.accounts.get_mut(pk) {
                a.reward += v;
                paid += v;
            }
        }
        debug_assert!(paid <= r, "REW-1: paid {paid} > reward {r}");
        self.burned += r.saturating_sub(paid);
        paid
    }
}

impl Ledger {
    /// STAKE-1: `amount` (already taken from the provisioner's account) becomes stake that is
    /// mature — drawn, with weight — from round `next_epoch(h) + EPOCH`. A provisioner
    /// unknown to the ledger must be a key of the genesis key ring (checked by the caller's
    /// signature verification); it gets an account eligible from that round.
    pub fn stake(
        &mut self,
        pk: &PublicKey,
        amount: u64,
        h: u64,
        params: &Params,
    ) -> Result<(), String> {
        if amount == 0 {
            return Err("staking 0".into());
        }
        let matures_at = next_epoch(h, params.epoch) + params.epoch;
        let a = self.accounts.entry(*pk).or_insert(Account {
            stake: 0,
            locked: 0,
            reward: 0,
            eligible_from: matures_at,
            soft_faults: 0,
            hard_faults: 0,
            suspended_until: 0,
            maturing: 0,
            matures_at,
        });
        if a.stake == 0 {
            // A fresh (or fully unstaked) provisioner: not eligible before maturity at all.
            a.eligible_from = a.eligible_from.max(matures_at);
        }
        a.maturing = a.maturing.checked_add(amount).ok_or("stake overflow")?;
        a.matures_at = matures_at;
        Ok(())
    }

    /// STAKE-2: all stake, maturing and locked returns to the account; the provisioner has no
    /// weight from the next round. Returns the amount.
    pub fn unstake(&mut self, pk: &PublicKey) -> Result<u64, String> {
        Rule::Stake2.applies();
        let a = self.accounts.get_mut(pk).ok_or("no stake")?;
        let v = a.stake + a.maturing + a.locked;
        if v == 0 {
            return Err("no stake".into());
        }
        a.stake = 0;
        a.maturing = 0;
        a.locked = 0;
        Ok(v)
    }

    /// STAKE-3: `amount` of rewards leaves the ledger for the account.
    pub fn withdraw(&mut self, pk: &PublicKey, amount: u64) -> Result<(), String> {
        Rule::Stake3.applies();
        let a = self.accounts.get_mut(pk).ok_or("no stake account")?;
        if amount == 0 || amount > a.reward {
            return Err(format!("withdrawing {amount} of a reward of {}", a.reward));
        }
        a.reward -= amount;
        Ok(())
    }
}
