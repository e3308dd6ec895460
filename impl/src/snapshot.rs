//! Snapshots (spec/execution.md EXEC-STATE-2): the state after a Final block, written beside
//! the log so that a restart executes only the blocks after it instead of every block from
//! genesis.
//!
//! File layout: `SA-SNAP-V1` magic, then `len: u64 LE ‖ checksum: 32 bytes ‖ payload`, the
//! payload being the height and hash of the block, the ledgers after its parent and after it
//! (JSON: a few hundred bytes per provisioner) and the application state (balances, nonces,
//! contracts, storages, fees). A file is replaced atomically (written beside, synced,
//! renamed, the directory synced): a crash leaves the old snapshot or the new, never a torn
//! one. A snapshot that does not parse, or whose state does not give the block's state root,
//! is refused with a message naming the file; it is an optimisation, never a source of truth
//! the log cannot check (the block it names must be in the log, and its root must match).

use std::fs::{self, File};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::encoding::{DecodeError, Reader, Wire};
use crate::exec::{AppState, Storage};
use crate::hash::{blake2b256, Hash};
use crate::ledger::Ledger;

/// The first bytes of a snapshot file.
pub const MAGIC: &[u8; 10] = b"SA-SNAP-V1";

/// The state after the Final block at `height`.
#[derive(Clone, Debug, PartialEq)]
pub struct Snapshot {
    /// The block's height (≥ 1).
    pub height: u64,
    /// The block's hash.
    pub hash: Hash,
    /// The ledger after its parent (the committees of its own round need it).
    pub prev_ledger: Ledger,
    /// The ledger after it.
    pub ledger: Ledger,
    /// The application state after it.
    pub app: Arc<AppState>,
}

fn put_len(n: usize, out: &mut Vec<u8>) {
    (n as u64).put(out);
}

fn get_len(r: &mut Reader<'_>, what: &'static str) -> Result<u64, DecodeError> {
    u64::get(r, what)
}

fn put_ledger(l: &Ledger, out: &mut Vec<u8>) {
    serde_json::to_vec(l).unwrap_or_default().put(out);
}

fn get_ledger(r: &mut Reader<'_>, what: &'static str) -> Result<Ledger, DecodeError> {
    let bytes: Vec<u8> = Vec::get(r, what)?;
    serde_json::from_slice(&bytes).map_err(|e| r.bad_value(bytes.len(), what, e.to_string()))
}

fn put_app(app: &AppState, out: &mut Vec<u8>) {
    put_len(app.balances.len(), out);
    for (a, b) in &app.balances {
        a.put(out);
        b.put(out);
    }
    put_len(app.nonces.len(), out);
    for (a, n) in &app.nonces {
        a.put(out);
        n.put(out);
    }
    put_len(app.contracts.len(), out);
    for (id, code) in &app.contracts {
        id.put(out);
        code.as_ref().put(out);
    }
    let ids = app.storage_ids();
    put_len(ids.len(), out);
    for id in ids {
        let st = app.storage(&id);
        id.put(out);
        put_len(st.len(), out);
        for (k, v) in &st {
            k.put(out);
            v.put(out);
        }
    }
    app.fees.put(out);
}

fn get_app(r: &mut Reader<'_>) -> Result<AppState, DecodeError> {
    let mut app = AppState::default();
    for _ in 0..get_len(r, "Snapshot.balances")? {
        let a = <[u8; 32]>::get(r, "Snapshot.balance.address")?;
        app.balances.insert(a, u64::get(r, "Snapshot.balance")?);
    }
    for _ in 0..get_len(r, "Snapshot.nonces")? {
        let a = <[u8; 32]>::get(r, "Snapshot.nonce.address")?;
        app.nonces.insert(a, u64::get(r, "Snapshot.nonce")?);
    }
    for _ in 0..get_len(r, "Snapshot.contracts")? {
        let id = Hash::get(r, "Snapshot.contract.id")?;
        let code: Vec<u8> = Vec::get(r, "Snapshot.contract.code")?;
        app.contracts.insert(id, Arc::new(code));
    }
    for _ in 0..get_len(r, "Snapshot.storages")? {
        let id = Hash::get(r, "Snapshot.storage.id")?;
        let mut st = Storage::new();
        for _ in 0..get_len(r, "Snapshot.storage.entries")? {
            let k: Vec<u8> = Vec::get(r, "Snapshot.storage.key")?;
            st.insert(k, Vec::get(r, "Snapshot.storage.value")?);
        }
        app.set_storage(id, st);
    }
    app.fees = u64::get(r, "Snapshot.fees")?;
    Ok(app)
}

fn checksum(payload: &[u8]) -> Hash {
    blake2b256(&[
        b"SA-SNAP-V1",
        &(payload.len() as u64).to_le_bytes(),
        payload,
    ])
}

impl Snapshot {
    /// The file's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut payload = Vec::new();
        self.height.put(&mut payload);
        self.hash.put(&mut payload);
        put_ledger(&self.prev_ledger, &mut payload);
        put_ledger(&self.ledger, &mut payload);
        put_app(&self.app, &mut payload);
        let mut out = MAGIC.to_vec();
        (payload.len() as u64).put(&mut out);
        out.extend_from_slice(&checksum(&payload));
        out.extend_from_slice(&payload);
        out
    }

    /// Parses a file's bytes; `path` names it in errors.
    pub fn from_bytes(path: &Path, bytes: &[u8]) -> Result<Snapshot, String> {
        let bad = |why: String| format!("{}: not a usable snapshot: {why}", path.display());
        let body = bytes
            .strip_prefix(MAGIC.as_slice())
            .ok_or_else(|| bad("bad magic bytes".into()))?;
        if body.len() < 40 {
            return Err(bad(format!("{} bytes, shorter than a header", bytes.len())));
        }
        let len = u64::from_le_bytes(body[..8].try_into().unwrap_or_default());
        let payload = &body[40..];
        if payload.len() as u64 != len {
            return Err(bad(format!(
                "the header says {len} bytes of state, the file holds {}",
                payload.len()
            )));
        }
        if checksum(payload)[..] != body[8..40] {
            return Err(bad("checksum mismatch".into()));
        }
        let mut r = Reader::new(payload);
        let parse = |r: &mut Reader<'_>| -> Result<Snapshot, DecodeError> {
            let height = u64::get(r, "Snapshot.height")?;
            let hash = Hash::get(r, "Snapshot.hash")?;
            let prev_ledger = get_ledger(r, "Snapshot.prev_ledger")?;
            let ledger = get_ledger(r, "Snapshot.ledger")?;
            let app = Arc::new(get_app(r)?);
            r.finish("Snapshot")?;
            Ok(Snapshot {
                height,
                hash,
                prev_ledger,
                ledger,
                app,
            })
        };
        parse(&mut r).map_err(|e| bad(e.to_string()))
    }
}

/// Where the snapshot of the log at `log` lives: beside it, `.snapshot` appended.
pub fn path_of(log: &Path) -> PathBuf {
    let mut p = log.as_os_str().to_owned();
    p.push(".snapshot");
    PathBuf::from(p)
}

/// Replaces the snapshot at `path` atomically (temporary file, fsync, rename, directory
/// fsync).
pub fn write(path: &Path, s: &Snapshot) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = File::create(&tmp)?;
        f.write_all(&s.to_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// The snapshot at `path`, `None` if there is none, or why the file cannot be used.
pub fn read(path: &Path) -> Result<Option<Snapshot>, String> {
    match fs::read(path) {
        Ok(bytes) => Snapshot::from_bytes(path, &bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}
