//! Bad input is rejected and changes nothing: random frames, mutated valid messages and
//! crafted invalid votes, candidates and blocks never panic the core, and whenever the core
//! answers `Rejected` its state is exactly what it was before.

mod sim;

use proptest::prelude::*;
use sa_node::keys::{Keypair, PublicKey};
use sa_node::message::{vote_digest, Message, SignedVote, StepVotes, VoteHeader};
use sa_node::node::{Input, Node, Output, Timer};
use sa_node::sortition::{committee, StepKind};
use sa_node::tally::{Vote, VoteStep};
use sim::{params, Sim};

const DUSK: u64 = 1_000_000_000;

struct Fixture {
    node: Node,
    now: u64,
    corpus: Vec<Vec<u8>>,
}

/// Node 0 in the middle of round 3, and every message the network carried so far.
fn fixture() -> Fixture {
    let mut s = Sim::new(5, params(15), 4 * DUSK, &[]);
    s.start();
    assert!(s.run_until(60_000, |s| s.min_tip() >= 2));
    for _ in 0..25 {
        s.step();
    }
    let mut corpus = vec![];
    for h in &s.history {
        for o in h {
            if let Output::Broadcast(m) = o {
                corpus.push(m.to_bytes());
            }
        }
    }
    let mut node = s.node(0).clone();
    let now = s.now;
    settle(&mut node, now);
    Fixture { node, now, corpus }
}

/// Moves the node's clock to `now` with a stale timer (ignored: round 0 is never current), so
/// that state comparisons are about the message alone.
fn settle(node: &mut Node, now: u64) {
    let out = node.handle(
        now,
        Input::Timer(Timer::Propose {
            round: 0,
            iteration: 0,
        }),
    );
    assert!(out.is_empty());
}

/// Feeds one frame; if the core rejected it, its state must be unchanged.
fn feed(node: &mut Node, now: u64, bytes: Vec<u8>) -> Vec<Output> {
    let before = node.clone();
    let out = node.handle(now, Input::Message { peer: 9, bytes });
    if out.iter().any(|o| matches!(o, Output::Rejected { .. })) {
        assert!(
            *node == before,
            "a rejected message changed the node: {out:?}"
        );
    }
    out
}

fn rejected(out: &[Output]) -> Option<String> {
    out.iter().find_map(|o| match o {
        Output::Rejected { reason, .. } => Some(reason.clone()),
        _ => None,
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_frames_never_panic_and_rejections_change_nothing(
        bytes in proptest::collection::vec(any::<u8>(), 0..600)
    ) {
        let f = fixture_cached();
        let mut node = f.node.clone();
        feed(&mut node, f.now, bytes);
    }

    #[test]
    fn mutated_messages_never_panic_and_rejections_change_nothing(
        pick in any::<prop::sample::Index>(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), 1u8..=255), 1..4),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let f = fixture_cached();
        let mut bytes = pick.get(&f.corpus).clone();
        for (at, x) in flips {
            let i = at.index(bytes.len());
            bytes[i] ^= x;
        }
        if let Some(c) = cut {
            bytes.truncate(c.index(bytes.len()));
        }
        let mut node = f.node.clone();
        feed(&mut node, f.now, bytes);
    }
}

fn fixture_cached() -> &'static Fixture {
    use std::sync::OnceLock;
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(fixture)
}

/// The Validation committee of node 0's current round and iteration, and the vote header.
fn validation_setup(f: &Fixture) -> (VoteHeader, Vec<(u32, u32)>, Vec<u32>) {
    let node = &f.node;
    let (round, iteration) = node.position();
    let tip = node.block(round - 1).unwrap();
    let eligible = node.ledger().eligible(round, node.params());
    let c = committee(
        &tip.header().seed.0,
        iteration,
        StepKind::Validation,
        node.params().max_iterations,
        &eligible,
        node.params().committee_credits,
    );
    let header = VoteHeader {
        prev_hash: tip.hash(),
        round,
        iteration,
        step: VoteStep::Validation,
    };
    let keys: Vec<PublicKey> = (0..5).map(|i| Keypair::testnet(i).public).collect();
    let members = (0..5u32)
        .filter_map(|i| c.get(&keys[i as usize]).map(|cr| (i, *cr)))
        .collect();
    let others = (0..5u32)
        .filter(|i| !c.contains_key(&keys[*i as usize]))
        .collect();
    (header, members, others)
}

fn signed(i: u32, header: VoteHeader, vote: Vote) -> SignedVote {
    let k = Keypair::testnet(i);
    SignedVote {
        header,
        vote,
        signer: k.public,
        signature: k.sign(&vote_digest(&header, &vote)),
    }
}

