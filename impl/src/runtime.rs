//! The network runtime around the sans-IO core: tokio, TCP, length-delimited frames with a
//! size limit (spec/encoding.md "Framing"), wall-clock timers, the durable log, and one JSON
//! event per line for operators and the testnet.
//!
//! One TCP connection per pair of nodes, used both ways: a node dials the peers whose listen
//! address is greater than its own and accepts the others. Outputs are carried out in order;
//! a [`Output::Persist`] is appended and fsynced before anything after it is sent.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::events::{Event, EventLine};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

use crate::config::{Genesis, NodeConfig};
use crate::keys::{to_hex, KeyRing, Keypair, PublicKey};
use crate::node::{Input, Node, Output, PeerId, Reason, Timer};
use crate::peers::{Accounts, Admit, Log as Sample};
use crate::storage::{Log, StorageError};
use crate::transport::{Admission, NoiseKey, Role, SecureCodec};

/// Why the runtime stopped.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// The log could not be opened, verified or appended to.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The log does not replay onto the genesis.
    #[error("log {path}: {source}")]
    Restore {
        /// The log file.
        path: String,
        /// What is wrong.
        source: crate::node::RestoreError,
    },
    /// Socket errors.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
    /// EXEC-ROOT-2: a block attested by a quorum does not execute to its root here.
    #[error("halted at height {height}: {reason}")]
    Halted {
        /// The block's height.
        height: u64,
        /// Why.
        reason: String,
    },
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Bytes of frames one connection may have waiting for the core (read, not yet handled): a
/// peer that sends faster than the core handles is slowed by TCP, not buffered.
pub const INBOUND_BYTES_PER_PEER: usize = 8 << 20;
/// Bytes queued for sending to one peer, at most: frames past it are dropped for that peer
/// (it is too slow; it catches up through GetBlocks).
pub const OUTBOUND_BYTES_PER_PEER: usize = 16 << 20;
/// Handshakes in progress at once, at most: a connection accepted beyond them is closed at
/// once (it holds no slot of a provisioner or a client).
pub const MAX_PENDING_HANDSHAKES: usize = 16;
/// Clients connected at once, at most (provisioners have one slot each, keyed by their key).
pub const MAX_CLIENTS: usize = 16;
/// A connection that sends nothing for this long is closed (a frame half sent and never
/// finished included); every connection sends a keep-alive (an empty frame) after a third of
/// it without traffic. The default of the node file's `idle_timeout_ms`.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// Peer ids of clients start here; a provisioner's is its genesis index + 1, the same on every
/// connection, so what the core keeps per peer (rate limits, buffer shares) outlives a
/// reconnection.
pub const CLIENT_IDS: PeerId = 1 << 32;
/// Frames read together whose signatures are checked in one batch, at most.
pub const VERIFY_BATCH: usize = 64;

/// The signature of a frame checked before the core.
struct Signed {
    kind: &'static str,
    code: Reason,
    signer: PublicKey,
    digest: crate::hash::Hash,
    signature: crate::keys::Signature,
}

/// Verified signatures the node remembers (the cache is emptied when it holds this many).
pub const VERIFIED_CACHE: usize = 65_536;
/// The pseudo-peer under which refused handshakes are sampled in the log.
const REFUSALS: PeerId = u64::MAX;

enum Inbox {
    Frame {
        peer: PeerId,
        bytes: Vec<u8>,
        /// Returned when the core has handled the frame (the peer's inbound budget).
        _budget: tokio::sync::OwnedSemaphorePermit,
    },
    BadFrame {
        peer: PeerId,
        reason: String,
    },
    /// A vote, candidate or block whose signature did not verify on the connection's thread:
    /// never given to the core.
    Forged {
        peer: PeerId,
        kind: &'static str,
        code: Reason,
        reason: String,
    },
    Connected {
        peer: PeerId,
        conn: u64,
        key: PublicKey,
        role: Role,
    },
    Refused {
        /// What refused it, for the sampled log: `handshake`, `slots`, `accept`, `back-off`,
        /// `clients`.
        what: &'static str,
        reason: String,
    },
    Closed {
        peer: PeerId,
        conn: u64,
    },
    /// Time to log the counts of ended sampling windows.
    Flush,
    Timer(Timer),
}

/// One live connection: its writer's queue, the bytes queued there, its close signal.
struct Conn {
    conn: u64,
    tx: mpsc::UnboundedSender<Frame>,
    queued: Arc<AtomicUsize>,
    close: Arc<tokio::sync::Notify>,
}

/// Per peer id: its live connection.
type Writers = Arc<Mutex<BTreeMap<PeerId, Conn>>>;

