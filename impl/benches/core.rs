//! Benchmarks of the sans-IO core (`cargo bench -p sa-node`; figures in spec/encoding.md).
//!
//! - `messages/*`: messages handled per second by a fresh node that is not a provisioner (it
//!   verifies and counts, never votes), fed a pre-generated stream of valid signed traffic of a
//!   C = 64 committee drawn over 1000 equal-stake provisioners: candidates, Validation votes and
//!   Ratification votes (each carrying the aggregated Validation quorum it rests on).
//! - `attestation/*`: the BLS operations a StepVotes costs (sign, verify, aggregate and
//!   aggregate-verify over 43 signers, the supermajority of C = 64) and the acceptance of a whole
//!   block with its Success attestation through `Input::Message` on a fresh node.
//! - `sortition/*`: `sortition::committee` for C = 64 over 1000 provisioners, equal and random
//!   stakes.
//!
//! Everything is generated before measuring and checked once (no message rejected, the chain
//! grows as expected), so the benchmarks measure accepted traffic only.

use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::OnceLock;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, SamplingMode, Throughput};

use sa_node::config::{Behaviour, Genesis, GenesisProvisioner, Params};
use sa_node::hash::{blake2b256, Hash};
use sa_node::keys::{aggregate, KeyRing, Keypair, PublicKey, Signature};
use sa_node::ledger::Ledger;
use sa_node::message::{
    faults_root, merkle_root, seed_digest, vote_digest, Attestation, Block, Candidate, Header,
    Message, Outcome, SignedVote, StepVotes, VoteHeader,
};
use sa_node::node::{Input, Node, Output};
use sa_node::sortition::{committee, generator, Committee, StepKind, CREDIT_WEIGHT};
use sa_node::tally::{Thresholds, Vote, VoteStep};

/// Provisioners in the genesis.
const PROVISIONERS: u32 = 1000;
/// Stake of each (10,000 DUSK).
const STAKE: u64 = 10_000 * CREDIT_WEIGHT;
/// Timestamp of block 0 (ms).
const GENESIS_TS: u64 = 1_700_000_000_000;
/// Rounds of traffic in the `messages/round_stream` benchmark.
const ROUNDS: u64 = 2;
/// The peer every message comes from.
const PEER: u64 = 1;

/// The traffic of one round decided in iteration 0.
struct RoundTraffic {
    /// The encoded candidate message and its hash.
    candidate: Vec<u8>,
    hash: Hash,
    /// Encoded Validation votes, one per committee member, in key order.
    validation: Vec<Vec<u8>>,
    /// Encoded Ratification votes, one per committee member, in key order.
    ratification: Vec<Vec<u8>>,
    /// How many of `ratification` (from the first) complete the quorum.
    ratification_to_quorum: usize,
    /// The block with its Success attestation (quorum signers in key order).
    block: Block,
    /// Distinct signers of the block's Validation and Ratification StepVotes.
    signers: (usize, usize),
}

struct Fixture {
    genesis: Genesis,
    ring: KeyRing,
    keys: BTreeMap<PublicKey, Keypair>,
    rounds: Vec<RoundTraffic>,
    /// The time every input is handled at: just after the last candidate's timestamp.
    now: u64,
}

fn params() -> Params {
    Params {
        committee_credits: 64,
        ..Params::default()
    }
}

/// Signs `vote` for every member of `committee`.
fn sign_all(
    keys: &BTreeMap<PublicKey, Keypair>,
    committee: &Committee<PublicKey>,
    header: VoteHeader,
    vote: Vote,
) -> BTreeMap<PublicKey, SignedVote> {
    let digest = vote_digest(&header, &vote);
    committee
        .keys()
        .map(|k| {
            let signature = keys[k].sign(&digest);
            let v = SignedVote {
                header,
                vote,
                signer: *k,
                signature,
            };
            (*k, v)
        })
        .collect()
}

/// The StepVotes of the first members (key order) whose credits reach `need`, and their count.
fn quorum(
    committee: &Committee<PublicKey>,
    votes: &BTreeMap<PublicKey, SignedVote>,
    need: u32,
) -> (StepVotes, usize) {
    let mut bitset = 0u64;
    let mut sigs: Vec<Signature> = Vec::new();
    let mut credits = 0;
    for (pos, (k, c)) in committee.iter().enumerate() {
        if credits >= need {
            break;
        }
        bitset |= 1u64 << pos;
        sigs.push(votes[k].signature);
        credits += c;
    }
    assert!(credits >= need, "the committee holds the quorum");
    let aggregate = aggregate(&sigs).expect("valid signatures aggregate");
    (StepVotes { bitset, aggregate }, sigs.len())
}

