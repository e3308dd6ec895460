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
//! - `handshake/both-sides`: one whole handshake over an in-memory pipe, both sides: hellos,
//!   Noise XX (three X25519 exchanges each), both BLS proofs signed and verified (what each new
//!   connection costs);
//! - `seal/*`: sealing a 200-byte vote and a 1 MiB block for a session (ChaCha20-Poly1305);
//!   `open/*`: opening them, which is also what a forged frame costs the reader at worst (one
//!   whose last chunk was changed: every chunk before it is opened first);
//! - `accounts/frame`: the per-frame rate and score bookkeeping of `peers::Accounts`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};

use sa_node::keys::{KeyRing, Keypair};
use sa_node::peers::Accounts;
use sa_node::transport::{
    handshake as handshake_on, open, seal, Admission, NoiseKey, Role, Session,
};

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

/// Two provisioners, their Noise keys and the admission both use.
struct Pair {
    a: Keypair,
    b: Keypair,
    na: NoiseKey,
    nb: NoiseKey,
    adm: Admission,
    rt: tokio::runtime::Runtime,
}

impl Pair {
    fn new() -> Pair {
        let (a, b) = (Keypair::testnet(0), Keypair::testnet(1));
        let adm = Admission {
            chain: [9u8; 32],
            provisioners: [a.public, b.public].into_iter().collect(),
            clients: false,
        };
        Pair {
            a,
            b,
            na: NoiseKey::generate(),
            nb: NoiseKey::generate(),
            adm,
            rt: tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("runtime"),
        }
    }

    /// The whole exchange both sides run on a new connection (hellos, Noise XX, both BLS
    /// proofs signed and verified), over an in-memory pipe: the dialer's session, then the
    /// listener's.
    fn handshake(&self) -> (Session, Session) {
        use tokio_util::codec::{FramedRead, FramedWrite, LengthDelimitedCodec};
        let codec = || {
            LengthDelimitedCodec::builder()
                .max_frame_length(sa_node::transport::HANDSHAKE_FRAME)
                .new_codec()
        };
        self.rt.block_on(async {
            let (x, y) = tokio::io::duplex(4096);
            let (xr, xw) = tokio::io::split(x);
            let (yr, yw) = tokio::io::split(y);
            let (mut xr, mut xw) = (FramedRead::new(xr, codec()), FramedWrite::new(xw, codec()));
            let (mut yr, mut yw) = (FramedRead::new(yr, codec()), FramedWrite::new(yw, codec()));
            let (sa, sb) = tokio::join!(
                handshake_on(
                    &mut xr,
                    &mut xw,
                    (&self.a, &self.na),
                    Role::Peer,
                    true,
                    &self.adm
                ),
                handshake_on(
                    &mut yr,
                    &mut yw,
                    (&self.b, &self.nb),
                    Role::Peer,
                    false,
                    &self.adm
                ),
            );
            (sa.expect("dialer"), sb.expect("listener"))
        })
    }
}

fn handshake(c: &mut Criterion) {
    let pair = Pair::new();
    c.bench_function("handshake/both-sides", |bench| {
        bench.iter(|| black_box(pair.handshake()))
    });
}

/// Sealing and opening a session's frames: a 200-byte vote and a 1 MiB block.
fn sealing(c: &mut Criterion) {
    let (s, r) = Pair::new().handshake();
    let mut g = c.benchmark_group("seal");
    for (name, n) in [("vote-200B", 200usize), ("block-1MiB", 1 << 20)] {
        let payload = vec![7u8; n];
        let mut nonce = 0u64;
        g.throughput(criterion::Throughput::Bytes(n as u64));
        g.bench_function(name, |bench| {
            bench.iter(|| seal(&s.noise, &mut nonce, black_box(&payload)).expect("seal"))
        });
    }
    g.finish();
    let mut g = c.benchmark_group("open");
    for (name, n) in [("vote-200B", 200usize), ("block-1MiB", 1 << 20)] {
        let payload = vec![7u8; n];
        let mut sent = 0u64;
        g.throughput(criterion::Throughput::Bytes(n as u64));
        // Opening a whole frame: what a forged frame costs at worst (its last chunk changed).
        g.bench_function(name, |bench| {
            bench.iter_batched(
                || {
                    let at = sent;
                    (seal(&s.noise, &mut sent, &payload).expect("seal"), at)
                },
                |(sealed, mut at)| black_box(open(&r.noise, &mut at, &sealed).expect("open")),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    g.finish();
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

criterion_group!(benches, verify, handshake, sealing, accounts);
criterion_main!(benches);
