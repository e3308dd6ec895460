//! Every property of spec/properties.md, named by its stable ID.
//!
//! Safety properties are Stateright `always` properties, checked in every reachable state;
//! witnesses are `sometimes` properties that must be reachable so no safety result is vacuous.
//! There is no `eventually` here: Stateright's is unsound on cycles and has no fairness.
//!
//! Each condition is computed from the state by its own code: thresholds from the spec's
//! formulas, tallies by counting the votes sent, eligibility from the ledger fields, rewards
//! from the attestation's signers. None calls the guard that let the model take a step.

use stateright::Property;

use crate::config::{Config, LUX_PER_UNIT};
use crate::draws::{ledger_blocks, rewards, Context, LedgerBlock};
use crate::ledger::BLOCK_REWARD;
use crate::model::SaModel;
use crate::network::may_still_act;
use crate::sortition::Committee;
use crate::state::{
    block, candidate, iteration_of, parent_of, slot, slot_of, variant_of, Att, BlockId, Label, Msg,
    Node, State, Step, Value, VoteStep,
};

/// Safety or witness.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Must hold in every reachable state.
    Safety,
    /// Must hold in at least one reachable state.
    Witness,
    /// Every path eventually reaches the goal: on the bounded model's acyclic graph, checked
    /// as "no reachable state without successors misses the goal" (see `crate::live`).
    Liveness,
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
    /// For a witness: `Err(reason)` when the configuration's fault budget excludes it (the
    /// report then says "not applicable" with the reason instead of expecting it).
    pub applies: fn(&Config) -> Result<(), &'static str>,
}

fn always(_: &Config) -> Result<(), &'static str> {
    Ok(())
}

macro_rules! safety {
    ($id:expr, $statement:expr, $f:expr) => {
        Spec {
            id: $id,
            kind: Kind::Safety,
            statement: $statement,
            condition: $f,
            applies: always,
        }
    };
}

macro_rules! liveness {
    ($id:expr, $statement:expr, $f:expr) => {
        Spec {
            id: $id,
            kind: Kind::Liveness,
            statement: $statement,
            condition: $f,
            applies: needs_gst,
        }
    };
}

macro_rules! witness {
    ($id:expr, $statement:expr, $f:expr, $applies:expr) => {
        Spec {
            id: $id,
            kind: Kind::Witness,
            statement: $statement,
            condition: $f,
            applies: $applies,
        }
    };
}

