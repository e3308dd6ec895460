//! Everything a chain prefix determines: the seed, the ledger, eligibility and the sortition
//! draws of every iteration of the next round. Computed once per prefix and cached.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use crate::config::{Config, Profile, MAX_PROVISIONERS};
use crate::keys::{child_seed, genesis_seed, Seed};
use crate::ledger::{Effects, Ledger, BLOCK_REWARD};
use crate::mutations::Mutation;
use crate::rules::Rule;
use crate::sortition::{draw_in, Committee};
use crate::state::{Entry, FailSet, Value};

impl Context {
    /// The sortition weights iteration `i` was drawn with (`unsuspended` where VAR-SUSP-LIFTED
    /// lifts suspensions, `weights` otherwise).
    #[inline]
    pub fn weights_at(&self, config: &Config, i: usize) -> &[u64; MAX_PROVISIONERS] {
        let protocol = &config.protocol;
        if protocol
            .suspension
            .applies_at(i as u8, protocol.relaxed_iterations)
        {
            &self.weights
        } else {
            &self.unsuspended
        }
    }
}

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
    /// Under VAR-SUSP-LIFTED, the weights of the iterations a suspension does not apply to
    /// (ELIG-1, ELIG-2 only); equal to `weights` when nobody is suspended or under Dusk's rule.
    pub unsuspended: [u64; MAX_PROVISIONERS],
    /// Draws of each iteration of `round`.
    pub iterations: Vec<IterationDraw>,
    /// Effects of the prefix's last block (empty for genesis).
    pub effects: Effects,
}

/// A block as far as the ledger is concerned: (iteration, failed_iterations). Both are fixed
/// by the block itself (one candidate per slot), so every node derives the same context.
pub type LedgerBlock = (u8, FailSet);

/// Property verdicts per (tag, chain key).
type Memo = std::collections::HashMap<(u8, Key), bool, std::hash::BuildHasherDefault<KeyHasher>>;

/// Cache key: a chain prefix as ledger blocks, packed 20 bits a block (iteration + 1, failed).
type Key = u128;

/// Context cache key: the carried ledger's id (0: the genesis ledger; see
/// [`Contexts::register_base`]) and the chain key (bit 127 set for a tip context).
type CtxKey = (u64, Key);

fn key(chain: &[LedgerBlock]) -> Key {
    chain.iter().fold(0u128, |k, &(it, failed)| {
        (k << 20) | (u128::from(it) + 1) << 16 | u128::from(failed.0)
    })
}

/// A fast hasher for packed keys (the cache is hit on almost every property evaluation).
#[derive(Default, Clone, Copy)]
pub struct KeyHasher(u64);

impl std::hash::Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(b)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        }
    }
    fn write_u64(&mut self, v: u64) {
        self.0 = (self.0 ^ v).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 ^= self.0 >> 29;
    }
    fn write_u128(&mut self, v: u128) {
        let x = (v as u64) ^ ((v >> 64) as u64).rotate_left(29);
        self.0 = (self.0 ^ x).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        self.0 ^= self.0 >> 29;
    }
}

type Cache = HashMap<CtxKey, Arc<Context>, std::hash::BuildHasherDefault<KeyHasher>>;

/// Computes and caches contexts.
///
/// Two levels: a shared cache (where each context is computed once, and mutated rules record
/// their hits) and, in front of it, a per-thread copy. The search threads look contexts up
/// millions of times a second; reading one shared lock and cloning one shared `Arc` from two
/// threads made the cache line bounce between cores (a fifth of the search time, measured
/// with perf), so each thread keeps its own `Arc`s.
#[derive(Debug)]
pub struct Contexts {
    /// Identifies this cache in the per-thread copies (a clone is a new cache).
    id: u64,
    cache: RwLock<Cache>,
    /// Replaces the draws of the first round (see [`crate::draw_classes`]).
    genesis: Option<Arc<Context>>,
    /// Unbounded model: the ledgers carried across dropped heights, by id (shared by every
    /// clone: an id is a fingerprint of the contents, so any clone may resolve any id).
    bases: Arc<RwLock<HashMap<u64, Arc<Ledger>>>>,
    /// Unbounded model: keep stake maturing inside the window (the abstraction before
    /// 2026-12-07, under which a drop could change the draws of a round in progress; kept so
    /// that a test can show the report catches it). Off: forgotten after every block.
    pub keep_maturing: bool,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This thread's copies of the contexts of one [`Contexts`] (the last one it used).
    static LOCAL: RefCell<(u64, Cache)> = RefCell::new((0, Cache::default()));
    /// This thread's memo of per-chain property results ([`Contexts::memo`]).
    static MEMO: RefCell<(u64, Memo)> = RefCell::new((0, Memo::default()));
}