/// Queues a frame for a peer's writer unless that peer already has
/// [`OUTBOUND_BYTES_PER_PEER`] queued.
fn queue_bounded(tx: &mpsc::UnboundedSender<Frame>, queued: &AtomicUsize, frame: Frame) {
    if queued.load(Ordering::Relaxed) + frame.0.len() <= OUTBOUND_BYTES_PER_PEER {
        queued.fetch_add(frame.0.len(), Ordering::Relaxed);
        let _ = tx.send(frame);
    }
}

/// A frame for a peer's writer and, under a network schedule, the wall-clock time (ms since
/// the Unix epoch) before which it must not be sent.
type Frame = (Arc<Vec<u8>>, Option<u64>);

/// Whether a frame's message needs a BLS check in the core (candidate, votes, block,
/// transaction).
fn signed(bytes: &[u8]) -> bool {
    matches!(bytes.first(), Some(0..=3 | 5))
}

#[derive(Clone)]
struct Net {
    writers: Writers,
    inbox: mpsc::UnboundedSender<Inbox>,
    delay: Duration,
    /// The idle timeout (`idle_timeout_ms`).
    idle: Duration,
    max_frame: usize,
    me: Keypair,
    admission: Arc<Admission>,
    /// Provisioner key → its peer id.
    ids: Arc<BTreeMap<PublicKey, PeerId>>,
    /// Keys in back-off, refused before their proof is verified (the main loop's
    /// [`Accounts`] decides; this is its copy for the connection tasks).
    banned: Arc<Mutex<BTreeMap<PublicKey, u64>>>,
    next_conn: Arc<std::sync::atomic::AtomicU64>,
    clients: Arc<tokio::sync::Semaphore>,
    /// The provisioners' keys with the node's cache of verified signatures (shared with the
    /// core: a vote verified here is not verified again on the core's thread).
    keys: KeyRing,
    /// This process's Noise static key (signed by `me` in each handshake).
    noise: Arc<NoiseKey>,
    /// The network schedule (fault injection), this node's index in the genesis (a schedule
    /// applies to provisioners only) and the genesis time its windows count from.
    schedule: Arc<(crate::schedule::Schedule, Option<u32>, u64)>,
}

impl Net {
    /// The handshake's frames (a hello, Noise messages): 1 KiB at most. The session's frames
    /// then go through a [`SecureCodec`] of `max_frame`.
    fn codec() -> LengthDelimitedCodec {
        LengthDelimitedCodec::builder()
            .max_frame_length(crate::transport::HANDSHAKE_FRAME)
            .new_codec()
    }

    /// Runs one connection until it closes: the handshake (holding `pending` while it runs),
    /// then frames both ways.
    async fn serve(self, stream: TcpStream, accepting: bool, pending: Option<PendingSlot>) {
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        let mut frames = FramedRead::new(rd, Net::codec());
        let mut sink = FramedWrite::new(wr, Net::codec());
        let Some(session) = self
            .secure(&mut frames, &mut sink, accepting, pending.as_ref())
            .await
        else {
            return;
        };
        drop(pending);
        // Every later frame is sealed with the session's keys.
        let mut frames =
            frames.map_decoder(|_| crate::transport::SecureCodec::new(&session, self.max_frame));
        let sink =
            sink.map_encoder(|_| crate::transport::SecureCodec::new(&session, self.max_frame));
        let hello = session.hello;
        let banned_until = self
            .banned
            .lock()
            .ok()
            .and_then(|b| b.get(&hello.key).copied());
        if banned_until.is_some_and(|until| until > now_ms()) {
            let _ = self.inbox.send(Inbox::Refused {
                what: "back-off",
                reason: format!("key {} is in back-off", hello.key.short()),
            });
            return;
        }
        let conn = self.next_conn.fetch_add(1, Ordering::Relaxed);
        let (peer, _client_slot) = match hello.role {
            Role::Peer => (self.ids.get(&hello.key).copied().unwrap_or(0), None),
            Role::Client => match Arc::clone(&self.clients).try_acquire_owned() {
                Ok(slot) => (CLIENT_IDS + conn, Some(slot)),
                Err(_) => {
                    let _ = self.inbox.send(Inbox::Refused {
                        what: "clients",
                        reason: format!(
                            "client {}: all {MAX_CLIENTS} client slots taken",
                            hello.key.short()
                        ),
                    });
                    return;
                }
            },
        };
        let (rx, queued, close) = self.register(peer, conn);
        let _ = self.inbox.send(Inbox::Connected {
            peer,
            conn,
            key: hello.key,
            role: hello.role,
        });
        let writer = tokio::spawn(write_frames(sink, rx, queued, (self.delay, self.idle)));
        self.read_frames(&mut frames, peer, hello.role, &close)
            .await;
        writer.abort();
        {
            let mut w = self.writers.lock().expect("lock");
            if w.get(&peer).is_some_and(|c| c.conn == conn) {
                w.remove(&peer);
            }
        }
        let _ = self.inbox.send(Inbox::Closed { peer, conn });
    }

