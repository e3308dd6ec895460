//! The sans-IO consensus core (spec/protocol.md): `Node::handle(now, input)` returns the
//! outputs the runtime must carry out, in order. No sockets, clocks or randomness inside: the
//! time comes with each input, timers are outputs, randomness is the sortition seed.
//!
//! Output order is part of the contract: a [`Output::Persist`] comes before the
//! [`Output::Broadcast`] or [`Output::Accepted`] that depends on it, and the runtime must make
//! it durable before carrying out what follows.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde::Serialize;

use crate::config::{Behaviour, Genesis, Params, Suspension};
use crate::encoding::encode;
use crate::exec::{self, AppState, BlockError, Post, Receipt};
use crate::finality::{initial_label, on_attested_append, pni, Label, LabelState};
use crate::hash::Hash;
use crate::keys::{aggregate, KeyRing, Keypair, PublicKey};
use crate::ledger::{BlockEffects, Ledger};
use crate::message::{
    faults_root, merkle_root, seed_digest, vote_digest, Attestation, Block, Candidate,
    FailedIteration, FaultProof, Header, Message, Outcome, Seed, SignedVote, StepVotes, VoteHeader,
    MAX_FAULTS_PER_BLOCK,
};
use crate::rules::Rule;
use crate::sortition::{committee, generator, Committee, StepKind};
use crate::storage::Record;
use crate::tally::{Accepted as Tally, Thresholds, Vote, VoteKeeper, VoteStep};
pub use reject::Reason;

mod accept;
mod draws;
mod messages;
mod pool;
mod reject;
mod steps;
mod sync;
mod tally;
mod verify;

/// A peer as the runtime numbers it.
pub type PeerId = u64;

/// Buffered messages of future rounds, at most (in all).
const MAX_FUTURE: usize = 4096;
/// Buffered messages of future rounds from one peer, at most: a flooding peer fills its own
/// quota, never another peer's.
const MAX_FUTURE_PER_PEER: usize = 1024;
/// Encoded bytes of buffered future messages, at most (in all / from one peer).
const MAX_FUTURE_BYTES: usize = 32 << 20;
const MAX_FUTURE_BYTES_PER_PEER: usize = 8 << 20;
/// Heights ahead of the tip at which blocks are kept while syncing, at most.
const MAX_PENDING_BLOCKS: u64 = 256;
/// Different blocks kept for one pending height (a junk block never replaces another).
const MAX_PENDING_PER_HEIGHT: usize = 4;
/// Encoded bytes of pending blocks, at most (in all / from one peer).
const MAX_PENDING_BYTES: usize = 64 << 20;
const MAX_PENDING_BYTES_PER_PEER: usize = 16 << 20;
/// Peers whose last GetBlocks answer time is remembered (the oldest are forgotten).
const MAX_GET_BLOCKS_PEERS: usize = 256;
pub use crate::exec::{MAX_BLOCK_TXS, MAX_PAYLOAD_BYTES};
pub use pool::{Admitted, Pool, MAX_PER_SENDER, MAX_POOL, MAX_POOL_BYTES, POOL_TTL_MS};
/// Blocks sent in answer to one GetBlocks.
const BLOCKS_PER_REQUEST: u64 = 64;

/// A timer the core asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Timer {
    /// The timeout of a step (TIME-1, TIME-2).
    Step {
        /// Round.
        round: u64,
        /// Iteration.
        iteration: u8,
        /// Step.
        step: StepKind,
    },
    /// The generator may propose (minimum block time, STEP-PROP-1).
    Propose {
        /// Round.
        round: u64,
        /// Iteration.
        iteration: u8,
    },
    /// No block for the stall timeout: ask for blocks (FORK-2).
    Stall,
}

/// An input to the core.
#[derive(Clone, Debug, PartialEq)]
pub enum Input {
    /// Begin (after construction or restore): start the round on the tip.
    Start,
    /// Bytes received from a peer.
    Message {
        /// Who sent it.
        peer: PeerId,
        /// The frame.
        bytes: Vec<u8>,
    },
    /// A timer fired.
    Timer(Timer),
    /// A transaction from a client (EXEC-POOL-1): checked, then kept in the pool until a
    /// block of this node's chain includes it.
    Transaction(Vec<u8>),
}

