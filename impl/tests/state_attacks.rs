//! sa-node's state and transactions against an attacker (spec/execution.md EXEC-TX-1,
//! EXEC-BLOCK-4, EXEC-POOL-1, EXEC-POOL-2, EXEC-POOL-3, EXEC-POOL-4, EXEC-STATE-1,
//! EXEC-STATE-2, EXEC-ROOT-2). Each test is one attack from the audit, run on the in-memory
//! network (`sa_testkit::sim`) or on the pool and executor directly, and asserts its outcome
//! and what it reached (how many junk transactions were refused, and for what):
//!
//! - spending another account's money: a transaction naming a funded account but signed by
//!   another key, and one signed by an empty account, are refused by every pool and make a
//!   block that carries them invalid;
//! - replay: an included transaction sent again is refused by the pool and invalidates a block;
//! - a junk flood (4,096 transactions from empty accounts and 500 from one funded account):
//!   refused before any signature is checked or past the sender's window, and an honest
//!   deploy sent after it is included in the next blocks;
//! - the pool's policy: a full pool evicts the cheapest for a better price and refuses an
//!   equal one, a replacement needs +10%, transactions expire and go stale;
//! - memory: at most (non-final heights + 1) application states are held;
//! - a block a quorum attested whose state root is wrong halts a node that syncs it and
//!   makes a log holding it refuse to restore; no fallback;
//! - snapshots: a restart from a snapshot reaches the same state executing only what follows
//!   it, and a snapshot whose state does not give its block's root is refused.

use sa_node::config::Genesis;
use sa_node::exec::{self, address_of, samples, AppState, BlockError, SignedTx, Tx};
use sa_node::keys::{aggregate, Keypair};
use sa_node::ledger::Ledger;
use sa_node::message::{vote_digest, Attestation, Block, Message, Outcome, StepVotes, VoteHeader};
use sa_node::node::{Node, Output, Pool, MAX_PER_SENDER, MAX_POOL, POOL_TTL_MS};
use sa_node::storage::Record;
use sa_node::tally::{Vote, VoteStep};
use sa_testkit::sim::{params, Sim};

const STAKE: u64 = 1_000_000_000_000;

fn network() -> (Sim, Vec<Keypair>) {
    let mut sim = Sim::new(4, params(16), STAKE, &[]);
    sim.start();
    (sim, (0..4).map(Keypair::testnet).collect())
}

fn advance(sim: &mut Sim, more: u64) {
    let target = sim.min_tip() + more;
    assert!(
        sim.run_until(600_000, |s| s.min_tip() >= target),
        "stuck below {target}"
    );
}

/// The reasons node `i` gave for the transactions it refused.
fn refused(sim: &Sim, i: usize) -> Vec<String> {
    sim.outputs_of(i)
        .filter_map(|o| match o {
            Output::Rejected {
                kind: "transaction",
                reason,
                ..
            } => Some(reason.clone()),
            _ => None,
        })
        .collect()
}

fn forged(victim: &Keypair, signer: &Keypair, nonce: u64) -> Tx {
    let mut t = exec::deploy(victim, nonce, samples::compile(samples::BENIGN));
    if let Tx::Signed(s) = &mut t {
        s.signature = signer.sign(&s.digest());
    }
    t
}

/// Runs `txs` after a coinbase on the genesis state of a 4-provisioner network.
fn run_on_genesis(txs: Vec<Tx>) -> Result<AppState, BlockError> {
    let g = Genesis::testnet(4, STAKE, params(16), 1_000);
    let ring = g.validate().expect("valid genesis");
    let mut ledger = Ledger::genesis(&g);
    let mut app = AppState::genesis(&g);
    let mut all = vec![Tx::Coinbase {
        round: 1,
        generator: Keypair::testnet(0).public,
    }];
    all.extend(txs);
    exec::run_transactions(&all, 1, &mut ledger, &mut app, &ring, &params(16), &|_| {
        false
    })?;
    Ok(app)
}

