//! Every property of spec/properties.md, named by its stable ID.
//!
//! Safety properties are Stateright `always` properties, checked in every reachable state;
//! witnesses are `sometimes` properties that must be reachable so no safety result is vacuous.
//! There is no `eventually` here: Stateright's is unsound on cycles and has no fairness.

use stateright::Property;

use crate::config::{Config, LUX_PER_UNIT};
use crate::context::{ledger_blocks, rewards, Context};
use crate::ledger::BLOCK_REWARD;
use crate::model::{candidate, may_still_act, votes_cast, SaModel};
use crate::state::{
    iteration_of, parent_of, round_of, slot, BlockId, Label, Msg, Node, State, Step, Value,
    VoteStep,
};

/// Safety or witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Must hold in every reachable state.
    Safety,
    /// Must hold in at least one reachable state.
    Witness,
}

/// A property: ID, kind, one-line statement, condition.
pub struct Spec {
    /// Stable ID from spec/properties.md.
    pub id: &'static str,
    /// Safety or witness.
    pub kind: Kind,
    /// The statement, in one line.
    pub statement: &'static str,
    /// The condition over a state.
    pub condition: fn(&SaModel, &State) -> bool,
}

/// Every property, in report order.
pub const SPECS: &[Spec] = &[
    Spec {
        id: "SAFE-FINAL-AGREEMENT",
        kind: Kind::Safety,
        statement: "no two nodes hold different Final blocks at the same height",
        condition: final_agreement,
    },
    Spec {
        id: "SAFE-FINAL-NO-REVERT",
        kind: Kind::Safety,
        statement: "no node ever reverts a block it labelled Final",
        condition: final_no_revert,
    },
    Spec {
        id: "SAFE-ATTESTATION-QUORUM",
        kind: Kind::Safety,
        statement: "every attestation is backed by quorums of the right committee's credits",
        condition: attestation_quorum,
    },
    Spec {
        id: "SAFE-VOTE-UNIQUE",
        kind: Kind::Safety,
        statement: "no honest provisioner casts two different votes for one step of one iteration",
        condition: vote_unique,
    },
    Spec {
        id: "SAFE-COMMITTEE-CREDITS",
        kind: Kind::Safety,
        statement: "only committee members' votes count, with exactly their credits",
        condition: committee_credits,
    },
    Spec {
        id: "SAFE-COMMITTEE-WELLFORMED",
        kind: Kind::Safety,
        statement: "committees sum to C unless stake runs out, and exclude gen(i), gen(i+1)",
        condition: committee_wellformed,
    },
    Spec {
        id: "SAFE-ELIGIBLE-DRAW",
        kind: Kind::Safety,
        statement: "suspended, immature or unstaked provisioners are never drawn",
        condition: eligible_draw,
    },
    Spec {
        id: "SAFE-ONE-OUTCOME",
        kind: Kind::Safety,
        statement: "at most one outcome per (round, iteration)",
        condition: one_outcome,
    },
    Spec {
        id: "SAFE-FINAL-PRIOR-ITERATIONS",
        kind: Kind::Safety,
        statement: "a block is Final only if no lower iteration of its round can still succeed",
        condition: final_prior_iterations,
    },
    Spec {
        id: "SAFE-REWARD-SIGNERS",
        kind: Kind::Safety,
        statement: "rewards go only to the generator and the attestation's signers",
        condition: reward_signers,
    },
    Spec {
        id: "SAFE-SOFT-SLASH",
        kind: Kind::Safety,
        statement: "soft penalties hit only a generator that missed its slot, never principal",
        condition: soft_slash,
    },
    Spec {
        id: "SAFE-FALLBACK-LOWER",
        kind: Kind::Safety,
        statement: "fallback only to a strictly lower iteration",
        condition: fallback_lower,
    },
    Spec {
        id: "WIT-ATTESTED-LATER-ITERATION",
        kind: Kind::Witness,
        statement: "a block is attested in iteration > 0",
        condition: wit_attested_later,
    },
    Spec {
        id: "WIT-FAILED-ITERATION",
        kind: Kind::Witness,
        statement: "an iteration fails with a Fail attestation",
        condition: wit_failed,
    },
    Spec {
        id: "WIT-FALLBACK",
        kind: Kind::Witness,
        statement: "a node falls back to a lower-iteration block",
        condition: wit_fallback,
    },
    Spec {
        id: "WIT-SUSPENSION",
        kind: Kind::Witness,
        statement: "a generator is suspended by a soft slash",
        condition: wit_suspension,
    },
    Spec {
        id: "WIT-FINAL",
        kind: Kind::Witness,
        statement: "a block becomes Final",
        condition: wit_final,
    },
    Spec {
        id: "WIT-ABSENT-PROGRESS",
        kind: Kind::Witness,
        statement: "blocks are accepted after a provisioner went absent",
        condition: wit_absent_progress,
    },
    Spec {
        id: "WIT-INVALID-REJECTED",
        kind: Kind::Witness,
        statement: "an invalid candidate is rejected with Fail(Invalid)",
        condition: wit_invalid_rejected,
    },
    Spec {
        id: "WIT-REWARD",
        kind: Kind::Witness,
        statement: "a voter is rewarded",
        condition: wit_reward,
    },
];

