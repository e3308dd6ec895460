//! The fault campaign: millions of random, mutated and crafted messages through the core, each
//! counted by what the core did with it (rejected, and for which [`Reason`]; or taken).
//!
//! The target is a node in the middle of a round, taken from a deterministic in-memory network
//! ([`crate::sim`]). Every message is fed to a fresh copy of that node; whenever the core
//! answers `Rejected`, the copy must equal the original (a rejection changes nothing), and a
//! panic is caught and counted. Three sources:
//!
//! - **random** frames (random length and bytes);
//! - **mutated** messages: a real message of the run (votes, candidates, blocks, GetBlocks of
//!   earlier, current and later rounds) or a crafted one, with bytes flipped, cut or spliced;
//! - **crafted** messages: for each reason of spec/node.md, a message that is well formed and
//!   correctly signed by the key it claims (every provisioner's testnet key is known here)
//!   except for the one thing that check looks at, with fresh random content each time; and the
//!   sequences that fill a buffer (a peer's share of the future-round buffer, the whole buffer,
//!   pending blocks) and end with the message it refuses.
//!
//! Every message is a pure function of (seed, index), so the counts do not depend on the number
//! of threads.

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

use serde::Serialize;

use crate::sim::{params, Sim};
use sa_node::hash::Hash;
use sa_node::keys::{Keypair, PublicKey};
use sa_node::message::{
    faults_root, merkle_root, seed_digest, vote_digest, Attestation, Block, Candidate,
    FailedIteration, FaultProof, Header, Message, Outcome, SignedVote, StepVotes, VoteHeader,
};
use sa_node::node::{Input, Node, Output, Reason, Timer};
use sa_node::tally::{Vote, VoteStep};

const DUSK: u64 = 1_000_000_000;
/// Provisioners in the campaign's network.
const N: u32 = 5;

/// A small deterministic generator (SplitMix64): the campaign needs reproducible draws, not
/// cryptographic ones.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator for one (seed, stream) pair.
    pub fn new(seed: u64, stream: u64) -> Rng {
        let mut r = Rng(seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        r.next_u64();
        r
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// `n` random bytes.
    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next_u64() as u8).collect()
    }
    fn hash(&mut self) -> Hash {
        let mut h = [0u8; 32];
        h.iter_mut().for_each(|b| *b = self.next_u64() as u8);
        h
    }
}

/// The node under test and what the campaign builds messages from.
pub struct Fixture {
    /// Node 0 in the middle of a round.
    pub node: Node,
    /// Its clock.
    pub now: u64,
    /// Every message the network carried, before and after the node's position, as frames.
    pub corpus: Vec<Vec<u8>>,
    /// Blocks of the run by height (the chain the network went on to build).
    pub blocks: Vec<Block>,
    keys: Vec<Keypair>,
    outsider: Keypair,
}

impl Fixture {
    /// Five provisioners, C = 15; node 0 stopped 25 inputs into round 3, then the network run
    /// on to height 7 to collect later messages and blocks.
    pub fn new() -> Fixture {
        let mut s = Sim::new(N, params(15), 4 * DUSK, &[]);
        s.start();
        assert!(
            s.run_until(60_000, |s| s.min_tip() >= 2),
            "the network runs"
        );
        for _ in 0..25 {
            s.step();
        }
        let mut node = s.node(0).clone();
        let now = s.now;
        // A stale timer (round 0 is never current) sets the clock: comparisons are about the
        // message alone.
        node.handle(
            now,
            Input::Timer(Timer::Propose {
                round: 0,
                iteration: 0,
            }),
        );
        assert!(
            s.run_until(120_000, |s| s.min_tip() >= 9),
            "the network runs on"
        );
        let mut corpus = vec![];
        for h in &s.history {
            for o in h {
                match o {
                    Output::Broadcast(m) | Output::Send { message: m, .. } => {
                        corpus.push(m.to_bytes())
                    }
                    _ => {}
                }
            }
        }
        corpus.sort();
        corpus.dedup();
        let last = s.node(1);
        let blocks: Vec<Block> = (0..=last.tip_height())
            .map(|h| last.block(h).expect("held").clone())
            .collect();
        for b in &blocks[1..] {
            corpus.push(Message::Block(Box::new(b.clone())).to_bytes());
        }
        Fixture {
            node,
            now,
            corpus,
            blocks,
            keys: (0..N).map(Keypair::testnet).collect(),
            outsider: Keypair::testnet(99),
        }
    }

