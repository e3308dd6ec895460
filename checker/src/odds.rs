//! How likely the Byzantine fork of spec/incidents.md ("Success and Fail in one iteration") is
//! at mainnet scale: the probability that one Ratification committee, drawn by the spec's
//! sortition (SORT-1..5, BLAKE2b, gen(i) and gen(i+1) excluded), gives the Byzantine
//! provisioners at least SM + M − C credits, the equivocating credits a Success and a Fail of
//! one iteration need under the worst honest split (every other credit honest, split so that
//! both quorums form). Seeded sampling: each sample is a fresh seed.

use serde::Serialize;

use sa_model::config::LUX_PER_UNIT;
use sa_model::sortition::{draw_credits, hash};

/// One row: a Byzantine share of the stake and the estimated probability.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct OddsRow {
    /// Byzantine provisioners (of `provisioners`, equal stakes).
    pub byzantine: usize,
    /// Their share of the stake.
    pub share: f64,
    /// Samples drawn.
    pub samples: usize,
    /// Samples in which the Byzantine credits reached the overlap.
    pub hits: usize,
    /// hits / samples.
    pub probability: f64,
    /// Standard error of the estimate.
    pub std_error: f64,
    /// Mean Byzantine credits in the committee.
    pub mean_credits: f64,
    /// For comparison: P(Binomial(C, share) ≥ overlap), credits drawn independently.
    pub binomial: f64,
}

/// Parameters of the estimate.
#[derive(Clone, Debug, Serialize)]
pub struct OddsParams {
    /// Provisioners, equal stakes.
    pub provisioners: usize,
    /// Stake of each, in DUSK (one credit removes 1 DUSK of weight, SORT-2).
    pub stake: u64,
    /// Committee credits C.
    pub committee_credits: u32,
    /// SM + M − C.
    pub overlap: u32,
    /// Samples per row.
    pub samples: usize,
    /// Base seed of the sampling.
    pub seed: u64,
}

/// P(Binomial(n, p) ≥ k).
pub fn binomial_tail(n: u32, p: f64, k: u32) -> f64 {
    let mut total = 0.0;
    let mut coeff = 1.0f64; // C(n, 0)
    for i in 0..=n {
        if i > 0 {
            coeff = coeff * f64::from(n - i + 1) / f64::from(i);
        }
        if i >= k {
            total += coeff * p.powi(i as i32) * (1.0 - p).powi((n - i) as i32);
        }
    }
    total
}

/// Estimates one row per Byzantine count in `byzantine_counts`.
pub fn fork_odds(params: &OddsParams, byzantine_counts: &[usize]) -> Vec<OddsRow> {
    let n = params.provisioners;
    let weight = params.stake * LUX_PER_UNIT;
    // Equal stakes: the key order is any order; index order is used.
    let order: Vec<usize> = (0..n).collect();
    byzantine_counts
        .iter()
        .map(|&b| {
            let mut hits = 0;
            let mut credit_sum = 0u64;
            for k in 0..params.samples {
                let seed = hash(&[
                    b"sa-odds",
                    &params.seed.to_le_bytes(),
                    &(b as u64).to_le_bytes(),
                    &(k as u64).to_le_bytes(),
                ]);
                let mut weights = vec![weight; n];
                // gen(0) and gen(1), excluded from iteration 0's committees (SORT-4).
                for step in [0u8, 3] {
                    let g = draw_credits(&seed, step, &weights, &order, 1);
                    if let Some(p) = (0..n).find(|&p| g[p] > 0) {
                        weights[p] = 0;
                    }
                }
                let committee = draw_credits(&seed, 2, &weights, &order, params.committee_credits);
                // The Byzantine provisioners are the last `b` in key order.
                let credits: u32 = committee[n - b..].iter().sum();
                credit_sum += u64::from(credits);
                if credits >= params.overlap {
                    hits += 1;
                }
            }
            let p = hits as f64 / params.samples.max(1) as f64;
            let share = b as f64 / n as f64;
            OddsRow {
                byzantine: b,
                share,
                samples: params.samples,
                hits,
                probability: p,
                std_error: (p * (1.0 - p) / params.samples.max(1) as f64).sqrt(),
                mean_credits: credit_sum as f64 / params.samples.max(1) as f64,
                binomial: binomial_tail(params.committee_credits, share, params.overlap),
            }
        })
        .collect()
}
