//! Durable storage: an append-only log of records, each framed with its length and a
//! BLAKE2b-256 checksum and fsynced before the node sends or acts on it (spec/encoding.md
//! "Storage"). Opening the log verifies every record. A torn tail — the last frame cut short,
//! or a tail of zero bytes where the file grew but the data never reached the disk — is the
//! trace of an append that never returned, so nothing that depended on it was sent: it is
//! copied aside and cut off (as etcd's WAL repair does). Any other damage (a bad frame that
//! valid frames follow, a complete last frame whose checksum fails, an undecodable record) is
//! reported with the record index and byte offset and the log is not used. The log is locked
//! while open: a second process cannot open it.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::encoding::{decode, encode, DecodeError, Reader, Wire};
use crate::hash::blake2b256;
use crate::message::{Block, Candidate, SignedVote};

/// The first 8 bytes of every log.
pub const MAGIC: &[u8; 8] = b"SALOG001";

/// The longest frame a torn tail may be the start of: the largest record (a block of at most
/// 4 MiB of payload plus its attestation and header) with room to spare. A tail longer than
/// this cannot be one unfinished append.
pub const MAX_TORN_TAIL: usize = 8 << 20;

/// A record of something the node did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // short-lived values; boxing buys nothing
pub enum Record {
    /// A vote it signed (recorded before it is sent).
    Voted(SignedVote),
    /// A candidate it signed as generator (recorded before it is sent).
    Proposed(Box<Candidate>),
    /// A block it accepted (recorded before anything depends on it).
    Accepted(Box<Block>),
    /// A fallback (FORK-1): blocks above this height were dropped.
    Reverted {
        /// The new tip height.
        to_height: u64,
    },
}

impl Wire for Record {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Record::Voted(v) => {
                out.push(0);
                v.put(out);
            }
            Record::Proposed(c) => {
                out.push(1);
                c.put(out);
            }
            Record::Accepted(b) => {
                out.push(2);
                b.put(out);
            }
            Record::Reverted { to_height } => {
                out.push(3);
                to_height.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(Record::Voted(SignedVote::get(r, "Record.Voted")?)),
            1 => Ok(Record::Proposed(Box::new(Candidate::get(
                r,
                "Record.Proposed",
            )?))),
            2 => Ok(Record::Accepted(Box::new(Block::get(
                r,
                "Record.Accepted",
            )?))),
            3 => Ok(Record::Reverted {
                to_height: u64::get(r, "Record.Reverted")?,
            }),
            t => Err(r.bad_value(1, what, format!("unknown record tag {t}"))),
        }
    }
}

/// Why a log cannot be used.
#[derive(Debug, Error)]
pub enum StorageError {
    /// An I/O error.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Not a log of this format.
    #[error("{path}: not an sa-node log (bad magic bytes)")]
    BadMagic {
        /// The file.
        path: PathBuf,
    },
    /// The log ends inside a record.
    #[error("{path}: truncated: record {index} at byte {offset} is incomplete ({problem})")]
    Truncated {
        /// The file.
        path: PathBuf,
        /// Record index.
        index: usize,
        /// Byte offset of its frame.
        offset: u64,
        /// What is missing.
        problem: String,
    },
    /// A record's checksum does not match.
    #[error("{path}: corrupt: checksum mismatch in record {index} at byte {offset}")]
    Checksum {
        /// The file.
        path: PathBuf,
        /// Record index.
        index: usize,
        /// Byte offset of its frame.
        offset: u64,
    },
    /// Another process holds the log open.
    #[error("{path}: in use by another process (the log is locked while a node runs)")]
    Locked {
        /// The file.
        path: PathBuf,
    },
    /// A record's bytes do not decode.
    #[error("{path}: corrupt: record {index} at byte {offset}: {source}")]
    Decode {
        /// The file.
        path: PathBuf,
        /// Record index.
        index: usize,
        /// Byte offset of its frame.
        offset: u64,
        /// The decoding error.
        source: DecodeError,
    },
}

