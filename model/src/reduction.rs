//! A partial-order reduction for the asynchronous part (spec/faults.md, "The reduction"):
//! persistent sets over honest nodes.
//!
//! Before GST, with early timers, a node's enabled events only grow as the pool grows (a
//! candidate, a quorum, a past Success, a fallback never stops being available to a node that
//! has not moved, and its timer may always fire), and an event's effect depends on the node's
//! own state only (the messages it adds are a set union). So two events of different nodes
//! commute and neither disables the other: they are independent. An event of node `p` depends
//! only on `p`'s other events, present and future, and `p`'s future events are enabled by
//! messages other nodes send.
//!
//! A set `S` of nodes is *closed* when no node outside `S` can ever send a message that
//! would give a node of `S` a new event: for every slot a node of `S` is interested in (its
//! round's iterations up to the current one, and the fork-choice slots below its blocks above
//! its last Final one), every honest sender that could still add a candidate or a vote there
//! is in `S`. Then the enabled events of `S`'s nodes form a persistent set: on any path that
//! avoids them, no event of a node of `S` can occur (nothing new reaches `S`), and every event
//! that does occur is independent of them. The model's state graph is acyclic (`crate::live`),
//! so a search that expands only a persistent set in every state reaches every state without
//! successors that the full search reaches (Godefroid 1996, theorem 4.3; no cycle proviso is
//! needed on an acyclic graph).
//!
//! Where the independence argument does not hold the state is expanded in full: a
//! configuration with a GST inside the explored rounds (a node past GST waits for the others
//! and the nodes past GST run one at a time), timers that are not early, a crash still in the budget (crashes compete for it), an invalid proposal
//! (it competes for its budget), a Byzantine candidate that is enabled or that a closed set
//! would need (its failed_iterations change as votes arrive, and it is offered only while a
//! node decides its slot), and one of a later iteration of a closed set's node's round (the
//! node's votes change its failed_iterations).

use crate::model::{Action, SaModel};
use crate::mutations::Mutation;
use crate::network::may_still_act;
use crate::node::Event;
use crate::state::{
    block, candidate, iteration_of, parent_of, round_of, slot, votes_cast, BlockId, State, Step,
    VoteStep,
};

/// What [`SaModel::reduce`] did to one state's actions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reduced {
    /// Kept every action: one action or none, or no smaller closed set.
    Full,
    /// Kept every action because the independence argument does not apply to this state.
    NotApplicable,
    /// Kept only the enabled actions of a closed set of nodes.
    Persistent,
}

impl SaModel {
    /// Keeps in `actions` (every action of `state`, as [`crate::model`] offers them) a
    /// persistent subset: the enabled actions of the smallest closed set of nodes.
    pub fn reduce(&self, state: &State, actions: &mut Vec<Action>) -> Reduced {
        if actions.len() <= 1 {
            return Reduced::Full;
        }
        if !self.reducible(actions) {
            return Reduced::NotApplicable;
        }
        let n = self.n();
        let mut acting = 0u8;
        for a in actions.iter() {
            acting |= 1 << a.actor();
        }
        let mut best: Option<(usize, u8)> = None;
        for p in 0..n {
            if acting & (1 << p) == 0 {
                continue;
            }
            let Some(set) = self.closed_set(state, p) else {
                return Reduced::NotApplicable;
            };
            let size = actions
                .iter()
                .filter(|a| set & (1 << a.actor()) != 0)
                .count();
            if best.is_none_or(|(b, _)| size < b) {
                best = Some((size, set));
            }
        }
        match best {
            Some((size, set)) if size < actions.len() => {
                actions.retain(|a| set & (1 << a.actor()) != 0);
                Reduced::Persistent
            }
            _ => Reduced::Full,
        }
    }

    /// Whether the independence argument holds in `state` (see the module documentation).
    fn reducible(&self, actions: &[Action]) -> bool {
        let f = &self.config.faults;
        if !f.early_timers {
            return false;
        }
        // No node may ever pass GST: a node past GST waits on the others (its timer fires only
        // on time, TIME-3) and the nodes past GST run one at a time (TIME-4), so an event of a
        // node outside the set could be disabled by the set's.
        if f.gst_round != 0 && f.gst_round <= self.config.protocol.rounds {
            return false;
        }
        !actions.iter().any(|a| {
            matches!(
                a,
                Action::ByzantinePropose { .. }
                    | Action::Rejoin { .. }
                    | Action::Node {
                        event: Event::Crash | Event::Propose { valid: false },
                        ..
                    }
            )
        })
    }