/// What the runtime must do, in order.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub enum Output {
    /// Make this record durable before carrying out any later output.
    Persist(Record),
    /// Send to every peer.
    Broadcast(Message),
    /// Send to one peer.
    Send {
        /// The peer.
        peer: PeerId,
        /// The message.
        message: Message,
    },
    /// Fire `timer` after `after_ms`.
    SetTimer {
        /// Which.
        timer: Timer,
        /// Delay.
        after_ms: u64,
    },
    /// A block was appended to the chain.
    Accepted(AcceptedBlock),
    /// A block's label changed (FIN-2, FIN-3).
    Labelled {
        /// Height.
        height: u64,
        /// Hash.
        hash: Hash,
        /// New label.
        label: Label,
    },
    /// FORK-1: the blocks above `to_height` were dropped for a lower-iteration block.
    Fallback {
        /// Old tip height.
        from_height: u64,
        /// The common ancestor kept.
        to_height: u64,
    },
    /// An iteration ended without a block (a Fail attestation or a Ratification timeout).
    IterationFailed {
        /// Round.
        round: u64,
        /// Iteration.
        iteration: u8,
        /// The Fail vote, or None after a timeout.
        vote: Option<Vote>,
    },
    /// Evidence of equivocation was found (kept for the next candidate, SLASH-4).
    Fault(Box<FaultProof>),
    /// A message was rejected; the node's state is unchanged.
    Rejected {
        /// From whom.
        peer: PeerId,
        /// Message kind, or "frame".
        kind: &'static str,
        /// The check it failed (spec/node.md).
        code: Reason,
        /// Why.
        reason: String,
    },
    /// EXEC-STATE-2: the state after a Final block, for the runtime to write beside the log
    /// (replacing the previous one). Not part of the JSON event stream.
    #[serde(skip_serializing)]
    Snapshot(Box<crate::snapshot::Snapshot>),
    /// EXEC-ROOT-2: a block attested by a quorum does not execute to the state its header
    /// commits to, on this node. The node has stopped; the runtime must stop too.
    Halted {
        /// The block's height.
        height: u64,
        /// Its hash.
        hash: Hash,
        /// What went wrong (both roots, or why the block is invalid here).
        reason: String,
    },
}

/// A block appended to the chain, for the runtime's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AcceptedBlock {
    /// Height.
    pub height: u64,
    /// Hash.
    pub hash: Hash,
    /// Iteration it was decided in.
    pub iteration: u8,
    /// Its label when appended.
    pub label: Label,
    /// Generator.
    pub generator: PublicKey,
    /// Signers of its attestation.
    pub voters: Vec<PublicKey>,
    /// Header timestamp (ms).
    pub timestamp: u64,
    /// EXEC-ROOT-1: the state root after it.
    pub state_root: Hash,
    /// One receipt per transaction after the coinbase (EXEC-TX-2).
    pub receipts: Vec<Receipt>,
}

/// Why a node could not be restored from its records.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("record {index}: {problem}")]
pub struct RestoreError {
    /// Index of the offending record.
    pub index: usize,
    /// What is wrong.
    pub problem: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    Proposal,
    Validation,
    Ratification,
    /// ITER-3: after MAX_ITER iterations, wait for a Success of the round.
    Open,
}

/// The sortition of one (round, iteration).
#[derive(Clone, Debug, PartialEq)]
struct Draw {
    generator: Option<PublicKey>,
    validation: Committee<PublicKey>,
    ratification: Committee<PublicKey>,
}

