//! Acceptance: appending a block, its finality labels (FIN-*), rewards and penalties applied to the ledger (REW-*, SLASH-*).

use super::*;
use crate::rules::Rule;

impl Node {
    /// EXEC-ROOT-2: the state after `b` on its parent: the one this node computed while
    /// validating it, or its execution now with the root checked.
    pub(super) fn post_of(&mut self, b: &Block) -> Result<Post, BlockError> {
        match self.executed.remove(&b.hash()) {
            Some(p) => Ok(p),
            None => self.execute(&b.candidate, true),
        }
    }

    /// EXEC-ROOT-2: stops this node for good: a block a quorum attested does not execute to
    /// the state its header commits to.
    pub(super) fn halt(&mut self, b: &Block, e: &BlockError) {
        Rule::ExecRoot2.applies();
        let reason = format!(
            "block {} at height {} attested by a quorum does not execute here: {e}",
            crate::keys::to_hex(&b.hash()),
            b.header().height
        );
        self.halted = Some(reason.clone());
        self.out.push(Output::Halted {
            height: b.header().height,
            hash: b.hash(),
            reason,
        });
    }

    /// Whether a Fail attestation of iteration `j` counts toward PNI (FIN-1): always under
    /// Dusk's rule; under VAR-FIN-SM and VAR-FIN-CLOSED (spec/variants.md) only when its
    /// Ratification signers hold SM credits of the iteration's committee.
    pub(super) fn fail_counts(&self, ctx: &Context, j: u8, att: &Attestation) -> bool {
        if !self.params.finality.fail_needs_supermajority() {
            return true;
        }
        let draw = Self::draw(&self.params, ctx, j);
        let credits: u32 = bitset_members(&draw.ratification, att.ratification.bitset)
            .unwrap_or_default()
            .iter()
            .map(|(_, c)| *c)
            .sum();
        credits >= thresholds(&self.params).supermajority
    }

    /// ACCEPT-1: append a verified block, label it (FIN-1, FIN-2, FIN-3), apply it to the ledger, record
    /// it, announce it, and start the next round. A block that does not execute to its root
    /// halts the node instead (EXEC-ROOT-2).
    pub(super) fn accept(&mut self, b: Block) {
        match self.post_of(&b) {
            Ok(post) => self.accept_executed(b, post),
            Err(e) => self.halt(&b, &e),
        }
    }

    /// ACCEPT-1 for a block whose state after is `post`.
    pub(super) fn accept_executed(&mut self, b: Block, post: Post) {
        Rule::Accept1.applies();
        let height = b.header().height;
        let ctx = Self::context_of(&self.chain, &self.params, height);
        self.out
            .push(Output::Persist(Record::Accepted(Box::new(b.clone()))));
        let (voters, state_root, receipts) = self.append_with(&ctx, b.clone(), post);
        let e = self.chain.last().expect("just appended");
        self.out.push(Output::Accepted(AcceptedBlock {
            height,
            hash: b.hash(),
            iteration: b.header().iteration,
            label: e.labels.label,
            generator: b.header().generator,
            voters,
            timestamp: b.header().timestamp,
            state_root,
            receipts,
        }));
        self.out
            .push(Output::Broadcast(Message::Block(Box::new(b))));
        self.last_accept = self.now;
        self.start_round();
    }

    /// Appends without outputs other than label changes (used by restore).
    pub(super) fn append(&mut self, b: Block, post: Post) {
        let ctx = Self::context_of(&self.chain, &self.params, b.header().height);
        self.append_with(&ctx, b, post);
    }