#[test]
fn spending_another_accounts_money_is_refused_by_every_pool_and_invalidates_a_block() {
    let (mut sim, keys) = network();
    let attacker = Keypair::testnet(77);
    let victim = &keys[0];
    let before = sim.node(0).app_state().balance(&address_of(&victim.public));
    // Signed by the attacker, naming the victim as sender; and the attacker's own (empty).
    sim.submit(forged(victim, &attacker, 0).encode());
    sim.submit(exec::deploy(&attacker, 0, samples::compile(samples::BENIGN)).encode());
    advance(&mut sim, 2);
    for i in 0..4 {
        let r = refused(&sim, i);
        assert_eq!(r.len(), 2, "node {i}: {r:?}");
        assert!(r[0].contains("not signed by its sender"), "{r:?}");
        assert!(r[1].contains("the sender holds 0"), "{r:?}");
        assert_eq!(sim.node(i).pool_len(), 0);
    }
    let after = sim.node(0).app_state().balance(&address_of(&victim.public));
    assert_eq!(before, after, "the victim paid for something");
    // A generator that includes them anyway proposes an invalid block (EXEC-BLOCK-4).
    let e = run_on_genesis(vec![forged(victim, &attacker, 0)]).unwrap_err();
    assert!(
        matches!(&e, BlockError::Unpayable { index: 1, problem } if problem.contains("not signed")),
        "{e}"
    );
    let e = run_on_genesis(vec![exec::deploy(&attacker, 0, vec![0; 10])]).unwrap_err();
    assert!(e.to_string().contains("below the largest fee"), "{e}");
    // The victim's own transaction, signed by the victim, runs.
    let app = run_on_genesis(vec![exec::deploy(victim, 0, vec![0; 10])]).expect("valid");
    assert_eq!(app.nonce(&address_of(&victim.public)), 1);
}

#[test]
fn a_replayed_transaction_is_refused_and_invalidates_a_block() {
    let (mut sim, keys) = network();
    let tx = exec::deploy(&keys[0], 0, samples::compile(samples::BENIGN)).encode();
    sim.submit(tx.clone());
    advance(&mut sim, 2);
    let a = address_of(&keys[0].public);
    assert_eq!(sim.node(0).app_state().nonce(&a), 1, "the deploy ran once");
    let fees = sim.node(0).app_state().fees;
    sim.submit(tx.clone());
    advance(&mut sim, 2);
    assert_eq!(sim.node(0).app_state().nonce(&a), 1, "the replay ran");
    assert_eq!(sim.node(0).app_state().fees, fees, "the replay paid a fee");
    let r = refused(&sim, 0);
    assert_eq!(r.len(), 1, "{r:?}");
    assert!(r[0].contains("nonce 0 is used"), "{r:?}");
    // In a block, twice: the second is out of nonce order.
    let t = sa_node::encoding::decode::<Tx>(&tx, "Tx").expect("decodes");
    let e = run_on_genesis(vec![t.clone(), t]).unwrap_err();
    assert!(
        matches!(&e, BlockError::Unpayable { index: 2, problem } if problem.contains("nonce 0")),
        "{e}"
    );
}