impl Default for Contexts {
    fn default() -> Self {
        Contexts {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            cache: RwLock::default(),
            genesis: None,
            bases: Arc::default(),
            keep_maturing: false,
        }
    }
}

impl Clone for Contexts {
    fn clone(&self) -> Self {
        Contexts {
            genesis: self.genesis.clone(),
            bases: Arc::clone(&self.bases),
            keep_maturing: self.keep_maturing,
            ..Contexts::default()
        }
    }
}

/// The ledger view of a node's chain.
pub fn ledger_blocks(chain: &[Entry]) -> Vec<LedgerBlock> {
    chain.iter().map(|e| (e.iteration, e.failed)).collect()
}

impl Contexts {
    /// Contexts whose first round uses `draws` instead of the seed's draws.
    pub fn with_first_round(config: &Config, draws: Vec<IterationDraw>) -> Contexts {
        let mut genesis = genesis_context(config);
        genesis.iterations = draws;
        Contexts {
            genesis: Some(Arc::new(genesis)),
            ..Contexts::default()
        }
    }

    /// The largest credits the provisioners in `mask` hold together in one committee of any
    /// context computed so far.
    pub fn max_credits_of(&self, mask: u8) -> u32 {
        let from = |ctx: &Context| {
            ctx.iterations
                .iter()
                .flat_map(|d| {
                    [
                        d.validation.credits_of(mask),
                        d.ratification.credits_of(mask),
                    ]
                })
                .max()
                .unwrap_or(0)
        };
        let cached = self
            .cache
            .read()
            .map(|m| m.values().map(|c| from(c)).max().unwrap_or(0))
            .unwrap_or(0);
        cached.max(self.genesis.as_deref().map_or(0, from))
    }

    /// Context of a node's chain (no allocation when cached).
    #[inline]
    pub fn of_chain(&self, config: &Config, chain: &[Entry]) -> Arc<Context> {
        if chain.is_empty() {
            if let Some(g) = &self.genesis {
                return Arc::clone(g);
            }
        }
        let k = chain.iter().fold(0u128, |k, e| {
            (k << 20) | (u128::from(e.iteration) + 1) << 16 | u128::from(e.failed.0)
        });
        if let Some(c) = self.local((0, k)) {
            return c;
        }
        self.get(config, &ledger_blocks(chain))
    }

    /// `f()`, a property's verdict on the chain `chain`, computed once per thread and chain
    /// (`tag` names the property). The verdict is the property's own computation; only its
    /// repetition on the millions of states that share a chain is saved.
    #[inline]
    pub fn memo(&self, tag: u8, chain: &[LedgerBlock], f: impl FnOnce() -> bool) -> bool {
        let k = (tag, key(chain));
        let hit = MEMO.with(|m| {
            let m = m.borrow();
            (m.0 == self.id).then(|| m.1.get(&k).copied()).flatten()
        });
        if let Some(v) = hit {
            return v;
        }
        let v = f();
        MEMO.with(|m| {
            let mut m = m.borrow_mut();
            if m.0 != self.id {
                *m = (self.id, Memo::default());
            }
            m.1.insert(k, v);
        });
        v
    }

    /// This thread's copy of the context with key `k`, if it has one.
    #[inline]
    fn local(&self, k: CtxKey) -> Option<Arc<Context>> {
        LOCAL.with(|l| {
            let l = l.borrow();
            (l.0 == self.id).then(|| l.1.get(&k).cloned()).flatten()
        })
    }

    /// Context of the prefix `chain` (ledger blocks), above the genesis ledger.
    #[inline]
    pub fn get(&self, config: &Config, chain: &[LedgerBlock]) -> Arc<Context> {
        let k = (0, key(chain));
        if let Some(c) = self.local(k) {
            return c;
        }
        let shared = self.shared(config, chain, k);
        self.keep_local(k, &shared)
    }

