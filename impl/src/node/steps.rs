//! Timers and steps: rounds, iterations, Proposal, Validation and Ratification, adaptive timeouts (STEP-*, TIME-*).

use super::*;
use crate::rules::Rule;

impl Node {
    pub(super) fn set_timer(&mut self, timer: Timer, after_ms: u64) {
        self.out.push(Output::SetTimer { timer, after_ms });
    }

    /// TIME-1, TIME-2: the average of the last 5 successful durations, clamped, plus this round's
    /// increases, capped.
    pub(super) fn timeout(&self, k: StepKind) -> u64 {
        Rule::Time1.applies();
        Rule::Time2.applies();
        let p = &self.params;
        let d = &self.durations[kind_index(k)];
        let base = if d.is_empty() {
            p.timeout_max_ms
        } else {
            (d.iter().sum::<u64>() / d.len() as u64).clamp(p.timeout_min_ms, p.timeout_max_ms)
        };
        (base + self.round.extra[kind_index(k)]).min(p.timeout_max_ms)
    }

    pub(super) fn record_duration(&mut self, k: StepKind) {
        let d = self.now.saturating_sub(self.round.step_started);
        let q = &mut self.durations[kind_index(k)];
        q.push_back(d);
        if q.len() > 5 {
            q.pop_front();
        }
    }

    pub(super) fn step_timer(&mut self, k: StepKind) {
        let t = Timer::Step {
            round: self.round.ctx.round,
            iteration: self.round.iteration,
            step: k,
        };
        let after = self.timeout(k);
        self.set_timer(t, after);
    }

    pub(super) fn on_timer(&mut self, t: Timer) {
        if !self.started {
            return;
        }
        match t {
            Timer::Stall => {
                if self.now >= self.last_accept + self.params.stall_timeout_ms {
                    Rule::Fork2.applies();
                    // FORK-2: ask for blocks after the last Final one.
                    self.out.push(Output::Broadcast(Message::GetBlocks {
                        from: self.last_final() + 1,
                    }));
                    self.set_timer(Timer::Stall, self.params.stall_timeout_ms);
                } else {
                    let left = self.last_accept + self.params.stall_timeout_ms - self.now;
                    self.set_timer(Timer::Stall, left);
                }
            }
            Timer::Propose { round, iteration } => {
                if round == self.round.ctx.round && iteration == self.round.iteration {
                    self.propose(iteration);
                }
            }
            Timer::Step {
                round,
                iteration,
                step,
            } => {
                let r = &self.round;
                let current = match r.step {
                    Step::Proposal => StepKind::Proposal,
                    Step::Validation => StepKind::Validation,
                    Step::Ratification => StepKind::Ratification,
                    Step::Open => return,
                };
                if round != r.ctx.round || iteration != r.iteration || step != current {
                    return;
                }
                let k = kind_index(step);
                self.round.extra[k] = (self.round.extra[k] + self.params.timeout_increase_ms)
                    .min(self.params.timeout_max_ms);
                match step {
                    StepKind::Proposal => self.enter_validation(),
                    StepKind::Validation => {
                        self.enter_ratification(Vote::NoQuorum, StepVotes::EMPTY)
                    }
                    StepKind::Ratification => {
                        self.out.push(Output::IterationFailed {
                            round,
                            iteration,
                            vote: None,
                        });
                        self.enter_iteration(iteration + 1);
                    }
                }
            }
        }
    }

