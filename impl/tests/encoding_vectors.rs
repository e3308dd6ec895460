//! The worked examples of spec/encoding.md, checked byte for byte: if one of these fails, the
//! encoding changed and the spec (and every stored log and peer) disagrees with the code.

use sa_node::encoding::{decode, encode};
use sa_node::keys::{to_hex, Keypair};
use sa_node::message::{
    faults_root, merkle_root, vote_digest, Message, SignedVote, StepVotes, VoteHeader,
};
use sa_node::storage::{frame, Record};
use sa_node::tally::{Vote, VoteStep};

fn hex(s: &str) -> Vec<u8> {
    assert_eq!(s.len() % 2, 0);
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex"))
        .collect()
}

/// The example header: prev_hash 00 01 … 1f, round 7, iteration 2, Validation.
fn header() -> VoteHeader {
    let mut prev_hash = [0u8; 32];
    for (i, b) in prev_hash.iter_mut().enumerate() {
        *b = i as u8;
    }
    VoteHeader {
        prev_hash,
        round: 7,
        iteration: 2,
        step: VoteStep::Validation,
    }
}

const HEADER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\
                      0700000000000000\
                      02\
                      01";
const VOTE: &str = "01abababababababababababababababababababababababababababababababab";
const DIGEST: &str = "6e5180eae80e4d443e41fc8464ca063a83297ddc79fa045b2f5b727eae7b4883";
const KEY_SEED_0: &str = "e60deecb03a0d568f2142c5b73aac9b70edf1c8aa58a382a6aa12526f792d92a";
const PUBLIC_KEY_0: &str = "b8bc63c0c358ee135a08b5de144613c659c02ad727b1f81fba4afd60aeb42acd\
                            129ed004695e37f99a066bf94a41a38203bf3a80cef136ebf24c01d0dd49484a\
                            1beac0504a249ad7946c62846cf485506bd052f736f200c2a04db0250988944d";
const SIGNATURE: &str = "a19e61afc666441ac59db89704a4bec15f9cef9b3fca87c5\
                         485e94b08c7f3860abff7d2b0071be94f05dd6d3707da1ed";

#[test]
fn vote_header_and_vote() {
    assert_eq!(to_hex(&encode(&header())), HEADER);
    assert_eq!(encode(&header()).len(), 42);
    let vote = Vote::Valid([0xab; 32]);
    assert_eq!(to_hex(&encode(&vote)), VOTE);
    assert_eq!(to_hex(&encode(&Vote::NoCandidate)), "00");
    assert_eq!(to_hex(&encode(&Vote::Invalid([0xab; 32])))[..2], *"02");
    assert_eq!(to_hex(&encode(&Vote::NoQuorum)), "03");
    let ratification = VoteHeader {
        step: VoteStep::Ratification,
        ..header()
    };
    assert_eq!(to_hex(&encode(&ratification))[82..], *"02");
    assert_eq!(
        decode::<VoteHeader>(&hex(HEADER), "VoteHeader"),
        Ok(header())
    );
    assert_eq!(decode::<Vote>(&hex(VOTE), "Vote"), Ok(vote));
}

#[test]
fn vote_digest_key_and_signature() {
    let vote = Vote::Valid([0xab; 32]);
    let digest = vote_digest(&header(), &vote);
    assert_eq!(to_hex(&digest), DIGEST);
    assert_eq!(to_hex(&Keypair::testnet_seed(0)), KEY_SEED_0);
    let k = Keypair::testnet(0);
    assert_eq!(to_hex(&k.public.0), PUBLIC_KEY_0);
    // BLS signing is deterministic: the same key and digest give the same 48 bytes.
    let sig = k.sign(&digest);
    assert_eq!(to_hex(&sig.0), SIGNATURE);
    let mut ring = sa_node::keys::KeyRing::default();
    ring.insert(k.public, &k.proof_of_possession())
        .expect("valid key");
    assert_eq!(ring.verify(&k.public, &digest, &sig), Ok(()));
}

#[test]
fn validation_message() {
    let k = Keypair::testnet(0);
    let vote = Vote::Valid([0xab; 32]);
    let signed = SignedVote {
        header: header(),
        vote,
        signer: k.public,
        signature: k.sign(&vote_digest(&header(), &vote)),
    };
    let bytes = Message::Validation(signed).to_bytes();
    let expected = format!("01{HEADER}{VOTE}{PUBLIC_KEY_0}{SIGNATURE}");
    assert_eq!(to_hex(&bytes), expected);
    assert_eq!(bytes.len(), 1 + 42 + 33 + 96 + 48);
    assert_eq!(Message::from_bytes(&bytes), Ok(Message::Validation(signed)));
}