    /// Registers a ledger carried across dropped heights (unbounded model) and returns its
    /// id: a fingerprint of its contents (so the same ledger always has the same id, whatever
    /// thread found it first), never 0 (the genesis ledger's id).
    pub fn register_base(&self, ledger: Ledger) -> u64 {
        use std::hash::BuildHasher;
        let id = std::hash::BuildHasherDefault::<crate::state::WyHasher>::default()
            .hash_one(&ledger)
            .max(1);
        let known = self.bases.read().is_ok_and(|b| b.contains_key(&id));
        if !known {
            if let Ok(mut b) = self.bases.write() {
                b.entry(id).or_insert_with(|| Arc::new(ledger));
            }
        }
        id
    }

    /// The ledger with id `base` (0: the genesis ledger of `config`).
    pub fn base(&self, config: &Config, base: u64) -> Arc<Ledger> {
        if base == 0 {
            return Arc::new(Ledger::genesis(config));
        }
        self.bases
            .read()
            .ok()
            .and_then(|b| b.get(&base).cloned())
            .expect("a registered base ledger")
    }

    fn keep_local(&self, k: CtxKey, shared: &Arc<Context>) -> Arc<Context> {
        let own = Arc::new(Context::clone(shared));
        LOCAL.with(|l| {
            let mut l = l.borrow_mut();
            if l.0 != self.id {
                *l = (self.id, Cache::default());
            }
            l.1.insert(k, Arc::clone(&own));
        });
        own
    }

    /// Unbounded model: the context in which a node whose relative chain is `chain` decides
    /// its round. Its ledger is the ledger carried to the last dropped height (`base`) with
    /// every block of `chain` applied, each under the draws of the round that produced it;
    /// eligibility is taken at the relative round; the seed (hence the draws) is that of the
    /// tip's position as if it were at height 1: the tip block's, else the anchor's (the last
    /// dropped block), else genesis. See spec/faults.md, "Unbounded rounds".
    ///
    /// With seed classes (`SortitionParams::seed_classes` = K ≥ 2) every round's seed is one
    /// of K class seeds ([`class_seed`]): `class` for the round above the anchor, and above a
    /// block the class its child seed names ([`next_class`]), so a drop (which moves to that
    /// class) never changes the draws of a round a node is in.
    #[inline]
    pub fn get_tip(
        &self,
        config: &Config,
        base: u64,
        anchor: Option<LedgerBlock>,
        class: u8,
        chain: &[LedgerBlock],
    ) -> Arc<Context> {
        assert!(chain.len() <= 5, "tip contexts hold at most 5 blocks");
        let classes = config.sortition.seed_classes >= 2;
        let anchor_bits = anchor.map_or(0u128, |(it, f)| {
            (1u128 << 20 | (u128::from(it) + 1) << 16 | u128::from(f.0)) << 100
        });
        let k = (
            base,
            1u128 << 127 | u128::from(class & 0x3F) << 121 | anchor_bits | key(chain),
        );
        if let Some(c) = self.local(k) {
            return c;
        }
        let shared = self
            .cache
            .read()
            .ok()
            .and_then(|m| m.get(&k).cloned())
            .unwrap_or_else(|| {
                let seed_of = |b: Option<LedgerBlock>| match b {
                    Some(b) => self.get(config, &[b]).seed,
                    None => genesis_seed(config.sortition.seed),
                };
                let ctx = Arc::new(match chain.split_last() {
                    None => make_context(
                        config,
                        1,
                        if classes {
                            class_seed(config, class)
                        } else {
                            seed_of(anchor)
                        },
                        Ledger::clone(&self.base(config, base)),
                        Effects::default(),
                    ),
                    Some((last, rest)) => {
                        let parent = self.get_tip(config, base, anchor, class, rest);
                        let (mut ledger, fx) =
                            block_ledger(config, &parent, last, &crate::exec::PAYLOAD);
                        if !self.keep_maturing {
                            ledger.drop_maturing();
                        }
                        let seed = if classes {
                            let g = parent.iterations[usize::from(last.0)].generator;
                            class_seed(config, next_class(config, &parent.seed, g))
                        } else {
                            seed_of(Some(*last))
                        };
                        make_context(config, parent.round + 1, seed, ledger, fx)
                    }
                });
                if let Ok(mut m) = self.cache.write() {
                    m.insert(k, Arc::clone(&ctx));
                }
                ctx
            });
        self.keep_local(k, &shared)
    }

