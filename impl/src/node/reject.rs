//! Why a message was rejected: one stable code per check of spec/node.md ("What every message
//! is checked for"), so that operators, tests and the fault campaign can count rejections by
//! reason rather than by message text.

use serde::Serialize;

/// A check a message failed. [`Reason::id`] is the ID spec/node.md lists it under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Reason {
    /// The frame does not decode (spec/encoding.md: tag, length, trailing bytes).
    Decode,
    /// A message of round r+3 or later.
    TooFarAhead,
    /// This peer's share of the future-round buffer is full.
    FutureBufferPeer,
    /// The future-round buffer is full and this peer holds no less than the largest holder.
    FutureBufferFull,
    /// A vote whose header names the other step.
    VoteStep,
    /// A vote for another parent than the round's.
    VoteParent,
    /// A vote for an iteration ≥ MAX_ITER.
    VoteIteration,
    /// A vote of a signer without credits in the step's committee (TALLY-2).
    VoteNotMember,
    /// A NoQuorum vote in Validation (STEP-VAL-2).
    VoteNoQuorumValidation,
    /// A vote whose BLS signature does not verify.
    VoteSignature,
    /// A Ratification vote whose attached Validation StepVotes are not a quorum for its value.
    VoteAttachedQuorum,
    /// A candidate whose height is not its context's round (defensive: the round window
    /// already routes candidates by height, so no network input reaches it).
    CandidateHeight,
    /// A candidate on another parent.
    CandidateParent,
    /// A candidate for an iteration ≥ MAX_ITER.
    CandidateIteration,
    /// A candidate whose generator is not gen(i).
    CandidateGenerator,
    /// A timestamp not after the parent's.
    CandidateTimestampPast,
    /// A timestamp more than `max_future_ms` ahead.
    CandidateTimestampFuture,
    /// The generator's signature over the block hash does not verify.
    CandidateSignature,
    /// The seed is not the generator's signature over the parent's seed digest (SORT-6).
    CandidateSeed,
    /// The payload root does not match the payload.
    CandidatePayloadRoot,
    /// The faults root does not match the fault proofs.
    CandidateFaultsRoot,
    /// More than 100 fault proofs.
    CandidateTooManyFaults,
    /// A fault proof that does not prove a fault (not one signer and step, the same message
    /// twice, or a signature that does not verify).
    FaultInvalid,
    /// A fault proof more than one epoch old, or from a later round.
    FaultTooOld,
    /// A fault proof from an emergency iteration.
    FaultEmergency,
    /// `failed_iterations` of the wrong length (FAIL-1).
    FailedIterationsLength,
    /// A `failed_iterations` entry that is not a valid Fail attestation naming gen(j).
    FailedIteration,
    /// `prev_attestation` missing, present at height 1, or not a valid Success for the
    /// parent (REW-2).
    PrevAttestation,
    /// A block at height 0.
    BlockGenesis,
    /// A block whose attestation is not a valid Success for it (ATT-1).
    BlockAttestation,
    /// A block more than 256 heights above the tip.
    BlockTooFarAhead,
    /// A different block at or below the last Final height (FIN-4).
    BlockBelowFinal,
    /// An alternative at a held height from a higher iteration (FORK-1 ignores it).
    BlockHigherIteration,
    /// A block above the tip whose generator's signature does not verify.
    PendingSignature,
    /// A fifth different block above the tip at one height.
    PendingPerHeight,
    /// The pending-block buffer is full (in all, or this peer's share).
    PendingFull,
    /// A second GetBlocks from one peer within `timeout_min_ms`.
    GetBlocksRate,
    /// A client's transaction that does not decode, is a coinbase, is too large, asks for too
    /// much gas, or finds the pool full (EXEC-POOL-1).
    Transaction,
}

impl Reason {
    /// Every reason, in the order of spec/node.md.
    pub const ALL: [Reason; 38] = [
        Reason::Decode,
        Reason::TooFarAhead,
        Reason::FutureBufferPeer,
        Reason::FutureBufferFull,
        Reason::VoteStep,
        Reason::VoteParent,
        Reason::VoteIteration,
        Reason::VoteNotMember,
        Reason::VoteNoQuorumValidation,
        Reason::VoteSignature,
        Reason::VoteAttachedQuorum,
        Reason::CandidateHeight,
        Reason::CandidateParent,
        Reason::CandidateIteration,
        Reason::CandidateGenerator,
        Reason::CandidateTimestampPast,
        Reason::CandidateTimestampFuture,
        Reason::CandidateSignature,
        Reason::CandidateSeed,
        Reason::CandidatePayloadRoot,
        Reason::CandidateFaultsRoot,
        Reason::CandidateTooManyFaults,
        Reason::FaultInvalid,
        Reason::FaultTooOld,
        Reason::FaultEmergency,
        Reason::FailedIterationsLength,
        Reason::FailedIteration,
        Reason::PrevAttestation,
        Reason::BlockGenesis,
        Reason::BlockAttestation,
        Reason::BlockTooFarAhead,
        Reason::BlockBelowFinal,
        Reason::BlockHigherIteration,
        Reason::PendingSignature,
        Reason::PendingPerHeight,
        Reason::PendingFull,
        Reason::GetBlocksRate,
        Reason::Transaction,
    ];

    /// Reasons no network input can produce, with why (checks kept as defence in depth).
    pub const DEFENSIVE: [(Reason, &'static str); 1] = [(
        Reason::CandidateHeight,
        "the round window routes candidates by height and blocks are verified in their own height's context",
    )];

    /// The stable ID, as spec/node.md lists it (`REJ-VOTE-SIGNATURE`).
    pub fn id(self) -> String {
        let name = serde_json::to_value(self)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        format!("REJ-{}", name.to_uppercase())
    }
}

/// A failed check: its reason and the details (field, values).
pub(crate) type Rej = (Reason, String);

/// A failed check with its reason.
pub(crate) fn rej(reason: Reason, detail: impl Into<String>) -> Rej {
    (reason, detail.into())
}
