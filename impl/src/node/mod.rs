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

use crate::config::{Behaviour, Genesis, Params};
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
/// Transactions kept in the pool, at most (EXEC-POOL-1).
pub const MAX_POOL: usize = 4096;
/// Transactions (after the coinbase) a generator puts in one block, at most.
pub const MAX_BLOCK_TXS: usize = 256;
/// Encoded bytes of one block's transactions, at most (well under a frame).
pub const MAX_PAYLOAD_BYTES: usize = 512 * 1024;
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
    /// The ledger after this block.
    ledger: Ledger,
    /// The application state after this block (spec/execution.md).
    app: Arc<AppState>,
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
    /// Transactions waiting for a block, in arrival order, by hash.
    pool: VecDeque<(Hash, Vec<u8>)>,
}

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
            ledger,
            app,
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
            pool: VecDeque::new(),
        }
    }

    /// A node rebuilt from its log: accepted blocks (re-verified), reverts, and every vote and
    /// candidate it signed, so that it never signs a different one for the same step.
    pub fn restore(
        genesis: Genesis,
        keys: KeyRing,
        me: Keypair,
        behaviour: Behaviour,
        records: &[Record],
    ) -> Result<Node, RestoreError> {
        let mut node = Node::new(genesis, keys, me, behaviour);
        for (index, r) in records.iter().enumerate() {
            let err = |problem: String| RestoreError { index, problem };
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
                    node.round.ctx = Self::context_of(&node.chain, &node.params, tip + 1);
                    node.verify_block(b).map_err(|(_, e)| err(e))?;
                    node.append(b.as_ref().clone());
                }
                Record::Reverted { to_height } => {
                    if *to_height >= node.tip_height() || *to_height < node.last_final() {
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

    /// Handles one input at time `now` (ms) and returns what the runtime must do.
    pub fn handle(&mut self, now: u64, input: Input) -> Vec<Output> {
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
        self.chain.get(height as usize).map(|e| &e.ledger)
    }

    /// The ledger after the tip.
    pub fn ledger(&self) -> &Ledger {
        &self.chain.last().expect("genesis").ledger
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
        let mut ledger = parent.ledger.clone();
        ledger.apply(&fx, &self.params);
        let mut app = (*parent.app).clone();
        let receipts = exec::run_transactions(
            &txs,
            h.height,
            &mut ledger,
            &mut app,
            &self.keys,
            &self.params,
        );
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

    /// EXEC-POOL-1: a client's transaction joins the pool if it decodes, is not a coinbase,
    /// fits [`exec::MAX_TX_BYTES`] and [`exec::MAX_TX_GAS`], is not there yet and the pool has
    /// room; otherwise it is rejected (kind `transaction`; peer `u64::MAX` for
    /// `Input::Transaction`) and nothing changes.
    pub(super) fn on_transaction(&mut self, peer: PeerId, bytes: Vec<u8>) {
        let problem = match crate::encoding::decode::<exec::Tx>(&bytes, "Tx") {
            _ if bytes.len() > exec::MAX_TX_BYTES => Some(format!(
                "{} bytes, above {}",
                bytes.len(),
                exec::MAX_TX_BYTES
            )),
            Err(e) => Some(e.to_string()),
            Ok(exec::Tx::Coinbase { .. }) => Some("a coinbase is the generator's".into()),
            Ok(exec::Tx::Call { gas_limit, .. }) if gas_limit > exec::MAX_TX_GAS => {
                Some(format!("gas limit {gas_limit} above {}", exec::MAX_TX_GAS))
            }
            Ok(_) if self.pool.len() >= MAX_POOL => Some(format!("the pool holds {MAX_POOL}")),
            Ok(_) => None,
        };
        if let Some(reason) = problem {
            return self.out.push(Output::Rejected {
                peer,
                kind: "transaction",
                code: Reason::Transaction,
                reason,
            });
        }
        let h = crate::hash::blake2b256(&[&bytes]);
        if !self.pool.iter().any(|(k, _)| *k == h) {
            self.pool.push_back((h, bytes));
        }
    }

    /// The pool's transactions for a block: in arrival order, as many as fit the block's
    /// limits (count, bytes, gas).
    pub(super) fn take_transactions(&self) -> Vec<Vec<u8>> {
        let (mut bytes, mut gas, mut out) = (0usize, 0u64, vec![]);
        for (_, tx) in &self.pool {
            let g = match crate::encoding::decode::<exec::Tx>(tx, "Tx") {
                Ok(exec::Tx::Call { gas_limit, .. }) => gas_limit,
                _ => 0,
            };
            if out.len() == MAX_BLOCK_TXS
                || bytes + tx.len() > MAX_PAYLOAD_BYTES
                || gas + g > exec::BLOCK_GAS_LIMIT
            {
                break;
            }
            bytes += tx.len();
            gas += g;
            out.push(tx.clone());
        }
        out
    }

    /// Transactions waiting in the pool.
    pub fn pool_len(&self) -> usize {
        self.pool.len()
    }

    /// The application state after the block at `height` of this node's chain.
    pub fn app_state_at(&self, height: u64) -> Option<&AppState> {
        self.chain.get(height as usize).map(|e| &*e.app)
    }

    /// The application state after the tip.
    pub fn app_state(&self) -> &AppState {
        &self.chain.last().expect("genesis").app
    }
}

/// Encoded size of a message (for tests and benchmarks).
pub fn encoded_len(m: &Message) -> usize {
    encode(m).len()
}
