//! Deterministic sortition with credits (spec/protocol.md SORT-1, SORT-2, SORT-3, SORT-4, SORT-5).

use std::collections::BTreeMap;

use crate::hash::{blake2b256, Hash};
use crate::rules::Rule;

/// The hash type the draw uses.
pub type Digest = Hash;

/// Weight one credit removes from its holder: 1 DUSK in lux (SORT-3).
pub const CREDIT_WEIGHT: u64 = 1_000_000_000;

/// A provisioner key as the sortition sees it: ordered by its bytes (SORT-1). The node uses
/// [`crate::keys::PublicKey`]; tests may use plain byte vectors.
pub trait Key: Ord + Clone {}
impl<T: Ord + Clone> Key for T {}

/// The step a draw is for.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub enum StepKind {
    /// Proposal: one credit, the generator.
    Proposal = 0,
    /// Validation committee.
    Validation = 1,
    /// Ratification committee.
    Ratification = 2,
}

/// `step = 3·iteration + kind` as one byte (SORT-4).
pub fn step_byte(iteration: u8, kind: StepKind) -> u8 {
    iteration.wrapping_mul(3).wrapping_add(kind as u8)
}

/// A committee: credits per member key.
pub type Committee<K> = BTreeMap<K, u32>;

/// `uint_be(h) mod w` over all 256 bits (SORT-2).
fn score(h: &Hash, w: u64) -> u64 {
    Rule::Sort2.applies();
    h.iter()
        .fold(0u128, |acc, &b| (acc * 256 + u128::from(b)) % u128::from(w)) as u64
}

/// Draws `size` credits among `eligible` (key → weight in lux) minus `excluded` (SORT-2, SORT-3).
/// The list is walked in key order; members whose remaining weight is 0 are skipped; the draw
/// stops with a partial committee when the weight runs out.
pub fn draw<K: Key>(
    seed: &[u8],
    step: u8,
    eligible: &BTreeMap<K, u64>,
    excluded: &[K],
    size: u32,
) -> Committee<K> {
    Rule::Sort1.applies();
    Rule::Sort3.applies();
    let mut list: Vec<(K, u64)> = eligible
        .iter()
        .filter(|(k, w)| **w > 0 && !excluded.contains(k))
        .map(|(k, w)| (k.clone(), *w))
        .collect();
    let mut total: u64 = list.iter().map(|(_, w)| w).sum();
    let mut committee = Committee::new();
    for credit in 0..size {
        if total == 0 {
            break;
        }
        let h = blake2b256(&[seed, &[step], &credit.to_le_bytes()]);
        let mut s = score(&h, total);
        let Some(idx) = list.iter().position(|(_, w)| {
            if *w == 0 {
                return false;
            }
            if *w >= s {
                return true;
            }
            s -= *w;
            false
        }) else {
            break;
        };
        let (key, w) = &mut list[idx];
        *committee.entry(key.clone()).or_insert(0) += 1;
        let d = CREDIT_WEIGHT.min(*w);
        *w -= d;
        if total <= d {
            break;
        }
        total -= d;
    }
    committee
}

/// gen(i): the one-credit Proposal draw of iteration `i`.
pub fn generator<K: Key>(seed: &[u8], iteration: u8, eligible: &BTreeMap<K, u64>) -> Option<K> {
    let c = draw(
        seed,
        step_byte(iteration, StepKind::Proposal),
        eligible,
        &[],
        1,
    );
    c.into_keys().next()
}

/// SORT-5: the keys the committees of iteration `i` exclude. With three or more eligible,
/// gen(i) and gen(i+1) (none after the last iteration); with two, only gen(i); with one, none.
pub fn exclusions<K: Key>(
    seed: &[u8],
    iteration: u8,
    max_iterations: u8,
    eligible: &BTreeMap<K, u64>,
) -> Vec<K> {
    Rule::Sort5.applies();
    let n = eligible.values().filter(|w| **w > 0).count();
    let gen = generator(seed, iteration, eligible);
    let next = if iteration + 1 < max_iterations {
        generator(seed, iteration + 1, eligible)
    } else {
        None
    };
    let mut out = Vec::new();
    if n >= 2 {
        out.extend(gen);
    }
    if n >= 3 {
        out.extend(next);
    }
    out.sort();
    out.dedup();
    out
}

/// The committee of a voting step of iteration `i` (SORT-4, SORT-5).
pub fn committee<K: Key>(
    seed: &[u8],
    iteration: u8,
    kind: StepKind,
    max_iterations: u8,
    eligible: &BTreeMap<K, u64>,
    credits: u32,
) -> Committee<K> {
    Rule::Sort4.applies();
    let excluded = exclusions(seed, iteration, max_iterations, eligible);
    draw(
        seed,
        step_byte(iteration, kind),
        eligible,
        &excluded,
        credits,
    )
}