    pub(super) fn start_round(&mut self) {
        self.executed.clear();
        let round = self.tip_height() + 1;
        let ctx = Self::context_of(&self.chain, &self.params, round);
        Rule::Restart2.applies();
        // RESTART-2: a node that already signed in this round (it restarted from its log)
        // resumes at the highest iteration it signed a vote or candidate in, not at 0: its
        // peers are there, and the iterations before it ended for it when it left them.
        let resume = self
            .my_votes
            .keys()
            .filter(|h| h.round == round && h.prev_hash == ctx.prev_hash)
            .map(|h| h.iteration)
            .chain(
                self.my_candidates
                    .keys()
                    .filter(|(r, _, p)| *r == round && *p == ctx.prev_hash)
                    .map(|(_, i, _)| *i),
            )
            .max()
            .unwrap_or(0);
        self.round = Round {
            ctx,
            iteration: 0,
            step: Step::Proposal,
            step_started: self.now,
            extra: [0; 3],
            iterations: BTreeMap::new(),
        };
        self.enter_iteration(resume);
        // Replay what arrived early for this round.
        self.future.retain(|r, _| *r >= round);
        if let Some(msgs) = self.future.remove(&round) {
            self.future_count -= msgs.len();
            for (peer, _, m) in msgs {
                if self.round.ctx.round != round {
                    break;
                }
                self.on_message(peer, m);
            }
        }
    }

    pub(super) fn enter_iteration(&mut self, i: u8) {
        if i >= self.params.max_iterations {
            Rule::Iter3.applies();
            // ITER-3: open consensus, no more timers or iterations.
            self.round.iteration = self.params.max_iterations;
            self.round.step = Step::Open;
            return;
        }
        self.round.iteration = i;
        self.round.step = Step::Proposal;
        self.round.step_started = self.now;
        let me = self.me.public;
        let it = self.iteration(i);
        let att = it.attestation;
        let is_gen = it.draw.generator == Some(me);
        let ready = it.candidate.is_some() && it.valid.is_some();
        if let Some(Attestation {
            result: Outcome::Fail(_),
            ..
        }) = att
        {
            return self.enter_iteration(i + 1);
        }
        // The Proposal timeout runs from the earliest time the generator may propose.
        let earliest = self.round.ctx.prev_timestamp + self.params.min_block_time_ms;
        let wait = earliest.saturating_sub(self.now);
        self.round.step_started = self.now + wait;
        let t = Timer::Step {
            round: self.round.ctx.round,
            iteration: i,
            step: StepKind::Proposal,
        };
        let after = self.timeout(StepKind::Proposal) + wait;
        self.set_timer(t, after);
        if is_gen {
            if self.now >= earliest {
                self.propose(i);
            } else {
                let round = self.round.ctx.round;
                self.set_timer(
                    Timer::Propose {
                        round,
                        iteration: i,
                    },
                    earliest - self.now,
                );
            }
        }
        if ready && self.round.step == Step::Proposal && self.round.iteration == i {
            self.enter_validation();
        }
    }