/// Every property, in report order.
pub const SPECS: &[Spec] = &[
    safety!(
        "SAFE-FINAL-AGREEMENT",
        "no two honest nodes hold different Final blocks at the same height",
        final_agreement
    ),
    safety!(
        "SAFE-FINAL-NO-REVERT",
        "no node ever reverts a block it labelled Final",
        final_no_revert
    ),
    safety!(
        "SAFE-FINAL-PREFIX",
        "every node's Final blocks form a prefix of its chain",
        final_prefix
    ),
    safety!(
        "SAFE-FINAL-PRIOR-ITERATIONS",
        "a block is Final only if no lower iteration of its round can still succeed",
        final_prior_iterations
    ),
    safety!(
        "SAFE-ATTESTATION-QUORUM",
        "every attestation held reaches SM (Valid) or M credits of its own committees",
        attestation_quorum
    ),
    safety!(
        "SAFE-COMMITTEE-CREDITS",
        "every signer of an attestation is a member of that step's committee and cast that vote",
        committee_credits
    ),
    safety!(
        "SAFE-VOTE-UNIQUE",
        "no honest provisioner casts two different votes for one step of one iteration",
        vote_unique
    ),
    safety!(
        "SAFE-ONE-CANDIDATE",
        "an honest generator sends at most one candidate per slot",
        one_candidate
    ),
    safety!(
        "SAFE-ONE-OUTCOME",
        "honest nodes never hold two different outcomes of one (round, iteration)",
        one_outcome
    ),
    safety!(
        "SAFE-NO-INVALID-ACCEPTED",
        "no node accepts an invalid candidate",
        no_invalid_accepted
    ),
    safety!(
        "SAFE-FAILED-MATCHES",
        "every failed iteration a block records matches a Fail attestation that was formed",
        failed_matches
    ),
    safety!(
        "SAFE-COMMITTEE-WELLFORMED",
        "committees sum to C unless stake runs out, and exclude gen(i), gen(i+1)",
        committee_wellformed
    ),
    safety!(
        "SAFE-ELIGIBILITY",
        "only mature, unlocked, unsuspended stake of at least the minimum is drawn, at its weight",
        eligible_draw
    ),
    safety!(
        "SAFE-REWARD-SIGNERS",
        "rewards go to the generator and, per step, to that step's signers for their credits",
        reward_signers
    ),
    safety!(
        "SAFE-SOFT-SLASH",
        "soft penalties hit only a generator that missed its slot, never principal",
        soft_slash
    ),
    safety!(
        "SAFE-HARD-SLASH-INVALID",
        "a hard slash only punishes the generator of a Fail(Invalid) iteration",
        hard_slash_invalid
    ),
    safety!(
        "SAFE-STAKE-CONSERVED",
        "stake + maturing + locked + burned of every provisioner is its genesis stake plus what it staked",
        stake_conserved
    ),
    safety!(
        "SAFE-ISOLATION",
        "protocol state changes only through the stake rules: the ledger after every block is the ledger after its stake operations alone",
        isolation
    ),
    safety!(
        "SAFE-TX-CONTAINED",
        "a failing transaction never makes an honest validator vote against a valid candidate",
        tx_contained
    ),
    safety!(
        "SAFE-NO-HONEST-SLASH",
        "after GST no honest, present provisioner is slashed on a parent every honest node holds",
        no_honest_slash
    ),
    safety!(
        "SAFE-FALLBACK-LOWER",
        "fallback only to a strictly lower iteration",
        fallback_lower
    ),
    safety!(
        "SAFE-EMERGENCY-RULES",
        "in emergency iterations honest nodes vote only Valid and hold no Fail attestation",
        emergency_rules
    ),
    safety!(
        "ACC-FORK-EVIDENCE",
        "if honest nodes finalize different blocks, they hold fault proofs worth the quorum overlap",
        fork_evidence
    ),
    liveness!(
        "LIVE-GOOD-ITERATION",
        "after GST, a node ends its round no later than the round's first good iteration",
        crate::live::good_iteration
    ),
    liveness!(
        "LIVE-ROUND-ENDS",
        "after GST, every round with a good iteration ends: no honest node is left stuck in it",
        crate::live::round_ends
    ),
    witness!(
        "WIT-ATTESTED-LATER-ITERATION",
        "a block is attested in iteration > 0",
        wit_attested_later,
        |c| needs_iterations(c, 2)
    ),
    witness!(
        "WIT-FAILED-ITERATION",
        "an iteration fails with a Fail attestation",
        wit_failed,
        needs_fault
    ),
    witness!(
        "WIT-FALLBACK",
        "a node falls back to a lower-iteration block",
        wit_fallback,
        |c| {
            needs_iterations(c, 2)?;
            needs_asynchrony(c)?;
            needs_shared_committees(c)
        }
    ),
    witness!(
        "WIT-SUSPENSION",
        "a generator is suspended by a soft slash",
        wit_suspension,
        |c| {
            needs_iterations(c, 2)?;
            needs_fault(c)
        }
    ),
    witness!("WIT-FINAL", "a block becomes Final", wit_final, |c| {
        needs_rounds(c, 2)
    }),
    witness!(
        "WIT-FINAL-AFTER-PNI",
        "a block accepted with PNI > 0 becomes Final after 2·PNI confirmations",
        wit_final_after_pni,
        |c| {
            needs_rounds(c, 3)?;
            needs_iterations(c, 2)?;
            needs_fault(c)
        }
    ),
    witness!(
        "WIT-ABSENT-PROGRESS",
        "blocks are accepted after a provisioner went absent",
        wit_absent_progress,
        |c| if c.faults.absent > 0 {
            Ok(())
        } else {
            Err("no provisioner may be absent (faults.absent = 0)")
        }
    ),
    witness!(
        "WIT-INVALID-REJECTED",
        "an invalid candidate is rejected with Fail(Invalid)",
        wit_invalid_rejected,
        |c| if c.faults.invalid_candidates > 0 {
            Ok(())
        } else {
            Err("no invalid candidate is allowed (faults.invalid_candidates = 0)")
        }
    ),
    witness!(
        "WIT-EQUIVOCATION-DETECTED",
        "the two conflicting votes of a fault proof reach honest nodes",
        wit_equivocation_detected,
        |c| if c.faults.byzantine.is_empty() {
            Err("no Byzantine provisioner (faults.byzantine is empty)")
        } else {
            Ok(())
        }
    ),
    witness!("WIT-REWARD", "a voter is rewarded", wit_reward, always),
    witness!(
        "WIT-TWO-SUCCESS",
        "two Success attestations of different iterations at one height, held by honest nodes",
        wit_two_success,
        |c| {
            needs_iterations(c, 2)?;
            needs_asynchrony(c)?;
            needs_shared_committees(c)
        }
    ),
    witness!(
        "WIT-RELAXED",
        "a block won past the relaxed threshold carries a Fail it may not record: PNI counts it",
        wit_relaxed,
        |c| {
            if c.protocol.relaxed_iterations + 1 >= c.protocol.max_iterations {
                return Err("no iteration above the relaxed threshold but the last (protocol.relaxed_iterations + 2 > max_iterations)");
            }
            needs_fault(c)
        }
    ),
    witness!(
        "WIT-EMERGENCY",
        "a node votes in an emergency iteration it has already left: two iterations open at once",
        wit_emergency,
        |c| {
            match c.protocol.emergency_iteration {
                None => return Err("no emergency iteration (protocol.emergency_iteration unset)"),
                Some(e) if e + 1 >= c.protocol.max_iterations => {
                    return Err("one emergency iteration only (protocol.emergency_iteration + 2 > max_iterations)")
                }
                Some(_) => {}
            }
            needs_asynchrony(c)
        }
    ),
];

fn needs_gst(c: &Config) -> Result<(), &'static str> {
    if c.faults.gst_round == 0 {
        Err("no GST in this configuration (asynchronous in every round): liveness is promised only after GST")
    } else {
        Ok(())
    }
}

fn needs_iterations(c: &Config, k: u8) -> Result<(), &'static str> {
    if c.protocol.max_iterations >= k {
        Ok(())
    } else {
        Err("needs more iterations per round")
    }
}

