//! Tallying (spec/protocol.md QUORUM-1, QUORUM-2, TALLY-1, TALLY-2, TALLY-3, TALLY-4, ATT-1), the model's counterpart of
//! sa-node's `tally.rs`: the threshold of a value, the smallest quorum a node can hold from the
//! votes sent (and the Byzantine members' credits), the equivocators a node can prove, the
//! attestation a node can form, and TALLY-4's own quorums.

use crate::draws::IterationDraw;
use crate::model::SaModel;
use crate::mutations::Mutation;
use crate::node::{handle, Event};
use crate::rules::Rule;
use crate::sortition::Committee;
use crate::state::{
    block, candidate, iteration_of, parent_of, slot, variant_of, Att, BlockId, FailSet, Msg, State,
    Step, Value, VoteStep,
};

impl SaModel {
    /// Threshold a node uses for `value` (QUORUM-1, QUORUM-2).
    pub fn threshold(&self, value: Value) -> u32 {
        Rule::Quorum1.applies();
        Rule::Quorum2.applies();
        let reference = if value.is_valid() {
            self.config.supermajority()
        } else {
            self.config.majority()
        };
        if self
            .config
            .broken(Rule::Quorum1)
            .contains(Mutation::ValidThresholdBelowMajority)
        {
            let t = (self.config.protocol.committee_credits / 2).max(1);
            if t != reference {
                Mutation::ValidThresholdBelowMajority.hit();
            }
            t
        } else {
            reference
        }
    }

    /// TALLY-1, TALLY-2, TALLY-3: a quorum on `value` for (`slot`, `step`) that a node can hold, as the
    /// smallest set of signers in key order, honest senders first, then Byzantine members
    /// (the adversary shows a node no more of its votes than needed): `None` if the honest
    /// votes sent plus every Byzantine member's credits stay below the threshold.
    pub fn quorum_signers(
        &self,
        state: &State,
        viewer: Option<usize>,
        committee: &Committee,
        s: BlockId,
        step: VoteStep,
        value: Value,
    ) -> Option<u8> {
        self.quorum_signers_at(
            state,
            viewer,
            committee,
            s,
            step,
            value,
            self.threshold(value),
        )
    }

