//! The protocol's data: blocks, candidates, votes, attestations, fault proofs and network
//! messages, with serde (JSON for logs and tools) and the canonical byte encoding of
//! spec/encoding.md (for hashes, signatures, the wire and storage).

use serde::{Deserialize, Serialize};

use crate::encoding::{decode, encode, DecodeError, Reader, Wire};
use crate::hash::{blake2b256, Hash};
use crate::keys::{PublicKey, Signature};
use crate::tally::{Vote, VoteStep};
use crate::wire_struct;

/// A seed: the generator's BLS signature over the previous seed (SORT-6).
pub type Seed = Signature;

/// An aggregated step of votes (ATT-1): a bitset over the committee's members in key order and
/// the aggregate of their signatures on the one vote. Empty: bitset 0, signature all zeros.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepVotes {
    /// Bit k set: the k-th member of the committee (key order) signed.
    pub bitset: u64,
    /// Aggregated BLS signature of the signers.
    pub aggregate: Signature,
}
wire_struct!(StepVotes { bitset, aggregate });

impl StepVotes {
    /// No signer.
    pub const EMPTY: StepVotes = StepVotes {
        bitset: 0,
        aggregate: Signature::EMPTY,
    };

    /// True when no member signed.
    pub fn is_empty(&self) -> bool {
        self.bitset == 0
    }
}

/// The result an attestation certifies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// Both steps reached quorum on `Valid(hash)`: the candidate is the block of the round.
    Success(Hash),
    /// Ratification reached quorum on a non-Valid vote: the iteration failed.
    Fail(Vote),
}

impl Outcome {
    /// The vote both steps carry.
    pub fn vote(&self) -> Vote {
        match self {
            Outcome::Success(h) => Vote::Valid(*h),
            Outcome::Fail(v) => *v,
        }
    }
}

impl Wire for Outcome {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Outcome::Success(h) => {
                out.push(0);
                h.put(out);
            }
            Outcome::Fail(v) => {
                out.push(1);
                v.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(Outcome::Success(Hash::get(r, what)?)),
            1 => Ok(Outcome::Fail(Vote::get(r, what)?)),
            t => Err(r.bad_value(1, what, format!("unknown outcome tag {t}"))),
        }
    }
}

/// ATT-1: the outcome of an iteration with its two quorums.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Success or Fail with its vote.
    pub result: Outcome,
    /// The Validation quorum (empty for Fail(NoQuorum)).
    pub validation: StepVotes,
    /// The Ratification quorum.
    pub ratification: StepVotes,
}
wire_struct!(Attestation {
    result,
    validation,
    ratification
});

/// FAIL-1: one entry of a candidate's failed_iterations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedIteration {
    /// gen(j), the generator of the failed iteration.
    pub generator: PublicKey,
    /// Its Fail attestation.
    pub attestation: Attestation,
}
wire_struct!(FailedIteration {
    generator,
    attestation
});

/// A block header. The block hash is BLAKE2b-256 of its encoding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    /// Height (the round it was decided in).
    pub height: u64,
    /// Hash of the parent block.
    pub prev_hash: Hash,
    /// Iteration of the round the candidate was proposed in.
    pub iteration: u8,
    /// Milliseconds since the Unix epoch, set by the generator.
    pub timestamp: u64,
    /// The generator's key.
    pub generator: PublicKey,
    /// SORT-6: the generator's signature over the parent's seed.
    pub seed: Seed,
    /// Merkle root of the payload (spec/encoding.md).
    pub payload_root: Hash,
    /// EXEC-ROOT-1: root of the state after executing this block on its parent's.
    pub state_root: Hash,
    /// Hash of the encoding of the block's fault proofs.
    pub faults_root: Hash,
    /// FAIL-1: for j < min(iteration, RELAXED), the Fail attestation of j if the generator
    /// holds one.
    pub failed_iterations: Vec<Option<FailedIteration>>,
    /// REW-2: the parent's Success attestation as this block's generator holds it (none at
    /// height 1: the genesis has none). The parent's rewards are paid from it when this block
    /// is accepted, so every node on one chain pays the same signers.
    pub prev_attestation: Option<Attestation>,
}
wire_struct!(Header {
    height,
    prev_hash,
    iteration,
    timestamp,
    generator,
    seed,
    payload_root,
    state_root,
    faults_root,
    failed_iterations,
    prev_attestation
});

