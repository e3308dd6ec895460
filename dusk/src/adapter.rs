//! dusk-consensus 1.7.0 behind the adapter protocol (spec/conformance.md, "Adapters in other
//! languages"): one node under test, the crate's real round logic on tokio's paused clock.
//!
//! What the adapter does as rusk's node would (the host): it builds each round's
//! `RoundUpdate` and `Provisioners` (round 1 from the configuration's stakes; later rounds
//! from the ledger the trace shows at the node's tip: rusk's stake contract, which this crate
//! does not hold), accepts the block of a Success `Quorum` the crate sends and starts the next
//! round on it, and answers `Operations` with the trace's verdict on each candidate.
//!
//! What it compares (`observes`): the votes the crate casts (round, iteration, step, value),
//! its candidates, its round (a Success quorum it reaches ends the round), its iteration (as
//! the crate stores it at each iteration's start) and the blocks it decides. What it does not:
//! block labels and finality, the ledger, fault proofs (rusk's node and stake contract, not
//! dusk-consensus), and events only rusk's node handles (a past iteration's block, a fallback
//! block: answered `unsupported`, and the replay stops comparing that trace there).

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

use dusk_bytes::Serializable;
use dusk_consensus::commons::{RoundUpdate, TimeoutSet};
use dusk_consensus::config::{MIN_STEP_TIMEOUT, RELAX_ITERATION_THRESHOLD};
use dusk_consensus::consensus::Consensus;
use dusk_consensus::merkle::merkle_root;
use dusk_consensus::queue::MsgRegistry;
use dusk_consensus::user::provisioners::Provisioners;
use dusk_consensus::{build_ratification_payload, build_validation_payload};
use dusk_core::signatures::bls::{
    MultisigSignature, PublicKey as BlsPublicKey, SecretKey as BlsSecretKey,
};
use node_data::bls::PublicKey;
use node_data::ledger::{Attestation, Block, Hash, Header, IterationsInfo, Seed, StepVotes};
use node_data::message::payload::{
    Candidate, Quorum, QuorumType, RatificationResult, ValidationResult, Vote,
};
use node_data::message::{
    AsyncQueue, ConsensusHeader, Message, Payload, SignedStepMessage, BLOCK_HEADER_VERSION,
};
use node_data::StepName;
use sa_model::config::LUX_PER_UNIT;
use sa_model::Config;
use serde_json::{json, Value};
use tokio::sync::{oneshot, Mutex};
use tokio::task::JoinHandle;

use crate::draws::{committee, generator, provisioners};
use crate::host::{Db, Host, INVALID_ROOT, VALID_ROOT};
use crate::itf::{big, field, record, set, tag, to_big, unit, TraceValue};
use crate::profile;
use crate::steplog::{Position, StepLog};

/// What the adapter's observations compare (the `observes` of its `init` answer).
pub const OBSERVES: &[&str] = &["alive", "round", "iteration", "chain"];

/// How far the adapter advances the crate's clock waiting for one step timer.
const TIMER_HORIZON: Duration = Duration::from_secs(120);

/// A provisioner's keys under the Dusk profile.
struct Keys {
    sk: BlsSecretKey,
    pk: BlsPublicKey,
    node: PublicKey,
}