#[test]
fn honest_transactions_are_included_under_a_junk_flood() {
    let (mut sim, keys) = network();
    // 4,096 calls from as many empty accounts, then 500 from one funded account (keys[1]).
    let junk: Vec<Keypair> = (0..4_096u32)
        .map(|i| Keypair::testnet(10_000 + i))
        .collect();
    for k in &junk {
        sim.submit(exec::call(k, 0, [9; 32], vec![0; 64], 1_000).encode());
    }
    for n in 0..500 {
        sim.submit(exec::call(&keys[1], n, [9; 32], vec![1; 64], 1_000).encode());
    }
    let honest = exec::deploy(&keys[0], 0, samples::compile(samples::BENIGN));
    sim.submit(honest.encode());
    advance(&mut sim, 3);
    // What the flood reached: every empty account refused on its balance (before any
    // signature check), the funded one past its window of 16.
    let r = refused(&sim, 0);
    let count = |what: &str| r.iter().filter(|x| x.contains(what)).count();
    assert_eq!(count("the sender holds 0"), 4_096, "{:?}", &r[..3]);
    assert_eq!(
        count("beyond the sender's window"),
        500 - MAX_PER_SENDER as usize
    );
    assert_eq!(r.len(), 4_096 + 500 - MAX_PER_SENDER as usize);
    // The honest deploy is in a block, and so are the funded attacker's 16 (they pay).
    let included: Vec<Tx> = (1..=sim.node(0).tip_height())
        .flat_map(|h| {
            sim.node(0)
                .block(h)
                .expect("held")
                .candidate
                .payload
                .clone()
        })
        .filter_map(|b| sa_node::encoding::decode::<Tx>(&b, "Tx").ok())
        .filter(|t| matches!(t, Tx::Signed(_)))
        .collect();
    assert!(
        included.contains(&honest),
        "the honest deploy was not included"
    );
    assert_eq!(included.len(), 1 + MAX_PER_SENDER as usize);
    let a1 = address_of(&keys[1].public);
    assert_eq!(sim.node(0).app_state().nonce(&a1), MAX_PER_SENDER);
    // Equal state roots across nodes at a common height.
    let h = sim.min_tip();
    let root = |i: usize| sim.node(i).block(h).expect("held").header().state_root;
    assert!((1..4).all(|i| root(i) == root(0)));
}

/// A pool on a state where `n` accounts hold `balance` each; their keys.
fn funded(n: u32, balance: u64) -> (AppState, Vec<Keypair>) {
    let keys: Vec<Keypair> = (0..n).map(|i| Keypair::testnet(20_000 + i)).collect();
    let mut app = AppState::default();
    for k in &keys {
        app.balances.insert(address_of(&k.public), balance);
    }
    (app, keys)
}

fn priced(k: &Keypair, nonce: u64, price: u64) -> Vec<u8> {
    Tx::Signed(SignedTx::new(
        k,
        nonce,
        price,
        exec::Body::Call {
            contract: [3; 32],
            input: vec![],
            gas_limit: 1_000,
        },
    ))
    .encode()
}

