//! The one hash of the reference (spec/protocol.md HASH-1): BLAKE2b-256, behind one function
//! (Dusk mainnet uses SHA3-256; changing it is this file). Block hashes, sortition draws, key
//! material and seeds all go through [`hash`].

use crate::rules::Rule;

use blake2::digest::consts::U32;
use blake2::{Blake2b, Digest};

/// BLAKE2b with a 256-bit output.
pub type Blake2b256 = Blake2b<U32>;

/// BLAKE2b-256 of the concatenation of `parts` (HASH-1).
pub fn hash(parts: &[&[u8]]) -> [u8; 32] {
    Rule::Hash1.applies();
    let mut h = Blake2b256::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}