/// Everything known about one iteration of the current round.
#[derive(Clone, Debug, PartialEq)]
struct Iteration {
    draw: Draw,
    candidate: Option<Candidate>,
    valid: Option<bool>,
    val: VoteKeeper<PublicKey>,
    rat: VoteKeeper<PublicKey>,
    val_votes: BTreeMap<PublicKey, SignedVote>,
    rat_votes: BTreeMap<PublicKey, SignedVote>,
    /// Validation quorums: formed locally or attached (verified) to Ratification votes.
    val_quorums: BTreeMap<Vote, StepVotes>,
    attestation: Option<Attestation>,
}

/// What a round is decided on: the tip.
#[derive(Clone, Debug, PartialEq)]
struct Context {
    round: u64,
    prev_hash: Hash,
    prev_timestamp: u64,
    seed: Seed,
    eligible: BTreeMap<PublicKey, u64>,
    /// VAR-SUSP-LIFTED: the set the iterations from RELAXED on are drawn on (ELIG-3 lifted);
    /// None under Dusk's rule.
    unsuspended: Option<BTreeMap<PublicKey, u64>>,
}

#[derive(Clone, Debug, PartialEq)]
struct Round {
    ctx: Context,
    iteration: u8,
    step: Step,
    step_started: u64,
    /// TIME-2: added to each step's timeout for the rest of the round.
    extra: [u64; 3],
    iterations: BTreeMap<u8, Iteration>,
}

/// One block of the chain with its label.
#[derive(Clone, Debug, PartialEq)]
struct Entry {
    block: Block,
    labels: LabelState,
    /// The ledger after this block (`None` below a snapshot's block, EXEC-STATE-2).
    ledger: Option<Ledger>,
    /// The application state after this block (spec/execution.md), held only for the last
    /// Final block and the heights above it (EXEC-STATE-1); `None` below.
    app: Option<Arc<AppState>>,
}

/// The node state machine.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    genesis: Genesis,
    params: Params,
    keys: KeyRing,
    me: Keypair,
    behaviour: Behaviour,
    chain: Vec<Entry>,
    round: Round,
    my_votes: BTreeMap<VoteHeader, SignedVote>,
    my_candidates: BTreeMap<(u64, u8, Hash), Candidate>,
    faults: Vec<FaultProof>,
    /// Messages of future rounds: (sender, encoded bytes, message) per round.
    future: BTreeMap<u64, Vec<(PeerId, usize, Message)>>,
    future_count: usize,
    /// Blocks ahead of the tip: (sender, encoded bytes, block) per height, distinct hashes.
    pending_blocks: BTreeMap<u64, Vec<(PeerId, usize, Block)>>,
    durations: [VecDeque<u64>; 3],
    last_accept: u64,
    last_sync_request: Option<u64>,
    /// When each peer's last GetBlocks was answered (at most [`MAX_GET_BLOCKS_PEERS`] kept).
    answered: BTreeMap<PeerId, u64>,
    started: bool,
    now: u64,
    out: Vec<Output>,
    /// States after the candidates of the current round this node executed (EXEC-BLOCK-3),
    /// reused when one is accepted.
    executed: BTreeMap<Hash, Post>,
    /// Transactions waiting for a block (EXEC-POOL-1, EXEC-POOL-2, EXEC-POOL-3, EXEC-POOL-4).
    pool: Pool,
    /// Heights below this one hold no application state (EXEC-STATE-1).
    pruned_below: usize,
    /// Why this node stopped (EXEC-ROOT-2): it handles no input after.
    halted: Option<String>,
    /// A snapshot every this many Final heights (0: never), and the last one (EXEC-STATE-2).
    snapshot_every: u64,
    last_snapshot: u64,
}

/// Final heights between two snapshots, by default (EXEC-STATE-2).
pub const SNAPSHOT_EVERY: u64 = 1_000;

fn kind_index(k: StepKind) -> usize {
    k as usize
}

/// Thresholds of the configured C (QUORUM-1, QUORUM-2).
fn thresholds(params: &Params) -> Thresholds {
    Thresholds::for_credits(params.committee_credits)
}

