//! The adversary: what Byzantine provisioners may do beyond what every tally already grants
//! them (their votes count for any value: `crate::tally`). A Byzantine generator may broadcast
//! two different candidates for its slot, carrying every Fail attestation that can be formed.

use crate::draws::Context;
use crate::model::{Action, SaModel};
use crate::state::{block, candidate, slot, BlockId, FailSet, State, Step};

impl SaModel {
    /// The candidates a Byzantine generator can broadcast now: for each slot an honest node is
    /// deciding whose gen(i) is Byzantine, each of two different candidates not yet sent.
    pub(crate) fn byzantine_moves(&self, state: &State, out: &mut Vec<Action>) {
        if self.config.faults.byzantine.is_empty() {
            return;
        }
        let mut slots: Vec<(BlockId, u8)> = state
            .nodes
            .iter()
            .filter(|n| {
                n.alive
                    && matches!(
                        n.step,
                        Step::Proposal | Step::Validation | Step::Ratification
                    )
            })
            .map(|n| (n.tip(), n.iteration))
            .collect();
        slots.sort_unstable();
        slots.dedup();
        for (tip, it) in slots {
            let ctx = self.path_context(state, tip);
            let Some(g) = ctx.iterations[usize::from(it)].generator else {
                continue;
            };
            if !self.config.is_byzantine(g) {
                continue;
            }
            let failed = self.formable_fails(state, &ctx, tip, it);
            for v in 0..2 {
                let b = block(tip, it, v);
                if candidate(state, b).is_none() {
                    out.push(Action::ByzantinePropose {
                        p: g as u8,
                        block: b,
                        failed,
                    });
                }
            }
        }
    }

    /// Every Fail attestation of iterations below `it` (and the relaxed threshold) on `tip`
    /// that can be formed from the votes sent and the Byzantine credits.
    fn formable_fails(&self, state: &State, ctx: &Context, tip: BlockId, it: u8) -> FailSet {
        let mut failed = FailSet::default();
        for j in 0..it.min(self.config.protocol.relaxed_iterations) {
            let s = slot(tip, j);
            let draw = &ctx.iterations[usize::from(j)];
            for value in Self::values(state, s, true) {
                if value.is_valid() {
                    continue;
                }
                // VAR-FIN-SM: honest nodes count only a Fail of SM credits, so only such a
                // Fail is worth recording.
                if let Some(att) = self.attestation(state, None, draw, s, value) {
                    if self.fail_counts(draw, &att) {
                        failed = failed.with(j, value);
                        break;
                    }
                }
            }
        }
        failed
    }
}
