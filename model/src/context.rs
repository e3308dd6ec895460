//! Everything a chain prefix determines: the seed, the ledger, eligibility and the sortition
//! draws of every iteration of the next round. Computed once per prefix and cached.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use crate::config::{Config, MAX_PROVISIONERS};
use crate::ledger::{Effects, Ledger, BLOCK_REWARD};
use crate::mutations::Mutation;
use crate::sortition::{draw, hash, Committee, Seed};
use crate::state::{Entry, FailSet, Value};

/// The draws of one iteration (SORT-*).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IterationDraw {
    /// gen(i), if anyone is eligible.
    pub generator: Option<usize>,
    /// Provisioners excluded from this iteration's committees.
    pub excluded: u8,
    /// Validation committee.
    pub validation: Committee,
    /// Ratification committee.
    pub ratification: Committee,
}

/// Derived from a chain prefix: the context in which the next round is decided.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Context {
    /// The round decided on top of this prefix.
    pub round: u8,
    /// Seed of the prefix's tip.
    pub seed: Seed,
    /// Ledger after the prefix.
    pub ledger: Ledger,
    /// Reference eligibility (ELIG-*) at `round`.
    pub eligible: [bool; MAX_PROVISIONERS],
    /// Sortition weights actually used (mutations may differ from `eligible`).
    pub weights: [u64; MAX_PROVISIONERS],
    /// Draws of each iteration of `round`.
    pub iterations: Vec<IterationDraw>,
    /// Effects of the prefix's last block (empty for genesis).
    pub effects: Effects,
}

/// A block as far as the ledger is concerned: (iteration, failed_iterations). Both are fixed
/// by the block itself (one candidate per slot), so every node derives the same context.
pub type LedgerBlock = (u8, FailSet);

/// Cache key: a chain prefix as ledger blocks.
type Key = Vec<LedgerBlock>;

/// Computes and caches contexts.
#[derive(Debug, Default)]
pub struct Contexts {
    cache: RwLock<HashMap<Key, Arc<Context>>>,
    /// Replaces the draws of the first round (see [`crate::draws`]).
    genesis: Option<Arc<Context>>,
}

impl Clone for Contexts {
    fn clone(&self) -> Self {
        Contexts {
            cache: RwLock::default(),
            genesis: self.genesis.clone(),
        }
    }
}

/// The ledger view of a node's chain.
pub fn ledger_blocks(chain: &[Entry]) -> Key {
    chain.iter().map(|e| (e.iteration, e.failed)).collect()
}

impl Contexts {
    /// Contexts whose first round uses `draws` instead of the seed's draws.
    pub fn with_first_round(config: &Config, draws: Vec<IterationDraw>) -> Contexts {
        let mut genesis = genesis_context(config);
        genesis.iterations = draws;
        Contexts {
            cache: RwLock::default(),
            genesis: Some(Arc::new(genesis)),
        }
    }

    /// Context of the prefix `chain` (ledger blocks).
    pub fn get(&self, config: &Config, chain: &[LedgerBlock]) -> Arc<Context> {
        if let (true, Some(g)) = (chain.is_empty(), &self.genesis) {
            return Arc::clone(g);
        }
        if let Some(c) = self.cache.read().ok().and_then(|m| m.get(chain).cloned()) {
            return c;
        }
        let k: Key = chain.to_vec();
        let ctx = Arc::new(match chain.split_last() {
            None => genesis_context(config),
            Some((last, rest)) => {
                let parent = self.get(config, rest);
                child_context(config, &parent, last)
            }
        });
        if let Ok(mut m) = self.cache.write() {
            m.insert(k, Arc::clone(&ctx));
        }
        ctx
    }
}

fn genesis_context(config: &Config) -> Context {
    let seed = hash(&[b"sa-genesis", &config.sortition.seed.to_le_bytes()]);
    make_context(config, 1, seed, Ledger::genesis(config), Effects::default())
}

/// REW-1/REW-2: rewards for a block whose attestation has `signers`: 70% to the generator,
/// 10%/(2C) per credit to each signer. (Dusk pays them from the next block; the recipients are
/// the same. The model keeps rewards out of the ledger: they never affect weights.)
pub fn rewards(config: &Config, parent: &Context, iteration: u8, signers: u8) -> Vec<(usize, u64)> {
    let it = &parent.iterations[usize::from(iteration)];
    let mut out = Vec::new();
    if let Some(g) = it.generator {
        out.push((g, BLOCK_REWARD / 10 * 7));
    }
    let per_credit = BLOCK_REWARD / 10 / (2 * u64::from(config.protocol.committee_credits));
    for p in 0..config.provisioners.len() {
        let credits = u64::from(it.validation.credits(p) + it.ratification.credits(p));
        let signed = signers & (1 << p) != 0;
        if (signed || config.has(Mutation::RewardAllCommittee)) && credits > 0 {
            out.push((p, per_credit * credits));
        }
    }
    out
}

