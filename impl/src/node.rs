//! The sans-IO consensus core (spec/protocol.md): `Node::handle(now, input)` returns the
//! outputs the runtime must carry out, in order. No sockets, clocks or randomness inside: the
//! time comes with each input, timers are outputs, randomness is the sortition seed.
//!
//! Output order is part of the contract: a [`Output::Persist`] comes before the
//! [`Output::Broadcast`] or [`Output::Accepted`] that depends on it, and the runtime must make
//! it durable before carrying out what follows.

use std::collections::{BTreeMap, VecDeque};

use serde::Serialize;

use crate::chain::{initial_label, on_attested_append, pni, Label, LabelState};
use crate::config::{Behaviour, Genesis, Params};
use crate::crypto::{aggregate, KeyRing, Keypair, PublicKey};
use crate::encoding::encode;
use crate::hash::Hash;
use crate::ledger::{BlockEffects, Ledger};
use crate::message::{
    faults_root, merkle_root, seed_digest, vote_digest, Attestation, Block, Candidate,
    FailedIteration, FaultProof, Header, Message, Outcome, Seed, SignedVote, StepVotes, VoteHeader,
    MAX_FAULTS_PER_BLOCK,
};
use crate::sortition::{committee, generator, Committee, StepKind};
use crate::storage::Record;
use crate::votes::{Accepted as Tally, Thresholds, Vote, VoteKeeper, VoteStep};

/// A peer as the runtime numbers it.
pub type PeerId = u64;

/// The payload transaction the executor rejects (fault injection, `Behaviour`).
pub const INVALID_TX: &[u8] = b"sa-invalid-transaction";

/// Buffered messages of future rounds, at most.
const MAX_FUTURE: usize = 4096;
/// Blocks ahead of the tip kept while syncing, at most.
const MAX_PENDING_BLOCKS: u64 = 256;
/// Blocks sent in answer to one GetBlocks.
const BLOCKS_PER_REQUEST: u64 = 64;

/// A timer the core asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum Timer {
    /// The timeout of a step (TIME-1/2).
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
    /// The executor's verdict on a candidate's payload.
    Executed {
        /// The candidate.
        hash: Hash,
        /// Whether execution succeeded.
        valid: bool,
    },
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
    /// Execute a candidate's payload and answer with [`Input::Executed`].
    Execute {
        /// Candidate hash.
        hash: Hash,
        /// The candidate.
        candidate: Box<Candidate>,
    },
    /// A block was appended to the chain.
    Accepted(AcceptedBlock),
    /// A block's label changed (FIN-2/3).
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
    future: BTreeMap<u64, Vec<(PeerId, Message)>>,
    future_count: usize,
    pending_blocks: BTreeMap<u64, Block>,
    durations: [VecDeque<u64>; 3],
    last_accept: u64,
    last_sync_request: Option<u64>,
    started: bool,
    now: u64,
    out: Vec<Output>,
}

fn kind_index(k: StepKind) -> usize {
    k as usize
}