    /// The handshake of one connection, raced against its eviction from the pending slots;
    /// a failure is reported (sampled) and gives None.
    async fn secure(
        &self,
        frames: &mut FramedRead<tokio::net::tcp::OwnedReadHalf, LengthDelimitedCodec>,
        sink: &mut FramedWrite<tokio::net::tcp::OwnedWriteHalf, LengthDelimitedCodec>,
        accepting: bool,
        pending: Option<&PendingSlot>,
    ) -> Option<crate::transport::Session> {
        let mut admission = (*self.admission).clone();
        admission.clients = accepting;
        let handshake = crate::transport::handshake(
            frames,
            sink,
            (&self.me, &self.noise),
            Role::Peer,
            !accepting,
            &admission,
        );
        let evicted = async {
            match pending {
                Some(p) => p.evict.notified().await,
                None => std::future::pending().await,
            }
        };
        let outcome = tokio::select! {
            r = handshake => r.map_err(|e| e.to_string()),
            () = evicted => Err(format!(
                "evicted: a newer connection needed one of the {MAX_PENDING_HANDSHAKES} handshake slots"
            )),
        };
        match outcome {
            Ok(s) => Some(s),
            Err(reason) => {
                let _ = self.inbox.send(Inbox::Refused {
                    what: "handshake",
                    reason,
                });
                None
            }
        }
    }

    /// Registers connection `conn` as `peer`'s live one (a provisioner connected again: its
    /// older connection is told to close); returns its writer's queue, bytes queued and close
    /// signal.
    fn register(
        &self,
        peer: PeerId,
        conn: u64,
    ) -> (
        mpsc::UnboundedReceiver<Frame>,
        Arc<AtomicUsize>,
        Arc<tokio::sync::Notify>,
    ) {
        let (tx, rx) = mpsc::unbounded_channel::<Frame>();
        let queued = Arc::new(AtomicUsize::new(0));
        let close = Arc::new(tokio::sync::Notify::new());
        let old = self.writers.lock().expect("lock").insert(
            peer,
            Conn {
                conn,
                tx,
                queued: Arc::clone(&queued),
                close: Arc::clone(&close),
            },
        );
        if let Some(old) = old {
            old.close.notify_one();
        }
        (rx, queued, close)
    }

    /// Reads frames until the connection closes, is told to close, or is idle for
    /// the node's idle timeout. A client may send transactions and block requests only.
    async fn read_frames(
        &self,
        frames: &mut FramedRead<tokio::net::tcp::OwnedReadHalf, SecureCodec>,
        peer: PeerId,
        role: Role,
        close: &tokio::sync::Notify,
    ) {
        // Budget in KiB units, so a frame of up to max_frame bytes always fits.
        let units = INBOUND_BYTES_PER_PEER.max(self.max_frame) / 1024 + 1;
        let budget = Arc::new(tokio::sync::Semaphore::new(units));
        loop {
            let first = tokio::select! {
                () = close.notified() => return,
                f = tokio::time::timeout(self.idle, frames.next()) => match f {
                    Err(_) => {
                        let _ = self.inbox.send(Inbox::BadFrame { peer, reason: format!("idle for {} ms", self.idle.as_millis()) });
                        return;
                    }
                    Ok(None) => return,
                    Ok(Some(f)) => f,
                },
            };
            // Frames already read and waiting come with the first: their signatures are
            // checked in one batch.
            let mut batch = vec![first];
            let mut ended = false;
            while batch.len() < VERIFY_BATCH && batch.last().is_some_and(Result::is_ok) {
                match futures_util::FutureExt::now_or_never(frames.next()) {
                    Some(Some(f)) => batch.push(f),
                    Some(None) => {
                        ended = true;
                        break;
                    }
                    None => break,
                }
            }
            let verdicts = self.forged_batch(&batch);
            for (frame, forged) in batch.into_iter().zip(verdicts) {
                match frame {
                    Ok(b) if b.is_empty() => {}
                    Ok(b) if role == Role::Client && !matches!(b.first(), Some(4 | 5)) => {
                        let _ = self.inbox.send(Inbox::BadFrame {
                            peer,
                            reason: "a client may send transactions and block requests only".into(),
                        });
                        return;
                    }
                    Ok(b) => {
                        if let Some((kind, code, reason)) = forged {
                            let _ = self.inbox.send(Inbox::Forged {
                                peer,
                                kind,
                                code,
                                reason,
                            });
                            continue;
                        }
                        let need = u32::try_from(b.len() / 1024 + 1).unwrap_or(u32::MAX);
                        // Waits (and so stops reading from this peer) while the core is behind.
                        let Ok(permit) = Arc::clone(&budget).acquire_many_owned(need).await else {
                            return;
                        };
                        let _ = self.inbox.send(Inbox::Frame {
                            peer,
                            bytes: b.to_vec(),
                            _budget: permit,
                        });
                    }
                    Err(e) => {
                        let _ = self.inbox.send(Inbox::BadFrame {
                            peer,
                            reason: e.to_string(),
                        });
                        return;
                    }
                }
            }
            if ended {
                return;
            }
        }
    }

