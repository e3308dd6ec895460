//! Graceful degradation at mainnet parameters, computed with the spec's sortition (issue 9,
//! `sa degrade --sortition`).
//!
//! For a share of the stake absent, seeded rounds are sampled: per round a fresh seed, a random
//! absent set holding (at most, closest to) that share, and the iterations drawn as the spec
//! draws them (SORT-1..5: gen(i) a one-credit draw of step 3i, the Validation and Ratification
//! committees of C credits of steps 3i+1 and 3i+2 excluding gen(i) and gen(i+1), BLAKE2b,
//! weights in lux, one DUSK removed per credit). An iteration is **good** when its generator is
//! present and both committees hold at least SM present credits (LIVE-ROUND's condition, with
//! every present provisioner honest). The round ends at its first good iteration.
//!
//! Time per block follows the spec's timers (TIME-1/2) with network latency taken as zero: a
//! good iteration costs no timeout; a failed one costs the timeouts of the steps that cannot
//! complete (Proposal when gen(i) is absent; Validation when no quorum can form: fewer than SM
//! present Validation credits for the candidate and fewer than M for NoCandidate / NoQuorum;
//! Ratification likewise), each step's timeout starting at the 7 s floor (a history of fast
//! steps) and growing 2 s per expiry of that step for the rest of the round, capped at 40 s;
//! and no block comes before the minimum block time of 10 s.

use serde::Serialize;

use crate::odds::binomial_tail;
use sa_model::config::LUX_PER_UNIT;
use sa_model::sortition::{draw_credits, hash, mod_be};

/// How the stake is spread.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Distribution {
    /// Every provisioner stakes 1000 DUSK.
    Uniform,
    /// Zipf-like: the k-th provisioner (k = 1..N) stakes 1000 · N / k DUSK (with N = 100 the
    /// largest holds 100,000 DUSK, the ten largest 56% of the stake, the smallest 1000 DUSK).
    Skewed,
}

impl Distribution {
    /// Stakes in DUSK.
    pub fn stakes(self, n: usize) -> Vec<u64> {
        match self {
            Distribution::Uniform => vec![1000; n],
            Distribution::Skewed => (1..=n as u64).map(|k| 1000 * n as u64 / k).collect(),
        }
    }
}

/// Parameters of the computation.
#[derive(Clone, Debug, Serialize)]
pub struct DegradeParams {
    /// Provisioners.
    pub provisioners: usize,
    /// Stake distribution.
    pub distribution: Distribution,
    /// C.
    pub committee_credits: u32,
    /// Iterations per round.
    pub max_iterations: u8,
    /// Sampled rounds per row.
    pub samples: usize,
    /// Base seed (same seed, same table).
    pub seed: u64,
    /// Absent stake, in percent, one row each.
    pub absent_percent: Vec<u32>,
    /// Worker threads.
    pub threads: usize,
}

/// One row of the table.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DegradeRow {
    /// Target absent stake, percent.
    pub absent_percent: u32,
    /// Mean absent stake share actually drawn (the absent set is whole provisioners).
    pub absent_share: f64,
    /// Share of iterations that are good (all iterations drawn).
    pub p_good: f64,
    /// Standard error of `p_good` (iterations of one round are independent draws).
    pub p_good_std_error: f64,
    /// The same, computed independently: P(gen present) · P(Bin(C, present share) ≥ SM)², credits
    /// drawn independently in proportion to stake.
    pub p_good_binomial: f64,
    /// Mean iterations per round (a round without a good iteration counts all of them).
    pub mean_iterations: f64,
    /// 99th percentile of iterations per round.
    pub p99_iterations: u32,
    /// Share of rounds with no good iteration among the first `max_iterations`.
    pub no_good_iteration: f64,
    /// Mean seconds per block under the timing model.
    pub mean_seconds: f64,
    /// 99th percentile of seconds per block.
    pub p99_seconds: f64,
}

/// TIME-1/2 and the minimum block time, in seconds.
const TIMEOUT_FLOOR: f64 = 7.0;
const TIMEOUT_STEP: f64 = 2.0;
const TIMEOUT_CAP: f64 = 40.0;
const MIN_BLOCK_TIME: f64 = 10.0;

