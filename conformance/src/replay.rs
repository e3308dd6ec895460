//! Replaying traces against an implementation: the [`Adapter`] trait, sa-node's in-process
//! adapter ([`SaNode`]), and the runner that compares every step ([`replay`]).
//!
//! The adapter turns the trace's abstract values into real ones: provisioner `i` signs with
//! sa-node's testnet key `i`; candidates are built, signed and seeded as spec/protocol.md says
//! (deterministically: one candidate per parent, iteration and variant); quorums are the real
//! signed votes of the trace's signers, attestations real aggregates. The node computes its own
//! committees, seeds, tallies and labels: nothing it should compute is injected.

use std::collections::{BTreeMap, BTreeSet};

use sa_model::config::LUX_PER_UNIT;
use sa_model::exec::STAKE_TX_LUX;
use sa_model::Config;
use sa_node::config::{Behaviour, Genesis, GenesisProvisioner, Params};
use sa_node::exec::Tx;
use sa_node::hash::Hash;
use sa_node::keys::{aggregate, Keypair, PublicKey};
use sa_node::message::{
    faults_root, merkle_root, seed_digest, vote_digest, Attestation as RAttestation, Block,
    Candidate, FailedIteration, FaultProof, Header, Message, Outcome, SignedVote, StepVotes,
    VoteHeader,
};
use sa_node::node::{Input, Node, Output, Timer};
use sa_node::sortition::{committee, generator, Committee, StepKind};
use sa_node::tally::{Thresholds, Vote, VoteStep as RVoteStep};

use crate::trace::{
    iteration_of_name, variant_of_name, Balance, Big, ChainEntry, Event, Failed, Label, Observed,
    Sent, Set, Step, TraceState, Value, VoteStep,
};

/// An implementation under test, driven one trace event at a time.
pub trait Adapter {
    /// Starts a fresh node `node` of the model configuration `config` (`invalid_proposals`:
    /// the trace makes it propose invalid candidates, a misconfigured generator).
    fn init(&mut self, config: &Config, node: usize, invalid_proposals: bool)
        -> Result<(), String>;
    /// Delivers one event to a node the trace shows as `at` before it; returns what the node
    /// sent in answer, in the trace's terms.
    fn deliver(&mut self, event: &Event, at: &Observed) -> Result<Vec<Sent>, String>;
    /// What can be observed of the node now.
    fn observe(&mut self) -> Result<Observed, String>;
    /// Which parts of the node its observations show (the `observes` of spec/conformance.md's
    /// adapter protocol): the others are not compared, and reports say so.
    fn observes(&self) -> Observes {
        Observes::ALL
    }
    /// After a `deliver`: why the implementation cannot represent that event, if it cannot
    /// (the replay then stops comparing the trace there: a partial trace, neither a pass nor a
    /// divergence).
    fn unsupported(&mut self) -> Option<String> {
        None
    }
    /// Before `init`: the trace's proposals of the node under test, as (round, iteration,
    /// valid), for an implementation that builds its candidate when the iteration starts
    /// (before the trace's Propose event says whether it is valid): the schedule of the
    /// misconfigured generator's executor. sa-node proposes at the Propose event and ignores it.
    fn proposals(&mut self, _schedule: &[(u64, u8, bool)]) {}
}

/// The parts of the node under test an adapter observes (spec/conformance.md, "observes").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(
    clippy::struct_excessive_bools,
    reason = "one flag per observable part, as the protocol names them"
)]
pub struct Observes {
    /// Running or crashed.
    pub alive: bool,
    /// The round it decides.
    pub round: bool,
    /// Its iteration.
    pub iteration: bool,
    /// The blocks of its chain.
    pub chain: bool,
    /// The blocks' labels (Accepted, Attested, Confirmed, Final).
    pub labels: bool,
    /// Its last Final height.
    pub final_height: bool,
    /// Its ledger.
    pub ledger: bool,
    /// The fault proofs it records.
    pub fault_proofs: bool,
}

impl Observes {
    /// Everything (sa-node, and any adapter that does not say otherwise).
    pub const ALL: Observes = Observes {
        alive: true,
        round: true,
        iteration: true,
        chain: true,
        labels: true,
        final_height: true,
        ledger: true,
        fault_proofs: true,
    };

    /// The protocol's names of the parts, in order.
    pub const NAMES: [&'static str; 8] = [
        "alive",
        "round",
        "iteration",
        "chain",
        "labels",
        "final_height",
        "ledger",
        "fault_proofs",
    ];

    fn flags(&self) -> [bool; 8] {
        [
            self.alive,
            self.round,
            self.iteration,
            self.chain,
            self.labels,
            self.final_height,
            self.ledger,
            self.fault_proofs,
        ]
    }

    /// From the protocol's names; an unknown name is an error naming it.
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Result<Observes, String> {
        let mut f = [false; 8];
        for n in names {
            let k = Self::NAMES
                .iter()
                .position(|x| *x == n.as_ref())
                .ok_or_else(|| {
                    format!(
                        "observes: unknown part {:?} (the protocol's parts: {})",
                        n.as_ref(),
                        Self::NAMES.join(", ")
                    )
                })?;
            f[k] = true;
        }
        Ok(Observes {
            alive: f[0],
            round: f[1],
            iteration: f[2],
            chain: f[3],
            labels: f[4],
            final_height: f[5],
            ledger: f[6],
            fault_proofs: f[7],
        })
    }

    /// The parts not observed, by name.
    pub fn missing(&self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .zip(self.flags())
            .filter(|(_, on)| !on)
            .map(|(n, _)| *n)
            .collect()
    }
}

/// How one trace replayed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Replayed {
    /// Every state compared equal: the number of steps.
    Passed(usize),
    /// The first difference.
    Diverged(Mismatch),
    /// The adapter could not represent the event of state `state`: states before it compared
    /// equal, nothing after it was compared.
    Partial {
        /// The state whose event is unsupported.
        state: usize,
        /// The adapter's reason.
        reason: String,
    },
}

/// A difference between the trace and the implementation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// State index in the trace.
    pub state: usize,
    /// The event delivered (Debug form).
    pub event: String,
    /// The field that differs (`sent`, `node.round`, `node.chain[1].label`, ...).
    pub field: String,
    /// Expected (the trace).
    pub expected: String,
    /// Actual (the implementation).
    pub actual: String,
}

/// A trace value as its ITF JSON, the form the trace file and the adapter protocol use (a
/// mismatch is then read in the trace's own words, not in Rust's Debug form).
fn itf<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|e| format!("(not encodable: {e})"))
}