fn checksum(payload: &[u8]) -> [u8; 32] {
    blake2b256(&[b"SA-LOG-V1", &(payload.len() as u32).to_le_bytes(), payload])
}

/// Frame of one record: `len: u32 LE ‖ checksum: 32 bytes ‖ payload`.
pub fn frame(record: &Record) -> Vec<u8> {
    let payload = encode(record);
    let mut out = Vec::with_capacity(36 + payload.len());
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&checksum(&payload));
    out.extend_from_slice(&payload);
    out
}

/// Parses a whole log image; `path` only names the file in errors. Every problem is an error,
/// a torn tail included (see [`scan`] for the repairable reading).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Record>, StorageError> {
    let scan = scan(path, bytes)?;
    match scan.torn {
        None => Ok(scan.records),
        Some(t) => Err(t.error),
    }
}

/// A torn tail found by [`scan`]: where the valid log ends and why the rest is not a record.
#[derive(Debug)]
pub struct TornTail {
    /// Byte length of the valid log (magic and every complete, verified frame before the tail).
    pub valid_len: u64,
    /// What the tail is, as the error a strict reading reports.
    pub error: StorageError,
}

/// What [`scan`] read: the verified records and, if the log ends in a torn tail, that tail.
#[derive(Debug)]
pub struct Scan {
    /// Every record before the tail, verified.
    pub records: Vec<Record>,
    /// The torn tail, if any.
    pub torn: Option<TornTail>,
}

/// True if a complete, checksummed frame starts anywhere in `bytes` (a byte-by-byte search).
fn contains_frame(bytes: &[u8]) -> bool {
    (0..bytes.len().saturating_sub(35)).any(|p| {
        let len = u32::from_le_bytes(bytes[p..p + 4].try_into().unwrap_or([0xff; 4])) as usize;
        let start = p + 36;
        len <= bytes.len() - start && checksum(&bytes[start..start + len]) == bytes[p + 4..start]
    })
}

/// Reads a log image. Damage anywhere but in a torn tail is an error. A torn tail is a frame
/// cut short by the end of the file (header or payload) with no complete frame after its
/// start, or a tail of zero bytes only; in both cases it is at most [`MAX_TORN_TAIL`] long.
pub fn scan(path: &Path, bytes: &[u8]) -> Result<Scan, StorageError> {
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(StorageError::BadMagic {
            path: path.to_path_buf(),
        });
    }
    let mut records = Vec::new();
    let mut pos = MAGIC.len();
    while pos < bytes.len() {
        let index = records.len();
        let offset = pos as u64;
        let tail = &bytes[pos..];
        let torn = |error: StorageError, cut_short: bool| {
            // Cheapest test first: the search for a later frame hashes candidate payloads.
            let repairable = tail.len() <= MAX_TORN_TAIL
                && (tail.iter().all(|&b| b == 0) || (cut_short && !contains_frame(&tail[1..])));
            if repairable {
                Ok(Scan {
                    records: Vec::new(),
                    torn: Some(TornTail {
                        valid_len: offset,
                        error,
                    }),
                })
            } else {
                Err(error)
            }
        };
        let truncated = |problem: String| StorageError::Truncated {
            path: path.to_path_buf(),
            index,
            offset,
            problem,
        };
        if tail.len() < 36 {
            let e = truncated(format!("frame header needs 36 bytes, {} left", tail.len()));
            return torn(e, true).map(|s| Scan { records, ..s });
        }
        let len = u32::from_le_bytes(tail[..4].try_into().unwrap_or([0; 4])) as usize;
        let sum = &tail[4..36];
        if tail.len() - 36 < len {
            let e = truncated(format!(
                "payload needs {len} bytes, {} left",
                tail.len() - 36
            ));
            return torn(e, true).map(|s| Scan { records, ..s });
        }
        let payload = &tail[36..36 + len];
        if checksum(payload) != sum {
            let e = StorageError::Checksum {
                path: path.to_path_buf(),
                index,
                offset,
            };
            return torn(e, false).map(|s| Scan { records, ..s });
        }
        let record =
            decode::<Record>(payload, "Record").map_err(|source| StorageError::Decode {
                path: path.to_path_buf(),
                index,
                offset,
                source,
            })?;
        records.push(record);
        pos += 36 + len;
    }
    Ok(Scan {
        records,
        torn: None,
    })
}