/// The members of `committee` whose bits are set, checked against the committee's size.
fn bitset_members(
    committee: &Committee<PublicKey>,
    bitset: u64,
) -> Result<Vec<(PublicKey, u32)>, String> {
    let members: Vec<(PublicKey, u32)> = committee.iter().map(|(k, c)| (*k, *c)).collect();
    if members.len() < 64 && bitset >> members.len() != 0 {
        return Err(format!(
            "bitset {bitset:#x} names positions beyond the committee's {} members",
            members.len()
        ));
    }
    Ok(members
        .into_iter()
        .enumerate()
        .filter(|(i, _)| bitset & (1u64 << i) != 0)
        .map(|(_, m)| m)
        .collect())
}

impl Node {
    /// A fresh node on the genesis (its key ring validated by [`Genesis::validate`]).
    pub fn new(genesis: Genesis, keys: KeyRing, me: Keypair, behaviour: Behaviour) -> Node {
        let params = genesis.params.clone();
        let ledger = Ledger::genesis(&genesis);
        let app = Arc::new(AppState::genesis(&genesis));
        let gblock = Block {
            candidate: Candidate {
                header: Header {
                    height: 0,
                    prev_hash: [0; 32],
                    iteration: 0,
                    timestamp: genesis.timestamp,
                    generator: PublicKey([0; 96]),
                    seed: genesis.genesis_seed(),
                    payload_root: merkle_root(&[]),
                    state_root: exec::state_root(&ledger, &app),
                    faults_root: faults_root(&[]),
                    prev_attestation: None,
                    failed_iterations: vec![],
                },
                payload: vec![],
                faults: vec![],
                signature: crate::keys::Signature::EMPTY,
            },
            attestation: Attestation {
                result: Outcome::Success([0; 32]),
                validation: StepVotes::EMPTY,
                ratification: StepVotes::EMPTY,
            },
        };
        let chain = vec![Entry {
            block: gblock,
            labels: LabelState {
                label: Label::Final,
                confirmed_after: 0,
            },
            ledger: Some(ledger),
            app: Some(app),
        }];
        let ctx = Self::context_of(&chain, &params, 1);
        Node {
            genesis,
            params,
            keys,
            me,
            behaviour,
            chain,
            round: Round {
                ctx,
                iteration: 0,
                step: Step::Proposal,
                step_started: 0,
                extra: [0; 3],
                iterations: BTreeMap::new(),
            },
            my_votes: BTreeMap::new(),
            my_candidates: BTreeMap::new(),
            faults: vec![],
            future: BTreeMap::new(),
            future_count: 0,
            pending_blocks: BTreeMap::new(),
            durations: Default::default(),
            last_accept: 0,
            last_sync_request: None,
            answered: BTreeMap::new(),
            started: false,
            now: 0,
            out: vec![],
            executed: BTreeMap::new(),
            pool: Pool::default(),
            pruned_below: 0,
            halted: None,
            snapshot_every: SNAPSHOT_EVERY,
            last_snapshot: 0,
        }
    }

    /// A node rebuilt from its log: accepted blocks (re-verified and re-executed, EXEC-ROOT-2),
    /// reverts, and every vote and candidate it signed, so that it never signs a different one
    /// for the same step.
    pub fn restore(
        genesis: Genesis,
        keys: KeyRing,
        me: Keypair,
        behaviour: Behaviour,
        records: &[Record],
    ) -> Result<Node, RestoreError> {
        Self::restore_from(genesis, keys, me, behaviour, None, records)
    }