fn needs_rounds(c: &Config, k: u8) -> Result<(), &'static str> {
    if c.protocol.rounds >= k {
        Ok(())
    } else {
        Err("needs more rounds")
    }
}

fn needs_asynchrony(c: &Config) -> Result<(), &'static str> {
    if (c.faults.early_timers && c.faults.gst_round != 1) || !c.faults.byzantine.is_empty() {
        Ok(())
    } else {
        Err("synchronous from the first round and no Byzantine provisioner")
    }
}

fn needs_shared_committees(c: &Config) -> Result<(), &'static str> {
    if c.provisioners.len() >= 3 || !c.faults.byzantine.is_empty() {
        Ok(())
    } else {
        Err("two honest provisioners: gen(i) is excluded, so each committee is one member whose vote is its own quorum (TALLY-4) and an iteration has one outcome")
    }
}

fn needs_fault(c: &Config) -> Result<(), &'static str> {
    if c.faults.absent > 0 || needs_asynchrony(c).is_ok() {
        Ok(())
    } else {
        Err("no absence, no early timer and no Byzantine provisioner")
    }
}

/// The Stateright properties, in [`SPECS`] order, evaluated as written: a safety or liveness
/// property is `always`, a witness `sometimes`. (The checker crate wraps the same conditions
/// to count what the search saw and to stop evaluating a witness once it is reached.)
pub fn all() -> Vec<Property<SaModel>> {
    SPECS
        .iter()
        .map(|s| match s.kind {
            Kind::Safety | Kind::Liveness => Property::always(s.id, s.condition),
            Kind::Witness => Property::sometimes(s.id, s.condition),
        })
        .collect()
}

/// Looks a property up by ID.
pub fn spec(id: &str) -> Option<&'static Spec> {
    SPECS.iter().find(|s| s.id == id)
}

/// The spec's thresholds (QUORUM-1, QUORUM-2), written out again here.
fn reference_threshold(config: &Config, value: Value) -> u32 {
    let c = config.protocol.committee_credits;
    if value.is_valid() {
        config.protocol.supermajority.unwrap_or(c - c / 3)
    } else {
        config.protocol.majority.unwrap_or(c / 2 + 1)
    }
}

fn honest_nodes<'a>(m: &'a SaModel, s: &'a State) -> impl Iterator<Item = (usize, &'a Node)> {
    s.nodes
        .iter()
        .enumerate()
        .filter(move |(p, _)| !m.config.is_byzantine(*p))
}

fn pairs<'a>(m: &'a SaModel, s: &'a State) -> Vec<(&'a Node, &'a Node)> {
    let honest: Vec<&Node> = honest_nodes(m, s).map(|(_, n)| n).collect();
    let mut out = Vec::new();
    for i in 0..honest.len() {
        for j in i + 1..honest.len() {
            out.push((honest[i], honest[j]));
        }
    }
    out
}

/// The height at which two nodes hold different Final blocks, if any.
fn final_fork(a: &Node, b: &Node) -> bool {
    let h = a.final_height().min(b.final_height());
    a.block_at(h) != b.block_at(h)
}

fn final_agreement(m: &SaModel, s: &State) -> bool {
    pairs(m, s).iter().all(|(a, b)| !final_fork(a, b))
}

fn final_no_revert(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        n.last_fallback
            .is_none_or(|f| f.reverted_label != Label::Final)
    })
}

fn final_prefix(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        let finals = n.chain.iter().filter(|e| e.label == Label::Final).count();
        n.chain[..finals].iter().all(|e| e.label == Label::Final)
    })
}

fn fallback_lower(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        n.last_fallback
            .is_none_or(|f| iteration_of(f.to) < iteration_of(f.from))
    })
}

/// Every attestation honest nodes hold, with its signers (see [`signers`]).
fn held(m: &SaModel, s: &State) -> Vec<Att> {
    let mut keys: Vec<(BlockId, Value)> = honest_nodes(m, s)
        .flat_map(|(_, n)| n.held.iter().copied())
        .collect();
    keys.sort_unstable();
    keys.dedup();
    keys.into_iter()
        .map(|(sl, v)| signers(m, s, sl, v))
        .collect()
}

/// The attestation on `value` of `slot` with its signers: every committee member that sent
/// that vote, and every Byzantine member (which can send any vote to anyone). Which subset
/// of them a node actually received is not stored: each property below holds for every
/// quorum subset iff it holds for this one (spec/faults.md, abstraction 2).
pub fn signers(m: &SaModel, s: &State, slot_id: BlockId, value: Value) -> Att {
    let draw = m.slot_draw(s, slot_id);
    let gather = |step: VoteStep| -> u8 {
        let Some(d) = &draw else { return 0 };
        let committee = match step {
            VoteStep::Validation => &d.validation,
            VoteStep::Ratification => &d.ratification,
        };
        let voted = s.pool.voters(slot_id, step, value);
        (0..m.n())
            .filter(|&v| {
                (m.config.is_byzantine(v) && committee.credits(v) > 0) || voted & (1 << v) != 0
            })
            .fold(0u8, |acc, v| acc | 1 << v)
    };
    Att {
        slot: slot_id,
        value,
        validation: if value == Value::NoQuorum {
            0
        } else {
            gather(VoteStep::Validation)
        },
        ratification: gather(VoteStep::Ratification),
    }
}

