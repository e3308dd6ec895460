//! A hostile peer against the core's buffers (spec/node.md, "Bounded buffers"): future-round
//! messages are bounded per peer and in all, and a flood never starves a quieter peer; a block
//! ahead of the tip is checked before it is kept and never replaces another; a replayed vote
//! or candidate is dropped before its signature is checked, and a replayed block before its
//! attestation is.

mod sim;

use sa_node::keys::{Keypair, Signature};
use sa_node::message::{vote_digest, Block, Message, SignedVote, VoteHeader};
use sa_node::node::{Input, Node, Output, Timer};
use sa_node::tally::{Vote, VoteStep};
use sim::{params, Sim};

const DUSK: u64 = 1_000_000_000;

fn settle(node: &mut Node, now: u64) {
    node.handle(
        now,
        Input::Timer(Timer::Propose {
            round: 0,
            iteration: 0,
        }),
    );
}

fn send(node: &mut Node, now: u64, peer: u64, m: &Message) -> Option<String> {
    node.handle(
        now,
        Input::Message {
            peer,
            bytes: m.to_bytes(),
        },
    )
    .into_iter()
    .find_map(|o| match o {
        Output::Rejected { reason, .. } => Some(reason),
        _ => None,
    })
}

/// A vote for round 2 (the node is in round 1): buffered without any check but the window.
fn future_vote(k: u32) -> Message {
    let mut prev = [0u8; 32];
    prev[..4].copy_from_slice(&k.to_le_bytes());
    Message::Validation(SignedVote {
        header: VoteHeader {
            prev_hash: prev,
            round: 2,
            iteration: 0,
            step: VoteStep::Validation,
        },
        vote: Vote::NoCandidate,
        signer: Keypair::testnet(0).public,
        signature: Signature([7; 48]),
    })
}

fn fresh() -> (Node, u64) {
    let s = Sim::new(5, params(15), 4 * DUSK, &[]);
    let mut n = s.node(0).clone();
    settle(&mut n, 1_000);
    (n, 1_000)
}

#[test]
fn a_flood_of_future_messages_fills_only_the_flooders_share() {
    let (mut node, now) = fresh();
    // One peer floods: its quota (1,024 messages) is kept, the rest refused.
    let mut refused = 0;
    for k in 0..1_500 {
        if let Some(r) = send(&mut node, now, 9, &future_vote(k)) {
            assert!(r.contains("this peer's share"), "{r}");
            refused += 1;
        }
    }
    assert_eq!(refused, 1_500 - 1_024);
    // Three more flooders fill the whole buffer (4,096).
    for peer in 10..13 {
        for k in 0..1_024 {
            let m = future_vote(peer as u32 * 10_000 + k);
            assert_eq!(send(&mut node, now, peer, &m), None);
        }
    }
    // A quiet peer still gets in: it takes room from the largest holder.
    for k in 0..100 {
        let m = future_vote(900_000 + k);
        assert_eq!(send(&mut node, now, 20, &m), None, "quiet peer starved");
    }
    // And a flooder that is already at the top cannot push anyone out.
    let r = send(&mut node, now, 9, &future_vote(999_999)).expect("refused");
    assert!(r.contains("share") || r.contains("full"), "{r}");
}

fn chain() -> Vec<Block> {
    let mut s = Sim::new(5, params(15), 4 * DUSK, &[]);
    s.start();
    assert!(s.run_until(120_000, |s| s.min_tip() >= 3));
    (1..=3)
        .map(|h| s.node(0).block(h).unwrap().clone())
        .collect()
}

/// `b` with its timestamp moved and re-signed by its generator: a validly signed block whose
/// attestation no longer fits it.
fn forged(b: &Block, dt: u64) -> Block {
    let mut f = b.clone();
    f.candidate.header.timestamp += dt;
    let g = (0..5)
        .map(Keypair::testnet)
        .find(|k| k.public == b.header().generator)
        .expect("a testnet key");
    f.candidate.signature = g.sign(&f.hash());
    f
}

#[test]
fn a_pending_block_is_checked_and_never_replaced_by_junk() {
    let blocks = chain();
    let (mut node, now) = fresh();
    // Unsigned junk ahead of the tip is refused before it is kept.
    let mut junk = blocks[2].clone();
    junk.candidate.signature = Signature([1; 48]);
    let r = send(&mut node, now, 9, &Message::Block(Box::new(junk))).expect("refused");
    assert!(r.contains("pending block: candidate signature"), "{r}");
    // The honest block 2 first, then signed junk at the same height: both kept, none replaced.
    assert_eq!(
        send(
            &mut node,
            now,
            8,
            &Message::Block(Box::new(blocks[1].clone()))
        ),
        None
    );
    for dt in 1..=3 {
        let m = Message::Block(Box::new(forged(&blocks[1], dt)));
        assert_eq!(send(&mut node, now, 9, &m), None);
    }
    let m = Message::Block(Box::new(forged(&blocks[1], 4)));
    let r = send(&mut node, now, 9, &m).expect("a fifth alternative is refused");
    assert!(r.contains("already has 4 pending blocks"), "{r}");
    // Block 1 arrives: the node accepts it and then the honest block 2, not the junk.
    send(
        &mut node,
        now,
        8,
        &Message::Block(Box::new(blocks[0].clone())),
    );
    assert_eq!(node.tip_height(), 2);
    assert_eq!(node.tip_hash(), blocks[1].hash());
}

