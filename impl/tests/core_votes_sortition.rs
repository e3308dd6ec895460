//! Sortition and vote keeping: spec/protocol.md SORT-*, QUORUM-*, TALLY-*.

use std::collections::BTreeMap;

use proptest::prelude::*;
use sa_node::hash::blake2b256;
use sa_node::sortition::{committee, draw, exclusions, generator, StepKind, CREDIT_WEIGHT};
use sa_node::tally::{Accepted, Rejected, Thresholds, Vote, VoteKeeper, VoteStep};

fn provisioners(stakes: &[u64]) -> BTreeMap<Vec<u8>, u64> {
    stakes
        .iter()
        .enumerate()
        .map(|(i, &s)| (vec![i as u8; 4], s * CREDIT_WEIGHT))
        .collect()
}

#[test]
fn thresholds_match_the_spec() {
    assert_eq!(
        Thresholds::for_credits(64),
        Thresholds {
            supermajority: 43,
            majority: 33
        }
    );
    assert_eq!(
        Thresholds::for_credits(4),
        Thresholds {
            supermajority: 3,
            majority: 3
        }
    );
    assert_eq!(
        Thresholds::for_credits(5),
        Thresholds {
            supermajority: 4,
            majority: 3
        }
    );
}

#[test]
fn committee_of_64_over_1000_provisioners() {
    let e = provisioners(&vec![1000; 1000]);
    let seed = blake2b256(&[b"seed"]);
    let c = committee(&seed, 0, StepKind::Validation, 50, &e, 64);
    assert_eq!(c.values().sum::<u32>(), 64);
    let ex = exclusions(&seed, 0, 50, &e);
    assert_eq!(ex.len(), 2);
    assert!(ex.iter().all(|k| !c.contains_key(k)));
}

#[test]
fn two_eligible_excludes_only_the_generator() {
    let e = provisioners(&[5, 5]);
    for s in 0..20u8 {
        let seed = blake2b256(&[&[s]]);
        let ex = exclusions(&seed, 0, 3, &e);
        assert_eq!(ex, vec![generator(&seed, 0, &e).unwrap()]);
        let c = committee(&seed, 0, StepKind::Validation, 3, &e, 3);
        assert_eq!(
            c.values().sum::<u32>(),
            3,
            "a committee is never empty with two eligible"
        );
    }
}

proptest! {
    #[test]
    fn draws_are_deterministic_capped_and_complete(
        seed in any::<[u8; 32]>(),
        step in any::<u8>(),
        stakes in proptest::collection::vec(0u64..4, 1..9),
        size in 1u32..16,
    ) {
        let e = provisioners(&stakes);
        let a = draw(&seed, step, &e, &[], size);
        prop_assert_eq!(&a, &draw(&seed, step, &e, &[], size));
        let capacity: u64 = stakes.iter().sum();
        prop_assert_eq!(u64::from(a.values().sum::<u32>()), u64::from(size).min(capacity));
        for (k, credits) in &a {
            prop_assert!(u64::from(*credits) * CREDIT_WEIGHT <= e[k]);
        }
    }

    #[test]
    fn keeper_counts_members_once_and_never_two_quorums_without_conflicts(
        credits in proptest::collection::vec(1u32..4, 2..7),
        votes in proptest::collection::vec((0usize..10, 0u8..4), 0..40),
    ) {
        let committee: BTreeMap<Vec<u8>, u32> =
            credits.iter().enumerate().map(|(i, &c)| (vec![i as u8], c)).collect();
        let c: u32 = credits.iter().sum();
        let mut k = VoteKeeper::new(VoteStep::Ratification, committee.clone(), c);
        let h = [7u8; 32];
        for (who, v) in votes {
            let vote = [Vote::NoCandidate, Vote::Valid(h), Vote::Invalid(h), Vote::NoQuorum][usize::from(v)];
            let before = k.clone();
            match k.add(&vec![who as u8], vote) {
                Err(Rejected::NotMember) => {
                    prop_assert!(who >= credits.len());
                    prop_assert_eq!(&k, &before, "a rejected vote changes nothing");
                }
                Err(e) => prop_assert!(false, "unexpected {e:?}"),
                Ok(Accepted::Duplicate) => prop_assert_eq!(&k, &before),
                Ok(_) => {}
            }
        }
        // Each member counts at most once (conflicting signers not at all), so tallies never
        // exceed C and, with thresholds above C/2, at most one value has a quorum.
        let values = [Vote::NoCandidate, Vote::Valid(h), Vote::Invalid(h), Vote::NoQuorum];
        let total: u32 = values.iter().map(|v| k.tally(v)).sum();
        prop_assert!(total <= c);
        let t = Thresholds::for_credits(c);
        let quorums = values.iter().filter(|v| k.tally(v) >= t.of(v)).count();
        prop_assert!(quorums <= 1);
    }
}

#[test]
fn a_conflicting_signer_counts_for_nothing_and_is_reported() {
    let committee: BTreeMap<Vec<u8>, u32> = [(vec![1], 2), (vec![2], 2)].into();
    let mut k = VoteKeeper::new(VoteStep::Validation, committee, 4);
    let h = [1u8; 32];
    assert_eq!(
        k.add(&vec![1], Vote::Valid(h)),
        Ok(Accepted::Counted { tally: 2 })
    );
    let got = k.add(&vec![1], Vote::NoCandidate).unwrap();
    assert_eq!(
        got,
        Accepted::Conflict {
            signer: vec![1],
            first: Vote::Valid(h),
            second: Vote::NoCandidate
        }
    );
    assert_eq!(k.tally(&Vote::Valid(h)), 0);
    assert_eq!(k.add(&vec![1], Vote::Valid(h)), Ok(Accepted::Duplicate));
    assert_eq!(
        k.add(&vec![2], Vote::NoQuorum),
        Err(Rejected::NoQuorumInValidation)
    );
    assert!(k.quorum().is_none());
}

#[test]
fn quorum_reports_value_credits_and_signers() {
    let committee: BTreeMap<Vec<u8>, u32> = [(vec![1], 2), (vec![2], 1), (vec![3], 1)].into();
    let mut k = VoteKeeper::new(VoteStep::Validation, committee, 4);
    let h = [9u8; 32];
    k.add(&vec![1], Vote::Valid(h)).unwrap();
    assert!(k.quorum().is_none());
    k.add(&vec![2], Vote::Valid(h)).unwrap();
    let q = k.quorum().unwrap();
    assert_eq!(q.vote, Vote::Valid(h));
    assert_eq!(q.credits, 3);
    assert_eq!(q.signers.len(), 2);
}