    fn key(&self, pk: &PublicKey) -> &Keypair {
        self.keys
            .iter()
            .find(|k| k.public == *pk)
            .expect("a provisioner's key")
    }
    fn round(&self) -> u64 {
        self.node.position().0
    }
    fn tip(&self) -> &Block {
        self.node.block(self.node.tip_height()).expect("tip")
    }
    fn header(&self, iteration: u8, step: VoteStep) -> VoteHeader {
        VoteHeader {
            prev_hash: self.node.tip_hash(),
            round: self.round(),
            iteration,
            step,
        }
    }
    fn vote(&self, key: &Keypair, header: VoteHeader, vote: Vote) -> SignedVote {
        SignedVote {
            header,
            vote,
            signer: key.public,
            signature: key.sign(&vote_digest(&header, &vote)),
        }
    }
    /// A member of the step's committee of iteration `i`.
    fn member(&self, i: u8, step: VoteStep, r: &mut Rng) -> &Keypair {
        let (_, val, rat) = self.node.committees(i);
        let c = if step == VoteStep::Validation {
            val
        } else {
            rat
        };
        let members: Vec<&PublicKey> = c.keys().collect();
        self.key(members[r.below(members.len() as u64) as usize])
    }
    /// A valid candidate of the current round's iteration `i`, signed by gen(i), with random
    /// payload; `edit` changes the header before it is signed.
    fn candidate(&self, i: u8, r: &mut Rng, edit: impl FnOnce(&mut Header)) -> Candidate {
        let g = self.node.committees(i).0.expect("a generator");
        let key = self.key(&g);
        let tip = self.tip();
        // A coinbase and a call of random bytes to no contract: a valid block whose one
        // transaction fails (EXEC-TX-2).
        let payload = vec![
            sa_node::exec::Tx::Coinbase {
                round: self.round(),
                generator: g,
            }
            .encode(),
            sa_node::exec::call(
                key,
                self.node.app_state().nonce(&sa_node::exec::address_of(&g)),
                [7; 32],
                {
                    let n = 8 + r.below(64) as usize;
                    r.bytes(n)
                },
                1_000,
            )
            .encode(),
        ];
        let mut header = Header {
            height: self.round(),
            prev_hash: tip.hash(),
            iteration: i,
            timestamp: tip.header().timestamp + 1 + r.below(500),
            generator: g,
            seed: key.sign(&seed_digest(&tip.header().seed)),
            payload_root: merkle_root(&payload),
            faults_root: faults_root(&[]),
            state_root: [0; 32],
            failed_iterations: vec![None; i.min(self.node.params().relaxed_iterations) as usize],
            prev_attestation: (self.round() >= 2).then_some(tip.attestation),
        };
        let draft = Candidate {
            header: header.clone(),
            payload: payload.clone(),
            faults: vec![],
            signature: sa_node::keys::Signature::EMPTY,
        };
        header.state_root = self.node.expected_state_root(&draft).unwrap_or_default();
        edit(&mut header);
        let signature = key.sign(&header.hash());
        Candidate {
            header,
            payload,
            faults: vec![],
            signature,
        }
    }
    /// A candidate carrying `faults`, the root and signature made to match.
    fn candidate_with_faults(&self, faults: Vec<FaultProof>, r: &mut Rng) -> Candidate {
        let root = faults_root(&faults);
        let mut c = self.candidate(0, r, |h| h.faults_root = root);
        c.faults = faults;
        c
    }
    /// A valid double-vote proof of provisioner `k` for (round, iteration).
    fn double_vote(&self, round: u64, iteration: u8, r: &mut Rng) -> FaultProof {
        let key = &self.keys[r.below(N as u64) as usize];
        let header = VoteHeader {
            prev_hash: self.node.tip_hash(),
            round,
            iteration,
            step: VoteStep::Validation,
        };
        FaultProof::DoubleVote {
            first: self.vote(key, header, Vote::Valid(r.hash())),
            second: self.vote(key, header, Vote::Invalid(r.hash())),
        }
    }
    /// A block of the run at `height`, re-signed by its generator after `edit`.
    fn block_edited(&self, height: u64, edit: impl FnOnce(&mut Candidate)) -> Block {
        let mut b = self.blocks[height as usize].clone();
        edit(&mut b.candidate);
        let key = self.key(&b.header().generator);
        b.candidate.signature = key.sign(&b.candidate.header.hash());
        b
    }
}

