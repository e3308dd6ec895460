//! BLS12-381 signatures (spec/encoding.md "Signatures"): the `blst` crate's `min_sig` variant,
//! Dusk's layout (48-byte signatures in G1, 96-byte public keys in G2), the proof-of-possession
//! ciphersuite so that votes on one message aggregate safely (every genesis key carries a proof
//! of possession, checked when the genesis is loaded).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::sync::{Arc, Mutex};

use blst::min_sig as bls;
use blst::BLST_ERROR;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::encoding::{DecodeError, Reader, Wire};
use crate::hash::blake2b256;

/// Domain separation tag of every consensus signature (IETF BLS, PoP ciphersuite, G1 sigs).
pub const DST_SIG: &[u8] = b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";
/// Domain separation tag of proofs of possession.
pub const DST_POP: &[u8] = b"BLS_POP_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_";

/// Lower-case hex of `bytes`.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Bytes of a hex string of exactly `N` bytes.
pub fn from_hex<const N: usize>(s: &str) -> Result<[u8; N], String> {
    if s.len() != 2 * N {
        return Err(format!("expected {} hex digits, found {}", 2 * N, s.len()));
    }
    let mut out = [0u8; N];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16)
            .map_err(|_| format!("not hex: {:?}", &s[2 * i..2 * i + 2]))?;
    }
    Ok(out)
}

macro_rules! bytes_newtype {
    ($name:ident, $n:expr, $doc:expr) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub [u8; $n]);

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({}…)", stringify!($name), &to_hex(&self.0)[..8])
            }
        }
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&to_hex(&self.0))
            }
        }
        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let s = String::deserialize(d)?;
                from_hex::<$n>(&s)
                    .map($name)
                    .map_err(serde::de::Error::custom)
            }
        }
        impl Wire for $name {
            fn put(&self, out: &mut Vec<u8>) {
                out.extend_from_slice(&self.0);
            }
            fn get(r: &mut Reader<'_>, what: &'static str) -> Result<Self, DecodeError> {
                Ok($name(<[u8; $n]>::get(r, what)?))
            }
        }
    };
}

bytes_newtype!(PublicKey, 96, "A compressed BLS public key (G2, 96 bytes).");
bytes_newtype!(Signature, 48, "A compressed BLS signature (G1, 48 bytes).");

impl PublicKey {
    /// Short form for logs: the first 4 bytes in hex.
    pub fn short(&self) -> String {
        to_hex(&self.0[..4])
    }
}

impl Signature {
    /// The all-zero placeholder of an empty StepVotes (never a valid signature).
    pub const EMPTY: Signature = Signature([0u8; 48]);
}

/// A secret key with its public key.
#[derive(Clone)]
pub struct Keypair {
    sk: bls::SecretKey,
    /// The public key.
    pub public: PublicKey,
    /// With [`Keypair::with_memo`]: signatures made, by digest, shared by every clone.
    memo: Option<SignMemo>,
}

/// Signatures a [`Keypair`] made, by digest.
type SignMemo = Arc<Mutex<HashMap<Vec<u8>, Signature>>>;

impl fmt::Debug for Keypair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Keypair({:?})", self.public)
    }
}

impl PartialEq for Keypair {
    fn eq(&self, other: &Self) -> bool {
        self.public == other.public
    }
}

impl Keypair {
    /// The key derived (IETF KeyGen) from 32 bytes of secret seed material.
    pub fn from_seed(seed: &[u8; 32]) -> Keypair {
        let sk = bls::SecretKey::key_gen(seed, &[]).expect("32 bytes of key material suffice");
        let public = PublicKey(sk.sk_to_pk().compress());
        Keypair {
            sk,
            public,
            memo: None,
        }
    }

    /// This key, remembering every signature it makes (by digest) in a memo shared by all its
    /// clones: BLS signatures are deterministic, so the signature is the same, made once. For
    /// a harness that runs many nodes with the same key on the same messages (the conformance
    /// replay); the memo grows without bound: not for a live node.
    pub fn with_memo(mut self) -> Keypair {
        self.memo = Some(Arc::default());
        self
    }