fn sent(s: &State, slot_id: BlockId, step: VoteStep, value: Value, voter: usize) -> bool {
    s.pool.contains(&Msg::Vote {
        slot: slot_id,
        step,
        value,
        voter: voter as u8,
    })
}

fn bits(mask: u8) -> impl Iterator<Item = usize> {
    (0..8).filter(move |p| mask & (1 << p) != 0)
}

fn credits_of(c: &Committee, mask: u8) -> u32 {
    bits(mask).map(|p| c.credits(p)).sum()
}

fn attestation_quorum(m: &SaModel, s: &State) -> bool {
    held(m, s).iter().all(|a| {
        let ctx = m.path_context(s, parent_of(a.slot));
        let draw = &ctx.iterations[usize::from(iteration_of(a.slot))];
        let thr = reference_threshold(&m.config, a.value);
        let rat_ok = credits_of(&draw.ratification, a.ratification) >= thr;
        let val_ok =
            a.value == Value::NoQuorum || credits_of(&draw.validation, a.validation) >= thr;
        rat_ok && val_ok
    })
}

fn committee_credits(m: &SaModel, s: &State) -> bool {
    held(m, s).iter().all(|a| {
        let ctx = m.path_context(s, parent_of(a.slot));
        let draw = &ctx.iterations[usize::from(iteration_of(a.slot))];
        let ok = |mask: u8, committee: &Committee, step| {
            bits(mask).all(|v| {
                committee.credits(v) > 0
                    && (m.config.is_byzantine(v) || sent(s, a.slot, step, a.value, v))
            })
        };
        ok(a.validation, &draw.validation, VoteStep::Validation)
            && ok(a.ratification, &draw.ratification, VoteStep::Ratification)
    })
}

fn vote_unique(m: &SaModel, s: &State) -> bool {
    // The pool is sorted by (slot, step, value, voter): the votes of one (slot, step) are
    // contiguous, one value after another. A voter seen under an earlier value of the same
    // (slot, step) voted twice.
    let byz = m.config.byzantine_mask();
    let mut group = None;
    let mut earlier = 0u8; // voters of the group's earlier values
    let mut current = (None, 0u8); // the value being read and its voters
    s.pool.iter().all(|msg| match *msg {
        Msg::Vote {
            slot,
            step,
            value,
            voter,
        } => {
            if group != Some((slot, step)) {
                group = Some((slot, step));
                earlier = 0;
                current = (Some(value), 0);
            } else if current.0 != Some(value) {
                earlier |= current.1;
                current = (Some(value), 0);
            }
            let bit = 1u8 << voter;
            current.1 |= bit;
            byz & bit != 0 || earlier & bit == 0
        }
        Msg::Candidate { .. } => true,
    })
}

/// EMERG-1, read from the configuration (not from the model's own `emergency` test): every
/// honest vote of an emergency iteration in the pool is Valid, and no honest node holds a Fail
/// attestation of one.
fn emergency_rules(m: &SaModel, s: &State) -> bool {
    let Some(e) = m.config.protocol.emergency_iteration else {
        return true;
    };
    let votes_ok = s.pool.iter().all(|msg| match *msg {
        Msg::Vote {
            slot, value, voter, ..
        } => {
            m.config.is_byzantine(usize::from(voter))
                || iteration_of(slot) < e
                || matches!(value, Value::Valid(_))
        }
        Msg::Candidate { .. } => true,
    });
    votes_ok
        && honest_nodes(m, s)
            .flat_map(|(_, n)| n.held.iter())
            .all(|(slot, v)| v.is_valid() || iteration_of(*slot) < e)
}

fn one_candidate(m: &SaModel, s: &State) -> bool {
    s.pool.iter().all(|msg| match *msg {
        Msg::Candidate { block: b, .. } if variant_of(b) == 1 => {
            let draw = m.slot_draw(s, slot(parent_of(b), iteration_of(b)));
            draw.and_then(|d| d.generator)
                .is_some_and(|g| m.config.is_byzantine(g))
        }
        _ => true,
    })
}

fn one_outcome(m: &SaModel, s: &State) -> bool {
    let mut outcome = std::collections::BTreeMap::new();
    honest_nodes(m, s)
        .flat_map(|(_, n)| n.held.iter())
        .all(|&(sl, v)| *outcome.entry(sl).or_insert(v) == v)
}

fn no_invalid_accepted(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        (1..=n.chain.len()).all(|h| candidate(s, n.block_at(h)).is_some_and(|(valid, _)| valid))
    })
}

/// Credits for `value` in (`slot`, `step`) anyone could gather: the honest members that sent
/// it plus every Byzantine member.
fn gatherable(
    m: &SaModel,
    s: &State,
    c: &Committee,
    slot_id: BlockId,
    step: VoteStep,
    value: Value,
) -> u32 {
    c.members()
        .filter(|&v| m.config.is_byzantine(v) || sent(s, slot_id, step, value, v))
        .map(|v| c.credits(v))
        .sum()
}