    pub(super) fn append_with(
        &mut self,
        ctx: &Context,
        b: Block,
        post: Post,
    ) -> (Vec<PublicKey>, Hash, Vec<Receipt>) {
        let h = b.header();
        let draw = Self::draw(&self.params, ctx, h.iteration);
        // Who signed this block's own attestation (reported with the acceptance).
        let mut voters = BTreeMap::new();
        for (committee, sv) in [
            (&draw.validation, &b.attestation.validation),
            (&draw.ratification, &b.attestation.ratification),
        ] {
            for (k, c) in bitset_members(committee, sv.bitset).unwrap_or_default() {
                *voters.entry(k).or_insert(0u32) += c;
            }
        }
        let fails = h
            .failed_iterations
            .iter()
            .enumerate()
            .filter(|(j, f)| {
                f.as_ref()
                    .is_some_and(|f| self.fail_counts(ctx, *j as u8, &f.attestation))
            })
            .count();
        let (label, confirmed_after) = initial_label(
            pni(h.iteration, self.params.max_iterations, fails),
            self.params.finality,
        );
        self.chain.push(Entry {
            block: b,
            labels: LabelState {
                label,
                confirmed_after,
            },
            ledger: Some(post.ledger),
            app: Some(Arc::clone(&post.app)),
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
        // EXEC-POOL-4: what the block used leaves the pool, and what waited too long.
        self.pool.after_block(&post.app, self.now);
        self.prune_states();
        self.maybe_snapshot();
        (voters.into_keys().collect(), post.root, post.receipts)
    }

    /// EXEC-STATE-2: a snapshot of the last Final block when it is `snapshot_every` heights
    /// past the last one.
    fn maybe_snapshot(&mut self) {
        let lf = self.last_final();
        if self.snapshot_every == 0 || lf < self.last_snapshot + self.snapshot_every {
            return;
        }
        let e = &self.chain[lf as usize];
        let (Some(app), Some(ledger), Some(prev_ledger)) = (
            e.app.clone(),
            e.ledger.clone(),
            self.chain[lf as usize - 1].ledger.clone(),
        ) else {
            return;
        };
        Rule::ExecState2.applies();
        let hash = e.block.hash();
        self.last_snapshot = lf;
        self.out
            .push(Output::Snapshot(Box::new(crate::snapshot::Snapshot {
                height: lf,
                hash,
                prev_ledger,
                ledger,
                app,
            })));
    }

    /// EXEC-STATE-1: drops the application state of every height below the last Final one
    /// (no block can be built or reverted there, FIN-4). What the states share stays shared.
    fn prune_states(&mut self) {
        Rule::ExecState1.applies();
        let last_final = self.last_final() as usize;
        for e in &mut self.chain[self.pruned_below.min(last_final)..last_final] {
            e.app = None;
        }
        self.pruned_below = self.pruned_below.max(last_final);
    }

    /// What a block does to the ledger besides its transactions: REW-1, REW-2 rewards for its parent,
    /// SLASH-1 soft and SLASH-4 hard slashes (computed on this node's chain up to the parent).
    pub(super) fn effects(&self, h: &Header, faults: &[FaultProof]) -> BlockEffects {
        // REW-1, REW-2: this block pays its parent's rewards, from the parent's attestation this
        // block's header fixes: the same for every node on this chain.
        let mut fx = BlockEffects {
            height: h.height,
            generator: None,
            quorum_credits: 2 * thresholds(&self.params).supermajority,
            ..Default::default()
        };
        if let (Some(a), Some(parent)) = (
            &h.prev_attestation,
            self.chain
                .get(h.height as usize - 1)
                .filter(|_| h.height >= 2),
        ) {
            let pctx = Self::context_of(&self.chain, &self.params, h.height - 1);
            let pdraw = Self::draw(&self.params, &pctx, parent.block.header().iteration);
            fx.generator = Some(parent.block.header().generator);
            for (committee, sv) in [
                (&pdraw.validation, &a.validation),
                (&pdraw.ratification, &a.ratification),
            ] {
                for (k, c) in bitset_members(committee, sv.bitset).unwrap_or_default() {
                    *fx.signer_credits.entry(k).or_insert(0) += c;
                }
            }
        }
        for (j, f) in h.failed_iterations.iter().enumerate() {
            let Some(f) = f else { continue };
            match f.attestation.result {
                Outcome::Fail(Vote::NoCandidate) if (j as u8) < self.params.relaxed_iterations => {
                    fx.soft.push(f.generator)
                }
                Outcome::Fail(Vote::Invalid(_)) => fx.hard.push((f.generator, h.height, j as u8)),
                _ => {}
            }
        }
        for f in faults {
            fx.hard.push(f.subject());
        }
        fx
    }
}