/// One sampled round: (iterations drawn, good iterations among them, seconds, ended).
fn round(
    params: &DegradeParams,
    weights: &[u64],
    order: &[usize],
    absent: &[bool],
    seed: &[u8; 32],
) -> (u32, u32, f64, bool) {
    let (its, good, secs, ended, _) = round_with_fails(params, weights, order, absent, seed);
    (its, good, secs, ended)
}

/// The Fail attestations of a round's failed iterations: bit `i` of `.0` when iteration `i`
/// ended with a Fail attestation (M credits), of `.1` when that attestation reaches SM.
type RoundFails = (u64, u64);

/// [`round`], with the Fail attestations of its failed iterations.
fn round_with_fails(
    params: &DegradeParams,
    weights: &[u64],
    order: &[usize],
    absent: &[bool],
    seed: &[u8; 32],
) -> (u32, u32, f64, bool, RoundFails) {
    let mut fails: RoundFails = (0, 0);
    let c = params.committee_credits;
    let sm = c - c / 3;
    let m = c / 2 + 1;
    let gen_of = |i: u8| -> Option<usize> {
        let g = draw_credits(seed, 3 * i, weights, order, 1);
        g.iter().position(|&x| x > 0)
    };
    let mut timeouts = [TIMEOUT_FLOOR; 3];
    let mut expire = |k: usize, t: &mut f64| {
        *t += timeouts[k];
        timeouts[k] = (timeouts[k] + TIMEOUT_STEP).min(TIMEOUT_CAP);
    };
    let mut seconds: f64 = 0.0;
    let mut good = 0;
    let mut next_gen = gen_of(0);
    for i in 0..params.max_iterations {
        let gen = next_gen;
        next_gen = if i + 1 < params.max_iterations {
            gen_of(i + 1)
        } else {
            None
        };
        let mut w = weights.to_vec();
        for g in [gen, next_gen].into_iter().flatten() {
            w[g] = 0;
        }
        let present = |credits: &[u32]| -> u32 {
            credits
                .iter()
                .enumerate()
                .filter(|(p, _)| !absent[*p])
                .map(|(_, c)| *c)
                .sum()
        };
        let v = present(&draw_credits(seed, 3 * i + 1, &w, order, c));
        let r = present(&draw_credits(seed, 3 * i + 2, &w, order, c));
        let gen_present = gen.is_some_and(|g| !absent[g]);
        if gen_present && v >= sm && r >= sm {
            good += 1;
            return (
                u32::from(i) + 1,
                good,
                seconds.max(MIN_BLOCK_TIME),
                true,
                fails,
            );
        }
        // The failed iteration's timeouts. Proposal: only when gen(i) is absent.
        if !gen_present {
            expire(0, &mut seconds);
        }
        // Validation: with the candidate, Valid votes form a quorum only at SM (else the step
        // ends by its timer, NoQuorum); without it, NoCandidate votes need M.
        let valid_result = gen_present && v >= sm;
        let validation_quorum = if gen_present { v >= sm } else { v >= m };
        if !validation_quorum {
            expire(1, &mut seconds);
        }
        // Ratification: on Valid, a Success needs SM (failing here: r < SM, the timer ends
        // it); on NoCandidate / NoQuorum, a Fail needs M.
        if valid_result || r < m {
            expire(2, &mut seconds);
        }
        // Every present member votes the same Fail value: the attestation holds r credits.
        if !valid_result && r >= m && i < 64 {
            fails.0 |= 1 << i;
            if r >= sm {
                fails.1 |= 1 << i;
            }
        }
    }
    (
        u32::from(params.max_iterations),
        good,
        seconds.max(MIN_BLOCK_TIME),
        false,
        fails,
    )
}

/// A random absent set within `budget`: provisioners in an order seeded by `seed`, each taken
/// if its stake still fits. Returns the set and the stake it holds.
fn absent_set(seed: &[u8; 32], stakes: &[u64], budget: u64) -> (Vec<bool>, u64) {
    let n = stakes.len();
    let mut keyed: Vec<(u64, usize)> = (0..n)
        .map(|p| {
            let h = hash(&[seed, b"absent", &(p as u64).to_le_bytes()]);
            (mod_be(&h, u64::MAX), p)
        })
        .collect();
    keyed.sort_unstable();
    let mut absent = vec![false; n];
    let mut used = 0;
    for (_, p) in keyed {
        if used + stakes[p] <= budget {
            used += stakes[p];
            absent[p] = true;
        }
    }
    (absent, used)
}