impl Header {
    /// The block hash (HASH-1 over the header encoding).
    pub fn hash(&self) -> Hash {
        blake2b256(&[b"SA-BLOCK-V1", &encode(self)])
    }
}

/// STEP-PROP-1: a signed block proposal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    /// The header.
    pub header: Header,
    /// Transactions (opaque to consensus; executed outside the core).
    pub payload: Vec<Vec<u8>>,
    /// Fault proofs the generator includes (SLASH-4), at most [`MAX_FAULTS_PER_BLOCK`].
    pub faults: Vec<FaultProof>,
    /// The generator's signature over the block hash.
    pub signature: Signature,
}
wire_struct!(Candidate {
    header,
    payload,
    faults,
    signature
});

/// At most this many fault proofs in one block (SLASH-4).
pub const MAX_FAULTS_PER_BLOCK: usize = 100;

/// A block: a candidate with the Success attestation that decided it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    /// The candidate.
    pub candidate: Candidate,
    /// Its Success attestation.
    pub attestation: Attestation,
}
wire_struct!(Block {
    candidate,
    attestation
});

impl Block {
    /// The block hash.
    pub fn hash(&self) -> Hash {
        self.candidate.header.hash()
    }
    /// The header.
    pub fn header(&self) -> &Header {
        &self.candidate.header
    }
}

/// What a vote is about (VOTE-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct VoteHeader {
    /// Parent hash of the round.
    pub prev_hash: Hash,
    /// The round (height being decided).
    pub round: u64,
    /// The iteration.
    pub iteration: u8,
    /// Validation or Ratification.
    pub step: VoteStep,
}
wire_struct!(VoteHeader {
    prev_hash,
    round,
    iteration,
    step
});

/// The digest a vote's signature covers: BLAKE2b-256("SA-VOTE-V1" ‖ header ‖ vote).
pub fn vote_digest(header: &VoteHeader, vote: &Vote) -> Hash {
    blake2b256(&[b"SA-VOTE-V1", &encode(header), &encode(vote)])
}

/// The digest a seed signature covers: BLAKE2b-256("SA-SEED-V1" ‖ previous seed).
pub fn seed_digest(prev: &Seed) -> Hash {
    blake2b256(&[b"SA-SEED-V1", &prev.0])
}

/// A signed vote.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedVote {
    /// What it is about.
    pub header: VoteHeader,
    /// The value.
    pub vote: Vote,
    /// Who signed.
    pub signer: PublicKey,
    /// Signature over [`vote_digest`].
    pub signature: Signature,
}
wire_struct!(SignedVote {
    header,
    vote,
    signer,
    signature
});

/// SLASH-4: two conflicting signed messages of one signer for one (prev_hash, round,
/// iteration[, step]).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // short-lived values; boxing buys nothing
pub enum FaultProof {
    /// Two different candidates signed by one generator for one round and iteration.
    DoubleCandidate {
        /// First header.
        first: Box<Header>,
        /// Its signature.
        first_signature: Signature,
        /// Second header.
        second: Box<Header>,
        /// Its signature.
        second_signature: Signature,
    },
    /// Two different votes of one signer for one step.
    DoubleVote {
        /// First vote.
        first: SignedVote,
        /// Second vote.
        second: SignedVote,
    },
}

impl FaultProof {
    /// The offender, the round and iteration the proof is about.
    pub fn subject(&self) -> (PublicKey, u64, u8) {
        match self {
            FaultProof::DoubleCandidate { first, .. } => {
                (first.generator, first.height, first.iteration)
            }
            FaultProof::DoubleVote { first, .. } => {
                (first.signer, first.header.round, first.header.iteration)
            }
        }
    }
}

impl Wire for FaultProof {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            FaultProof::DoubleCandidate {
                first,
                first_signature,
                second,
                second_signature,
            } => {
                out.push(0);
                first.put(out);
                first_signature.put(out);
                second.put(out);
                second_signature.put(out);
            }
            FaultProof::DoubleVote { first, second } => {
                out.push(1);
                first.put(out);
                second.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(FaultProof::DoubleCandidate {
                first: Box::new(Header::get(r, "FaultProof.first")?),
                first_signature: Signature::get(r, "FaultProof.first_signature")?,
                second: Box::new(Header::get(r, "FaultProof.second")?),
                second_signature: Signature::get(r, "FaultProof.second_signature")?,
            }),
            1 => Ok(FaultProof::DoubleVote {
                first: SignedVote::get(r, "FaultProof.first")?,
                second: SignedVote::get(r, "FaultProof.second")?,
            }),
            t => Err(r.bad_value(1, what, format!("unknown fault proof tag {t}"))),
        }
    }
}