#[test]
fn a_full_pool_evicts_the_cheapest_for_a_better_price_and_refuses_an_equal_one() {
    let senders = (MAX_POOL as u64).div_ceil(MAX_PER_SENDER) as u32 + 1;
    let (app, keys) = funded(senders, 1_000_000_000);
    let mut pool = Pool::default();
    let mut added = 0;
    'fill: for k in &keys[..keys.len() - 1] {
        for n in 0..MAX_PER_SENDER {
            if pool.len() == MAX_POOL {
                break 'fill;
            }
            pool.admit(priced(k, n, 1), 0, &app, true).expect("room");
            added += 1;
        }
    }
    assert_eq!((pool.len(), added), (MAX_POOL, MAX_POOL));
    let newcomer = keys.last().expect("one more sender");
    let e = pool
        .admit(priced(newcomer, 0, 1), 0, &app, true)
        .unwrap_err();
    assert!(e.contains("the pool is full"), "{e}");
    pool.admit(priced(newcomer, 0, 2), 0, &app, true)
        .expect("a better price evicts the cheapest");
    assert_eq!(pool.len(), MAX_POOL);
    // Replacement: +5% is refused, +10% replaces.
    let e = pool.admit(priced(newcomer, 0, 2), 1, &app, true);
    assert!(matches!(e, Ok(sa_node::node::Admitted::Known)), "{e:?}");
    let bumped = pool.admit(priced(newcomer, 0, 3), 1, &app, true);
    assert_eq!(bumped, Ok(sa_node::node::Admitted::Replaced));
    let (app2, k2) = funded(1, 1_000_000_000);
    let mut small = Pool::default();
    small
        .admit(priced(&k2[0], 0, 100), 0, &app2, true)
        .expect("in");
    let e = small
        .admit(priced(&k2[0], 0, 105), 0, &app2, true)
        .unwrap_err();
    assert!(e.contains("below 10% more"), "{e}");
    small
        .admit(priced(&k2[0], 0, 110), 0, &app2, true)
        .expect("+10%");
    // The window, and what a sender can pay.
    let e = small
        .admit(priced(&k2[0], MAX_PER_SENDER, 1), 0, &app2, true)
        .unwrap_err();
    assert!(e.contains("beyond the sender's window"), "{e}");
    let (poor, kp) = funded(1, 2_500);
    let mut p = Pool::default();
    p.admit(priced(&kp[0], 0, 1), 0, &poor, true)
        .expect("2,000 of 2,500");
    let e = p.admit(priced(&kp[0], 1, 1), 0, &poor, true).unwrap_err();
    assert!(e.contains("holds 2500"), "{e}");
    // A signature is checked when not said to be.
    let mut bad = priced(&kp[0], 0, 5);
    let last = bad.len() - 1;
    bad[last] ^= 1;
    assert!(Pool::default().admit(bad, 0, &poor, false).is_err());
    // Stale (the nonce was used) and expired transactions leave.
    let mut used = app2.clone();
    used.nonces.insert(address_of(&k2[0].public), 1);
    small
        .admit(priced(&k2[0], 1, 1), 0, &app2, true)
        .expect("in");
    assert_eq!(small.len(), 2);
    small.after_block(&used, 1);
    assert_eq!(small.len(), 1, "the used nonce stayed");
    small.after_block(&used, POOL_TTL_MS);
    assert!(small.is_empty(), "an expired transaction stayed");
}

#[test]
fn the_block_a_generator_takes_from_the_pool_is_valid_and_by_price() {
    let (app, keys) = funded(3, 1_000_000_000);
    let mut pool = Pool::default();
    for (i, k) in keys.iter().enumerate() {
        for n in 0..3 {
            pool.admit(priced(k, n, 1 + i as u64), 0, &app, true)
                .expect("in");
        }
    }
    let taken = pool.take(&app, 5, usize::MAX, u64::MAX);
    let prices: Vec<u64> = taken
        .iter()
        .map(|b| match sa_node::encoding::decode::<Tx>(b, "Tx") {
            Ok(Tx::Signed(t)) => t.gas_price,
            _ => 0,
        })
        .collect();
    assert_eq!(prices, [3, 3, 3, 2, 2]);
}

#[test]
fn at_most_the_non_final_heights_and_one_hold_an_application_state() {
    let (mut sim, keys) = network();
    for n in 0..20 {
        sim.submit(exec::call(&keys[0], n, [1; 32], vec![n as u8; 512], 1_000).encode());
    }
    advance(&mut sim, 25);
    for i in 0..4 {
        let node = sim.node(i);
        let non_final = (node.tip_height() - node.last_final()) as usize;
        assert!(node.last_final() >= 10);
        assert_eq!(node.app_states_held(), non_final + 1, "node {i}");
        assert!(node.app_state_at(node.last_final() - 1).is_none());
        assert!(node.app_state_at(node.last_final()).is_some());
    }
}

