//! The transaction load a testnet can carry: the hostile contracts (`--hostile-load`) and the
//! audit's attacks on state (`--attack-load`), sent by a client thread over the runtime's
//! frames.

use sa_node::transport::ChannelWriter;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::time::Duration;

use sa_node::keys::Keypair;

/// `--hostile-load`: connects to every node as a client, deploys the sample contracts, then
/// calls each of them every 250 ms until `stop`; returns the transactions sent. Transactions
/// are signed by the running provisioners' keys (funded at genesis), round robin, each key's
/// at consecutive nonces (EXEC-TX-1); new ones are sent only while at most 8 per key are
/// waiting (`included` counts what blocks took), so that none falls outside a pool's nonce
/// window (EXEC-POOL-1). Each goes to every node (a node relays what it admits; duplicates
/// are ignored). Frames are the runtime's (4-byte big-endian length, then
/// `Message::Transaction`); what the nodes send back is read and dropped. A node that is down
/// is retried on the next batch.
pub(crate) fn hostile_load(
    addrs: &[SocketAddr],
    chain: &Chain,
    stop: &std::sync::atomic::AtomicBool,
    included: &std::sync::atomic::AtomicU64,
    attack: bool,
) -> u64 {
    use sa_node::exec::{self, contract_id, samples};
    let keys: Vec<Keypair> = (0..addrs.len() as u32).map(Keypair::testnet).collect();
    let mut nonces = vec![0u64; keys.len()];
    let mut turn = 0usize;
    let mut sign = |nonces: &mut Vec<u64>, f: &dyn Fn(&Keypair, u64) -> exec::Tx| {
        let k = turn % keys.len();
        turn += 1;
        nonces[k] += 1;
        f(&keys[k], nonces[k] - 1).encode()
    };
    let benign = samples::compile(samples::BENIGN);
    let mut modules: Vec<Vec<u8>> = samples::hostile().into_iter().map(|h| h.1).collect();
    modules.push(benign.clone());
    let mut queue: std::collections::VecDeque<Vec<u8>> = modules
        .iter()
        .map(|code| sign(&mut nonces, &|k, n| exec::deploy(k, n, code.clone())))
        .collect();
    let attacks = if attack {
        Attacks::new(&benign, queue.front().cloned().unwrap_or_default())
    } else {
        Attacks::default()
    };
    let mut conns: Vec<Option<ChannelWriter>> = addrs.iter().map(|_| None).collect();
    let mut sent = 0u64;
    let mut batch = 0u64;
    let room = 8 * keys.len() as u64;
    while !stop.load(Ordering::SeqCst) {
        if queue.is_empty() {
            for (k, code) in modules.iter().enumerate() {
                let input = format!("call {batch} {k}").into_bytes();
                let gas = if *code == benign { 100_000 } else { 1_000_000 };
                let id = contract_id(code);
                queue.push_back(sign(&mut nonces, &|key, n| {
                    exec::call(key, n, id, input.clone(), gas)
                }));
            }
            batch += 1;
        }
        let waiting = sent.saturating_sub(included.load(Ordering::SeqCst));
        let take = room.saturating_sub(waiting).min(queue.len() as u64) as usize;
        let txs: Vec<Vec<u8>> = queue.drain(..take).collect();
        let mut delivered = false;
        // The replay is refused only once its original is in a block (before, it is a
        // duplicate the pool already holds): attacks start after the first batch is in.
        let attacking = attack && included.load(Ordering::SeqCst) > 0;
        for (i, addr) in addrs.iter().enumerate() {
            if conns[i].is_none() {
                conns[i] = client(addr, chain);
            }
            let Some(s) = conns[i].as_mut() else { continue };
            if txs.iter().all(|tx| s.send(&message(tx)).is_ok()) {
                delivered = true;
            } else {
                conns[i] = None;
                continue;
            }
            if attacking
                && !attacks
                    .at(&keys[0], nonces[0])
                    .iter()
                    .all(|tx| s.send(&message(tx)).is_ok())
            {
                conns[i] = None;
            }
        }
        if delivered {
            sent += txs.len() as u64;
        } else {
            // No node took them: send them again first next time (the nonces stay in order).
            for tx in txs.into_iter().rev() {
                queue.push_front(tx);
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    sent
}

/// The message of a transaction (the channel seals it into a frame).
fn message(tx: &[u8]) -> Vec<u8> {
    sa_node::message::Message::Transaction(tx.to_vec()).to_bytes()
}

/// What a client must know of a chain to pass a node's handshake.
#[derive(Clone, Debug)]
pub(crate) struct Chain {
    /// `sa_node::transport::chain_id` of the genesis.
    pub id: [u8; 32],
    /// The provisioners' keys (the node must prove it holds one).
    pub provisioners: std::collections::BTreeSet<sa_node::keys::PublicKey>,
    /// The client's own key (any key; a client is not a provisioner).
    pub key: Keypair,
}

impl Chain {
    /// Reads the genesis file of a testnet.
    pub(crate) fn of(genesis: &std::path::Path) -> Result<Chain, String> {
        let (g, _) = sa_node::config::Genesis::load(genesis).map_err(|e| e.to_string())?;
        Ok(Chain {
            id: sa_node::transport::chain_id(&g),
            provisioners: g.provisioners.iter().map(|p| p.key).collect(),
            key: Keypair::from_seed(&[0xC1; 32]),
        })
    }
}

/// A client connection to a node, past the handshake; what the node sends back is read and
/// dropped.
fn client(addr: &SocketAddr, chain: &Chain) -> Option<ChannelWriter> {
    let s = std::net::TcpStream::connect_timeout(addr, Duration::from_millis(200)).ok()?;
    let c =
        sa_node::transport::client_handshake(s, &chain.key, chain.id, &chain.provisioners).ok()?;
    let mut reader = c.reader;
    std::thread::spawn(move || while reader.recv(1 << 24).is_ok() {});
    Some(c.writer)
}

/// `--attack-load`: what every node must refuse (never counted as sent).
#[derive(Default)]
struct Attacks {
    thief: Option<Keypair>,
    code: Vec<u8>,
    fixed: Vec<Vec<u8>>,
}

impl Attacks {
    /// A deploy from the thief's empty account, a replay of `first`, 100 junk calls from
    /// 100 empty accounts.
    fn new(code: &[u8], first: Vec<u8>) -> Attacks {
        use sa_node::exec;
        let thief = Keypair::testnet(900);
        let mut fixed = vec![exec::deploy(&thief, 0, code.to_vec()).encode(), first];
        fixed.extend(
            (0..100u32).map(|j| {
                exec::call(&Keypair::testnet(1_000 + j), 0, [9; 32], vec![], 1_000).encode()
            }),
        );
        Attacks {
            thief: Some(thief),
            code: code.to_vec(),
            fixed,
        }
    }

    /// The fixed attacks and a deploy naming `victim`'s account at `nonce` (the load's next
    /// for it: inside the pool's window and payable, so only the signature refuses it),
    /// signed by the thief.
    fn at(&self, victim: &Keypair, nonce: u64) -> Vec<Vec<u8>> {
        let Some(thief) = &self.thief else {
            return vec![];
        };
        let mut t = sa_node::exec::deploy(victim, nonce, self.code.clone());
        if let sa_node::exec::Tx::Signed(s) = &mut t {
            s.signature = thief.sign(&s.digest());
        }
        let mut v = self.fixed.clone();
        v.push(t.encode());
        v
    }
}
