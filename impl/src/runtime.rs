//! The network runtime around the sans-IO core: tokio, TCP, length-delimited frames with a
//! size limit (spec/encoding.md "Framing"), wall-clock timers, the durable log, and one JSON
//! event per line for operators and the testnet.
//!
//! One TCP connection per pair of nodes, used both ways: a node dials the peers whose listen
//! address is greater than its own and accepts the others. Outputs are carried out in order;
//! a [`Output::Persist`] is appended and fsynced before anything after it is sent.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::events::{Event, EventLine};
use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};

use crate::config::{Genesis, NodeConfig};
use crate::keys::{to_hex, KeyRing, Keypair};
use crate::node::{Input, Node, Output, PeerId, Timer};
use crate::storage::{Log, StorageError};

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
/// Connections beyond the configured peers, at most (peers dialing in, tools).
pub const EXTRA_CONNECTIONS: usize = 16;

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
    Connected {
        peer: PeerId,
    },
    Closed,
    Timer(Timer),
}

/// Per peer: the sender to its writer task and the bytes queued there.
type Writers =
    Arc<Mutex<BTreeMap<PeerId, (mpsc::UnboundedSender<Arc<Vec<u8>>>, Arc<AtomicUsize>)>>>;

/// Queues a frame for a peer's writer unless that peer already has
/// [`OUTBOUND_BYTES_PER_PEER`] queued.
fn queue_bounded(
    tx: &mpsc::UnboundedSender<Arc<Vec<u8>>>,
    queued: &AtomicUsize,
    bytes: Arc<Vec<u8>>,
) {
    if queued.load(Ordering::Relaxed) + bytes.len() <= OUTBOUND_BYTES_PER_PEER {
        queued.fetch_add(bytes.len(), Ordering::Relaxed);
        let _ = tx.send(bytes);
    }
}

struct Net {
    writers: Writers,
    next_peer: Arc<Mutex<PeerId>>,
    inbox: mpsc::UnboundedSender<Inbox>,
    delay: Duration,
    max_frame: usize,
}

impl Clone for Net {
    fn clone(&self) -> Net {
        Net {
            writers: self.writers.clone(),
            next_peer: self.next_peer.clone(),
            inbox: self.inbox.clone(),
            delay: self.delay,
            max_frame: self.max_frame,
        }
    }
}

impl Net {
    fn codec(&self) -> LengthDelimitedCodec {
        LengthDelimitedCodec::builder()
            .max_frame_length(self.max_frame)
            .new_codec()
    }

