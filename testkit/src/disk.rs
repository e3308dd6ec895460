//! A simulated disk for sa-node's log ([`sa_node::storage::Disk`]), with faults injected from
//! a seed: a disk that fills up, an fsync that fails (and loses what it should have made
//! durable, as Linux may after an I/O error), a crash that keeps a torn prefix of what was
//! written but not synced or a zero-filled tail of its length, and a bit flipped in bytes that
//! were durable. The campaign of `impl/tests/storage_faults.rs` runs the log on it.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use sa_node::storage::Disk;

/// What survives, what is pending, and the faults planned.
#[derive(Clone, Debug, Default)]
pub struct DiskState {
    /// Bytes a crash keeps for sure.
    pub durable: Vec<u8>,
    /// Bytes written since the last sync (lost, torn or zero-filled by a crash).
    pub pending: Vec<u8>,
    /// Bytes the disk holds at most: a write past it fails (ENOSPC) and writes nothing.
    pub capacity: Option<usize>,
    /// The sync with this number (from 0) fails and drops what was pending.
    pub fail_sync: Option<u64>,
    /// The process is killed during the sync with this number (from 0): the sync never returns
    /// (it returns an error the test takes as the process's death) and what was pending stays
    /// pending, for [`SimDisk::crash`] to lose, tear or zero-fill.
    pub kill_at_sync: Option<u64>,
    /// Syncs so far.
    pub syncs: u64,
    /// What was set aside, by name.
    pub aside: Vec<(String, Vec<u8>)>,
    /// Faults that happened: "full", "fsync", "killed".
    pub hit: Vec<&'static str>,
}

/// How a crash treats the bytes written but not synced.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Crash {
    /// Lost.
    Lost,
    /// The first `n` of them kept (a torn write).
    Torn(usize),
    /// The file kept its length but the data never came: zeros.
    ZeroFilled,
}

/// A disk shared between the log that writes it and the test that crashes it.
#[derive(Clone, Debug, Default)]
pub struct SimDisk(pub Arc<Mutex<DiskState>>);

impl SimDisk {
    /// A disk with `state`.
    pub fn new(state: DiskState) -> SimDisk {
        SimDisk(Arc::new(Mutex::new(state)))
    }

    fn with<T>(&self, f: impl FnOnce(&mut DiskState) -> T) -> T {
        f(&mut self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// The process dies: what was pending is lost, torn or zero-filled.
    pub fn crash(&self, how: Crash) {
        self.with(|d| {
            let pending = std::mem::take(&mut d.pending);
            match how {
                Crash::Lost => {}
                Crash::Torn(n) => d
                    .durable
                    .extend_from_slice(&pending[..n.min(pending.len())]),
                Crash::ZeroFilled => d.durable.extend(std::iter::repeat_n(0u8, pending.len())),
            }
        });
    }

    /// Flips bit `bit` of durable byte `at` (a corrupted sector).
    pub fn flip(&self, at: usize, bit: u8) {
        self.with(|d| {
            if let Some(b) = d.durable.get_mut(at) {
                *b ^= 1 << (bit % 8);
            }
        });
    }

    /// A copy of the state.
    pub fn state(&self) -> DiskState {
        self.with(|d| d.clone())
    }
}

fn error(kind: std::io::ErrorKind, what: &str) -> std::io::Error {
    std::io::Error::new(kind, what.to_string())
}

impl Disk for SimDisk {
    fn read_all(&mut self) -> std::io::Result<Vec<u8>> {
        Ok(self.with(|d| [d.durable.as_slice(), d.pending.as_slice()].concat()))
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.with(|d| {
            if d.capacity
                .is_some_and(|c| d.durable.len() + d.pending.len() + bytes.len() > c)
            {
                d.hit.push("full");
                return Err(error(
                    std::io::ErrorKind::StorageFull,
                    "No space left on device (simulated)",
                ));
            }
            d.pending.extend_from_slice(bytes);
            Ok(())
        })
    }

    fn sync(&mut self) -> std::io::Result<()> {
        self.with(|d| {
            let k = d.syncs;
            d.syncs += 1;
            if d.kill_at_sync == Some(k) {
                d.hit.push("killed");
                return Err(error(
                    std::io::ErrorKind::Interrupted,
                    "killed during fsync (simulated)",
                ));
            }
            if d.fail_sync == Some(k) {
                d.hit.push("fsync");
                d.pending.clear();
                return Err(error(
                    std::io::ErrorKind::Other,
                    "Input/output error (simulated fsync failure)",
                ));
            }
            let pending = std::mem::take(&mut d.pending);
            d.durable.extend(pending);
            Ok(())
        })
    }

    fn truncate(&mut self, len: u64) -> std::io::Result<()> {
        self.with(|d| {
            let mut all = [d.durable.as_slice(), d.pending.as_slice()].concat();
            all.truncate(usize::try_from(len).unwrap_or(usize::MAX));
            d.durable = all;
            d.pending.clear();
            Ok(())
        })
    }

    fn set_aside(&mut self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        self.with(|d| {
            let used: usize = d.durable.len()
                + d.pending.len()
                + d.aside.iter().map(|a| a.1.len()).sum::<usize>();
            if d.capacity.is_some_and(|c| used + bytes.len() > c) {
                d.hit.push("full");
                return Err(error(
                    std::io::ErrorKind::StorageFull,
                    "No space left on device (simulated)",
                ));
            }
            d.aside.push((name.to_string(), bytes.to_vec()));
            Ok(PathBuf::from(name))
        })
    }
}