/// One sampled round: iterations drawn, good ones among them, seconds, whether it ended, the
/// absent share drawn.
type Sampled = (u32, u32, f64, bool, f64);

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let k = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[k]
}

/// The table, one row per absent percentage.
#[allow(
    clippy::too_many_lines,
    reason = "one pass over the absence grid; each column of a row computed where it is printed"
)]
pub fn degradation(params: &DegradeParams) -> Vec<DegradeRow> {
    let n = params.provisioners;
    let stakes = params.distribution.stakes(n);
    let weights: Vec<u64> = stakes.iter().map(|s| s * LUX_PER_UNIT).collect();
    let total: u64 = stakes.iter().sum();
    let order: Vec<usize> = (0..n).collect();
    let c = params.committee_credits;
    let sm = c - c / 3;
    params
        .absent_percent
        .iter()
        .map(|&pct| {
            let budget = total * u64::from(pct) / 100;
            let threads = params.threads.max(1);
            let chunks: Vec<Vec<Sampled>> = std::thread::scope(|scope| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let (weights, order, stakes) = (&weights, &order, &stakes);
                        scope.spawn(move || {
                            (0..params.samples)
                                .filter(|k| k % threads == t)
                                .map(|k| {
                                    let seed = hash(&[
                                        b"sa-degrade",
                                        &params.seed.to_le_bytes(),
                                        &u64::from(pct).to_le_bytes(),
                                        &(k as u64).to_le_bytes(),
                                    ]);
                                    let (absent, used) = absent_set(&seed, stakes, budget);
                                    let (its, good, secs, ended) =
                                        round(params, weights, order, &absent, &seed);
                                    (its, good, secs, ended, used as f64 / total as f64)
                                })
                                .collect::<Vec<_>>()
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_default())
                    .collect()
            });
            let rounds: Vec<Sampled> = chunks.into_iter().flatten().collect();
            let count = rounds.len().max(1) as f64;
            let iterations: u64 = rounds.iter().map(|r| u64::from(r.0)).sum();
            let goods: u64 = rounds.iter().map(|r| u64::from(r.1)).sum();
            let p_good = goods as f64 / iterations.max(1) as f64;
            let mut its: Vec<f64> = rounds.iter().map(|r| f64::from(r.0)).collect();
            its.sort_by(f64::total_cmp);
            let mut secs: Vec<f64> = rounds.iter().map(|r| r.2).collect();
            secs.sort_by(f64::total_cmp);
            let absent_share = rounds.iter().map(|r| r.4).sum::<f64>() / count;
            let present = 1.0 - absent_share;
            DegradeRow {
                absent_percent: pct,
                absent_share,
                p_good,
                p_good_std_error: (p_good * (1.0 - p_good) / iterations.max(1) as f64).sqrt(),
                p_good_binomial: present * binomial_tail(c, present, sm).powi(2),
                mean_iterations: its.iter().sum::<f64>() / count,
                p99_iterations: percentile(&its, 0.99) as u32,
                no_good_iteration: rounds.iter().filter(|r| !r.3).count() as f64 / count,
                mean_seconds: secs.iter().sum::<f64>() / count,
                p99_seconds: percentile(&secs, 0.99),
            }
        })
        .collect()
}

/// One row of the finality cost (`sa compare`): a finality rule at one absent share.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LagRow {
    /// Target absent stake, percent.
    pub absent_percent: u32,
    /// The finality rule (`dusk`, `sm-fail`, `closed`).
    pub variant: String,
    /// Blocks judged (the first `chain` blocks of every sampled chain).
    pub blocks: usize,
    /// Mean iterations per block (the same for every rule: finality does not change rounds).
    pub mean_iterations: f64,
    /// Share of blocks with PNI 0 (Attested when appended) under this rule.
    pub attested_share: f64,
    /// Mean heights between a block and the height at which it became Final, over the blocks
    /// that became Final within the window (None: none did).
    pub mean_lag: Option<f64>,
    /// 99th percentile of the lag, over the blocks that became Final within the window.
    pub p99_lag: Option<f64>,
    /// Share of blocks not Final `window` heights after the chain's judged part.
    pub never_final: f64,
}