/// The node under test and everything the host keeps for it.
struct Running {
    me: usize,
    keys: Vec<Keys>,
    host: Arc<Host>,
    db: Arc<Mutex<Db>>,
    inbound: AsyncQueue<Message>,
    outbound: AsyncQueue<Message>,
    future: Arc<Mutex<MsgRegistry<Message>>>,
    cancel: Option<oneshot::Sender<i32>>,
    task: Option<JoinHandle<()>>,
    /// The tip the current round decides on.
    tip: Header,
    /// Names of the blocks decided, from height 1.
    chain: Vec<String>,
    names: HashMap<Hash, String>,
    blocks: HashMap<Hash, Block>,
    /// Candidates built: (parent hash, iteration, variant).
    candidates: HashMap<(Hash, u8, u8), Block>,
    /// The current round's provisioners.
    provisioners: Provisioners,
    /// Whether the current round runs (it starts at the first event after its tip is
    /// decided, when the trace shows the ledger it draws from).
    round_running: bool,
    /// The crate's own candidates, reported at the trace's Propose event.
    own_candidates: Vec<Value>,
    /// The crate's candidates of slots (height, iteration) the trace never proposes in.
    unscheduled: Vec<((u64, u8), Value)>,
    /// Every signed message the crate sent, in order: (signer, kind, iteration, vote).
    outbound_log: Vec<(usize, &'static str, u8, String)>,
    alive: bool,
}

/// dusk-consensus as a node under test.
pub struct DuskNode {
    rt: tokio::runtime::Runtime,
    dispatch: tracing::Dispatch,
    log: StepLog,
    run: Option<Running>,
}

fn timeouts() -> TimeoutSet {
    [
        StepName::Proposal,
        StepName::Validation,
        StepName::Ratification,
    ]
    .into_iter()
    .map(|s| (s, MIN_STEP_TIMEOUT))
    .collect()
}

fn genesis_header(config: &Config) -> Header {
    let mut h = Header {
        version: BLOCK_HEADER_VERSION,
        height: 0,
        seed: Seed::from(sa_model::keys::genesis_seed(config.sortition.seed)),
        ..Header::default()
    };
    h.hash = [0x5a; 32];
    h
}

fn block_name(parent: &str, round: u64, iteration: u8, variant: u8) -> String {
    let mark = if variant == 1 { "'" } else { "" };
    if parent == "genesis" {
        format!("B{round}.{iteration}{mark}")
    } else {
        format!("{parent}-{round}.{iteration}{mark}")
    }
}

/// (iteration, variant) of a block name (`B1.0-2.1'` -> (1, 1)).
fn slot_of_name(name: &str) -> Result<(u8, u8), String> {
    let variant = u8::from(name.ends_with('\''));
    let iteration = name
        .trim_end_matches('\'')
        .rsplit('.')
        .next()
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| format!("block `{name}`: no iteration in the name"))?;
    Ok((iteration, variant))
}

fn step_index(step: &str) -> u8 {
    match step {
        "Proposal" => 0,
        "Validation" => 1,
        "Ratification" => 2,
        _ => 3,
    }
}

impl Default for DuskNode {
    fn default() -> Self {
        DuskNode::new()
    }
}

impl DuskNode {
    /// A node not yet initialised.
    ///
    /// # Panics
    /// If tokio cannot build a current-thread runtime.
    pub fn new() -> DuskNode {
        // The crate waits MINIMUM_BLOCK_TIME after its tip's wall-clock timestamp before
        // proposing; the trace fixes every timer, so the adapter sets it to 0 (rusk reads it
        // from this variable) before the crate first reads it.
        std::env::set_var("RUSK_MINIMUM_BLOCK_TIME", "0");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .start_paused(true)
            .build()
            .expect("a current-thread runtime");
        let log = StepLog::default();
        use tracing_subscriber::layer::SubscriberExt;
        let dispatch = tracing::Dispatch::new(tracing_subscriber::registry().with(log.clone()));
        DuskNode {
            rt,
            dispatch,
            log,
            run: None,
        }
    }

    fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        tracing::dispatcher::with_default(&self.dispatch, || self.rt.block_on(f))
    }

    /// Lets every task run until all wait on a timer or a queue.
    fn settle(&self) {
        self.block_on(async {
            for _ in 0..3 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
    }

    fn position(&self) -> Position {
        self.log.0.lock().map(|p| p.clone()).unwrap_or_default()
    }

    fn running(&self) -> Result<&Running, String> {
        self.run.as_ref().ok_or_else(|| "no init".to_string())
    }

    fn running_mut(&mut self) -> Result<&mut Running, String> {
        self.run.as_mut().ok_or_else(|| "no init".to_string())
    }

    /// Starts a node of `config` as provisioner `me`.
    pub fn init(
        &mut self,
        config: &Config,
        me: usize,
        invalid: bool,
        proposals: &[(u64, u8, bool)],
    ) -> Result<(), String> {
        if config.sortition.profile != sa_model::config::Profile::Dusk {
            return Err(
                "the dusk-consensus adapter needs the Dusk profile (sortition.profile = \"dusk\"): \
                 its keys, seeds and draws are dusk-consensus's"
                    .into(),
            );
        }
        if config.protocol.committee_credits != 64 {
            return Err(format!(
                "protocol.committee_credits is {}; dusk-consensus 1.7.0 fixes 64",
                config.protocol.committee_credits
            ));
        }
        self.stop_round();
        if let Ok(mut p) = self.log.0.lock() {
            *p = Position::default();
        }
        let n = config.provisioners.len();
        let keys: Vec<Keys> = (0..n)
            .map(|p| Keys {
                sk: profile::secret_key(p),
                pk: profile::bls_public_key(p),
                node: profile::public_key(p),
            })
            .collect();
        let host = Arc::new(Host::default());
        host.invalid_proposals.store(invalid, Ordering::Relaxed);
        if let Ok(mut p) = host.proposals.lock() {
            *p = proposals.iter().map(|&(r, i, v)| ((r, i), v)).collect();
        }
        let db = Db {
            iteration: host.iteration.clone(),
            ..Db::default()
        };
        let tip = genesis_header(config);
        let mut names = HashMap::new();
        names.insert(tip.hash, "genesis".to_string());
        let weights: Vec<u64> = config
            .provisioners
            .iter()
            .map(|p| {
                if p.eligible_from <= 1 {
                    u64::from(p.stake) * LUX_PER_UNIT
                } else {
                    0
                }
            })
            .collect();
        self.run = Some(Running {
            me,
            keys,
            host,
            db: Arc::new(Mutex::new(db)),
            inbound: AsyncQueue::bounded(10_000, "sa-dusk inbound"),
            outbound: AsyncQueue::bounded(10_000, "sa-dusk outbound"),
            future: Arc::new(Mutex::new(MsgRegistry::default())),
            cancel: None,
            task: None,
            tip,
            chain: vec![],
            names,
            blocks: HashMap::new(),
            candidates: HashMap::new(),
            provisioners: provisioners(&weights),
            round_running: false,
            own_candidates: vec![],
            unscheduled: vec![],
            outbound_log: vec![],
            alive: true,
        });
        self.start_round(None)?;
        Ok(())
    }

    /// Starts the round on the current tip; `ledger` (the trace's, at the tip) gives the
    /// weights after round 1.
    fn start_round(&mut self, ledger: Option<&Value>) -> Result<(), String> {
        let run = self.running_mut()?;
        let round = run.tip.height + 1;
        if let Some(ledger) = ledger {
            let mut weights = vec![];
            for (p, b) in ledger
                .as_array()
                .ok_or("at.ledger: not a list")?
                .iter()
                .enumerate()
            {
                let what = format!("at.ledger[{p}]");
                let stake = big(field(b, "stake", &what)?, &what)?;
                let until = big(field(b, "suspended_until", &what)?, &what)?;
                let eligible = until <= round
                    && stake
                        >= u64::from(sa_model::dusk_profile::MINIMUM_STAKE_DUSK) * LUX_PER_UNIT;
                weights.push(if eligible { stake } else { 0 });
            }
            run.provisioners = provisioners(&weights);
        }
        let me = &run.keys[run.me];
        let ru = RoundUpdate::new(me.node.clone(), me.sk.clone(), &run.tip, timeouts(), vec![]);
        let consensus = Consensus::new(
            run.inbound.clone(),
            run.outbound.clone(),
            run.future.clone(),
            run.host.clone(),
            run.db.clone(),
        );
        let (tx, rx) = oneshot::channel();
        let set = Arc::new(run.provisioners.clone());
        run.cancel = Some(tx);
        run.round_running = true;
        let task = self.rt.spawn(async move {
            let _ = consensus.spin(ru, set, rx).await;
        });
        self.running_mut()?.task = Some(task);
        self.settle();
        Ok(())
    }

    fn stop_round(&mut self) {
        let Some(run) = self.run.as_mut() else { return };
        run.round_running = false;
        if let Some(tx) = run.cancel.take() {
            let _ = tx.send(0);
        }
        // `spin` ends on the cancel and aborts the task it spawned; aborting `spin` itself
        // instead would detach that task, which would run on with the old round.
        if let Some(task) = run.task.take() {
            self.block_on(async move {
                let _ = task.await;
            });
        }
    }

    fn index_of_key(&self, key: &node_data::bls::PublicKeyBytes) -> Result<usize, String> {
        self.running()?
            .keys
            .iter()
            .position(|k| k.node.bytes() == key)
            .ok_or_else(|| "a key outside the profile".to_string())
    }

    /// The candidate of gen(i), variant `variant`, on the tip (built once).
    fn candidate(
        &mut self,
        iteration: u8,
        variant: u8,
        valid: bool,
        failed: &[(u8, TraceValue)],
    ) -> Result<Block, String> {
        let run = self.running()?;
        let tip = run.tip.clone();
        let key = (tip.hash, iteration, variant);
        if let Some(b) = run.candidates.get(&key) {
            return Ok(b.clone());
        }
        let round = tip.height + 1;
        let seed = *tip.seed.inner();
        let gen_key = generator(&run.provisioners, seed, round, iteration);
        let g = self.index_of_key(&gen_key)?;
        // failed_iterations: a Fail attestation's result per failed iteration (its votes are
        // rusk's to verify, in `validate_block_header`; here they fix the candidate's hash).
        let mut failed_atts = vec![None; usize::from(iteration.min(RELAX_ITERATION_THRESHOLD))];
        for &(j, v) in failed {
            if let Some(slot) = failed_atts.get_mut(usize::from(j)) {
                let vote = self.vote_of(j, v)?;
                let att = Attestation {
                    result: RatificationResult::Fail(vote),
                    ..Attestation::default()
                };
                *slot = Some((
                    att,
                    generator(&self.running()?.provisioners, seed, round, j),
                ));
            }
        }
        let run = self.running()?;
        let header = Header {
            version: BLOCK_HEADER_VERSION,
            height: round,
            timestamp: tip.timestamp + 1 + u64::from(variant),
            gas_limit: 1_000_000,
            prev_block_hash: tip.hash,
            seed: Seed::from(profile::child_seed(round, &seed, g)),
            state_hash: if valid { VALID_ROOT } else { INVALID_ROOT },
            generator_bls_pubkey: gen_key,
            txroot: merkle_root::<[u8; 32]>(&[]),
            faultroot: merkle_root::<[u8; 32]>(&[]),
            iteration,
            prev_block_cert: tip.att,
            failed_iterations: IterationsInfo::new(failed_atts),
            ..Header::default()
        };
        let block = Block::new(header, vec![], vec![]).map_err(|e| e.to_string())?;
        let mut c = Candidate { candidate: block };
        c.sign(&run.keys[g].sk, &run.keys[g].pk);
        let block = c.candidate;
        let parent = run.names.get(&tip.hash).cloned().unwrap_or_default();
        let run = self.running_mut()?;
        let hash = block.header().hash;
        run.names
            .insert(hash, block_name(&parent, round, iteration, variant));
        run.blocks.insert(hash, block.clone());
        run.candidates.insert(key, block.clone());
        Ok(block)
    }

    /// The crate's vote for a trace value in `iteration` of the current round.
    fn vote_of(&mut self, iteration: u8, v: TraceValue) -> Result<Vote, String> {
        Ok(match v {
            TraceValue::NoCandidate => Vote::NoCandidate,
            TraceValue::NoQuorum => Vote::NoQuorum,
            TraceValue::Valid(c) => {
                Vote::Valid(self.candidate(iteration, c, true, &[])?.header().hash)
            }
            TraceValue::Invalid(c) => {
                Vote::Invalid(self.candidate(iteration, c, false, &[])?.header().hash)
            }
        })
    }

    fn value_of(&self, v: &Vote) -> Result<TraceValue, String> {
        let run = self.running()?;
        let variant = |h: &Hash| run.names.get(h).map_or(99, |n| u8::from(n.ends_with('\'')));
        Ok(match v {
            Vote::NoCandidate => TraceValue::NoCandidate,
            Vote::NoQuorum => TraceValue::NoQuorum,
            Vote::Valid(h) => TraceValue::Valid(variant(h)),
            Vote::Invalid(h) => TraceValue::Invalid(variant(h)),
        })
    }

    /// Provisioner `s`'s view of the round, to sign with its key.
    fn round_update_of(&self, s: usize) -> Result<RoundUpdate, String> {
        let run = self.running()?;
        let k = run
            .keys
            .get(s)
            .ok_or_else(|| format!("no provisioner {s}"))?;
        Ok(RoundUpdate::new(
            k.node.clone(),
            k.sk.clone(),
            &run.tip,
            timeouts(),
            vec![],
        ))
    }

    /// The aggregated votes of `signers` for `vote` in `step` of `iteration`, with the
    /// committee's bitset, as the crate's `Aggregator` makes them.
    fn step_votes(
        &self,
        iteration: u8,
        step: StepName,
        vote: Vote,
        signers: &[usize],
    ) -> Result<StepVotes, String> {
        if signers.is_empty() || (step == StepName::Validation && vote == Vote::NoQuorum) {
            return Ok(StepVotes::default());
        }
        let run = self.running()?;
        let round = run.tip.height + 1;
        let c = committee(
            &run.provisioners,
            *run.tip.seed.inner(),
            round,
            iteration,
            step,
        )
        .ok_or("no committee: dusk-consensus panics drawing it")?;
        let mut bitset = 0u64;
        for (pos, (pk, _)) in c.members().iter().enumerate() {
            if signers.contains(&self.index_of_key(pk.bytes())?) {
                bitset |= 1 << pos;
            }
        }
        let mut sigs = vec![];
        for &s in signers {
            if !c.is_member(&run.keys[s].node) {
                return Err(format!("P{s} is not a member of the {step:?} committee"));
            }
            let ru = self.round_update_of(s)?;
            let signature = match step {
                StepName::Validation => {
                    build_validation_payload(vote, &ru, iteration)
                        .sign_info
                        .signature
                }
                _ => {
                    let vr =
                        ValidationResult::new(StepVotes::default(), vote, QuorumType::NoQuorum);
                    build_ratification_payload(&ru, iteration, &vr)
                        .sign_info
                        .signature
                }
            };
            sigs.push(
                MultisigSignature::from_bytes(signature.inner())
                    .map_err(|e| format!("signature: {e:?}"))?,
            );
        }
        let aggregate = sigs[0].aggregate(&sigs[1..]);
        Ok(StepVotes::new(aggregate.to_bytes(), bitset))
    }

    fn send(&self, m: Message) -> Result<(), String> {
        self.running()?.inbound.try_send(m);
        Ok(())
    }

    /// Takes what the crate sent; returns the node's own votes and candidates in trace terms,
    /// and accepts a Success quorum's block.
    fn collect(&mut self) -> Result<Vec<Value>, String> {
        self.settle();
        let out = self.running()?.outbound.clone();
        let msgs: Vec<Message> = self.block_on(async {
            let mut v = vec![];
            loop {
                tokio::select! {
                    biased;
                    m = out.recv() => match m { Ok(m) => v.push(m), Err(_) => break },
                    () = std::future::ready(()) => break,
                }
            }
            v
        });
        let mut sent = vec![];
        let me = self.running()?.keys[self.running()?.me].node.clone();
        for m in msgs {
            self.log_outbound(&m)?;
            let mine = m.get_signer().is_some_and(|s| s == me);
            if let (true, Some((step, header, vote))) = (mine, step_vote(&m.payload)) {
                sent.push(self.sent_vote(header.round, header.iteration, step, &vote)?);
                continue;
            }
            match &m.payload {
                Payload::Candidate(c) if mine => {
                    let b = c.candidate.clone();
                    let run = self.running_mut()?;
                    let parent = run
                        .names
                        .get(&b.header().prev_block_hash)
                        .cloned()
                        .unwrap_or_default();
                    let name = block_name(&parent, b.header().height, b.header().iteration, 0);
                    let valid = b.header().state_hash != INVALID_ROOT;
                    run.names.insert(b.header().hash, name.clone());
                    run.blocks.insert(b.header().hash, b.clone());
                    let slot = (b.header().height, b.header().iteration);
                    run.candidates
                        .entry((b.header().prev_block_hash, b.header().iteration, 0))
                        .or_insert(b);
                    let candidate =
                        json!({"tag": "Candidate", "value": {"block": name, "valid": valid}});
                    // The crate builds its candidate as the iteration starts; the trace sends
                    // it at its Propose event. A candidate of a slot the trace never proposes
                    // in is reported with the first event at which the trace shows the node
                    // past that slot (a trace that ends before leaves it unjudged: the model's
                    // node might still have proposed).
                    let scheduled = run
                        .host
                        .proposals
                        .lock()
                        .is_ok_and(|p| p.contains_key(&slot));
                    if scheduled {
                        run.own_candidates.push(candidate);
                    } else {
                        run.unscheduled.push((slot, candidate));
                    }
                }
                Payload::Quorum(q) => {
                    let run = self.running()?;
                    if q.header.round == run.tip.height + 1
                        && q.header.prev_block_hash == run.tip.hash
                    {
                        if let RatificationResult::Success(Vote::Valid(h)) = q.att.result {
                            self.accept(h, q.att)?;
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(sent)
    }

    fn log_outbound(&mut self, m: &Message) -> Result<(), String> {
        let Some(signer) = m.get_signer() else {
            return Ok(());
        };
        let who = self.index_of_key(signer.bytes())?;
        let (kind, vote) = match (step_vote(&m.payload), &m.payload) {
            (Some((step, _, vote)), _) => (step, format!("{:?}", self.value_of(&vote)?)),
            (None, Payload::Candidate(_)) => ("Candidate", String::new()),
            _ => return Ok(()),
        };
        let entry = (who, kind, m.header.iteration, vote);
        self.running_mut()?.outbound_log.push(entry);
        Ok(())
    }

    /// Every signed message the crate has sent since `init`, in order: (signer, `Validation`,
    /// `Ratification` or `Candidate`, iteration, vote value) — its own and those it relays.
    pub fn outbound_log(&self) -> &[(usize, &'static str, u8, String)] {
        self.run.as_ref().map_or(&[], |r| &r.outbound_log)
    }

    /// Queues the messages of several Candidate and Vote events in the crate's inbound queue at
    /// once, in order, then lets it run: what it sent in answer. (The trace replays one event
    /// at a time; this shows what the crate does with messages already queued.)
    pub fn deliver_together(&mut self, events: &[Value]) -> Result<Vec<Value>, String> {
        for event in events {
            let r = record(event);
            let m = match tag(event, "event")? {
                "Candidate" => {
                    let name = field(r, "block", "Candidate")?
                        .as_str()
                        .ok_or("Candidate.block")?;
                    let valid = field(r, "valid", "Candidate")?
                        .as_bool()
                        .ok_or("Candidate.valid")?;
                    let (i, variant) = slot_of_name(name)?;
                    Message::from(Candidate {
                        candidate: self.candidate(i, variant, valid, &[])?,
                    })
                }
                "Vote" => self.vote_message(r)?,
                t => {
                    return Err(format!(
                        "deliver_together: {t} is not a Candidate or a Vote"
                    ))
                }
            };
            self.send(m)?;
        }
        self.collect()
    }

    fn sent_vote(
        &self,
        round: u64,
        iteration: u8,
        step: &str,
        vote: &Vote,
    ) -> Result<Value, String> {
        Ok(json!({"tag": "Vote", "value": {
            "round": to_big(round), "iteration": to_big(u64::from(iteration)),
            "step": unit(step), "value": self.value_of(vote)?.write(),
        }}))
    }

    /// The host accepts the block of a Success quorum: the round ends.
    fn accept(&mut self, hash: Hash, att: Attestation) -> Result<(), String> {
        let run = self.running_mut()?;
        let block = run
            .blocks
            .get(&hash)
            .cloned()
            .ok_or("the crate reached a Success quorum for a block the host never saw")?;
        let name = run.names.get(&hash).cloned().unwrap_or_default();
        let mut header = block.header().clone();
        header.att = att;
        run.tip = header;
        run.chain.push(name);
        self.stop_round();
        Ok(())
    }

    /// Fires the crate's current step timer (its clock advanced until the timer fires).
    fn fire_current(&mut self) -> Result<Vec<Value>, String> {
        let before = self.position();
        let mut waited = Duration::ZERO;
        while waited < TIMER_HORIZON {
            self.block_on(async { tokio::time::sleep(Duration::from_millis(500)).await });
            waited += Duration::from_millis(500);
            let now = self.position();
            if now.timeouts > before.timeouts || now != before {
                return self.collect();
            }
        }
        Err(format!(
            "no step timer of the crate fired within {} s of its clock (at {before:?})",
            TIMER_HORIZON.as_secs()
        ))
    }

    /// Fires the crate's timers while it is in round `round`, iteration `iteration`, at a
    /// step before `step` (0..=2) or at it when `inclusive`.
    fn fire_until(
        &mut self,
        iteration: u8,
        step: u8,
        inclusive: bool,
    ) -> Result<Vec<Value>, String> {
        let mut sent = vec![];
        for _ in 0..3 {
            let round = self.running()?.tip.height + 1;
            let p = self.position();
            let at = step_index(&p.step);
            let behind = if inclusive { at <= step } else { at < step };
            if p.round != round
                || p.iteration != iteration
                || !behind
                || !self.running()?.round_running
            {
                break;
            }
            sent.extend(self.fire_current()?);
        }
        Ok(sent)
    }

    /// Delivers one trace event; `Ok((sent, unsupported))`.
    pub fn deliver(
        &mut self,
        event: &Value,
        at: &Value,
    ) -> Result<(Vec<Value>, Option<String>), String> {
        if !self.running()?.alive {
            return Err("an event after Crash".into());
        }
        if !self.running()?.round_running {
            self.start_round(Some(field(at, "ledger", "at")?))?;
        }
        let mut sent = self.collect()?;
        // The model skips the steps in which the node has nothing to do (spec/conformance.md):
        // where the trace shows the node past a step the crate is still in, that step's timer
        // is what ends it in the crate.
        let at_iteration = u8::try_from(big(field(at, "iteration", "at")?, "at.iteration")?)
            .map_err(|_| "at.iteration too large")?;
        let at_round = big(field(at, "round", "at")?, "at.round")?;
        let at_step = step_index(tag(field(at, "step", "at")?, "at.step")?);
        if at_round == self.running()?.tip.height + 1 && at_step <= 2 {
            sent.extend(self.fire_until(at_iteration, at_step, false)?);
        }
        // Unscheduled candidates of slots the trace's node has left: sent, never proposed.
        let run = self.running_mut()?;
        let (left, kept): (Vec<_>, Vec<_>) = std::mem::take(&mut run.unscheduled)
            .into_iter()
            .partition(|((h, i), _)| (*h, *i) < (at_round, at_iteration));
        run.unscheduled = kept;
        sent.extend(left.into_iter().map(|(_, c)| c));
        if std::env::var_os("SA_DUSK_DEBUG").is_some() {
            eprintln!(
                "sa-dusk: {} at {:?}, iteration {}, running {}",
                tag(event, "event")?,
                self.position(),
                self.current_iteration()?,
                self.running()?.round_running
            );
        }
        let what = "event";
        let r = record(event);
        let (more, unsupported) = match tag(event, what)? {
            "Init" => (vec![], None),
            "Crash" => {
                self.stop_round();
                self.running_mut()?.alive = false;
                (vec![], None)
            }
            "Propose" => {
                let own = std::mem::take(&mut self.running_mut()?.own_candidates);
                (own, None)
            }
            "Candidate" => {
                let name = field(r, "block", what)?.as_str().ok_or("Candidate.block")?;
                let valid = field(r, "valid", what)?
                    .as_bool()
                    .ok_or("Candidate.valid")?;
                let failed = failed_of(field(r, "failed", what)?)?;
                let (i, variant) = slot_of_name(name)?;
                let b = self.candidate(i, variant, valid, &failed)?;
                self.send(Message::from(Candidate { candidate: b }))?;
                (self.collect()?, None)
            }
            "Timeout" => {
                let step = tag(field(r, "step", what)?, "Timeout.step")?;
                let want = step_index(step);
                let iteration = self.position().iteration;
                if want <= 2 {
                    (self.fire_until(iteration, want, true)?, None)
                } else {
                    (vec![], None)
                }
            }
            "ValidationQuorum" => (self.validation_quorum(r)?, None),
            "RatificationQuorum" => (
                self.ratification_quorum(field(r, "attestation", what)?)?,
                None,
            ),
            "Vote" => (self.single_vote(r)?, None),
            t @ ("PastSuccess" | "Fallback" | "Revote" | "Defective" | "Edge") => {
                (vec![], Some(unsupported(t)))
            }
            t => return Err(format!("unknown event {t}")),
        };
        sent.extend(more);
        Ok((sent, unsupported))
    }

    fn validation_quorum(&mut self, r: &Value) -> Result<Vec<Value>, String> {
        let what = "ValidationQuorum";
        let value = TraceValue::read(field(r, "value", what)?, what)?;
        let failed = failed_of(field(r, "failed", what)?)?;
        let signers = signers_of(field(r, "signers", what)?)?;
        let iteration = self.current_iteration()?;
        match value {
            TraceValue::Valid(c) => {
                self.candidate(iteration, c, true, &failed)?;
            }
            TraceValue::Invalid(c) => {
                self.candidate(iteration, c, false, &failed)?;
            }
            _ => {}
        }
        let vote = self.vote_of(iteration, value)?;
        let me = self.running()?.me;
        for s in signers.into_iter().filter(|&s| s != me) {
            let ru = self.round_update_of(s)?;
            self.send(Message::from(build_validation_payload(
                vote, &ru, iteration,
            )))?;
        }
        self.collect()
    }

    fn ratification_quorum(&mut self, a: &Value) -> Result<Vec<Value>, String> {
        let what = "RatificationQuorum.attestation";
        let iteration = u8::try_from(big(field(a, "iteration", what)?, what)?)
            .map_err(|_| "iteration too large")?;
        let value = TraceValue::read(field(a, "value", what)?, what)?;
        let failed = failed_of(field(a, "failed", what)?)?;
        if let TraceValue::Valid(c) = value {
            self.candidate(iteration, c, true, &failed)?;
        }
        let vote = self.vote_of(iteration, value)?;
        let validation = signers_of(field(a, "validation", what)?)?;
        let ratification = signers_of(field(a, "ratification", what)?)?;
        let quorum = match vote {
            Vote::Valid(_) => QuorumType::Valid,
            Vote::Invalid(_) => QuorumType::Invalid,
            Vote::NoCandidate => QuorumType::NoCandidate,
            Vote::NoQuorum => QuorumType::NoQuorum,
        };
        let sv = self.step_votes(iteration, StepName::Validation, vote, &validation)?;
        let rv = self.step_votes(iteration, StepName::Ratification, vote, &ratification)?;
        let vr = ValidationResult::new(sv, vote, quorum);
        let me = self.running()?.me;
        for &s in ratification.iter().filter(|&&s| s != me) {
            let ru = self.round_update_of(s)?;
            self.send(Message::from(build_ratification_payload(
                &ru, iteration, &vr,
            )))?;
        }
        // Whoever reaches the quorum first broadcasts it as a Quorum message (the crate does,
        // and rusk gossips it): a node still in an earlier step ends the iteration on it.
        let tip = &self.running()?.tip;
        let quorum = Quorum {
            header: ConsensusHeader {
                prev_block_hash: tip.hash,
                round: tip.height + 1,
                iteration,
            },
            att: Attestation {
                result: RatificationResult::from(vote),
                validation: sv,
                ratification: rv,
            },
        };
        self.send(Message::from(quorum))?;
        self.collect()
    }

    fn single_vote(&mut self, r: &Value) -> Result<Vec<Value>, String> {
        let m = self.vote_message(r)?;
        self.send(m)?;
        self.collect()
    }

    /// The signed message of a trace `Vote` event.
    fn vote_message(&mut self, r: &Value) -> Result<Message, String> {
        let what = "Vote";
        let iteration = u8::try_from(big(field(r, "iteration", what)?, what)?)
            .map_err(|_| "iteration too large")?;
        let value = TraceValue::read(field(r, "value", what)?, what)?;
        let signer = usize::try_from(big(field(r, "signer", what)?, what)?)
            .map_err(|_| "signer too large")?;
        let vote = self.vote_of(iteration, value)?;
        let ru = self.round_update_of(signer)?;
        let m = match tag(field(r, "step", what)?, "Vote.step")? {
            "Validation" => Message::from(build_validation_payload(vote, &ru, iteration)),
            _ => {
                let vr = ValidationResult::new(StepVotes::default(), vote, QuorumType::NoQuorum);
                Message::from(build_ratification_payload(&ru, iteration, &vr))
            }
        };
        Ok(m)
    }

    /// The crate's iteration in the current round (as it stored it at the iteration's start).
    fn current_iteration(&self) -> Result<u8, String> {
        let run = self.running()?;
        if !run.round_running {
            return Ok(0);
        }
        let db = run.db.clone();
        let (hash, iteration) = self.block_on(async move { db.lock().await.last_iter });
        Ok(if hash == run.tip.hash { iteration } else { 0 })
    }

    /// What can be observed of the node (the fields of [`OBSERVES`] are meaningful; labels are
    /// written as `Accepted`, the Final height as 0 and the ledger empty: not compared).
    pub fn observe(&self) -> Result<Value, String> {
        let run = self.running()?;
        let chain: Vec<Value> = run
            .chain
            .iter()
            .map(|b| json!({"block": b, "label": unit("Accepted")}))
            .collect();
        let p = self.position();
        let step = if p.step.is_empty() {
            "Proposal"
        } else {
            p.step.as_str()
        };
        Ok(json!({
            "alive": run.alive,
            "round": to_big(run.tip.height + 1),
            "iteration": to_big(u64::from(self.current_iteration()?)),
            "step": unit(step),
            "chain": chain,
            "final_height": to_big(0),
            "ledger": [],
        }))
    }
}

/// A vote message's step, header and vote.
fn step_vote(p: &Payload) -> Option<(&'static str, ConsensusHeader, Vote)> {
    match p {
        Payload::Validation(v) => Some(("Validation", v.header, v.vote)),
        Payload::Ratification(r) => Some(("Ratification", r.header, r.vote)),
        _ => None,
    }
}

fn signers_of(v: &Value) -> Result<Vec<usize>, String> {
    set(v, "signers")?
        .iter()
        .map(|s| big(s, "signer").and_then(|b| usize::try_from(b).map_err(|e| e.to_string())))
        .collect()
}

fn failed_of(v: &Value) -> Result<Vec<(u8, TraceValue)>, String> {
    set(v, "failed")?
        .iter()
        .map(|f| {
            let i = big(field(f, "iteration", "failed")?, "failed.iteration")?;
            let i = u8::try_from(i).map_err(|_| "failed.iteration too large")?;
            Ok((
                i,
                TraceValue::read(field(f, "value", "failed")?, "failed.value")?,
            ))
        })
        .collect()
}

impl Drop for DuskNode {
    fn drop(&mut self) {
        self.stop_round();
    }
}

/// Why the adapter answers `unsupported` to event `t`.
fn unsupported(t: &str) -> String {
    if t == "Defective" {
        "Defective: a defective candidate in dusk-consensus's own block format is not built by \
         this adapter yet"
            .to_string()
    } else if t == "Edge" {
        "Edge: a candidate at an edge (fault proofs, the future bound) in dusk-consensus's own \
         block format is not built by this adapter yet"
            .to_string()
    } else {
        format!(
            "{t}: a block of a past iteration or of a fallback reaches rusk's node (its chain \
             component), not dusk-consensus"
        )
    }
}