/// A network message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[allow(clippy::large_enum_variant)] // decoded and handled at once; boxing buys nothing
pub enum Message {
    /// A candidate block (Proposal step).
    Candidate(Candidate),
    /// A Validation vote.
    Validation(SignedVote),
    /// A Ratification vote with the Validation quorum it rests on (STEP-RAT-1); empty when it
    /// votes NoQuorum.
    Ratification {
        /// The vote.
        vote: SignedVote,
        /// The Validation StepVotes for the same value.
        validation: StepVotes,
    },
    /// An accepted block with its attestation (propagation, sync, fallback).
    Block(Box<Block>),
    /// Ask for the blocks from this height on (sync and stalled-chain recovery, FORK-2).
    GetBlocks {
        /// First height wanted.
        from: u64,
    },
    /// A client's transaction for the pool (EXEC-POOL-1; not relayed).
    Transaction(Vec<u8>),
}

impl Wire for Message {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Message::Candidate(c) => {
                out.push(0);
                c.put(out);
            }
            Message::Validation(v) => {
                out.push(1);
                v.put(out);
            }
            Message::Ratification { vote, validation } => {
                out.push(2);
                vote.put(out);
                validation.put(out);
            }
            Message::Block(b) => {
                out.push(3);
                b.put(out);
            }
            Message::GetBlocks { from } => {
                out.push(4);
                from.put(out);
            }
            Message::Transaction(tx) => {
                out.push(5);
                tx.put(out);
            }
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(Message::Candidate(Candidate::get(r, "Candidate")?)),
            1 => Ok(Message::Validation(SignedVote::get(r, "Validation")?)),
            2 => Ok(Message::Ratification {
                vote: SignedVote::get(r, "Ratification.vote")?,
                validation: StepVotes::get(r, "Ratification.validation")?,
            }),
            3 => Ok(Message::Block(Box::new(Block::get(r, "Block")?))),
            4 => Ok(Message::GetBlocks {
                from: u64::get(r, "GetBlocks.from")?,
            }),
            5 => Ok(Message::Transaction(Vec::get(r, "Transaction")?)),
            t => Err(r.bad_value(1, what, format!("unknown message tag {t}"))),
        }
    }
}

impl Message {
    /// The canonical bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        encode(self)
    }
    /// Strict decoding of one message.
    pub fn from_bytes(bytes: &[u8]) -> Result<Message, DecodeError> {
        decode(bytes, "Message")
    }
    /// A short name for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Candidate(_) => "candidate",
            Message::Validation(_) => "validation",
            Message::Ratification { .. } => "ratification",
            Message::Block(_) => "block",
            Message::GetBlocks { .. } => "get_blocks",
            Message::Transaction(_) => "transaction",
        }
    }
}

/// Merkle root of a payload: leaves BLAKE2b-256(0x00 ‖ tx), inner nodes
/// BLAKE2b-256(0x01 ‖ left ‖ right), an odd node is carried up unchanged, the empty payload's
/// root is BLAKE2b-256(0x02).
pub fn merkle_root(payload: &[Vec<u8>]) -> Hash {
    merkle_root_of_leaves(payload.iter().map(|tx| merkle_leaf(tx)).collect())
}

/// The leaf hash of one item of a Merkle tree (spec/encoding.md §4).
pub fn merkle_leaf(item: &[u8]) -> Hash {
    blake2b256(&[&[0u8], item])
}

/// The Merkle root over leaf hashes ([`merkle_leaf`]) already computed, in order: the same
/// root as [`merkle_root`] of the items, without holding the items.
pub fn merkle_root_of_leaves(mut level: Vec<Hash>) -> Hash {
    if level.is_empty() {
        return blake2b256(&[&[2u8]]);
    }
    while level.len() > 1 {
        level = level
            .chunks(2)
            .map(|p| match p {
                [l, r] => blake2b256(&[&[1u8], l, r]),
                [x] => *x,
                _ => unreachable!("chunks of two"),
            })
            .collect();
    }
    level[0]
}

/// Hash of the encoding of a block's fault proofs.
pub fn faults_root(faults: &[FaultProof]) -> Hash {
    blake2b256(&[b"SA-FAULTS-V1", &encode(&faults.to_vec())])
}