/// The Stateright properties, in [`SPECS`] order.
pub fn all() -> Vec<Property<SaModel>> {
    SPECS
        .iter()
        .map(|s| match s.kind {
            Kind::Safety => Property::always(s.id, s.condition),
            Kind::Witness => Property::sometimes(s.id, s.condition),
        })
        .collect()
}

/// Looks a property up by ID.
pub fn spec(id: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.id == id)
}

fn reference_threshold(config: &Config, value: Value) -> u32 {
    if value == Value::Valid {
        config.supermajority()
    } else {
        config.majority()
    }
}

fn pairs(state: &State) -> impl Iterator<Item = (&Node, &Node)> {
    state
        .nodes
        .iter()
        .enumerate()
        .flat_map(move |(i, a)| state.nodes[i + 1..].iter().map(move |b| (a, b)))
}

fn final_agreement(_: &SaModel, s: &State) -> bool {
    pairs(s).all(|(a, b)| {
        let h = a.final_height().min(b.final_height());
        a.block_at(h) == b.block_at(h)
    })
}

fn final_no_revert(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        n.last_fallback
            .is_none_or(|f| f.reverted_label != Label::Final)
    })
}

fn fallback_lower(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        n.last_fallback
            .is_none_or(|f| f.to_iteration < f.from_iteration)
    })
}

fn attestation_quorum(m: &SaModel, s: &State) -> bool {
    s.attestations.iter().all(|a| {
        let ctx = m.path_context(s, parent_of(a.slot));
        let draw = &ctx.iterations[usize::from(iteration_of(a.slot))];
        let thr = reference_threshold(&m.config, a.value);
        let rat_ok = draw.ratification.credits_of(a.ratification) >= thr;
        let val_ok = a.value == Value::NoQuorum || draw.validation.credits_of(a.validation) >= thr;
        rat_ok && val_ok
    })
}

fn committee_credits(m: &SaModel, s: &State) -> bool {
    s.attestations.iter().all(|a| {
        let ctx = m.path_context(s, parent_of(a.slot));
        let draw = &ctx.iterations[usize::from(iteration_of(a.slot))];
        let ok = |mask: u8, committee: &crate::sortition::Committee, step| {
            (0..m.n() as u8).filter(|v| mask & (1 << v) != 0).all(|v| {
                committee.credits(usize::from(v)) > 0
                    && s.pool.contains(&Msg::Vote {
                        slot: a.slot,
                        step,
                        value: a.value,
                        voter: v,
                    })
            })
        };
        ok(a.validation, &draw.validation, VoteStep::Validation)
            && ok(a.ratification, &draw.ratification, VoteStep::Ratification)
    })
}

fn vote_unique(_: &SaModel, s: &State) -> bool {
    let mut seen = std::collections::BTreeMap::new();
    s.pool.iter().all(|m| match *m {
        Msg::Vote {
            slot,
            step,
            value,
            voter,
        } => *seen.entry((slot, step, voter)).or_insert(value) == value,
        Msg::Candidate { .. } => true,
    })
}

/// Contexts the nodes are deciding in now (one per distinct chain).
fn current_contexts(m: &SaModel, s: &State) -> Vec<std::sync::Arc<Context>> {
    let mut chains: Vec<_> = s
        .nodes
        .iter()
        .filter(|n| n.step != Step::Done)
        .map(|n| ledger_blocks(&n.chain))
        .collect();
    chains.sort();
    chains.dedup();
    chains.iter().map(|c| m.context(c)).collect()
}

fn committee_wellformed(m: &SaModel, s: &State) -> bool {
    let c = m.config.protocol.committee_credits;
    current_contexts(m, s).iter().all(|ctx| {
        let drawable = ctx.weights.iter().filter(|&&w| w > 0).count();
        let gens: Vec<_> = ctx.iterations.iter().map(|d| d.generator).collect();
        ctx.iterations.iter().enumerate().all(|(i, d)| {
            let bit = |g: Option<usize>| g.map_or(0u8, |g| 1 << g);
            let next = gens.get(i + 1).copied().flatten();
            // SORT-4/SORT-5, the reference rule (independent of mutations).
            let must_exclude = match drawable {
                0 | 1 => 0,
                2 => bit(gens[i]),
                _ => bit(gens[i]) | bit(next),
            };
            let capacity: u32 = (0..m.n())
                .filter(|p| must_exclude & (1 << p) == 0)
                .map(|p| ctx.weights[p].div_ceil(LUX_PER_UNIT) as u32)
                .sum();
            [&d.validation, &d.ratification].iter().all(|com| {
                let total = com.total();
                let members_ok = com.members().all(|p| {
                    must_exclude & (1 << p) == 0
                        && com.credits(p) as u64 <= ctx.weights[p].div_ceil(LUX_PER_UNIT)
                });
                members_ok && (total == c || total == capacity.min(c))
            })
        })
    })
}