    /// The deterministic testnet key of provisioner `index` (never for real stake).
    pub fn testnet(index: u32) -> Keypair {
        Keypair::from_seed(&Keypair::testnet_seed(index))
    }

    /// The key material of [`Keypair::testnet`].
    pub fn testnet_seed(index: u32) -> [u8; 32] {
        blake2b256(&[b"sa-testnet-key", &index.to_le_bytes()])
    }

    /// Signs a 32-byte digest.
    pub fn sign(&self, digest: &[u8]) -> Signature {
        let make = || Signature(self.sk.sign(digest, DST_SIG, &[]).compress());
        let Some(memo) = &self.memo else {
            return make();
        };
        if let Some(s) = memo.lock().ok().and_then(|m| m.get(digest).copied()) {
            return s;
        }
        let s = make();
        if let Ok(mut m) = memo.lock() {
            m.insert(digest.to_vec(), s);
        }
        s
    }

    /// The proof of possession of this key: a signature of the key bytes under [`DST_POP`].
    pub fn proof_of_possession(&self) -> Signature {
        Signature(self.sk.sign(&self.public.0, DST_POP, &[]).compress())
    }
}

/// Why a signature was not accepted.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SigError {
    /// The key is not in the key ring (not a known provisioner).
    #[error("unknown public key {0}")]
    UnknownKey(String),
    /// The key bytes are not a valid G2 point of the prime-order subgroup.
    #[error("public key is not a valid BLS key")]
    BadKey,
    /// The signature bytes are not a valid G1 point.
    #[error("signature is not a valid BLS point")]
    BadSignature,
    /// The signature does not verify.
    #[error("signature does not verify")]
    Invalid,
}

fn sig_point(sig: &Signature) -> Result<bls::Signature, SigError> {
    bls::Signature::sig_validate(&sig.0, true).map_err(|_| SigError::BadSignature)
}

/// Parses and checks a public key (subgroup check, not infinity).
pub fn key_point(pk: &PublicKey) -> Result<bls::PublicKey, SigError> {
    bls::PublicKey::key_validate(&pk.0).map_err(|_| SigError::BadKey)
}

/// Verifies a proof of possession.
pub fn verify_pop(pk: &PublicKey, pop: &Signature) -> Result<(), SigError> {
    let key = key_point(pk)?;
    match sig_point(pop)?.verify(false, &pk.0, DST_POP, &[], &key, false) {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        _ => Err(SigError::Invalid),
    }
}

/// Verifies one signature of any key, in the ring or not (a transaction's sender): the key is
/// parsed and checked (subgroup, not infinity) first. No proof of possession is needed for a
/// single signature; such keys are never aggregated.
pub fn verify_any(pk: &PublicKey, digest: &[u8], sig: &Signature) -> Result<(), SigError> {
    let key = key_point(pk)?;
    match sig_point(sig)?.verify(false, digest, DST_SIG, &[], &key, false) {
        BLST_ERROR::BLST_SUCCESS => Ok(()),
        _ => Err(SigError::Invalid),
    }
}

/// Aggregates signatures (all on one digest) into one.
pub fn aggregate(sigs: &[Signature]) -> Result<Signature, SigError> {
    let points = sigs.iter().map(sig_point).collect::<Result<Vec<_>, _>>()?;
    let refs: Vec<&bls::Signature> = points.iter().collect();
    let agg =
        bls::AggregateSignature::aggregate(&refs, false).map_err(|_| SigError::BadSignature)?;
    Ok(Signature(agg.to_signature().compress()))
}

/// 32 bytes no other call of this process or another returns, and that an outsider cannot
/// predict: std's `RandomState` (keys seeded by the OS) over the time, the process and a
/// counter, hashed. For handshake nonces and the random scalars of batch verification.
pub fn fresh_random() -> [u8; 32] {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mut keyed = std::collections::hash_map::RandomState::new().build_hasher();
    keyed.write_u64(n);
    keyed.write_u128(t);
    let k = keyed.finish();
    crate::hash::blake2b256(&[
        b"SA-RANDOM",
        &k.to_le_bytes(),
        &n.to_le_bytes(),
        &t.to_le_bytes(),
        &std::process::id().to_le_bytes(),
    ])
}