    /// [`Node::restore`] starting from a snapshot (EXEC-STATE-2): the log's blocks up to the
    /// snapshot's block are taken as they are (this node verified and executed them before it
    /// logged them), the snapshot's state is installed at that block after its hash and state
    /// root are checked against the log's block, and only the blocks after it are verified and
    /// executed. A snapshot whose block the log does not hold (or later reverts) is not used.
    pub fn restore_from(
        genesis: Genesis,
        keys: KeyRing,
        me: Keypair,
        behaviour: Behaviour,
        snapshot: Option<&crate::snapshot::Snapshot>,
        records: &[Record],
    ) -> Result<Node, RestoreError> {
        let mut node = Node::new(genesis, keys, me, behaviour);
        // The last record that accepts the snapshot's block, if no later record reverts it.
        let trusted_until = snapshot.and_then(|s| {
            let at = records.iter().rposition(|r| {
                matches!(r, Record::Accepted(b) if b.header().height == s.height && b.hash() == s.hash)
            })?;
            let reverted = records[at..].iter().any(
                |r| matches!(r, Record::Reverted { to_height } if *to_height < s.height),
            );
            (!reverted && s.height >= 1).then_some(at)
        });
        for (index, r) in records.iter().enumerate() {
            let err = |problem: String| RestoreError { index, problem };
            let trusted = trusted_until.is_some_and(|t| index <= t);
            match r {
                Record::Voted(v) => {
                    if v.signer != node.me.public {
                        return Err(err("a vote signed by another key".into()));
                    }
                    node.my_votes.insert(v.header, *v);
                }
                Record::Proposed(c) => {
                    let h = &c.header;
                    node.my_candidates
                        .insert((h.height, h.iteration, h.prev_hash), (**c).clone());
                }
                Record::Accepted(b) => {
                    let tip = node.tip_height();
                    if b.header().height != tip + 1 {
                        return Err(err(format!(
                            "block at height {} does not extend the tip {tip}",
                            b.header().height
                        )));
                    }
                    if trusted {
                        node.chain.push(Entry {
                            block: b.as_ref().clone(),
                            labels: LabelState {
                                label: Label::Final,
                                confirmed_after: 0,
                            },
                            ledger: None,
                            app: None,
                        });
                        if Some(index) == trusted_until {
                            node.install(snapshot.expect("trusted only with one"))
                                .map_err(err)?;
                        }
                        continue;
                    }
                    node.round.ctx = Self::context_of(&node.chain, &node.params, tip + 1);
                    node.verify_block(b).map_err(|(_, e)| err(e))?;
                    // EXEC-ROOT-2: a restored block is executed and its root checked.
                    let post = node.execute(&b.candidate, true).map_err(|e| {
                        err(format!(
                            "block {} at height {}: {e}",
                            crate::keys::to_hex(&b.hash()),
                            b.header().height
                        ))
                    })?;
                    node.append(b.as_ref().clone(), post);
                }
                Record::Reverted { to_height } => {
                    let floor = if trusted { 0 } else { node.last_final() };
                    if *to_height >= node.tip_height() || *to_height < floor {
                        return Err(err(format!("revert to {to_height} is not allowed here")));
                    }
                    node.chain.truncate(*to_height as usize + 1);
                }
            }
        }
        node.out.clear();
        node.round.ctx = Self::context_of(&node.chain, &node.params, node.tip_height() + 1);
        Ok(node)
    }

    /// Installs a snapshot's state at its block, the tip (EXEC-STATE-2), after checking the
    /// block's hash and that the state gives the block's state root.
    fn install(&mut self, s: &crate::snapshot::Snapshot) -> Result<(), String> {
        Rule::ExecState2.applies();
        let h = s.height as usize;
        let b = &self.chain[h].block;
        if b.hash() != s.hash {
            return Err(format!(
                "the snapshot names block {} at height {h}, the log holds {}",
                crate::keys::to_hex(&s.hash),
                crate::keys::to_hex(&b.hash())
            ));
        }
        let root = exec::state_root(&s.ledger, &s.app);
        if root != b.header().state_root {
            return Err(format!(
                "the snapshot's state gives root {}, block {h}'s header commits to {}",
                crate::keys::to_hex(&root),
                crate::keys::to_hex(&b.header().state_root)
            ));
        }
        self.chain[h - 1].ledger = Some(s.prev_ledger.clone());
        self.chain[h].ledger = Some(s.ledger.clone());
        self.chain[h].app = Some(Arc::clone(&s.app));
        for e in &mut self.chain[..h] {
            e.app = None;
        }
        self.pruned_below = h;
        self.last_snapshot = s.height;
        Ok(())
    }

