//! The connection handshake (spec/node.md, "The handshake"): before any message reaches the
//! core, both ends of a TCP connection say who they are and prove it with their BLS key.
//!
//! Each side sends a [`Hello`] frame (protocol version, chain identity, role, BLS public key, a
//! fresh nonce), reads the other's, checks it ([`Admission::admit`]: same version and chain; a
//! `Peer` must be a genesis provisioner, a `Client` any key), then sends a proof: its BLS
//! signature over the transcript of both hellos, its own first ([`transcript`]). A side whose
//! hello is refused or whose proof does not verify is disconnected before any other frame is
//! read. The whole exchange is bounded by [`HANDSHAKE_TIMEOUT`].
//!
//! What it gives: a peer's identity is a key it holds (not a connection counter), bound to
//! this connection's nonces (a recorded handshake does not replay), and to this chain and
//! version. What it does not give: confidentiality or per-frame integrity. Consensus messages
//! carry their own signatures; an on-path attacker who relays a handshake can still inject
//! frames into the connection (which then count against the honest peer's score) or cut it.
//! docs/adr/0008-handshake.md says why this and not Noise, and what closing that gap takes.

use std::time::Duration;

use crate::hash::{blake2b256, Hash};
use crate::keys::{verify_any, Keypair, PublicKey, Signature};

/// The protocol version this node speaks; a hello with another is refused.
pub const PROTOCOL_VERSION: u16 = 1;
/// The first bytes of every hello.
pub const HELLO_MAGIC: &[u8; 8] = b"SA-HELLO";
/// Bytes of an encoded hello: magic, version, chain, role, key, nonce.
pub const HELLO_LEN: usize = 8 + 2 + 32 + 1 + 96 + 32;
/// Bytes of a proof frame: one BLS signature.
pub const PROOF_LEN: usize = 48;
/// The whole handshake, both frames each way, must end within this (an honest peer sends its
/// hello at once; a socket left idle holds a handshake slot this long at most).
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);

/// What the other end of a connection is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    /// A provisioner of this chain's genesis: every message.
    Peer,
    /// A client (any key it holds): transactions and block requests only.
    Client,
}

/// The first frame each side sends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hello {
    /// [`PROTOCOL_VERSION`] of the sender.
    pub version: u16,
    /// The chain: [`chain_id`] of the sender's genesis.
    pub chain: Hash,
    /// The sender's role.
    pub role: Role,
    /// The sender's BLS public key.
    pub key: PublicKey,
    /// Fresh for this connection.
    pub nonce: [u8; 32],
}

/// Why a handshake failed; the connection is closed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HandshakeError {
    /// Not a hello or proof frame.
    #[error("malformed handshake: {0}")]
    Malformed(String),
    /// Another protocol version.
    #[error("protocol version {theirs}, this node speaks {ours}")]
    Version {
        /// Ours.
        ours: u16,
        /// Theirs.
        theirs: u16,
    },
    /// Another genesis.
    #[error("another chain (genesis {0})")]
    Chain(String),
    /// A peer whose key is not a genesis provisioner's.
    #[error("key {0} is not a provisioner of this chain")]
    UnknownKey(String),
    /// A role this side does not take here (a client dialed as a peer, or clients refused).
    #[error("role {0:?} not accepted here")]
    Role(Role),
    /// The proof does not verify for the key the hello named.
    #[error("the proof of key {0} does not verify")]
    BadProof(String),
    /// [`HANDSHAKE_TIMEOUT`] passed.
    #[error("no handshake within {} s", HANDSHAKE_TIMEOUT.as_secs())]
    Timeout,
    /// The connection closed or failed.
    #[error("connection: {0}")]
    Io(String),
}

/// The chain identity: BLAKE2b-256 of "SA-CHAIN-V1" and the genesis as JSON (its fields in
/// declaration order, so every node that loaded the same genesis computes the same bytes).
pub fn chain_id(genesis: &crate::config::Genesis) -> Hash {
    let json = serde_json::to_vec(genesis).unwrap_or_default();
    blake2b256(&[b"SA-CHAIN-V1", &json])
}