/// The known provisioner keys, parsed once (decompressing a G2 point is the costly part).
#[derive(Clone, Default)]
pub struct KeyRing {
    keys: BTreeMap<PublicKey, bls::PublicKey>,
    /// With [`KeyRing::with_memo`]: the (keys, digest, signature) triples that verified,
    /// shared by every clone.
    memo: Option<Arc<Mutex<HashSet<Vec<u8>>>>>,
    /// With [`KeyRing::with_cache`]: the memo's size at which it is emptied (None: no bound).
    cap: Option<usize>,
}

impl fmt::Debug for KeyRing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyRing({} keys)", self.keys.len())
    }
}

impl PartialEq for KeyRing {
    fn eq(&self, other: &Self) -> bool {
        self.keys.len() == other.keys.len() && self.keys.keys().eq(other.keys.keys())
    }
}

impl KeyRing {
    /// Adds a key after validating it and its proof of possession (without the proof, a
    /// rogue key could cancel others in an aggregate).
    pub fn insert(&mut self, pk: PublicKey, pop: &Signature) -> Result<(), SigError> {
        let point = key_point(&pk)?;
        verify_pop(&pk, pop)?;
        self.keys.insert(pk, point);
        Ok(())
    }

    /// Whether `pk` is a key of the ring (a provisioner).
    pub fn contains(&self, pk: &PublicKey) -> bool {
        self.keys.contains_key(pk)
    }

    fn point(&self, pk: &PublicKey) -> Result<&bls::PublicKey, SigError> {
        self.keys
            .get(pk)
            .ok_or_else(|| SigError::UnknownKey(pk.short()))
    }

    /// This ring, remembering every signature that verified (by the exact bytes of keys,
    /// digest and signature), in a memo shared by all its clones: a harness that runs many
    /// nodes on the same messages (the conformance replay) verifies each signature for real
    /// once. Failures are never remembered. The memo grows without bound: not for a live node.
    pub fn with_memo(mut self) -> KeyRing {
        self.memo = Some(Arc::default());
        self
    }

    /// This ring with a cache of verified signatures shared by all its clones, emptied when it
    /// holds `capacity` entries: a live node's runtime verifies votes on its connection
    /// threads and the core then finds them here instead of verifying again on its own
    /// thread (spec/node.md, "What one peer can cost"). Failures are never remembered.
    pub fn with_cache(mut self, capacity: usize) -> KeyRing {
        self.memo = Some(Arc::default());
        self.cap = Some(capacity.max(1));
        self
    }

    /// Runs `verify` unless `signers`, `digest` and `sig` verified before (with a memo).
    fn memoized(
        &self,
        signers: &[PublicKey],
        digest: &[u8],
        sig: &Signature,
        verify: impl FnOnce() -> Result<(), SigError>,
    ) -> Result<(), SigError> {
        let Some(memo) = &self.memo else {
            return verify();
        };
        let mut key = Vec::with_capacity(signers.len() * 96 + digest.len() + 56);
        key.extend_from_slice(&(signers.len() as u64).to_le_bytes());
        for pk in signers {
            key.extend_from_slice(&pk.0);
        }
        key.extend_from_slice(&sig.0);
        key.extend_from_slice(digest);
        if memo.lock().is_ok_and(|m| m.contains(&key)) {
            return Ok(());
        }
        verify()?;
        if let Ok(mut m) = memo.lock() {
            if self.cap.is_some_and(|c| m.len() >= c) {
                m.clear();
            }
            m.insert(key);
        }
        Ok(())
    }

    /// Verifies one signature of a digest.
    pub fn verify(&self, pk: &PublicKey, digest: &[u8], sig: &Signature) -> Result<(), SigError> {
        let key = self.point(pk)?;
        self.memoized(std::slice::from_ref(pk), digest, sig, || {
            match sig_point(sig)?.verify(false, digest, DST_SIG, &[], key, false) {
                BLST_ERROR::BLST_SUCCESS => Ok(()),
                _ => Err(SigError::Invalid),
            }
        })
    }