    /// The smallest closed set of nodes containing `p`, as a bitmask; `None` when a node of it
    /// is interested in a slot whose candidate a Byzantine generator may still send.
    fn closed_set(&self, state: &State, p: usize) -> Option<u8> {
        let mut set = 1u8 << p;
        let mut todo = vec![p];
        let mut slots = Vec::new();
        while let Some(q) = todo.pop() {
            if self.byzantine_later(state, q) {
                return None;
            }
            slots.clear();
            self.interest(state, q, &mut slots);
            for &s in &slots {
                let senders = self.senders(state, s)?;
                let new = senders & !set;
                set |= new;
                todo.extend((0..self.n()).filter(|&r| new & (1 << r) != 0));
            }
        }
        Some(set)
    }

    /// Whether a Byzantine generator of a later iteration of `q`'s round may still send a
    /// candidate whose failed_iterations `q`'s votes would change (it records the Fail
    /// attestations formable below it, up to the relaxed threshold).
    fn byzantine_later(&self, state: &State, q: usize) -> bool {
        let node = &state.nodes[q];
        if self.config.faults.byzantine.is_empty()
            || !node.alive
            || node.step == Step::Done
            || node.iteration >= self.config.protocol.relaxed_iterations
        {
            return false;
        }
        let tip = node.tip();
        let ctx = self.node_context(&state.root, node);
        (node.iteration + 1..self.config.protocol.max_iterations).any(|j| {
            let byzantine = ctx.iterations[usize::from(j)]
                .generator
                .is_some_and(|g| self.config.is_byzantine(g));
            byzantine && (0..2).any(|v| candidate(state, block(tip, j, v)).is_none())
        })
    }

    /// The slots in which a message could give node `q` a new event while `q` does not move:
    /// its round's iterations up to the current one (every iteration in open consensus), and
    /// the lower iterations on the parents of its blocks above its last Final block.
    fn interest(&self, state: &State, q: usize, out: &mut Vec<BlockId>) {
        let node = &state.nodes[q];
        if !node.alive {
            return;
        }
        let max = self.config.protocol.max_iterations;
        if node.step != Step::Done {
            let upto = if node.step == Step::Open {
                max
            } else {
                node.iteration + 1
            };
            let tip = node.tip();
            out.extend((0..upto).map(|j| slot(tip, j)));
        }
        let fork_mutated = self.fork_choice_mutated();
        let from = if self
            .config
            .mutations
            .contains(&Mutation::DuskStalledRecovery)
        {
            1
        } else {
            node.final_height() + 1
        };
        for h in from..=node.chain.len() {
            let parent = node.block_at(h - 1);
            let have = node.chain[h - 1].iteration;
            let upto = if fork_mutated { max } else { have };
            out.extend((0..upto).map(|j| slot(parent, j)));
        }
    }

    /// Whether a mutation lets fork choice reach blocks the reference rule never does.
    fn fork_choice_mutated(&self) -> bool {
        self.config.mutations.iter().any(|m| {
            matches!(
                m,
                Mutation::FallbackAnyIteration | Mutation::DuskStalledRecovery
            )
        })
    }

    /// The honest nodes that could still send a candidate or a vote of slot `s`, as a bitmask;
    /// `None` if a Byzantine generator could still send one of its candidates.
    fn senders(&self, state: &State, s: BlockId) -> Option<u8> {
        let draw = self.slot_draw(state, s)?;
        let (parent, j) = (parent_of(s), iteration_of(s));
        let mut out = 0u8;
        if let Some(g) = draw.generator {
            let missing = (0..2).any(|v| candidate(state, block(parent, j, v)).is_none());
            if missing && self.config.is_byzantine(g) {
                return None;
            }
            if candidate(state, s).is_none() && self.may_reach(state, g, s, Step::Proposal) {
                out |= 1 << g;
            }
        }
        let anyone = self.config.mutations.contains(&Mutation::CountNonMembers);
        let again = self.config.mutations.contains(&Mutation::DoubleVote);
        for (committee, step, before) in [
            (&draw.validation, VoteStep::Validation, Step::Proposal),
            (&draw.ratification, VoteStep::Ratification, Step::Validation),
        ] {
            for q in 0..self.n() {
                if self.config.is_byzantine(q) || (!anyone && committee.credits(q) == 0) {
                    continue;
                }
                let voted = votes_cast(state, s, step, q as u8) > 0;
                if (!voted || again) && self.may_reach(state, q, s, before) {
                    out |= 1 << q;
                }
            }
        }
        Some(out)
    }

