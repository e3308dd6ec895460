//! HASH-1: BLAKE2b-256, the one hash of the reference (Dusk mainnet: SHA3-256).

use crate::rules::Rule;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

/// A 32-byte digest.
pub type Hash = [u8; 32];

/// BLAKE2b-256 over the concatenation of `parts`.
pub fn blake2b256(parts: &[&[u8]]) -> Hash {
    Rule::Hash1.applies();
    let mut h = Blake2b::<U32>::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}
