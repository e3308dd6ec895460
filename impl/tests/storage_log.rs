//! The durable log: round trip, fsynced appends survive reopening, and every kind of damage is
//! reported with its record index and offset instead of being used.

use sa_node::crypto::{Keypair, Signature};
use sa_node::message::{SignedVote, VoteHeader};
use sa_node::storage::{frame, parse, Log, Record, StorageError, MAGIC};
use sa_node::votes::{Vote, VoteStep};

fn vote(round: u64, v: Vote) -> Record {
    let k = Keypair::testnet(0);
    let header = VoteHeader {
        prev_hash: [7; 32],
        round,
        iteration: 1,
        step: VoteStep::Validation,
    };
    Record::Voted(SignedVote {
        header,
        vote: v,
        signer: k.public,
        signature: Signature([1; 48]),
    })
}

fn records() -> Vec<Record> {
    vec![
        vote(1, Vote::NoCandidate),
        vote(2, Vote::Valid([9; 32])),
        Record::Reverted { to_height: 3 },
    ]
}

#[test]
fn appended_records_are_read_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    {
        let (mut log, old) = Log::open(dir.path()).unwrap();
        assert!(old.is_empty());
        for r in records() {
            log.append(&r).unwrap();
        }
    }
    let (mut log, back) = Log::open(dir.path()).unwrap();
    assert_eq!(back, records());
    log.append(&Record::Reverted { to_height: 9 }).unwrap();
    let (_, back) = Log::open(dir.path()).unwrap();
    assert_eq!(back.len(), 4);
}

fn image() -> Vec<u8> {
    let mut b = MAGIC.to_vec();
    for r in records() {
        b.extend(frame(&r));
    }
    b
}

#[test]
fn every_flipped_byte_is_detected() {
    let img = image();
    let p = std::path::Path::new("node.log");
    assert_eq!(parse(p, &img).unwrap(), records());
    for i in 0..img.len() {
        let mut bad = img.clone();
        bad[i] ^= 0x01;
        let e = parse(p, &bad).expect_err(&format!("flip at byte {i} went unnoticed"));
        let msg = e.to_string();
        assert!(msg.starts_with("node.log"), "{msg}");
    }
}

#[test]
fn every_truncation_is_detected_except_at_frame_boundaries() {
    let img = image();
    let p = std::path::Path::new("node.log");
    let mut boundaries = vec![MAGIC.len()];
    for r in records() {
        let last = *boundaries.last().unwrap();
        boundaries.push(last + frame(&r).len());
    }
    for n in 0..img.len() {
        match parse(p, &img[..n]) {
            Ok(rs) => {
                let k = boundaries
                    .iter()
                    .position(|b| *b == n)
                    .expect("only at a boundary");
                assert_eq!(rs, records()[..k].to_vec());
            }
            Err(StorageError::BadMagic { .. }) => assert!(n < MAGIC.len()),
            Err(StorageError::Truncated { index, offset, .. }) => {
                assert!(!boundaries.contains(&n));
                assert_eq!(offset as usize, boundaries[index]);
            }
            Err(e) => panic!("truncation at {n} reported as {e}"),
        }
    }
}

#[test]
fn a_valid_checksum_over_garbage_is_a_decode_error() {
    // A frame whose checksum is right but whose payload is not a record.
    let mut img = MAGIC.to_vec();
    let payload = [9u8, 9, 9];
    img.extend((payload.len() as u32).to_le_bytes());
    img.extend(sa_node::hash::blake2b256(&[
        b"SA-LOG-V1",
        &(payload.len() as u32).to_le_bytes(),
        &payload,
    ]));
    img.extend(payload);
    let e = parse(std::path::Path::new("x"), &img).unwrap_err();
    assert!(matches!(e, StorageError::Decode { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("unknown record tag 9"), "{e}");
}