    /// [`SaModel::quorum_signers`] at a given threshold (VAR-FIN-SM asks whether a Fail
    /// quorum reaches SM).
    #[allow(
        clippy::too_many_arguments,
        reason = "quorum_signers' arguments and the threshold it otherwise derives from the value"
    )]
    pub fn quorum_signers_at(
        &self,
        state: &State,
        viewer: Option<usize>,
        committee: &Committee,
        s: BlockId,
        step: VoteStep,
        value: Value,
        threshold: u32,
    ) -> Option<u8> {
        Rule::Tally1.applies();
        Rule::Tally2.applies();
        let known = viewer.map_or(0, |n| {
            self.known_equivocators(state, n, committee, s, step, value)
        });
        let mut credits = 0;
        let mut signers = 0u8;
        let byz = self.config.byzantine_mask();
        let voted = state.pool.voters(s, step, value);
        // TALLY-4: a node counts its own vote when it casts it, so the quorum it forms holds
        // that vote first (this fixes the signers an attestation carries, REW-2; whether a
        // quorum exists does not depend on the order).
        if let Some(n) = viewer.filter(|&n| byz & (1 << n) == 0 && voted & (1 << n) != 0) {
            let c = committee.credits(n);
            if c > 0 {
                credits += c;
                signers |= 1 << n;
            }
        }
        for pass in [false, true] {
            for v in 0..self.n() {
                if credits >= threshold {
                    return Some(signers);
                }
                let is_byz = byz & (1 << v) != 0;
                if is_byz != pass || signers & (1 << v) != 0 {
                    continue;
                }
                let c = committee.credits(v);
                let counted = if is_byz {
                    if known & (1 << v) != 0 {
                        0
                    } else {
                        c
                    }
                } else if voted & (1 << v) != 0 {
                    if c == 0
                        && self
                            .config
                            .broken(Rule::Tally2)
                            .contains(Mutation::CountNonMembers)
                    {
                        Mutation::CountNonMembers.hit();
                        1
                    } else {
                        c
                    }
                } else {
                    0
                };
                if counted > 0 {
                    credits += counted;
                    signers |= 1 << v;
                }
            }
        }
        (credits >= threshold).then_some(signers)
    }

    /// TALLY-3 at node `n`: the Byzantine members whose vote on `value` node `n` must not count
    /// because it holds an attestation of the same slot on another value that needed that
    /// member's vote in this step (the honest votes of that value and the other Byzantine
    /// members' credits do not reach its threshold): `n` holds both of its votes, a fault
    /// proof. A member that was not needed may have been left out of what `n` received, so it
    /// still counts (the adversary's best case).
    pub fn known_equivocators(
        &self,
        state: &State,
        n: usize,
        committee: &Committee,
        s: BlockId,
        step: VoteStep,
        value: Value,
    ) -> u8 {
        Rule::Tally3.applies();
        let byz = self.config.byzantine_mask();
        if byz == 0 {
            return 0;
        }
        let mut known = 0u8;
        for &(slot_id, other) in &state.nodes[n].held {
            if slot_id != s || other == value {
                continue;
            }
            if step == VoteStep::Validation && other == Value::NoQuorum {
                continue;
            }
            let threshold = self.threshold(other);
            let voted = state.pool.voters(s, step, other);
            let honest: u32 = committee
                .members()
                .filter(|&q| byz & (1 << q) == 0 && voted & (1 << q) != 0)
                .map(|q| committee.credits(q))
                .sum();
            let byz_total: u32 = committee
                .members()
                .filter(|&q| byz & (1 << q) != 0)
                .map(|q| committee.credits(q))
                .sum();
            for b in committee.members().filter(|&q| byz & (1 << q) != 0) {
                if honest + byz_total - committee.credits(b) < threshold {
                    known |= 1 << b;
                }
            }
        }
        known
    }

    /// The attestation on `value` a node can form for slot `s` (ATT-1): Ratification quorum,
    /// plus the Validation quorum on the same value (none for NoQuorum).
    pub fn attestation(
        &self,
        state: &State,
        viewer: Option<usize>,
        draw: &IterationDraw,
        s: BlockId,
        value: Value,
    ) -> Option<Att> {
        Rule::Att1.applies();
        Rule::StepRat2.applies();
        let ratification = self.quorum_signers(
            state,
            viewer,
            &draw.ratification,
            s,
            VoteStep::Ratification,
            value,
        )?;
        let validation = if value == Value::NoQuorum {
            0
        } else {
            self.quorum_signers(
                state,
                viewer,
                &draw.validation,
                s,
                VoteStep::Validation,
                value,
            )?
        };
        let ratification = self
            .supermajority_fail(state, viewer, draw, s, value)
            .unwrap_or(ratification);
        Some(Att {
            slot: s,
            value,
            validation,
            ratification,
        })
    }

    /// VAR-FIN-SM / VAR-FIN-CLOSED: the signers of a Fail quorum of SM credits on `value` that
    /// a node can hold, if the votes sent make one (it then holds that one: the handler records
    /// only such Fails in failed_iterations). None under Dusk's rule and for a Success.
    fn supermajority_fail(
        &self,
        state: &State,
        viewer: Option<usize>,
        draw: &IterationDraw,
        s: BlockId,
        value: Value,
    ) -> Option<u8> {
        if value.is_valid() || !self.config.protocol.finality.fail_needs_supermajority() {
            return None;
        }
        self.quorum_signers_at(
            state,
            viewer,
            &draw.ratification,
            s,
            VoteStep::Ratification,
            value,
            self.config.supermajority(),
        )
    }

    /// Whether a Fail attestation counts toward PNI: always under Dusk's rule; under
    /// VAR-FIN-SM and VAR-FIN-CLOSED only when its Ratification signers hold SM credits.
    pub fn fail_counts(&self, draw: &IterationDraw, att: &Att) -> bool {
        if !self.config.protocol.finality.fail_needs_supermajority() {
            return true;
        }
        let credits: u32 = (0..self.n())
            .filter(|&v| att.ratification & (1 << v) != 0)
            .map(|v| draw.ratification.credits(v))
            .sum();
        credits >= self.config.supermajority()
    }

    /// The Success attestation of candidate `b` a node can form, if the candidate exists.
    pub fn success(
        &self,
        state: &State,
        viewer: Option<usize>,
        b: BlockId,
    ) -> Option<(Att, FailSet)> {
        let (valid, failed) = candidate(state, b)?;
        let _ = valid;
        let s = slot(parent_of(b), iteration_of(b));
        let draw = self.slot_draw(state, s)?;
        let att = self.attestation(state, viewer, &draw, s, Value::Valid(variant_of(b)))?;
        Some((att, failed))
    }

    /// TALLY-4: a node counts its own vote as soon as it casts it, so a quorum its own credits
    /// reach alone is held at once, in the same step as the vote (not as a later event another
    /// event could overtake). Applies such quorums to node `p` until none is left.
    pub fn own_quorums(&self, state: &mut State, p: usize) {
        Rule::Tally4.applies();
        let dusk = self
            .config
            .broken(Rule::Tally4)
            .contains(Mutation::DuskAsyncOwnVote);
        while let Some(event) = self.own_quorum(state, p, dusk) {
            let (node, out) = handle(self, &state.root, p, &state.nodes[p], &event);
            state.nodes[p] = node;
            state.pool.extend(out);
        }
    }

    /// The quorum node `p`'s own credits reach alone in its current step, as the event of
    /// holding it; `None` if there is none (or, under Dusk's rule, it stays a later event).
    fn own_quorum(&self, state: &State, p: usize, dusk: bool) -> Option<Event> {
        let node = &state.nodes[p];
        if !node.alive {
            return None;
        }
        let step = match node.step {
            Step::Validation => VoteStep::Validation,
            Step::Ratification => VoteStep::Ratification,
            _ => return None,
        };
        let (tip, it) = (node.tip(), node.iteration);
        let s = slot(tip, it);
        let ctx = self.node_context(&state.root, node);
        let draw = ctx.iterations.get(usize::from(it))?;
        let committee = match step {
            VoteStep::Validation => &draw.validation,
            VoteStep::Ratification => &draw.ratification,
        };
        let own = committee.credits(p);
        let value = Self::values(state, s, true).find(|&value| {
            own >= self.threshold(value)
                && state.pool.contains(&Msg::Vote {
                    slot: s,
                    step,
                    value,
                    voter: p as u8,
                })
        });
        let value = value?;
        if dusk {
            // The quorum stays a later event (offered by `node_events`, with this node
            // among its signers).
            Mutation::DuskAsyncOwnVote.hit();
            return None;
        }
        let event = match step {
            VoteStep::Validation => Event::ValidationQuorum {
                value,
                signers: 1 << p,
            },
            VoteStep::Ratification => {
                let validation = if value == Value::NoQuorum {
                    0
                } else {
                    self.quorum_signers(
                        state,
                        Some(p),
                        &draw.validation,
                        s,
                        VoteStep::Validation,
                        value,
                    )?
                };
                let failed = match value {
                    Value::Valid(v) => {
                        candidate(state, block(tip, it, v)).map_or(FailSet::default(), |c| c.1)
                    }
                    _ => FailSet::default(),
                };
                // VAR-FIN-SM: a Fail quorum of SM credits, if the votes sent make one.
                let strong = self.supermajority_fail(state, Some(p), draw, s, value);
                Event::RatificationQuorum {
                    att: Att {
                        slot: s,
                        value,
                        validation,
                        ratification: strong.unwrap_or(1 << p),
                    },
                    failed,
                }
            }
        };
        Some(event)
    }

    /// The vote values that can be tallied for slot `s` in `step`: the fixed ones and
    /// Valid/Invalid of every candidate sent for the slot.
    pub(crate) fn values(
        state: &State,
        s: BlockId,
        ratification: bool,
    ) -> impl Iterator<Item = Value> {
        // At most 6 values: a fixed array, no allocation (called on every transition).
        let mut values = [Value::NoCandidate; 6];
        let mut n = 1;
        for v in 0..2 {
            if candidate(state, block(parent_of(s), iteration_of(s), v)).is_some() {
                values[n] = Value::Valid(v);
                values[n + 1] = Value::Invalid(v);
                n += 2;
            }
        }
        if ratification {
            values[n] = Value::NoQuorum;
            n += 1;
        }
        values.into_iter().take(n)
    }
}