#[test]
fn small_values() {
    assert_eq!(
        to_hex(&Message::GetBlocks { from: 300 }.to_bytes()),
        "042c01000000000000"
    );
    assert_eq!(to_hex(&encode(&StepVotes::EMPTY)), "00".repeat(56));
    assert_eq!(
        to_hex(&merkle_root(&[])),
        "bb30a42c1e62f0afda5f0a4e8a562f7a13a24cea00ee81917b86b89e801314aa"
    );
    assert_eq!(
        to_hex(&faults_root(&[])),
        "95740194a765c5bcbfc8c57f453e6d5542656c062c6c00f50ec9d410ff992eba"
    );
}

#[test]
fn log_frame() {
    // len 9 (LE) ‖ checksum ‖ payload 03 ‖ 5 (u64 LE)
    assert_eq!(
        to_hex(&frame(&Record::Reverted { to_height: 5 })),
        "09000000\
         b3ba2884e4ba7481c17b0bb7d5eeb5ec347fba9bc02bf5d3f2c7a6ad76db5fd6\
         030500000000000000"
    );
}

#[test]
fn strictness() {
    let err = |b: &[u8]| {
        decode::<VoteHeader>(b, "VoteHeader")
            .unwrap_err()
            .to_string()
    };
    let mut bad = hex(HEADER);
    bad[41] = 0;
    assert_eq!(
        err(&bad),
        "malformed VoteHeader.step at byte 41: unknown voting step 0"
    );
    let mut long = hex(HEADER);
    long.push(0);
    assert_eq!(
        err(&long),
        "malformed VoteHeader at byte 42: 1 trailing bytes"
    );
    assert_eq!(
        err(&hex(HEADER)[..40]),
        "malformed VoteHeader.iteration at byte 40: needs 1 bytes, 0 left"
    );
    assert_eq!(
        Message::from_bytes(&hex("06")).unwrap_err().to_string(),
        "malformed Message at byte 0: unknown message tag 6"
    );
    // A candidate whose header is all zeros with no failed iterations, then a payload count
    // above the sequence limit; then an Option tag other than 0/1. A bad tag, bool or count is
    // reported at its own first byte; a missing or extra byte where it was expected.
    let mut c = vec![0u8];
    c.extend([0u8; 289]);
    c.extend(0u32.to_le_bytes());
    c.push(0); // prev_attestation: none
    let mut over = c.clone();
    over.extend(65_537u32.to_le_bytes());
    assert_eq!(
        Message::from_bytes(&over).unwrap_err().to_string(),
        "malformed Candidate.payload at byte 295: 65537 items exceed the limit 65536"
    );
    let mut opt = vec![0u8];
    opt.extend([0u8; 289]);
    opt.extend(1u32.to_le_bytes());
    opt.push(2);
    assert_eq!(
        Message::from_bytes(&opt).unwrap_err().to_string(),
        "malformed Header.failed_iterations at byte 294: option tag must be 0 or 1, found 2"
    );
}

/// The verification memo the conformance replay uses answers exactly as verification does:
/// a signature that verified once passes again, anything else is still checked for real.
#[test]
fn a_memoized_key_ring_still_rejects_what_does_not_verify() {
    let (a, b) = (Keypair::testnet(0), Keypair::testnet(1));
    let mut ring = sa_node::keys::KeyRing::default();
    ring.insert(a.public, &a.proof_of_possession()).unwrap();
    ring.insert(b.public, &b.proof_of_possession()).unwrap();
    let ring = ring.with_memo();
    let clone = ring.clone();
    let digest = [7u8; 32];
    let sig = a.sign(&digest);
    for _ in 0..2 {
        assert_eq!(ring.verify(&a.public, &digest, &sig), Ok(()));
        assert_eq!(clone.verify(&a.public, &digest, &sig), Ok(()));
        // Same signature, another key or another digest: refused, memo or not.
        assert!(ring.verify(&b.public, &digest, &sig).is_err());
        assert!(clone.verify(&a.public, &[8u8; 32], &sig).is_err());
    }
    let agg = sa_node::keys::aggregate(&[sig, b.sign(&digest)]).unwrap();
    for _ in 0..2 {
        assert_eq!(
            ring.verify_aggregate(&[a.public, b.public], &digest, &agg),
            Ok(())
        );
        assert!(ring.verify_aggregate(&[a.public], &digest, &agg).is_err());
        assert!(ring
            .verify_aggregate(&[b.public, b.public], &digest, &agg)
            .is_err());
    }
}

/// A key with a signing memo (the conformance replay's) signs exactly as the plain key, for
/// every digest, the first time and from the memo, in every clone; the memo is per key.
#[test]
fn a_memoized_key_signs_as_the_plain_key() {
    let plain = sa_node::keys::Keypair::testnet(0);
    let memo = sa_node::keys::Keypair::testnet(0).with_memo();
    let other = sa_node::keys::Keypair::testnet(1).with_memo();
    let clone = memo.clone();
    for round in 0..2 {
        for d in 0u8..4 {
            let digest = [d; 32];
            assert_eq!(memo.sign(&digest), plain.sign(&digest), "round {round}");
            assert_eq!(clone.sign(&digest), plain.sign(&digest));
            assert_ne!(other.sign(&digest), plain.sign(&digest));
        }
    }
}