    /// For each frame of a batch: whether it is forged ([`Net::forged`]), the signatures of
    /// all of them checked at once ([`KeyRing::verify_batch`]).
    fn forged_batch(
        &self,
        batch: &[Result<bytes::BytesMut, std::io::Error>],
    ) -> Vec<Option<(&'static str, Reason, String)>> {
        let signed: Vec<Option<Signed>> = batch
            .iter()
            .map(|f| f.as_ref().ok().and_then(|b| self.signed_part(b)))
            .collect();
        let items: Vec<(PublicKey, Vec<u8>, crate::keys::Signature)> = signed
            .iter()
            .flatten()
            .map(|s| (s.signer, s.digest.to_vec(), s.signature))
            .collect();
        let mut ok = self.keys.verify_batch(&items).into_iter();
        signed
            .into_iter()
            .map(|s| {
                let s = s?;
                (!ok.next().unwrap_or(false)).then(|| {
                    (
                        s.kind,
                        s.code,
                        "signature does not verify (checked on the connection's thread)".into(),
                    )
                })
            })
            .collect()
    }

    /// The one signature of a vote, candidate or block frame checked before the core (the
    /// vote's; the generator's over the block hash), when its signer is a provisioner. Anything
    /// else (other messages, unknown signers: the core rejects those as non-members; a
    /// candidate's seed, a block's attestation, which need the core's state) is left to the
    /// core.
    fn signed_part(&self, bytes: &[u8]) -> Option<Signed> {
        use crate::message::{vote_digest, Message};
        let s = match Message::from_bytes(bytes).ok()? {
            Message::Validation(v) => Signed {
                kind: "validation",
                code: Reason::VoteSignature,
                signer: v.signer,
                digest: vote_digest(&v.header, &v.vote),
                signature: v.signature,
            },
            Message::Ratification { vote: v, .. } => Signed {
                kind: "ratification",
                code: Reason::VoteSignature,
                signer: v.signer,
                digest: vote_digest(&v.header, &v.vote),
                signature: v.signature,
            },
            Message::Candidate(c) => Signed {
                kind: "candidate",
                code: Reason::CandidateSignature,
                signer: c.header.generator,
                digest: c.header.hash(),
                signature: c.signature,
            },
            Message::Block(b) => Signed {
                kind: "block",
                code: Reason::CandidateSignature,
                signer: b.candidate.header.generator,
                digest: b.candidate.header.hash(),
                signature: b.candidate.signature,
            },
            _ => return None,
        };
        self.keys.contains(&s.signer).then_some(s)
    }

    fn send(&self, peer: Option<PeerId>, message: &crate::message::Message) {
        let bytes = Arc::new(message.to_bytes());
        let (schedule, me, genesis_ms) = &*self.schedule;
        let me = me.filter(|&i| !schedule.idle_for(i));
        let w = self.writers.lock().expect("lock");
        for (&p, c) in w.iter().filter(|(&p, _)| peer.is_none_or(|q| q == p)) {
            // Provisioner i is peer i + 1; clients are not in a schedule.
            let due = match me.zip(u32::try_from(p.wrapping_sub(1)).ok()) {
                Some((from, to)) => {
                    let t = now_ms().saturating_sub(*genesis_ms);
                    match schedule.decide(from, to, message, t) {
                        crate::schedule::Decision::Send => None,
                        crate::schedule::Decision::Drop => continue,
                        crate::schedule::Decision::At(at) => Some(genesis_ms + at),
                    }
                }
                None => None,
            };
            queue_bounded(&c.tx, &c.queued, (Arc::clone(&bytes), due));
        }
    }

    /// Closes `peer`'s connection (a score at the threshold): its key waits until `until`.
    fn cut(&self, peer: PeerId, key: PublicKey, until: u64) {
        if let Ok(mut b) = self.banned.lock() {
            b.insert(key, until);
        }
        if let Some(c) = self.writers.lock().expect("lock").remove(&peer) {
            c.close.notify_one();
        }
    }
}

/// When a frame queued now is due: after the configured delay, and not before the time a
/// network schedule holds it to.
fn due_of(delay: Duration, at_ms: Option<u64>) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    let held = at_ms.map_or(Duration::ZERO, |t| {
        Duration::from_millis(t.saturating_sub(now_ms()))
    });
    now + delay.max(held)
}

