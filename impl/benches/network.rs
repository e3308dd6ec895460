//! Benchmarks of what a peer costs the node before the core (`cargo bench -p sa-node --bench
//! network`; figures in docs/measurements.md, "The network against an attacker"):
//!
//! - `verify/cold` and `verify/cached`: one vote signature checked by a `KeyRing` without and
//!   with the runtime's cache of verified signatures (what the core pays for a vote the
//!   connection's thread already verified);
//! - `verify/forged`: a vote signed over another digest (a valid point: the whole check is
//!   paid before it fails), what one forgery costs the connection's thread before the peer is
//!   cut;
//! - `verify/batch-64`: 64 vote signatures checked at once (`KeyRing::verify_batch`, one
//!   multi-pairing with random weights), what a connection pays for 64 frames read together;
//! - `handshake/both-sides`: one handshake, both hellos encoded and decoded, both proofs signed
//!   and verified (what each new connection costs);
//! - `accounts/frame`: the per-frame rate and score bookkeeping of `peers::Accounts`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use sa_node::keys::{KeyRing, Keypair, Signature};
use sa_node::peers::Accounts;
use sa_node::transport::{check_proof, transcript, Hello, Role};

fn ring(keys: &[&Keypair]) -> KeyRing {
    let mut r = KeyRing::default();
    for k in keys {
        r.insert(k.public, &k.proof_of_possession())
            .expect("valid key");
    }
    r
}

fn verify(c: &mut Criterion) {
    let k = Keypair::testnet(0);
    let digest = [7u8; 32];
    let sig = k.sign(&digest);
    let cold = ring(&[&k]);
    let cached = ring(&[&k]).with_cache(65_536);
    cached.verify(&k.public, &digest, &sig).expect("verifies");
    // A valid curve point signing another digest: the full pairing is paid before it fails
    // (a byte flipped at random usually fails earlier, at decompression).
    let forged = k.sign(&[8u8; 32]);
    let mut g = c.benchmark_group("verify");
    g.bench_function("cold", |b| {
        b.iter(|| cold.verify(&k.public, black_box(&digest), &sig))
    });
    g.bench_function("cached", |b| {
        b.iter(|| cached.verify(&k.public, black_box(&digest), &sig))
    });
    g.bench_function("forged", |b| {
        b.iter(|| cold.verify(&k.public, black_box(&digest), &forged).is_err())
    });
    // 64 votes of 4 signers checked in one multi-pairing (no cache: each run pays it all).
    let signers: Vec<Keypair> = (0..4).map(Keypair::testnet).collect();
    let batch_ring = ring(&signers.iter().collect::<Vec<_>>());
    let items: Vec<_> = (0..64u8)
        .map(|i| {
            let k = &signers[usize::from(i) % 4];
            (k.public, vec![i; 32], k.sign(&[i; 32]))
        })
        .collect();
    g.bench_function("batch-64", |b| {
        b.iter(|| batch_ring.verify_batch(black_box(&items)))
    });
    g.finish();
}

fn handshake(c: &mut Criterion) {
    let (a, b) = (Keypair::testnet(0), Keypair::testnet(1));
    let chain = [9u8; 32];
    c.bench_function("handshake/both-sides", |bench| {
        bench.iter(|| {
            let ha = Hello::new(&a, Role::Peer, chain).encode();
            let hb = Hello::new(&b, Role::Peer, chain).encode();
            let (da, db) = (
                Hello::decode(&ha).expect("hello"),
                Hello::decode(&hb).expect("hello"),
            );
            let pa: Signature = a.sign(&transcript(&chain, &ha, &hb));
            let pb: Signature = b.sign(&transcript(&chain, &hb, &ha));
            check_proof(&chain, &da, &ha, &hb, &pa.0).expect("a");
            check_proof(&chain, &db, &hb, &ha, &pb.0).expect("b");
        })
    });
}

fn accounts(c: &mut Criterion) {
    let mut acc = Accounts::default();
    acc.connected(1, Keypair::testnet(1).public, 0);
    let mut now = 0u64;
    c.bench_function("accounts/frame", |b| {
        b.iter(|| {
            now += 1;
            black_box(acc.frame(1, 200, true, now))
        })
    });
}

criterion_group!(benches, verify, handshake, accounts);
criterion_main!(benches);