/// Labels one sampled chain by FIN-1..3 under `config`'s rule: the lags of its first `chain`
/// blocks that became Final, how many of them were Attested, how many never became Final.
fn label_chain(
    config: &sa_model::config::Config,
    blocks: &[(u8, RoundFails)],
    chain: usize,
) -> (Vec<f64>, usize, usize) {
    use sa_model::state::{Entry, FailSet, Label, Value};
    let rule = config.protocol.finality;
    let relaxed = config.protocol.relaxed_iterations.min(8);
    let (mut lags, mut attested, mut never) = (Vec::new(), 0usize, 0usize);
    let mut labels: Vec<Entry> = Vec::new();
    let mut final_at: Vec<Option<usize>> = vec![None; blocks.len()];
    for (h, &(iteration, (m_fails, sm_fails))) in blocks.iter().enumerate() {
        let counted = if rule.fail_needs_supermajority() {
            sm_fails
        } else {
            m_fails
        };
        let mut failed = FailSet::default();
        for i in 0..iteration.min(relaxed) {
            if counted & (1 << i) != 0 {
                failed = failed.with(i, Value::NoCandidate);
            }
        }
        let entry = Entry {
            iteration,
            variant: 0,
            failed,
            label: Label::Accepted,
        };
        if h < chain && sa_model::finality::pni(config, &entry) == 0 {
            attested += 1;
        }
        sa_model::finality::push(config, &mut labels, entry);
        for (k, e) in labels.iter().enumerate() {
            if e.label == Label::Final && final_at[k].is_none() {
                final_at[k] = Some(h);
            }
        }
    }
    for (k, at) in final_at.iter().enumerate().take(chain) {
        match at {
            Some(at) => lags.push((at - k) as f64),
            None => never += 1,
        }
    }
    (lags, attested, never)
}

