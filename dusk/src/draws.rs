//! dusk-consensus 1.7.0's own draws for a model context: its `Provisioners`, generators and
//! committees (`user::provisioners`, `user::committee`), built from the context's weights with
//! the Dusk profile's keys.

use std::collections::BTreeMap;

use dusk_consensus::config::exclude_next_generator;
use dusk_consensus::user::committee::Committee;
use dusk_consensus::user::provisioners::Provisioners;
use dusk_consensus::user::sortition::Config as SortitionConfig;
use dusk_consensus::user::stake::Stake;
use node_data::bls::PublicKeyBytes;
use node_data::ledger::Seed;
use node_data::StepName;

use crate::profile::public_key;

/// Dusk's provisioner set for the model's sortition weights (lux per provisioner; zero = not
/// drawable), every stake eligible since round 0.
pub fn provisioners(weights: &[u64]) -> Provisioners {
    let mut set = Provisioners::empty();
    for (p, &w) in weights.iter().enumerate() {
        if w > 0 {
            set.add_provisioner(public_key(p), Stake::new(w, 0));
        }
    }
    set
}

/// Credits per key slot of a Dusk committee.
fn credits(committee: &Committee, n: usize) -> BTreeMap<usize, u32> {
    committee
        .members()
        .iter()
        .map(|(pk, &c)| {
            let p = (0..n)
                .find(|&p| public_key(p) == *pk)
                .expect("a committee member is one of the profile's keys");
            (p, c as u32)
        })
        .collect()
}

/// One iteration's draws as dusk-consensus makes them: gen(i), and the Validation and
/// Ratification committees with gen(i) and gen(i+1) excluded (`IterationCtx`).
#[derive(Debug, PartialEq, Eq)]
pub struct Draw {
    /// gen(i)'s key slot.
    pub generator: usize,
    /// Validation credits per key slot.
    pub validation: BTreeMap<usize, u32>,
    /// Ratification credits per key slot.
    pub ratification: BTreeMap<usize, u32>,
}

/// gen(`iteration`) of `round` on `seed`: its key bytes.
pub fn generator(set: &Provisioners, seed: [u8; 48], round: u64, iteration: u8) -> PublicKeyBytes {
    set.get_generator(iteration, Seed::from(seed), round)
}

/// The committee of `step` in `iteration` of `round` on `seed`, with gen(i) and gen(i+1)
/// excluded as `IterationCtx::generate_committee` excludes them; `None` where dusk-consensus
/// panics (no eligible weight left after the exclusions: "No stakes available").
pub fn committee(
    set: &Provisioners,
    seed: [u8; 48],
    round: u64,
    iteration: u8,
    step: StepName,
) -> Option<Committee> {
    let mut exclusion = vec![generator(set, seed, round, iteration)];
    if exclude_next_generator(iteration) {
        exclusion.push(generator(set, seed, round, iteration + 1));
    }
    let cfg = SortitionConfig::new(Seed::from(seed), round, iteration, step, exclusion);
    let set = set.clone();
    // Caught so that the two-eligible case can be named rather than abort the caller (the
    // crate's panic message is still printed).
    std::panic::catch_unwind(move || Committee::new(&set, &cfg)).ok()
}

/// Draws iteration `iteration` of `round` on `seed`; `None` where dusk-consensus panics.
pub fn draw(
    set: &Provisioners,
    n: usize,
    seed: [u8; 48],
    round: u64,
    iteration: u8,
) -> Option<Draw> {
    let slot = |key: PublicKeyBytes| {
        (0..n)
            .find(|&p| *public_key(p).bytes() == key)
            .expect("a generator is one of the profile's keys")
    };
    let validation = committee(set, seed, round, iteration, StepName::Validation)?;
    let ratification = committee(set, seed, round, iteration, StepName::Ratification)?;
    Some(Draw {
        generator: slot(generator(set, seed, round, iteration)),
        validation: credits(&validation, n),
        ratification: credits(&ratification, n),
    })
}
