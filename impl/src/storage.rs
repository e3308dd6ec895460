//! Durable storage: an append-only log of records, each framed with its length and a
//! BLAKE2b-256 checksum and fsynced before the node sends or acts on it (spec/encoding.md
//! "Storage"). Opening the log verifies every record; a truncated or corrupt log is reported
//! with the record index and byte offset, never used silently.

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

/// Parses a whole log image; `path` only names the file in errors.
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<Record>, StorageError> {
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
        let truncated = |problem: String| StorageError::Truncated {
            path: path.to_path_buf(),
            index,
            offset,
            problem,
        };
        if bytes.len() - pos < 36 {
            return Err(truncated(format!(
                "frame header needs 36 bytes, {} left",
                bytes.len() - pos
            )));
        }
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        let sum = &bytes[pos + 4..pos + 36];
        let start = pos + 36;
        if bytes.len() - start < len {
            return Err(truncated(format!(
                "payload needs {len} bytes, {} left",
                bytes.len() - start
            )));
        }
        let payload = &bytes[start..start + len];
        if checksum(payload) != sum {
            return Err(StorageError::Checksum {
                path: path.to_path_buf(),
                index,
                offset,
            });
        }
        let record =
            decode::<Record>(payload, "Record").map_err(|source| StorageError::Decode {
                path: path.to_path_buf(),
                index,
                offset,
                source,
            })?;
        records.push(record);
        pos = start + len;
    }
    Ok(records)
}

/// An open log, appended to with [`Log::append`].
pub struct Log {
    path: PathBuf,
    file: File,
}

impl Log {
    /// Opens (or creates) the log in `dir` and returns every record in it, verified.
    pub fn open(dir: &Path) -> Result<(Log, Vec<Record>), StorageError> {
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| StorageError::Io { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let path = dir.join("node.log");
        let exists = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(io(&path))?;
        let records = if exists {
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).map_err(io(&path))?;
            parse(&path, &bytes)?
        } else {
            file.write_all(MAGIC).map_err(io(&path))?;
            file.sync_all().map_err(io(&path))?;
            File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
            Vec::new()
        };
        Ok((Log { path, file }, records))
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