    /// Whether honest node `q` may still act in slot `s` at step `before` or earlier
    /// ([`may_still_act`]); in an emergency iteration, anywhere in its round (a late Valid
    /// vote, EMERG-1); under a mutation of fork choice, whenever it is alive.
    fn may_reach(&self, state: &State, q: usize, s: BlockId, before: Step) -> bool {
        if !state.nodes[q].alive {
            return false;
        }
        if self.fork_choice_mutated() {
            return true;
        }
        let (parent, r, j) = (parent_of(s), round_of(s), iteration_of(s));
        if self
            .config
            .protocol
            .emergency_iteration
            .is_some_and(|e| j >= e)
        {
            let last = self.config.protocol.max_iterations;
            return may_still_act(state, q, parent, r, last, Step::Proposal);
        }
        may_still_act(state, q, parent, r, j, before)
    }
}

/// Why a property's verdict under the reduction is the verdict of the full search
/// (spec/faults.md, "The reduction").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preservation {
    /// A condition on each node's own state (its chain, labels, fallbacks, what it holds)
    /// and on messages in that state's causal past: the reduced search reaches every state of
    /// every node the full search reaches (all of a node's events are dependent, so a node's
    /// history in any path is a prefix of its history in the reduced path that represents it).
    Local,
    /// Once violated (for a witness: once reached), so in every successor: it rests on the
    /// pool and on what nodes hold, which only grow, and on Final labels, which FORK-1 never
    /// reverts; so some state without successors shows it, and the reduction keeps them all.
    Stable,
    /// Judged on states without successors, which the reduction keeps, all of them.
    Terminal,
    /// Neither: it reads other nodes' progress, or votes that may still arrive and clear it.
    /// A violation (or witness) the reduced search finds is real; its absence proves nothing.
    NotPreserved,
}

/// How the reduction preserves property `id` under `config` (its mutations included).
pub fn preservation(id: &str, config: &crate::Config) -> Preservation {
    use Preservation::{Local, NotPreserved, Stable, Terminal};
    // A mutation that lets fork choice replace a Final block makes Final labels revocable.
    let finals_stay = !config.mutations.contains(&Mutation::DuskStalledRecovery);
    match id {
        "SAFE-FINAL-NO-REVERT"
        | "SAFE-FINAL-PREFIX"
        | "SAFE-FALLBACK-LOWER"
        | "SAFE-NO-INVALID-ACCEPTED"
        | "SAFE-COMMITTEE-WELLFORMED"
        | "SAFE-ELIGIBILITY"
        | "SAFE-SOFT-SLASH"
        | "SAFE-HARD-SLASH-INVALID"
        | "SAFE-STAKE-CONSERVED"
        | "SAFE-ISOLATION"
        | "WIT-FALLBACK"
        | "WIT-SUSPENSION"
        | "WIT-EMERGENCY"
        | "WIT-FINAL"
        | "WIT-FINAL-AFTER-PNI"
        | "WIT-REWARD" => Local,
        "SAFE-FINAL-AGREEMENT" if finals_stay => Stable,
        "SAFE-VOTE-UNIQUE"
        | "SAFE-ONE-CANDIDATE"
        | "SAFE-ONE-OUTCOME"
        | "SAFE-TX-CONTAINED"
        | "SAFE-EMERGENCY-RULES"
        | "SAFE-COMMITTEE-CREDITS"
        | "WIT-ATTESTED-LATER-ITERATION"
        | "WIT-FAILED-ITERATION"
        | "WIT-TWO-SUCCESS"
        | "WIT-INVALID-REJECTED"
        | "WIT-EQUIVOCATION-DETECTED" => Stable,
        // A crash is never reduced: every state where one is possible is expanded in full, so
        // the crashed node is down in every state the local argument then walks through.
        "WIT-ABSENT-PROGRESS" => Local,
        "LIVE-GOOD-ITERATION" | "LIVE-ROUND-ENDS" => Terminal,
        _ => NotPreserved,
    }
}
