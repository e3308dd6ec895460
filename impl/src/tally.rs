//! The vote keeper of one step of one iteration (spec/protocol.md VOTE-1, QUORUM-1, QUORUM-2,
//! TALLY-1, TALLY-2, TALLY-3): counts each member's vote once per credit, detects conflicting votes, and says
//! when a value reaches its threshold.

use std::collections::{BTreeMap, BTreeSet};

use thiserror::Error;

use crate::hash::Hash;
use crate::rules::Rule;
use serde::{Deserialize, Serialize};

use crate::encoding::{DecodeError, Reader, Wire};
use crate::sortition::{Committee, Key};

/// A vote value (VOTE-1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Vote {
    /// No candidate before the Proposal timeout.
    NoCandidate,
    /// The candidate with this hash is valid.
    Valid(Hash),
    /// The candidate with this hash is invalid.
    Invalid(Hash),
    /// The previous step reached no quorum (Ratification only).
    NoQuorum,
}

/// The two voting steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VoteStep {
    /// Validation.
    Validation,
    /// Ratification.
    Ratification,
}

/// Thresholds from the nominal committee credits C (QUORUM-1, QUORUM-2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Thresholds {
    /// SM = C − ⌊C/3⌋, for Valid.
    pub supermajority: u32,
    /// M = ⌊C/2⌋ + 1, for every other vote.
    pub majority: u32,
}

impl Thresholds {
    /// The spec's formulas for a committee of `c` credits.
    pub fn for_credits(c: u32) -> Thresholds {
        Rule::Quorum1.applies();
        Rule::Quorum2.applies();
        Thresholds {
            supermajority: c - c / 3,
            majority: c / 2 + 1,
        }
    }

    /// The threshold of `vote`.
    pub fn of(&self, vote: &Vote) -> u32 {
        match vote {
            Vote::Valid(_) => self.supermajority,
            _ => self.majority,
        }
    }
}

/// Why a vote was not accepted; the keeper is unchanged.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum Rejected {
    /// TALLY-2: the signer has no credit in this step's committee.
    #[error("signer is not a member of this step's committee")]
    NotMember,
    /// STEP-VAL-2: NoQuorum votes are not accepted in Validation.
    #[error("NoQuorum is not a Validation vote")]
    NoQuorumInValidation,
}

/// What accepting a vote did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Accepted<K> {
    /// Counted with the signer's credits; the value's tally is now `tally`.
    Counted {
        /// Credits now behind the value.
        tally: u32,
    },
    /// The same vote again: nothing changes.
    Duplicate,
    /// TALLY-3: a second, different vote from the same signer. Neither counts from now on;
    /// the two votes are the evidence of a fault proof (SLASH-4).
    Conflict {
        /// The signer.
        signer: K,
        /// Its first vote.
        first: Vote,
        /// Its second vote.
        second: Vote,
    },
}

/// A quorum reached: the value, its credits and its signers (the StepVotes bitset).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quorum<K> {
    /// The value.
    pub vote: Vote,
    /// Credits behind it.
    pub credits: u32,
    /// Its signers.
    pub signers: BTreeSet<K>,
}

/// The votes of one (prev_hash, round, iteration, step).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteKeeper<K: Key> {
    step: VoteStep,
    committee: Committee<K>,
    thresholds: Thresholds,
    votes: BTreeMap<K, Vote>,
    conflicted: BTreeSet<K>,
}

impl<K: Key> VoteKeeper<K> {
    /// A keeper for `committee` with thresholds from the nominal `credits` C.
    pub fn new(step: VoteStep, committee: Committee<K>, credits: u32) -> VoteKeeper<K> {
        VoteKeeper {
            step,
            committee,
            thresholds: Thresholds::for_credits(credits),
            votes: BTreeMap::new(),
            conflicted: BTreeSet::new(),
        }
    }

    /// Adds a vote (its signature already verified by the caller).
    pub fn add(&mut self, signer: &K, vote: Vote) -> Result<Accepted<K>, Rejected> {
        Rule::Vote1.applies();
        Rule::Tally1.applies();
        Rule::Tally3.applies();
        if self.committee.get(signer).copied().unwrap_or(0) == 0 {
            return Err(Rejected::NotMember);
        }
        if self.step == VoteStep::Validation && vote == Vote::NoQuorum {
            return Err(Rejected::NoQuorumInValidation);
        }
        if self.conflicted.contains(signer) {
            return Ok(Accepted::Duplicate);
        }
        match self.votes.get(signer).copied() {
            Some(first) if first == vote => Ok(Accepted::Duplicate),
            Some(first) => {
                self.votes.remove(signer);
                self.conflicted.insert(signer.clone());
                Ok(Accepted::Conflict {
                    signer: signer.clone(),
                    first,
                    second: vote,
                })
            }
            None => {
                self.votes.insert(signer.clone(), vote);
                Ok(Accepted::Counted {
                    tally: self.tally(&vote),
                })
            }
        }
    }

    /// Credits behind `vote` (conflicting signers excluded).
    pub fn tally(&self, vote: &Vote) -> u32 {
        self.votes
            .iter()
            .filter(|(_, v)| *v == vote)
            .map(|(k, _)| self.committee.get(k).copied().unwrap_or(0))
            .sum()
    }

    /// The first value (in value order) whose tally reaches its threshold.
    pub fn quorum(&self) -> Option<Quorum<K>> {
        let values: BTreeSet<Vote> = self.votes.values().copied().collect();
        values.into_iter().find_map(|vote| {
            let credits = self.tally(&vote);
            (credits >= self.thresholds.of(&vote)).then(|| Quorum {
                vote,
                credits,
                signers: self
                    .votes
                    .iter()
                    .filter(|(_, v)| **v == vote)
                    .map(|(k, _)| k.clone())
                    .collect(),
            })
        })
    }

    /// Signers caught with two different votes.
    pub fn conflicted(&self) -> &BTreeSet<K> {
        &self.conflicted
    }
}

impl<K: Key> VoteKeeper<K> {
    /// The committee this keeper counts for.
    pub fn committee(&self) -> &Committee<K> {
        &self.committee
    }

    /// The vote counted for `signer`, if any.
    pub fn vote_of(&self, signer: &K) -> Option<Vote> {
        self.votes.get(signer).copied()
    }

    /// The thresholds in use.
    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }
}

impl Wire for Vote {
    fn put(&self, out: &mut Vec<u8>) {
        match self {
            Vote::NoCandidate => out.push(0),
            Vote::Valid(h) => {
                out.push(1);
                h.put(out);
            }
            Vote::Invalid(h) => {
                out.push(2);
                h.put(out);
            }
            Vote::NoQuorum => out.push(3),
        }
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            0 => Ok(Vote::NoCandidate),
            1 => Ok(Vote::Valid(Hash::get(r, what)?)),
            2 => Ok(Vote::Invalid(Hash::get(r, what)?)),
            3 => Ok(Vote::NoQuorum),
            t => Err(r.bad_value(1, what, format!("unknown vote tag {t}"))),
        }
    }
}

impl Wire for VoteStep {
    fn put(&self, out: &mut Vec<u8>) {
        out.push(match self {
            VoteStep::Validation => 1,
            VoteStep::Ratification => 2,
        });
    }
    fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
        match r.tag(what)? {
            1 => Ok(VoteStep::Validation),
            2 => Ok(VoteStep::Ratification),
            t => Err(r.bad_value(1, what, format!("unknown voting step {t}"))),
        }
    }
}
