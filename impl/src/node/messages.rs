//! Messages from peers: dispatch, the round window and future buffer, candidates and their execution, fault proofs.

use super::*;

impl Node {
    pub(super) fn reject(&mut self, peer: PeerId, kind: &'static str, reason: impl Into<String>) {
        self.out.push(Output::Rejected {
            peer,
            kind,
            reason: reason.into(),
        });
    }

    pub(super) fn on_message(&mut self, peer: PeerId, m: Message) {
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

    pub(super) fn buffer_future(&mut self, peer: PeerId, r: u64, m: Message) {
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

    pub(super) fn on_candidate(&mut self, peer: PeerId, c: Candidate) {
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

    pub(super) fn on_executed(&mut self, hash: Hash, valid: bool) {
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

    pub(super) fn record_fault(&mut self, proof: FaultProof) {
        if !self.faults.contains(&proof) {
            self.faults.push(proof.clone());
            self.out.push(Output::Fault(Box::new(proof)));
        }
    }
}