/// Finality lag at mainnet parameters per finality rule (issue 31's cost column): for each
/// absent share, `params.samples` chains, each with one absent set, of `chain + window` rounds
/// sampled as [`degradation`] samples them (a round with no good iteration among
/// `max_iterations` adds no block); each block carries the Fail attestations of its failed
/// iterations below 8 (RELAXED), counted as the rule counts them (Dusk: M credits; the
/// variants: SM), and the chain is labelled by the model's own FIN-1..3
/// ([`sa_model::finality::push`]) under each rule. The lag of block `h` is the number of
/// blocks appended after it until it is Final.
pub fn finality_lag(
    params: &DegradeParams,
    rules: &[sa_model::config::Finality],
    chain: usize,
    window: usize,
) -> Vec<LagRow> {
    let n = params.provisioners;
    let stakes = params.distribution.stakes(n);
    let weights: Vec<u64> = stakes.iter().map(|s| s * LUX_PER_UNIT).collect();
    let total: u64 = stakes.iter().sum();
    let order: Vec<usize> = (0..n).collect();
    let mut rows = Vec::new();
    for &pct in &params.absent_percent {
        let budget = total * u64::from(pct) / 100;
        // Per chain: the blocks (iteration, fails) of its rounds that ended.
        let chains: Vec<(Vec<(u8, RoundFails)>, u64)> = (0..params.samples)
            .map(|k| {
                let seed = hash(&[
                    b"sa-lag",
                    &params.seed.to_le_bytes(),
                    &u64::from(pct).to_le_bytes(),
                    &(k as u64).to_le_bytes(),
                ]);
                let (absent, _) = absent_set(&seed, &stakes, budget);
                let mut blocks = Vec::new();
                let mut its = 0u64;
                for h in 0..(chain + window) as u64 {
                    let round_seed = hash(&[&seed, b"round", &h.to_le_bytes()]);
                    let (drawn, _, _, ended, fails) =
                        round_with_fails(params, &weights, &order, &absent, &round_seed);
                    if ended {
                        its += u64::from(drawn);
                        blocks.push(((drawn - 1) as u8, fails));
                    }
                }
                (blocks, its)
            })
            .collect();
        let judged: usize = chains.iter().map(|(b, _)| b.len().min(chain)).sum();
        let iterations: u64 = chains.iter().map(|(_, i)| *i).sum();
        let appended: usize = chains.iter().map(|(b, _)| b.len()).sum();
        for &rule in rules {
            let mut config = sa_model::config::Config::preset("mainnet")
                .unwrap_or_else(|| unreachable!("the mainnet preset exists"));
            config.protocol.max_iterations = params.max_iterations;
            config.protocol.finality = rule;
            let (mut lags, mut attested, mut never) = (Vec::new(), 0usize, 0usize);
            for (blocks, _) in &chains {
                let (l, a, nf) = label_chain(&config, blocks, chain);
                lags.extend(l);
                attested += a;
                never += nf;
            }
            lags.sort_by(f64::total_cmp);
            rows.push(LagRow {
                absent_percent: pct,
                variant: rule.name().into(),
                blocks: judged,
                mean_iterations: iterations as f64 / appended.max(1) as f64,
                attested_share: attested as f64 / judged.max(1) as f64,
                mean_lag: (!lags.is_empty()).then(|| lags.iter().sum::<f64>() / lags.len() as f64),
                p99_lag: (!lags.is_empty()).then(|| percentile(&lags, 0.99)),
                never_final: never as f64 / judged.max(1) as f64,
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pcts: Vec<u32>, samples: usize) -> DegradeParams {
        DegradeParams {
            provisioners: 100,
            distribution: Distribution::Uniform,
            committee_credits: 64,
            max_iterations: 50,
            samples,
            seed: 1,
            absent_percent: pcts,
            threads: 2,
        }
    }

    #[test]
    fn no_absence_means_every_iteration_is_good_and_one_iteration_per_round() {
        let rows = degradation(&params(vec![0], 200));
        let r = &rows[0];
        assert_eq!(r.p_good, 1.0);
        assert_eq!(r.mean_iterations, 1.0);
        assert_eq!(r.mean_seconds, MIN_BLOCK_TIME);
        assert_eq!(r.absent_share, 0.0);
    }

    #[test]
    fn absence_degrades_monotonically_and_agrees_with_the_binomial_estimate() {
        let rows = degradation(&params(vec![10, 25, 40], 400));
        assert!(rows[0].p_good > rows[1].p_good && rows[1].p_good > rows[2].p_good);
        assert!(rows[0].mean_iterations <= rows[1].mean_iterations);
        assert!(rows[1].mean_seconds < rows[2].mean_seconds);
        for r in &rows {
            // Uniform stakes: the absent set is exactly the share asked for.
            assert!((r.absent_share - f64::from(r.absent_percent) / 100.0).abs() < 1e-9);
            // Sortition draws without replacement of weight; within a few standard errors.
            assert!(
                (r.p_good - r.p_good_binomial).abs() < 0.05 + 4.0 * r.p_good_std_error,
                "{r:?}"
            );
        }
        // Past C - SM absent credits (about a third) hardly any iteration is good.
        assert!(rows[2].p_good < 0.2, "{:?}", rows[2]);
    }

    #[test]
    fn the_same_seed_gives_the_same_table() {
        let a = degradation(&params(vec![20], 100));
        let b = degradation(&params(vec![20], 100));
        assert_eq!(a, b);
    }

    #[test]
    fn skewed_stakes_are_zipf_like() {
        let s = Distribution::Skewed.stakes(100);
        assert_eq!((s[0], s[99]), (100_000, 1000));
        let total: u64 = s.iter().sum();
        let top10: u64 = s[..10].iter().sum();
        let share = top10 as f64 / total as f64;
        assert!((0.55..0.58).contains(&share), "{share}");
    }

    #[test]
    fn finality_lag_ranks_the_rules_and_dusk_finalizes_every_block_without_absence() {
        use sa_model::config::Finality;
        let p = params(vec![0, 30], 6);
        let rows = finality_lag(&p, &Finality::ALL, 30, 30);
        assert_eq!(rows.len(), 6);
        let row = |pct: u32, v: &str| {
            rows.iter()
                .find(|r| r.absent_percent == pct && r.variant == v)
                .cloned()
                .unwrap_or_else(|| panic!("row {pct} {v}"))
        };
        // No absence: every block Attested in iteration 0, Final one block later.
        for v in ["dusk", "sm-fail", "closed"] {
            let r = row(0, v);
            assert_eq!(r.attested_share, 1.0, "{v}");
            assert_eq!(r.never_final, 0.0, "{v}");
            assert_eq!(r.mean_lag, Some(1.0), "{v}");
        }
        // With absence: counting Fails only at SM leaves fewer blocks Attested, and the closed
        // rule finalizes no more than the others.
        let (d, s, c) = (row(30, "dusk"), row(30, "sm-fail"), row(30, "closed"));
        assert!(d.attested_share >= s.attested_share);
        assert_eq!(s.attested_share, c.attested_share);
        assert!(c.never_final >= s.never_final && c.never_final >= d.never_final);
        assert!(d.blocks > 0 && d.mean_iterations > 1.0);
    }
}