    /// Sets how many Final heights pass between two snapshots (0: never; EXEC-STATE-2).
    pub fn set_snapshot_every(&mut self, every: u64) {
        self.snapshot_every = every;
    }

    /// Handles one input at time `now` (ms) and returns what the runtime must do.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Output> {
        if self.halted.is_some() {
            return vec![];
        }
        self.now = now;
        match input {
            Input::Start => {
                if !self.started {
                    self.started = true;
                    self.last_accept = now;
                    self.set_timer(Timer::Stall, self.params.stall_timeout_ms);
                    self.start_round();
                }
            }
            Input::Message { peer, bytes } => match Message::from_bytes(&bytes) {
                Ok(m) => self.on_message(peer, m),
                Err(e) => self.out.push(Output::Rejected {
                    peer,
                    kind: "frame",
                    code: Reason::Decode,
                    reason: e.to_string(),
                }),
            },
            Input::Timer(t) => self.on_timer(t),
            Input::Transaction(tx) => self.on_transaction(u64::MAX, tx),
        }
        std::mem::take(&mut self.out)
    }

    /// This node's key.
    pub fn public_key(&self) -> PublicKey {
        self.me.public
    }
    /// Height of the tip.
    pub fn tip_height(&self) -> u64 {
        self.chain.len() as u64 - 1
    }
    /// Hash of the tip.
    pub fn tip_hash(&self) -> Hash {
        self.chain.last().expect("genesis").block.hash()
    }
    /// Height of the last Final block.
    pub fn last_final(&self) -> u64 {
        self.chain
            .iter()
            .rposition(|e| e.labels.label == Label::Final)
            .unwrap_or(0) as u64
    }
    /// (hash, label) of every block, by height.
    pub fn chain_labels(&self) -> Vec<(Hash, Label)> {
        self.chain
            .iter()
            .map(|e| (e.block.hash(), e.labels.label))
            .collect()
    }
    /// The block at `height`.
    pub fn block(&self, height: u64) -> Option<&Block> {
        self.chain.get(height as usize).map(|e| &e.block)
    }
    /// The ledger after the block at `height`.
    pub fn ledger_at(&self, height: u64) -> Option<&Ledger> {
        self.chain.get(height as usize)?.ledger.as_ref()
    }

    /// Why the node halted (EXEC-ROOT-2), if it did.
    pub fn halted(&self) -> Option<&str> {
        self.halted.as_deref()
    }

    /// The ledger after the tip.
    pub fn ledger(&self) -> &Ledger {
        self.chain
            .last()
            .and_then(|e| e.ledger.as_ref())
            .expect("the tip's ledger is held")
    }
    /// The current round and iteration.
    pub fn position(&self) -> (u64, u8) {
        (self.round.ctx.round, self.round.iteration)
    }
    /// The step the node is in: "proposal", "validation", "ratification", or "open" (ITER-3).
    pub fn step(&self) -> &'static str {
        match self.round.step {
            Step::Proposal => "proposal",
            Step::Validation => "validation",
            Step::Ratification => "ratification",
            Step::Open => "open",
        }
    }
    /// Replaces the fault-injection behaviour (`sa testnet --misbehave`; conformance adapters
    /// that make one proposal of a trace invalid).
    pub fn set_behaviour(&mut self, b: Behaviour) {
        self.behaviour = b;
    }
    /// The votes this node signed.
    pub fn my_votes(&self) -> impl Iterator<Item = &SignedVote> {
        self.my_votes.values()
    }
    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }
    /// The current round's sortition of `iteration` (SORT-*): its generator and its Validation
    /// and Ratification committees (credits per member).
    pub fn committees(
        &self,
        iteration: u8,
    ) -> (
        Option<PublicKey>,
        Committee<PublicKey>,
        Committee<PublicKey>,
    ) {
        let d = Self::draw(&self.params, &self.round.ctx, iteration);
        (d.generator, d.validation, d.ratification)
    }
}