/// The next block of `sim`'s chain with its state root replaced, re-signed by its generator
/// and attested by every member of both committees of iteration 0.
fn attested_with_wrong_root(sim: &Sim, height: u64) -> Block {
    let honest = sim.node(1).block(height).expect("built").clone();
    let mut c = honest.candidate.clone();
    c.header.state_root[0] ^= 0xff;
    let key = |pk| {
        (0..4)
            .map(Keypair::testnet)
            .find(|k| k.public == pk)
            .expect("a provisioner")
    };
    c.signature = key(c.header.generator).sign(&c.header.hash());
    let hash = c.header.hash();
    // The committees of that round: a node whose tip is its parent.
    let mut at = Node::restore(
        sim.genesis.clone(),
        sim.ring.clone(),
        Keypair::testnet(3),
        Default::default(),
        &(1..height)
            .map(|h| Record::Accepted(Box::new(sim.node(1).block(h).expect("held").clone())))
            .collect::<Vec<_>>(),
    )
    .expect("restores");
    at.handle(0, sa_node::node::Input::Start);
    let (_, val, rat) = at.committees(c.header.iteration);
    let votes = |committee: &sa_node::sortition::Committee<sa_node::keys::PublicKey>, step| {
        let header = VoteHeader {
            prev_hash: c.header.prev_hash,
            round: height,
            iteration: c.header.iteration,
            step,
        };
        let digest = vote_digest(&header, &Vote::Valid(hash));
        let sigs: Vec<_> = committee.keys().map(|pk| key(*pk).sign(&digest)).collect();
        StepVotes {
            bitset: (1u64 << committee.len()) - 1,
            aggregate: aggregate(&sigs).expect("aggregates"),
        }
    };
    Block {
        attestation: Attestation {
            result: Outcome::Success(hash),
            validation: votes(&val, VoteStep::Validation),
            ratification: votes(&rat, VoteStep::Ratification),
        },
        candidate: c,
    }
}

#[test]
fn a_quorum_attested_block_with_a_wrong_root_halts_the_node_and_refuses_the_log() {
    let (mut sim, _) = network();
    advance(&mut sim, 4);
    let h = 3;
    let bad = attested_with_wrong_root(&sim, h);
    // A node that synced up to h - 1 meets it.
    let records: Vec<Record> = (1..h)
        .map(|k| Record::Accepted(Box::new(sim.node(1).block(k).expect("held").clone())))
        .collect();
    let mut node = Node::restore(
        sim.genesis.clone(),
        sim.ring.clone(),
        Keypair::testnet(3),
        Default::default(),
        &records,
    )
    .expect("restores");
    node.handle(0, sa_node::node::Input::Start);
    let out = node.handle(
        1,
        sa_node::node::Input::Message {
            peer: 1,
            bytes: Message::Block(Box::new(bad.clone())).to_bytes(),
        },
    );
    let halted = out.iter().find_map(|o| match o {
        Output::Halted { height, reason, .. } => Some((*height, reason.clone())),
        _ => None,
    });
    let (height, reason) = halted.unwrap_or_else(|| panic!("no halt: {out:?}"));
    assert_eq!(height, h);
    assert!(reason.contains("state root"), "{reason}");
    assert!(
        !out.iter()
            .any(|o| matches!(o, Output::Persist(_) | Output::Accepted(_))),
        "something was appended: {out:?}"
    );
    assert_eq!(node.tip_height(), h - 1);
    assert!(node.halted().is_some());
    assert!(node.handle(2, sa_node::node::Input::Start).is_empty());
    // A log that holds it does not restore.
    let mut log = records.clone();
    log.push(Record::Accepted(Box::new(bad)));
    let e = Node::restore(
        sim.genesis.clone(),
        sim.ring.clone(),
        Keypair::testnet(3),
        Default::default(),
        &log,
    )
    .unwrap_err();
    assert!(e.to_string().contains("state root"), "{e}");
}

