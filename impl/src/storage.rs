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
    /// An earlier append failed: the log takes no more (the node must restart from what is
    /// durable).
    #[error("{path}: an earlier append failed ({first}); no record is appended after it")]
    Failed {
        /// The file.
        path: PathBuf,
        /// The first failure.
        first: String,
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

/// Bytes [`contains_frame`] may hash for a tail of `n` bytes: linear in `n`.
fn hash_budget(n: usize) -> usize {
    2 * n + (1 << 20)
}

/// Whether a complete, checksummed frame may start anywhere in `bytes`: Some(true) if one
/// does, Some(false) if none does, None when telling would hash more than [`hash_budget`]
/// (a tail crafted so that every position declares a long frame): the scan is linear in the
/// tail, and an undecided tail is not repaired.
fn contains_frame(bytes: &[u8]) -> Option<bool> {
    let mut budget = hash_budget(bytes.len());
    for p in 0..bytes.len().saturating_sub(35) {
        let len = u32::from_le_bytes(bytes[p..p + 4].try_into().unwrap_or([0xff; 4])) as usize;
        let start = p + 36;
        if len > bytes.len() - start {
            continue;
        }
        budget = budget.checked_sub(len + 64)?;
        if checksum(&bytes[start..start + len]) == bytes[p + 4..start] {
            return Some(true);
        }
    }
    Some(false)
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
                && (tail.iter().all(|&b| b == 0)
                    || (cut_short && contains_frame(&tail[1..]) == Some(false)));
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
    /// Where the torn tail was copied before the cut (`node.log.torn-at-OFFSET`, the offset
    /// it stood at), unless the copy could not be written.
    pub saved_as: Option<PathBuf>,
    /// Why the tail could not be copied aside (it is then lost), if it could not.
    pub not_saved: Option<String>,
    /// Why the tail was not a record.
    pub reason: String,
}

/// What the log needs of its file: the real one ([`FileDisk`]) or one that injects faults
/// (sa-testkit's `disk::SimDisk`: a full disk, fsync errors, torn and corrupted writes).
pub trait Disk: Send {
    /// Every byte of the file.
    fn read_all(&mut self) -> std::io::Result<Vec<u8>>;
    /// Appends `bytes`; durable only once [`Disk::sync`] returns.
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    /// Makes what was written durable.
    fn sync(&mut self) -> std::io::Result<()>;
    /// Cuts the file to `len` bytes (durable once [`Disk::sync`] returns).
    fn truncate(&mut self, len: u64) -> std::io::Result<()>;
    /// Keeps `bytes` aside under `name` (a torn tail), durably; returns where.
    fn set_aside(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf>;
}

/// The log's file on the real disk, locked while open.
pub struct FileDisk {
    file: File,
    dir: PathBuf,
}

impl Disk for FileDisk {
    fn read_all(&mut self) -> std::io::Result<Vec<u8>> {
        use std::io::Seek;
        let mut bytes = Vec::new();
        self.file.seek(std::io::SeekFrom::Start(0))?;
        self.file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.file.write_all(bytes)
    }
    fn sync(&mut self) -> std::io::Result<()> {
        self.file.sync_data()
    }
    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.file.set_len(len)?;
        self.file.sync_all()
    }
    fn set_aside(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.dir.join(name);
        let written = File::create(&path).and_then(|mut copy| {
            copy.write_all(bytes)?;
            copy.sync_all()
        });
        if let Err(e) = written.and_then(|()| File::open(&self.dir)?.sync_all()) {
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        Ok(path)
    }
}

/// An open log, appended to with [`Log::append`]. On the real disk it holds an exclusive
/// lock on the file. After an append fails (a full disk, an fsync error) the log refuses
/// every later append: what the failed fsync left in the page cache cannot be trusted, so the
/// node must stop (and restart from what is durable) rather than go on.
pub struct Log {
    path: PathBuf,
    disk: Box<dyn Disk>,
    repair: Option<Repair>,
    failed: Option<String>,
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
        let file = OpenOptions::new()
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
        let fresh = file.metadata().map(|m| m.len() == 0).unwrap_or(false);
        let opened = Log::open_on(
            &path,
            Box::new(FileDisk {
                file,
                dir: dir.to_path_buf(),
            }),
        )?;
        if fresh {
            // The new file's entry must survive a crash.
            sync_dir(dir)?;
        }
        Ok(opened)
    }

    /// Opens the log kept on `disk` (`path` names it in errors) and returns every record in
    /// it, verified, as [`Log::open`] does.
    pub fn open_on(
        path: &Path,
        mut disk: Box<dyn Disk>,
    ) -> Result<(Log, Vec<Record>), StorageError> {
        let io = io_err(path);
        let bytes = disk.read_all().map_err(&io)?;
        let mut log = Log {
            path: path.to_path_buf(),
            disk,
            repair: None,
            failed: None,
        };
        if bytes.len() < MAGIC.len() && MAGIC.starts_with(&bytes) {
            // Never written past (part of) the magic: nothing was ever recorded.
            log.disk.truncate(0).map_err(&io)?;
            log.disk.write(MAGIC).map_err(&io)?;
            log.disk.sync().map_err(&io)?;
            return Ok((log, Vec::new()));
        }
        let scan = scan(path, &bytes)?;
        if let Some(torn) = scan.torn {
            log.repair = Some(log.cut(&bytes, torn)?);
        }
        Ok((log, scan.records))
    }

    /// Sets the torn tail aside (only the tail: the log before it stays in place), then cuts
    /// it off durably. A tail that cannot be set aside (a full disk) does not stop the repair,
    /// which needs no space: the tail is then lost and the repair says so.
    fn cut(&mut self, bytes: &[u8], torn: TornTail) -> Result<Repair, StorageError> {
        let tail = &bytes[usize::try_from(torn.valid_len).unwrap_or(bytes.len())..];
        let saved = self
            .disk
            .set_aside(&format!("node.log.torn-at-{}", torn.valid_len), tail);
        self.disk
            .truncate(torn.valid_len)
            .map_err(io_err(&self.path))?;
        Ok(Repair {
            discarded: tail.len() as u64,
            kept: torn.valid_len,
            not_saved: saved.as_ref().err().map(ToString::to_string),
            saved_as: saved.ok(),
            reason: torn.error.to_string(),
        })
    }

    /// What opening repaired, if anything.
    pub fn repaired(&self) -> Option<&Repair> {
        self.repair.as_ref()
    }

    /// Appends one record and fsyncs it: when this returns Ok, the record survives a crash.
    /// After a failed append every later one fails too ([`StorageError::Failed`]).
    pub fn append(&mut self, record: &Record) -> Result<(), StorageError> {
        if let Some(first) = &self.failed {
            return Err(StorageError::Failed {
                path: self.path.clone(),
                first: first.clone(),
            });
        }
        let done = self
            .disk
            .write(&frame(record))
            .and_then(|()| self.disk.sync());
        done.map_err(|source| {
            self.failed = Some(source.to_string());
            StorageError::Io {
                path: self.path.clone(),
                source,
            }
        })
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tail crafted so that a quarter of its positions declare a frame of about 192 KiB: the
    /// search for a later frame gives up within its linear budget instead of hashing ~12 GB,
    /// and such a tail is not repaired; an honest torn tail of the same size is.
    #[test]
    fn the_search_for_a_later_frame_is_linear() {
        let crafted: Vec<u8> = [0u8, 0, 3, 0].repeat(64 * 1024);
        assert_eq!(contains_frame(&crafted), None);
        let mut img = MAGIC.to_vec();
        img.extend_from_slice(&(1u32 << 30).to_le_bytes());
        img.extend_from_slice(&[0u8; 32]);
        img.extend_from_slice(&crafted);
        let r = scan(Path::new("node.log"), &img);
        assert!(matches!(r, Err(StorageError::Truncated { .. })), "{r:?}");
        // An honest torn tail: a frame cut short, random-looking bytes.
        let honest: Vec<u8> = (0..crafted.len() as u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        assert_eq!(contains_frame(&honest), Some(false));
        // And a real frame after the start is found.
        let mut with_frame = honest[..1000].to_vec();
        with_frame.extend(frame(&Record::Reverted { to_height: 3 }));
        assert_eq!(contains_frame(&with_frame), Some(true));
    }
}