/// What opening a log repaired.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Repair {
    /// Bytes discarded from the end of the log.
    pub discarded: u64,
    /// Length of the log after the repair.
    pub kept: u64,
    /// Where the log as found was copied before the cut.
    pub saved_as: PathBuf,
    /// Why the tail was not a record.
    pub reason: String,
}

/// An open log, appended to with [`Log::append`]. Holds an exclusive lock on the file.
pub struct Log {
    path: PathBuf,
    file: File,
    repair: Option<Repair>,
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> StorageError {
    let path = path.to_path_buf();
    move |source| StorageError::Io {
        path: path.clone(),
        source,
    }
}

/// fsyncs a directory, so that entries created or renamed in it survive a crash.
fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

impl Log {
    /// Opens (or creates) the log in `dir` and returns every record in it, verified. A torn
    /// tail is repaired (see [`Log::repaired`]); an empty or partly written magic — a crash
    /// while the log was being created — starts a new log.
    pub fn open(dir: &Path) -> Result<(Log, Vec<Record>), StorageError> {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(io_err(dir))?;
            // The new directory's entry must survive a crash too.
            if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
                sync_dir(parent)?;
            }
        }
        let path = dir.join("node.log");
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(StorageError::Locked { path });
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(io_err(&path)(e)),
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io_err(&path))?;
        let mut log = Log {
            path: path.clone(),
            file,
            repair: None,
        };
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(&bytes) {
            // Never written past (part of) the magic: nothing was ever recorded.
            log.file.set_len(0).map_err(io_err(&path))?;
            log.file.write_all(MAGIC).map_err(io_err(&path))?;
            log.file.sync_all().map_err(io_err(&path))?;
            sync_dir(dir)?;
            return Ok((log, Vec::new()));
        }
        let scan = scan(&path, &bytes)?;
        if let Some(torn) = scan.torn {
            log.repair = Some(log.cut(dir, &bytes, torn)?);
        }
        Ok((log, scan.records))
    }

    /// Copies the log as found aside, then cuts the torn tail off and fsyncs.
    fn cut(&mut self, dir: &Path, bytes: &[u8], torn: TornTail) -> Result<Repair, StorageError> {
        let saved_as = dir.join(format!("node.log.torn-{}", torn.valid_len));
        let mut copy = File::create(&saved_as).map_err(io_err(&saved_as))?;
        copy.write_all(bytes).map_err(io_err(&saved_as))?;
        copy.sync_all().map_err(io_err(&saved_as))?;
        sync_dir(dir)?;
        self.file
            .set_len(torn.valid_len)
            .map_err(io_err(&self.path))?;
        self.file.sync_all().map_err(io_err(&self.path))?;
        Ok(Repair {
            discarded: bytes.len() as u64 - torn.valid_len,
            kept: torn.valid_len,
            saved_as,
            reason: torn.error.to_string(),
        })
    }

    /// What opening repaired, if anything.
    pub fn repaired(&self) -> Option<&Repair> {
        self.repair.as_ref()
    }

    /// Appends one record and fsyncs it: when this returns, the record survives a crash.
    pub fn append(&mut self, record: &Record) -> Result<(), StorageError> {
        let path = self.path.clone();
        let io = move |source| StorageError::Io { path, source };
        self.file.write_all(&frame(record)).map_err(io.clone())?;
        self.file.sync_data().map_err(io)
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}
