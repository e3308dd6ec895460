//! State merging (spec/faults.md, "State merging"): a state is replaced by one without the
//! votes nothing can read any more, so that states which differ only in such votes are one.
//!
//! The pool keeps every vote an honest provisioner sent. A vote group (slot, step, value) is
//! read by: the tallies of a node deciding that slot (its quorums, its own-vote quorums, and
//! under EMERG-1 its late votes); the Success of a block of the slot (ITER-2 past successes,
//! FORK-1 fallbacks, `success_possible`); the adversary's Fail attestations for a Byzantine
//! candidate (while a node decides that candidate's round); the signers of an attestation an
//! honest node holds (and the TALLY-3 equivocators read from them); the Fail kinds a candidate
//! records (`failed_matches`); and the three properties that look at single votes
//! (SAFE-VOTE-UNIQUE, SAFE-EMERGENCY-RULES, SAFE-TX-CONTAINED). A group is dropped only when
//! none of them can read it, now or later:
//!
//! - *dead slot*: no present honest node may still decide the slot ([`may_still_act`] at the
//!   Ratification step; with a Byzantine provisioner or an emergency iteration, no node may
//!   still decide any slot of its round). A node never comes back to a slot it has left: its
//!   iterations only grow on one tip, and it leaves a tip only by accepting a block on it or by
//!   falling back (FORK-1) to a block of a *lower* iteration, which [`may_still_act`] accounts
//!   for; so a dead slot stays dead.
//! - *not held*: no honest node holds the attestation (slot, value). A Fail attestation is
//!   only ever formed at its slot, so nobody will hold it later.
//! - a *Valid* group also needs its Success to be impossible for ever: in one of the two steps
//!   the honest members that sent it plus every Byzantine member hold less than SM credits.
//!   With the slot dead no more honest votes come, so every Success read of the block is
//!   `None` before and after the drop, and nobody will hold it.
//! - a *Fail* group also needs no candidate in the pool (so no chain) to record a Fail for the
//!   slot's iteration.
//! - no group of a (slot, step) in which an honest voter voted twice, and no vote that breaks
//!   SAFE-EMERGENCY-RULES or SAFE-TX-CONTAINED: a violation is never merged away.
//!
//! Candidates, nodes and budgets are never changed. The merged state has the same actions,
//! successors that merge to the same states and the same value of every property: the merged
//! graph is bisimilar to the full one. The merge is off when a rule it rests on is broken:
//! fallback to a higher iteration or below Final (`fallback-any-iteration`,
//! `dusk-stalled-recovery`), and, for Valid groups, tallies that are not the reference ones
//! (`valid-threshold-below-majority`, `count-non-members`); and in a state where an absent
//! provisioner may still rejoin (it comes back at a round the others have left).

use crate::model::SaModel;
use crate::mutations::Mutation;
use crate::network::may_still_act;
use crate::state::{
    block, candidate, iteration_of, parent_of, round_of, BlockId, Msg, State, Step, Value, VoteStep,
};

impl SaModel {
    /// Whether state merging applies to this configuration at all.
    pub fn mergeable(&self) -> bool {
        !self.config.mutations.iter().any(|m| {
            matches!(
                m,
                Mutation::FallbackAnyIteration
                    | Mutation::DuskStalledRecovery
                    | Mutation::ForgeFailed
            )
        })
    }

    /// Drops from `state`'s pool every vote nothing can read any more (the module
    /// documentation). Returns how many votes were dropped.
    pub fn merge(&self, state: &mut State) -> usize {
        if !self.mergeable() {
            return 0;
        }
        if self.config.faults.rejoin
            && state
                .nodes
                .iter()
                .enumerate()
                .any(|(p, n)| !n.alive && !self.config.is_byzantine(p))
        {
            return 0;
        }
        let coarse = !self.config.faults.byzantine.is_empty()
            || self.config.protocol.emergency_iteration.is_some();
        let reference_tally = !self.config.mutations.iter().any(|m| {
            matches!(
                m,
                Mutation::ValidThresholdBelowMajority | Mutation::CountNonMembers
            )
        });
        let mut drop: Vec<(BlockId, VoteStep, Value)> = Vec::new();
        let msgs: Vec<Msg> = state.pool.iter().copied().collect();
        let mut k = 0;
        while k < msgs.len() {
            let Msg::Vote { slot: s, step, .. } = msgs[k] else {
                k += 1;
                continue;
            };
            // The votes of one (slot, step) are contiguous in the sorted pool.
            let end = k + msgs[k..]
                .iter()
                .take_while(
                    |m| matches!(m, Msg::Vote { slot: x, step: y, .. } if *x == s && *y == step),
                )
                .count();
            let group = &msgs[k..end];
            k = end;
            if !self.slot_dead(state, s, coarse) || self.double_voter(group) {
                continue;
            }
            let mut values: Vec<Value> = group
                .iter()
                .filter_map(|m| match *m {
                    Msg::Vote { value, .. } => Some(value),
                    Msg::Candidate { .. } => None,
                })
                .collect();
            values.dedup();
            for value in values {
                if self.readable(state, s, value, reference_tally)
                    || self.breaks_vote_property(state, group, value)
                {
                    continue;
                }
                drop.push((s, step, value));
            }
        }
        if drop.is_empty() {
            return 0;
        }
        let before = state.pool.iter().count();
        state.pool.retain(|m| match *m {
            Msg::Vote {
                slot, step, value, ..
            } => drop.binary_search(&(slot, step, value)).is_err(),
            Msg::Candidate { .. } => true,
        });
        before - state.pool.iter().count()
    }