/// Thresholds of the configured C (QUORUM-1/2).
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
                    faults_root: faults_root(&[]),
                    failed_iterations: vec![],
                },
                payload: vec![],
                faults: vec![],
                signature: crate::crypto::Signature::EMPTY,
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
            started: false,
            now: 0,
            out: vec![],
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
                    node.verify_block(b).map_err(err)?;
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
                    reason: e.to_string(),
                }),
            },
            Input::Timer(t) => self.on_timer(t),
            Input::Executed { hash, valid } => self.on_executed(hash, valid),
        }
        std::mem::take(&mut self.out)
    }

    // ----- observers ---------------------------------------------------------------------

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
    /// The ledger after the tip.
    pub fn ledger(&self) -> &Ledger {
        &self.chain.last().expect("genesis").ledger
    }
    /// The current round and iteration.
    pub fn position(&self) -> (u64, u8) {
        (self.round.ctx.round, self.round.iteration)
    }
    /// The votes this node signed.
    pub fn my_votes(&self) -> impl Iterator<Item = &SignedVote> {
        self.my_votes.values()
    }
    /// The parameters.
    pub fn params(&self) -> &Params {
        &self.params
    }

    // ----- contexts and draws ------------------------------------------------------------

    fn context_of(chain: &[Entry], params: &Params, round: u64) -> Context {
        let parent = &chain[round as usize - 1];
        Context {
            round,
            prev_hash: parent.block.hash(),
            prev_timestamp: parent.block.header().timestamp,
            seed: parent.block.header().seed,
            eligible: parent.ledger.eligible(round, params),
        }
    }

    fn draw(params: &Params, ctx: &Context, iteration: u8) -> Draw {
        let seed = &ctx.seed.0;
        let gen = generator(seed, iteration, &ctx.eligible);
        Draw {
            generator: gen,
            validation: committee(
                seed,
                iteration,
                StepKind::Validation,
                params.max_iterations,
                &ctx.eligible,
                params.committee_credits,
            ),
            ratification: committee(
                seed,
                iteration,
                StepKind::Ratification,
                params.max_iterations,
                &ctx.eligible,
                params.committee_credits,
            ),
        }
    }

    fn iteration(&mut self, i: u8) -> &mut Iteration {
        let params = &self.params;
        let ctx = &self.round.ctx;
        self.round.iterations.entry(i).or_insert_with(|| {
            let draw = Self::draw(params, ctx, i);
            Iteration {
                val: VoteKeeper::new(
                    VoteStep::Validation,
                    draw.validation.clone(),
                    params.committee_credits,
                ),
                rat: VoteKeeper::new(
                    VoteStep::Ratification,
                    draw.ratification.clone(),
                    params.committee_credits,
                ),
                draw,
                candidate: None,
                valid: None,
                val_votes: BTreeMap::new(),
                rat_votes: BTreeMap::new(),
                val_quorums: BTreeMap::new(),
                attestation: None,
            }
        })
    }

    fn emergency(&self, i: u8) -> bool {
        i >= self.params.emergency_iteration
    }

    // ----- verification (pure: never changes state) ---------------------------------------

    /// Verifies a StepVotes for `vote` in `committee`: members, credits, aggregate signature.
    fn verify_step_votes(
        &self,
        committee: &Committee<PublicKey>,
        header: &VoteHeader,
        vote: &Vote,
        sv: &StepVotes,
    ) -> Result<(), String> {
        let signers = bitset_members(committee, sv.bitset)?;
        let credits: u32 = signers.iter().map(|(_, c)| c).sum();
        let need = thresholds(&self.params).of(vote);
        if credits < need {
            return Err(format!(
                "{:?} StepVotes carry {credits} credits, the quorum is {need}",
                header.step
            ));
        }
        let keys: Vec<PublicKey> = signers.into_iter().map(|(k, _)| k).collect();
        self.keys
            .verify_aggregate(&keys, &vote_digest(header, vote), &sv.aggregate)
            .map_err(|e| format!("{:?} StepVotes: {e}", header.step))
    }

    /// STEP-RAT-2 / ATT-1: an attestation of (ctx, iteration).
    fn verify_attestation(
        &self,
        ctx: &Context,
        iteration: u8,
        att: &Attestation,
    ) -> Result<Draw, String> {
        let draw = Self::draw(&self.params, ctx, iteration);
        let vote = att.result.vote();
        let header = |step| VoteHeader {
            prev_hash: ctx.prev_hash,
            round: ctx.round,
            iteration,
            step,
        };
        self.verify_step_votes(
            &draw.ratification,
            &header(VoteStep::Ratification),
            &vote,
            &att.ratification,
        )?;
        if vote == Vote::NoQuorum {
            if att.validation != StepVotes::EMPTY {
                return Err(
                    "a Fail(NoQuorum) attestation must carry empty validation votes".into(),
                );
            }
        } else {
            self.verify_step_votes(
                &draw.validation,
                &header(VoteStep::Validation),
                &vote,
                &att.validation,
            )?;
        }
        if let Outcome::Fail(Vote::Valid(_)) = att.result {
            return Err("Fail(Valid) is not an outcome".into());
        }
        Ok(draw)
    }

    /// SLASH-4: a fault proof is two validly signed, different messages of one signer for one
    /// (prev_hash, round, iteration[, step]).
    fn verify_fault(&self, f: &FaultProof) -> Result<(), String> {
        match f {
            FaultProof::DoubleCandidate {
                first,
                first_signature,
                second,
                second_signature,
            } => {
                if first.generator != second.generator
                    || first.height != second.height
                    || first.prev_hash != second.prev_hash
                    || first.iteration != second.iteration
                {
                    return Err(
                        "the two candidates are not of one generator, round and iteration".into(),
                    );
                }
                if first.hash() == second.hash() {
                    return Err("the two candidates are the same".into());
                }
                self.keys
                    .verify(&first.generator, &first.hash(), first_signature)
                    .and_then(|_| {
                        self.keys
                            .verify(&second.generator, &second.hash(), second_signature)
                    })
                    .map_err(|e| format!("fault proof: {e}"))
            }
            FaultProof::DoubleVote { first, second } => {
                if first.signer != second.signer || first.header != second.header {
                    return Err("the two votes are not of one signer and step".into());
                }
                if first.vote == second.vote {
                    return Err("the two votes are the same".into());
                }
                for v in [first, second] {
                    self.keys
                        .verify(&v.signer, &vote_digest(&v.header, &v.vote), &v.signature)
                        .map_err(|e| format!("fault proof: {e}"))?;
                }
                Ok(())
            }
        }
    }

    /// STEP-VAL-1 errors that mean no vote at all, checked against the round's context.
    fn verify_candidate(&self, ctx: &Context, c: &Candidate, live: bool) -> Result<Draw, String> {
        let h = &c.header;
        if h.height != ctx.round {
            return Err(format!("height {} is not round {}", h.height, ctx.round));
        }
        if h.prev_hash != ctx.prev_hash {
            return Err("wrong parent".into());
        }
        if h.iteration >= self.params.max_iterations {
            return Err(format!("iteration {} >= MAX_ITER", h.iteration));
        }
        let draw = Self::draw(&self.params, ctx, h.iteration);
        if draw.generator != Some(h.generator) {
            return Err(format!(
                "generator {} is not gen({})",
                h.generator.short(),
                h.iteration
            ));
        }
        if h.timestamp <= ctx.prev_timestamp {
            return Err("timestamp not after the parent's".into());
        }
        if live && h.timestamp > self.now + self.params.max_future_ms {
            return Err("timestamp too far in the future".into());
        }
        self.keys
            .verify(&h.generator, &h.hash(), &c.signature)
            .map_err(|e| format!("candidate signature: {e}"))?;
        self.keys
            .verify(&h.generator, &seed_digest(&ctx.seed), &h.seed)
            .map_err(|e| format!("seed (SORT-6): {e}"))?;
        if h.payload_root != merkle_root(&c.payload) {
            return Err("payload root does not match the payload".into());
        }
        if h.faults_root != faults_root(&c.faults) {
            return Err("faults root does not match the fault proofs".into());
        }
        if c.faults.len() > MAX_FAULTS_PER_BLOCK {
            return Err(format!("more than {MAX_FAULTS_PER_BLOCK} fault proofs"));
        }
        for f in &c.faults {
            self.verify_fault(f)?;
            let (_, round, iteration) = f.subject();
            if round > ctx.round || ctx.round - round > self.params.epoch {
                return Err("fault proof older than one epoch".into());
            }
            if self.emergency(iteration) {
                return Err("fault proof from an emergency iteration".into());
            }
        }
        let expected = h.iteration.min(self.params.relaxed_iterations) as usize;
        if h.failed_iterations.len() != expected {
            return Err(format!(
                "failed_iterations has {} entries, FAIL-1 wants {expected}",
                h.failed_iterations.len()
            ));
        }
        for (j, f) in h.failed_iterations.iter().enumerate() {
            if let Some(f) = f {
                if !matches!(f.attestation.result, Outcome::Fail(_)) {
                    return Err(format!("failed_iterations[{j}] is not a Fail attestation"));
                }
                let d = self
                    .verify_attestation(ctx, j as u8, &f.attestation)
                    .map_err(|e| format!("failed_iterations[{j}]: {e}"))?;
                if d.generator != Some(f.generator) {
                    return Err(format!("failed_iterations[{j}] names the wrong generator"));
                }
            }
        }
        Ok(draw)
    }

    /// ACCEPT-1: a block on the tip with a valid Success attestation.
    fn verify_block(&self, b: &Block) -> Result<(), String> {
        let ctx = Self::context_of(&self.chain, &self.params, b.header().height);
        self.verify_block_in(&ctx, b)
    }

    fn verify_block_in(&self, ctx: &Context, b: &Block) -> Result<(), String> {
        self.verify_candidate(ctx, &b.candidate, false)?;
        if b.attestation.result != Outcome::Success(b.hash()) {
            return Err("the attestation is not a Success for this block".into());
        }
        self.verify_attestation(ctx, b.header().iteration, &b.attestation)
            .map(|_| ())
    }

    // ----- messages ------------------------------------------------------------------------

    fn reject(&mut self, peer: PeerId, kind: &'static str, reason: impl Into<String>) {
        self.out.push(Output::Rejected {
            peer,
            kind,
            reason: reason.into(),
        });
    }

    fn on_message(&mut self, peer: PeerId, m: Message) {
        let round = self.round.ctx.round;
        let msg_round = match &m {
            Message::Candidate(c) => Some(c.header.height),
            Message::Validation(v) => Some(v.header.round),
            Message::Ratification { vote, .. } => Some(vote.header.round),
            Message::Block(_) | Message::GetBlocks { .. } => None,
        };
        if let Some(r) = msg_round {
            if r < round {
                return; // late for a decided round: nothing to do (not an error)
            }
            if r > round {
                return self.buffer_future(peer, r, m);
            }
        }
        match m {
            Message::Candidate(c) => self.on_candidate(peer, c),
            Message::Validation(v) => self.on_vote(peer, v, None),
            Message::Ratification { vote, validation } => {
                self.on_vote(peer, vote, Some(validation))
            }
            Message::Block(b) => self.on_block(peer, *b),
            Message::GetBlocks { from } => self.on_get_blocks(peer, from),
        }
    }

    fn buffer_future(&mut self, peer: PeerId, r: u64, m: Message) {
        let round = self.round.ctx.round;
        if r > round + 2 || self.future_count >= MAX_FUTURE {
            return self.reject(
                peer,
                m.kind(),
                format!("round {r} is too far ahead of round {round} (syncing)"),
            );
        }
        self.future.entry(r).or_default().push((peer, m));
        self.future_count += 1;
        self.request_sync(peer);
    }

    fn request_sync(&mut self, peer: PeerId) {
        let now = self.now;
        let due = self
            .last_sync_request
            .is_none_or(|t| now >= t + self.params.timeout_min_ms);
        if due {
            self.last_sync_request = Some(now);
            self.out.push(Output::Send {
                peer,
                message: Message::GetBlocks {
                    from: self.tip_height() + 1,
                },
            });
        }
    }

    fn on_candidate(&mut self, peer: PeerId, c: Candidate) {
        let i = c.header.iteration;
        if let Err(e) = self.verify_candidate(&self.round.ctx.clone(), &c, true) {
            return self.reject(peer, "candidate", e);
        }
        let hash = c.header.hash();
        let it = self.iteration(i);
        if let Some(prev) = &it.candidate {
            if prev.header.hash() == hash {
                return;
            }
            // SLASH-4: two candidates of one generator for one iteration.
            let proof = FaultProof::DoubleCandidate {
                first: Box::new(prev.header.clone()),
                first_signature: prev.signature,
                second: Box::new(c.header.clone()),
                second_signature: c.signature,
            };
            return self.record_fault(proof);
        }
        it.candidate = Some(c.clone());
        let success = matches!(it.attestation, Some(Attestation { result: Outcome::Success(h), .. }) if h == hash);
        if success {
            let att = it.attestation.expect("checked");
            return self.accept(Block {
                candidate: c,
                attestation: att,
            });
        }
        self.out.push(Output::Execute {
            hash,
            candidate: Box::new(c),
        });
    }

    fn on_executed(&mut self, hash: Hash, valid: bool) {
        let Some((&i, _)) = self.round.iterations.iter().find(|(_, it)| {
            it.candidate
                .as_ref()
                .is_some_and(|c| c.header.hash() == hash)
        }) else {
            return;
        };
        self.iteration(i).valid = Some(valid);
        let r = &self.round;
        if i == r.iteration && r.step == Step::Proposal {
            self.record_duration(StepKind::Proposal);
            self.enter_validation();
        } else if self.emergency(i) && i <= r.iteration {
            // EMERG-1: emergency iterations stay open; vote on a late candidate.
            self.cast_validation(i);
        }
    }

    fn on_vote(&mut self, peer: PeerId, v: SignedVote, attached: Option<StepVotes>) {
        let kind = if attached.is_some() {
            "ratification"
        } else {
            "validation"
        };
        let want = if attached.is_some() {
            VoteStep::Ratification
        } else {
            VoteStep::Validation
        };
        if v.header.step != want {
            return self.reject(peer, kind, "vote header names another step");
        }
        if v.header.prev_hash != self.round.ctx.prev_hash {
            return self.reject(peer, kind, "vote for another parent");
        }
        let i = v.header.iteration;
        if i >= self.params.max_iterations {
            return self.reject(peer, kind, format!("iteration {i} >= MAX_ITER"));
        }
        let draw = self.draw_of(i);
        let committee = match want {
            VoteStep::Validation => &draw.validation,
            VoteStep::Ratification => &draw.ratification,
        };
        if committee.get(&v.signer).copied().unwrap_or(0) == 0 {
            return self.reject(
                peer,
                kind,
                "signer is not a member of the step's committee (TALLY-2)",
            );
        }
        if want == VoteStep::Validation && v.vote == Vote::NoQuorum {
            return self.reject(peer, kind, "NoQuorum is not a Validation vote (STEP-VAL-2)");
        }
        if let Err(e) = self
            .keys
            .verify(&v.signer, &vote_digest(&v.header, &v.vote), &v.signature)
        {
            return self.reject(peer, kind, format!("vote signature: {e}"));
        }
        if let Some(sv) = &attached {
            let vh = VoteHeader {
                step: VoteStep::Validation,
                ..v.header
            };
            let known = self
                .round
                .iterations
                .get(&i)
                .is_some_and(|it| it.val_quorums.get(&v.vote) == Some(sv));
            let check = if v.vote == Vote::NoQuorum {
                if *sv == StepVotes::EMPTY {
                    Ok(())
                } else {
                    Err("a NoQuorum vote must attach empty validation votes".to_string())
                }
            } else if known {
                Ok(()) // this exact StepVotes was verified (or formed) before
            } else {
                self.verify_step_votes(&draw.validation, &vh, &v.vote, sv)
            };
            if let Err(e) = check {
                return self.reject(peer, kind, format!("attached validation quorum: {e}"));
            }
        }
        // Accepted from here on.
        let emergency = self.emergency(i);
        let it = self.iteration(i);
        let (keeper, sigs) = match want {
            VoteStep::Validation => (&mut it.val, &mut it.val_votes),
            VoteStep::Ratification => (&mut it.rat, &mut it.rat_votes),
        };
        if emergency && keeper.vote_of(&v.signer).is_some() {
            return; // EMERG-1: no conflicting-vote checks; the first vote stands.
        }
        match keeper.add(&v.signer, v.vote) {
            Ok(Tally::Counted { .. }) => {
                sigs.insert(v.signer, v);
            }
            Ok(Tally::Duplicate) => return,
            Ok(Tally::Conflict { .. }) => {
                let first = sigs.remove(&v.signer).expect("first vote kept");
                return self.record_fault(FaultProof::DoubleVote { first, second: v });
            }
            Err(e) => return self.reject(peer, kind, e.to_string()),
        }
        if let Some(sv) = attached {
            if v.vote != Vote::NoQuorum {
                it.val_quorums.entry(v.vote).or_insert(sv);
            }
        }
        self.progress(i);
    }

    /// The draws of iteration `i`: the stored ones if the iteration exists, else computed and
    /// not stored (a vote that is then rejected must leave the node as it was).
    fn draw_of(&self, i: u8) -> Draw {
        match self.round.iterations.get(&i) {
            Some(it) => it.draw.clone(),
            None => Self::draw(&self.params, &self.round.ctx, i),
        }
    }

    fn record_fault(&mut self, proof: FaultProof) {
        if !self.faults.contains(&proof) {
            self.faults.push(proof.clone());
            self.out.push(Output::Fault(Box::new(proof)));
        }
    }

    fn on_block(&mut self, peer: PeerId, b: Block) {
        let h = b.header().height;
        let tip = self.tip_height();
        if h == 0 {
            return self.reject(peer, "block", "the genesis block is not sent");
        }
        if h == tip + 1 {
            if let Err(e) = self.verify_block(&b) {
                return self.reject(peer, "block", e);
            }
            self.accept(b);
            return self.drain_pending();
        }
        if h > tip + 1 {
            if h > tip + MAX_PENDING_BLOCKS {
                return self.reject(
                    peer,
                    "block",
                    format!("height {h} is too far ahead of {tip}"),
                );
            }
            self.pending_blocks.insert(h, b);
            return self.request_sync(peer);
        }
        // h <= tip: the same block, or a candidate for FORK-1.
        let local = &self.chain[h as usize].block;
        if local.hash() == b.hash() {
            return;
        }
        let (li, ri) = (local.header().iteration, b.header().iteration);
        if h <= self.last_final() {
            return self.reject(
                peer,
                "block",
                format!("height {h} is at or below the last Final block (FIN-4)"),
            );
        }
        if let Err(e) = self.verify_block(&b) {
            return self.reject(peer, "block", e);
        }
        if ri > li {
            return self.reject(
                peer,
                "block",
                "a higher-iteration alternative is ignored (FORK-1)",
            );
        }
        if ri == li {
            let proof = FaultProof::DoubleCandidate {
                first: Box::new(local.header().clone()),
                first_signature: local.candidate.signature,
                second: Box::new(b.header().clone()),
                second_signature: b.candidate.signature,
            };
            return self.record_fault(proof);
        }
        // FORK-1: revert to the parent and accept the lower-iteration block.
        let from_height = tip;
        self.chain.truncate(h as usize);
        self.out
            .push(Output::Persist(Record::Reverted { to_height: h - 1 }));
        self.out.push(Output::Fallback {
            from_height,
            to_height: h - 1,
        });
        self.accept(b);
        self.drain_pending();
    }

    fn drain_pending(&mut self) {
        loop {
            let next = self.tip_height() + 1;
            self.pending_blocks.retain(|h, _| *h >= next);
            let Some(b) = self.pending_blocks.remove(&next) else {
                return;
            };
            if self.verify_block(&b).is_err() {
                return;
            }
            self.accept(b);
        }
    }

    fn on_get_blocks(&mut self, peer: PeerId, from: u64) {
        let tip = self.tip_height();
        let from = from.max(1);
        if from > tip {
            return;
        }
        for h in from..=tip.min(from + BLOCKS_PER_REQUEST - 1) {
            let b = self.chain[h as usize].block.clone();
            self.out.push(Output::Send {
                peer,
                message: Message::Block(Box::new(b)),
            });
        }
    }

    // ----- timers and steps ----------------------------------------------------------------

    fn set_timer(&mut self, timer: Timer, after_ms: u64) {
        self.out.push(Output::SetTimer { timer, after_ms });
    }

    /// TIME-1/2: the average of the last 5 successful durations, clamped, plus this round's
    /// increases, capped.
    fn timeout(&self, k: StepKind) -> u64 {
        let p = &self.params;
        let d = &self.durations[kind_index(k)];
        let base = if d.is_empty() {
            p.timeout_max_ms
        } else {
            (d.iter().sum::<u64>() / d.len() as u64).clamp(p.timeout_min_ms, p.timeout_max_ms)
        };
        (base + self.round.extra[kind_index(k)]).min(p.timeout_max_ms)
    }

    fn record_duration(&mut self, k: StepKind) {
        let d = self.now.saturating_sub(self.round.step_started);
        let q = &mut self.durations[kind_index(k)];
        q.push_back(d);
        if q.len() > 5 {
            q.pop_front();
        }
    }

    fn step_timer(&mut self, k: StepKind) {
        let t = Timer::Step {
            round: self.round.ctx.round,
            iteration: self.round.iteration,
            step: k,
        };
        let after = self.timeout(k);
        self.set_timer(t, after);
    }

    fn on_timer(&mut self, t: Timer) {
        if !self.started {
            return;
        }
        match t {
            Timer::Stall => {
                if self.now >= self.last_accept + self.params.stall_timeout_ms {
                    // FORK-2: ask for blocks after the last Final one.
                    self.out.push(Output::Broadcast(Message::GetBlocks {
                        from: self.last_final() + 1,
                    }));
                    self.set_timer(Timer::Stall, self.params.stall_timeout_ms);
                } else {
                    let left = self.last_accept + self.params.stall_timeout_ms - self.now;
                    self.set_timer(Timer::Stall, left);
                }
            }
            Timer::Propose { round, iteration } => {
                if round == self.round.ctx.round && iteration == self.round.iteration {
                    self.propose(iteration);
                }
            }
            Timer::Step {
                round,
                iteration,
                step,
            } => {
                let r = &self.round;
                let current = match r.step {
                    Step::Proposal => StepKind::Proposal,
                    Step::Validation => StepKind::Validation,
                    Step::Ratification => StepKind::Ratification,
                    Step::Open => return,
                };
                if round != r.ctx.round || iteration != r.iteration || step != current {
                    return;
                }
                let k = kind_index(step);
                self.round.extra[k] = (self.round.extra[k] + self.params.timeout_increase_ms)
                    .min(self.params.timeout_max_ms);
                match step {
                    StepKind::Proposal => self.enter_validation(),
                    StepKind::Validation => {
                        self.enter_ratification(Vote::NoQuorum, StepVotes::EMPTY)
                    }
                    StepKind::Ratification => {
                        self.out.push(Output::IterationFailed {
                            round,
                            iteration,
                            vote: None,
                        });
                        self.enter_iteration(iteration + 1);
                    }
                }
            }
        }
    }

    fn start_round(&mut self) {
        let round = self.tip_height() + 1;
        self.round = Round {
            ctx: Self::context_of(&self.chain, &self.params, round),
            iteration: 0,
            step: Step::Proposal,
            step_started: self.now,
            extra: [0; 3],
            iterations: BTreeMap::new(),
        };
        self.enter_iteration(0);
        // Replay what arrived early for this round.
        self.future.retain(|r, _| *r >= round);
        if let Some(msgs) = self.future.remove(&round) {
            self.future_count -= msgs.len();
            for (peer, m) in msgs {
                if self.round.ctx.round != round {
                    break;
                }
                self.on_message(peer, m);
            }
        }
    }

    fn enter_iteration(&mut self, i: u8) {
        if i >= self.params.max_iterations {
            // ITER-3: open consensus, no more timers or iterations.
            self.round.iteration = self.params.max_iterations;
            self.round.step = Step::Open;
            return;
        }
        self.round.iteration = i;
        self.round.step = Step::Proposal;
        self.round.step_started = self.now;
        let me = self.me.public;
        let it = self.iteration(i);
        let att = it.attestation;
        let is_gen = it.draw.generator == Some(me);
        let ready = it.candidate.is_some() && it.valid.is_some();
        if let Some(Attestation {
            result: Outcome::Fail(_),
            ..
        }) = att
        {
            return self.enter_iteration(i + 1);
        }
        // The Proposal timeout runs from the earliest time the generator may propose.
        let earliest = self.round.ctx.prev_timestamp + self.params.min_block_time_ms;
        let wait = earliest.saturating_sub(self.now);
        self.round.step_started = self.now + wait;
        let t = Timer::Step {
            round: self.round.ctx.round,
            iteration: i,
            step: StepKind::Proposal,
        };
        let after = self.timeout(StepKind::Proposal) + wait;
        self.set_timer(t, after);
        if is_gen {
            if self.now >= earliest {
                self.propose(i);
            } else {
                let round = self.round.ctx.round;
                self.set_timer(
                    Timer::Propose {
                        round,
                        iteration: i,
                    },
                    earliest - self.now,
                );
            }
        }
        if ready && self.round.step == Step::Proposal && self.round.iteration == i {
            self.enter_validation();
        }
    }

    /// STEP-PROP-1: build, record, sign and broadcast one candidate (or re-send the recorded one).
    fn propose(&mut self, i: u8) {
        let ctx = self.round.ctx.clone();
        let key = (ctx.round, i, ctx.prev_hash);
        if let Some(c) = self.my_candidates.get(&key).cloned() {
            self.out
                .push(Output::Broadcast(Message::Candidate(c.clone())));
            return self.on_candidate(u64::MAX, c);
        }
        let relaxed = i.min(self.params.relaxed_iterations);
        let failed: Vec<Option<FailedIteration>> = (0..relaxed)
            .map(|j| {
                let it = self.round.iterations.get(&j)?;
                match (it.attestation, it.draw.generator) {
                    (
                        Some(
                            a @ Attestation {
                                result: Outcome::Fail(_),
                                ..
                            },
                        ),
                        Some(g),
                    ) => Some(FailedIteration {
                        generator: g,
                        attestation: a,
                    }),
                    _ => None,
                }
            })
            .collect();
        let ledger = &self.chain.last().expect("genesis").ledger;
        let faults: Vec<FaultProof> = self
            .faults
            .iter()
            .filter(|f| {
                let (who, round, iteration) = f.subject();
                round <= ctx.round
                    && ctx.round - round <= self.params.epoch
                    && !self.emergency(iteration)
                    && !ledger.punished.contains(&(who, round, iteration))
            })
            .take(MAX_FAULTS_PER_BLOCK)
            .cloned()
            .collect();
        let mut payload =
            vec![format!("coinbase {} {}", ctx.round, self.me.public.short()).into_bytes()];
        if self.behaviour.invalid_candidates {
            payload.push(INVALID_TX.to_vec());
        }
        let header = Header {
            height: ctx.round,
            prev_hash: ctx.prev_hash,
            iteration: i,
            timestamp: self.now.max(ctx.prev_timestamp + 1),
            generator: self.me.public,
            seed: self.me.sign(&seed_digest(&ctx.seed)),
            payload_root: merkle_root(&payload),
            faults_root: faults_root(&faults),
            failed_iterations: failed,
        };
        let signature = self.me.sign(&header.hash());
        let c = Candidate {
            header,
            payload,
            faults,
            signature,
        };
        self.my_candidates.insert(key, c.clone());
        self.out
            .push(Output::Persist(Record::Proposed(Box::new(c.clone()))));
        self.out
            .push(Output::Broadcast(Message::Candidate(c.clone())));
        self.on_candidate(u64::MAX, c);
    }

    fn enter_validation(&mut self) {
        self.round.step = Step::Validation;
        self.round.step_started = self.now;
        let i = self.round.iteration;
        self.step_timer(StepKind::Validation);
        self.cast_validation(i);
        self.progress(i);
    }

    /// STEP-VAL-1: this node's Validation vote, if it is a member.
    fn cast_validation(&mut self, i: u8) {
        let me = self.me.public;
        let emergency = self.emergency(i);
        let it = self.iteration(i);
        if !it.draw.validation.contains_key(&me) {
            return;
        }
        let vote = match (&it.candidate, it.valid) {
            (Some(c), Some(true)) => Vote::Valid(c.header.hash()),
            (Some(c), Some(false)) if !emergency => Vote::Invalid(c.header.hash()),
            (None, _) if !emergency => Vote::NoCandidate,
            _ => return, // EMERG-1: no NoCandidate, no Invalid broadcast
        };
        self.cast(i, VoteStep::Validation, vote, StepVotes::EMPTY);
    }

    /// Signs, records and broadcasts a vote, then counts it. A step already voted in is
    /// answered with the recorded vote: never a second, different one (SAFE-VOTE-UNIQUE).
    fn cast(&mut self, i: u8, step: VoteStep, vote: Vote, validation: StepVotes) {
        let header = VoteHeader {
            prev_hash: self.round.ctx.prev_hash,
            round: self.round.ctx.round,
            iteration: i,
            step,
        };
        let (signed, fresh) = match self.my_votes.get(&header) {
            Some(v) => (*v, false),
            None => {
                let signature = self.me.sign(&vote_digest(&header, &vote));
                let v = SignedVote {
                    header,
                    vote,
                    signer: self.me.public,
                    signature,
                };
                (v, true)
            }
        };
        let attached = match step {
            VoteStep::Ratification if signed.vote == vote => validation,
            VoteStep::Ratification => {
                // The recorded vote differs from today's result: re-send it with its evidence.
                let it = self.iteration(i);
                match signed.vote {
                    Vote::NoQuorum => StepVotes::EMPTY,
                    v => match it.val_quorums.get(&v) {
                        Some(sv) => *sv,
                        None => return,
                    },
                }
            }
            VoteStep::Validation => StepVotes::EMPTY,
        };
        if fresh {
            self.my_votes.insert(header, signed);
            self.out.push(Output::Persist(Record::Voted(signed)));
        }
        let msg = match step {
            VoteStep::Validation => Message::Validation(signed),
            VoteStep::Ratification => Message::Ratification {
                vote: signed,
                validation: attached,
            },
        };
        self.out.push(Output::Broadcast(msg.clone()));
        if fresh && self.behaviour.double_vote && step == VoteStep::Validation {
            // Deliberately broken behaviour (fault injection): a second, different vote.
            let other = match signed.vote {
                Vote::NoCandidate => Vote::Valid([0xAA; 32]),
                _ => Vote::NoCandidate,
            };
            let second = SignedVote {
                vote: other,
                signature: self.me.sign(&vote_digest(&header, &other)),
                ..signed
            };
            self.out
                .push(Output::Broadcast(Message::Validation(second)));
        }
        self.on_message(u64::MAX, msg);
    }

    fn enter_ratification(&mut self, result: Vote, validation: StepVotes) {
        self.round.step = Step::Ratification;
        self.round.step_started = self.now;
        let i = self.round.iteration;
        self.step_timer(StepKind::Ratification);
        let me = self.me.public;
        let emergency = self.emergency(i);
        let member = self.iteration(i).draw.ratification.contains_key(&me);
        // EMERG-1: in emergency iterations, Ratification only on a Valid quorum.
        if member && (!emergency || matches!(result, Vote::Valid(_))) {
            self.cast(i, VoteStep::Ratification, result, validation);
        }
        self.progress(i);
    }

    /// Aggregates the signatures of a quorum into StepVotes.
    fn step_votes(
        committee: &Committee<PublicKey>,
        votes: &BTreeMap<PublicKey, SignedVote>,
        signers: &[PublicKey],
    ) -> Option<StepVotes> {
        let mut bitset = 0u64;
        let mut sigs = Vec::new();
        for (pos, key) in committee.keys().enumerate() {
            if signers.contains(key) {
                bitset |= 1u64 << pos;
                sigs.push(votes.get(key)?.signature);
            }
        }
        let aggregate = aggregate(&sigs).ok()?;
        Some(StepVotes { bitset, aggregate })
    }

    /// Moves iteration `i` forward after its votes changed: forms quorums and attestations.
    fn progress(&mut self, i: u8) {
        let emergency = self.emergency(i);
        let it = self.iteration(i);
        // A Validation quorum is evidence for Ratification (and our own Ratification vote).
        if let Some(q) = it.val.quorum() {
            if !it.val_quorums.contains_key(&q.vote) {
                let signers: Vec<PublicKey> = q.signers.iter().copied().collect();
                if let Some(sv) = Self::step_votes(&it.draw.validation, &it.val_votes, &signers) {
                    it.val_quorums.insert(q.vote, sv);
                }
            }
        }
        let val_result = it
            .val
            .quorum()
            .and_then(|q| it.val_quorums.get(&q.vote).map(|sv| (q.vote, *sv)));
        // STEP-RAT-2: an attestation needs a Ratification quorum and the matching Validation one.
        if it.attestation.is_none() {
            if let Some(q) = it.rat.quorum() {
                let validation = match q.vote {
                    Vote::NoQuorum => Some(StepVotes::EMPTY),
                    v => it.val_quorums.get(&v).copied(),
                };
                let signers: Vec<PublicKey> = q.signers.iter().copied().collect();
                let rat = Self::step_votes(&it.draw.ratification, &it.rat_votes, &signers);
                if let (Some(validation), Some(ratification)) = (validation, rat) {
                    let result = match q.vote {
                        Vote::Valid(h) => Some(Outcome::Success(h)),
                        v if !emergency => Some(Outcome::Fail(v)),
                        _ => None, // EMERG-1: no Fail attestations
                    };
                    if let Some(result) = result {
                        it.attestation = Some(Attestation {
                            result,
                            validation,
                            ratification,
                        });
                        return self.on_attestation(i);
                    }
                }
            }
        }
        let r = &self.round;
        if i == r.iteration && r.step == Step::Validation {
            if let Some((vote, sv)) = val_result {
                self.record_duration(StepKind::Validation);
                self.enter_ratification(vote, sv);
            }
        }
    }

    fn on_attestation(&mut self, i: u8) {
        let it = self.iteration(i);
        let att = it.attestation.expect("just formed");
        match att.result {
            Outcome::Success(h) => {
                // ITER-2: a Success of any iteration of the round is accepted when seen.
                if let Some(c) = it.candidate.clone().filter(|c| c.header.hash() == h) {
                    if i == self.round.iteration {
                        self.record_duration(StepKind::Ratification);
                    }
                    self.accept(Block {
                        candidate: c,
                        attestation: att,
                    });
                    self.drain_pending();
                }
            }
            Outcome::Fail(v) => {
                self.out.push(Output::IterationFailed {
                    round: self.round.ctx.round,
                    iteration: i,
                    vote: Some(v),
                });
                if i >= self.round.iteration && self.round.step != Step::Open {
                    if i == self.round.iteration && self.round.step == Step::Ratification {
                        self.record_duration(StepKind::Ratification);
                    }
                    self.enter_iteration(i + 1);
                }
            }
        }
    }

    // ----- acceptance -----------------------------------------------------------------------

    /// ACCEPT-1: append a verified block, label it (FIN-1..3), apply it to the ledger, record
    /// it, announce it, and start the next round.
    fn accept(&mut self, b: Block) {
        let height = b.header().height;
        let ctx = Self::context_of(&self.chain, &self.params, height);
        self.out
            .push(Output::Persist(Record::Accepted(Box::new(b.clone()))));
        let voters = self.append_with(&ctx, b.clone());
        let e = self.chain.last().expect("just appended");
        self.out.push(Output::Accepted(AcceptedBlock {
            height,
            hash: b.hash(),
            iteration: b.header().iteration,
            label: e.labels.label,
            generator: b.header().generator,
            voters,
            timestamp: b.header().timestamp,
        }));
        self.out
            .push(Output::Broadcast(Message::Block(Box::new(b))));
        self.last_accept = self.now;
        self.start_round();
    }

    /// Appends without outputs other than label changes (used by restore).
    fn append(&mut self, b: Block) {
        let ctx = Self::context_of(&self.chain, &self.params, b.header().height);
        self.append_with(&ctx, b);
    }

    fn append_with(&mut self, ctx: &Context, b: Block) -> Vec<PublicKey> {
        let h = b.header();
        let draw = Self::draw(&self.params, ctx, h.iteration);
        let mut fx = BlockEffects {
            height: h.height,
            generator: Some(h.generator),
            quorum_credits: 2 * thresholds(&self.params).supermajority,
            ..Default::default()
        };
        for (committee, sv) in [
            (&draw.validation, &b.attestation.validation),
            (&draw.ratification, &b.attestation.ratification),
        ] {
            for (k, c) in bitset_members(committee, sv.bitset).unwrap_or_default() {
                *fx.signer_credits.entry(k).or_insert(0) += c;
            }
        }
        let mut fails = 0;
        for (j, f) in h.failed_iterations.iter().enumerate() {
            let Some(f) = f else { continue };
            fails += 1;
            match f.attestation.result {
                Outcome::Fail(Vote::NoCandidate) if (j as u8) < self.params.relaxed_iterations => {
                    fx.soft.push(f.generator)
                }
                Outcome::Fail(Vote::Invalid(_)) => fx.hard.push((f.generator, h.height, j as u8)),
                _ => {}
            }
        }
        for f in &b.candidate.faults {
            fx.hard.push(f.subject());
        }
        let mut ledger = self.chain.last().expect("genesis").ledger.clone();
        ledger.apply(&fx, &self.params);
        let (label, confirmed_after) =
            initial_label(pni(h.iteration, self.params.max_iterations, fails));
        let hash = b.hash();
        self.chain.push(Entry {
            block: b,
            labels: LabelState {
                label,
                confirmed_after,
            },
            ledger,
        });
        let mut labels: Vec<LabelState> = self.chain.iter().map(|e| e.labels).collect();
        for (height, label) in on_attested_append(&mut labels) {
            self.chain[height].labels.label = label;
            self.out.push(Output::Labelled {
                height: height as u64,
                hash: self.chain[height].block.hash(),
                label,
            });
        }
        let _ = hash;
        fx.signer_credits.into_keys().collect()
    }
}

/// The testnet's stand-in for execution: a payload is valid unless it carries
/// [`INVALID_TX`] or a transaction above 64 KiB (the WebAssembly VM is a later issue).
pub fn execute(candidate: &Candidate) -> bool {
    candidate
        .payload
        .iter()
        .all(|tx| tx.as_slice() != INVALID_TX && tx.len() <= 64 * 1024)
}

/// Encoded size of a message (for tests and benchmarks).
pub fn encoded_len(m: &Message) -> usize {
    encode(m).len()
}