#[allow(
    clippy::too_many_lines,
    reason = "one comparison per observable part, in the order a reader checks them"
)]
fn diff_observed(
    k: usize,
    e: &Event,
    want: &Observed,
    got: &Observed,
    obs: Observes,
) -> Option<Mismatch> {
    let m = |field: &str, a: String, b: String| Mismatch {
        state: k,
        event: itf(e),
        field: field.into(),
        expected: a,
        actual: b,
    };
    if obs.alive && want.alive != got.alive {
        return Some(m(
            "node.alive",
            want.alive.to_string(),
            got.alive.to_string(),
        ));
    }
    if !want.alive {
        return None; // a crashed node shows nothing more
    }
    for (q, (a, b)) in want.ledger.iter().zip(&got.ledger).enumerate() {
        if obs.ledger && a != b {
            return Some(m(&format!("node.ledger[P{q}]"), itf(a), itf(b)));
        }
    }
    if obs.ledger && want.ledger.len() != got.ledger.len() {
        return Some(m(
            "node.ledger",
            format!("{} entries", want.ledger.len()),
            format!("{} entries", got.ledger.len()),
        ));
    }
    if obs.round && want.round != got.round {
        return Some(m(
            "node.round",
            want.round.0.to_string(),
            got.round.0.to_string(),
        ));
    }
    if obs.chain && want.chain.len() != got.chain.len() {
        return Some(m("node.chain", itf(&want.chain), itf(&got.chain)));
    }
    for (h, (a, b)) in want.chain.iter().zip(&got.chain).enumerate() {
        let differs = (obs.chain && a.block != b.block) || (obs.labels && a.label != b.label);
        if differs {
            return Some(m(
                &format!("node.chain[{h}]"),
                format!("{} {:?}", a.block, a.label),
                format!("{} {:?}", b.block, b.label),
            ));
        }
    }
    if obs.final_height && want.final_height != got.final_height {
        return Some(m(
            "node.final_height",
            want.final_height.0.to_string(),
            got.final_height.0.to_string(),
        ));
    }
    // In open consensus (ITER-3) the model keeps the last iteration and sa-node counts one
    // past it; after the last explored round (Done) the model stops: not compared there.
    if obs.iteration
        && !matches!(want.step, Step::Done | Step::Open)
        && want.iteration != got.iteration
    {
        return Some(m(
            "node.iteration",
            want.iteration.0.to_string(),
            got.iteration.0.to_string(),
        ));
    }
    None
}

/// Replays one trace; `Ok(steps)` or the first mismatch. `Err` for a trace the adapter
/// cannot run (named).
pub fn replay(
    adapter: &mut dyn Adapter,
    config: &Config,
    node: usize,
    states: &[TraceState],
) -> Result<Result<usize, Mismatch>, String> {
    match replay_with(adapter, config, node, states)? {
        Replayed::Passed(n) => Ok(Ok(n)),
        Replayed::Diverged(m) => Ok(Err(m)),
        Replayed::Partial { state, reason } => Err(format!(
            "the adapter cannot represent the event of state {state}: {reason}"
        )),
    }
}

/// Replays one trace, comparing what the adapter observes ([`Adapter::observes`]); an event
/// the adapter cannot represent ends the comparison ([`Replayed::Partial`]). `Err` for a trace
/// the adapter cannot run (named).
pub fn replay_with(
    adapter: &mut dyn Adapter,
    config: &Config,
    node: usize,
    states: &[TraceState],
) -> Result<Replayed, String> {
    let invalid = states
        .iter()
        .any(|s| matches!(s.event, Event::Propose { valid: false }));
    let schedule: Vec<(u64, u8, bool)> = states
        .iter()
        .enumerate()
        .skip(1)
        .filter_map(|(k, s)| match s.event {
            Event::Propose { valid } => {
                let at = &states[k - 1].node;
                Some((at.round.0, u8::try_from(at.iteration.0).ok()?, valid))
            }
            _ => None,
        })
        .collect();
    adapter.proposals(&schedule);
    adapter.init(config, node, invalid)?;
    let obs = adapter.observes();
    for (k, s) in states.iter().enumerate() {
        let mut sent = match &s.event {
            Event::Init => vec![],
            e => adapter.deliver(e, &states[k - 1].node)?,
        };
        if let Some(reason) = adapter.unsupported() {
            return Ok(Replayed::Partial { state: k, reason });
        }
        let keep = |x: &Sent| obs.fault_proofs || !matches!(x, Sent::FaultProof { .. });
        sent.retain(keep);
        sent.sort();
        sent.dedup();
        let want: Vec<Sent> = s.sent.0.iter().filter(|x| keep(x)).cloned().collect();
        if sent != want {
            return Ok(Replayed::Diverged(Mismatch {
                state: k,
                event: itf(&s.event),
                field: "sent".into(),
                expected: itf(&crate::trace::Set(want)),
                actual: itf(&crate::trace::Set(sent.clone())),
            }));
        }
        let got = adapter.observe()?;
        if let Some(m) = diff_observed(k, &s.event, &s.node, &got, obs) {
            return Ok(Replayed::Diverged(m));
        }
    }
    Ok(Replayed::Passed(states.len() - 1))
}

/// sa-node in process.
#[derive(Default)]
pub struct SaNode {
    me: usize,
    node: Option<Node>,
    alive: bool,
    now: u64,
    keys: Vec<Keypair>,
    /// Block names (`B1.0-2.1`) and hashes, both ways.
    names: BTreeMap<Hash, String>,
    /// Candidates built or seen: (parent hash, iteration, variant) -> candidate.
    candidates: BTreeMap<(Hash, u8, u8), Candidate>,
    last_chain: Vec<ChainEntry>,
    last_round: u64,
    /// Signatures made, by (signer, digest), kept across traces: the same votes, seeds and
    /// candidates recur in many traces and signing is a fifth of a replay's time.
    signatures: SignatureCache,
    /// Genesis, validated key ring (remembering verified signatures) and keys per
    /// configuration, shared like `signatures`: building them checks every proof of
    /// possession, and the node's own checks of the same votes recur in many traces.
    setups: SetupCache,
    /// Messages the node rejected, by rejection code (spec/node.md), over every trace this
    /// adapter replayed: shows what the suite's inputs reach.
    pub rejected: BTreeMap<String, usize>,
    /// The proposals the node scheduled itself (Propose timers it set), by (round, iteration):
    /// a Propose event fires only one of these, so the node's own gen(i) decision is tested.
    scheduled: BTreeSet<(u64, u8)>,
}

/// (genesis, key ring, keys) by configuration, shared by the adapters of one run.
type SetupCache = std::sync::Arc<std::sync::Mutex<BTreeMap<String, Setup>>>;
type Setup = (Genesis, sa_node::keys::KeyRing, Vec<Keypair>);

/// Signatures by (signer, digest), shared by the adapters of one run.
type SignatureCache =
    std::sync::Arc<std::sync::Mutex<BTreeMap<(usize, Vec<u8>), sa_node::keys::Signature>>>;

/// gen(i) and the Validation and Ratification committees of one iteration.
type Draw = (
    Option<PublicKey>,
    Committee<PublicKey>,
    Committee<PublicKey>,
);

fn child_name(parent: &str, round: u64, iteration: u8, variant: u8) -> String {
    let mark = if variant == 1 { "'" } else { "" };
    if parent == "genesis" {
        format!("B{round}.{iteration}{mark}")
    } else {
        format!("{parent}-{round}.{iteration}{mark}")
    }
}

impl SaNode {
    /// A fresh adapter sharing this one's signature and setup caches (one per replay thread).
    pub fn sharing_signatures(&self) -> SaNode {
        SaNode {
            signatures: self.signatures.clone(),
            setups: self.setups.clone(),
            ..SaNode::default()
        }
    }

    fn node(&self) -> Result<&Node, String> {
        self.node
            .as_ref()
            .ok_or_else(|| "the node is not running".to_string())
    }

