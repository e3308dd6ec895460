//! Acceptance: appending a block, its finality labels (FIN-*), rewards and penalties applied to the ledger (REW-*, SLASH-*).

use super::*;
use crate::rules::Rule;

impl Node {
    /// ACCEPT-1: append a verified block, label it (FIN-1, FIN-2, FIN-3), apply it to the ledger, record
    /// it, announce it, and start the next round.
    pub(super) fn accept(&mut self, b: Block) {
        Rule::Accept1.applies();
        let height = b.header().height;
        let ctx = Self::context_of(&self.chain, &self.params, height);
        self.out
            .push(Output::Persist(Record::Accepted(Box::new(b.clone()))));
        let (voters, state_root, receipts) = self.append_with(&ctx, b.clone());
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
    pub(super) fn append(&mut self, b: Block) {
        let ctx = Self::context_of(&self.chain, &self.params, b.header().height);
        self.append_with(&ctx, b);
    }

    pub(super) fn append_with(
        &mut self,
        ctx: &Context,
        b: Block,
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
        let hash = b.hash();
        let post = match self.executed.remove(&hash) {
            Some(p) => p,
            // A block this node did not execute (sync, restore) or whose execution it disputes:
            // it was attested by a supermajority, so it is on the chain; its state is what
            // re-execution gives (the same on every node).
            None => self.execute(&b.candidate, false).unwrap_or_else(|_| {
                let mut ledger = self.chain.last().expect("genesis").ledger.clone();
                ledger.apply(&self.effects(h, &b.candidate.faults), &self.params);
                let app = self.chain.last().expect("genesis").app.clone();
                let root = crate::exec::state_root(&ledger, &app);
                Post {
                    ledger,
                    app,
                    receipts: vec![],
                    root,
                }
            }),
        };
        Rule::ExecPool1.applies();
        // EXEC-POOL-1: what this block includes leaves the pool.
        if !self.pool.is_empty() {
            let included: std::collections::BTreeSet<Hash> = b
                .candidate
                .payload
                .iter()
                .map(|tx| crate::hash::blake2b256(&[tx]))
                .collect();
            self.pool.retain(|(k, _)| !included.contains(k));
        }
        let fails = h.failed_iterations.iter().flatten().count();
        let (label, confirmed_after) =
            initial_label(pni(h.iteration, self.params.max_iterations, fails));
        self.chain.push(Entry {
            block: b,
            labels: LabelState {
                label,
                confirmed_after,
            },
            ledger: post.ledger,
            app: post.app,
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
        (voters.into_keys().collect(), post.root, post.receipts)
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
