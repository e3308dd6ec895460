//! Benchmarks of execution (`cargo bench -p sa-node --bench exec`; figures in README.md).
//!
//! - `exec/benign_call`: one call of the benign sample contract (reads its input, writes one
//!   storage entry) through the block executor, fee and state included: transactions per
//!   second through the sandbox is 1 / this time.
//! - `exec/block_of_256_benign`: a block of 256 such calls, and its state root.
//! - `exec/hostile/*`: one call of each hostile sample contract with a 1,000,000 gas limit (the
//!   testnet load's): what a hostile transaction costs a validator, against the benign call.
//! - `exec/deploy`: deploying the benign contract (validation of the module).
//! - `exec/block_of_256_benign_unverified`: the block of 256 calls when no signature was
//!   checked before (a block synced, not met in the pool): 256 BLS verifications more.
//!
//! Signatures are counted as checked (the pool's) except where the name says otherwise.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use sa_node::config::Genesis;
use sa_node::exec::{self, contract_id, samples, AppState, Tx};
use sa_node::keys::{KeyRing, Keypair, PublicKey};
use sa_node::ledger::Ledger;
use sa_testkit::sim::params;

struct World {
    ring: KeyRing,
    ledger: Ledger,
    app: AppState,
    sender: Keypair,
}

fn world(codes: &[Vec<u8>]) -> World {
    let g = Genesis::testnet(2, 1_000_000_000_000, params(8), 1_000);
    let ring = g.validate().expect("valid genesis");
    let sender = Keypair::testnet(0);
    let mut w = World {
        ring,
        ledger: Ledger::genesis(&g),
        app: AppState::genesis(&g),
        sender,
    };
    let mut txs = vec![coinbase()];
    txs.extend(
        codes
            .iter()
            .enumerate()
            .map(|(n, c)| exec::deploy(&w.sender, n as u64, c.clone())),
    );
    exec::run_transactions(
        &txs,
        1,
        &mut w.ledger,
        &mut w.app,
        &w.ring,
        &params(8),
        &|_| false,
    )
    .expect("a valid block");
    w
}

fn coinbase() -> Tx {
    Tx::Coinbase {
        round: 2,
        generator: PublicKey([0; 96]),
    }
}

/// The sender's `k`-th call after the deploys.
fn call(w: &World, code: &[u8], gas: u64, k: u32) -> Tx {
    let nonce = w.app.nonce(&exec::address_of(&w.sender.public)) + u64::from(k);
    let input = format!("input {k}").into_bytes();
    exec::call(&w.sender, nonce, contract_id(code), input, gas)
}

fn run_checked(w: &World, txs: &[Tx], checked: bool) -> [u8; 32] {
    let mut ledger = w.ledger.clone();
    let mut app = w.app.clone();
    let r = exec::run_transactions(txs, 2, &mut ledger, &mut app, &w.ring, &params(8), &|_| {
        checked
    })
    .expect("a valid block");
    assert_eq!(r.len(), txs.len() - 1);
    exec::state_root(&ledger, &app)
}

fn run(w: &World, txs: &[Tx]) -> [u8; 32] {
    run_checked(w, txs, true)
}

fn bench(c: &mut Criterion) {
    let benign = samples::compile(samples::BENIGN);
    let hostile = samples::hostile();
    let mut codes = vec![benign.clone()];
    codes.extend(hostile.iter().map(|h| h.1.clone()));
    let w = world(&codes);
    let mut g = c.benchmark_group("exec");
    g.measurement_time(Duration::from_secs(3));
    let one = vec![coinbase(), call(&w, &benign, 100_000, 0)];
    g.throughput(Throughput::Elements(1));
    g.bench_function("benign_call", |b| b.iter(|| run(&w, &one)));
    let mut block = vec![coinbase()];
    block.extend((0..256).map(|k| call(&w, &benign, 100_000, k)));
    g.throughput(Throughput::Elements(256));
    g.bench_function("block_of_256_benign", |b| b.iter(|| run(&w, &block)));
    g.bench_function("block_of_256_benign_unverified", |b| {
        b.iter(|| run_checked(&w, &block, false))
    });
    g.throughput(Throughput::Elements(1));
    for (name, code, _) in &hostile {
        let txs = vec![coinbase(), call(&w, code, 1_000_000, 0)];
        g.bench_function(format!("hostile/{}", name.replace(' ', "_")), |b| {
            b.iter(|| run(&w, &txs))
        });
    }
    let nonce = w.app.nonce(&exec::address_of(&w.sender.public));
    let deploy = vec![coinbase(), exec::deploy(&w.sender, nonce, benign.clone())];
    g.bench_function("deploy", |b| {
        b.iter_batched(|| (), |()| run(&w, &deploy), BatchSize::SmallInput)
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