fn failed_matches(m: &SaModel, s: &State) -> bool {
    s.nodes.iter().all(|n| {
        (1..=n.chain.len()).all(|h| {
            let e = &n.chain[h - 1];
            let parent = n.block_at(h - 1);
            (0..e.iteration).all(|j| {
                let Some(kind) = e.failed.get(j) else {
                    return true;
                };
                let sj = slot(parent, j);
                let same_kind = |v: Value| match (v, kind) {
                    (Value::Invalid(_), Value::Invalid(_)) => true,
                    (a, b) => a == b,
                };
                let held_by_someone = honest_nodes(m, s)
                    .flat_map(|(_, n)| n.held.iter())
                    .any(|&(sl, v)| sl == sj && same_kind(v));
                if held_by_someone {
                    return true;
                }
                // Formed by the adversary: the votes for it exist.
                let Some(draw) = m.slot_draw(s, sj) else {
                    return false;
                };
                let values: Vec<Value> = match kind {
                    Value::Invalid(_) => vec![Value::Invalid(0), Value::Invalid(1)],
                    v => vec![v],
                };
                values.into_iter().any(|v| {
                    let thr = reference_threshold(&m.config, v);
                    gatherable(m, s, &draw.ratification, sj, VoteStep::Ratification, v) >= thr
                        && (v == Value::NoQuorum
                            || gatherable(m, s, &draw.validation, sj, VoteStep::Validation, v)
                                >= thr)
                })
            })
        })
    })
}

/// Contexts the nodes are deciding in now (one per distinct chain).
fn current_contexts(m: &SaModel, s: &State) -> Vec<std::sync::Arc<Context>> {
    let mut chains: Vec<_> = honest_nodes(m, s)
        .filter(|(_, n)| n.step != Step::Done)
        .map(|(_, n)| ledger_blocks(&n.chain))
        .collect();
    chains.sort();
    chains.dedup();
    chains.iter().map(|c| m.context(c)).collect()
}

fn committee_wellformed(m: &SaModel, s: &State) -> bool {
    let c = m.config.protocol.committee_credits;
    current_contexts(m, s).iter().all(|ctx| {
        ctx.iterations.iter().enumerate().all(|(i, d)| {
            // Under VAR-SUSP-LIFTED an iteration is drawn on its own eligible set, gen(i+1)
            // included (spec/variants.md).
            let weights = ctx.weights_at(&m.config, i);
            let drawable = weights.iter().filter(|&&w| w > 0).count();
            let bit = |g: Option<usize>| g.map_or(0u8, |g| 1 << g);
            let next = (i + 1 < ctx.iterations.len())
                .then(|| {
                    if std::ptr::eq(weights, ctx.weights_at(&m.config, i + 1)) {
                        ctx.iterations[i + 1].generator
                    } else {
                        crate::draws::generator_on(&m.config, &ctx.seed, i + 1, weights)
                    }
                })
                .flatten();
            let gens_i = d.generator;
            // SORT-4/SORT-5, the reference rule (independent of mutations).
            let must_exclude = match drawable {
                0 | 1 => 0,
                2 => bit(gens_i),
                _ => bit(gens_i) | bit(next),
            };
            let capacity: u32 = (0..m.n())
                .filter(|p| must_exclude & (1 << p) == 0)
                .map(|p| weights[p].div_ceil(LUX_PER_UNIT) as u32)
                .sum();
            [&d.validation, &d.ratification].iter().all(|com| {
                let total = com.total();
                let members_ok = com.members().all(|p| {
                    must_exclude & (1 << p) == 0
                        && u64::from(com.credits(p)) <= weights[p].div_ceil(LUX_PER_UNIT)
                });
                members_ok && total > 0 && (total == c || total == capacity.min(c))
            })
        })
    })
}

fn eligible_draw(m: &SaModel, s: &State) -> bool {
    current_contexts(m, s).iter().all(|ctx| {
        let l = &ctx.ledger;
        let round = u32::from(ctx.round);
        let minimum = u64::from(m.config.protocol.minimum_stake) * LUX_PER_UNIT;
        // ELIG-1, ELIG-2, ELIG-3 written out from the ledger's fields; under VAR-SUSP-LIFTED
        // ELIG-3 holds in the iterations below `relaxed_iterations` only.
        let protocol = &m.config.protocol;
        let ok_at = |p: usize, suspension: bool| {
            l.stake[p] >= minimum
                && l.eligible_from[p] <= round
                && (!suspension || l.suspended_until[p] <= round)
        };
        let ok = |p: usize| ok_at(p, true);
        // The weight sortition used is the mature, unlocked stake alone (STAKE-1, SLASH-2).
        let weights_ok = (0..m.n()).all(|p| ctx.weights[p] == if ok(p) { l.stake[p] } else { 0 });
        weights_ok
            && ctx.iterations.iter().enumerate().all(|(i, d)| {
                let applies = protocol
                    .suspension
                    .applies_at(i as u8, protocol.relaxed_iterations);
                let ok = |p: usize| ok_at(p, applies);
                d.generator.is_none_or(ok)
                    && d.validation.members().all(ok)
                    && d.ratification.members().all(ok)
            })
    })
}

/// The Success attestation a node holds for the block at height `h` of its chain.
fn block_att(m: &SaModel, s: &State, n: &Node, h: usize) -> Option<Att> {
    let e = &n.chain[h - 1];
    let sl = slot(n.block_at(h - 1), e.iteration);
    let v = Value::Valid(e.variant);
    n.holds(sl, v).then(|| signers(m, s, sl, v))
}

