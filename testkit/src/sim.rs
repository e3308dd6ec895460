//! A deterministic in-memory network for the sans-IO core: virtual time, timers, execution,
//! absent and crashed nodes, restarts from exactly what each node persisted, and a filter that
//! can drop or hold messages. The node's tests, the fault campaign and `sa soak`'s checks run
//! the core on it; it does no I/O.

use std::collections::{BTreeSet, VecDeque};

use sa_node::config::{Behaviour, Genesis, Params};
use sa_node::keys::{KeyRing, Keypair};
use sa_node::message::Message;
use sa_node::node::{Input, Node, Output, Timer};
use sa_node::storage::{Log, Record, StorageError};

use crate::disk::{Crash, SimDisk};

/// Decides whether a message from `from` to `to` is delivered now (true), dropped (false).
pub type Filter = Box<dyn FnMut(usize, usize, &Message) -> bool>;

/// N nodes, their logs and outputs, virtual time, the queue of inputs and the timers.
pub struct Sim {
    pub genesis: Genesis,
    pub ring: KeyRing,
    pub nodes: Vec<Option<Node>>,
    pub behaviours: Vec<Behaviour>,
    /// Records each node persisted, in order (its durable log).
    pub logs: Vec<Vec<Record>>,
    /// Every output of each node, in order, across incarnations.
    pub history: Vec<Vec<Output>>,
    /// Inputs handled by each node, across incarnations.
    pub inputs: Vec<u64>,
    pub now: u64,
    queue: VecDeque<(usize, Input)>,
    timers: BTreeSet<(u64, u64, usize, Timer)>,
    seq: u64,
    pub filter: Filter,
    /// Messages held back by `hold`, delivered by `release`.
    pub held: Vec<(usize, usize, Message)>,
    pub hold: Filter,
    /// Kill node `.0` in the middle of its next input that persists something: after carrying
    /// out only the first `.1` of that input's outputs (a crash between a persist, its fsync
    /// and the send it guards: outputs after the cut, a record's durability included, never
    /// happen).
    pub cut_after: Option<(usize, usize)>,
    /// The last cut made: (outputs the input produced, whether one of them was a Persist,
    /// outputs carried out).
    pub last_cut: Option<(usize, bool, usize)>,
    /// The broken runtime: carries out every other output before the Persists of the same
    /// input (sends before the record is durable).
    pub send_before_persist: bool,
    /// Nodes whose log is sa-node's `Log` on a simulated disk ([`Sim::attach_disk`]): their
    /// Persists are appended there; an append that fails stops the node before the rest of
    /// that input's outputs, as the runtime does (`log.append(&r)?`).
    pub disks: Vec<Option<DiskLog>>,
    /// The broken runtime for the disk: an append that fails is ignored and the input's
    /// other outputs carried out (a node that goes on after its storage failed).
    pub ignore_storage_errors: bool,
    /// Appends that failed, per node (the node stopped at each, unless ignored).
    pub storage_failures: Vec<u64>,
}

/// A node's `Log` on a [`SimDisk`]; `log` is `None` while the node is down.
pub struct DiskLog {
    /// The disk, shared with the test that crashes it.
    pub disk: SimDisk,
    /// The open log.
    pub log: Option<Log>,
}

/// The path the simulated logs are named by.
const LOG_PATH: &str = "node.log";

/// Small, fast parameters: no minimum block time, 1 s timeouts.
pub fn params(c: u32) -> Params {
    Params {
        committee_credits: c,
        minimum_stake: 1_000_000_000,
        min_block_time_ms: 0,
        timeout_min_ms: 500,
        timeout_max_ms: 1_000,
        timeout_increase_ms: 100,
        max_future_ms: 1_000,
        stall_timeout_ms: 20_000,
        epoch: 10,
        ..Params::default()
    }
}

impl Sim {
    /// `n` provisioners of `stake` lux; the ones in `absent` never start.
    pub fn new(n: u32, p: Params, stake: u64, absent: &[usize]) -> Sim {
        let genesis = Genesis::testnet(n, stake, p, 1_000);
        let ring = genesis.validate().expect("valid genesis");
        let nodes = (0..n as usize)
            .map(|i| {
                (!absent.contains(&i)).then(|| {
                    Node::new(
                        genesis.clone(),
                        ring.clone(),
                        Keypair::testnet(i as u32),
                        Behaviour::default(),
                    )
                })
            })
            .collect();
        Sim {
            genesis,
            ring,
            nodes,
            behaviours: vec![Behaviour::default(); n as usize],
            logs: vec![vec![]; n as usize],
            history: vec![vec![]; n as usize],
            inputs: vec![0; n as usize],
            now: 10_000,
            queue: VecDeque::new(),
            timers: BTreeSet::new(),
            seq: 0,
            filter: Box::new(|_, _, _| true),
            held: vec![],
            hold: Box::new(|_, _, _| false),
            cut_after: None,
            last_cut: None,
            send_before_persist: false,
            disks: (0..n).map(|_| None).collect(),
            ignore_storage_errors: false,
            storage_failures: vec![0; n as usize],
        }
    }

