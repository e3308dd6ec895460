//! Every draw, not just one seed: the committee assignments SORT-3, SORT-4, SORT-5 allow for a round, up to
//! relabelling provisioners of equal weight, and the classes a seed's draw falls in. (The
//! sweep that checks one model per class is `check::check_all_draws`.)
//!
//! A one-round model is symmetric under a permutation of provisioners of equal weight and equal
//! fault role (honest or Byzantine) once the round's draws are fixed (the draws are its only use
//! of keys), so checking one draw per class checks every draw of the class. With more than one
//! round it is not: who generates a block decides the next seed (SORT-6, the generator's
//! signature) and so every later draw. There every allowed draw is its own class. `checker/tests/model_all_draws.rs` sweeps seeds until every class allowed
//! for the first round is covered and checks each.

use std::collections::BTreeSet;

use crate::config::{Config, LUX_PER_UNIT, MAX_PROVISIONERS};
use crate::draws::{exclusions, Context};
use crate::sortition::Committee;

/// The draws of one round: per iteration (gen(i), Validation, Ratification).
pub type Profile = Vec<(Option<usize>, Committee, Committee)>;

/// The profile of a context's round.
pub fn profile_of(ctx: &Context) -> Profile {
    ctx.iterations
        .iter()
        .map(|d| (d.generator, d.validation, d.ratification))
        .collect()
}

fn permutations(items: &[usize]) -> Vec<Vec<usize>> {
    if items.len() <= 1 {
        return vec![items.to_vec()];
    }
    let mut out = Vec::new();
    for i in 0..items.len() {
        let mut rest = items.to_vec();
        let x = rest.remove(i);
        for mut p in permutations(&rest) {
            p.insert(0, x);
            out.push(p);
        }
    }
    out
}

/// Relabelings of provisioners that preserve every weight and fault role (the symmetry group of
/// a one-round check; only the identity with more rounds: see the module's note).
fn symmetries(config: &Config, weights: &[u64]) -> Vec<[usize; MAX_PROVISIONERS]> {
    let idx: Vec<usize> = (0..weights.len()).collect();
    let byz = |p: usize| config.faults.byzantine.contains(&(p as u8));
    let one_round = config.protocol.rounds <= 1;
    permutations(&idx)
        .into_iter()
        .filter(|p| {
            p.iter().enumerate().all(|(i, &j)| {
                (i == j || one_round) && weights[i] == weights[j] && byz(i) == byz(j)
            })
        })
        .map(|p| {
            let mut a = [0; MAX_PROVISIONERS];
            for (i, &j) in p.iter().enumerate() {
                a[i] = j;
            }
            for (i, slot) in a.iter_mut().enumerate().skip(weights.len()) {
                *slot = i;
            }
            a
        })
        .collect()
}

/// The smallest relabelled profile: one representative per class.
pub fn canonical(config: &Config, profile: &Profile, weights: &[u64]) -> Profile {
    symmetries(config, weights)
        .iter()
        .map(|perm| {
            profile
                .iter()
                .map(|(g, v, r)| {
                    let map = |c: &Committee| {
                        let mut m = Committee::default();
                        for (p, &credits) in c.0.iter().enumerate() {
                            if credits > 0 {
                                m.0[perm[p]] = credits;
                            }
                        }
                        m
                    };
                    (g.map(|g| perm[g]), map(v), map(r))
                })
                .collect::<Profile>()
        })
        .min()
        .unwrap_or_default()
}

/// Every credit vector over `caps` summing to `total`.
fn vectors(caps: &[u32], total: u32) -> Vec<Committee> {
    fn go(caps: &[u32], k: usize, left: u32, cur: &mut Committee, out: &mut Vec<Committee>) {
        if k == caps.len() {
            if left == 0 {
                out.push(*cur);
            }
            return;
        }
        for c in 0..=caps[k].min(left) {
            cur.0[k] = c as u8;
            go(caps, k + 1, left - c, cur, out);
        }
        cur.0[k] = 0;
    }
    let mut out = Vec::new();
    go(caps, 0, total, &mut Committee::default(), &mut out);
    out
}

/// Every profile SORT-3, SORT-4, SORT-5 allow for one round with these weights (lux; 0 = not eligible),
/// canonicalised.
pub fn allowed_classes(config: &Config, weights: &[u64]) -> BTreeSet<Profile> {
    let n = weights.len();
    let iters = usize::from(config.protocol.max_iterations);
    let c = config.protocol.committee_credits;
    let drawable: Vec<usize> = (0..n).filter(|&p| weights[p] > 0).collect();
    // All generator sequences.
    let mut gen_seqs: Vec<Vec<usize>> = vec![vec![]];
    for _ in 0..iters {
        gen_seqs = gen_seqs
            .into_iter()
            .flat_map(|s| {
                drawable.iter().map(move |&g| {
                    let mut t = s.clone();
                    t.push(g);
                    t
                })
            })
            .collect();
    }
    let mut classes = BTreeSet::new();
    for gens in gen_seqs {
        let mut partial: Vec<Profile> = vec![vec![]];
        for i in 0..iters {
            let next = gens.get(i + 1).copied();
            let excluded = exclusions(config, drawable.len(), Some(gens[i]), next);
            let caps: Vec<u32> = (0..n)
                .map(|p| {
                    if excluded & (1 << p) != 0 {
                        0
                    } else {
                        weights[p].div_ceil(LUX_PER_UNIT) as u32
                    }
                })
                .collect();
            let total = c.min(caps.iter().sum());
            let options = vectors(&caps, total);
            let g = Some(gens[i]);
            let mut grown = Vec::new();
            for pr in &partial {
                for v in &options {
                    for r in &options {
                        let mut t = pr.clone();
                        t.push((g, *v, *r));
                        grown.push(t);
                    }
                }
            }
            partial = grown;
        }
        for p in partial {
            classes.insert(canonical(config, &p, weights));
        }
    }
    classes
}
