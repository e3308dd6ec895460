//! dusk-consensus 1.7.0's own draws for a model context: its `Provisioners`, generators and
//! committees (`user::provisioners`, `user::committee`), built from the context's weights with
//! the Dusk profile's keys.

use std::collections::BTreeMap;

use dusk_consensus::config::exclude_next_generator;
use dusk_consensus::user::committee::Committee;
use dusk_consensus::user::provisioners::Provisioners;
use dusk_consensus::user::sortition::Config as SortitionConfig;
use dusk_consensus::user::stake::Stake;
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

/// Draws iteration `iteration` of `round` on `seed`; `None` where dusk-consensus panics (no
/// eligible weight left after the exclusions: "No stakes available").
pub fn draw(
    set: &Provisioners,
    n: usize,
    seed: [u8; 48],
    round: u64,
    iteration: u8,
) -> Option<Draw> {
    let seed = Seed::from(seed);
    let slot = |key: node_data::bls::PublicKeyBytes| {
        (0..n)
            .find(|&p| *public_key(p).bytes() == key)
            .expect("a generator is one of the profile's keys")
    };
    let generator = set.get_generator(iteration, seed, round);
    let mut exclusion = vec![generator];
    if exclude_next_generator(iteration) {
        exclusion.push(set.get_generator(iteration + 1, seed, round));
    }
    let committee = |step: StepName| {
        let cfg = SortitionConfig::new(seed, round, iteration, step, exclusion.clone());
        let set = set.clone();
        // dusk-consensus panics on a committee with no eligible weight; caught so that the
        // test can name it (the two-eligible case).
        std::panic::catch_unwind(move || Committee::new(&set, &cfg)).ok()
    };
    let validation = committee(StepName::Validation)?;
    let ratification = committee(StepName::Ratification)?;
    Some(Draw {
        generator: slot(generator),
        validation: credits(&validation, n),
        ratification: credits(&ratification, n),
    })
}