    /// Whether no present honest node may still decide slot `s` (with `coarse`: any slot of
    /// its round on its parent).
    fn slot_dead(&self, state: &State, s: BlockId, coarse: bool) -> bool {
        let (parent, r, j) = (parent_of(s), round_of(s), iteration_of(s));
        let (j, step) = if coarse {
            (u8::MAX, Step::Done)
        } else {
            (j, Step::Ratification)
        };
        !state.nodes.iter().enumerate().any(|(q, _)| {
            !self.config.is_byzantine(q) && may_still_act(state, q, parent, r, j, step)
        })
    }

    /// Whether an honest voter cast two different votes in one (slot, step) group.
    fn double_voter(&self, group: &[Msg]) -> bool {
        let mut seen = 0u8;
        group.iter().any(|m| match *m {
            Msg::Vote { voter, .. } if !self.config.is_byzantine(usize::from(voter)) => {
                let bit = 1u8 << voter;
                let again = seen & bit != 0;
                seen |= bit;
                again
            }
            _ => false,
        })
    }

    /// Whether something may still read the votes on `value` of dead slot `s`.
    fn readable(&self, state: &State, s: BlockId, value: Value, reference_tally: bool) -> bool {
        let held = state
            .nodes
            .iter()
            .enumerate()
            .any(|(q, n)| !self.config.is_byzantine(q) && n.holds(s, value));
        if held {
            return true;
        }
        match value {
            Value::Valid(v) => !reference_tally || self.success_may_form(state, s, v),
            _ => self.fail_recorded(state, s, value),
        }
    }

    /// Whether the Success of candidate `variant` of dead slot `s` may exist, now or later:
    /// in both steps the honest members that voted for it plus every Byzantine member reach
    /// SM credits.
    fn success_may_form(&self, state: &State, s: BlockId, variant: u8) -> bool {
        let Some(draw) = self.slot_draw(state, s) else {
            return true;
        };
        let sm = self.config.supermajority();
        let byz = self.config.byzantine_mask();
        let value = Value::Valid(variant);
        let steps = [
            (&draw.validation, VoteStep::Validation),
            (&draw.ratification, VoteStep::Ratification),
        ];
        let formed = steps.into_iter().all(|(committee, step)| {
            let voted = state.pool.voters(s, step, value) | byz;
            let credits: u32 = committee
                .members()
                .filter(|&q| voted & (1 << q) != 0)
                .map(|q| committee.credits(q))
                .sum();
            credits >= sm
        });
        formed
    }

    /// Whether SAFE-FAILED-MATCHES may read the votes on Fail `value` of slot `s`: a candidate
    /// records a Fail of that kind for the slot's iteration and no honest node holds one
    /// (then the property looks for the votes that could have formed it). An honest generator
    /// records only Fails it holds, and a Byzantine one proposes only while a node decides the
    /// round (the slot is then not dead: `coarse`), so no later candidate needs the votes.
    fn fail_recorded(&self, state: &State, s: BlockId, value: Value) -> bool {
        let (parent, j) = (parent_of(s), iteration_of(s));
        let kind = |v: Value| match v {
            Value::Invalid(_) => Value::Invalid(0),
            v => v,
        };
        let recorded = state.pool.iter().any(|m| match *m {
            Msg::Candidate { block, failed, .. } => {
                parent_of(block) == parent
                    && iteration_of(block) > j
                    && failed.get(j).is_some_and(|f| kind(f) == kind(value))
            }
            Msg::Vote { .. } => false,
        });
        recorded
            && !state.nodes.iter().enumerate().any(|(q, n)| {
                !self.config.is_byzantine(q)
                    && n.held
                        .iter()
                        .any(|&(x, v)| x == s && kind(v) == kind(value))
            })
    }

    /// Whether a vote on `value` in `group` breaks SAFE-EMERGENCY-RULES (an honest non-Valid
    /// vote of an emergency iteration) or SAFE-TX-CONTAINED (an honest Invalid Validation vote
    /// on a candidate proposed valid).
    fn breaks_vote_property(&self, state: &State, group: &[Msg], value: Value) -> bool {
        group.iter().any(|m| match *m {
            Msg::Vote {
                slot: s,
                step,
                value: v,
                voter,
            } if v == value && !self.config.is_byzantine(usize::from(voter)) => {
                let emergency = self
                    .config
                    .protocol
                    .emergency_iteration
                    .is_some_and(|e| iteration_of(s) >= e)
                    && !v.is_valid();
                let tx = match v {
                    Value::Invalid(x) if step == VoteStep::Validation => {
                        candidate(state, block(parent_of(s), iteration_of(s), x))
                            .is_some_and(|(valid, _)| valid)
                    }
                    _ => false,
                };
                emergency || tx
            }
            _ => false,
        })
    }
}