    /// Eligible stake (of iteration `iteration`: VAR-SUSP-LIFTED lifts ELIG-3 from RELAXED
    /// on), seed and timestamp of the round after the block at `height`.
    fn context(
        &self,
        height: u64,
        iteration: u8,
    ) -> Result<(BTreeMap<PublicKey, u64>, Block), String> {
        let node = self.node()?;
        let parent = node
            .block(height)
            .ok_or_else(|| format!("the node holds no block at height {height}"))?
            .clone();
        let ledger = node
            .ledger_at(height)
            .ok_or_else(|| format!("no ledger at height {height}"))?;
        let p = node.params();
        let lifted = p.suspension == sa_node::config::Suspension::Lifted
            && iteration >= p.relaxed_iterations;
        Ok((ledger.eligible_with(height + 1, p, !lifted), parent))
    }

    fn committees(&self, height: u64, iteration: u8) -> Result<Draw, String> {
        let (eligible, parent) = self.context(height, iteration)?;
        let p = self.node()?.params();
        let seed = parent.header().seed.0;
        let c = |k| {
            committee(
                &seed,
                iteration,
                k,
                p.max_iterations,
                &eligible,
                p.committee_credits,
            )
        };
        Ok((
            generator(&seed, iteration, &eligible),
            c(StepKind::Validation),
            c(StepKind::Ratification),
        ))
    }

    /// `who`'s signature over `digest`, made once per run.
    fn sign(&self, who: usize, digest: &[u8]) -> sa_node::keys::Signature {
        let key = (who, digest.to_vec());
        if let Some(s) = self
            .signatures
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
        {
            return s;
        }
        let s = self.keys[who].sign(digest);
        if let Ok(mut m) = self.signatures.lock() {
            m.insert(key, s);
        }
        s
    }

    /// Provisioner `s`'s signed vote.
    fn signed_vote(&self, s: usize, header: VoteHeader, vote: Vote) -> SignedVote {
        SignedVote {
            header,
            vote,
            signer: self.keys[s].public,
            signature: self.sign(s, &vote_digest(&header, &vote)),
        }
    }

    fn index_of(&self, pk: &PublicKey) -> Result<usize, String> {
        self.keys
            .iter()
            .position(|k| k.public == *pk)
            .ok_or_else(|| format!("unknown key {}", pk.short()))
    }

    /// StepVotes of `signers` for `vote` in `committee`.
    fn step_votes(
        &self,
        committee: &Committee<PublicKey>,
        header: &VoteHeader,
        vote: &Vote,
        signers: &[usize],
    ) -> Result<StepVotes, String> {
        let mut bitset = 0u64;
        let mut sigs = vec![];
        for &s in signers {
            let key = &self.keys[s];
            let pos = committee
                .keys()
                .position(|k| *k == key.public)
                .ok_or_else(|| {
                    format!("P{s} is not a member of the {:?} committee", header.step)
                })?;
            bitset |= 1 << pos;
            sigs.push(self.sign(s, &vote_digest(header, vote)));
        }
        if sigs.is_empty() {
            return Ok(StepVotes::EMPTY);
        }
        Ok(StepVotes {
            bitset,
            aggregate: aggregate(&sigs).map_err(|e| e.to_string())?,
        })
    }

    /// Members of `committee` in key order until `need` credits (a quorum's signers).
    fn quorum_of(&self, committee: &Committee<PublicKey>, need: u32) -> Result<Vec<usize>, String> {
        let mut got = 0;
        let mut out = vec![];
        for (k, c) in committee {
            if got >= need {
                break;
            }
            got += c;
            out.push(self.index_of(k)?);
        }
        Ok(out)
    }

    /// The real vote of a trace value in the round after `height`, iteration `i`.
    fn real_vote(&mut self, height: u64, i: u8, v: &Value) -> Result<Vote, String> {
        Ok(match v {
            Value::NoCandidate => Vote::NoCandidate,
            Value::NoQuorum => Vote::NoQuorum,
            Value::Valid { candidate } => Vote::Valid(
                self.candidate(height, i, candidate.0 as u8, true, &Set(vec![]))?
                    .header
                    .hash(),
            ),
            Value::Invalid { candidate } => Vote::Invalid(
                self.candidate(height, i, candidate.0 as u8, false, &Set(vec![]))?
                    .header
                    .hash(),
            ),
        })
    }

    /// An attestation of iteration `i` of the round after `height`.
    fn attestation(
        &mut self,
        height: u64,
        i: u8,
        value: &Value,
        validation: &[usize],
        ratification: &[usize],
    ) -> Result<RAttestation, String> {
        let vote = self.real_vote(height, i, value)?;
        let (_, val, rat) = self.committees(height, i)?;
        let parent = self.node()?.block(height).ok_or("no parent")?.hash();
        let header = |step| VoteHeader {
            prev_hash: parent,
            round: height + 1,
            iteration: i,
            step,
        };
        Ok(RAttestation {
            result: match vote {
                Vote::Valid(h) => Outcome::Success(h),
                v => Outcome::Fail(v),
            },
            validation: if vote == Vote::NoQuorum {
                StepVotes::EMPTY
            } else {
                self.step_votes(&val, &header(RVoteStep::Validation), &vote, validation)?
            },
            ratification: self.step_votes(
                &rat,
                &header(RVoteStep::Ratification),
                &vote,
                ratification,
            )?,
        })
    }

    /// The candidate of gen(i) on the block at `height`, variant `variant`, carrying real Fail
    /// attestations for `failed` (built once: later calls return the same candidate).
    fn candidate(
        &mut self,
        height: u64,
        i: u8,
        variant: u8,
        valid: bool,
        failed: &Set<Failed>,
    ) -> Result<Candidate, String> {
        let (_, parent) = self.context(height, 0)?;
        let key = (parent.hash(), i, variant);
        if let Some(c) = self.candidates.get(&key) {
            return Ok(c.clone());
        }
        let (gen, _, _) = self.committees(height, i)?;
        let gen =
            gen.ok_or_else(|| format!("iteration {i} of round {} has no generator", height + 1))?;
        let gi = self.index_of(&gen)?;
        let g = self.keys[gi].clone();
        let round = height + 1;
        // The coinbase and a call to no contract (a failing transaction in a valid block,
        // EXEC-TX-2) that names the variant. Invalid candidates commit to a wrong state root
        // (EXEC-BLOCK-3), as a misconfigured generator does.
        let nonce = self
            .node()?
            .app_state_at(height)
            .map(|a| a.nonce(&sa_node::exec::address_of(&gen)))
            .unwrap_or(0);
        let payload = vec![
            Tx::Coinbase {
                round,
                generator: gen,
            }
            .encode(),
            sa_node::exec::call(
                &g,
                nonce,
                [0; 32],
                format!("conformance {round} {i} {variant}").into_bytes(),
                0,
            )
            .encode(),
            // The model's payload holds a stake unit of the generator's (spec/execution.md).
            sa_node::exec::stake_tx_signed(
                &g,
                sa_node::exec::StakeOp::Stake {
                    amount: STAKE_TX_LUX,
                },
                nonce + 1,
            )
            .encode(),
        ];
        let header = Header {
            height: round,
            prev_hash: parent.hash(),
            iteration: i,
            timestamp: parent.header().timestamp + 1 + u64::from(variant),
            generator: gen,
            seed: self.sign(gi, &seed_digest(&parent.header().seed)),
            payload_root: merkle_root(&payload),
            state_root: [0; 32],
            faults_root: faults_root(&[]),
            failed_iterations: vec![None; i.min(self.node()?.params().relaxed_iterations) as usize],
            prev_attestation: (round >= 2).then_some(parent.attestation),
        };
        let c = Candidate {
            header,
            payload,
            faults: vec![],
            signature: g.sign(&[]),
        };
        let mut c = self.with_failed(c, height, failed)?;
        c.header.state_root = self
            .node()?
            .expected_state_root(&c)
            .map_err(|e| format!("executing the candidate: {e}"))?;
        if !valid {
            c.header.state_root[0] ^= 0xff;
        }
        c.signature = self.sign(gi, &c.header.hash());
        self.register(&c, variant);
        self.candidates.insert(key, c.clone());
        Ok(c)
    }

