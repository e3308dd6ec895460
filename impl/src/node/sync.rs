//! Sync and fork choice: blocks from peers at, below and above the tip (FORK-*, SYNC-*), pending blocks, GetBlocks answers.

use super::*;
use crate::rules::Rule;

impl Node {
    pub(super) fn request_sync(&mut self, peer: PeerId) {
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

    pub(super) fn on_block(&mut self, peer: PeerId, b: Block) {
        let h = b.header().height;
        let tip = self.tip_height();
        if h == 0 {
            return self.reject(
                peer,
                "block",
                Reason::BlockGenesis,
                "the genesis block is not sent",
            );
        }
        if h == tip + 1 {
            if let Err((code, e)) = self.verify_block(&b) {
                return self.reject(peer, "block", code, e);
            }
            self.accept(b);
            return self.drain_pending();
        }
        if h > tip + 1 {
            if h > tip + MAX_PENDING_BLOCKS {
                return self.reject(
                    peer,
                    "block",
                    Reason::BlockTooFarAhead,
                    format!("height {h} is too far ahead of {tip}"),
                );
            }
            return self.keep_pending(peer, b);
        }
        Rule::Fork1.applies();
        // h <= tip: the same block, or a candidate for FORK-1.
        let local = &self.chain[h as usize].block;
        if local.hash() == b.hash() {
            return;
        }
        let (li, ri) = (local.header().iteration, b.header().iteration);
        Rule::Fin4.applies();
        if h <= self.last_final() {
            return self.reject(
                peer,
                "block",
                Reason::BlockBelowFinal,
                format!("height {h} is at or below the last Final block (FIN-4)"),
            );
        }
        // Cheap before expensive: a higher-iteration alternative is ignored unverified.
        if ri > li {
            return self.reject(
                peer,
                "block",
                Reason::BlockHigherIteration,
                "a higher-iteration alternative is ignored (FORK-1)",
            );
        }
        if let Err((code, e)) = self.verify_block(&b) {
            return self.reject(peer, "block", code, e);
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
        self.fall_back(b, h, tip);
    }

    /// FORK-1: revert to the parent of `b` (at height `h`) and accept `b`, a lower-iteration
    /// block (executed on the parent first: one that does not execute to its root halts the
    /// node, EXEC-ROOT-2); the reverted blocks' transactions return to the pool.
    fn fall_back(&mut self, b: Block, h: u64, tip: u64) {
        let post = match self.post_of(&b) {
            Ok(p) => p,
            Err(e) => return self.halt(&b, &e),
        };
        let from_height = tip;
        let reverted: Vec<Entry> = self.chain.drain(h as usize..).collect();
        self.out
            .push(Output::Persist(Record::Reverted { to_height: h - 1 }));
        self.out.push(Output::Fallback {
            from_height,
            to_height: h - 1,
        });
        self.accept_executed(b, post);
        // EXEC-POOL-4: the reverted blocks' transactions return to the pool (signatures were
        // checked when those blocks were executed); what the new block used is stale.
        let tip_app = Arc::clone(self.tip_app());
        for e in &reverted {
            for tx in e.block.candidate.payload.iter().skip(1) {
                let _ = self.pool.admit(tx.clone(), self.now, &tip_app, true);
            }
        }
        self.drain_pending();
    }

    /// Keeps a block ahead of the tip until its parent is accepted. What can be checked
    /// without the parent is checked first (the generator is a provisioner and signed it), a
    /// block never replaces another at its height (up to [`MAX_PENDING_PER_HEIGHT`]
    /// alternatives), and the pending bytes are bounded in all and per peer.
    fn keep_pending(&mut self, peer: PeerId, b: Block) {
        let h = b.header().height;
        let hash = b.hash();
        if let Err(e) = self
            .keys
            .verify(&b.header().generator, &hash, &b.candidate.signature)
        {
            return self.reject(
                peer,
                "block",
                Reason::PendingSignature,
                format!("pending block: candidate signature: {e}"),
            );
        }
        let here = self
            .pending_blocks
            .get(&h)
            .map_or(&[][..], |v| v.as_slice());
        if here.iter().any(|(_, _, x)| x.hash() == hash) {
            return;
        }
        if here.len() >= MAX_PENDING_PER_HEIGHT {
            return self.reject(
                peer,
                "block",
                Reason::PendingPerHeight,
                format!("height {h} already has {MAX_PENDING_PER_HEIGHT} pending blocks"),
            );
        }
        let size = encode(&b).len();
        let (mut all, mut mine) = (0, 0);
        for (p, bytes, _) in self.pending_blocks.values().flatten() {
            all += bytes;
            if *p == peer {
                mine += bytes;
            }
        }
        if all + size > MAX_PENDING_BYTES || mine + size > MAX_PENDING_BYTES_PER_PEER {
            return self.reject(
                peer,
                "block",
                Reason::PendingFull,
                "the pending-block buffer is full (syncing)",
            );
        }
        self.pending_blocks
            .entry(h)
            .or_default()
            .push((peer, size, b));
        self.request_sync(peer);
    }

    /// Accepts pending blocks on the tip, height by height: at each height the first
    /// alternative that verifies.
    pub(super) fn drain_pending(&mut self) {
        loop {
            let next = self.tip_height() + 1;
            self.pending_blocks.retain(|h, _| *h >= next);
            let Some(alternatives) = self.pending_blocks.remove(&next) else {
                return;
            };
            let Some(b) = alternatives
                .into_iter()
                .map(|(_, _, b)| b)
                .find(|b| self.verify_block(b).is_ok())
            else {
                return;
            };
            self.accept(b);
        }
    }

    /// Answers with up to [`BLOCKS_PER_REQUEST`] blocks, at most once per peer per
    /// `timeout_min_ms` (9 bytes in must not buy 64 blocks out at line rate).
    pub(super) fn on_get_blocks(&mut self, peer: PeerId, from: u64) {
        let tip = self.tip_height();
        let from = from.max(1);
        if from > tip {
            return;
        }
        let now = self.now;
        if let Some(&t) = self.answered.get(&peer) {
            if now < t + self.params.timeout_min_ms {
                return self.reject(
                    peer,
                    "get_blocks",
                    Reason::GetBlocksRate,
                    "GetBlocks again too soon (rate limit)",
                );
            }
        }
        self.answered.insert(peer, now);
        if self.answered.len() > MAX_GET_BLOCKS_PEERS {
            if let Some((&oldest, _)) = self.answered.iter().min_by_key(|(_, t)| **t) {
                self.answered.remove(&oldest);
            }
        }
        for h in from..=tip.min(from + BLOCKS_PER_REQUEST - 1) {
            let b = self.chain[h as usize].block.clone();
            self.out.push(Output::Send {
                peer,
                message: Message::Block(Box::new(b)),
            });
        }
    }
}
