//! Hostile contracts (spec/execution.md EXEC-VM-*, EXEC-TX-2): each one is deployed and called
//! in a real block of a 4-node in-memory network; its transaction fails with a receipt that
//! says why, the block is still produced, attested and accepted by every node, the state roots
//! agree, and a benign call in the same block takes effect. What each test reaches is
//! asserted: the failure code of the hostile call, the benign call's storage write, blocks
//! accepted after it.

use sa_node::exec::{self, address_of, contract_id, samples, vm, StakeOp, Status, Tx};
use sa_node::keys::Keypair;
use sa_node::node::{AcceptedBlock, Output};
use sa_testkit::sim::{params, Sim};

fn hostile() -> Vec<(&'static str, Vec<u8>, &'static str)> {
    samples::hostile()
}

#[test]
fn every_hostile_contract_fails_alone_in_the_sandbox() {
    let engine = vm::engine();
    let empty = Default::default();
    for (name, code, expected) in hostile() {
        let (r, used) = vm::call(&engine, &code, &empty, b"", exec::MAX_TX_GAS);
        let f = r.expect_err(name);
        assert_eq!(f.code(), expected, "{name}: {f}");
        assert!(used <= exec::MAX_TX_GAS, "{name}: used {used}");
    }
    let benign = samples::compile(samples::BENIGN);
    let (r, used) = vm::call(&engine, &benign, &empty, b"hello", 1_000_000);
    let s = r.expect("benign call");
    assert_eq!(
        s.storage.get(b"k".as_slice()).map(Vec::as_slice),
        Some(b"hello".as_slice())
    );
    assert!(used > 0);
    // Out of gas is reported as such, with exactly the limit used.
    let (r, used) = vm::call(&engine, &benign, &empty, b"hello", 10);
    assert_eq!(r.unwrap_err().code(), "out-of-gas");
    assert_eq!(used, 10);
}

const STAKE: u64 = 1_000_000_000_000;

fn network() -> (Sim, Vec<Keypair>) {
    let mut sim = Sim::new(4, params(16), STAKE, &[]);
    sim.start();
    (sim, (0..4).map(Keypair::testnet).collect())
}

fn accepted(sim: &Sim, i: usize) -> Vec<&AcceptedBlock> {
    sim.outputs_of(i)
        .filter_map(|o| match o {
            Output::Accepted(a) => Some(a),
            _ => None,
        })
        .collect()
}

/// Runs until every node is `more` blocks above the lowest tip now.
fn advance(sim: &mut Sim, more: u64) {
    let target = sim.min_tip() + more;
    assert!(
        sim.run_until(600_000, |s| s.min_tip() >= target),
        "stuck below {target}"
    );
}

#[test]
fn blocks_keep_coming_while_every_block_calls_hostile_contracts() {
    let (mut sim, keys) = network();
    let sender = &keys[0];
    let mut nonce = 0u64;
    let mut next = || {
        nonce += 1;
        nonce - 1
    };
    let benign = samples::compile(samples::BENIGN);
    let benign_id = contract_id(&benign);
    let hostile = hostile();
    // Deploy everything (the invalid module's deploy fails itself).
    let mut txs = vec![exec::deploy(sender, next(), benign.clone())];
    for (_, code, _) in &hostile {
        txs.push(exec::deploy(sender, next(), code.clone()));
    }
    for tx in &txs {
        sim.submit(tx.encode());
    }
    advance(&mut sim, 2);
    // Then, round after round, call every hostile contract and the benign one.
    let mut failures = std::collections::BTreeMap::<String, u32>::new();
    let mut benign_ok = 0;
    for k in 0..4u8 {
        for (_, code, _) in &hostile {
            sim.submit(exec::call(sender, next(), contract_id(code), vec![k], 2_000_000).encode());
        }
        sim.submit(exec::call(sender, next(), benign_id, vec![b'v', k], 100_000).encode());
        advance(&mut sim, 1);
    }
    advance(&mut sim, 3);
    for a in accepted(&sim, 0) {
        for r in &a.receipts {
            match &r.status {
                Status::Failed { code, .. } => *failures.entry(code.clone()).or_default() += 1,
                Status::Ok if r.kind == "call" => benign_ok += 1,
                Status::Ok => {}
            }
        }
    }
    // Every hostile contract failed for its own reason: the ones the sandbox refuses to store
    // (an import of protocol state, a module that does not validate) at deployment, and their
    // calls then find no contract; the others at each of the 4 calls.
    let count = |code: &str| failures.get(code).copied().unwrap_or(0);
    for (name, _, code) in &hostile {
        let at_deploy = matches!(*code, "bad-interface" | "invalid-module");
        let want = if at_deploy { 1 } else { 4 };
        assert!(count(code) >= want, "{name}: {failures:?}");
    }
    assert_eq!(count("no-contract"), 8, "{failures:?}");
    assert_eq!(count("out-of-memory"), 8, "{failures:?}");
    assert_eq!(benign_ok, 4, "{failures:?}");
    // The benign contract's last write is in every node's state, and the roots agree.
    let v = sim.node(0).app_state().storage(&benign_id)[b"k".as_slice()].clone();
    assert_eq!(v, vec![b'v', 3]);
    let tip = sim.node(0).tip_hash();
    for i in 1..4 {
        let n = sim.node(i);
        if n.tip_hash() == tip {
            assert_eq!(n.app_state(), sim.node(0).app_state());
        }
    }
    // Blocks kept coming and became Final.
    assert!(sim.node(0).tip_height() >= 9);
    assert!(
        sim.node(0).last_final() >= 5,
        "last final {}",
        sim.node(0).last_final()
    );
    // The pool is empty: everything submitted was included once.
    assert_eq!(sim.node(0).pool_len(), 0);
}