/// A connection's writer: frames in the order they are due (in order without a network
/// schedule), each after the configured delay; a keep-alive (an empty frame) after a third of
/// `idle` without one. A frame a schedule holds waits without holding back later ones.
async fn write_frames(
    mut sink: FramedWrite<tokio::net::tcp::OwnedWriteHalf, SecureCodec>,
    mut rx: mpsc::UnboundedReceiver<Frame>,
    queued: Arc<AtomicUsize>,
    (delay, idle): (Duration, Duration),
) {
    use std::cmp::Reverse;
    use tokio::time::Instant;
    type Due = Reverse<(Instant, u64, Arc<Vec<u8>>)>;
    let mut queue: std::collections::BinaryHeap<Due> = std::collections::BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |queue: &mut std::collections::BinaryHeap<Due>, (b, at): Frame| {
        seq += 1;
        queue.push(Reverse((due_of(delay, at), seq, b)));
    };
    let mut last_sent = Instant::now();
    loop {
        // Everything due goes out, in the order it is due (queued order among equals).
        while let Some(Reverse((due, _, _))) = queue.peek() {
            if *due > Instant::now() {
                break;
            }
            let Some(Reverse((_, _, bytes))) = queue.pop() else {
                break;
            };
            queued.fetch_sub(bytes.len(), Ordering::Relaxed);
            if sink
                .send(bytes::Bytes::copy_from_slice(&bytes))
                .await
                .is_err()
            {
                return;
            }
            last_sent = Instant::now();
        }
        if Instant::now() >= last_sent + idle / 3 {
            if sink.send(bytes::Bytes::new()).await.is_err() {
                return;
            }
            last_sent = Instant::now();
        }
        let keep_alive = last_sent + idle / 3;
        let next = queue
            .peek()
            .map_or(keep_alive, |Reverse((due, _, _))| (*due).min(keep_alive));
        match tokio::time::timeout_at(next, rx.recv()).await {
            Ok(Some(f)) => {
                push(&mut queue, f);
                while let Ok(f) = rx.try_recv() {
                    push(&mut queue, f);
                }
            }
            Ok(None) => return,
            Err(_) => {}
        }
    }
}

/// Prints one event line on stdout.
pub fn emit(node: &str, event: Event) {
    println!(
        "{}",
        EventLine {
            t: now_ms(),
            node: node.to_string(),
            event
        }
    );
}

/// Prints a warning event.
fn warn(node: &str, reason: String) {
    emit(node, Event::Warning { reason });
}

