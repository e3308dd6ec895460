//! The durable log: round trip, fsynced appends survive reopening; a torn tail (an append that
//! never finished: every cut point, zero-filled tails) is copied aside and cut off; every other
//! kind of damage is reported with its record index and offset instead of being used, and the
//! file is left as it was; the log is locked while open.

use sa_node::keys::{Keypair, Signature};
use sa_node::message::{SignedVote, VoteHeader};
use sa_node::storage::{frame, parse, Log, Record, StorageError, MAGIC};
use sa_node::tally::{Vote, VoteStep};

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
    drop(log);
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

/// Frame boundaries of [`image`]: the end of the magic, then the end of each frame.
fn boundaries() -> Vec<usize> {
    let mut b = vec![MAGIC.len()];
    for r in records() {
        let last = *b.last().unwrap();
        b.push(last + frame(&r).len());
    }
    b
}

fn open_image(bytes: &[u8]) -> (tempfile::TempDir, Result<(Log, Vec<Record>), StorageError>) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("node.log"), bytes).unwrap();
    let r = Log::open(dir.path());
    (dir, r)
}

#[test]
fn every_cut_of_an_unfinished_append_is_repaired_and_the_log_goes_on() {
    let img = image();
    let bounds = boundaries();
    let mut repaired = 0;
    for n in MAGIC.len()..=img.len() {
        let (dir, r) = open_image(&img[..n]);
        let (mut log, back) = r.unwrap_or_else(|e| panic!("cut at {n}: {e}"));
        // The complete frames before the cut are kept, in order.
        let k = bounds.iter().rposition(|b| *b <= n).unwrap();
        assert_eq!(back, records()[..k].to_vec(), "cut at {n}");
        let on_disk = std::fs::read(dir.path().join("node.log")).unwrap();
        assert_eq!(on_disk, img[..bounds[k]].to_vec(), "cut at {n}");
        match log.repaired() {
            None => assert_eq!(n, bounds[k], "only a boundary needs no repair"),
            Some(rep) => {
                repaired += 1;
                assert_eq!(rep.kept as usize, bounds[k]);
                assert_eq!(rep.discarded as usize, n - bounds[k]);
                // The torn tail (only the tail) is kept for the operator.
                let aside = rep.saved_as.as_ref().expect("saved");
                assert_eq!(std::fs::read(aside).unwrap(), img[bounds[k]..n].to_vec());
                assert!(rep.reason.contains("truncated"), "{}", rep.reason);
            }
        }
        // Appends continue on the repaired log.
        log.append(&Record::Reverted { to_height: 5 }).unwrap();
        drop(log);
        let (_, again) = Log::open(dir.path()).unwrap();
        assert_eq!(again.len(), k + 1);
    }
    assert_eq!(repaired, img.len() - MAGIC.len() + 1 - bounds.len());
}

#[test]
fn a_zero_filled_tail_is_repaired() {
    // The file grew but the data never reached the disk: zeros where a frame should be.
    for zeros in [1usize, 35, 36, 37, 512, 4096] {
        let mut img = image();
        img.extend(vec![0u8; zeros]);
        let (_dir, r) = open_image(&img);
        let (log, back) = r.unwrap_or_else(|e| panic!("{zeros} zeros: {e}"));
        assert_eq!(back, records());
        assert_eq!(log.repaired().unwrap().discarded as usize, zeros);
    }
}

#[test]
fn damage_other_than_a_torn_tail_is_fatal_and_leaves_the_file_as_it_was() {
    let img = image();
    let bounds = boundaries();
    let last = bounds[bounds.len() - 2];
    let mut fatal = 0;
    for i in MAGIC.len()..img.len() {
        let mut bad = img.clone();
        bad[i] ^= 0x01;
        let (dir, r) = open_image(&bad);
        match r {
            Err(e) => {
                fatal += 1;
                assert!(e.to_string().contains("node.log"), "{e}");
                assert!(!matches!(e, StorageError::Locked { .. }));
                let on_disk = std::fs::read(dir.path().join("node.log")).unwrap();
                assert_eq!(on_disk, bad, "flip at {i}: the file must be untouched");
                assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
            }
            Ok((log, back)) => {
                // Only a flip in the last frame's length that makes it claim more bytes than
                // the file holds reads as an unfinished append (spec/encoding.md says so).
                assert!((last..last + 4).contains(&i), "flip at {i} repaired");
                assert_eq!(back, records()[..records().len() - 1].to_vec());
                assert!(log.repaired().is_some());
            }
        }
    }
    // Every flip outside the last frame's length field is fatal.
    assert!(fatal >= img.len() - MAGIC.len() - 4, "{fatal}");
}

#[test]
fn an_empty_or_partly_written_magic_starts_a_new_log_and_other_bytes_do_not() {
    for prefix in [&b""[..], &MAGIC[..1], &MAGIC[..7]] {
        let (dir, r) = open_image(prefix);
        let (_, back) = r.unwrap();
        assert!(back.is_empty());
        assert_eq!(std::fs::read(dir.path().join("node.log")).unwrap(), MAGIC);
    }
    let (dir, r) = open_image(b"SALOG00");
    assert!(r.is_ok(), "7 bytes of the magic");
    drop(dir);
    let (dir, r) = open_image(b"NOTALOG!xyz");
    assert!(matches!(r, Err(StorageError::BadMagic { .. })));
    assert_eq!(
        std::fs::read(dir.path().join("node.log")).unwrap(),
        b"NOTALOG!xyz"
    );
}

#[test]
fn a_second_open_is_refused_while_the_log_is_held() {
    let dir = tempfile::tempdir().unwrap();
    let (first, _) = Log::open(dir.path()).unwrap();
    let e = Log::open(dir.path()).map(|_| ()).unwrap_err();
    assert!(matches!(e, StorageError::Locked { .. }), "{e}");
    assert!(e.to_string().contains("in use by another process"), "{e}");
    drop(first);
    assert!(Log::open(dir.path()).is_ok());
}

#[test]
fn a_new_data_dir_is_created_with_its_parents() {
    let dir = tempfile::tempdir().unwrap();
    let nested = dir.path().join("a").join("b");
    let (mut log, back) = Log::open(&nested).unwrap();
    assert!(back.is_empty());
    log.append(&Record::Reverted { to_height: 1 }).unwrap();
    drop(log);
    assert_eq!(Log::open(&nested).unwrap().1.len(), 1);
}