/// A nonce no other connection of this process or another uses ([`crate::keys::fresh_random`]).
pub fn fresh_nonce() -> [u8; 32] {
    crate::keys::fresh_random()
}

impl Hello {
    /// A hello of `me` in `role` on `chain`, with a fresh nonce.
    pub fn new(me: &Keypair, role: Role, chain: Hash) -> Hello {
        Hello {
            version: PROTOCOL_VERSION,
            chain,
            role,
            key: me.public,
            nonce: fresh_nonce(),
        }
    }

    /// The frame's payload ([`HELLO_LEN`] bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HELLO_LEN);
        out.extend_from_slice(HELLO_MAGIC);
        out.extend_from_slice(&self.version.to_be_bytes());
        out.extend_from_slice(&self.chain);
        out.push(match self.role {
            Role::Peer => 0,
            Role::Client => 1,
        });
        out.extend_from_slice(&self.key.0);
        out.extend_from_slice(&self.nonce);
        out
    }

    /// Reads a hello; the version is read, not judged ([`Admission::admit`] does).
    pub fn decode(b: &[u8]) -> Result<Hello, HandshakeError> {
        if b.len() != HELLO_LEN {
            return Err(HandshakeError::Malformed(format!(
                "a hello is {HELLO_LEN} bytes, this frame {}",
                b.len()
            )));
        }
        if &b[..8] != HELLO_MAGIC {
            return Err(HandshakeError::Malformed("no SA-HELLO magic".into()));
        }
        let role = match b[42] {
            0 => Role::Peer,
            1 => Role::Client,
            r => return Err(HandshakeError::Malformed(format!("role byte {r}"))),
        };
        let mut chain = [0u8; 32];
        chain.copy_from_slice(&b[10..42]);
        let mut key = [0u8; 96];
        key.copy_from_slice(&b[43..139]);
        let mut nonce = [0u8; 32];
        nonce.copy_from_slice(&b[139..171]);
        Ok(Hello {
            version: u16::from_be_bytes([b[8], b[9]]),
            chain,
            role,
            key: PublicKey(key),
            nonce,
        })
    }
}

/// The digest a side signs: its own hello's bytes, then the other's, under the chain.
pub fn transcript(chain: &Hash, signer_hello: &[u8], other_hello: &[u8]) -> Hash {
    blake2b256(&[b"SA-HANDSHAKE-V1", chain, signer_hello, other_hello])
}

/// Who a node lets in.
#[derive(Clone, Debug)]
pub struct Admission {
    /// This chain.
    pub chain: Hash,
    /// The provisioners' keys: the only keys a `Peer` may have.
    pub provisioners: std::collections::BTreeSet<PublicKey>,
    /// Whether clients are let in (an accepting node: yes; a dialing node: it dialed a peer).
    pub clients: bool,
}

impl Admission {
    /// Checks the other side's hello.
    pub fn admit(&self, h: &Hello) -> Result<(), HandshakeError> {
        if h.version != PROTOCOL_VERSION {
            return Err(HandshakeError::Version {
                ours: PROTOCOL_VERSION,
                theirs: h.version,
            });
        }
        if h.chain != self.chain {
            return Err(HandshakeError::Chain(crate::keys::to_hex(&h.chain[..4])));
        }
        match h.role {
            Role::Peer if !self.provisioners.contains(&h.key) => {
                Err(HandshakeError::UnknownKey(h.key.short()))
            }
            Role::Client if !self.clients => Err(HandshakeError::Role(Role::Client)),
            _ => Ok(()),
        }
    }
}

/// Checks the other side's proof over (their hello, our hello).
pub fn check_proof(
    chain: &Hash,
    theirs: &Hello,
    their_bytes: &[u8],
    our_bytes: &[u8],
    proof: &[u8],
) -> Result<(), HandshakeError> {
    let sig: [u8; PROOF_LEN] = proof.try_into().map_err(|_| {
        HandshakeError::Malformed(format!(
            "a proof is {PROOF_LEN} bytes, this frame {}",
            proof.len()
        ))
    })?;
    verify_any(
        &theirs.key,
        &transcript(chain, their_bytes, our_bytes),
        &Signature(sig),
    )
    .map_err(|_| HandshakeError::BadProof(theirs.key.short()))
}