fn reward_signers(m: &SaModel, s: &State) -> bool {
    let tenth = BLOCK_REWARD / 10;
    let c2 = 2 * u64::from(m.config.protocol.committee_credits);
    let quorum = 2 * u64::from(m.config.supermajority());
    let per_credit = tenth / c2;
    honest_nodes(m, s).all(|(_, n)| {
        let blocks = ledger_blocks(&n.chain);
        (1..=n.chain.len()).all(|h| {
            let e = &n.chain[h - 1];
            let Some(att) = block_att(m, s, n, h) else {
                return false;
            };
            let parent = m.context(&blocks[..h - 1]);
            let d = &parent.iterations[usize::from(e.iteration)];
            let mut paid = rewards(
                &m.config,
                &parent,
                e.iteration,
                att.validation,
                att.ratification,
            );
            // The generator's extra: a tenth of the reward, shared out over the credits an
            // attestation may hold above the quorum (2·SM of 2C), for those it holds.
            let mut credits = 0u64;
            let mut expected: Vec<(usize, u64)> = Vec::new();
            for (committee, signers) in [
                (&d.validation, att.validation),
                (&d.ratification, att.ratification),
            ] {
                for p in bits(signers) {
                    let c = u64::from(committee.credits(p));
                    if c > 0 {
                        credits += c;
                        expected.push((p, per_credit * c));
                    }
                }
            }
            let above = credits
                .saturating_sub(quorum)
                .min(c2.saturating_sub(quorum));
            let extra = (c2 > quorum).then(|| tenth * above / (c2 - quorum));
            expected.extend(d.generator.map(|g| (g, tenth * 7 + extra.unwrap_or(0))));
            paid.sort_unstable();
            expected.sort_unstable();
            let total: u64 = paid.iter().map(|&(_, a)| a).sum();
            paid == expected && total <= BLOCK_REWARD
        })
    })
}

/// (parent context, child context, entry) for every block of every honest chain.
fn for_each_block(
    m: &SaModel,
    s: &State,
    f: &mut dyn FnMut(&Node, usize, &Context, &Context) -> bool,
) -> bool {
    honest_nodes(m, s).all(|(_, n)| {
        let blocks = ledger_blocks(&n.chain);
        (1..=blocks.len()).all(|h| {
            let parent = m.context(&blocks[..h - 1]);
            let child = m.context(&blocks[..h]);
            f(n, h, &parent, &child)
        })
    })
}

fn soft_slash(m: &SaModel, s: &State) -> bool {
    let relaxed = m.config.protocol.relaxed_iterations;
    for_each_block(m, s, &mut |n, h, parent, child| {
        let e = &n.chain[h - 1];
        let targets_ok = child.effects.soft_slashed.iter().all(|&(p, j)| {
            j < relaxed
                && e.failed.get(j) == Some(Value::NoCandidate)
                && parent.iterations[usize::from(j)].generator == Some(p)
        });
        let generator = parent.iterations[usize::from(e.iteration)].generator;
        let principal_ok = (0..m.n()).all(|p| {
            let added = if generator == Some(p) {
                crate::exec::STAKE_TX_LUX
            } else {
                0
            };
            let held = |l: &crate::ledger::Ledger| l.stake[p] + l.locked[p] + l.maturing[p];
            child.effects.hard_slashed.contains(&p)
                || held(&parent.ledger) + added == held(&child.ledger)
        });
        targets_ok && principal_ok
    })
}

fn hard_slash_invalid(m: &SaModel, s: &State) -> bool {
    for_each_block(m, s, &mut |n, h, parent, child| {
        let e = &n.chain[h - 1];
        child.effects.hard_slashed.iter().all(|&p| {
            (0..e.iteration).any(|j| {
                matches!(e.failed.get(j), Some(Value::Invalid(_)))
                    && parent.iterations[usize::from(j)].generator == Some(p)
            })
        })
    })
}

/// Memo tags of the per-chain properties.
const MEMO_STAKE: u8 = 1;
const MEMO_ISOLATION: u8 = 2;

/// Every block of every honest chain satisfies `f(parent, block, child)`, judged once per chain
/// and thread (`tag`).
fn for_each_chain(m: &SaModel, s: &State, tag: u8, f: &dyn Fn(&[LedgerBlock]) -> bool) -> bool {
    honest_nodes(m, s).all(|(_, n)| {
        let blocks = ledger_blocks(&n.chain);
        m.memo(tag, &blocks, || f(&blocks))
    })
}

/// stake + maturing + locked + burned of every provisioner, after every block, is its genesis
/// stake plus one [`crate::exec::STAKE_TX_LUX`] per block it generated so far (every payload
/// holds its generator's stake operation, spec/execution.md).
fn stake_conserved(m: &SaModel, s: &State) -> bool {
    for_each_chain(m, s, MEMO_STAKE, &|blocks| {
        let mut staked = [0u64; crate::config::MAX_PROVISIONERS];
        (1..=blocks.len()).all(|h| {
            let parent = m.context(&blocks[..h - 1]);
            if let Some(g) = parent.iterations[usize::from(blocks[h - 1].0)].generator {
                staked[g] += crate::exec::STAKE_TX_LUX;
            }
            let l = &m.context(&blocks[..h]).ledger;
            m.config.provisioners.iter().enumerate().all(|(p, prov)| {
                l.stake[p] + l.maturing[p] + l.locked[p] + l.burned[p]
                    == u64::from(prov.stake) * LUX_PER_UNIT + staked[p]
            })
        })
    })
}