    /// Runs one connection until it closes.
    async fn serve(self, stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        let peer = {
            let mut n = self.next_peer.lock().expect("lock");
            *n += 1;
            *n
        };
        let (rd, wr) = stream.into_split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Arc<Vec<u8>>>();
        let queued = Arc::new(AtomicUsize::new(0));
        self.writers
            .lock()
            .expect("lock")
            .insert(peer, (tx, Arc::clone(&queued)));
        let _ = self.inbox.send(Inbox::Connected { peer });
        let delay = self.delay;
        let mut sink = FramedWrite::new(wr, self.codec());
        let writer = tokio::spawn(async move {
            let mut queue: VecDeque<(tokio::time::Instant, Arc<Vec<u8>>)> = VecDeque::new();
            loop {
                if queue.is_empty() {
                    match rx.recv().await {
                        Some(b) => queue.push_back((tokio::time::Instant::now() + delay, b)),
                        None => return,
                    }
                }
                while let Ok(b) = rx.try_recv() {
                    queue.push_back((tokio::time::Instant::now() + delay, b));
                }
                let (due, bytes) = queue.pop_front().expect("non-empty");
                queued.fetch_sub(bytes.len(), Ordering::Relaxed);
                tokio::time::sleep_until(due).await;
                if sink
                    .send(bytes::Bytes::copy_from_slice(&bytes))
                    .await
                    .is_err()
                {
                    return;
                }
            }
        });
        let mut frames = FramedRead::new(rd, self.codec());
        // Budget in KiB units, so a frame of up to max_frame bytes always fits.
        let units = INBOUND_BYTES_PER_PEER.max(self.max_frame) / 1024 + 1;
        let budget = Arc::new(tokio::sync::Semaphore::new(units));
        while let Some(frame) = frames.next().await {
            match frame {
                Ok(b) => {
                    let need = u32::try_from(b.len() / 1024 + 1).unwrap_or(u32::MAX);
                    // Waits (and so stops reading from this peer) while the core is behind.
                    let Ok(permit) = Arc::clone(&budget).acquire_many_owned(need).await else {
                        break;
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
                    break;
                }
            }
        }
        writer.abort();
        self.writers.lock().expect("lock").remove(&peer);
        let _ = self.inbox.send(Inbox::Closed);
    }

    fn send(&self, peer: Option<PeerId>, bytes: Arc<Vec<u8>>) {
        let w = self.writers.lock().expect("lock");
        match peer {
            Some(p) => {
                if let Some((tx, queued)) = w.get(&p) {
                    queue_bounded(tx, queued, bytes);
                }
            }
            None => {
                for (tx, queued) in w.values() {
                    queue_bounded(tx, queued, bytes.clone());
                }
            }
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
        warn(&my, format!(
            "log repaired: a torn tail of {} bytes (an append that never finished: {}) was cut off; {} bytes kept; the log as found is saved as {}",
            r.discarded, r.reason, r.kept, r.saved_as.display()
        ));
    }
    let (inbox_tx, mut inbox) = mpsc::unbounded_channel::<Inbox>();
    let net = Net {
        writers: Arc::new(Mutex::new(BTreeMap::new())),
        next_peer: Arc::new(Mutex::new(0)),
        inbox: inbox_tx.clone(),
        delay: Duration::from_millis(cfg.send_delay_ms),
        max_frame: cfg.max_frame_bytes,
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
    let max_connections = cfg.peers.len() + EXTRA_CONNECTIONS;
    {
        let net = net.clone();
        tokio::spawn(async move {
            while let Ok((s, _)) = listener.accept().await {
                // At most the configured peers and a few more: beyond that, closed at once.
                if net.writers.lock().map_or(0, |w| w.len()) >= max_connections {
                    drop(s);
                    continue;
                }
                tokio::spawn(net.clone().serve(s));
            }
        });
    }
    let dial: Vec<SocketAddr> = cfg
        .peers
        .iter()
        .copied()
        .filter(|p| *p > cfg.listen)
        .collect();
    for addr in dial {
        let net = net.clone();
        tokio::spawn(async move {
            loop {
                if let Ok(s) = TcpStream::connect(addr).await {
                    net.clone().serve(s).await;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        });
    }
    let mut pending: VecDeque<Input> = VecDeque::from([Input::Start]);
    loop {
        let input = match pending.pop_front() {
            Some(i) => i,
            None => match inbox.recv().await {
                None => return Ok(()),
                // The frame leaves the inbox for the core now: its budget permit is returned
                // and the peer's reader may go on.
                Some(Inbox::Frame { peer, bytes, .. }) => Input::Message { peer, bytes },
                Some(Inbox::Timer(t)) => Input::Timer(t),
                Some(Inbox::BadFrame { peer, reason }) => {
                    emit(
                        &my,
                        Event::Rejected {
                            peer,
                            kind: "frame".into(),
                            code: None,
                            reason,
                        },
                    );
                    continue;
                }
                Some(Inbox::Connected { peer }) => {
                    // Catch up with a new peer: ask for what follows our tip.
                    let m = crate::message::Message::GetBlocks {
                        from: node.tip_height() + 1,
                    };
                    net.send(Some(peer), Arc::new(m.to_bytes()));
                    continue;
                }
                Some(Inbox::Closed) => continue,
            },
        };
        for o in node.handle(now_ms(), input) {
            if let Some(e) = crate::events::of_output(&o) {
                emit(&my, e);
            }
            match o {
                Output::Persist(r) => log.append(&r)?,
                Output::Broadcast(m) => net.send(None, Arc::new(m.to_bytes())),
                Output::Send { peer, message } => {
                    net.send(Some(peer), Arc::new(message.to_bytes()))
                }
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