#[test]
fn stake_rules_are_the_only_way_weights_change() {
    let (mut sim, keys) = network();
    let p = params(16);
    let p0 = keys[0].public;
    let before = sim.node(0).ledger_at(0).unwrap().accounts[&p0].clone();
    // A stake operation for p0 signed by another key never reaches a block (every pool
    // refuses it); the good one takes effect and matures at next_epoch(h) + EPOCH.
    let mut forged = exec::stake_tx_signed(&keys[0], StakeOp::Stake { amount: 7 }, 0);
    if let Tx::Signed(t) = &mut forged {
        t.signature = keys[1].sign(&t.digest());
    }
    let added = 500_000_000_000;
    sim.submit(forged.encode());
    sim.submit(exec::stake_tx_signed(&keys[0], StakeOp::Stake { amount: added }, 0).encode());
    advance(&mut sim, 2);
    let stake_receipts = |sim: &Sim| -> Vec<(u64, String)> {
        accepted(sim, 0)
            .iter()
            .flat_map(|a| a.receipts.iter().map(move |r| (a.height, r)))
            .filter(|(_, r)| r.kind == "stake")
            .map(|(h, r)| match &r.status {
                Status::Ok => (h, "ok".to_string()),
                Status::Failed { code, .. } => (h, code.clone()),
            })
            .collect()
    };
    let codes: Vec<String> = stake_receipts(&sim).into_iter().map(|(_, c)| c).collect();
    assert_eq!(codes, ["ok"]);
    let refused: Vec<&String> = sim
        .outputs_of(0)
        .filter_map(|o| match o {
            Output::Rejected {
                kind: "transaction",
                reason,
                ..
            } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(
        refused[0].contains("not signed by its sender"),
        "{refused:?}"
    );
    let h_staked = stake_receipts(&sim)[0].0;
    let matures = sa_node::ledger::next_epoch(h_staked, p.epoch) + p.epoch;
    let tip = sim.node(0).tip_height();
    let l = sim.node(0).ledger_at(tip).unwrap().accounts[&p0].clone();
    assert_eq!(
        (l.maturing, l.stake, l.matures_at),
        (added, before.stake, matures)
    );
    let weight = |sim: &Sim, round: u64| {
        sim.node(0)
            .ledger_at(round - 1)
            .unwrap()
            .eligible(round, &p)
            .get(&p0)
            .copied()
    };
    // Before maturity the weight is the old stake; from `matures` on, old + new.
    advance(&mut sim, matures - tip);
    assert_eq!(weight(&sim, matures - 1), Some(before.stake));
    assert_eq!(weight(&sim, matures), Some(before.stake + added));
    // Rewards accrued but never became weight: stake is exactly genesis + added.
    let l = sim.node(0).ledger_at(matures - 1).unwrap().accounts[&p0].clone();
    assert!(l.reward > 0);
    assert_eq!(l.stake + l.locked, before.stake + added);
    // Withdraw moves reward to the account; unstake removes all weight.
    let bal = |sim: &Sim| sim.node(0).app_state().balance(&address_of(&p0));
    let b0 = bal(&sim);
    sim.submit(exec::stake_tx_signed(&keys[0], StakeOp::Withdraw { amount: l.reward }, 1).encode());
    sim.submit(exec::stake_tx_signed(&keys[0], StakeOp::Unstake, 2).encode());
    advance(&mut sim, 2);
    let tip = sim.node(0).tip_height();
    assert_eq!(weight(&sim, tip + 1), None);
    assert_eq!(
        bal(&sim),
        b0 + l.reward + before.stake + added - 2 * exec::BASE_FEE
    );
    // Consensus went on without p0's weight.
    advance(&mut sim, 2);
}