    /// Verifies several signatures at once (one multi-pairing with random 64-bit weights,
    /// blst's `verify_multiple_aggregate_signatures`): each item is (key, digest, signature),
    /// and the answer says which verify. The batch passing puts every item in the cache; a
    /// batch that fails is checked item by item to find the bad ones. Items whose key is not
    /// in the ring do not verify.
    pub fn verify_batch(&self, items: &[(PublicKey, Vec<u8>, Signature)]) -> Vec<bool> {
        let parsed: Vec<Option<(&bls::PublicKey, bls::Signature)>> = items
            .iter()
            .map(|(pk, _, sig)| Some((self.point(pk).ok()?, sig_point(sig).ok()?)))
            .collect();
        let all = parsed.iter().all(Option::is_some);
        if items.len() >= 2 && all {
            let pks: Vec<&bls::PublicKey> = parsed.iter().flatten().map(|(k, _)| *k).collect();
            let sigs: Vec<&bls::Signature> = parsed.iter().flatten().map(|(_, s)| s).collect();
            let msgs: Vec<&[u8]> = items.iter().map(|(_, d, _)| d.as_slice()).collect();
            let rands: Vec<blst::blst_scalar> = (0..items.len())
                .map(|_| {
                    let mut b = [0u8; 32];
                    b[..8].copy_from_slice(&fresh_random()[..8]);
                    b[0] |= 1;
                    blst::blst_scalar { b }
                })
                .collect();
            let ok = bls::Signature::verify_multiple_aggregate_signatures(
                &msgs, DST_SIG, &pks, false, &sigs, true, &rands, 64,
            ) == BLST_ERROR::BLST_SUCCESS;
            if ok {
                for (pk, digest, sig) in items {
                    // Cached: the core's own check finds them.
                    let _ = self.memoized(std::slice::from_ref(pk), digest, sig, || Ok(()));
                }
                return vec![true; items.len()];
            }
        }
        items
            .iter()
            .map(|(pk, digest, sig)| self.verify(pk, digest, sig).is_ok())
            .collect()
    }

    /// Verifies an aggregate signature of `signers` on one digest.
    pub fn verify_aggregate(
        &self,
        signers: &[PublicKey],
        digest: &[u8],
        sig: &Signature,
    ) -> Result<(), SigError> {
        if signers.is_empty() {
            return Err(SigError::Invalid);
        }
        let keys = signers
            .iter()
            .map(|pk| self.point(pk))
            .collect::<Result<Vec<_>, _>>()?;
        self.memoized(signers, digest, sig, || {
            match sig_point(sig)?.fast_aggregate_verify(false, digest, DST_SIG, &keys) {
                BLST_ERROR::BLST_SUCCESS => Ok(()),
                _ => Err(SigError::Invalid),
            }
        })
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;

    #[test]
    fn a_batch_says_which_signatures_verify_and_caches_the_good_ones() {
        let keys: Vec<Keypair> = (0..4).map(Keypair::testnet).collect();
        let mut ring = KeyRing::default();
        for k in &keys {
            ring.insert(k.public, &k.proof_of_possession()).unwrap();
        }
        let ring = ring.with_cache(1_000);
        let item = |k: &Keypair, d: u8| (k.public, vec![d; 32], k.sign(&[d; 32]));
        let good: Vec<_> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| item(k, i as u8))
            .collect();
        assert_eq!(ring.verify_batch(&good), vec![true; 4]);
        // Cached: a second check of each is a memo hit (the memo holds all four).
        assert_eq!(ring.memo.as_ref().unwrap().lock().unwrap().len(), 4);
        // One signature over another digest: the batch fails, the item check finds it.
        let mut mixed = good.clone();
        mixed[2].1 = vec![99; 32];
        assert_eq!(ring.verify_batch(&mixed), vec![true, true, false, true]);
        // A key outside the ring never verifies.
        let stranger = Keypair::testnet(9);
        let mut with_stranger = good.clone();
        with_stranger.push(item(&stranger, 1));
        assert_eq!(
            ring.verify_batch(&with_stranger),
            vec![true, true, true, true, false]
        );
        assert_eq!(ring.verify_batch(&[]), Vec::<bool>::new());
        assert_ne!(fresh_random(), fresh_random());
    }
}
