//! Contexts and draws: what a chain prefix fixes for the next round (seed, eligible stake) and the sortition of each iteration (SORT-*).

use super::*;
use crate::rules::Rule;

impl Node {
    pub(super) fn context_of(chain: &[Entry], params: &Params, round: u64) -> Context {
        Rule::Elig5.applies();
        let parent = &chain[round as usize - 1];
        Context {
            round,
            prev_hash: parent.block.hash(),
            prev_timestamp: parent.block.header().timestamp,
            seed: parent.block.header().seed,
            eligible: parent
                .ledger
                .as_ref()
                .map(|l| l.eligible(round, params))
                .unwrap_or_default(),
            unsuspended: match params.suspension {
                Suspension::Dusk => None,
                Suspension::Lifted => parent
                    .ledger
                    .as_ref()
                    .map(|l| l.eligible_with(round, params, false)),
            },
        }
    }

    /// The provisioners iteration `iteration` is drawn on: ELIG-1, ELIG-2 and ELIG-3, or
    /// under VAR-SUSP-LIFTED from RELAXED on ELIG-1 and ELIG-2 only.
    fn eligible_at<'a>(
        params: &Params,
        ctx: &'a Context,
        iteration: u8,
    ) -> &'a BTreeMap<PublicKey, u64> {
        match &ctx.unsuspended {
            Some(all) if iteration >= params.relaxed_iterations => all,
            _ => &ctx.eligible,
        }
    }

    pub(super) fn draw(params: &Params, ctx: &Context, iteration: u8) -> Draw {
        let seed = &ctx.seed.0;
        let eligible = Self::eligible_at(params, ctx, iteration);
        let gen = generator(seed, iteration, eligible);
        Draw {
            generator: gen,
            validation: committee(
                seed,
                iteration,
                StepKind::Validation,
                params.max_iterations,
                eligible,
                params.committee_credits,
            ),
            ratification: committee(
                seed,
                iteration,
                StepKind::Ratification,
                params.max_iterations,
                eligible,
                params.committee_credits,
            ),
        }
    }

    pub(super) fn iteration(&mut self, i: u8) -> &mut Iteration {
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

    pub(super) fn emergency(&self, i: u8) -> bool {
        i >= self.params.emergency_iteration
    }
}