impl Node {
    /// EXEC-BLOCK-*: executes `c` on its parent (a block of this node's chain) and returns the
    /// state after it, or why the block is invalid. The header's `state_root` is compared
    /// only with `check_root`.
    pub fn execute(&self, c: &Candidate, check_root: bool) -> Result<Post, BlockError> {
        let h = &c.header;
        let parent = h
            .height
            .checked_sub(1)
            .and_then(|p| self.chain.get(p as usize))
            .filter(|e| e.block.hash() == h.prev_hash)
            .ok_or_else(|| BlockError::Malformed {
                index: 0,
                problem: "the parent block is not on this node's chain".into(),
            })?;
        let txs = exec::decode_payload(&c.payload, h.height, &h.generator)?;
        let fx = self.effects(h, &c.faults);
        let mut ledger = parent.ledger.clone().ok_or_else(|| BlockError::Malformed {
            index: 0,
            problem: "the parent is below the restored snapshot".into(),
        })?;
        ledger.apply(&fx, &self.params);
        let mut app = parent
            .app
            .as_deref()
            .cloned()
            .ok_or_else(|| BlockError::Malformed {
                index: 0,
                problem: "the parent is below the last Final block".into(),
            })?;
        let receipts = exec::run_transactions(
            &txs,
            h.height,
            &mut ledger,
            &mut app,
            &self.keys,
            &self.params,
            &|t| self.pool.holds(t),
        )?;
        let root = exec::state_root(&ledger, &app);
        Rule::ExecBlock3.applies();
        if check_root && root != h.state_root {
            return Err(BlockError::StateRoot {
                claimed: crate::keys::to_hex(&h.state_root),
                computed: crate::keys::to_hex(&root),
            });
        }
        Ok(Post {
            ledger,
            app: Arc::new(app),
            receipts,
            root,
        })
    }

    /// The state root a candidate must carry (for harnesses that build candidates).
    pub fn expected_state_root(&self, c: &Candidate) -> Result<Hash, BlockError> {
        self.execute(c, false).map(|p| p.root)
    }

    /// EXEC-POOL-1, EXEC-POOL-2: a client's (`peer` `u64::MAX`) or a peer's transaction
    /// joins the pool and is relayed once, or is rejected (kind `transaction`) and nothing
    /// changes.
    pub(super) fn on_transaction(&mut self, peer: PeerId, bytes: Vec<u8>) {
        let tip = Arc::clone(self.tip_app());
        match self.pool.admit(bytes.clone(), self.now, &tip, false) {
            Ok(Admitted::Added | Admitted::Replaced) => self
                .out
                .push(Output::Broadcast(Message::Transaction(bytes))),
            Ok(Admitted::Known) => {}
            Err(reason) => self.out.push(Output::Rejected {
                peer,
                kind: "transaction",
                code: Reason::Transaction,
                reason,
            }),
        }
    }

    /// The application state after the tip (always held).
    pub(super) fn tip_app(&self) -> &Arc<AppState> {
        self.chain
            .last()
            .and_then(|e| e.app.as_ref())
            .expect("the tip's state is held")
    }

    /// Transactions waiting in the pool.
    pub fn pool_len(&self) -> usize {
        self.pool.len()
    }

    /// The pool.
    pub fn pool(&self) -> &Pool {
        &self.pool
    }

    /// The application state after the block at `height` of this node's chain, if held (the
    /// last Final block and above, EXEC-STATE-1).
    pub fn app_state_at(&self, height: u64) -> Option<&AppState> {
        self.chain.get(height as usize)?.app.as_deref()
    }

    /// The application state after the tip.
    pub fn app_state(&self) -> &AppState {
        self.tip_app()
    }

    /// How many heights hold an application state (EXEC-STATE-1: at most the non-final
    /// heights and the last Final one).
    pub fn app_states_held(&self) -> usize {
        self.chain.iter().filter(|e| e.app.is_some()).count()
    }
}

/// Encoded size of a message (for tests and benchmarks).
pub fn encoded_len(m: &Message) -> usize {
    encode(m).len()
}