#[test]
#[allow(
    clippy::too_many_lines,
    reason = "one case per rejection reason, each with its assertion"
)]
fn crafted_invalid_votes_are_rejected_with_their_reason() {
    let f = fixture_cached();
    let (header, members, others) = validation_setup(f);
    let (m, _) = members[0];
    let v = Vote::Valid([3; 32]);
    let case = |msg: Message, want: &str| {
        let mut node = f.node.clone();
        let out = feed(&mut node, f.now, msg.to_bytes());
        let r = rejected(&out).unwrap_or_else(|| panic!("not rejected ({want}): {out:?}"));
        assert!(r.contains(want), "reason {r:?} lacks {want:?}");
    };
    case(
        Message::Validation(signed(m, header, Vote::NoQuorum)),
        "STEP-VAL-2",
    );
    if let Some(&o) = others.first() {
        case(Message::Validation(signed(o, header, v)), "TALLY-2");
    }
    let mut forged = signed(m, header, v);
    forged.vote = Vote::Valid([4; 32]);
    case(Message::Validation(forged), "signature");
    let wrong_parent = VoteHeader {
        prev_hash: [0xEE; 32],
        ..header
    };
    case(
        Message::Validation(signed(m, wrong_parent, v)),
        "another parent",
    );
    let wrong_step = VoteHeader {
        step: VoteStep::Ratification,
        ..header
    };
    case(
        Message::Validation(signed(m, wrong_step, v)),
        "another step",
    );
    let beyond = VoteHeader {
        iteration: 250,
        ..header
    };
    case(Message::Validation(signed(m, beyond, v)), "MAX_ITER");
    // A Ratification vote whose attached Validation quorum is not one.
    let rh = VoteHeader {
        step: VoteStep::Ratification,
        ..header
    };
    let rat_signer = (0..5u32)
        .find(|i| {
            let mut node = f.node.clone();
            let out = feed(
                &mut node,
                f.now,
                Message::Ratification {
                    vote: signed(*i, rh, Vote::NoQuorum),
                    validation: StepVotes::EMPTY,
                }
                .to_bytes(),
            );
            rejected(&out).is_none()
        })
        .expect("some provisioner sits in the Ratification committee");
    case(
        Message::Ratification {
            vote: signed(rat_signer, rh, v),
            validation: StepVotes {
                bitset: u64::MAX,
                aggregate: signed(m, header, v).signature,
            },
        },
        "beyond the committee",
    );
    case(
        Message::Ratification {
            vote: signed(rat_signer, rh, v),
            validation: StepVotes {
                bitset: 1,
                aggregate: signed(m, header, v).signature,
            },
        },
        "quorum",
    );
    case(
        Message::Ratification {
            vote: signed(rat_signer, rh, Vote::NoQuorum),
            validation: StepVotes {
                bitset: 0,
                aggregate: signed(m, header, v).signature,
            },
        },
        "empty validation votes",
    );
}

#[test]
fn blocks_with_broken_attestations_are_rejected() {
    let f = fixture_cached();
    // A node still at genesis is offered block 1, broken in several ways, then intact.
    let mut fresh = Sim::new(5, params(15), 4 * DUSK, &[]).node(0).clone();
    settle(&mut fresh, f.now);
    let b = f.node.block(1).unwrap().clone();
    let mut weak = b.clone();
    weak.attestation.ratification.bitset &= weak.attestation.ratification.bitset - 1;
    let mut wrong = b.clone();
    wrong.attestation.validation.aggregate = b.attestation.ratification.aggregate;
    let mut retimed = b.clone();
    retimed.candidate.header.timestamp += 1;
    let mut failed = b.clone();
    failed.attestation.result = sa_node::message::Outcome::Fail(Vote::NoCandidate);
    for (bad, what) in [
        (weak, "credits"),
        (wrong, "StepVotes"),
        (retimed, "candidate signature"),
        (failed, "not a Success"),
    ] {
        let out = feed(&mut fresh, f.now, Message::Block(Box::new(bad)).to_bytes());
        let r = rejected(&out).unwrap_or_else(|| panic!("accepted a broken block: {out:?}"));
        assert!(r.contains(what), "{r}");
        assert_eq!(fresh.tip_height(), 0);
    }
    // The intact block is accepted: the rejections above were about the damage.
    feed(&mut fresh, f.now, Message::Block(Box::new(b)).to_bytes());
    assert_eq!(fresh.tip_height(), 1);
}