#[test]
fn a_restart_from_a_snapshot_executes_only_what_follows_it() {
    let (mut sim, keys) = network();
    if let Some(n) = sim.nodes[0].as_mut() {
        n.set_snapshot_every(5);
    }
    let code = samples::compile(samples::BENIGN);
    let id = exec::contract_id(&code);
    sim.submit(exec::deploy(&keys[0], 0, code).encode());
    advance(&mut sim, 3);
    for n in 1..6u64 {
        sim.submit(exec::call(&keys[0], n, id, vec![n as u8; 32], 100_000).encode());
    }
    advance(&mut sim, 20);
    let snaps: Vec<_> = sim
        .outputs_of(0)
        .filter_map(|o| match o {
            Output::Snapshot(s) => Some(s.as_ref().clone()),
            _ => None,
        })
        .collect();
    assert!(snaps.len() >= 2, "{} snapshots", snaps.len());
    assert!(snaps.windows(2).all(|w| w[1].height >= w[0].height + 5));
    let s = snaps.last().expect("one").clone();
    // Through the file format.
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("log.snapshot");
    sa_node::snapshot::write(&path, &s).expect("written");
    let s = sa_node::snapshot::read(&path)
        .expect("reads")
        .expect("there");
    let live = sim.node(0);
    let restore = |snap: Option<&sa_node::snapshot::Snapshot>| {
        Node::restore_from(
            sim.genesis.clone(),
            sim.ring.clone(),
            Keypair::testnet(0),
            Default::default(),
            snap,
            &sim.logs[0],
        )
    };
    let from_snap = restore(Some(&s)).expect("restores from the snapshot");
    let from_genesis = restore(None).expect("restores from genesis");
    for n in [&from_snap, &from_genesis] {
        assert_eq!(n.tip_hash(), live.tip_hash());
        assert_eq!(n.chain_labels(), live.chain_labels());
        assert_eq!(n.app_state(), live.app_state());
        assert_eq!(n.ledger(), live.ledger());
    }
    // Below the snapshot's parent nothing was executed: no ledger, no state.
    assert!(from_snap.ledger_at(s.height - 2).is_none());
    assert!(from_snap.ledger_at(s.height - 1).is_some());
    assert!(from_genesis.ledger_at(s.height - 2).is_some());
    // A snapshot whose state does not give its block's root is refused.
    let mut forged = s.clone();
    let mut app = (*forged.app).clone();
    app.balances.insert(address_of(&keys[3].public), 1);
    forged.app = std::sync::Arc::new(app);
    let e = restore(Some(&forged)).unwrap_err();
    assert!(
        e.to_string().contains("the snapshot's state gives root"),
        "{e}"
    );
    // A torn file is refused with its name.
    let bytes = std::fs::read(&path).expect("read");
    std::fs::write(&path, &bytes[..bytes.len() - 3]).expect("write");
    let e = sa_node::snapshot::read(&path).unwrap_err();
    assert!(
        e.contains("log.snapshot") && e.contains("not a usable snapshot"),
        "{e}"
    );
}

#[test]
fn a_payload_over_the_count_or_the_bytes_is_an_invalid_block() {
    let g = Keypair::testnet(0).public;
    let coinbase = Tx::Coinbase {
        round: 1,
        generator: g,
    }
    .encode();
    let k = Keypair::testnet(1);
    let small = |n: u64| exec::call(&k, n, [0; 32], vec![], 0).encode();
    let mut payload = vec![coinbase.clone()];
    payload.extend((0..exec::MAX_BLOCK_TXS as u64).map(small));
    assert!(exec::decode_payload(&payload, 1, &g).is_ok(), "256 fit");
    payload.push(small(256));
    let e = exec::decode_payload(&payload, 1, &g).unwrap_err();
    assert!(matches!(e, BlockError::TooLarge { txs: 257, .. }), "{e}");
    let big = |n: u64| exec::call(&k, n, [0; 32], vec![7; 60_000], 0).encode();
    let mut payload = vec![coinbase];
    payload.extend((0..9).map(big));
    let e = exec::decode_payload(&payload, 1, &g).unwrap_err();
    assert!(
        matches!(e, BlockError::TooLarge { txs: 9, bytes } if bytes > exec::MAX_PAYLOAD_BYTES),
        "{e}"
    );
}