fn encode(m: Message) -> Vec<u8> {
    m.to_bytes()
}

#[allow(
    clippy::too_many_lines,
    reason = "the benchmark fixture: genesis, keys, blocks and votes built in the order the core needs them"
)]
fn build() -> Fixture {
    let params = params();
    let keys: BTreeMap<PublicKey, Keypair> = (0..PROVISIONERS)
        .map(|i| {
            let k = Keypair::testnet(i);
            (k.public, k)
        })
        .collect();
    let genesis = Genesis {
        seed: 1,
        timestamp: GENESIS_TS,
        params: params.clone(),
        provisioners: keys
            .values()
            .map(|k| GenesisProvisioner {
                key: k.public,
                pop: k.proof_of_possession(),
                stake: STAKE,
                eligible_from: 0,
            })
            .collect(),
    };
    let ring = genesis.validate().expect("valid genesis");
    let ledger = Ledger::genesis(&genesis);
    let mut records: Vec<sa_node::storage::Record> = vec![];
    let empty = Node::new(
        genesis.clone(),
        ring.clone(),
        Keypair::from_seed(&[0xee; 32]),
        Behaviour::default(),
    );
    let sm = Thresholds::for_credits(params.committee_credits).supermajority;
    let mut prev_hash = empty.tip_hash();
    let mut seed = genesis.genesis_seed();
    let mut ts = genesis.timestamp;
    let mut rounds = Vec::new();
    let mut nonces = std::collections::BTreeMap::new();
    for r in 1..=ROUNDS {
        // No slash and no stake change: every round has the genesis weights.
        let eligible = ledger.eligible(r, &params);
        let gen_key = generator(&seed.0, 0, &eligible).expect("a generator");
        let gen = &keys[&gen_key];
        ts += params.min_block_time_ms;
        let payload = vec![
            sa_node::exec::Tx::Coinbase {
                round: r,
                generator: gen_key,
            }
            .encode(),
            {
                let n = nonces.entry(gen_key).or_insert(0u64);
                *n += 1;
                sa_node::exec::call(gen, *n - 1, [0x5a; 32], vec![0x5a; 256], 0).encode()
            },
        ];
        let mut header = Header {
            height: r,
            prev_hash,
            iteration: 0,
            timestamp: ts,
            generator: gen_key,
            seed: gen.sign(&seed_digest(&seed)),
            payload_root: merkle_root(&payload),
            state_root: [0; 32],
            faults_root: faults_root(&[]),
            failed_iterations: vec![],
            prev_attestation: rounds.last().map(|t: &RoundTraffic| t.block.attestation),
        };
        // The state root, from a node holding the blocks so far.
        let builder = Node::restore(
            genesis.clone(),
            ring.clone(),
            Keypair::from_seed(&[0xee; 32]),
            Behaviour::default(),
            &records,
        )
        .expect("the blocks so far restore");
        header.state_root = builder
            .expected_state_root(&Candidate {
                header: header.clone(),
                payload: payload.clone(),
                faults: vec![],
                signature: Signature::EMPTY,
            })
            .expect("the payload executes");
        let hash = header.hash();
        let candidate = Candidate {
            signature: gen.sign(&hash),
            header,
            payload,
            faults: vec![],
        };
        let draw = |kind| {
            committee(
                &seed.0,
                0,
                kind,
                params.max_iterations,
                &eligible,
                params.committee_credits,
            )
        };
        let (val_c, rat_c) = (draw(StepKind::Validation), draw(StepKind::Ratification));
        let vh = |step| VoteHeader {
            prev_hash,
            round: r,
            iteration: 0,
            step,
        };
        let vote = Vote::Valid(hash);
        let val_votes = sign_all(&keys, &val_c, vh(VoteStep::Validation), vote);
        let rat_votes = sign_all(&keys, &rat_c, vh(VoteStep::Ratification), vote);
        let (val_sv, val_n) = quorum(&val_c, &val_votes, sm);
        let (rat_sv, rat_n) = quorum(&rat_c, &rat_votes, sm);
        let block = Block {
            candidate: candidate.clone(),
            attestation: Attestation {
                result: Outcome::Success(hash),
                validation: val_sv,
                ratification: rat_sv,
            },
        };
        records.push(sa_node::storage::Record::Accepted(Box::new(block.clone())));
        rounds.push(RoundTraffic {
            candidate: encode(Message::Candidate(candidate.clone())),
            hash,
            validation: val_votes
                .values()
                .map(|v| encode(Message::Validation(*v)))
                .collect(),
            ratification: rat_votes
                .values()
                .map(|v| {
                    encode(Message::Ratification {
                        vote: *v,
                        validation: val_sv,
                    })
                })
                .collect(),
            ratification_to_quorum: rat_n,
            block,
            signers: (val_n, rat_n),
        });
        prev_hash = hash;
        seed = candidate.header.seed;
    }
    let fixture = Fixture {
        genesis,
        ring,
        keys,
        rounds,
        now: ts + 1,
    };
    check(&fixture);
    fixture
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(build)
}