/// The handshake on a framed connection (4-byte big-endian lengths): sends our hello, reads
/// theirs and admits it, sends our proof, reads and checks theirs. Returns their hello.
pub async fn handshake<R, W>(
    reader: &mut tokio_util::codec::FramedRead<R, tokio_util::codec::LengthDelimitedCodec>,
    writer: &mut tokio_util::codec::FramedWrite<W, tokio_util::codec::LengthDelimitedCodec>,
    me: &Keypair,
    role: Role,
    admission: &Admission,
) -> Result<Hello, HandshakeError>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use futures_util::{SinkExt, StreamExt};
    let io = |e: std::io::Error| HandshakeError::Io(e.to_string());
    let exchange = async {
        let ours = Hello::new(me, role, admission.chain).encode();
        writer
            .send(bytes::Bytes::copy_from_slice(&ours))
            .await
            .map_err(io)?;
        let theirs_bytes = reader
            .next()
            .await
            .ok_or_else(|| HandshakeError::Io("closed before its hello".into()))?
            .map_err(io)?;
        let theirs = Hello::decode(&theirs_bytes)?;
        admission.admit(&theirs)?;
        let proof = me.sign(&transcript(&admission.chain, &ours, &theirs_bytes));
        writer
            .send(bytes::Bytes::copy_from_slice(&proof.0))
            .await
            .map_err(io)?;
        let their_proof = reader
            .next()
            .await
            .ok_or_else(|| HandshakeError::Io("closed before its proof".into()))?
            .map_err(io)?;
        check_proof(
            &admission.chain,
            &theirs,
            &theirs_bytes,
            &ours,
            &their_proof,
        )?;
        Ok(theirs)
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange)
        .await
        .map_err(|_| HandshakeError::Timeout)?
}

/// The client side of the handshake on a blocking socket (tools, the testnet's transaction
/// load): returns the node's key once it proved it is a provisioner of `chain`.
pub fn client_handshake(
    stream: &mut std::net::TcpStream,
    me: &Keypair,
    chain: Hash,
    provisioners: &std::collections::BTreeSet<PublicKey>,
) -> Result<PublicKey, HandshakeError> {
    blocking_handshake(stream, me, Role::Client, chain, provisioners)
}