/// Runs a node until the process is killed or a fatal error occurs.
#[allow(
    clippy::too_many_lines,
    reason = "the runtime's event loop: one select over network, timers and signals"
)]
pub async fn run(
    cfg: NodeConfig,
    genesis: Genesis,
    keys: KeyRing,
    me: Keypair,
) -> Result<(), RuntimeError> {
    // Verified signatures are cached (shared by the connection threads and the core).
    let keys = keys.with_cache(VERIFIED_CACHE);
    let (log, records) = Log::open(&cfg.data_dir)?;
    let mut log = log;
    let my = me.public.short();
    // EXEC-STATE-2: start from the snapshot beside the log when there is a usable one.
    let snapshot_path = crate::snapshot::path_of(log.path());
    let snapshot = crate::snapshot::read(&snapshot_path).unwrap_or_else(|why| {
        warn(&my, format!("{why}; restoring from genesis"));
        None
    });
    let restore = |s: Option<&crate::snapshot::Snapshot>| {
        Node::restore_from(
            genesis.clone(),
            keys.clone(),
            me.clone(),
            cfg.behaviour.clone(),
            s,
            &records,
        )
    };
    let restored = match snapshot.as_ref().map(|s| restore(Some(s))) {
        Some(Ok(n)) => Ok(n),
        Some(Err(e)) => {
            warn(
                &my,
                format!(
                    "{}: not used ({e}); restoring from genesis",
                    snapshot_path.display()
                ),
            );
            restore(None)
        }
        None => restore(None),
    };
    let mut node = restored.map_err(|source| RuntimeError::Restore {
        path: log.path().display().to_string(),
        source,
    })?;
    if let Some(r) = log.repaired() {
        let aside = match (&r.saved_as, &r.not_saved) {
            (Some(p), _) => format!("the tail is saved as {}", p.display()),
            (None, Some(e)) => format!("the tail could not be saved ({e}) and is lost"),
            (None, None) => "the tail was not saved".into(),
        };
        warn(&my, format!(
            "log repaired: a torn tail of {} bytes (an append that never finished: {}) was cut off; {} bytes kept; {aside}",
            r.discarded, r.reason, r.kept
        ));
    }
    let (inbox_tx, mut inbox) = mpsc::unbounded_channel::<Inbox>();
    let net = Net {
        writers: Arc::new(Mutex::new(BTreeMap::new())),
        inbox: inbox_tx.clone(),
        delay: Duration::from_millis(cfg.send_delay_ms),
        idle: Duration::from_millis(cfg.idle_timeout_ms),
        max_frame: cfg.max_frame_bytes,
        me: me.clone(),
        admission: Arc::new(Admission {
            chain: crate::transport::chain_id(&genesis),
            provisioners: genesis.provisioners.iter().map(|p| p.key).collect(),
            clients: true,
        }),
        ids: Arc::new(
            genesis
                .provisioners
                .iter()
                .enumerate()
                .map(|(i, p)| (p.key, i as PeerId + 1))
                .collect(),
        ),
        banned: Arc::new(Mutex::new(BTreeMap::new())),
        next_conn: Arc::new(std::sync::atomic::AtomicU64::new(1)),
        clients: Arc::new(tokio::sync::Semaphore::new(MAX_CLIENTS)),
        keys: keys.clone(),
        noise: Arc::new(NoiseKey::generate()),
        schedule: Arc::new((
            cfg.schedule.clone(),
            genesis
                .provisioners
                .iter()
                .position(|p| p.key == me.public)
                .and_then(|i| u32::try_from(i).ok()),
            genesis.timestamp,
        )),
    };
    let listener = TcpListener::bind(cfg.listen).await?;
    emit(
        &my,
        Event::Started {
            listen: cfg.listen.to_string(),
            records: records.len(),
            height: node.tip_height(),
            final_height: node.last_final(),
            tip: to_hex(&node.tip_hash()),
        },
    );
    tokio::spawn(accept_loop(listener, net.clone()));
    {
        let tx = inbox_tx.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(crate::peers::LOG_WINDOW));
            loop {
                tick.tick().await;
                if tx.send(Inbox::Flush).is_err() {
                    return;
                }
            }
        });
    }
    for addr in cfg.peers.iter().copied().filter(|p| *p > cfg.listen) {
        let net = net.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(s) = TcpStream::connect(addr).await {
                    net.clone().serve(s, false, None).await;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }
    let mut gate = Gate {
        accounts: Accounts::default(),
        current: BTreeMap::new(),
        net: net.clone(),
        my: my.clone(),
    };
    let mut pending: VecDeque<Input> = VecDeque::from([Input::Start]);
    loop {
        let input = match pending.pop_front() {
            Some(i) => i,
            None => match inbox.recv().await {
                None => return Ok(()),
                Some(Inbox::Timer(t)) => Input::Timer(t),
                Some(other) => match gate.admit(other, &node) {
                    Some(i) => i,
                    None => continue,
                },
            },
        };
        let from = match &input {
            Input::Message { peer, .. } => Some(*peer),
            _ => None,
        };
        let outputs = node.handle(now_ms(), input);
        if let Some(peer) = from {
            gate.judge(peer, &outputs);
        }
        for o in outputs {
            if let Some(e) = crate::events::of_output(&o) {
                if !matches!(o, Output::Rejected { .. }) {
                    emit(&my, e);
                }
            }
            match o {
                Output::Persist(r) => log.append(&r)?,
                Output::Broadcast(m) => net.send(None, &m),
                Output::Send { peer, message } => net.send(Some(peer), &message),
                Output::SetTimer { timer, after_ms } => {
                    let tx = inbox_tx.clone();
                    tokio::spawn(async move {
                        tokio::time::sleep(Duration::from_millis(after_ms)).await;
                        let _ = tx.send(Inbox::Timer(timer));
                    });
                }
                Output::Snapshot(s) => {
                    if let Err(e) = crate::snapshot::write(&snapshot_path, &s) {
                        warn(
                            &my,
                            format!(
                                "{}: snapshot at height {} not written: {e}",
                                snapshot_path.display(),
                                s.height
                            ),
                        );
                    }
                }
                Output::Halted { height, reason, .. } => {
                    return Err(RuntimeError::Halted { height, reason })
                }
                _ => {}
            }
        }
    }
}

/// Accepts connections for ever: a handshake slot each ([`PendingSlots`]: the oldest
/// handshake ends when all [`MAX_PENDING_HANDSHAKES`] are taken); an `accept` error (the descriptor limit) is logged,
/// sampled, and retried after a back-off that doubles up to a second.
async fn accept_loop(listener: TcpListener, net: Net) {
    let pending = PendingSlots::default();
    let mut backoff = Duration::from_millis(10);
    loop {
        match listener.accept().await {
            Ok((s, _)) => {
                backoff = Duration::from_millis(10);
                let slot = pending.take();
                tokio::spawn(net.clone().serve(s, true, Some(slot)));
            }
            Err(e) => {
                let _ = net.inbox.send(Inbox::Refused {
                    what: "accept",
                    reason: format!("accept: {e}; retrying in {} ms", backoff.as_millis()),
                });
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(1));
            }
        }
    }
}

