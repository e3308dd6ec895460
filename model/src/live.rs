//! The per-round liveness properties of spec/properties.md (LIVE-GOOD-ITERATION,
//! LIVE-ROUND-ENDS), computed from the state by their own code: which iteration is *good* is
//! derived from the draws, the absent and Byzantine provisioners and the candidates sent, not
//! from the timers or guards that let the model take a step.
//!
//! Why a per-state check is a liveness check here: the bounded model's graph is acyclic. Every
//! transition strictly increases a progress rank ([`rank`]: messages sent, attestations held
//! and absences first, then each node's place in its rounds), which the model checks on every
//! transition of every search (the checker crate counts the transitions where it does not); on a finite acyclic graph
//! every path ends in a state with no successor, so "every path from a state where node `n` is
//! in round `r` leaves round `r`" holds exactly when no reachable state without successors
//! still has `n` in round `r`. If a transition ever failed to increase the rank, the report
//! says the liveness results are not proven (verdict INCOMPLETE).

use crate::model::SaModel;
use crate::state::{block, candidate, Node, State, Step};

/// The progress rank of a state: (candidates sent + attestation outcomes held by every node +
/// absent provisioners + invalid candidates used, Σ over live nodes of its place in its
/// rounds, votes sent). Compared lexicographically, it strictly increases on every transition
/// of the bounded model. Votes come last: state merging (`crate::merging`) drops votes only
/// on a transition that moves a node (its place rises) or adds a candidate or an
/// attestation held, and an EMERG-1 late vote, the one vote cast without a step, never makes
/// a vote droppable.
#[inline]
pub fn rank(s: &State) -> (u32, u32, u32) {
    let candidates = s
        .pool
        .iter()
        .filter(|m| matches!(m, crate::state::Msg::Candidate { .. }))
        .count() as u32;
    let votes = s.pool.iter().count() as u32 - candidates;
    let mut sent = candidates + u32::from(s.invalid_used);
    let mut place = 0u32;
    for n in &s.nodes {
        sent += n.held.len() as u32;
        if !n.alive {
            sent += 1;
            continue;
        }
        let step = match n.step {
            Step::Proposal => 0,
            Step::Validation => 1,
            Step::Ratification => 2,
            Step::Open | Step::Done => 3,
        };
        place += u32::from(n.round()) * 1024 + u32::from(n.iteration) * 4 + step;
        place += u32::from(n.voted_late);
    }
    (sent, place, votes)
}

/// Whether node `n` is in a round it entered after GST (GST as a round: spec/faults.md).
pub fn after_gst(m: &SaModel, n: &Node) -> bool {
    let gst = m.config.faults.gst_round;
    gst != 0 && n.alive && n.step != Step::Done && n.chain.len() + 1 >= usize::from(gst)
}

/// The first *good* iteration of the round `n` is deciding (on its tip, in its context): its
/// generator is present, honest and its candidate (if sent) valid, and both committees hold at
/// least SM credits of present honest provisioners (spec LIVE-GOOD-ITERATION). Present means
/// for the whole round: a provisioner back from absence during it is not (see
/// [`first_good_with`]; in the bounded model nobody comes back).
pub fn first_good(m: &SaModel, s: &State, n: &Node) -> Option<u8> {
    first_good_with(m, s, n, &[])
}

/// [`first_good`] where provisioner `q` came back from absence in round `back_from[q]` (a
/// relative round; 0 or missing: never): in rounds up to that one it counts as absent.
pub fn first_good_with(m: &SaModel, s: &State, n: &Node, back_from: &[u8]) -> Option<u8> {
    let ctx = m.node_context(&s.root, n);
    let tip = n.tip();
    let round = n.round();
    let c = &m.config;
    let sm = c
        .protocol
        .supermajority
        .unwrap_or(c.protocol.committee_credits - c.protocol.committee_credits / 3);
    // Present for the whole round: a provisioner back from absence during it does not count.
    let present_honest = |q: usize| {
        !c.is_byzantine(q) && s.nodes[q].alive && back_from.get(q).copied().unwrap_or(0) < round
    };
    ctx.iterations.iter().enumerate().find_map(|(i, d)| {
        let g = d.generator?;
        let i = i as u8;
        let generator_ok =
            present_honest(g) && candidate(s, block(tip, i, 0)).is_none_or(|(valid, _)| valid);
        let credits = |com: &crate::sortition::Committee| -> u32 {
            com.members()
                .filter(|&q| present_honest(q))
                .map(|q| com.credits(q))
                .sum()
        };
        (generator_ok && credits(&d.validation) >= sm && credits(&d.ratification) >= sm)
            .then_some(i)
    })
}