/// A fresh node that accepted `blocks[0]` (from peer 8): in round 2.
fn at_height_1(blocks: &[Block]) -> (Node, u64) {
    let (mut node, now) = fresh();
    send(
        &mut node,
        now,
        8,
        &Message::Block(Box::new(blocks[0].clone())),
    );
    assert_eq!(node.tip_height(), 1);
    (node, now)
}

#[test]
fn a_replayed_vote_is_dropped_before_its_signature_is_checked() {
    let blocks = chain();
    let (mut node, now) = at_height_1(&blocks);
    let (round, iteration) = node.position();
    let header = VoteHeader {
        prev_hash: blocks[0].hash(),
        round,
        iteration,
        step: VoteStep::Validation,
    };
    // A member of round 2's iteration-0 Validation committee casts a vote.
    let vote = Vote::NoCandidate;
    let member = (0..5u32)
        .find(|&i| {
            let k = Keypair::testnet(i);
            let v = SignedVote {
                header,
                vote,
                signer: k.public,
                signature: k.sign(&vote_digest(&header, &vote)),
            };
            send(&mut node.clone(), now, 8, &Message::Validation(v)).is_none()
        })
        .expect("a committee member");
    let k = Keypair::testnet(member);
    let good = SignedVote {
        header,
        vote,
        signer: k.public,
        signature: k.sign(&vote_digest(&header, &vote)),
    };
    assert_eq!(send(&mut node, now, 8, &Message::Validation(good)), None);
    // The same vote again with a broken signature: a replay, dropped without a check (a
    // first vote with that signature is refused: the check is there when it matters).
    let before = node.clone();
    let replay = SignedVote {
        signature: Signature([3; 48]),
        ..good
    };
    assert_eq!(send(&mut node, now, 9, &Message::Validation(replay)), None);
    assert!(node == before, "a replay changed the node");
    let r = send(
        &mut before.clone(),
        now,
        9,
        &Message::Validation(SignedVote {
            vote: Vote::Valid([1; 32]),
            ..replay
        }),
    );
    assert!(r.is_some_and(|r| r.contains("signature")));
}

#[test]
fn a_replayed_candidate_is_dropped_before_its_signatures_are_checked() {
    let blocks = chain();
    let (mut node, now) = at_height_1(&blocks);
    // Round 2's candidate, as its generator sent it, if the node is at its iteration.
    let c = blocks[1].candidate.clone();
    assert_eq!(
        node.position().1,
        c.header.iteration,
        "the chain's block 2 is of iteration 0"
    );
    let now = now.max(c.header.timestamp + 1);
    assert_eq!(
        send(&mut node, now, 8, &Message::Candidate(c.clone())),
        None
    );
    // The same candidate with a broken signature: a replay of the one held, dropped unchecked.
    let before = node.clone();
    let replay = sa_node::message::Candidate {
        signature: Signature([3; 48]),
        ..c.clone()
    };
    assert_eq!(
        send(&mut node, now, 9, &Message::Candidate(replay.clone())),
        None
    );
    assert!(node == before, "a replay changed the node");
    // To a node that does not hold it, the same bytes are checked and refused.
    let (mut other, _) = at_height_1(&blocks);
    let r = send(&mut other, now, 9, &Message::Candidate(replay));
    assert!(r.as_ref().is_some_and(|r| r.contains("signature")), "{r:?}");
}

#[test]
fn get_blocks_is_answered_at_most_once_per_peer_per_minimum_timeout() {
    let blocks = chain();
    let (mut node, now) = fresh();
    for b in &blocks {
        send(&mut node, now, 8, &Message::Block(Box::new(b.clone())));
    }
    assert_eq!(node.tip_height(), 3);
    let ask = |node: &mut Node, t: u64, peer: u64| {
        node.handle(
            t,
            Input::Message {
                peer,
                bytes: Message::GetBlocks { from: 1 }.to_bytes(),
            },
        )
    };
    let sent = |outs: &[Output]| {
        outs.iter()
            .filter(|o| matches!(o, Output::Send { .. }))
            .count()
    };
    assert_eq!(sent(&ask(&mut node, now, 9)), 3);
    let again = ask(&mut node, now + 1, 9);
    assert_eq!(sent(&again), 0);
    assert!(again
        .iter()
        .any(|o| matches!(o, Output::Rejected { reason, .. } if reason.contains("rate limit"))));
    assert_eq!(
        sent(&ask(&mut node, now + 1, 10)),
        3,
        "another peer is answered"
    );
    let later = now + node.params().timeout_min_ms;
    assert_eq!(
        sent(&ask(&mut node, later, 9)),
        3,
        "answered again after the minimum timeout"
    );
}

/// A block the node holds, replayed with a broken attestation (what anyone who saw the chain
/// can send without a generator's key): dropped before the attestation's aggregate signature
/// is checked, so it costs the core no pairing (spec/node.md, "What one peer can cost"); a
/// node that does not hold it checks and refuses it.
#[test]
fn a_replayed_block_is_dropped_before_its_attestation_is_checked() {
    let blocks = chain();
    let (mut node, now) = at_height_1(&blocks);
    let mut replay = blocks[0].clone();
    replay.attestation.ratification.aggregate = replay.attestation.validation.aggregate;
    let before = node.clone();
    assert_eq!(
        send(&mut node, now, 9, &Message::Block(Box::new(replay.clone()))),
        None
    );
    assert!(node == before, "a replay changed the node");
    let (mut fresh_node, now) = fresh();
    let r = send(&mut fresh_node, now, 9, &Message::Block(Box::new(replay)));
    assert!(
        r.as_ref().is_some_and(|r| r.contains("does not verify")),
        "{r:?}"
    );
}
