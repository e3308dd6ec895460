//! Verification, pure (never changes state): StepVotes, attestations, candidates and blocks (ATT-*, ACCEPT-*).

use super::reject::{rej, Rej};
use super::*;
use crate::rules::Rule;

impl Node {
    /// Verifies a StepVotes for `vote` in `committee`: members, credits, aggregate signature.
    pub(super) fn verify_step_votes(
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
    pub(super) fn verify_attestation(
        &self,
        ctx: &Context,
        iteration: u8,
        att: &Attestation,
    ) -> Result<Draw, String> {
        Rule::Att1.applies();
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
    pub(super) fn verify_fault(&self, f: &FaultProof) -> Result<(), Rej> {
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
                    return Err(rej(
                        Reason::FaultInvalid,
                        "the two candidates are not of one generator, round and iteration",
                    ));
                }
                if first.hash() == second.hash() {
                    return Err(rej(Reason::FaultInvalid, "the two candidates are the same"));
                }
                self.keys
                    .verify(&first.generator, &first.hash(), first_signature)
                    .and_then(|_| {
                        self.keys
                            .verify(&second.generator, &second.hash(), second_signature)
                    })
                    .map_err(|e| rej(Reason::FaultInvalid, format!("fault proof: {e}")))
            }
            FaultProof::DoubleVote { first, second } => {
                if first.signer != second.signer || first.header != second.header {
                    return Err(rej(
                        Reason::FaultInvalid,
                        "the two votes are not of one signer and step",
                    ));
                }
                if first.vote == second.vote {
                    return Err(rej(Reason::FaultInvalid, "the two votes are the same"));
                }
                for v in [first, second] {
                    self.keys
                        .verify(&v.signer, &vote_digest(&v.header, &v.vote), &v.signature)
                        .map_err(|e| rej(Reason::FaultInvalid, format!("fault proof: {e}")))?;
                }
                Ok(())
            }
        }
    }

    /// STEP-VAL-1 errors that mean no vote at all, checked against the round's context.
    #[allow(
        clippy::too_many_lines,
        reason = "every check a candidate passes, in the order spec/node.md lists the rejections"
    )]
    pub(super) fn verify_candidate(
        &self,
        ctx: &Context,
        c: &Candidate,
        live: bool,
    ) -> Result<Draw, Rej> {
        let h = &c.header;
        if h.height != ctx.round {
            return Err(rej(
                Reason::CandidateHeight,
                format!("height {} is not round {}", h.height, ctx.round),
            ));
        }
        if h.prev_hash != ctx.prev_hash {
            return Err(rej(Reason::CandidateParent, "wrong parent"));
        }
        if h.iteration >= self.params.max_iterations {
            return Err(rej(
                Reason::CandidateIteration,
                format!("iteration {} >= MAX_ITER", h.iteration),
            ));
        }
        let draw = Self::draw(&self.params, ctx, h.iteration);
        if draw.generator != Some(h.generator) {
            return Err(rej(
                Reason::CandidateGenerator,
                format!(
                    "generator {} is not gen({})",
                    h.generator.short(),
                    h.iteration
                ),
            ));
        }
        if h.timestamp <= ctx.prev_timestamp {
            return Err(rej(
                Reason::CandidateTimestampPast,
                "timestamp not after the parent's",
            ));
        }
        if live && h.timestamp > self.now + self.params.max_future_ms {
            return Err(rej(
                Reason::CandidateTimestampFuture,
                "timestamp too far in the future",
            ));
        }
        self.keys
            .verify(&h.generator, &h.hash(), &c.signature)
            .map_err(|e| {
                rej(
                    Reason::CandidateSignature,
                    format!("candidate signature: {e}"),
                )
            })?;
        Rule::Sort6.applies();
        self.keys
            .verify(&h.generator, &seed_digest(&ctx.seed), &h.seed)
            .map_err(|e| rej(Reason::CandidateSeed, format!("seed (SORT-6): {e}")))?;
        if h.payload_root != merkle_root(&c.payload) {
            return Err(rej(
                Reason::CandidatePayloadRoot,
                "payload root does not match the payload",
            ));
        }
        if h.faults_root != faults_root(&c.faults) {
            return Err(rej(
                Reason::CandidateFaultsRoot,
                "faults root does not match the fault proofs",
            ));
        }
        if c.faults.len() > MAX_FAULTS_PER_BLOCK {
            return Err(rej(
                Reason::CandidateTooManyFaults,
                format!("more than {MAX_FAULTS_PER_BLOCK} fault proofs"),
            ));
        }
        for f in &c.faults {
            self.verify_fault(f)?;
            let (_, round, iteration) = f.subject();
            if round > ctx.round || ctx.round - round > self.params.epoch {
                return Err(rej(Reason::FaultTooOld, "fault proof older than one epoch"));
            }
            if self.emergency(iteration) {
                return Err(rej(
                    Reason::FaultEmergency,
                    "fault proof from an emergency iteration",
                ));
            }
        }
        Rule::Fail1.applies();
        let expected = h.iteration.min(self.params.relaxed_iterations) as usize;
        if h.failed_iterations.len() != expected {
            return Err(rej(
                Reason::FailedIterationsLength,
                format!(
                    "failed_iterations has {} entries, FAIL-1 wants {expected}",
                    h.failed_iterations.len()
                ),
            ));
        }
        for (j, f) in h.failed_iterations.iter().enumerate() {
            if let Some(f) = f {
                if !matches!(f.attestation.result, Outcome::Fail(_)) {
                    return Err(rej(
                        Reason::FailedIteration,
                        format!("failed_iterations[{j}] is not a Fail attestation"),
                    ));
                }
                let d = self
                    .verify_attestation(ctx, j as u8, &f.attestation)
                    .map_err(|e| {
                        rej(
                            Reason::FailedIteration,
                            format!("failed_iterations[{j}]: {e}"),
                        )
                    })?;
                if d.generator != Some(f.generator) {
                    return Err(rej(
                        Reason::FailedIteration,
                        format!("failed_iterations[{j}] names the wrong generator"),
                    ));
                }
            }
        }
        self.verify_prev_attestation(h)?;
        Ok(draw)
    }

    /// REW-2: the parent's attestation a header carries: none at height 1, else a Success for
    /// the parent from the parent's own committees (whichever quorum subset the generator
    /// holds: the rewards follow this one).
    fn verify_prev_attestation(&self, h: &Header) -> Result<(), Rej> {
        let err = |e: &str| rej(Reason::PrevAttestation, e);
        match (&h.prev_attestation, h.height) {
            (None, 1) => Ok(()),
            (Some(_), 1) => Err(err("prev_attestation must be empty at height 1 (REW-2)")),
            (None, _) => Err(err("prev_attestation is missing (REW-2)")),
            (Some(a), height) => {
                let Some(parent) = self.chain.get(height as usize - 1) else {
                    return Err(err("prev_attestation: the parent is not held"));
                };
                if a.result != Outcome::Success(h.prev_hash) {
                    return Err(err(
                        "prev_attestation is not a Success for the parent (REW-2)",
                    ));
                }
                let pctx = Self::context_of(&self.chain, &self.params, height - 1);
                self.verify_attestation(&pctx, parent.block.header().iteration, a)
                    .map(|_| ())
                    .map_err(|e| err(&format!("prev_attestation: {e}")))
            }
        }
    }

    /// ACCEPT-1: a block on the tip with a valid Success attestation.
    pub(super) fn verify_block(&self, b: &Block) -> Result<(), Rej> {
        let ctx = Self::context_of(&self.chain, &self.params, b.header().height);
        self.verify_block_in(&ctx, b)
    }

    pub(super) fn verify_block_in(&self, ctx: &Context, b: &Block) -> Result<(), Rej> {
        self.verify_candidate(ctx, &b.candidate, false)?;
        if b.attestation.result != Outcome::Success(b.hash()) {
            return Err(rej(
                Reason::BlockAttestation,
                "the attestation is not a Success for this block",
            ));
        }
        self.verify_attestation(ctx, b.header().iteration, &b.attestation)
            .map(|_| ())
            .map_err(|e| rej(Reason::BlockAttestation, e))
    }
}