/// SAFE-ISOLATION as non-interference: the block's ledger is recomputed with its payload cut
/// down to the stake operations; every other transaction (successes, traps, out-of-gas, the
/// attempted writes to protocol state) must have changed nothing there.
fn isolation(m: &SaModel, s: &State) -> bool {
    for_each_chain(m, s, MEMO_ISOLATION, &|blocks| {
        (1..=blocks.len()).all(|h| {
            let parent = m.context(&blocks[..h - 1]);
            let (alone, _) = crate::draws::block_ledger(
                &m.config,
                &parent,
                &blocks[h - 1],
                &crate::exec::STAKE_ONLY,
            );
            alone == m.context(&blocks[..h]).ledger
        })
    })
}

/// SAFE-TX-CONTAINED: no honest Invalid validation vote names a candidate that was proposed
/// valid (its state transition correct; its failing transactions are receipts, not defects).
fn tx_contained(m: &SaModel, s: &State) -> bool {
    let valid: Vec<BlockId> = s
        .pool
        .iter()
        .filter_map(|msg| match msg {
            Msg::Candidate {
                block, valid: true, ..
            } => Some(*block),
            _ => None,
        })
        .collect();
    s.pool.iter().all(|msg| match msg {
        Msg::Vote {
            slot,
            step: VoteStep::Validation,
            value: Value::Invalid(v),
            voter,
        } if !m.config.is_byzantine(usize::from(*voter)) => !valid
            .iter()
            .any(|b| slot_of(*b) == *slot && variant_of(*b) == *v),
        _ => true,
    })
}

fn no_honest_slash(m: &SaModel, s: &State) -> bool {
    let gst = m.config.faults.gst_round;
    if gst == 0 {
        return true;
    }
    for_each_block(m, s, &mut |n, h, parent, child| {
        if (h as u8) < gst {
            return true;
        }
        // Only where the honest nodes agree on the parent: a branch left over from before GST
        // can miss the slot of a generator that is on the other branch (spec/properties.md).
        let parent_id = n.block_at(h - 1);
        let agreed = honest_nodes(m, s)
            .filter(|(_, q)| q.alive && q.chain.len() >= h - 1)
            .all(|(_, q)| q.block_at(h - 1) == parent_id);
        if !agreed {
            return true;
        }
        let e = &n.chain[h - 1];
        let excused = |p: usize, j: u8| {
            // Byzantine, absent, or the generator of an invalid candidate.
            m.config.is_byzantine(p)
                || !s.nodes[p].alive
                || (matches!(e.failed.get(j), Some(Value::Invalid(_)))
                    && parent.iterations[usize::from(j)].generator == Some(p))
        };
        let soft = child
            .effects
            .soft_slashed
            .iter()
            .all(|&(p, j)| excused(p, j));
        let hard = child
            .effects
            .hard_slashed
            .iter()
            .all(|&p| (0..e.iteration).any(|j| excused(p, j)));
        soft && hard
    })
}

/// Fault proofs the given nodes hold together: for every pair of attestations of one slot with
/// different values, the signers of one step that signed both (they signed two different
/// votes for one (prev_hash, round, iteration, step)), weighed by their credits in that step's
/// committee. Returns the largest weight of one such proof set.
pub fn evidence_weight(m: &SaModel, s: &State, atts: &[&Att]) -> u32 {
    let mut best = 0;
    for (i, a) in atts.iter().enumerate() {
        for b in &atts[i + 1..] {
            if a.slot != b.slot || a.value == b.value {
                continue;
            }
            let Some(draw) = m.slot_draw(s, a.slot) else {
                continue;
            };
            let rat = credits_of(&draw.ratification, a.ratification & b.ratification);
            let val = if a.value == Value::NoQuorum || b.value == Value::NoQuorum {
                0
            } else {
                credits_of(&draw.validation, a.validation & b.validation)
            };
            best = best.max(rat).max(val);
        }
    }
    best
}

fn fork_evidence(m: &SaModel, s: &State) -> bool {
    if final_agreement(m, s) {
        return true;
    }
    let atts = held(m, s);
    let refs: Vec<&Att> = atts.iter().collect();
    evidence_weight(m, s, &refs) >= m.config.success_fail_overlap().max(1)
}

/// Whether a Success attestation for `slot` can still come to exist: the Valid votes cast plus
/// the credits of members that may still vote (Byzantine members always may) reach the
/// supermajority in both steps, for some candidate of the slot.
fn success_possible(m: &SaModel, s: &State, slot_id: BlockId) -> bool {
    let parent = parent_of(slot_id);
    let (r, j) = (crate::state::round_of(slot_id), iteration_of(slot_id));
    let Some(draw) = m.slot_draw(s, slot_id) else {
        return false;
    };
    let sm = reference_threshold(&m.config, Value::Valid(0));
    (0..2).any(|variant| {
        let b = block(parent, j, variant);
        // An invalid candidate never gets honest Valid votes; a candidate not yet sent may
        // still be sent by its generator (variant 0) or a Byzantine one.
        if candidate(s, b).is_some_and(|(valid, _)| !valid) {
            return false;
        }
        let value = Value::Valid(variant);
        let may_vote = |q: usize, step: VoteStep, before: Step| {
            if m.config.is_byzantine(q) {
                return true;
            }
            if sent(s, slot_id, step, value, q) {
                return true;
            }
            let voted_else = s.pool.iter().any(|msg| {
                matches!(*msg, Msg::Vote { slot: x, step: st, voter, .. }
                    if x == slot_id && st == step && usize::from(voter) == q)
            });
            !voted_else && may_still_act(s, q, parent, r, j, before)
        };
        let potential = |com: &Committee, step, before| -> u32 {
            com.members()
                .filter(|&q| may_vote(q, step, before))
                .map(|q| com.credits(q))
                .sum()
        };
        potential(&draw.validation, VoteStep::Validation, Step::Proposal) >= sm
            && potential(&draw.ratification, VoteStep::Ratification, Step::Validation) >= sm
    })
}

