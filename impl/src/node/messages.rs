//! Messages from peers: dispatch, the round window and future buffer, candidates and their execution, fault proofs.

use super::*;

impl Node {
    pub(super) fn reject(
        &mut self,
        peer: PeerId,
        kind: &'static str,
        code: Reason,
        reason: impl Into<String>,
    ) {
        self.out.push(Output::Rejected {
            peer,
            kind,
            code,
            reason: reason.into(),
        });
    }

    pub(super) fn on_message(&mut self, peer: PeerId, m: Message) {
        let round = self.round.ctx.round;
        let msg_round = match &m {
            Message::Candidate(c) => Some(c.header.height),
            Message::Validation(v) => Some(v.header.round),
            Message::Ratification { vote, .. } => Some(vote.header.round),
            Message::Block(_) | Message::GetBlocks { .. } | Message::Transaction(_) => None,
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
            Message::Transaction(tx) => self.on_transaction(peer, tx),
        }
    }

    /// Keeps a message of a later round (at most two ahead) for when the node gets there,
    /// within the buffer's bounds, counted in messages and bytes. Each peer has a quota; when
    /// the whole buffer is full, a peer holding less than the largest holder takes room from
    /// it (that holder's newest message goes), so a flood never starves a quieter peer.
    pub(super) fn buffer_future(&mut self, peer: PeerId, r: u64, m: Message) {
        let round = self.round.ctx.round;
        if r > round + 2 {
            return self.reject(
                peer,
                m.kind(),
                Reason::TooFarAhead,
                format!("round {r} is too far ahead of round {round} (syncing)"),
            );
        }
        let size = encode(&m).len();
        let usage = |node: &Node| {
            let mut per: BTreeMap<PeerId, (usize, usize)> = BTreeMap::new();
            let mut bytes = 0;
            for (p, b, _) in node.future.values().flatten() {
                let e = per.entry(*p).or_default();
                e.0 += 1;
                e.1 += b;
                bytes += b;
            }
            (per, bytes)
        };
        let (per, _) = usage(self);
        let (mine, my_bytes) = per.get(&peer).copied().unwrap_or_default();
        if mine >= MAX_FUTURE_PER_PEER || my_bytes + size > MAX_FUTURE_BYTES_PER_PEER {
            return self.reject(
                peer,
                m.kind(),
                Reason::FutureBufferPeer,
                format!(
                    "round {r}: this peer's share of the future-round buffer is full (syncing)"
                ),
            );
        }
        loop {
            let (per, bytes) = usage(self);
            if self.future_count < MAX_FUTURE && bytes + size <= MAX_FUTURE_BYTES {
                break;
            }
            // Full: take room from the largest holder if it holds more than this peer.
            let Some((&big, &(n, _))) = per.iter().max_by_key(|(_, (n, b))| (*n, *b)) else {
                break;
            };
            if n <= mine + 1 || big == peer {
                return self.reject(
                    peer,
                    m.kind(),
                    Reason::FutureBufferFull,
                    format!("round {r}: the future-round buffer is full (syncing)"),
                );
            }
            let newest = self.future.iter().rev().find_map(|(round, v)| {
                v.iter()
                    .rposition(|(p, _, _)| *p == big)
                    .map(|i| (*round, i))
            });
            let Some(v) = newest.and_then(|(round, _)| self.future.get_mut(&round)) else {
                return self.reject(
                    peer,
                    m.kind(),
                    Reason::FutureBufferFull,
                    "the future-round buffer is inconsistent",
                );
            };
            if let Some((_, i)) = newest {
                v.remove(i);
                self.future_count -= 1;
            }
        }
        self.future.entry(r).or_default().push((peer, size, m));
        self.future_count += 1;
        self.request_sync(peer);
    }

    pub(super) fn on_candidate(&mut self, peer: PeerId, c: Candidate) {
        let i = c.header.iteration;
        let hash = c.header.hash();
        // A replay of the candidate already held changes nothing: dropped before its
        // signatures are checked (about 1 ms of BLS each), not after.
        if self
            .round
            .iterations
            .get(&i)
            .and_then(|it| it.candidate.as_ref())
            .is_some_and(|prev| prev.header.hash() == hash)
        {
            return;
        }
        if let Err((code, e)) = self.verify_candidate(&self.round.ctx.clone(), &c, true) {
            return self.reject(peer, "candidate", code, e);
        }
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
        // EXEC-BLOCK-1, EXEC-BLOCK-2, EXEC-BLOCK-3: re-execute on the tip; a block whose state root re-execution does
        // not reproduce is invalid (a misconfigured generator's iteration fails, the round
        // goes on). Failed transactions are receipts, not invalidity.
        let valid = match self.execute(&c, true) {
            Ok(post) => {
                self.executed.insert(hash, post);
                true
            }
            Err(_) => false,
        };
        self.on_executed(i, valid);
    }

    pub(super) fn on_executed(&mut self, i: u8, valid: bool) {
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