    /// Adds real Fail attestations for `failed` to a candidate (re-signed).
    fn with_failed(
        &mut self,
        mut c: Candidate,
        height: u64,
        failed: &Set<Failed>,
    ) -> Result<Candidate, String> {
        let relaxed = self.node()?.params().relaxed_iterations;
        let t = Thresholds::for_credits(self.node()?.params().committee_credits);
        for f in &failed.0 {
            let j = f.iteration.0 as u8;
            if j >= c.header.iteration.min(relaxed) {
                continue;
            }
            let vote = self.real_vote(height, j, &f.value)?;
            let (gen, val, rat) = self.committees(height, j)?;
            let vs = if vote == Vote::NoQuorum {
                vec![]
            } else {
                self.quorum_of(&val, t.of(&vote))?
            };
            let rs = self.quorum_of(&rat, t.of(&vote))?;
            let att = self.attestation(height, j, &f.value, &vs, &rs)?;
            c.header.failed_iterations[j as usize] = Some(FailedIteration {
                generator: gen.ok_or("no generator")?,
                attestation: att,
            });
        }
        let gi = self.index_of(&c.header.generator)?;
        c.signature = self.sign(gi, &c.header.hash());
        Ok(c)
    }

    fn register(&mut self, c: &Candidate, variant: u8) {
        let parent = self
            .names
            .get(&c.header.prev_hash)
            .cloned()
            .unwrap_or_else(|| "?".into());
        self.names.insert(
            c.header.hash(),
            child_name(&parent, c.header.height, c.header.iteration, variant),
        );
    }

    fn value_of(&self, v: &Vote) -> Value {
        let variant = |h: &Hash| {
            Big(self
                .names
                .get(h)
                .map(|n| u64::from(variant_of_name(n)))
                .unwrap_or(99))
        };
        match v {
            Vote::NoCandidate => Value::NoCandidate,
            Vote::NoQuorum => Value::NoQuorum,
            Vote::Valid(h) => Value::Valid {
                candidate: variant(h),
            },
            Vote::Invalid(h) => Value::Invalid {
                candidate: variant(h),
            },
        }
    }

    /// Feeds an input and everything it leads to (execution results); returns what was sent.
    fn drive(&mut self, input: Input) -> Result<Vec<Sent>, String> {
        let mut queue = vec![input];
        let mut sent = vec![];
        while let Some(i) = queue.pop() {
            self.now += 1;
            let now = self.now;
            let node = self.node.as_mut().ok_or("the node is not running")?;
            let outs = node.handle(now, i);
            for o in outs {
                match o {
                    Output::Broadcast(m) | Output::Send { message: m, .. } => match m {
                        Message::Validation(v) => sent.push(self.sent_vote(&v)),
                        Message::Ratification { vote, .. } => sent.push(self.sent_vote(&vote)),
                        Message::Candidate(c) => {
                            self.register(&c, 0);
                            let key = (c.header.prev_hash, c.header.iteration, 0);
                            self.candidates.entry(key).or_insert_with(|| c.clone());
                            sent.push(Sent::Candidate {
                                block: self.names[&c.header.hash()].clone(),
                                valid: self
                                    .node
                                    .as_ref()
                                    .is_some_and(|n| n.execute(&c, true).is_ok()),
                            });
                        }
                        Message::Block(_) | Message::GetBlocks { .. } | Message::Transaction(_) => {
                        }
                    },
                    Output::SetTimer {
                        timer: Timer::Propose { round, iteration },
                        ..
                    } => {
                        self.scheduled.insert((round, iteration));
                    }
                    Output::Rejected { code, .. } => {
                        *self.rejected.entry(code.id()).or_default() += 1;
                    }
                    Output::Fault(f) => sent.push(self.fault_proof(&f)?),
                    _ => {}
                }
            }
        }
        Ok(sent)
    }

    /// A fault proof as the trace names it: offender, round, iteration, step.
    fn fault_proof(&self, f: &FaultProof) -> Result<Sent, String> {
        let (offender, round, iteration, step) = match f {
            FaultProof::DoubleCandidate { first, .. } => (
                &first.generator,
                first.height,
                first.iteration,
                Step::Proposal,
            ),
            FaultProof::DoubleVote { first, .. } => (
                &first.signer,
                first.header.round,
                first.header.iteration,
                match first.header.step {
                    RVoteStep::Validation => Step::Validation,
                    RVoteStep::Ratification => Step::Ratification,
                },
            ),
        };
        Ok(Sent::FaultProof {
            offender: Big(self.index_of(offender)? as u64),
            round: Big(round),
            iteration: Big(iteration.into()),
            step,
        })
    }

    fn sent_vote(&self, v: &SignedVote) -> Sent {
        Sent::Vote {
            round: Big(v.header.round),
            iteration: Big(v.header.iteration.into()),
            step: match v.header.step {
                RVoteStep::Validation => VoteStep::Validation,
                RVoteStep::Ratification => VoteStep::Ratification,
            },
            value: self.value_of(&v.vote),
        }
    }

    fn deliver_msg(&mut self, from: usize, m: Message) -> Result<Vec<Sent>, String> {
        self.drive(Input::Message {
            peer: from as u64,
            bytes: m.to_bytes(),
        })
    }

    fn fire(&mut self, step: StepKind) -> Result<Vec<Sent>, String> {
        let (round, iteration) = self.node()?.position();
        self.drive(Input::Timer(Timer::Step {
            round,
            iteration,
            step,
        }))
    }
}

/// sa-node's parameters for a model configuration (the adapter's: timers and proposals are
/// the trace's to fire).
fn node_params(config: &Config) -> Result<Params, String> {
    let p = &config.protocol;
    let t = Thresholds::for_credits(p.committee_credits);
    if p.supermajority.is_some_and(|x| x != t.supermajority)
        || p.majority.is_some_and(|x| x != t.majority)
    {
        return Err(
            "thresholds other than the spec's formulas are not supported by sa-node".into(),
        );
    }
    let params = Params {
        committee_credits: p.committee_credits,
        max_iterations: p.max_iterations,
        relaxed_iterations: p.relaxed_iterations,
        emergency_iteration: p.emergency_iteration.unwrap_or(u8::MAX),
        epoch: u64::from(p.epoch),
        minimum_stake: u64::from(p.minimum_stake) * LUX_PER_UNIT,
        soft_slash_warnings: p.soft_slash_warnings,
        finality: node_finality(p.finality),
        suspension: node_suspension(p.suspension),
        block_reward: sa_model::ledger::BLOCK_REWARD, // REW-1: amounts compare
        // The adapter fires every timer itself, when the trace says: the node must never
        // propose on its own clock, nor ask for blocks.
        min_block_time_ms: 1 << 40,
        max_future_ms: 1 << 40,
        stall_timeout_ms: 1 << 40,
        ..Params::default()
    };
    Ok(params)
}

