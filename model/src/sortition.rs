//! Deterministic sortition with credits (spec/protocol.md SORT-1, SORT-2, SORT-3, SORT-4, SORT-5, SORT-6).
//!
//! The draw is the spec's algorithm over the provisioners sorted by public key
//! ([`crate::keys::key_order`]):
//! for credit c, `h = BLAKE2b-256(seed ‖ step:u8 ‖ c:u32 LE)`, `score = uint_be(h) mod W`,
//! walk the list to the first provisioner whose remaining weight covers the score, give it
//! one credit and remove `min(1 unit, weight)` of its weight.

use crate::config::{Profile, LUX_PER_UNIT, MAX_PROVISIONERS};
pub use crate::hash::hash;
use crate::rules::Rule;

/// Credits per provisioner index; zero = not in the committee.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Committee(pub [u8; MAX_PROVISIONERS]);

impl Committee {
    /// Credits of provisioner `p`.
    #[inline]
    pub fn credits(&self, p: usize) -> u32 {
        u32::from(self.0[p])
    }
    /// Total credits.
    #[inline]
    pub fn total(&self) -> u32 {
        self.0.iter().map(|&c| u32::from(c)).sum()
    }
    /// Members (provisioners with at least one credit), in index order.
    #[inline]
    pub fn members(&self) -> impl Iterator<Item = usize> + '_ {
        (0..MAX_PROVISIONERS).filter(|&p| self.0[p] > 0)
    }
    /// The single member of a one-credit draw (the generator), if any.
    #[inline]
    pub fn single(&self) -> Option<usize> {
        self.members().next()
    }
    /// Sum of credits of the members in bitset `mask`.
    #[inline]
    pub fn credits_of(&self, mask: u8) -> u32 {
        (0..MAX_PROVISIONERS)
            .filter(|&p| mask & (1 << p) != 0)
            .map(|p| self.credits(p))
            .sum()
    }
}

/// `uint_be(bytes) mod w`, exact over all 256 bits.
pub fn mod_be(bytes: &[u8], w: u64) -> u64 {
    bytes
        .iter()
        .fold(0u128, |acc, &b| (acc * 256 + u128::from(b)) % u128::from(w)) as u64
}

/// Draws `size` credits (provisioners whose remaining weight is zero are skipped: SORT-2) among
/// `weights` (lux per provisioner index; zero = not eligible), for the model's committees.
///
/// Stops early with a partial committee when the total weight runs out (SORT-3).
pub fn draw(seed: &[u8], step: u8, weights: &[u64], size: u32) -> Committee {
    draw_in(Profile::Reference, seed, step, weights, size)
}

/// [`draw`] under a profile: the key order and the sortition hash are the profile's
/// ([`crate::dusk_profile`] for `dusk`).
pub fn draw_in(profile: Profile, seed: &[u8], step: u8, weights: &[u64], size: u32) -> Committee {
    Rule::Sort1.applies();
    Rule::Sort2.applies();
    Rule::Sort3.applies();
    let mut committee = Committee::default();
    let (key_order, score_hash): (&[usize; MAX_PROVISIONERS], ScoreHash) = match profile {
        Profile::Reference => (crate::keys::key_order(), reference_hash),
        Profile::Dusk => (
            crate::dusk_profile::key_order(),
            crate::dusk_profile::sortition_hash,
        ),
    };
    let order: Vec<usize> = key_order
        .iter()
        .copied()
        .filter(|&p| p < weights.len())
        .collect();
    // SORT-2: the reference skips a member with no weight left; dusk-consensus's walk
    // (`extract_member`) does not, so a score of 0 can land on it.
    let skip_zero = profile == Profile::Reference;
    for (p, c) in draw_credits_by(score_hash, skip_zero, seed, step, weights, &order, size)
        .into_iter()
        .enumerate()
    {
        if c > 0 {
            committee.0[p] = u8::try_from(c).unwrap_or(u8::MAX);
        }
    }
    committee
}

/// The draw itself, over any number of provisioners: credits per provisioner index; the list is
/// walked in `order` (provisioner indices in key order; every index of `weights` with weight
/// appears once).
pub fn draw_credits(
    seed: &[u8],
    step: u8,
    weights: &[u64],
    order: &[usize],
    size: u32,
) -> Vec<u32> {
    draw_credits_by(reference_hash, true, seed, step, weights, order, size)
}

/// The hash a credit's score is taken from: `(seed, step, credit index)` to 32 bytes.
pub type ScoreHash = fn(&[u8], u8, u32) -> [u8; 32];

/// SORT-1's hash: `BLAKE2b-256(seed ‖ step:u8 ‖ credit:u32 LE)`.
pub fn reference_hash(seed: &[u8], step: u8, credit: u32) -> [u8; 32] {
    hash(&[seed, &[step], &credit.to_le_bytes()])
}

/// [`draw_credits`] with another score hash (the Dusk profile's SHA3-256) and, with
/// `skip_zero` false, Dusk's walk, which does not skip members whose weight ran out.
pub fn draw_credits_by(
    score_hash: ScoreHash,
    skip_zero: bool,
    seed: &[u8],
    step: u8,
    weights: &[u64],
    order: &[usize],
    size: u32,
) -> Vec<u32> {
    let mut w: Vec<u64> = weights.to_vec();
    let mut total: u64 = w.iter().sum();
    let mut credits = vec![0u32; weights.len()];
    for credit in 0..size {
        if total == 0 {
            break;
        }
        let h = score_hash(seed, step, credit);
        let mut score = mod_be(&h, total);
        let mut chosen = None;
        for &p in order {
            let wp = w[p];
            if wp == 0 && skip_zero {
                continue;
            }
            if wp >= score {
                chosen = Some(p);
                break;
            }
            score -= wp;
        }
        let Some(p) = chosen else { break };
        credits[p] += 1;
        let d = LUX_PER_UNIT.min(w[p]);
        w[p] -= d;
        if total <= d {
            break;
        }
        total -= d;
    }
    credits
}