/// The handshakes in progress on accepted connections, oldest first: at most
/// [`MAX_PENDING_HANDSHAKES`]. A new connection always gets a slot; when all are taken, the
/// oldest handshake is told to end. Sockets opened and left idle (or stalled mid-handshake)
/// can hold a slot only until that many newer connections arrive, and an honest peer's
/// handshake (a few milliseconds) finishes long before: slots cannot be held against the
/// provisioners, whose keys are known only once the hello is read.
#[derive(Clone, Default)]
struct PendingSlots(Arc<Mutex<VecDeque<Pending>>>);

/// A pending handshake: its slot's id and how to end it.
type Pending = (u64, Arc<tokio::sync::Notify>);

/// One handshake's slot; given back when dropped.
struct PendingSlot {
    id: u64,
    evict: Arc<tokio::sync::Notify>,
    slots: PendingSlots,
}

impl PendingSlots {
    fn take(&self) -> PendingSlot {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let id = NEXT.fetch_add(1, Ordering::Relaxed);
        let evict = Arc::new(tokio::sync::Notify::new());
        let mut q = self.0.lock().expect("lock");
        if q.len() >= MAX_PENDING_HANDSHAKES {
            if let Some((_, oldest)) = q.pop_front() {
                oldest.notify_one();
            }
        }
        q.push_back((id, Arc::clone(&evict)));
        PendingSlot {
            id,
            evict,
            slots: self.clone(),
        }
    }
}

impl Drop for PendingSlot {
    fn drop(&mut self) {
        if let Ok(mut q) = self.slots.0.lock() {
            q.retain(|(id, _)| *id != self.id);
        }
    }
}

/// Between the network and the core: peer accounting ([`Accounts`]) and sampled logs.
struct Gate {
    accounts: Accounts,
    /// Per peer id: its live connection's number (an older connection's close is ignored).
    current: BTreeMap<PeerId, u64>,
    net: Net,
    my: String,
}

impl Gate {
    /// What an inbox item (not a timer) gives the core, if anything.
    fn admit(&mut self, item: Inbox, node: &Node) -> Option<Input> {
        let now = now_ms();
        match item {
            Inbox::Frame { peer, bytes, .. } => {
                match self.accounts.frame(peer, bytes.len(), signed(&bytes), now) {
                    Admit::Core => return Some(Input::Message { peer, bytes }),
                    Admit::Disconnect(key) => self.cut(peer, key, now, "over its rates"),
                    Admit::OverRate | Admit::Cut => {}
                }
            }
            Inbox::Forged {
                peer,
                kind,
                code,
                reason,
            } => self.forged(peer, kind, code, &reason, now),
            Inbox::BadFrame { peer, reason } => {
                self.sampled(Some(peer), "frame", now, || Event::Rejected {
                    peer,
                    kind: "frame".into(),
                    code: None,
                    reason: reason.clone(),
                });
            }
            Inbox::Refused { what, reason } => {
                self.sampled(None, what, now, || Event::Disconnected {
                    peer: None,
                    reason: reason.clone(),
                });
            }
            Inbox::Connected {
                peer,
                conn,
                key,
                role,
            } => self.connected((peer, conn), key, role, node, now),
            Inbox::Closed { peer, conn } => {
                if self.current.get(&peer) == Some(&conn) {
                    self.current.remove(&peer);
                    self.accounts.closed(peer);
                }
            }
            Inbox::Flush => {
                for (peer, what, count) in self.accounts.flush(now) {
                    emit(
                        &self.my,
                        Event::Suppressed {
                            peer: (peer != REFUSALS).then_some(peer),
                            what,
                            count,
                        },
                    );
                }
            }
            Inbox::Timer(t) => return Some(Input::Timer(t)),
        }
        None
    }

    /// A vote the connection's thread found forged: counted as the core's rejection would be.
    fn forged(&mut self, peer: PeerId, kind: &'static str, code: Reason, reason: &str, now: u64) {
        let cut = match self.accounts.frame(peer, 0, false, now) {
            Admit::Core => self.accounts.rejected(peer, code, now),
            Admit::Disconnect(key) => Some(key),
            Admit::OverRate | Admit::Cut => None,
        };
        if let Some(key) = cut {
            self.cut(
                peer,
                key,
                now,
                &format!("score at the threshold ({})", code.id()),
            );
        }
        self.sampled(Some(peer), &code.id(), now, || Event::Rejected {
            peer,
            kind: kind.into(),
            code: Some(code.id()),
            reason: reason.to_string(),
        });
    }