fn final_prior_iterations(m: &SaModel, s: &State) -> bool {
    honest_nodes(m, s).all(|(_, n)| {
        n.chain.iter().enumerate().all(|(h, e)| {
            e.label != Label::Final
                || (0..e.iteration).all(|j| {
                    e.failed.get(j).is_some() || !success_possible(m, s, slot(n.block_at(h), j))
                })
        })
    })
}

fn wit_attested_later(m: &SaModel, s: &State) -> bool {
    held(m, s)
        .iter()
        .any(|a| a.value.is_valid() && iteration_of(a.slot) > 0)
}

fn wit_failed(m: &SaModel, s: &State) -> bool {
    held(m, s).iter().any(|a| !a.value.is_valid())
}

fn wit_fallback(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().any(|n| n.last_fallback.is_some())
}

fn wit_suspension(m: &SaModel, s: &State) -> bool {
    honest_nodes(m, s).any(|(_, n)| {
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

/// Two Success attestations of different iterations on one parent, held by honest nodes
/// (without equivocation when no provisioner is Byzantine): fork choice must settle it.
fn wit_two_success(m: &SaModel, s: &State) -> bool {
    let mut successes: Vec<BlockId> = honest_nodes(m, s)
        .flat_map(|(_, n)| n.held.iter())
        .filter(|(_, v)| v.is_valid())
        .map(|(slot, _)| *slot)
        .collect();
    successes.sort_unstable();
    successes.dedup();
    successes.iter().enumerate().any(|(k, a)| {
        successes[k + 1..]
            .iter()
            .any(|b| parent_of(*a) == parent_of(*b) && iteration_of(*a) != iteration_of(*b))
    })
}

/// RELAXED: a block of iteration i > RELAXED whose round has a Fail attestation, held by an
/// honest node, of an iteration j with RELAXED <= j < i: the block cannot record it (FAIL-1),
/// so its PNI counts that iteration as unattested (FIN-1).
fn wit_relaxed(m: &SaModel, s: &State) -> bool {
    let relaxed = m.config.protocol.relaxed_iterations;
    let fails: Vec<BlockId> = honest_nodes(m, s)
        .flat_map(|(_, n)| n.held.iter())
        .filter(|(_, v)| !v.is_valid())
        .map(|(slot, _)| *slot)
        .collect();
    honest_nodes(m, s).any(|(_, n)| {
        (1..=n.chain.len()).any(|h| {
            let e = &n.chain[h - 1];
            let parent = n.block_at(h - 1);
            e.iteration > relaxed
                && fails.iter().any(|f| {
                    parent_of(*f) == parent && (relaxed..e.iteration).contains(&iteration_of(*f))
                })
        })
    })
}

/// EMERG-1: a node cast a Validation vote for an emergency iteration it had already left.
fn wit_emergency(m: &SaModel, s: &State) -> bool {
    honest_nodes(m, s).any(|(_, n)| n.voted_late)
}

fn wit_final(_: &SaModel, s: &State) -> bool {
    s.nodes.iter().any(|n| n.final_height() > 0)
}

fn wit_final_after_pni(m: &SaModel, s: &State) -> bool {
    s.nodes.iter().any(|n| {
        n.chain
            .iter()
            .any(|e| e.label == Label::Final && crate::finality::pni(&m.config, e) > 0)
    })
}

fn wit_absent_progress(m: &SaModel, s: &State) -> bool {
    honest_nodes(m, s).any(|(_, q)| {
        !q.alive && honest_nodes(m, s).any(|(_, p)| p.alive && p.chain.len() > q.chain.len())
    })
}

fn wit_invalid_rejected(m: &SaModel, s: &State) -> bool {
    held(m, s)
        .iter()
        .any(|a| matches!(a.value, Value::Invalid(_)))
}

/// The two votes of a fault proof have reached honest nodes: two attestations of one slot on
/// different values, held by honest nodes, signed in one step by the same provisioner. Votes
/// are gossiped (every honest node relays what it receives, and after GST delivers it), so
/// every honest node comes to hold both: a node's own TALLY-3 keeps it from *adopting* the
/// second attestation, not from holding the proof.
fn wit_equivocation_detected(m: &SaModel, s: &State) -> bool {
    let atts = held(m, s);
    let refs: Vec<&Att> = atts.iter().collect();
    evidence_weight(m, s, &refs) > 0
}

fn wit_reward(m: &SaModel, s: &State) -> bool {
    honest_nodes(m, s).any(|(_, n)| {
        (1..=n.chain.len())
            .any(|h| block_att(m, s, n, h).is_some_and(|a| (a.validation | a.ratification) != 0))
    })
}