fn eligible_draw(m: &SaModel, s: &State) -> bool {
    current_contexts(m, s).iter().all(|ctx| {
        ctx.iterations.iter().all(|d| {
            d.generator.is_none_or(|g| ctx.eligible[g])
                && d.validation.members().all(|p| ctx.eligible[p])
                && d.ratification.members().all(|p| ctx.eligible[p])
        })
    })
}

fn one_outcome(_: &SaModel, s: &State) -> bool {
    let mut outcome = std::collections::BTreeMap::new();
    s.attestations
        .iter()
        .all(|a| *outcome.entry(a.slot).or_insert(a.value) == a.value)
}

/// Whether a Success attestation for `slot` can still come to exist: the Valid votes cast plus
/// the credits of members that may still vote reach the supermajority in both steps.
fn success_possible(m: &SaModel, s: &State, slot_id: BlockId) -> bool {
    if candidate(s, slot_id).is_some_and(|(valid, _)| !valid) {
        return false;
    }
    let parent = parent_of(slot_id);
    let (r, j) = (round_of(slot_id), iteration_of(slot_id));
    let ctx = m.path_context(s, parent);
    let draw = &ctx.iterations[usize::from(j)];
    let sm = m.config.supermajority();
    let may_vote = |q: usize, step: VoteStep, before: Step| {
        if votes_cast(s, slot_id, step, q as u8) > 0 {
            return s.pool.contains(&Msg::Vote {
                slot: slot_id,
                step,
                value: Value::Valid,
                voter: q as u8,
            });
        }
        may_still_act(s, q, parent, r, j, before)
    };
    let potential = |com: &crate::sortition::Committee, step, before| -> u32 {
        com.members()
            .filter(|&q| may_vote(q, step, before))
            .map(|q| com.credits(q))
            .sum()
    };
    potential(&draw.validation, VoteStep::Validation, Step::Proposal) >= sm
        && potential(&draw.ratification, VoteStep::Ratification, Step::Validation) >= sm
}

fn final_prior_iterations(m: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        n.chain.iter().enumerate().all(|(h, e)| {
            e.label != Label::Final
                || (0..e.iteration).all(|j| {
                    e.failed.get(j).is_some() || !success_possible(m, s, slot(n.block_at(h), j))
                })
        })
    })
}

fn reward_signers(m: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        let blocks = ledger_blocks(&n.chain);
        n.chain.iter().enumerate().all(|(h, e)| {
            let parent = m.context(&blocks[..h]);
            let generator = parent.iterations[usize::from(e.iteration)].generator;
            let paid = rewards(&m.config, &parent, e.iteration, e.signers);
            let total: u64 = paid.iter().map(|&(_, a)| a).sum();
            total <= BLOCK_REWARD
                && paid
                    .iter()
                    .all(|&(p, _)| Some(p) == generator || e.signers & (1 << p) != 0)
        })
    })
}

fn soft_slash(m: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        let blocks = ledger_blocks(&n.chain);
        (0..blocks.len()).all(|h| {
            let parent = m.context(&blocks[..h]);
            let child = m.context(&blocks[..=h]);
            let e = &n.chain[h];
            let targets_ok = child.effects.soft_slashed.iter().all(|&(p, j)| {
                j < m.config.protocol.relaxed_iterations
                    && e.failed.get(j) == Some(Value::NoCandidate)
                    && parent.iterations[usize::from(j)].generator == Some(p)
            });
            let principal_ok = (0..m.n()).all(|p| {
                child.effects.hard_slashed.contains(&p)
                    || parent.ledger.stake[p] + parent.ledger.locked[p]
                        == child.ledger.stake[p] + child.ledger.locked[p]
            });
            targets_ok && principal_ok
        })
    })
}

fn wit_attested_later(_: &SaModel, s: &State) -> bool {
    s.attestations
        .iter()
        .any(|a| a.value == Value::Valid && iteration_of(a.slot) > 0)
}

fn wit_failed(_: &SaModel, s: &State) -> bool {
    s.attestations.iter().any(|a| a.value != Value::Valid)
}

fn wit_fallback(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().any(|n| n.last_fallback.is_some())
}

fn wit_suspension(m: &SaModel, s: &State) -> bool {
    s.nodes.iter().any(|n| {
        let blocks = ledger_blocks(&n.chain);
        (1..=blocks.len()).any(|h| {
            let ctx = m.context(&blocks[..h]);
            ctx.effects
                .soft_slashed
                .iter()
                .any(|(p, _)| ctx.effects.suspended.contains(p))
        })
    })
}

fn wit_final(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().any(|n| n.final_height() > 0)
}

fn wit_absent_progress(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().any(|q| {
        !q.alive
            && s.nodes
                .iter()
                .any(|p| p.alive && p.chain.len() > q.chain.len())
    })
}

fn wit_invalid_rejected(_: &SaModel, s: &State) -> bool {
    s.attestations.iter().any(|a| a.value == Value::Invalid)
}

fn wit_reward(_: &SaModel, s: &State) -> bool {
    s.nodes
        .iter()
        .any(|n| n.chain.iter().any(|e| e.signers != 0))
}