    /// Gives every node one cache of verified signatures (`KeyRing::with_cache`, as the runtime
    /// shares one between its connections and its core): a signature is verified once for the
    /// whole network instead of once per node. Forgeries are never cached, so no check
    /// changes; campaigns that run many heights use it for speed. Before `start`.
    pub fn share_verified_signatures(&mut self) {
        self.ring = self.ring.clone().with_cache(1 << 16);
        for i in 0..self.nodes.len() {
            if self.nodes[i].is_some() {
                self.nodes[i] = Some(Node::new(
                    self.genesis.clone(),
                    self.ring.clone(),
                    Keypair::testnet(i as u32),
                    self.behaviours[i].clone(),
                ));
            }
        }
    }

    /// Replaces node `i` with one of the given behaviour (before `start`).
    pub fn set_behaviour(&mut self, i: usize, b: Behaviour) {
        self.behaviours[i] = b.clone();
        if self.nodes[i].is_some() {
            self.nodes[i] = Some(Node::new(
                self.genesis.clone(),
                self.ring.clone(),
                Keypair::testnet(i as u32),
                b,
            ));
        }
    }

    pub fn start(&mut self) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].is_some() {
                self.queue.push_back((i, Input::Start));
            }
        }
    }

    /// A client's transaction, given to every running node (EXEC-POOL-1).
    pub fn submit(&mut self, tx: Vec<u8>) {
        for i in 0..self.nodes.len() {
            if self.nodes[i].is_some() {
                self.queue.push_back((i, Input::Transaction(tx.clone())));
            }
        }
    }

    pub fn node(&self, i: usize) -> &Node {
        self.nodes[i].as_ref().expect("running node")
    }

    pub fn running(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().flatten()
    }

    /// Kills node `i`: its in-memory state, queued inputs and timers are lost; its log stays.
    pub fn crash(&mut self, i: usize) {
        self.nodes[i] = None;
        self.queue.retain(|(j, _)| *j != i);
        self.timers.retain(|(_, _, j, _)| *j != i);
    }

    /// Restarts node `i` from its log.
    pub fn restart(&mut self, i: usize) {
        let n = Node::restore(
            self.genesis.clone(),
            self.ring.clone(),
            Keypair::testnet(i as u32),
            self.behaviours[i].clone(),
            &self.logs[i],
        )
        .expect("the log restores");
        self.nodes[i] = Some(n);
        self.queue.push_back((i, Input::Start));
    }

    fn send(&mut self, from: usize, to: usize, m: &Message) {
        if self.nodes[to].is_none() || !(self.filter)(from, to, m) {
            return;
        }
        if (self.hold)(from, to, m) {
            self.held.push((from, to, m.clone()));
            return;
        }
        self.queue.push_back((
            to,
            Input::Message {
                peer: from as u64,
                bytes: m.to_bytes(),
            },
        ));
    }

    /// Delivers every held message.
    pub fn release(&mut self) {
        for (from, to, m) in std::mem::take(&mut self.held) {
            if self.nodes[to].is_some() {
                self.queue.push_back((
                    to,
                    Input::Message {
                        peer: from as u64,
                        bytes: m.to_bytes(),
                    },
                ));
            }
        }
    }

    /// Feeds one input to node `i` and routes its outputs; returns them.
    pub fn deliver(&mut self, i: usize, input: Input) -> Vec<Output> {
        let Some(node) = self.nodes[i].as_mut() else {
            return vec![];
        };
        let mut outs = node.handle(self.now, input);
        self.inputs[i] += 1;
        if self.send_before_persist {
            outs.sort_by_key(|o| matches!(o, Output::Persist(_)));
        }
        let cut = match self.cut_after {
            Some((c, n)) if c == i && outs.iter().any(|o| matches!(o, Output::Persist(_))) => {
                self.cut_after = None;
                let persists = true;
                self.last_cut = Some((outs.len(), persists, n.min(outs.len())));
                outs.truncate(n);
                true
            }
            _ => false,
        };
        let mut stopped = false;
        let mut carried = outs.len();
        for (k, o) in outs.iter().enumerate() {
            match o {
                Output::Persist(r) => match self.disks[i].as_mut().and_then(|d| d.log.as_mut()) {
                    None => self.logs[i].push(r.clone()),
                    Some(log) => match log.append(r) {
                        Ok(()) => self.logs[i].push(r.clone()),
                        Err(_) => {
                            self.storage_failures[i] += 1;
                            if !self.ignore_storage_errors {
                                stopped = true;
                                carried = k;
                                break;
                            }
                        }
                    },
                },
                Output::Broadcast(m) => {
                    for j in 0..self.nodes.len() {
                        if j != i {
                            self.send(i, j, m);
                        }
                    }
                }
                Output::Send { peer, message } if (*peer as usize) < self.nodes.len() => {
                    self.send(i, *peer as usize, message)
                }
                Output::SetTimer { timer, after_ms } => {
                    self.seq += 1;
                    self.timers
                        .insert((self.now + after_ms, self.seq, i, *timer));
                }
                _ => {}
            }
        }
        outs.truncate(carried);
        self.history[i].extend(outs.iter().cloned());
        if cut || stopped {
            self.crash(i);
        }
        outs
    }

    /// Puts node `i`'s log on `disk` (opened now: the node must be new, its log empty).
    pub fn attach_disk(&mut self, i: usize, disk: SimDisk) -> Result<(), StorageError> {
        let (log, records) = Log::open_on(std::path::Path::new(LOG_PATH), Box::new(disk.clone()))?;
        assert!(records.is_empty() && self.logs[i].is_empty(), "a used log");
        self.disks[i] = Some(DiskLog {
            disk,
            log: Some(log),
        });
        Ok(())
    }

    /// Node `i`'s process dies: [`Sim::crash`], and what its disk held unsynced is lost, torn
    /// or zero-filled as `how` says.
    pub fn crash_disk(&mut self, i: usize, how: Crash) {
        self.crash(i);
        if let Some(d) = self.disks[i].as_mut() {
            d.log = None;
            d.disk.crash(how);
        }
    }

    /// Restarts node `i` from what its disk kept (the log reopened and repaired as the runtime
    /// does); returns the records read. An error (the reopening failed under a fault) leaves
    /// the node down.
    pub fn restart_from_disk(&mut self, i: usize) -> Result<Vec<Record>, StorageError> {
        let d = self.disks[i].as_mut().expect("a node with a disk");
        let (log, records) =
            Log::open_on(std::path::Path::new(LOG_PATH), Box::new(d.disk.clone()))?;
        d.log = Some(log);
        self.logs[i] = records.clone();
        self.restart(i);
        Ok(records)
    }

    /// Every vote and candidate node `i` ever sent, across its incarnations, checked for
    /// equivocation: two different votes for one step, two candidates for one iteration.
    pub fn equivocations(&self, i: usize) -> Vec<String> {
        use sa_node::message::VoteHeader;
        use sa_node::tally::Vote;
        let mut votes: std::collections::BTreeMap<VoteHeader, Vote> = Default::default();
        let mut cands: std::collections::BTreeMap<(u64, u8), [u8; 32]> = Default::default();
        let mut bad = vec![];
        for o in &self.history[i] {
            let Output::Broadcast(m) = o else { continue };
            match m {
                Message::Validation(v) | Message::Ratification { vote: v, .. } => {
                    if let Some(old) = votes.insert(v.header, v.vote) {
                        if old != v.vote {
                            bad.push(format!("{:?}: {old:?} then {:?}", v.header, v.vote));
                        }
                    }
                }
                Message::Candidate(c) => {
                    let k = (c.header.height, c.header.iteration);
                    if let Some(old) = cands.insert(k, c.header.hash()) {
                        if old != c.header.hash() {
                            bad.push(format!("two candidates for {k:?}"));
                        }
                    }
                }
                _ => {}
            }
        }
        bad
    }

    /// Heights where two running nodes hold different Final blocks.
    pub fn final_disagreements(&self) -> Vec<u64> {
        let running: Vec<&Node> = self.running().collect();
        let top = running.iter().map(|n| n.last_final()).max().unwrap_or(0);
        (1..=top)
            .filter(|&h| {
                let hashes: BTreeSet<[u8; 32]> = running
                    .iter()
                    .filter(|n| n.last_final() >= h)
                    .filter_map(|n| n.block(h).map(|b| b.candidate.header.hash()))
                    .collect();
                hashes.len() > 1
            })
            .collect()
    }

    /// One input (or a time advance to the next timer). False when nothing is left.
    pub fn step(&mut self) -> bool {
        if let Some((i, input)) = self.queue.pop_front() {
            self.deliver(i, input);
            return true;
        }
        let Some(first) = self.timers.iter().next().cloned() else {
            return false;
        };
        self.timers.remove(&first);
        let (t, _, i, timer) = first;
        self.now = self.now.max(t);
        self.deliver(i, Input::Timer(timer));
        true
    }

    /// Runs until `done` holds or virtual time passes `max_ms` from now.
    pub fn run_until(&mut self, max_ms: u64, mut done: impl FnMut(&Sim) -> bool) -> bool {
        let end = self.now + max_ms;
        while self.now <= end {
            if done(self) {
                return true;
            }
            if !self.step() {
                return done(self);
            }
        }
        done(self)
    }

    /// The lowest tip among running nodes.
    pub fn min_tip(&self) -> u64 {
        self.running().map(|n| n.tip_height()).min().unwrap_or(0)
    }

    /// Outputs of node `i` matching `f`.
    pub fn outputs_of<'a>(&'a self, i: usize) -> impl Iterator<Item = &'a Output> + 'a {
        self.history[i].iter()
    }
}

impl Sim {
    /// Debug aid: the pending timers (due time, node, timer).
    pub fn timers(&self) -> Vec<(u64, usize, Timer)> {
        self.timers
            .iter()
            .map(|(t, _, i, x)| (*t, *i, *x))
            .collect()
    }

    /// Debug aid: queue length, held messages and timers.
    pub fn load(&self) -> (usize, usize, usize) {
        (self.queue.len(), self.held.len(), self.timers.len())
    }
}