fn message(bytes: &[u8]) -> Input {
    Input::Message {
        peer: PEER,
        bytes: bytes.to_vec(),
    }
}

/// A started node that is not a provisioner: it verifies and counts, never signs.
fn observer(f: &Fixture) -> Node {
    let mut n = Node::new(
        f.genesis.clone(),
        f.ring.clone(),
        Keypair::from_seed(&[0xee; 32]),
        Behaviour::default(),
    );
    n.handle(f.now, Input::Start);
    n
}

/// The whole stream of `rounds`: per round the candidate, the executor's verdict, every
/// Validation vote and every Ratification vote. Returns the inputs and how many are messages.
fn stream(f: &Fixture) -> (Vec<Input>, u64) {
    let mut inputs = Vec::new();
    let mut messages = 0;
    for rt in &f.rounds {
        inputs.push(message(&rt.candidate));
        inputs.extend(rt.validation.iter().map(|b| message(b)));
        inputs.extend(rt.ratification.iter().map(|b| message(b)));
        messages += 1 + rt.validation.len() + rt.ratification.len();
    }
    (inputs, messages as u64)
}

fn feed(node: &mut Node, now: u64, inputs: Vec<Input>) -> usize {
    let mut outputs = 0;
    for i in inputs {
        outputs += black_box(node.handle(now, i)).len();
    }
    outputs
}

fn assert_no_rejection(outputs: &[Output]) {
    for o in outputs {
        if let Output::Rejected { kind, reason, .. } = o {
            panic!("benchmark traffic rejected: {kind}: {reason}");
        }
    }
}

/// The traffic is valid: nothing is rejected and the observer accepts every round's block.
fn check(f: &Fixture) {
    let mut n = observer(f);
    for i in stream(f).0 {
        assert_no_rejection(&n.handle(f.now, i));
    }
    assert_eq!(n.tip_height(), ROUNDS, "the stream decides every round");
    for (r, rt) in f.rounds.iter().enumerate() {
        assert_eq!(n.block(r as u64 + 1).map(|b| b.hash()), Some(rt.hash));
    }
    let mut n = observer(f);
    let b = Message::Block(Box::new(f.rounds[0].block.clone())).to_bytes();
    assert_no_rejection(&n.handle(f.now, message(&b)));
    assert_eq!(n.tip_height(), 1, "the block is accepted");
    let rt = &f.rounds[0];
    eprintln!(
        "fixture: {} provisioners, C = 64, {} messages in {ROUNDS} rounds; round 1: {} Validation \
         and {} Ratification members, quorum signers {} + {}, ratification quorum after {} \
         votes; sizes: candidate {} B, validation {} B, ratification {} B, block {} B",
        PROVISIONERS,
        stream(f).1,
        rt.validation.len(),
        rt.ratification.len(),
        rt.signers.0,
        rt.signers.1,
        rt.ratification_to_quorum,
        rt.candidate.len(),
        rt.validation[0].len(),
        rt.ratification[0].len(),
        b.len(),
    );
}