/// The handshake on a blocking socket in `role` (a client, or a tool holding a provisioner's
/// key): returns the node's key once it proved it is a provisioner of `chain`.
pub fn blocking_handshake(
    stream: &mut std::net::TcpStream,
    me: &Keypair,
    role: Role,
    chain: Hash,
    provisioners: &std::collections::BTreeSet<PublicKey>,
) -> Result<PublicKey, HandshakeError> {
    use std::io::{Read, Write};
    let io = |e: std::io::Error| HandshakeError::Io(e.to_string());
    stream
        .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(io)?;
    let frame = |s: &mut std::net::TcpStream, max: usize| -> Result<Vec<u8>, HandshakeError> {
        let mut len = [0u8; 4];
        s.read_exact(&mut len).map_err(io)?;
        let n = u32::from_be_bytes(len) as usize;
        if n > max {
            return Err(HandshakeError::Malformed(format!("a {n}-byte frame")));
        }
        let mut b = vec![0u8; n];
        s.read_exact(&mut b).map_err(io)?;
        Ok(b)
    };
    let put = |s: &mut std::net::TcpStream, b: &[u8]| -> Result<(), HandshakeError> {
        let mut f = u32::try_from(b.len()).unwrap_or(0).to_be_bytes().to_vec();
        f.extend_from_slice(b);
        s.write_all(&f).map_err(io)
    };
    let ours = Hello::new(me, role, chain).encode();
    put(stream, &ours)?;
    let theirs_bytes = frame(stream, HELLO_LEN)?;
    let theirs = Hello::decode(&theirs_bytes)?;
    let admission = Admission {
        chain,
        provisioners: provisioners.clone(),
        clients: false,
    };
    admission.admit(&theirs)?;
    put(
        stream,
        &me.sign(&transcript(&chain, &ours, &theirs_bytes)).0,
    )?;
    let proof = frame(stream, PROOF_LEN)?;
    check_proof(&chain, &theirs, &theirs_bytes, &ours, &proof)?;
    stream.set_read_timeout(None).map_err(io)?;
    Ok(theirs.key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admission(keys: &[&Keypair]) -> Admission {
        Admission {
            chain: [7u8; 32],
            provisioners: keys.iter().map(|k| k.public).collect(),
            clients: true,
        }
    }

    #[test]
    fn a_hello_round_trips_and_bad_ones_are_named() {
        let k = Keypair::testnet(0);
        let h = Hello::new(&k, Role::Peer, [7u8; 32]);
        let b = h.encode();
        assert_eq!(b.len(), HELLO_LEN);
        assert_eq!(Hello::decode(&b).unwrap(), h);
        assert!(matches!(
            Hello::decode(&b[1..]),
            Err(HandshakeError::Malformed(_))
        ));
        let mut wrong = b.clone();
        wrong[0] ^= 1;
        assert!(Hello::decode(&wrong).is_err());
        let mut role = b;
        role[42] = 9;
        assert!(Hello::decode(&role).is_err());
        assert_ne!(fresh_nonce(), fresh_nonce());
    }

    #[test]
    fn admission_refuses_another_version_chain_or_an_unknown_peer_key() {
        let (a, stranger) = (Keypair::testnet(0), Keypair::testnet(9));
        let adm = admission(&[&a]);
        let ok = Hello::new(&a, Role::Peer, adm.chain);
        assert_eq!(adm.admit(&ok), Ok(()));
        let v = Hello {
            version: 2,
            ..ok.clone()
        };
        assert!(matches!(adm.admit(&v), Err(HandshakeError::Version { .. })));
        let c = Hello {
            chain: [8u8; 32],
            ..ok.clone()
        };
        assert!(matches!(adm.admit(&c), Err(HandshakeError::Chain(_))));
        let s = Hello::new(&stranger, Role::Peer, adm.chain);
        assert!(matches!(adm.admit(&s), Err(HandshakeError::UnknownKey(_))));
        // The stranger as a client is let in where clients are, not elsewhere.
        let client = Hello::new(&stranger, Role::Client, adm.chain);
        assert_eq!(adm.admit(&client), Ok(()));
        let no_clients = Admission {
            clients: false,
            ..adm
        };
        assert!(matches!(
            no_clients.admit(&client),
            Err(HandshakeError::Role(Role::Client))
        ));
    }

    #[test]
    fn a_proof_binds_both_hellos() {
        let (a, b) = (Keypair::testnet(0), Keypair::testnet(1));
        let chain = [7u8; 32];
        let ha = Hello::new(&a, Role::Peer, chain);
        let hb = Hello::new(&b, Role::Peer, chain);
        let (ea, eb) = (ha.encode(), hb.encode());
        let proof = a.sign(&transcript(&chain, &ea, &eb));
        assert_eq!(check_proof(&chain, &ha, &ea, &eb, &proof.0), Ok(()));
        // Replayed to another connection (another nonce on our side): refused.
        let hb2 = Hello::new(&b, Role::Peer, chain).encode();
        assert!(matches!(
            check_proof(&chain, &ha, &ea, &hb2, &proof.0),
            Err(HandshakeError::BadProof(_))
        ));
        // Signed by another key than the hello names: refused.
        let forged = b.sign(&transcript(&chain, &ea, &eb));
        assert!(check_proof(&chain, &ha, &ea, &eb, &forged.0).is_err());
        assert!(check_proof(&chain, &ha, &ea, &eb, &proof.0[1..]).is_err());
    }
}