#[test]
fn a_second_different_vote_is_a_fault_proof() {
    let f = fixture_cached();
    let (header, members, _) = validation_setup(f);
    // A member whose own vote the node has not heard yet (the first vote must be its first).
    let (m, mut node) = members
        .iter()
        .find_map(|&(m, _)| {
            let mut node = f.node.clone();
            let a = feed(
                &mut node,
                f.now,
                Message::Validation(signed(m, header, Vote::Valid([5; 32]))).to_bytes(),
            );
            let fresh = rejected(&a).is_none() && !a.iter().any(|o| matches!(o, Output::Fault(_)));
            fresh.then_some((m, node))
        })
        .expect("a member the node has not heard from");
    let b = feed(
        &mut node,
        f.now,
        Message::Validation(signed(m, header, Vote::NoCandidate)).to_bytes(),
    );
    let fault = b.iter().find_map(|o| match o {
        Output::Fault(p) => Some(p.clone()),
        _ => None,
    });
    let p = fault.expect("TALLY-3: a fault proof");
    assert_eq!(p.subject().0, Keypair::testnet(m).public);
    // The same vote again is a duplicate: nothing happens.
    let c = feed(
        &mut node,
        f.now,
        Message::Validation(signed(m, header, Vote::NoCandidate)).to_bytes(),
    );
    assert!(c.iter().all(|o| !matches!(o, Output::Fault(_))));
}

#[test]
fn oversized_sequences_and_trailing_bytes_are_rejected_by_name() {
    let f = fixture_cached();
    let mut node = f.node.clone();
    let mut b = f.corpus[0].clone();
    b.push(0);
    let r = rejected(&feed(&mut node, f.now, b)).expect("trailing byte rejected");
    assert!(r.contains("trailing"), "{r}");
    // A candidate claiming 2^32 − 1 payload transactions.
    let mut c = vec![0u8];
    c.extend(vec![0u8; 8 + 32 + 1 + 8 + 96 + 48 + 32 + 32 + 32]);
    c.extend(0u32.to_le_bytes()); // failed_iterations: none
    c.push(0); // prev_attestation: none
    c.extend(u32::MAX.to_le_bytes());
    let r = rejected(&feed(&mut node, f.now, c)).expect("huge count rejected");
    assert!(r.contains("exceed the limit"), "{r}");
}

#[test]
fn a_rejected_vote_for_a_later_iteration_changes_nothing() {
    // The draw of an iteration the node has not reached yet must not be stored on behalf of
    // a vote that is then rejected (`feed` compares the whole node).
    let f = fixture_cached();
    let (header, members, _) = validation_setup(f);
    let (m, _) = members[0];
    let later = VoteHeader {
        iteration: header.iteration + 2,
        ..header
    };
    let mut forged = signed(m, later, Vote::Valid([3; 32]));
    forged.signature = signed(m, header, Vote::NoCandidate).signature;
    let mut node = f.node.clone();
    let out = feed(&mut node, f.now, Message::Validation(forged).to_bytes());
    let r = rejected(&out).expect("rejected");
    assert!(r.contains("signature") || r.contains("TALLY-2"), "{r}");
}

/// A deterministic campaign of mutated votes *of the node's current round and iteration*
/// (the random corpus above is mostly dropped as late before validation): every rejection
/// leaves the node unchanged, and the counts show which checks were reached.
#[test]
fn mutated_current_round_votes_reach_every_vote_check() {
    let f = fixture_cached();
    let (header, members, others) = validation_setup(f);
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let cases = 2_000;
    for _ in 0..cases {
        let who = if next() % 4 == 0 && !others.is_empty() {
            others[next() as usize % others.len()]
        } else {
            members[next() as usize % members.len()].0
        };
        let vote = match next() % 4 {
            0 => Vote::NoCandidate,
            1 => Vote::NoQuorum,
            2 => Vote::Invalid([next() as u8; 32]),
            _ => Vote::Valid([next() as u8; 32]),
        };
        let mut v = signed(who, header, vote);
        match next() % 5 {
            0 => v.signature.0[next() as usize % 48] ^= 1 << (next() % 8),
            1 => v.vote = Vote::Valid([0xAB; 32]),
            2 => v.header.prev_hash[next() as usize % 32] ^= 1,
            _ => {}
        }
        let mut node = f.node.clone();
        let out = feed(&mut node, f.now, Message::Validation(v).to_bytes());
        let key = match rejected(&out) {
            Some(r) if r.contains("signature") => "signature",
            Some(r) if r.contains("TALLY-2") => "not a member (TALLY-2)",
            Some(r) if r.contains("STEP-VAL-2") => "NoQuorum in Validation (STEP-VAL-2)",
            Some(r) if r.contains("another parent") => "another parent",
            Some(r) => panic!("unexpected reason {r}"),
            None => "accepted",
        };
        *counts.entry(key.to_string()).or_default() += 1;
    }
    println!("{cases} mutated current-round votes: {counts:?}");
    for reason in [
        "signature",
        "NoQuorum in Validation (STEP-VAL-2)",
        "another parent",
        "accepted",
    ] {
        assert!(
            counts.get(reason).copied().unwrap_or(0) > 0,
            "{reason} never reached: {counts:?}"
        );
    }
    if !others.is_empty() {
        assert!(counts.contains_key("not a member (TALLY-2)"), "{counts:?}");
    }
}