/// Whether every present honest node's chain agrees with `n`'s up to the shorter of the two:
/// all of them work on (or towards) `n`'s branch.
fn on_common_branch(m: &SaModel, s: &State, n: &Node) -> bool {
    s.nodes.iter().enumerate().all(|(q, other)| {
        if m.config.is_byzantine(q) || !other.alive {
            return true;
        }
        let k = other.chain.len().min(n.chain.len());
        other.block_at(k) == n.block_at(k)
    })
}

/// LIVE-GOOD-ITERATION: no present honest node, in a round it entered after GST while every
/// present honest node is on its branch, is past that round's first good iteration.
pub fn good_iteration(m: &SaModel, s: &State) -> bool {
    s.nodes.iter().enumerate().all(|(p, n)| {
        if m.config.is_byzantine(p) || !after_gst(m, n) || !on_common_branch(m, s, n) {
            return true;
        }
        match first_good(m, s, n) {
            Some(g) => n.iteration <= g && n.step != Step::Open,
            None => true,
        }
    })
}

/// The present honest nodes still in a round they entered after GST.
fn in_round_after_gst<'a>(m: &'a SaModel, s: &'a State) -> impl Iterator<Item = usize> + 'a {
    s.nodes
        .iter()
        .enumerate()
        .filter(move |(p, n)| !m.config.is_byzantine(*p) && after_gst(m, n))
        .map(|(p, _)| p)
}

/// Whether no action is possible in `s`.
fn stuck(m: &SaModel, s: &State) -> bool {
    !m.has_action(s)
}

/// Where a state stands for LIVE-ROUND-ENDS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoundEnds {
    /// Some action is possible, or no present honest node is in a round entered after GST.
    NotStuck,
    /// No action is possible, a present honest node is in a round entered after GST, and none
    /// of those rounds has a good iteration: past the bound, counted (`sa sweep`), not judged.
    StuckPastBound,
    /// No action is possible while a present honest node is in a round entered after GST that
    /// has a good iteration: LIVE-ROUND-ENDS violated.
    StuckWithinBound,
}

/// Where `s` stands for LIVE-ROUND-ENDS.
pub fn round_ends_at(m: &SaModel, s: &State) -> RoundEnds {
    let mut waiting = in_round_after_gst(m, s).peekable();
    if waiting.peek().is_none() || !stuck(m, s) {
        return RoundEnds::NotStuck;
    }
    if waiting.any(|p| first_good(m, s, &s.nodes[p]).is_some()) {
        RoundEnds::StuckWithinBound
    } else {
        RoundEnds::StuckPastBound
    }
}

/// LIVE-ROUND-ENDS: no reachable state without successors leaves a present honest node in a
/// round it entered after GST that has a good iteration.
pub fn round_ends(m: &SaModel, s: &State) -> bool {
    round_ends_at(m, s) != RoundEnds::StuckWithinBound
}

/// Most iterations (+1) a block took at a height whose round was entered after GST, over every
/// node's chain in `s` (0: none): what `sa sweep` reports as the worst round after GST.
pub fn worst_iterations(m: &SaModel, s: &State) -> u32 {
    let gst = usize::from(m.config.faults.gst_round);
    if gst == 0 {
        return 0;
    }
    s.nodes
        .iter()
        .flat_map(|n| n.chain.iter().skip(gst - 1))
        .map(|e| u32::from(e.iteration) + 1)
        .max()
        .unwrap_or(0)
}

