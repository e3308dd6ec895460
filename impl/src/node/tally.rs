//! Votes and quorums: vote checks (TALLY-*), the vote keepers, quorums into attestations (ATT-*).

use super::*;
use crate::rules::Rule;

impl Node {
    #[allow(
        clippy::too_many_lines,
        reason = "every check a vote passes, in the order spec/node.md lists the rejections"
    )]
    pub(super) fn on_vote(&mut self, peer: PeerId, v: SignedVote, attached: Option<StepVotes>) {
        let kind = if attached.is_some() {
            "ratification"
        } else {
            "validation"
        };
        let want = if attached.is_some() {
            VoteStep::Ratification
        } else {
            VoteStep::Validation
        };
        if v.header.step != want {
            return self.reject(
                peer,
                kind,
                Reason::VoteStep,
                "vote header names another step",
            );
        }
        if v.header.prev_hash != self.round.ctx.prev_hash {
            return self.reject(peer, kind, Reason::VoteParent, "vote for another parent");
        }
        let i = v.header.iteration;
        if i >= self.params.max_iterations {
            return self.reject(
                peer,
                kind,
                Reason::VoteIteration,
                format!("iteration {i} >= MAX_ITER"),
            );
        }
        let draw = self.draw_of(i);
        let committee = match want {
            VoteStep::Validation => &draw.validation,
            VoteStep::Ratification => &draw.ratification,
        };
        Rule::Tally2.applies();
        if committee.get(&v.signer).copied().unwrap_or(0) == 0 {
            return self.reject(
                peer,
                kind,
                Reason::VoteNotMember,
                "signer is not a member of the step's committee (TALLY-2)",
            );
        }
        Rule::StepVal2.applies();
        if want == VoteStep::Validation && v.vote == Vote::NoQuorum {
            return self.reject(
                peer,
                kind,
                Reason::VoteNoQuorumValidation,
                "NoQuorum is not a Validation vote (STEP-VAL-2)",
            );
        }
        // A replay of a vote already counted changes nothing: dropped before the signature
        // check (about 1 ms of BLS each), not after.
        let counted = self.round.iterations.get(&i).and_then(|it| match want {
            VoteStep::Validation => it.val.vote_of(&v.signer),
            VoteStep::Ratification => it.rat.vote_of(&v.signer),
        });
        if counted == Some(v.vote) {
            return;
        }
        if let Err(e) = self
            .keys
            .verify(&v.signer, &vote_digest(&v.header, &v.vote), &v.signature)
        {
            return self.reject(
                peer,
                kind,
                Reason::VoteSignature,
                format!("vote signature: {e}"),
            );
        }
        if let Some(sv) = &attached {
            let vh = VoteHeader {
                step: VoteStep::Validation,
                ..v.header
            };
            let known = self
                .round
                .iterations
                .get(&i)
                .is_some_and(|it| it.val_quorums.get(&v.vote) == Some(sv));
            let check = if v.vote == Vote::NoQuorum {
                if *sv == StepVotes::EMPTY {
                    Ok(())
                } else {
                    Err("a NoQuorum vote must attach empty validation votes".to_string())
                }
            } else if known {
                Ok(()) // this exact StepVotes was verified (or formed) before
            } else {
                self.verify_step_votes(&draw.validation, &vh, &v.vote, sv)
            };
            if let Err(e) = check {
                return self.reject(
                    peer,
                    kind,
                    Reason::VoteAttachedQuorum,
                    format!("attached validation quorum: {e}"),
                );
            }
        }
        // Accepted from here on.
        let emergency = self.emergency(i);
        let it = self.iteration(i);
        let (keeper, sigs) = match want {
            VoteStep::Validation => (&mut it.val, &mut it.val_votes),
            VoteStep::Ratification => (&mut it.rat, &mut it.rat_votes),
        };
        if emergency && keeper.vote_of(&v.signer).is_some() {
            return; // EMERG-1: no conflicting-vote checks; the first vote stands.
        }
        match keeper.add(&v.signer, v.vote) {
            Ok(Tally::Counted { .. }) => {
                sigs.insert(v.signer, v);
            }
            Ok(Tally::Duplicate) => return,
            Ok(Tally::Conflict { .. }) => {
                let first = sigs.remove(&v.signer).expect("first vote kept");
                return self.record_fault(FaultProof::DoubleVote { first, second: v });
            }
            Err(e) => {
                let code = match e {
                    crate::tally::Rejected::NotMember => Reason::VoteNotMember,
                    crate::tally::Rejected::NoQuorumInValidation => Reason::VoteNoQuorumValidation,
                };
                return self.reject(peer, kind, code, e.to_string());
            }
        }
        if let Some(sv) = attached {
            if v.vote != Vote::NoQuorum {
                it.val_quorums.entry(v.vote).or_insert(sv);
            }
        }
        self.progress(i);
        self.catch_up(i);
    }

    /// ITER-4: votes of a later iteration of this round from signers holding more credits of
    /// one of its committees than the Byzantine stake can hold there (C − SM) mean honest
    /// provisioners are in that iteration: this node ends its earlier iterations, as after
    /// their timeouts, and joins them. It never revises a vote (it only stops waiting), so
    /// safety is untouched; without it, nodes that left a round's iterations at different
    /// times (restarts, early timers) can stay apart for the rest of the round.
    pub(super) fn catch_up(&mut self, j: u8) {
        Rule::Iter4.applies();
        if self.round.step == Step::Open || j <= self.round.iteration {
            return;
        }
        let Some(it) = self.round.iterations.get(&j) else {
            return; // the vote ended the round
        };
        let credits = |keeper: &VoteKeeper<PublicKey>, votes: &BTreeMap<PublicKey, SignedVote>| {
            votes
                .keys()
                .map(|s| keeper.committee().get(s).copied().unwrap_or(0))
                .sum::<u32>()
        };
        let held = credits(&it.val, &it.val_votes).max(credits(&it.rat, &it.rat_votes));
        let byzantine = self.params.committee_credits - thresholds(&self.params).supermajority;
        if held > byzantine {
            self.enter_iteration(j);
        }
    }

    /// The draws of iteration `i`: the stored ones if the iteration exists, else computed and
    /// not stored (a vote that is then rejected must leave the node as it was).
    pub(super) fn draw_of(&self, i: u8) -> Draw {
        match self.round.iterations.get(&i) {
            Some(it) => it.draw.clone(),
            None => Self::draw(&self.params, &self.round.ctx, i),
        }
    }

    /// Moves iteration `i` forward after its votes changed: forms quorums and attestations.
    pub(super) fn progress(&mut self, i: u8) {
        let emergency = self.emergency(i);
        let it = self.iteration(i);
        // A Validation quorum is evidence for Ratification (and our own Ratification vote).
        if let Some(q) = it.val.quorum() {
            if !it.val_quorums.contains_key(&q.vote) {
                let signers: Vec<PublicKey> = q.signers.iter().copied().collect();
                if let Some(sv) = Self::step_votes(&it.draw.validation, &it.val_votes, &signers) {
                    it.val_quorums.insert(q.vote, sv);
                }
            }
        }
        let val_result = it
            .val
            .quorum()
            .and_then(|q| it.val_quorums.get(&q.vote).map(|sv| (q.vote, *sv)));
        Rule::StepRat2.applies();
        // STEP-RAT-2: an attestation needs a Ratification quorum and the matching Validation one.
        if it.attestation.is_none() {
            if let Some(q) = it.rat.quorum() {
                let validation = match q.vote {
                    Vote::NoQuorum => Some(StepVotes::EMPTY),
                    v => it.val_quorums.get(&v).copied(),
                };
                let signers: Vec<PublicKey> = q.signers.iter().copied().collect();
                let rat = Self::step_votes(&it.draw.ratification, &it.rat_votes, &signers);
                if let (Some(validation), Some(ratification)) = (validation, rat) {
                    let result = match q.vote {
                        Vote::Valid(h) => Some(Outcome::Success(h)),
                        v if !emergency => Some(Outcome::Fail(v)),
                        _ => None, // EMERG-1: no Fail attestations
                    };
                    if let Some(result) = result {
                        it.attestation = Some(Attestation {
                            result,
                            validation,
                            ratification,
                        });
                        return self.on_attestation(i);
                    }
                }
            }
        }
        self.strengthen_fail(i);
        let r = &self.round;
        if i == r.iteration && r.step == Step::Validation {
            if let Some((vote, sv)) = val_result {
                self.record_duration(StepKind::Validation);
                self.enter_ratification(vote, sv);
            }
        }
    }

    /// VAR-FIN-SM, VAR-FIN-CLOSED (spec/variants.md): a Fail attestation of iteration `i`
    /// formed at M credits takes the Ratification votes for its value that arrive later, so
    /// that it reaches SM (and is recorded in this node's candidates) once they do.
    fn strengthen_fail(&mut self, i: u8) {
        if !self.params.finality.fail_needs_supermajority() {
            return;
        }
        let sm = thresholds(&self.params).supermajority;
        let it = self.iteration(i);
        let Some(Attestation {
            result: Outcome::Fail(v),
            ..
        }) = it.attestation
        else {
            return;
        };
        let signers: Vec<PublicKey> = it
            .rat_votes
            .iter()
            .filter(|(_, sv)| sv.vote == v)
            .map(|(k, _)| *k)
            .collect();
        let held: u32 = signers
            .iter()
            .map(|k| it.draw.ratification.get(k).copied().unwrap_or(0))
            .sum();
        if held < sm {
            return;
        }
        if let Some(ratification) = Self::step_votes(&it.draw.ratification, &it.rat_votes, &signers)
        {
            if let Some(att) = it.attestation.as_mut() {
                att.ratification = ratification;
            }
        }
    }

    pub(super) fn on_attestation(&mut self, i: u8) {
        Rule::Iter1.applies();
        let it = self.iteration(i);
        let att = it.attestation.expect("just formed");
        match att.result {
            Outcome::Success(h) => {
                Rule::Iter2.applies();
                // ITER-2: a Success of any iteration of the round is accepted when seen.
                if let Some(c) = it.candidate.clone().filter(|c| c.header.hash() == h) {
                    if i == self.round.iteration {
                        self.record_duration(StepKind::Ratification);
                    }
                    self.accept(Block {
                        candidate: c,
                        attestation: att,
                    });
                    self.drain_pending();
                }
            }
            Outcome::Fail(v) => {
                self.out.push(Output::IterationFailed {
                    round: self.round.ctx.round,
                    iteration: i,
                    vote: Some(v),
                });
                if i >= self.round.iteration && self.round.step != Step::Open {
                    if i == self.round.iteration && self.round.step == Step::Ratification {
                        self.record_duration(StepKind::Ratification);
                    }
                    self.enter_iteration(i + 1);
                }
            }
        }
    }
}