fn child_context(config: &Config, parent: &Context, block: &LedgerBlock) -> Context {
    let &(iteration, failed) = block;
    let height = u32::from(parent.round);
    let mut ledger = parent.ledger.clone();
    let mut fx = Effects::default();
    let it = &parent.iterations[usize::from(iteration)];
    fx.generator = it.generator;
    // SLASH-1..4: penalties for the failed iterations the block records.
    for j in 0..iteration.min(config.protocol.relaxed_iterations) {
        let Some(fail) = failed.get(j) else {
            continue;
        };
        let failed_it = &parent.iterations[usize::from(j)];
        match fail {
            Value::NoCandidate => {
                if let Some(g) = failed_it.generator {
                    ledger.soft_slash(config, g, height, &mut fx);
                    fx.soft_slashed.push((g, j));
                }
                if config.has(Mutation::SlashAbsentVoters) {
                    for p in failed_it.validation.members() {
                        ledger.soft_slash(config, p, height, &mut fx);
                        fx.soft_slashed.push((p, j));
                    }
                }
            }
            Value::Invalid => {
                if let Some(g) = failed_it.generator {
                    ledger.hard_slash(config, g, height, &mut fx);
                }
            }
            Value::NoQuorum | Value::Valid => {}
        }
    }
    let generator = it.generator.unwrap_or(0) as u8;
    let seed = hash(&[&parent.seed, &[generator]]);
    make_context(config, parent.round + 1, seed, ledger, fx)
}

fn make_context(config: &Config, round: u8, seed: Seed, ledger: Ledger, fx: Effects) -> Context {
    let n = config.provisioners.len();
    let mut eligible = [false; MAX_PROVISIONERS];
    let mut weights = [0u64; MAX_PROVISIONERS];
    for p in 0..n {
        eligible[p] = ledger.eligible(config, p, u32::from(round));
        let drawable = eligible[p]
            || (config.has(Mutation::DrawSuspended)
                && ledger.eligible_ignoring_suspension(config, p, u32::from(round)));
        if drawable {
            weights[p] = ledger.stake[p];
        }
    }
    let iterations = draw_round(config, &seed, &weights);
    Context {
        round,
        seed,
        ledger,
        eligible,
        weights,
        iterations,
        effects: fx,
    }
}

/// SORT-4/SORT-5: which generators the committees of iteration `i` exclude.
pub fn exclusions(config: &Config, drawable: usize, gen: Option<usize>, next: Option<usize>) -> u8 {
    let bit = |g: Option<usize>| g.map_or(0u8, |g| 1 << g);
    if config.has(Mutation::NoExclusion) {
        0
    } else if drawable >= 3 || (drawable == 2 && config.has(Mutation::DuskTwoEligible)) {
        bit(gen) | bit(next)
    } else if drawable == 2 {
        bit(gen)
    } else {
        0
    }
}

fn draw_round(
    config: &Config,
    seed: &Seed,
    weights: &[u64; MAX_PROVISIONERS],
) -> Vec<IterationDraw> {
    let iters = config.protocol.max_iterations;
    let c = config.protocol.committee_credits;
    let gens: Vec<Option<usize>> = (0..iters)
        .map(|i| draw(seed, 3 * i, weights, 1).single())
        .collect();
    let drawable = weights.iter().filter(|&&w| w > 0).count();
    (0..iters)
        .map(|i| {
            let next = gens.get(usize::from(i) + 1).copied().flatten();
            let excluded = exclusions(config, drawable, gens[usize::from(i)], next);
            let mut w = *weights;
            for (p, wp) in w.iter_mut().enumerate() {
                if excluded & (1 << p) != 0 {
                    *wp = 0;
                }
            }
            IterationDraw {
                generator: gens[usize::from(i)],
                excluded,
                validation: draw(seed, 3 * i + 1, &w, c),
                ratification: draw(seed, 3 * i + 2, &w, c),
            }
        })
        .collect()
}