fn messages(c: &mut Criterion) {
    let f = fixture();
    let rt = &f.rounds[0];
    let mut g = c.benchmark_group("messages");
    g.sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));

    // Complete rounds as a node receives them (late Ratification votes of a decided round
    // included: they are decoded and dropped).
    let (inputs, n) = stream(f);
    g.throughput(Throughput::Elements(n));
    g.bench_function("round_stream", |b| {
        b.iter_batched(
            || (observer(f), inputs.clone()),
            |(mut node, inputs)| feed(&mut node, f.now, inputs),
            BatchSize::PerIteration,
        )
    });

    // Validation votes only (signature check, tally, the quorum's aggregation once).
    let mut base = observer(f);
    base.handle(f.now, message(&rt.candidate));
    let val: Vec<Input> = rt.validation.iter().map(|b| message(b)).collect();
    g.throughput(Throughput::Elements(val.len() as u64));
    g.bench_function("validation_votes", |b| {
        b.iter_batched(
            || (base.clone(), val.clone()),
            |(mut node, inputs)| feed(&mut node, f.now, inputs),
            BatchSize::PerIteration,
        )
    });

    // Ratification votes up to the quorum (signature check plus the attached Validation
    // quorum's aggregate verification each; the last one forms the attestation and accepts
    // the block).
    for i in val.iter().cloned() {
        base.handle(f.now, i);
    }
    let rat: Vec<Input> = rt.ratification[..rt.ratification_to_quorum]
        .iter()
        .map(|b| message(b))
        .collect();
    g.throughput(Throughput::Elements(rat.len() as u64));
    g.bench_function("ratification_votes_to_quorum", |b| {
        b.iter_batched(
            || (base.clone(), rat.clone()),
            |(mut node, inputs)| feed(&mut node, f.now, inputs),
            BatchSize::PerIteration,
        )
    });

    // A candidate (decode, two signature checks, sortition, roots).
    let fresh = observer(f);
    g.throughput(Throughput::Elements(1));
    g.bench_function("candidate", |b| {
        b.iter_batched(
            || (fresh.clone(), message(&rt.candidate)),
            |(mut node, input)| black_box(node.handle(f.now, input)),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn attestation(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("attestation");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let signers: Vec<&Keypair> = f.keys.values().take(43).collect();
    let keys: Vec<PublicKey> = signers.iter().map(|k| k.public).collect();
    let header = VoteHeader {
        prev_hash: [7; 32],
        round: 1,
        iteration: 0,
        step: VoteStep::Validation,
    };
    let digest = vote_digest(&header, &Vote::Valid([9; 32]));
    let sigs: Vec<Signature> = signers.iter().map(|k| k.sign(&digest)).collect();
    let agg = aggregate(&sigs).expect("aggregate");
    f.ring
        .verify_aggregate(&keys, &digest, &agg)
        .expect("the aggregate verifies");

    g.bench_function("bls_sign", |b| {
        b.iter(|| signers[0].sign(black_box(&digest)))
    });
    g.bench_function("bls_verify", |b| {
        b.iter(|| f.ring.verify(&keys[0], black_box(&digest), &sigs[0]))
    });
    g.bench_function("bls_aggregate_43", |b| {
        b.iter(|| aggregate(black_box(&sigs)))
    });
    g.bench_function("bls_verify_aggregate_43", |b| {
        b.iter(|| f.ring.verify_aggregate(&keys, black_box(&digest), &agg))
    });
    g.bench_function("bls_aggregate_and_verify_43", |b| {
        b.iter(|| {
            let a = aggregate(black_box(&sigs)).expect("aggregate");
            f.ring.verify_aggregate(&keys, &digest, &a)
        })
    });

    // A whole block at tip + 1 on a fresh node: decode, candidate checks, both StepVotes
    // (43 credits each of C = 64), acceptance (ledger, labels, next round's draws).
    let fresh = observer(f);
    let block = Message::Block(Box::new(f.rounds[0].block.clone())).to_bytes();
    g.sampling_mode(SamplingMode::Flat);
    g.bench_function("block_accept_c64", |b| {
        b.iter_batched(
            || (fresh.clone(), message(&block)),
            |(mut node, input)| black_box(node.handle(f.now, input)),
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

fn sortition(c: &mut Criterion) {
    let f = fixture();
    let mut g = c.benchmark_group("sortition");
    g.warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let seed = f.genesis.genesis_seed();
    let equal: BTreeMap<PublicKey, u64> = f.keys.keys().map(|k| (*k, STAKE)).collect();
    // Random stakes from 1,000 to 1,000,000 DUSK (xorshift64 seeded by a hash: reproducible).
    let mut x = u64::from_le_bytes(blake2b256(&[b"stakes"])[..8].try_into().expect("8 bytes"));
    let random: BTreeMap<PublicKey, u64> = f
        .keys
        .keys()
        .map(|k| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (*k, (1_000 + x % 999_001) * CREDIT_WEIGHT)
        })
        .collect();
    for (name, eligible) in [
        ("committee_c64_n1000_equal", &equal),
        ("committee_c64_n1000_random", &random),
    ] {
        let c = committee(&seed.0, 0, StepKind::Validation, 50, eligible, 64);
        assert_eq!(c.values().sum::<u32>(), 64);
        eprintln!("sortition {name}: {} distinct members", c.len());
        g.bench_function(name, |b| {
            b.iter(|| {
                committee(
                    black_box(&seed.0),
                    0,
                    StepKind::Validation,
                    50,
                    black_box(eligible),
                    64,
                )
            })
        });
    }
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = messages, attestation, sortition
}
criterion_main!(benches);