    /// STEP-PROP-1: build, record, sign and broadcast one candidate (or re-send the recorded one).
    #[allow(
        clippy::too_many_lines,
        reason = "STEP-PROP-1 in order: build, record, sign, broadcast, or re-send the recorded candidate (RESTART-2)"
    )]
    pub(super) fn propose(&mut self, i: u8) {
        Rule::StepProp1.applies();
        let ctx = self.round.ctx.clone();
        let key = (ctx.round, i, ctx.prev_hash);
        if let Some(c) = self.my_candidates.get(&key).cloned() {
            self.out
                .push(Output::Broadcast(Message::Candidate(c.clone())));
            return self.on_candidate(u64::MAX, c);
        }
        let relaxed = i.min(self.params.relaxed_iterations);
        let failed: Vec<Option<FailedIteration>> = (0..relaxed)
            .map(|j| {
                let it = self.round.iterations.get(&j)?;
                match (it.attestation, it.draw.generator) {
                    (
                        Some(
                            a @ Attestation {
                                result: Outcome::Fail(_),
                                ..
                            },
                        ),
                        Some(g),
                    ) if self.fail_counts(&ctx, j, &a) => Some(FailedIteration {
                        generator: g,
                        attestation: a,
                    }),
                    _ => None,
                }
            })
            .collect();
        let ledger = self.ledger();
        let faults: Vec<FaultProof> = self
            .faults
            .iter()
            .filter(|f| {
                let (who, round, iteration) = f.subject();
                round <= ctx.round
                    && ctx.round - round <= self.params.epoch
                    && !self.emergency(iteration)
                    && !ledger.punished.contains(&(who, round, iteration))
            })
            .take(MAX_FAULTS_PER_BLOCK)
            .cloned()
            .collect();
        let mut payload = vec![crate::exec::Tx::Coinbase {
            round: ctx.round,
            generator: self.me.public,
        }
        .encode()];
        // The pool's transactions are taken on the tip's state after the generator's own.
        let mut tip = AppState::clone(self.tip_app());
        if self.behaviour.stake_each_block > 0 {
            let account = crate::exec::address_of(&self.me.public);
            let nonce = tip.nonce(&account);
            let tx = crate::exec::stake_tx_signed(
                &self.me,
                crate::exec::StakeOp::Stake {
                    amount: self.behaviour.stake_each_block,
                },
                nonce,
            );
            let debit = tx.signed().and_then(|t| t.max_debit()).unwrap_or(u64::MAX);
            tip.nonces.insert(account, nonce + 1);
            tip.balances
                .insert(account, tip.balance(&account).saturating_sub(debit));
            payload.push(tx.encode());
        }
        let used: usize = payload.iter().map(Vec::len).sum();
        payload.extend(self.pool.take(
            &tip,
            MAX_BLOCK_TXS + 1 - payload.len(),
            MAX_PAYLOAD_BYTES.saturating_sub(used),
            crate::exec::BLOCK_GAS_LIMIT,
        ));
        let header = Header {
            height: ctx.round,
            prev_hash: ctx.prev_hash,
            iteration: i,
            timestamp: self.now.max(ctx.prev_timestamp + 1),
            generator: self.me.public,
            seed: self.me.sign(&seed_digest(&ctx.seed)),
            payload_root: merkle_root(&payload),
            state_root: [0; 32],
            faults_root: faults_root(&faults),
            failed_iterations: failed,
            // REW-2: the parent's attestation, fixed here for every node (none on genesis).
            prev_attestation: (ctx.round >= 2)
                .then(|| self.chain.last().map(|e| e.block.attestation))
                .flatten(),
        };
        let mut c = Candidate {
            header,
            payload,
            faults,
            signature: crate::keys::Signature::EMPTY,
        };
        // EXEC-ROOT-1: the state after executing the block on the tip. A generator whose
        // execution disagrees with the network's (`Behaviour::invalid_candidates`: a
        // misconfigured node) commits to a different root, and validators vote Invalid.
        match self.execute(&c, false) {
            Ok(post) => c.header.state_root = post.root,
            Err(_) => {
                // Our own transactions do not make a valid block: propose the coinbase alone.
                c.payload.truncate(1);
                c.header.payload_root = merkle_root(&c.payload);
                c.header.state_root = self.execute(&c, false).map(|p| p.root).unwrap_or_default();
            }
        }
        if self.behaviour.invalid_candidates {
            c.header.state_root[0] ^= 0xff;
        }
        c.signature = self.me.sign(&c.header.hash());
        self.my_candidates.insert(key, c.clone());
        self.out
            .push(Output::Persist(Record::Proposed(Box::new(c.clone()))));
        self.out
            .push(Output::Broadcast(Message::Candidate(c.clone())));
        self.on_candidate(u64::MAX, c);
    }

    pub(super) fn enter_validation(&mut self) {
        self.round.step = Step::Validation;
        self.round.step_started = self.now;
        let i = self.round.iteration;
        self.step_timer(StepKind::Validation);
        self.cast_validation(i);
        self.progress(i);
    }

    /// STEP-VAL-1: this node's Validation vote, if it is a member.
    pub(super) fn cast_validation(&mut self, i: u8) {
        Rule::StepVal1.applies();
        Rule::Emerg1.applies();
        let me = self.me.public;
        let emergency = self.emergency(i);
        let it = self.iteration(i);
        if !it.draw.validation.contains_key(&me) {
            return;
        }
        let vote = match (&it.candidate, it.valid) {
            (Some(c), Some(true)) => Vote::Valid(c.header.hash()),
            (Some(c), Some(false)) if !emergency => Vote::Invalid(c.header.hash()),
            (None, _) if !emergency => Vote::NoCandidate,
            _ => return, // EMERG-1: no NoCandidate, no Invalid broadcast
        };
        self.cast(i, VoteStep::Validation, vote, StepVotes::EMPTY);
    }

    /// Signs, records and broadcasts a vote, then counts it at once (TALLY-4). A step already voted in is
    /// answered with the recorded vote: never a second, different one (SAFE-VOTE-UNIQUE).
    pub(super) fn cast(&mut self, i: u8, step: VoteStep, vote: Vote, validation: StepVotes) {
        Rule::Tally4.applies();
        let header = VoteHeader {
            prev_hash: self.round.ctx.prev_hash,
            round: self.round.ctx.round,
            iteration: i,
            step,
        };
        let (signed, fresh) = match self.my_votes.get(&header) {
            Some(v) => (*v, false),
            None => {
                let signature = self.me.sign(&vote_digest(&header, &vote));
                let v = SignedVote {
                    header,
                    vote,
                    signer: self.me.public,
                    signature,
                };
                (v, true)
            }
        };
        let attached = match step {
            VoteStep::Ratification if signed.vote == vote => validation,
            VoteStep::Ratification => {
                // The recorded vote differs from today's result: re-send it with its evidence.
                let it = self.iteration(i);
                match signed.vote {
                    Vote::NoQuorum => StepVotes::EMPTY,
                    v => match it.val_quorums.get(&v) {
                        Some(sv) => *sv,
                        None => return,
                    },
                }
            }
            VoteStep::Validation => StepVotes::EMPTY,
        };
        if fresh {
            self.my_votes.insert(header, signed);
            self.out.push(Output::Persist(Record::Voted(signed)));
        }
        let msg = match step {
            VoteStep::Validation => Message::Validation(signed),
            VoteStep::Ratification => Message::Ratification {
                vote: signed,
                validation: attached,
            },
        };
        self.out.push(Output::Broadcast(msg.clone()));
        if fresh && self.behaviour.double_vote && step == VoteStep::Validation {
            // Deliberately broken behaviour (fault injection): a second, different vote.
            let other = match signed.vote {
                Vote::NoCandidate => Vote::Valid([0xAA; 32]),
                _ => Vote::NoCandidate,
            };
            let second = SignedVote {
                vote: other,
                signature: self.me.sign(&vote_digest(&header, &other)),
                ..signed
            };
            self.out
                .push(Output::Broadcast(Message::Validation(second)));
        }
        self.on_message(u64::MAX, msg);
    }

    pub(super) fn enter_ratification(&mut self, result: Vote, validation: StepVotes) {
        Rule::StepRat1.applies();
        self.round.step = Step::Ratification;
        self.round.step_started = self.now;
        let i = self.round.iteration;
        self.step_timer(StepKind::Ratification);
        let me = self.me.public;
        let emergency = self.emergency(i);
        let member = self.iteration(i).draw.ratification.contains_key(&me);
        // EMERG-1: in emergency iterations, Ratification only on a Valid quorum.
        if member && (!emergency || matches!(result, Vote::Valid(_))) {
            self.cast(i, VoteStep::Ratification, result, validation);
        }
        self.progress(i);
    }

    /// Aggregates the signatures of a quorum into StepVotes.
    pub(super) fn step_votes(
        committee: &Committee<PublicKey>,
        votes: &BTreeMap<PublicKey, SignedVote>,
        signers: &[PublicKey],
    ) -> Option<StepVotes> {
        let mut bitset = 0u64;
        let mut sigs = Vec::new();
        for (pos, key) in committee.keys().enumerate() {
            if signers.contains(key) {
                bitset |= 1u64 << pos;
                sigs.push(votes.get(key)?.signature);
            }
        }
        let aggregate = aggregate(&sigs).ok()?;
        Some(StepVotes { bitset, aggregate })
    }
}