impl Default for Fixture {
    fn default() -> Fixture {
        Fixture::new()
    }
}

fn frame(m: Message) -> Vec<u8> {
    m.to_bytes()
}

fn ratification(vote: SignedVote, validation: StepVotes) -> Vec<u8> {
    frame(Message::Ratification { vote, validation })
}

/// Messages (from one peer each) that end with one the core must refuse for `reason`; `None`
/// for the defensive reasons no network input reaches.
#[allow(
    clippy::too_many_lines,
    reason = "one arm per rejection reason: the crafted message of each in one place; issue 32 moves the campaign out of sa-node"
)]
pub fn craft(f: &Fixture, reason: Reason, r: &mut Rng) -> Option<Vec<(u64, Vec<u8>)>> {
    let round = f.round();
    let i0 = f.node.position().1;
    let p = f.node.params().clone();
    let peer = 1 + r.below(4);
    let one = |bytes: Vec<u8>| Some(vec![(peer, bytes)]);
    let val_member = f.member(i0, VoteStep::Validation, r);
    let rat_member = f.member(i0, VoteStep::Ratification, r);
    let later_vote = |round: u64, r: &mut Rng| {
        let h = VoteHeader {
            round,
            ..f.header(0, VoteStep::Validation)
        };
        frame(Message::Validation(f.vote(
            &f.keys[r.below(N as u64) as usize],
            h,
            Vote::Valid(r.hash()),
        )))
    };
    match reason {
        Reason::Decode => {
            let mut b = f.corpus[r.below(f.corpus.len() as u64) as usize].clone();
            b.push(r.next_u64() as u8); // trailing bytes
            one(b)
        }
        Reason::TooFarAhead => one(later_vote(round + 3 + r.below(100), r)),
        Reason::FutureBufferPeer => {
            let m = later_vote(round + 1, r);
            Some(vec![(peer, m); 1025])
        }
        Reason::FutureBufferFull => {
            let m = later_vote(round + 1, r);
            let mut seq = vec![];
            for q in 1..=4 {
                seq.extend(std::iter::repeat_n((q, m.clone()), 1024));
            }
            // A fifth peer takes room from the four until it holds as much as they do.
            seq.extend(std::iter::repeat_n((5, m), 1024));
            Some(seq)
        }
        Reason::VoteStep => {
            let h = f.header(i0, VoteStep::Ratification);
            one(frame(Message::Validation(f.vote(
                val_member,
                h,
                Vote::Valid(r.hash()),
            ))))
        }
        Reason::VoteParent => {
            let h = VoteHeader {
                prev_hash: r.hash(),
                ..f.header(i0, VoteStep::Validation)
            };
            one(frame(Message::Validation(f.vote(
                val_member,
                h,
                Vote::Valid(r.hash()),
            ))))
        }
        Reason::VoteIteration => {
            let it = p.max_iterations + r.below((256 - p.max_iterations as u64).max(1)) as u8;
            let h = f.header(it, VoteStep::Validation);
            one(frame(Message::Validation(f.vote(
                val_member,
                h,
                Vote::Valid(r.hash()),
            ))))
        }
        Reason::VoteNotMember => {
            let h = f.header(i0, VoteStep::Validation);
            one(frame(Message::Validation(f.vote(
                &f.outsider,
                h,
                Vote::Valid(r.hash()),
            ))))
        }
        Reason::VoteNoQuorumValidation => {
            let h = f.header(i0, VoteStep::Validation);
            one(frame(Message::Validation(f.vote(
                val_member,
                h,
                Vote::NoQuorum,
            ))))
        }
        Reason::VoteSignature => {
            let h = f.header(i0, VoteStep::Validation);
            let mut v = f.vote(val_member, h, Vote::Valid(r.hash()));
            v.signature = f.outsider.sign(&r.bytes(32));
            one(frame(Message::Validation(v)))
        }
        Reason::VoteAttachedQuorum => {
            let h = f.header(i0, VoteStep::Ratification);
            let v = f.vote(rat_member, h, Vote::Valid(r.hash()));
            let sv = StepVotes {
                bitset: 1 + r.below(3),
                aggregate: f.outsider.sign(&r.bytes(32)),
            };
            one(ratification(v, sv))
        }
        Reason::CandidateHeight => None,
        Reason::CandidateParent => {
            let c = f.candidate(i0, r, |h| h.prev_hash = [7; 32]);
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateIteration => {
            let it = p.max_iterations + r.below((256 - p.max_iterations as u64).max(1)) as u8;
            let c = f.candidate(0, r, |h| h.iteration = it);
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateGenerator => {
            let mut c = f.candidate(0, r, |_| {});
            let g = c.header.generator;
            let other = f.keys.iter().find(|k| k.public != g).expect("N > 1");
            c.header.generator = other.public;
            c.header.seed = other.sign(&seed_digest(&f.tip().header().seed));
            c.signature = other.sign(&c.header.hash());
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateTimestampPast => {
            let t = f.tip().header().timestamp - r.below(2);
            let c = f.candidate(0, r, |h| h.timestamp = t);
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateTimestampFuture => {
            let t = f.now + p.max_future_ms + 1 + r.below(1 << 30);
            let c = f.candidate(0, r, |h| h.timestamp = t);
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateSignature => {
            let mut c = f.candidate(0, r, |_| {});
            c.signature = f.outsider.sign(&c.header.hash());
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateSeed => {
            let junk = r.bytes(32);
            let g = f.node.committees(0).0.expect("a generator");
            let seed = f.key(&g).sign(&junk);
            let c = f.candidate(0, r, |h| h.seed = seed);
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidatePayloadRoot => {
            let mut c = f.candidate(0, r, |_| {});
            c.payload.push({
                let n = 1 + r.below(32) as usize;
                r.bytes(n)
            });
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateFaultsRoot => {
            let mut c = f.candidate(0, r, |_| {});
            c.faults.push(f.double_vote(round, 0, r));
            one(frame(Message::Candidate(c)))
        }
        Reason::CandidateTooManyFaults => {
            let proof = f.double_vote(round, 0, r);
            let c = f.candidate_with_faults(vec![proof; 101], r);
            one(frame(Message::Candidate(c)))
        }
        Reason::FaultInvalid => {
            let FaultProof::DoubleVote { first, mut second } = f.double_vote(round, 0, r) else {
                unreachable!("a double vote")
            };
            match r.below(3) {
                0 => second = first, // the same vote twice
                1 => second.signature = f.outsider.sign(&r.bytes(32)),
                _ => second.header.round += 1, // not one step
            }
            let c = f.candidate_with_faults(vec![FaultProof::DoubleVote { first, second }], r);
            one(frame(Message::Candidate(c)))
        }
        Reason::FaultTooOld => {
            let at = if r.below(2) == 0 || round <= p.epoch + 1 {
                round + 1 + r.below(5)
            } else {
                round - p.epoch - 1
            };
            let c = f.candidate_with_faults(vec![f.double_vote(at, 0, r)], r);
            one(frame(Message::Candidate(c)))
        }
        Reason::FaultEmergency => {
            let it =
                p.emergency_iteration + r.below((256 - p.emergency_iteration as u64).max(1)) as u8;
            let c = f.candidate_with_faults(vec![f.double_vote(round, it, r)], r);
            one(frame(Message::Candidate(c)))
        }
        Reason::FailedIterationsLength => {
            let extra = 1 + r.below(3) as usize;
            let c = f.candidate(0, r, |h| h.failed_iterations = vec![None; extra]);
            one(frame(Message::Candidate(c)))
        }
        Reason::FailedIteration => {
            let tip = f.tip();
            let g = f.node.committees(0).0.expect("a generator");
            let att = match r.below(2) {
                // a Success where a Fail must be
                0 => tip.attestation,
                // a Fail whose StepVotes are not a quorum
                _ => Attestation {
                    result: Outcome::Fail(Vote::NoQuorum),
                    validation: StepVotes::EMPTY,
                    ratification: StepVotes {
                        bitset: 1,
                        aggregate: f.outsider.sign(&r.bytes(32)),
                    },
                },
            };
            let entry = FailedIteration {
                generator: g,
                attestation: att,
            };
            let c = f.candidate(1, r, |h| h.failed_iterations = vec![Some(entry)]);
            one(frame(Message::Candidate(c)))
        }
        Reason::PrevAttestation => {
            let other = f.node.block(f.node.tip_height() - 1).expect("held");
            let att = if r.below(2) == 0 {
                None
            } else {
                Some(other.attestation) // a Success for the grandparent
            };
            let c = f.candidate(0, r, |h| h.prev_attestation = att);
            one(frame(Message::Candidate(c)))
        }
        Reason::BlockGenesis => {
            let mut b = f.blocks[1].clone();
            b.candidate.header.height = 0;
            one(frame(Message::Block(Box::new(b))))
        }
        Reason::BlockAttestation => {
            let mut b = f.blocks[round as usize].clone();
            match r.below(2) {
                0 => b.attestation.ratification.bitset ^= 1 << r.below(4),
                _ => b.attestation.result = Outcome::Success(r.hash()),
            }
            one(frame(Message::Block(Box::new(b))))
        }
        Reason::BlockTooFarAhead => {
            let mut b = f.blocks[round as usize + 1].clone();
            b.candidate.header.height = f.node.tip_height() + 257 + r.below(1000);
            one(frame(Message::Block(Box::new(b))))
        }
        Reason::BlockBelowFinal => {
            let h = 1 + r.below(f.node.last_final().max(1));
            let b = f.block_edited(h, |c| c.header.timestamp += 1 + r.below(100));
            one(frame(Message::Block(Box::new(b))))
        }
        Reason::BlockHigherIteration => {
            let h = f.node.tip_height();
            let b = f.block_edited(h, |c| c.header.iteration += 1 + r.below(3) as u8);
            one(frame(Message::Block(Box::new(b))))
        }
        Reason::PendingSignature => {
            let mut b = f.blocks[round as usize + 1].clone();
            b.candidate.signature = f.outsider.sign(&r.bytes(32));
            one(frame(Message::Block(Box::new(b))))
        }
        Reason::PendingPerHeight => {
            let h = round + 1 + r.below(3);
            let seq = (0..5)
                .map(|k| {
                    let b = f.block_edited(h, |c| c.header.timestamp += 1 + k);
                    (peer, frame(Message::Block(Box::new(b))))
                })
                .collect();
            Some(seq)
        }
        Reason::PendingFull => {
            let seq = (0..5)
                .map(|k| {
                    let h = round + 1 + k;
                    let b = f.block_edited(h, |c| c.payload = vec![vec![k as u8; 60_000]; 62]);
                    (peer, frame(Message::Block(Box::new(b))))
                })
                .collect();
            Some(seq)
        }
        Reason::Transaction => {
            // Random bytes, a coinbase, a call over the gas limit, a call its sender did not
            // sign (a funded account named, at its next nonce), a call from an empty account.
            let g = f.node.committees(0).0.expect("a generator");
            let nonce = f.node.app_state().nonce(&sa_node::exec::address_of(&g));
            let tx = match r.below(5) {
                0 => {
                    let n = 1 + r.below(200) as usize;
                    r.bytes(n)
                }
                1 => sa_node::exec::Tx::Coinbase {
                    round,
                    generator: g,
                }
                .encode(),
                2 => sa_node::exec::call(
                    f.key(&g),
                    nonce,
                    r.hash(),
                    vec![],
                    sa_node::exec::MAX_TX_GAS + 1 + r.below(1000),
                )
                .encode(),
                3 => {
                    let mut t = sa_node::exec::call(f.key(&g), nonce, r.hash(), vec![], 1_000);
                    if let sa_node::exec::Tx::Signed(s) = &mut t {
                        s.signature = Keypair::testnet(9_999).sign(&s.digest());
                    }
                    t.encode()
                }
                _ => sa_node::exec::call(&Keypair::testnet(9_999), 0, r.hash(), vec![], 1_000)
                    .encode(),
            };
            Some(vec![(TX_PEER, tx)])
        }
        Reason::GetBlocksRate => {
            let m = frame(Message::GetBlocks {
                from: 1 + r.below(f.node.tip_height()),
            });
            Some(vec![(peer, m.clone()), (peer, m)])
        }
    }
}

/// What the campaign saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Messages fed to the core.
    pub messages: u64,
    /// Of which random frames, mutated messages, crafted messages (sequences included).
    pub random: u64,
    /// Mutated real or crafted messages.
    pub mutated: u64,
    /// Crafted messages.
    pub crafted: u64,
    /// Rejections by reason ID.
    pub rejected: BTreeMap<String, u64>,
    /// Messages taken (not rejected): accepted, buffered, a duplicate or late message ignored,
    /// or evidence of equivocation recorded.
    pub taken: u64,
    /// Of the taken ones, how many changed the node's state.
    pub taken_changed_state: u64,
    /// Panics caught (must be 0).
    pub panics: u64,
    /// Rejections after which the node's state differed (must be 0).
    pub rejected_but_changed: u64,
    /// Crafted messages refused for another reason than the one they were built for (each
    /// listed once with the first example).
    pub crafted_misses: BTreeMap<String, String>,
    /// Reasons of spec/node.md no message produced (a gap if not defensive).
    pub never_hit: Vec<String>,
    /// Defensive reasons (no network input reaches them) and why.
    pub defensive: Vec<(String, String)>,
    /// Wall-clock seconds (a figure, not a threshold).
    pub seconds: f64,
}

impl Report {
    fn merge(&mut self, o: Report) {
        self.messages += o.messages;
        self.random += o.random;
        self.mutated += o.mutated;
        self.crafted += o.crafted;
        for (k, v) in o.rejected {
            *self.rejected.entry(k).or_default() += v;
        }
        self.taken += o.taken;
        self.taken_changed_state += o.taken_changed_state;
        self.panics += o.panics;
        self.rejected_but_changed += o.rejected_but_changed;
        for (k, v) in o.crafted_misses {
            self.crafted_misses.entry(k).or_insert(v);
        }
    }
    /// Every non-defensive reason hit, no panic, no state changed by a rejection, and every
    /// crafted message refused for its own reason.
    pub fn clean(&self) -> bool {
        self.never_hit.is_empty()
            && self.panics == 0
            && self.rejected_but_changed == 0
            && self.crafted_misses.is_empty()
    }
}

/// Feeds one frame to `node` (a copy of the fixture's node, changed in place); returns the
/// rejection reason if any.
/// The "peer" whose bytes are fed as a client's transaction (`Input::Transaction`).
const TX_PEER: u64 = u64::MAX;

fn feed(
    node: &mut Node,
    now: u64,
    peer: u64,
    bytes: Vec<u8>,
    rep: &mut Report,
) -> Option<Option<Reason>> {
    let before = node.clone();
    let out = catch_unwind(AssertUnwindSafe(|| {
        if peer == TX_PEER {
            node.handle(now, Input::Transaction(bytes))
        } else {
            node.handle(now, Input::Message { peer, bytes })
        }
    }));
    rep.messages += 1;
    let Ok(out) = out else {
        rep.panics += 1;
        *node = before;
        return None;
    };
    let code = out.iter().find_map(|o| match o {
        Output::Rejected { code, .. } => Some(*code),
        _ => None,
    });
    match code {
        Some(c) => {
            *rep.rejected.entry(c.id()).or_default() += 1;
            if *node != before {
                rep.rejected_but_changed += 1;
            }
        }
        None => {
            rep.taken += 1;
            if *node != before {
                rep.taken_changed_state += 1;
            }
        }
    }
    Some(code)
}

/// Mutates a frame: flips, a cut, a splice of another frame, or a byte inserted.
fn mutate(mut b: Vec<u8>, corpus: &[Vec<u8>], r: &mut Rng) -> Vec<u8> {
    for _ in 0..1 + r.below(3) {
        match r.below(6) {
            0..=2 if !b.is_empty() => {
                let i = r.below(b.len() as u64) as usize;
                b[i] ^= 1 + r.below(255) as u8;
            }
            3 if !b.is_empty() => b.truncate(r.below(b.len() as u64) as usize),
            4 => {
                let o = &corpus[r.below(corpus.len() as u64) as usize];
                let at = r.below(b.len() as u64 + 1) as usize;
                let from = r.below(o.len() as u64 + 1) as usize;
                b.truncate(at);
                b.extend_from_slice(&o[from..]);
            }
            _ => {
                let at = r.below(b.len() as u64 + 1) as usize;
                b.insert(at, r.next_u64() as u8);
            }
        }
    }
    b
}

/// Which of the three sources message `k` comes from: one in 256 crafted (each costs
/// signatures to make and to check), one in 8 random, the rest mutated.
fn source(k: u64) -> u8 {
    match (k % 256, k % 8) {
        (0, _) => 2,
        (_, 1) => 0,
        _ => 1,
    }
}

/// Runs the campaign on `messages` messages (at least one crafted sequence per reason),
/// spread over `threads`, with `progress(done)` called now and then.
#[allow(
    clippy::too_many_lines,
    reason = "the campaign loop; issue 32 moves the campaign out of sa-node"
)]
pub fn run(
    f: &Fixture,
    messages: u64,
    seed: u64,
    threads: usize,
    progress: &(dyn Fn(u64) + Sync),
) -> Report {
    let start = std::time::Instant::now();
    let threads = threads.max(1) as u64;
    let reasons: Vec<Reason> = Reason::ALL
        .iter()
        .copied()
        .filter(|x| !Reason::DEFENSIVE.iter().any(|(d, _)| d == x))
        .collect();
    // The pool mutated messages are drawn from: the run's messages and one crafted message of
    // every reason (sequences contribute their last message).
    let mut pool = f.corpus.clone();
    let mut r0 = Rng::new(seed, u64::MAX);
    for &x in &reasons {
        if let Some(seq) = craft(f, x, &mut r0) {
            if let Some((_, m)) = seq.last() {
                if m.len() < 1 << 16 {
                    pool.push(m.clone());
                }
            }
        }
    }
    let done = std::sync::atomic::AtomicU64::new(0);
    let mut total = Report::default();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (pool, reasons, done) = (&pool, &reasons, &done);
                s.spawn(move || {
                    let mut rep = Report::default();
                    // Every reason's sequence once (spread over the threads), then the mix.
                    for (j, &x) in reasons.iter().enumerate() {
                        if j as u64 % threads != t {
                            continue;
                        }
                        let mut r = Rng::new(seed, 1 << 40 | j as u64);
                        crafted(f, x, &mut r, &mut rep);
                    }
                    let mut k = t;
                    let mut last = 0;
                    while k < messages {
                        let mut r = Rng::new(seed, k);
                        match source(k) {
                            0 => {
                                let len = r.below(600) as usize;
                                let mut node = f.node.clone();
                                feed(&mut node, f.now, 1 + r.below(8), r.bytes(len), &mut rep);
                                rep.random += 1;
                            }
                            1 => {
                                let base = &pool[r.below(pool.len() as u64) as usize];
                                let b = mutate(base.clone(), pool, &mut r);
                                let mut node = f.node.clone();
                                feed(&mut node, f.now, 1 + r.below(8), b, &mut rep);
                                rep.mutated += 1;
                            }
                            _ => {
                                let x = reasons[(k / 256) as usize % reasons.len()];
                                if matches!(
                                    x,
                                    Reason::FutureBufferFull
                                        | Reason::FutureBufferPeer
                                        | Reason::PendingFull
                                ) {
                                    // the long sequences run once (above); their single
                                    // messages are in the pool
                                    let m = Rng::new(seed, k).below(pool.len() as u64);
                                    let mut node = f.node.clone();
                                    let b = pool[m as usize].clone();
                                    feed(&mut node, f.now, 1 + r.below(8), b, &mut rep);
                                    rep.mutated += 1;
                                } else {
                                    crafted(f, x, &mut r, &mut rep);
                                }
                            }
                        }
                        k += threads;
                        if rep.messages - last >= 4096 {
                            done.fetch_add(
                                rep.messages - last,
                                std::sync::atomic::Ordering::Relaxed,
                            );
                            last = rep.messages;
                            progress(done.load(std::sync::atomic::Ordering::Relaxed));
                        }
                    }
                    rep
                })
            })
            .collect();
        for h in handles {
            total.merge(h.join().expect("a campaign thread"));
        }
    });
    total.never_hit = reasons
        .iter()
        .map(|x| x.id())
        .filter(|id| !total.rejected.contains_key(id))
        .collect();
    total.defensive = Reason::DEFENSIVE
        .iter()
        .map(|(x, why)| (x.id(), why.to_string()))
        .collect();
    total.seconds = start.elapsed().as_secs_f64();
    total
}

/// Feeds one crafted sequence to a fresh copy of the node; the last message must be refused
/// for `reason`.
fn crafted(f: &Fixture, reason: Reason, r: &mut Rng, rep: &mut Report) {
    let Some(seq) = craft(f, reason, r) else {
        return;
    };
    let mut node = f.node.clone();
    let mut got = None;
    for (peer, bytes) in seq {
        got = feed(&mut node, f.now, peer, bytes, rep);
        rep.crafted += 1;
    }
    if got != Some(Some(reason)) {
        rep.crafted_misses
            .entry(reason.id())
            .or_insert_with(|| format!("{got:?}"));
    }
}