/// Why the last state of a counterexample of `id` violates it, in the spec's words: for
/// LIVE-GOOD-ITERATION each node past its round's first good iteration, for LIVE-ROUND-ENDS
/// each stuck node with where it is and the round's first good iteration.
pub fn explain(m: &SaModel, s: &State, id: &str) -> String {
    let place = |n: &Node| {
        if n.step == Step::Open {
            "open consensus (after the last iteration)".to_string()
        } else {
            format!("iteration {} {:?}", n.iteration, n.step)
        }
    };
    let parts: Vec<String> = in_round_after_gst(m, s)
        .filter_map(|p| {
            let n = &s.nodes[p];
            let good = first_good(m, s, n);
            if id == "LIVE-GOOD-ITERATION" {
                let g = good?;
                let past = n.iteration > g || n.step == Step::Open;
                return past.then(|| {
                    format!(
                        "P{p} is in round {} {} although iteration {g} was good",
                        n.round(),
                        place(n)
                    )
                });
            }
            Some(format!(
                "P{p} stuck in round {} {}; {}",
                n.round(),
                place(n),
                match good {
                    Some(g) => format!("iteration {g} of that round is good"),
                    None => "that round has no good iteration".into(),
                }
            ))
        })
        .collect();
    if id == "LIVE-GOOD-ITERATION" {
        parts.join("; ")
    } else {
        format!("no action is possible: {}", parts.join("; "))
    }
}

/// Whether `s` has no successor while a present honest node is still in a round it entered
/// after GST (good iteration or not): the rounds-end promise broken, whatever the bound.
pub fn stuck_after_gst(m: &SaModel, s: &State) -> bool {
    in_round_after_gst(m, s).next().is_some() && stuck(m, s)
}

/// LIVE-NO-STALL's test: whether suspension alone starves the round node `n` is deciding.
/// Computed from the ledger of the round's context (ELIG-1, ELIG-2, ELIG-3 and the suspension
/// rule written out here), not from the draws: an iteration *can* produce a Success only if
/// some present honest provisioner eligible in it could be its generator while the present
/// honest provisioners eligible in it other than that one hold at least SM credits (each at
/// most ⌈stake / unit⌉, SORT-3; the generator excluded from the committees, SORT-5, in the
/// best case where gen(i+1) is the same provisioner). The round is *starved by suspension*
/// when no iteration can, although one could if nobody were suspended: what is missing is the
/// stake ELIG-3 keeps out, not the stake the absence bound allows to be away. `Some` names the
/// suspended provisioners then. `back_from` as in [`first_good_with`].
pub fn starved_by_suspension(
    m: &SaModel,
    s: &State,
    n: &Node,
    back_from: &[u8],
) -> Option<Vec<usize>> {
    use crate::config::LUX_PER_UNIT;
    let c = &m.config;
    let protocol = &c.protocol;
    let ctx = m.node_context(&s.root, n);
    let l = &ctx.ledger;
    let round = u32::from(ctx.round);
    let minimum = u64::from(protocol.minimum_stake) * LUX_PER_UNIT;
    let present_honest = |q: usize| {
        !c.is_byzantine(q) && s.nodes[q].alive && back_from.get(q).copied().unwrap_or(0) < n.round()
    };
    let eligible = |q: usize, suspension: bool| {
        l.stake[q] >= minimum
            && l.eligible_from[q] <= round
            && (!suspension || l.suspended_until[q] <= round)
    };
    let sm = c.supermajority();
    // Whether an iteration drawn on the provisioners `in_set` admits can produce a Success.
    let can_succeed = |in_set: &dyn Fn(usize) -> bool| {
        let set: Vec<usize> = (0..m.n()).filter(|&q| in_set(q)).collect();
        set.iter().any(|&g| {
            let credits: u64 = set
                .iter()
                .filter(|&&q| (q != g || set.len() < 2) && present_honest(q))
                .map(|&q| l.stake[q].div_ceil(LUX_PER_UNIT))
                .sum();
            present_honest(g) && credits.min(u64::from(protocol.committee_credits)) >= u64::from(sm)
        })
    };
    let starved = (0..protocol.max_iterations).all(|i| {
        let applies = protocol
            .suspension
            .applies_at(i, protocol.relaxed_iterations);
        !can_succeed(&|q| eligible(q, applies))
    });
    if !starved || !can_succeed(&|q| eligible(q, false)) {
        return None;
    }
    Some(
        (0..m.n())
            .filter(|&q| eligible(q, false) && !eligible(q, true))
            .collect(),
    )
}
