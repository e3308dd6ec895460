//! The provisioners' keys and the seed rule, computed as spec/ defines them (SORT-1, SORT-6,
//! spec/encoding.md "Signatures"), so that the model's draws are the draws of sa-node on the
//! same genesis (the conformance suite replays model traces against sa-node and compares
//! committees).
//!
//! Provisioner `i` of a model configuration holds the deterministic testnet key `i`:
//! IETF KeyGen on `BLAKE2b-256("sa-testnet-key" ‖ i: u32 LE)`, BLS12-381 `min_sig` (96-byte
//! public keys in G2, 48-byte signatures in G1). The sortition walks provisioners in the order
//! of their public keys' bytes (SORT-1), not of their indices. A block's seed is its
//! generator's signature over `BLAKE2b-256("SA-SEED-V1" ‖ parent seed)` (SORT-6): unique
//! (BLS signing is deterministic) and not grindable. The model computes it with the real key:
//! one signature per chain prefix, cached with the prefix's context.
//!
//! This module is the model's own reading of the spec; it shares no code with sa-node.

use std::sync::OnceLock;

use blst::min_sig as bls;

use crate::config::MAX_PROVISIONERS;
use crate::hash::hash;
use crate::rules::Rule;

/// Domain separation tag of consensus signatures (spec/encoding.md, `DST_SIG`).
pub const DST_SIG: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

/// A seed: a 48-byte BLS signature (G1, compressed), or the genesis seed of the same length.
pub type Seed = [u8; 48];

/// A 96-byte public key (G2, compressed).
pub type PublicKey = [u8; 96];

struct Keys {
    secret: Vec<bls::SecretKey>,
    public: Vec<PublicKey>,
    order: [usize; MAX_PROVISIONERS],
}

fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let secret: Vec<bls::SecretKey> = (0..MAX_PROVISIONERS as u32)
            .map(|i| {
                let material = hash(&[b"sa-testnet-key", &i.to_le_bytes()]);
                // KeyGen fails only for input material shorter than 32 bytes.
                bls::SecretKey::key_gen(&material, &[]).unwrap_or_else(|_| unreachable!())
            })
            .collect();
        let public: Vec<PublicKey> = secret.iter().map(|s| s.sk_to_pk().compress()).collect();
        let mut order: [usize; MAX_PROVISIONERS] = std::array::from_fn(|i| i);
        order.sort_by_key(|&i| public[i]);
        Keys {
            secret,
            public,
            order,
        }
    })
}

/// The public key of provisioner `p` (testnet key `p`).
pub fn public_key(p: usize) -> PublicKey {
    keys().public[p]
}

/// Provisioner indices in the order of their public keys' bytes (SORT-1): the order in which a
/// draw walks the provisioner list. Indices past a configuration's provisioners have no weight
/// and are skipped by the draw.
pub fn key_order() -> &'static [usize; MAX_PROVISIONERS] {
    &keys().order
}

/// The genesis seed: `a = BLAKE2b-256("sa-genesis" ‖ seed: u64 LE)`, seed = `a ‖ H(a)[0..16]`.
pub fn genesis_seed(seed: u64) -> Seed {
    let a = hash(&[b"sa-genesis", &seed.to_le_bytes()]);
    let b = hash(&[&a]);
    let mut s = [0u8; 48];
    s[..32].copy_from_slice(&a);
    s[32..].copy_from_slice(&b[..16]);
    s
}

/// SORT-6: the seed of a block whose generator is `p`, on a parent with seed `parent`.
pub fn child_seed(parent: &Seed, p: usize) -> Seed {
    Rule::Sort6.applies();
    let digest = hash(&[b"SA-SEED-V1", parent]);
    keys().secret[p].sign(&digest, DST_SIG, &[]).compress()
}