/// sa-node draws with the reference's keys and seeds: a Dusk-profile trace is refused by name.
fn reference_profile(config: &Config) -> Result<(), String> {
    if config.sortition.profile == sa_model::config::Profile::Reference {
        return Ok(());
    }
    Err(
        "a trace of the Dusk profile (sortition.profile = \"dusk\": dusk-consensus's keys, \
         seeds and draws) is for dusk-consensus, through `sa-dusk adapter` \
         (docs/dusk-conformance.md); sa-node draws with the reference's"
            .into(),
    )
}

fn members(s: &Set<Big>) -> Vec<usize> {
    s.0.iter().map(|b| b.0 as usize).collect()
}

impl Adapter for SaNode {
    fn init(&mut self, config: &Config, me: usize, invalid_proposals: bool) -> Result<(), String> {
        reference_profile(config)?;
        let params = node_params(config)?;
        let n = config.provisioners.len();
        let key = format!("{config:?}");
        let cached = self.setups.lock().ok().and_then(|m| m.get(&key).cloned());
        let (genesis, ring, keys) = match cached {
            Some(setup) => setup,
            None => {
                let keys: Vec<Keypair> = (0..n as u32)
                    .map(|i| Keypair::testnet(i).with_memo())
                    .collect();
                let mut genesis = Genesis::testnet(n as u32, 1, params, 1_000);
                genesis.seed = config.sortition.seed;
                genesis.provisioners = config
                    .provisioners
                    .iter()
                    .zip(&keys)
                    .map(|(pp, k)| GenesisProvisioner {
                        key: k.public,
                        pop: k.proof_of_possession(),
                        stake: u64::from(pp.stake) * LUX_PER_UNIT,
                        eligible_from: u64::from(pp.eligible_from),
                    })
                    .collect();
                let ring = genesis.validate().map_err(|e| e.to_string())?.with_memo();
                let setup = (genesis, ring, keys);
                if let Ok(mut m) = self.setups.lock() {
                    m.insert(key, setup.clone());
                }
                setup
            }
        };
        let me_key = keys.get(me).cloned().ok_or("node index out of range")?;
        let behaviour = Behaviour {
            invalid_candidates: invalid_proposals,
            stake_each_block: STAKE_TX_LUX,
            ..Behaviour::default()
        };
        let node = Node::new(genesis, ring, me_key, behaviour);
        let signatures = self.signatures.clone();
        let setups = self.setups.clone();
        let rejected = std::mem::take(&mut self.rejected);
        *self = SaNode {
            signatures,
            setups,
            rejected,
            me,
            node: Some(node),
            alive: true,
            now: 1_000,
            keys,
            ..SaNode::default()
        };
        let g = self.node()?.block(0).ok_or("no genesis")?.hash();
        self.names.insert(g, "genesis".into());
        self.drive(Input::Start)?;
        Ok(())
    }

    fn deliver(&mut self, event: &Event, at: &Observed) -> Result<Vec<Sent>, String> {
        if !self.alive {
            return Err("an event after Crash".into());
        }
        // The model skips the steps in which the node has nothing to do (spec/conformance.md):
        // where the trace shows the node past a step sa-node is still in, that step's timer
        // is what ends it in sa-node. Anything the node sends on the way is reported with
        // this event.
        let mut early = vec![];
        let index = |s: &str| match s {
            "proposal" => 0,
            "validation" => 1,
            "ratification" => 2,
            _ => 3,
        };
        let want = match at.step {
            Step::Proposal => 0,
            Step::Validation => 1,
            Step::Ratification => 2,
            _ => 0,
        };
        let (r0, i0) = self.node()?.position();
        if r0 == at.round.0 && u64::from(i0) == at.iteration.0 {
            while index(self.node()?.step()) < want && self.node()?.position() == (r0, i0) {
                let at = index(self.node()?.step());
                let kind = [StepKind::Proposal, StepKind::Validation][at];
                early.extend(self.fire(kind)?);
                if index(self.node()?.step()) == at && self.node()?.position() == (r0, i0) {
                    // The node did not leave the step on its timer: the event is delivered
                    // as it stands, and the comparison says where it went wrong (no loop).
                    break;
                }
            }
        }
        let mut sent = self.deliver_now(event)?;
        sent.extend(early);
        Ok(sent)
    }

    fn observe(&mut self) -> Result<Observed, String> {
        self.observe_now()
    }
}