    /// A connection passed its handshake: admitted unless its key is in back-off.
    fn connected(
        &mut self,
        (peer, conn): (PeerId, u64),
        key: PublicKey,
        role: Role,
        node: &Node,
        now: u64,
    ) {
        if !self.accounts.may_connect(&key, now) {
            let until = self.accounts.banned_until(&key).unwrap_or(now);
            self.net.cut(peer, key, until);
            return;
        }
        self.accounts.connected(peer, key, now);
        self.current.insert(peer, conn);
        emit(
            &self.my,
            Event::Connected {
                peer,
                key: key.short(),
                role: if role == Role::Peer { "peer" } else { "client" }.into(),
            },
        );
        if role == Role::Peer {
            // Catch up with a new peer: ask for what follows our tip.
            let m = crate::message::Message::GetBlocks {
                from: node.tip_height() + 1,
            };
            self.net.send(Some(peer), &m);
        }
    }

    /// After the core handled a frame of `peer`: its rejections cost the peer (and are
    /// logged, sampled); a frame taken without one earns a point.
    fn judge(&mut self, peer: PeerId, outputs: &[Output]) {
        let now = now_ms();
        let mut rejected = false;
        for o in outputs {
            if let Output::Rejected {
                peer: p,
                kind,
                code,
                reason,
            } = o
            {
                rejected = true;
                if let Some(key) = self.accounts.rejected(*p, *code, now) {
                    self.cut(
                        *p,
                        key,
                        now,
                        &format!("score at the threshold ({})", code.id()),
                    );
                }
                self.sampled(Some(*p), &code.id(), now, || Event::Rejected {
                    peer: *p,
                    kind: (*kind).to_string(),
                    code: Some(code.id()),
                    reason: reason.clone(),
                });
            }
        }
        if !rejected {
            self.accounts.useful(peer);
        }
    }

    /// Disconnects `peer` and puts `key` in back-off.
    fn cut(&mut self, peer: PeerId, key: PublicKey, now: u64, why: &str) {
        let until = self.accounts.banned_until(&key).unwrap_or(now);
        self.net.cut(peer, key, until);
        emit(
            &self.my,
            Event::Disconnected {
                peer: Some(peer),
                reason: format!(
                    "{why}: key {} refused for {} s",
                    key.short(),
                    until.saturating_sub(now) / 1000
                ),
            },
        );
    }

    /// Emits `event` unless this (peer, what) has been logged often in this window; says how
    /// many were not when the window ends.
    fn sampled(&mut self, peer: Option<PeerId>, what: &str, now: u64, event: impl Fn() -> Event) {
        let sample = self.accounts.log(peer.unwrap_or(REFUSALS), what, now);
        match sample {
            Sample::Full => emit(&self.my, event()),
            Sample::Quiet => {}
            Sample::Suppressed(count) => {
                emit(
                    &self.my,
                    Event::Suppressed {
                        peer,
                        what: what.into(),
                        count,
                    },
                );
                emit(&self.my, event());
            }
        }
    }
}

/// Loads a node file and its genesis and runs the node on a new tokio runtime.
pub fn run_from_file(path: &std::path::Path) -> Result<(), String> {
    let (cfg, me) = NodeConfig::load(path).map_err(|e| e.to_string())?;
    let (genesis, keys) = Genesis::load(&cfg.genesis).map_err(|e| e.to_string())?;
    if !genesis.provisioners.iter().any(|p| p.key == me.public) {
        warn(
            &me.public.short(),
            "this node's key is not a genesis provisioner: it will follow but never vote".into(),
        );
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(run(cfg, genesis, keys, me))
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 connections: each past the 16th ends the oldest handshake still pending; at most 16
    /// are pending at once, and a finished handshake gives its slot back.
    #[test]
    fn pending_handshakes_are_capped_and_the_oldest_evicted() {
        let slots = PendingSlots::default();
        let mut taken: Vec<PendingSlot> = (0..40).map(|_| slots.take()).collect();
        let evicted =
            |s: &PendingSlot| futures_util::FutureExt::now_or_never(s.evict.notified()).is_some();
        let ended: Vec<bool> = taken.iter().map(evicted).collect();
        assert_eq!(ended.iter().filter(|e| **e).count(), 24);
        assert!(ended[..24].iter().all(|e| *e), "the oldest go first");
        assert_eq!(slots.0.lock().unwrap().len(), MAX_PENDING_HANDSHAKES);
        // The newest finishes its handshake: its slot is free, nobody else is evicted.
        drop(taken.pop());
        assert_eq!(slots.0.lock().unwrap().len(), MAX_PENDING_HANDSHAKES - 1);
        let next = slots.take();
        assert!(!evicted(&next));
        assert_eq!(slots.0.lock().unwrap().len(), MAX_PENDING_HANDSHAKES);
    }
}