    /// The shared cache's context of `chain` (key `k`), computed once.
    fn shared(&self, config: &Config, chain: &[LedgerBlock], k: CtxKey) -> Arc<Context> {
        if let (true, Some(g)) = (chain.is_empty(), &self.genesis) {
            return Arc::clone(g);
        }
        if let Some(c) = self.cache.read().ok().and_then(|m| m.get(&k).cloned()) {
            return c;
        }
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

/// Seed classes (`SortitionParams::seed_classes` = K ≥ 2): the seed of class `k`.
pub fn class_seed(config: &Config, k: u8) -> Seed {
    genesis_seed(config.sortition.seed.wrapping_add(u64::from(k)))
}

/// Seed classes: the class of the round above a block generated by `generator` in a round of
/// seed `seed` (SORT-6's child seed, reduced to one of K classes by its first byte).
pub fn next_class(config: &Config, seed: &Seed, generator: Option<usize>) -> u8 {
    child_seed(seed, generator.unwrap_or(0))[0] % config.sortition.seed_classes.max(1)
}

fn genesis_context(config: &Config) -> Context {
    let seed = genesis_seed(config.sortition.seed);
    make_context(config, 1, seed, Ledger::genesis(config), Effects::default())
}

/// REW-1/REW-2: rewards for a block whose attestation has the given Validation and
/// Ratification signers: 70% to the generator, plus its extra of up to 10% for the
/// attestation's credits above the quorum (⌊R/10 · min(k − 2·SM, 2C − 2·SM) / (2C − 2·SM)⌋,
/// k the signers' credits of both steps); per step, ⌊R/10 / 2C⌋ per credit to each signer of
/// that step, for its credits in that step's committee. (Dusk pays them from the next block; the
/// recipients are the same. The model keeps rewards out of the ledger: they never affect
/// weights.)
pub fn rewards(
    config: &Config,
    parent: &Context,
    iteration: u8,
    validation: u8,
    ratification: u8,
) -> Vec<(usize, u64)> {
    Rule::Rew1.applies();
    Rule::Rew2.applies();
    let it = &parent.iterations[usize::from(iteration)];
    let mut out = Vec::new();
    let c2 = 2 * u64::from(config.protocol.committee_credits);
    let tenth = BLOCK_REWARD / 10;
    if let Some(g) = it.generator {
        let quorum = 2 * u64::from(config.supermajority());
        let signed = u64::from(
            it.validation.credits_of(validation) + it.ratification.credits_of(ratification),
        );
        let extra = if c2 > quorum {
            tenth * signed.saturating_sub(quorum).min(c2 - quorum) / (c2 - quorum)
        } else {
            0
        };
        out.push((g, BLOCK_REWARD / 10 * 7 + extra));
    }
    for (committee, signers) in [
        (&it.validation, validation),
        (&it.ratification, ratification),
    ] {
        for p in committee.members() {
            let signed = signers & (1 << p) != 0;
            let paid = if config
                .broken(Rule::Rew2)
                .contains(Mutation::RewardAllCommittee)
            {
                true
            } else if config
                .broken(Rule::Rew2)
                .contains(Mutation::RewardUnionSigners)
            {
                (validation | ratification) & (1 << p) != 0
            } else {
                signed
            };
            if paid != signed {
                let m = if config
                    .broken(Rule::Rew2)
                    .contains(Mutation::RewardAllCommittee)
                {
                    Mutation::RewardAllCommittee
                } else {
                    Mutation::RewardUnionSigners
                };
                m.hit();
            }
            if paid {
                out.push((p, tenth / c2 * u64::from(committee.credits(p))));
            }
        }
    }
    out
}

fn child_context(config: &Config, parent: &Context, block: &LedgerBlock) -> Context {
    let (ledger, fx) = block_ledger(config, parent, block, &crate::exec::PAYLOAD);
    let it = &parent.iterations[usize::from(block.0)];
    // A block always has a generator (it was proposed); 0 only for an unreachable draw.
    let generator = it.generator.unwrap_or(0);
    let seed = match config.sortition.profile {
        Profile::Reference => child_seed(&parent.seed, generator),
        Profile::Dusk => crate::dusk_profile::child_seed(parent.round, &parent.seed, generator),
    };
    make_context(config, parent.round + 1, seed, ledger, fx)
}

/// The ledger after a block on `parent` whose payload is `payload` (spec/execution.md): stake
/// maturing by the next round joins the weight, then SLASH-1, SLASH-2, SLASH-3, SLASH-4 for the failed iterations the
/// block records, REW-3, then the payload's transactions in order — of which only a stake
/// operation may change protocol state (EXEC-ISO-1).
pub fn block_ledger(
    config: &Config,
    parent: &Context,
    block: &LedgerBlock,
    payload: &[crate::exec::TxOutcome],
) -> (Ledger, Effects) {
    Rule::Rew3.applies();
    Rule::Slash1.applies();
    Rule::ExecIso1.applies();
    let &(iteration, failed) = block;
    let height = u32::from(parent.round);
    let mut ledger = parent.ledger.clone();
    ledger.mature(height + 1);
    let mut fx = Effects::default();
    let it = &parent.iterations[usize::from(iteration)];
    fx.generator = it.generator;
    // SLASH-1, SLASH-2, SLASH-3, SLASH-4: penalties for the failed iterations the block records.
    for j in 0..iteration.min(config.protocol.relaxed_iterations) {
        let Some(fail) = failed.get(j) else {
            continue;
        };
        let failed_it = &parent.iterations[usize::from(j)];
        match fail {
            Value::NoCandidate => {
                if let Some(g) = failed_it.generator {
                    if config
                        .broken(Rule::Slash1)
                        .contains(Mutation::NoMissedSlotPenalty)
                    {
                        Mutation::NoMissedSlotPenalty.hit();
                    } else if config
                        .broken(Rule::Slash4)
                        .contains(Mutation::HardSlashNoCandidate)
                    {
                        Mutation::HardSlashNoCandidate.hit();
                        ledger.hard_slash(config, g, height, &mut fx);
                    } else {
                        ledger.soft_slash(config, g, height, &mut fx);
                        fx.soft_slashed.push((g, j));
                    }
                }
                if config
                    .broken(Rule::Slash1)
                    .contains(Mutation::SlashAbsentVoters)
                {
                    for p in failed_it.validation.members() {
                        Mutation::SlashAbsentVoters.hit();
                        ledger.soft_slash(config, p, height, &mut fx);
                        fx.soft_slashed.push((p, j));
                    }
                }
            }
            Value::Invalid(_) => {
                if let Some(g) = failed_it.generator {
                    ledger.hard_slash(config, g, height, &mut fx);
                }
            }
            Value::NoQuorum | Value::Valid(_) => {}
        }
    }
    // REW-3: this block pays its parent's rewards (REW-2), and the parent's generator's
    // reward resets its soft fault counter, after this block's slashes (as sa-node applies
    // them). Block 1 pays nothing: its parent is genesis.
    if height >= 2 {
        if let Some(g) = parent.effects.generator {
            ledger.faults[g] = 0;
        }
    }
    if let Some(g) = it.generator {
        for tx in payload {
            match tx {
                crate::exec::TxOutcome::Stake => {
                    ledger.stake_added(config, g, crate::exec::STAKE_TX_LUX, height)
                }
                crate::exec::TxOutcome::ForbiddenWrite
                    if config
                        .broken(Rule::ExecIso1)
                        .contains(Mutation::SandboxEscape) =>
                {
                    // The broken sandbox: the contract's write to protocol state happens.
                    Mutation::SandboxEscape.hit();
                    ledger.stake[g] += crate::exec::STAKE_TX_LUX;
                }
                _ => {}
            }
        }
    }
    (ledger, fx)
}

fn make_context(config: &Config, round: u8, seed: Seed, ledger: Ledger, fx: Effects) -> Context {
    Rule::Elig5.applies();
    Rule::Slash3.applies();
    let n = config.provisioners.len();
    let mut eligible = [false; MAX_PROVISIONERS];
    let mut weights = [0u64; MAX_PROVISIONERS];
    let mut unsuspended = [0u64; MAX_PROVISIONERS];
    for p in 0..n {
        eligible[p] = ledger.eligible(config, p, u32::from(round));
        if ledger.eligible_ignoring_suspension(config, p, u32::from(round)) {
            unsuspended[p] = ledger.stake[p];
        }
        let suspended_drawable = config.broken(Rule::Elig3).contains(Mutation::DrawSuspended)
            && ledger.eligible_ignoring_suspension(config, p, u32::from(round));
        if suspended_drawable && !eligible[p] {
            Mutation::DrawSuspended.hit();
        }
        let drawable = eligible[p] || suspended_drawable;
        if drawable {
            weights[p] = ledger.stake[p];
            if config.broken(Rule::Stake1).contains(Mutation::DrawImmature)
                && ledger.maturing[p] > 0
            {
                Mutation::DrawImmature.hit();
                weights[p] += ledger.maturing[p];
            }
            if config.broken(Rule::Elig1).contains(Mutation::DrawLocked) && ledger.locked[p] > 0 {
                Mutation::DrawLocked.hit();
                weights[p] += ledger.locked[p];
            }
        }
    }
    let mut iterations = draw_round(config, &seed, &weights);
    let protocol = &config.protocol;
    let lifted_from = usize::from(protocol.relaxed_iterations);
    if protocol.suspension.is_dusk() || lifted_from >= iterations.len() {
        unsuspended = weights;
    } else if unsuspended != weights {
        // VAR-SUSP-LIFTED: iterations from `relaxed_iterations` on are the draws of the same
        // round on the set eligible without ELIG-3 (generator, exclusions and committees).
        let lifted = draw_round(config, &seed, &unsuspended);
        iterations.splice(lifted_from.., lifted.into_iter().skip(lifted_from));
    }
    Context {
        round,
        seed,
        ledger,
        eligible,
        weights,
        unsuspended,
        iterations,
        effects: fx,
    }
}

/// SORT-4/SORT-5: which generators the committees of iteration `i` exclude.
pub fn exclusions(config: &Config, drawable: usize, gen: Option<usize>, next: Option<usize>) -> u8 {
    Rule::Sort4.applies();
    Rule::Sort5.applies();
    let bit = |g: Option<usize>| g.map_or(0u8, |g| 1 << g);
    if config.sortition.profile == Profile::Dusk {
        // dusk-consensus 1.7.0 (`CommitteeGenerator::new`): with more than one eligible
        // provisioner, gen(i) and gen(i+1) are filtered out, whatever that leaves (with two,
        // nobody: `create_committee` then panics on a zero weight, and the model draws an
        // empty committee).
        return if drawable > 1 {
            bit(gen) | bit(next)
        } else {
            0
        };
    }
    let reference = match drawable {
        0 | 1 => 0,
        2 => bit(gen),
        _ => bit(gen) | bit(next),
    };
    let mutated = if config.broken(Rule::Sort4).contains(Mutation::NoExclusion) {
        Some((Mutation::NoExclusion, 0))
    } else if drawable == 2
        && config
            .broken(Rule::Sort4)
            .contains(Mutation::DuskTwoEligible)
    {
        // rusk excludes both; when that leaves nobody it draws from every eligible
        // provisioner, exclusions ignored (`CommitteeGenerator::from_provisioners`).
        let both = bit(gen) | bit(next);
        Some((
            Mutation::DuskTwoEligible,
            if both.count_ones() >= 2 { 0 } else { both },
        ))
    } else {
        None
    };
    match mutated {
        Some((m, x)) => {
            if x != reference {
                m.hit();
            }
            x
        }
        None => reference,
    }
}

/// gen(i) drawn on `weights` (SORT-2): the one-credit Proposal draw of iteration `i`.
pub fn generator_on(
    config: &Config,
    seed: &Seed,
    i: usize,
    weights: &[u64; MAX_PROVISIONERS],
) -> Option<usize> {
    draw_in(config.sortition.profile, seed, 3 * i as u8, weights, 1).single()
}

fn draw_round(
    config: &Config,
    seed: &Seed,
    weights: &[u64; MAX_PROVISIONERS],
) -> Vec<IterationDraw> {
    let iters = config.protocol.max_iterations;
    let c = config.protocol.committee_credits;
    let profile = config.sortition.profile;
    // Under the Dusk profile the last iteration excludes gen(i+1) too (dusk-consensus excludes
    // it below its 50th iteration, and the model runs at most 7): one more generator drawn.
    let gen_draws = match profile {
        Profile::Reference => iters,
        Profile::Dusk => iters + 1,
    };
    let gens: Vec<Option<usize>> = (0..gen_draws)
        .map(|i| draw_in(profile, seed, 3 * i, weights, 1).single())
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
                validation: draw_in(profile, seed, 3 * i + 1, &w, c),
                ratification: draw_in(profile, seed, 3 * i + 2, &w, c),
            }
        })
        .collect()
}