impl SaNode {
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per trace event kind of spec/conformance.md: the adapter's whole vocabulary in one place"
    )]
    fn deliver_now(&mut self, event: &Event) -> Result<Vec<Sent>, String> {
        let (round, iteration) = self.node()?.position();
        let tip = round - 1;
        match event {
            Event::Init => Ok(vec![]),
            Event::Crash => {
                self.alive = false;
                Ok(vec![])
            }
            Event::Propose { valid } => {
                let b = Behaviour {
                    invalid_candidates: !valid,
                    stake_each_block: STAKE_TX_LUX,
                    ..Behaviour::default()
                };
                self.node.as_mut().ok_or("not running")?.set_behaviour(b);
                if !self.scheduled.contains(&(round, iteration)) {
                    // The node never scheduled this proposal: it does not take itself for
                    // gen(i). Nothing is sent, and the comparison says so.
                    return Ok(vec![]);
                }
                self.drive(Input::Timer(Timer::Propose { round, iteration }))
            }
            Event::Candidate {
                block,
                valid,
                failed,
            } => {
                // The current iteration's candidate, or (EMERG-1) a late one of an open
                // emergency iteration: the block's name says which.
                let i = iteration_of_name(block)
                    .ok_or_else(|| format!("candidate `{block}`: no iteration in the name"))?;
                if i > iteration {
                    return Err(format!(
                        "candidate `{block}` of iteration {i}: the node is at iteration {iteration}"
                    ));
                }
                let c = self.candidate(tip, i, variant_of_name(block), *valid, failed)?;
                let from = self.index_of(&c.header.generator)?;
                self.deliver_msg(from, Message::Candidate(c))
            }
            Event::Timeout { step } => {
                let mut sent = vec![];
                let want = match step {
                    Step::Proposal => 0,
                    Step::Validation => 1,
                    Step::Ratification => 2,
                    _ => return Ok(vec![]),
                };
                // The model skips steps in which the node has nothing to do; sa-node waits
                // for their timers: fire them in order up to the trace's step.
                for (k, kind) in [
                    StepKind::Proposal,
                    StepKind::Validation,
                    StepKind::Ratification,
                ]
                .into_iter()
                .enumerate()
                {
                    if k > want {
                        break;
                    }
                    let now = self.node()?.step();
                    let at = match now {
                        "proposal" => 0,
                        "validation" => 1,
                        "ratification" => 2,
                        _ => 3,
                    };
                    if at == k && self.node()?.position() == (round, iteration) {
                        sent.extend(self.fire(kind)?);
                    }
                }
                Ok(sent)
            }
            Event::ValidationQuorum {
                value,
                signers,
                failed,
            } => {
                match value {
                    // The candidate voted on, with the Fail attestations it carries (built now
                    // if the node never received it).
                    Value::Valid { candidate } => {
                        self.candidate(tip, iteration, candidate.0 as u8, true, failed)?;
                    }
                    Value::Invalid { candidate } => {
                        self.candidate(tip, iteration, candidate.0 as u8, false, failed)?;
                    }
                    _ => {}
                }
                let vote = self.real_vote(tip, iteration, value)?;
                let parent = self.node()?.tip_hash();
                let header = VoteHeader {
                    prev_hash: parent,
                    round,
                    iteration,
                    step: RVoteStep::Validation,
                };
                let mut sent = vec![];
                for s in members(signers) {
                    if s != self.me {
                        let v = self.signed_vote(s, header, vote);
                        sent.extend(self.deliver_msg(s, Message::Validation(v))?);
                    }
                }
                Ok(sent)
            }
            Event::RatificationQuorum { attestation: a } => {
                let i = a.iteration.0 as u8;
                if let Value::Valid { candidate } = a.value {
                    // The attested candidate with the Fail attestations it carries (built now
                    // if the node never received it).
                    self.candidate(tip, i, candidate.0 as u8, true, &a.failed)?;
                }
                let vote = self.real_vote(tip, i, &a.value)?;
                let att = self.attestation(
                    tip,
                    i,
                    &a.value,
                    &members(&a.validation),
                    &members(&a.ratification),
                )?;
                let parent = self.node()?.tip_hash();
                let header = VoteHeader {
                    prev_hash: parent,
                    round,
                    iteration: i,
                    step: RVoteStep::Ratification,
                };
                let mut sent = vec![];
                for s in members(&a.ratification) {
                    if s != self.me {
                        let vote = self.signed_vote(s, header, vote);
                        let validation = att.validation;
                        sent.extend(
                            self.deliver_msg(s, Message::Ratification { vote, validation })?,
                        );
                    }
                }
                // A Success is accepted once the candidate is known: deliver the block if the
                // node did not have the candidate (it timed out its Proposal).
                if let (Value::Valid { candidate }, true) =
                    (&a.value, self.node()?.tip_height() == tip)
                {
                    let c = self.candidate(tip, i, candidate.0 as u8, true, &a.failed)?;
                    let from = self.index_of(&c.header.generator)?;
                    sent.extend(self.deliver_msg(
                        from,
                        Message::Block(Box::new(Block {
                            candidate: c,
                            attestation: att,
                        })),
                    )?);
                }
                Ok(sent)
            }
            Event::PastSuccess { attestation: a } | Event::Fallback { attestation: a, .. } => {
                let height = match event {
                    Event::Fallback { height, .. } => height.0 - 1,
                    _ => tip,
                };
                let i = a.iteration.0 as u8;
                let Value::Valid { candidate } = a.value else {
                    return Err("a past success that is not a Success".into());
                };
                self.candidate(height, i, candidate.0 as u8, true, &a.failed)?;
                let att = self.attestation(
                    height,
                    i,
                    &a.value,
                    &members(&a.validation),
                    &members(&a.ratification),
                )?;
                let c = self.candidate(height, i, candidate.0 as u8, true, &a.failed)?;
                let from = self.index_of(&c.header.generator)?;
                self.deliver_msg(
                    from,
                    Message::Block(Box::new(Block {
                        candidate: c,
                        attestation: att,
                    })),
                )
            }
            Event::Vote {
                iteration: i,
                step,
                value,
                signer,
            } => {
                let from = signer.0 as usize;
                if from >= self.keys.len() {
                    return Err(format!("Vote: no provisioner {}", signer.0));
                }
                let iteration =
                    u8::try_from(i.0).map_err(|_| format!("Vote: iteration {} too large", i.0))?;
                let vote = self.real_vote(tip, iteration, value)?;
                let header = VoteHeader {
                    prev_hash: self.node()?.tip_hash(),
                    round,
                    iteration,
                    step: match step {
                        VoteStep::Validation => RVoteStep::Validation,
                        VoteStep::Ratification => RVoteStep::Ratification,
                    },
                };
                let signed = self.signed_vote(from, header, vote);
                let msg = match step {
                    VoteStep::Validation => Message::Validation(signed),
                    VoteStep::Ratification => Message::Ratification {
                        vote: signed,
                        validation: StepVotes::EMPTY,
                    },
                };
                self.deliver_msg(from, msg)
            }
            Event::Defective { block, defect } => {
                let i = iteration_of_name(block)
                    .ok_or_else(|| format!("defective `{block}`: no iteration in the name"))?;
                if defect.starts_with("block-") {
                    if i != 0 || iteration == 0 {
                        return Err(format!(
                            "defective block `{block}`: iteration 0's, at a later iteration"
                        ));
                    }
                    let b = self.defective_block(tip, defect)?;
                    let from = self.index_of(&b.candidate.header.generator)?;
                    return self.deliver_msg(from, Message::Block(Box::new(b)));
                }
                if i != iteration {
                    return Err(format!(
                        "defective `{block}` of iteration {i}: the node is at iteration {iteration}"
                    ));
                }
                let c = self.defective(tip, i, defect)?;
                let from = self.index_of(&c.header.generator)?;
                self.deliver_msg(from, Message::Candidate(c))
            }
            Event::Edge {
                block,
                failed,
                edge,
            } => {
                let i = iteration_of_name(block)
                    .ok_or_else(|| format!("edge `{block}`: no iteration in the name"))?;
                if i != iteration || variant_of_name(block) != 0 {
                    return Err(format!(
                        "edge `{block}`: not the genuine candidate of iteration {iteration}"
                    ));
                }
                let c = self.edge(tip, i, failed, edge)?;
                let from = self.index_of(&c.header.generator)?;
                self.deliver_msg(from, Message::Candidate(c))
            }
            Event::Revote { .. } => Err("Revote (mutation double-vote) has no sa-node form".into()),
        }
    }

    /// Iteration 0's genuine candidate of the round after `height` as a block whose Success
    /// attestation is wrong: `block-attestation-forged` (its Ratification aggregate is the
    /// Validation one), `block-attestation-other` (a valid Success of the other candidate).
    fn defective_block(&mut self, height: u64, defect: &str) -> Result<Block, String> {
        let t = Thresholds::for_credits(self.node()?.params().committee_credits);
        let (_, val, rat) = self.committees(height, 0)?;
        let vote = Vote::Valid([0; 32]);
        let vs = self.quorum_of(&val, t.of(&vote))?;
        let rs = self.quorum_of(&rat, t.of(&vote))?;
        let candidate = self.candidate(height, 0, 0, true, &Set(vec![]))?;
        let attested = match defect {
            "block-attestation-forged" => 0,
            "block-attestation-other" => 1,
            _ => return Err(format!("Defective: unknown defect {defect:?}")),
        };
        let value = Value::Valid {
            candidate: Big(attested),
        };
        let mut attestation = self.attestation(height, 0, &value, &vs, &rs)?;
        if attested == 0 {
            attestation.ratification.aggregate = attestation.validation.aggregate;
        }
        Ok(Block {
            candidate,
            attestation,
        })
    }

    /// Two validly signed, different Validation votes of provisioner `who` for `header`: a
    /// fault proof (SLASH-4).
    fn double_vote(&self, who: usize, header: VoteHeader) -> FaultProof {
        FaultProof::DoubleVote {
            first: self.signed_vote(who, header, Vote::NoCandidate),
            second: self.signed_vote(who, header, Vote::Valid([7; 32])),
        }
    }

    /// The fault proofs against provisioner `other` (not gen(i)) that a probe candidate `c`
    /// of the node's round carries for `case`, a `fault-*` or `too-many-faults` defect of
    /// [`DEFECTS`] or an edge
    /// of [`EDGES`] (spec/conformance.md): double votes of Validation, iteration 0, on `c`'s
    /// parent; double candidates made from `c`'s header.
    fn fault_case(
        &self,
        c: &Candidate,
        other: usize,
        case: &str,
    ) -> Result<Vec<FaultProof>, String> {
        if case == "fault-double-candidate" || case.starts_with("fault-candidates-") {
            return self.double_candidate_case(c, other, case);
        }
        let third = (other + 1) % self.keys.len();
        let params = self.node()?.params();
        let (round, epoch) = (c.header.height, params.epoch);
        let header = |r: u64, iteration: u8, step: RVoteStep| VoteHeader {
            prev_hash: c.header.prev_hash,
            round: r,
            iteration,
            step,
        };
        let here = header(round, 0, RVoteStep::Validation);
        let vote = |who: usize, h: VoteHeader, v: Vote| self.signed_vote(who, h, v);
        let (no, yes) = (Vote::NoCandidate, Vote::Valid([7; 32]));
        let double_vote =
            |first: SignedVote, second: SignedVote| vec![FaultProof::DoubleVote { first, second }];
        let old = |age: u64| {
            round
                .checked_sub(age)
                .ok_or_else(|| format!("{case}: round {round} is not past {age} rounds"))
        };
        let max = sa_node::message::MAX_FAULTS_PER_BLOCK;
        Ok(match case {
            "fault-double-vote" => vec![self.double_vote(other, here)],
            "faults-at-max" => vec![self.double_vote(other, here); max],
            "too-many-faults" => vec![self.double_vote(other, here); max + 1],
            "fault-proof-forged" => double_vote(vote(other, here, no), vote(other, here, no)),
            "fault-proof-future" => vec![self.double_vote(other, header(round + 1, 0, here.step))],
            "fault-epoch-old" => vec![self.double_vote(other, header(old(epoch)?, 0, here.step))],
            "fault-proof-old" => {
                vec![self.double_vote(other, header(old(epoch + 1)?, 0, here.step))]
            }
            "fault-proof-emergency" => {
                let e = params.emergency_iteration;
                if e >= params.max_iterations {
                    return Err(format!(
                        "{case}: the configuration has no emergency iteration"
                    ));
                }
                vec![self.double_vote(other, header(round, e, here.step))]
            }
            "fault-votes-signer" => double_vote(vote(other, here, no), vote(third, here, yes)),
            "fault-votes-step" => double_vote(
                vote(other, here, no),
                vote(other, header(round, 0, RVoteStep::Ratification), yes),
            ),
            "fault-votes-signature" => {
                let mut second = vote(other, here, yes);
                second.signature = self.sign(third, &vote_digest(&here, &yes));
                double_vote(vote(other, here, no), second)
            }
            _ => return Err(format!("unknown fault case {case:?}")),
        })
    }

    /// [`Self::fault_case`] for double candidates: two headers of `other` made from `c`'s,
    /// for its round and iteration, differing in their timestamp, then in what `case` names.
    fn double_candidate_case(
        &self,
        c: &Candidate,
        other: usize,
        case: &str,
    ) -> Result<Vec<FaultProof>, String> {
        let third = (other + 1) % self.keys.len();
        let mut a = c.header.clone();
        a.generator = self.keys[other].public;
        let mut b = a.clone();
        b.timestamp += 1;
        let proof = |a: Header, b: Header, signer_b: usize| {
            vec![FaultProof::DoubleCandidate {
                first_signature: self.sign(other, &a.hash()),
                second_signature: self.sign(signer_b, &b.hash()),
                first: Box::new(a),
                second: Box::new(b),
            }]
        };
        Ok(match case {
            "fault-double-candidate" => proof(a, b, other),
            "fault-candidates-generator" => {
                b.generator = self.keys[third].public;
                proof(a, b, third)
            }
            "fault-candidates-height" => {
                b.height += 1;
                proof(a, b, other)
            }
            "fault-candidates-parent" => {
                b.prev_hash = [0x5a; 32];
                proof(a, b, other)
            }
            "fault-candidates-iteration" => {
                b.iteration += 1;
                proof(a, b, other)
            }
            "fault-candidates-same" => proof(a.clone(), a, other),
            // The second header (still `other`'s) signed by another provisioner.
            "fault-candidates-signature" => proof(a, b, third),
            _ => return Err(format!("unknown fault case {case:?}")),
        })
    }

    /// gen(i)'s genuine candidate on the block at `height` (variant 0, valid, carrying the
    /// Fail attestations `failed`) at `edge` (spec/conformance.md, "Candidates at an edge"),
    /// executed for its state root and signed by gen(i); it is named as the genuine one, so
    /// that the node's vote on it reads as a vote on the genuine candidate.
    fn edge(
        &mut self,
        height: u64,
        i: u8,
        failed: &Set<Failed>,
        edge: &str,
    ) -> Result<Candidate, String> {
        let mut c = self.candidate(height, i, 0, true, failed)?;
        let gi = self.index_of(&c.header.generator)?;
        let other = (gi + 1) % self.keys.len();
        match edge {
            "timestamp-at-future-bound" => {
                // The node reads the clock the adapter advances by one for each input.
                c.header.timestamp = self.now + 1 + self.node()?.params().max_future_ms;
            }
            e if e.starts_with("fault") => {
                c.faults = self.fault_case(&c, other, e)?;
                c.header.faults_root = faults_root(&c.faults);
            }
            _ => return Err(format!("Edge: unknown edge {edge:?}")),
        }
        c.header.state_root = self
            .node()?
            .expected_state_root(&c)
            .map_err(|e| format!("executing the candidate at edge {edge}: {e}"))?;
        c.signature = self.sign(gi, &c.header.hash());
        self.register(&c, 0);
        Ok(c)
    }

    /// gen(i)'s candidate on the block at `height` (the genuine one, variant 0, valid, no
    /// failed iterations recorded) with `defect` (spec/conformance.md, "Defective
    /// candidates"), signed by gen(i) after the change unless the defect is the signature.
    #[allow(
        clippy::too_many_lines,
        reason = "one arm per defect of spec/conformance.md, in the table's order"
    )]
    fn defective(&mut self, height: u64, i: u8, defect: &str) -> Result<Candidate, String> {
        let mut c = self.candidate(height, i, 0, true, &Set(vec![]))?;
        let (gen, _, _) = self.committees(height, i)?;
        let gi = self.index_of(&gen.ok_or("no generator")?)?;
        let other = (gi + 1) % self.keys.len();
        let (_, parent) = self.context(height, 0)?;
        let round = height + 1;
        let params = self.node()?.params().clone();
        let t = Thresholds::for_credits(params.committee_credits);
        // A valid Fail(NoCandidate) attestation of iteration 0 of this round, and gen(0).
        let fail0 = |this: &mut Self| -> Result<FailedIteration, String> {
            let (g0, val, rat) = this.committees(height, 0)?;
            let vs = this.quorum_of(&val, t.of(&Vote::NoCandidate))?;
            let rs = this.quorum_of(&rat, t.of(&Vote::NoCandidate))?;
            let attestation = this.attestation(height, 0, &Value::NoCandidate, &vs, &rs)?;
            Ok(FailedIteration {
                generator: g0.ok_or("iteration 0 has no generator")?,
                attestation,
            })
        };
        let h = &mut c.header;
        let mut resign = true;
        match defect {
            "parent" => h.prev_hash = [0x5a; 32],
            "iteration" => h.iteration = params.max_iterations,
            "generator" => {
                h.generator = self.keys[other].public;
                h.seed = self.sign(other, &seed_digest(&parent.header().seed));
                c.signature = self.sign(other, &c.header.hash());
                resign = false;
            }
            "timestamp-past" => h.timestamp = parent.header().timestamp,
            "timestamp-future" => h.timestamp = self.now + params.max_future_ms + 1_000_000,
            "signature" => {
                c.signature = self.sign(other, &c.header.hash());
                resign = false;
            }
            "seed" => h.seed = self.sign(gi, &seed_digest(&h.seed)),
            "payload-root" => h.payload_root = [0x5a; 32],
            "faults-root" => h.faults_root = [0x5a; 32],
            d if d.starts_with("fault-") || d == "too-many-faults" => {
                c.faults = self.fault_case(&c, other, d)?;
                c.header.faults_root = faults_root(&c.faults);
            }
            "failed-length" => h.failed_iterations.push(None),
            "failed-forged" | "failed-generator" | "failed-short" => {
                let mut f = fail0(self)?;
                if defect == "failed-short" {
                    // One Ratification signer, the member with the fewest credits: validly
                    // signed, short of the quorum.
                    let (_, _, rat) = self.committees(height, 0)?;
                    let (key, credits) = rat
                        .iter()
                        .min_by_key(|(_, c)| **c)
                        .map(|(k, c)| (*k, *c))
                        .ok_or("iteration 0 has no Ratification committee")?;
                    if credits >= t.of(&Vote::NoCandidate) {
                        return Err("defect failed-short: every member holds a quorum".into());
                    }
                    let who = self.index_of(&key)?;
                    let vs = {
                        let (_, val, _) = self.committees(height, 0)?;
                        self.quorum_of(&val, t.of(&Vote::NoCandidate))?
                    };
                    f.attestation =
                        self.attestation(height, 0, &Value::NoCandidate, &vs, &[who])?;
                } else if defect == "failed-forged" {
                    // The Ratification aggregate of another step's signatures.
                    f.attestation.ratification.aggregate = f.attestation.validation.aggregate;
                } else {
                    f.generator = self.keys[other].public;
                    if Some(f.generator) == self.committees(height, 0)?.0 {
                        f.generator = self.keys[(other + 1) % self.keys.len()].public;
                    }
                }
                let h = &mut c.header;
                *h.failed_iterations
                    .first_mut()
                    .ok_or("defect failed-*: the candidate has no failed_iterations entry")? =
                    Some(f);
            }
            "prev-attestation-missing" => h.prev_attestation = None,
            "prev-attestation-forged" => {
                let a = h
                    .prev_attestation
                    .as_mut()
                    .ok_or("defect prev-attestation-forged at height 1")?;
                a.ratification.aggregate = a.validation.aggregate;
            }
            "prev-attestation-at-height-1" => {
                if round != 1 {
                    return Err(format!("defect {defect} in round {round}"));
                }
                h.prev_attestation = Some(fail0(self)?.attestation);
            }
            _ => return Err(format!("Defective: unknown defect {defect:?}")),
        }
        if resign {
            c.signature = self.sign(gi, &c.header.hash());
        }
        Ok(c)
    }

    fn observe_now(&mut self) -> Result<Observed, String> {
        if !self.alive {
            return Ok(Observed {
                alive: false,
                round: Big(self.last_round),
                iteration: Big(0),
                step: Step::Done,
                chain: self.last_chain.clone(),
                final_height: Big(0),
                ledger: vec![],
            });
        }
        let node = self.node()?;
        let (round, iteration) = node.position();
        let labels = node.chain_labels();
        let chain: Vec<ChainEntry> = labels
            .iter()
            .skip(1)
            .map(|(h, l)| ChainEntry {
                block: self
                    .names
                    .get(h)
                    .cloned()
                    .unwrap_or_else(|| format!("?{}", sa_node::keys::to_hex(&h[..4]))),
                label: match format!("{l:?}").as_str() {
                    "Accepted" => Label::Accepted,
                    "Attested" => Label::Attested,
                    "Confirmed" => Label::Confirmed,
                    _ => Label::Final,
                },
            })
            .collect();
        let step = match node.step() {
            "proposal" => Step::Proposal,
            "validation" => Step::Validation,
            "ratification" => Step::Ratification,
            _ => Step::Open,
        };
        let tip = node.tip_height();
        let accounts = &node
            .ledger_at(tip)
            .ok_or_else(|| format!("no ledger at the tip {tip}"))?
            .accounts;
        let ledger = self
            .keys
            .iter()
            .map(|k| match accounts.get(&k.public) {
                Some(a) => Balance {
                    stake: Big(a.stake),
                    locked: Big(a.locked),
                    faults: Big(a.soft_faults.into()),
                    hard_faults: Big(a.hard_faults.into()),
                    suspended_until: Big(a.suspended_until),
                    reward: Big(a.reward),
                },
                None => Balance {
                    stake: Big(0),
                    locked: Big(0),
                    faults: Big(0),
                    hard_faults: Big(0),
                    suspended_until: Big(0),
                    reward: Big(0),
                },
            })
            .collect();
        let o = Observed {
            alive: true,
            round: Big(round),
            iteration: Big(iteration.into()),
            step,
            chain: chain.clone(),
            final_height: Big(node.last_final()),
            ledger,
        };
        self.last_chain = chain;
        self.last_round = round;
        Ok(o)
    }
}

/// The model's suspension variant as sa-node's (spec/variants.md).
fn node_suspension(s: sa_model::config::Suspension) -> sa_node::config::Suspension {
    match s {
        sa_model::config::Suspension::Dusk => sa_node::config::Suspension::Dusk,
        sa_model::config::Suspension::Lifted => sa_node::config::Suspension::Lifted,
    }
}

/// The model's finality variant as sa-node's (spec/variants.md).
fn node_finality(f: sa_model::config::Finality) -> sa_node::config::Finality {
    match f {
        sa_model::config::Finality::Dusk => sa_node::config::Finality::Dusk,
        sa_model::config::Finality::SmFail => sa_node::config::Finality::SmFail,
        sa_model::config::Finality::Closed => sa_node::config::Finality::Closed,
    }
}
