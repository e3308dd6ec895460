//! The connection handshake (spec/node.md, "The handshake"): before any message reaches the
//! core, both ends of a TCP connection say who they are, prove it with their BLS key, and agree
//! on the keys that seal every later frame.
//!
//! Each side sends a [`Hello`] frame (protocol version, chain identity, role, BLS public key, a
//! fresh nonce), reads the other's and checks it ([`Admission::admit`]: same version and chain;
//! a `Peer` must be a genesis provisioner, a `Client` any key): a stranger, another chain or
//! another version is refused here, before any cryptography. Then Noise XX ([`NOISE_PARAMS`],
//! the dialer initiating, both hellos in the prologue) in which each side's encrypted payload
//! is its BLS signature over both hellos and its Noise static key ([`transcript`]): the session
//! key is bound to the identity the hello named, and to this connection's nonces (a recorded
//! handshake does not replay). The whole exchange is bounded by [`HANDSHAKE_TIMEOUT`].
//!
//! After it, every frame is sealed ([`seal`], [`SecureCodec`]): ChaCha20-Poly1305 with a nonce
//! per message in each direction, so a frame changed, cut, dropped, reordered or replayed by
//! anyone on the path fails to open and the connection is closed; what an on-path attacker
//! can still do is cut the connection. docs/adr/0008-handshake.md says why this construction.

use std::time::Duration;

use crate::hash::{blake2b256, Hash};
use crate::keys::{verify_any, Keypair, PublicKey, Signature};

/// The protocol version this node speaks; a hello with another is refused.
pub const PROTOCOL_VERSION: u16 = 1;
/// The first bytes of every hello.
pub const HELLO_MAGIC: &[u8; 8] = b"SA-HELLO";
/// Bytes of an encoded hello: magic, version, chain, role, key, nonce.
pub const HELLO_LEN: usize = 8 + 2 + 32 + 1 + 96 + 32;
/// Bytes of a proof: one BLS signature (the payload of a Noise handshake message).
pub const PROOF_LEN: usize = 48;
/// The largest frame of the handshake (a hello, a Noise handshake message).
pub const HANDSHAKE_FRAME: usize = 1024;
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

/// The Noise protocol of the channel after the hellos (ADR 0008): XX (both static keys sent,
/// encrypted), X25519, ChaCha20-Poly1305, BLAKE2s.
pub const NOISE_PARAMS: &str = "Noise_XX_25519_ChaChaPoly_BLAKE2s";
/// Bytes of the authentication tag on every Noise message.
pub const NOISE_TAG: usize = 16;
/// Plaintext bytes per Noise message (Noise's messages are at most 65,535 bytes, tag included);
/// a longer frame is sealed as several messages in one length-delimited frame ([`seal`]).
pub const NOISE_CHUNK: usize = 65_535 - NOISE_TAG;

/// A node's Noise static key: fresh for each process, bound to its BLS key by the signature it
/// sends in every handshake (the BLS key is the identity; this key only carries the session).
pub struct NoiseKey {
    private: Vec<u8>,
    /// The X25519 public key.
    pub public: Vec<u8>,
}

fn params() -> snow::params::NoiseParams {
    NOISE_PARAMS.parse().expect("a valid Noise pattern")
}

impl NoiseKey {
    /// A fresh X25519 key pair.
    pub fn generate() -> NoiseKey {
        let k = snow::Builder::new(params())
            .generate_keypair()
            .expect("the default resolver makes X25519 keys");
        NoiseKey {
            private: k.private,
            public: k.public,
        }
    }
}

impl std::fmt::Debug for NoiseKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoiseKey({})", crate::keys::to_hex(&self.public[..4]))
    }
}

/// The Noise prologue: both hellos, the dialer's first, under the chain. A relay that changed
/// a hello (or a side that saw another) fails the Noise handshake.
pub fn prologue(chain: &Hash, dialer_hello: &[u8], listener_hello: &[u8]) -> Hash {
    blake2b256(&[b"SA-NOISE-PROLOGUE-V1", chain, dialer_hello, listener_hello])
}

/// What a side signs with its BLS key: its own hello, the other's, and the Noise static key it
/// holds for this session. The proof is sent encrypted inside the Noise handshake; it binds the
/// session's static key to the provisioner (or client) key the hello named.
pub fn transcript(
    chain: &Hash,
    signer_hello: &[u8],
    other_hello: &[u8],
    static_key: &[u8],
) -> Hash {
    blake2b256(&[
        b"SA-HANDSHAKE-V2",
        chain,
        signer_hello,
        other_hello,
        static_key,
    ])
}

/// Checks the other side's proof over (their hello, our hello, their Noise static key).
pub fn check_proof(
    chain: &Hash,
    theirs: &Hello,
    their_bytes: &[u8],
    our_bytes: &[u8],
    their_static: &[u8],
    proof: &[u8],
) -> Result<(), HandshakeError> {
    let sig: [u8; PROOF_LEN] = proof.try_into().map_err(|_| {
        HandshakeError::Malformed(format!(
            "a proof is {PROOF_LEN} bytes, this one {}",
            proof.len()
        ))
    })?;
    verify_any(
        &theirs.key,
        &transcript(chain, their_bytes, our_bytes, their_static),
        &Signature(sig),
    )
    .map_err(|_| HandshakeError::BadProof(theirs.key.short()))
}

/// The session after a handshake: the other side's hello and the Noise ciphers (one per
/// direction; the nonces are the count of messages sent or read, kept by each side's codec).
#[derive(Clone)]
pub struct Session {
    /// The other side's hello (its key, role, chain).
    pub hello: Hello,
    /// The transport ciphers.
    pub noise: std::sync::Arc<snow::StatelessTransportState>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("hello", &self.hello)
            .finish()
    }
}

/// One side of the Noise exchange once the hellos are known: the dialer initiates.
struct NoiseSide {
    state: snow::HandshakeState,
    chain: Hash,
    ours: Vec<u8>,
    theirs: Vec<u8>,
    their_hello: Hello,
    me: Keypair,
    static_public: Vec<u8>,
    /// Whether the other side's proof was read and verified.
    proved: bool,
}

fn noise_err(what: &str) -> impl Fn(snow::Error) -> HandshakeError + '_ {
    move |e| HandshakeError::Malformed(format!("{what}: {e}"))
}

impl NoiseSide {
    fn new(
        me: &Keypair,
        noise: &NoiseKey,
        dialer: bool,
        chain: Hash,
        ours: Vec<u8>,
        theirs: Vec<u8>,
        their_hello: Hello,
    ) -> Result<NoiseSide, HandshakeError> {
        let p = if dialer {
            prologue(&chain, &ours, &theirs)
        } else {
            prologue(&chain, &theirs, &ours)
        };
        let b = snow::Builder::new(params())
            .local_private_key(&noise.private)
            .prologue(&p);
        let state = if dialer {
            b.build_initiator()
        } else {
            b.build_responder()
        }
        .map_err(noise_err("noise"))?;
        Ok(NoiseSide {
            state,
            chain,
            ours,
            theirs,
            their_hello,
            me: me.clone(),
            static_public: noise.public.clone(),
            proved: false,
        })
    }

    /// The next message we send: the ephemeral key first (dialer), then ours and our proof.
    fn write(&mut self) -> Result<Vec<u8>, HandshakeError> {
        let payload = if self.state.is_initiator() && self.state.get_remote_static().is_none() {
            Vec::new()
        } else {
            self.me
                .sign(&transcript(
                    &self.chain,
                    &self.ours,
                    &self.theirs,
                    &self.static_public,
                ))
                .0
                .to_vec()
        };
        let mut buf = vec![0u8; HANDSHAKE_FRAME];
        let n = self
            .state
            .write_message(&payload, &mut buf)
            .map_err(noise_err("noise"))?;
        buf.truncate(n);
        Ok(buf)
    }

    /// Reads the other side's next message; when it carries a proof, checks it.
    fn read(&mut self, msg: &[u8]) -> Result<(), HandshakeError> {
        let mut payload = vec![0u8; msg.len()];
        let n = self
            .state
            .read_message(msg, &mut payload)
            .map_err(noise_err("noise handshake message"))?;
        if n == 0 {
            return Ok(());
        }
        let rs = self
            .state
            .get_remote_static()
            .ok_or_else(|| HandshakeError::Malformed("a proof before the static key".into()))?
            .to_vec();
        check_proof(
            &self.chain,
            &self.their_hello,
            &self.theirs,
            &self.ours,
            &rs,
            &payload[..n],
        )?;
        self.proved = true;
        Ok(())
    }

    fn finish(self) -> Result<Session, HandshakeError> {
        if !self.proved || !self.state.is_handshake_finished() {
            return Err(HandshakeError::Malformed(
                "the handshake ended without a proof".into(),
            ));
        }
        let noise = self
            .state
            .into_stateless_transport_mode()
            .map_err(noise_err("noise"))?;
        Ok(Session {
            hello: self.their_hello,
            noise: std::sync::Arc::new(noise),
        })
    }
}

/// The handshake on a framed connection (4-byte big-endian lengths): both sides send a hello,
/// read the other's and admit it; then Noise XX (the dialer initiates) whose second and third
/// messages carry each side's BLS proof ([`transcript`]), checked before the session is used.
/// Returns the session: every later frame goes through a [`SecureCodec`] on its ciphers.
pub async fn handshake<R, W>(
    reader: &mut tokio_util::codec::FramedRead<R, tokio_util::codec::LengthDelimitedCodec>,
    writer: &mut tokio_util::codec::FramedWrite<W, tokio_util::codec::LengthDelimitedCodec>,
    (me, noise): (&Keypair, &NoiseKey),
    role: Role,
    dialer: bool,
    admission: &Admission,
) -> Result<Session, HandshakeError>
where
    R: tokio::io::AsyncRead + Unpin,
    W: tokio::io::AsyncWrite + Unpin,
{
    use futures_util::SinkExt;
    let io = |e: std::io::Error| HandshakeError::Io(e.to_string());
    let exchange = async {
        let ours = Hello::new(me, role, admission.chain).encode();
        writer
            .send(bytes::Bytes::copy_from_slice(&ours))
            .await
            .map_err(io)?;
        let theirs_bytes = next_frame(reader, "hello").await?;
        let theirs = Hello::decode(&theirs_bytes)?;
        admission.admit(&theirs)?;
        let mut side = NoiseSide::new(
            me,
            noise,
            dialer,
            admission.chain,
            ours,
            theirs_bytes.to_vec(),
            theirs,
        )?;
        let send = |side: &mut NoiseSide| -> Result<bytes::Bytes, HandshakeError> {
            side.write().map(bytes::Bytes::from)
        };
        if dialer {
            writer.send(send(&mut side)?).await.map_err(io)?;
            side.read(&next_frame(reader, "proof").await?)?;
            writer.send(send(&mut side)?).await.map_err(io)?;
        } else {
            side.read(&next_frame(reader, "noise key").await?)?;
            writer.send(send(&mut side)?).await.map_err(io)?;
            side.read(&next_frame(reader, "proof").await?)?;
        }
        side.finish()
    };
    tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange)
        .await
        .map_err(|_| HandshakeError::Timeout)?
}

async fn next_frame<R>(
    reader: &mut tokio_util::codec::FramedRead<R, tokio_util::codec::LengthDelimitedCodec>,
    what: &str,
) -> Result<bytes::BytesMut, HandshakeError>
where
    R: tokio::io::AsyncRead + Unpin,
{
    use futures_util::StreamExt;
    reader
        .next()
        .await
        .ok_or_else(|| HandshakeError::Io(format!("closed before its {what}")))?
        .map_err(|e| HandshakeError::Io(e.to_string()))
}

/// Bytes on the wire of a `n`-byte frame sealed by [`seal`].
pub fn sealed_len(n: usize) -> usize {
    n + NOISE_TAG * n.div_ceil(NOISE_CHUNK).max(1)
}

/// Seals one frame's payload: Noise messages of at most [`NOISE_CHUNK`] bytes each (one, with
/// only its tag, for an empty keep-alive), nonces from `*sent` on.
pub fn seal(
    noise: &snow::StatelessTransportState,
    sent: &mut u64,
    payload: &[u8],
) -> Result<Vec<u8>, std::io::Error> {
    let mut out = vec![0u8; sealed_len(payload.len())];
    let mut at = 0;
    let chunks: Vec<&[u8]> = if payload.is_empty() {
        vec![&[]]
    } else {
        payload.chunks(NOISE_CHUNK).collect()
    };
    for c in chunks {
        let n = noise
            .write_message(*sent, c, &mut out[at..at + c.len() + NOISE_TAG])
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()))?;
        *sent += 1;
        at += n;
    }
    Ok(out)
}

/// Opens one sealed frame: every Noise message in it must authenticate, in order (nonces from
/// `*read` on); a frame changed, cut, reordered or replayed on the way is an error.
pub fn open(
    noise: &snow::StatelessTransportState,
    read: &mut u64,
    sealed: &[u8],
) -> Result<Vec<u8>, std::io::Error> {
    let bad = |what: String| std::io::Error::new(std::io::ErrorKind::InvalidData, what);
    if sealed.is_empty() {
        return Err(bad("an empty frame on a Noise session".into()));
    }
    let mut out = Vec::with_capacity(sealed.len());
    for piece in sealed.chunks(NOISE_CHUNK + NOISE_TAG) {
        if piece.len() < NOISE_TAG {
            return Err(bad(format!(
                "a {}-byte Noise message (the tag alone is {NOISE_TAG})",
                piece.len()
            )));
        }
        let mut buf = vec![0u8; piece.len()];
        let n = noise.read_message(*read, piece, &mut buf).map_err(|_| {
            bad(format!(
                "a frame that does not authenticate (Noise message {read})"
            ))
        })?;
        *read += 1;
        out.extend_from_slice(&buf[..n]);
    }
    Ok(out)
}

/// The frames of a session: length-delimited frames of sealed payloads. One codec per
/// direction (the read half's counts messages read, the write half's messages sent).
pub struct SecureCodec {
    inner: tokio_util::codec::LengthDelimitedCodec,
    noise: std::sync::Arc<snow::StatelessTransportState>,
    nonce: u64,
}

impl SecureCodec {
    /// A codec for frames of at most `max_frame` plaintext bytes.
    pub fn new(session: &Session, max_frame: usize) -> SecureCodec {
        SecureCodec {
            inner: tokio_util::codec::LengthDelimitedCodec::builder()
                .max_frame_length(sealed_len(max_frame))
                .new_codec(),
            noise: std::sync::Arc::clone(&session.noise),
            nonce: 0,
        }
    }
}

impl tokio_util::codec::Decoder for SecureCodec {
    type Item = bytes::BytesMut;
    type Error = std::io::Error;

    fn decode(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        match self.inner.decode(src)? {
            None => Ok(None),
            Some(sealed) => open(&self.noise, &mut self.nonce, &sealed)
                .map(|b| Some(bytes::BytesMut::from(b.as_slice()))),
        }
    }
}

impl tokio_util::codec::Encoder<bytes::Bytes> for SecureCodec {
    type Error = std::io::Error;

    fn encode(&mut self, item: bytes::Bytes, dst: &mut bytes::BytesMut) -> Result<(), Self::Error> {
        let sealed = seal(&self.noise, &mut self.nonce, &item)?;
        self.inner.encode(bytes::Bytes::from(sealed), dst)
    }
}

/// A blocking session (tools, the testnet's transaction load, tests): frames sealed and opened
/// on a `TcpStream`.
pub struct Channel {
    /// The node's key (it proved it holds it).
    pub peer: PublicKey,
    /// Where frames are read.
    pub reader: ChannelReader,
    /// Where frames are sent.
    pub writer: ChannelWriter,
}

/// The read half of a [`Channel`].
pub struct ChannelReader {
    stream: std::net::TcpStream,
    noise: std::sync::Arc<snow::StatelessTransportState>,
    read: u64,
}

/// The write half of a [`Channel`].
pub struct ChannelWriter {
    stream: std::net::TcpStream,
    noise: std::sync::Arc<snow::StatelessTransportState>,
    sent: u64,
}

fn put_frame(s: &mut std::net::TcpStream, b: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = u32::try_from(b.len())
        .unwrap_or(u32::MAX)
        .to_be_bytes()
        .to_vec();
    f.extend_from_slice(b);
    s.write_all(&f)
}

fn get_frame(s: &mut std::net::TcpStream, max: usize) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut len = [0u8; 4];
    s.read_exact(&mut len)?;
    let n = u32::from_be_bytes(len) as usize;
    if n > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a {n}-byte frame (at most {max} here)"),
        ));
    }
    let mut b = vec![0u8; n];
    s.read_exact(&mut b)?;
    Ok(b)
}

impl ChannelReader {
    /// The next frame's payload (keep-alives included: empty); an error on EOF, a frame over
    /// `max` bytes or one that does not authenticate.
    pub fn recv(&mut self, max: usize) -> std::io::Result<Vec<u8>> {
        let sealed = get_frame(&mut self.stream, sealed_len(max))?;
        open(&self.noise, &mut self.read, &sealed)
    }

    /// The socket (for timeouts).
    pub fn stream(&self) -> &std::net::TcpStream {
        &self.stream
    }
}

impl ChannelWriter {
    /// Seals and sends one frame.
    pub fn send(&mut self, payload: &[u8]) -> std::io::Result<()> {
        let sealed = seal(&self.noise, &mut self.sent, payload)?;
        put_frame(&mut self.stream, &sealed)
    }

    /// The socket (to write raw bytes: tests of what a node does with them).
    pub fn stream(&mut self) -> &mut std::net::TcpStream {
        &mut self.stream
    }
}

impl Channel {
    /// Seals and sends one frame.
    pub fn send(&mut self, payload: &[u8]) -> std::io::Result<()> {
        self.writer.send(payload)
    }

    /// The next frame's payload ([`ChannelReader::recv`]).
    pub fn recv(&mut self, max: usize) -> std::io::Result<Vec<u8>> {
        self.reader.recv(max)
    }
}

/// The client side of the handshake on a blocking socket (tools, the testnet's transaction
/// load): the channel, once the node proved it is a provisioner of `chain`.
pub fn client_handshake(
    stream: std::net::TcpStream,
    me: &Keypair,
    chain: Hash,
    provisioners: &std::collections::BTreeSet<PublicKey>,
) -> Result<Channel, HandshakeError> {
    blocking_handshake(stream, me, Role::Client, chain, provisioners)
}

/// The handshake on a blocking socket in `role`, as the dialer (a client, or a tool holding a
/// provisioner's key): the channel, once the node proved it is a provisioner of `chain`.
pub fn blocking_handshake(
    mut stream: std::net::TcpStream,
    me: &Keypair,
    role: Role,
    chain: Hash,
    provisioners: &std::collections::BTreeSet<PublicKey>,
) -> Result<Channel, HandshakeError> {
    let io = |e: std::io::Error| HandshakeError::Io(e.to_string());
    stream
        .set_read_timeout(Some(HANDSHAKE_TIMEOUT))
        .map_err(io)?;
    let ours = Hello::new(me, role, chain).encode();
    put_frame(&mut stream, &ours).map_err(io)?;
    let theirs_bytes = get_frame(&mut stream, HELLO_LEN).map_err(io)?;
    let theirs = Hello::decode(&theirs_bytes)?;
    let admission = Admission {
        chain,
        provisioners: provisioners.clone(),
        clients: false,
    };
    admission.admit(&theirs)?;
    let noise = NoiseKey::generate();
    let mut side = NoiseSide::new(me, &noise, true, chain, ours, theirs_bytes, theirs)?;
    put_frame(&mut stream, &side.write()?).map_err(io)?;
    side.read(&get_frame(&mut stream, HANDSHAKE_FRAME).map_err(io)?)?;
    put_frame(&mut stream, &side.write()?).map_err(io)?;
    let session = side.finish()?;
    stream.set_read_timeout(None).map_err(io)?;
    let other = stream.try_clone().map_err(io)?;
    Ok(Channel {
        peer: session.hello.key,
        reader: ChannelReader {
            stream,
            noise: std::sync::Arc::clone(&session.noise),
            read: 0,
        },
        writer: ChannelWriter {
            stream: other,
            noise: session.noise,
            sent: 0,
        },
    })
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
    fn a_proof_binds_both_hellos_and_the_static_key() {
        let (a, b) = (Keypair::testnet(0), Keypair::testnet(1));
        let chain = [7u8; 32];
        let ha = Hello::new(&a, Role::Peer, chain);
        let hb = Hello::new(&b, Role::Peer, chain);
        let (ea, eb) = (ha.encode(), hb.encode());
        let st = NoiseKey::generate().public;
        let proof = a.sign(&transcript(&chain, &ea, &eb, &st));
        assert_eq!(check_proof(&chain, &ha, &ea, &eb, &st, &proof.0), Ok(()));
        // Replayed to another connection (another nonce on our side): refused.
        let hb2 = Hello::new(&b, Role::Peer, chain).encode();
        assert!(matches!(
            check_proof(&chain, &ha, &ea, &hb2, &st, &proof.0),
            Err(HandshakeError::BadProof(_))
        ));
        // Another session key (a relay's own Noise key): refused.
        let relay = NoiseKey::generate().public;
        assert!(check_proof(&chain, &ha, &ea, &eb, &relay, &proof.0).is_err());
        // Signed by another key than the hello names: refused.
        let forged = b.sign(&transcript(&chain, &ea, &eb, &st));
        assert!(check_proof(&chain, &ha, &ea, &eb, &st, &forged.0).is_err());
        assert!(check_proof(&chain, &ha, &ea, &eb, &st, &proof.0[1..]).is_err());
    }

    /// Runs the Noise part of a handshake in memory: dialer `a`, listener `b`. `tamper` may
    /// change each message on the way (index 0, 1, 2).
    fn sessions(
        a: &Keypair,
        b: &Keypair,
        mut tamper: impl FnMut(usize, &mut Vec<u8>),
    ) -> Result<(Session, Session), HandshakeError> {
        let chain = [7u8; 32];
        let (ha, hb) = (
            Hello::new(a, Role::Peer, chain),
            Hello::new(b, Role::Peer, chain),
        );
        let (ea, eb) = (ha.encode(), hb.encode());
        let (ka, kb) = (NoiseKey::generate(), NoiseKey::generate());
        let mut da = NoiseSide::new(a, &ka, true, chain, ea.clone(), eb.clone(), hb)?;
        let mut db = NoiseSide::new(b, &kb, false, chain, eb, ea, ha)?;
        let mut m = da.write()?;
        tamper(0, &mut m);
        db.read(&m)?;
        let mut m = db.write()?;
        tamper(1, &mut m);
        da.read(&m)?;
        let mut m = da.write()?;
        tamper(2, &mut m);
        db.read(&m)?;
        Ok((da.finish()?, db.finish()?))
    }

    #[test]
    fn sealed_frames_open_in_order_and_nothing_changed_opens() {
        let (a, b) = (Keypair::testnet(0), Keypair::testnet(1));
        let (sa, sb) = sessions(&a, &b, |_, _| {}).unwrap();
        assert_eq!(sa.hello.key, b.public);
        assert_eq!(sb.hello.key, a.public);
        let (mut sent, mut read) = (0u64, 0u64);
        // Frames of every size class: a keep-alive, small, exactly one chunk, several chunks.
        for n in [0, 1, 300, NOISE_CHUNK, NOISE_CHUNK + 1, 3 * NOISE_CHUNK + 7] {
            let payload: Vec<u8> = (0..n).map(|i| (i * 31 % 251) as u8).collect();
            let sealed = seal(&sa.noise, &mut sent, &payload).unwrap();
            assert_eq!(sealed.len(), sealed_len(n));
            if n > 0 {
                assert_ne!(&sealed[..n.min(16)], &payload[..n.min(16)], "not encrypted");
            }
            assert_eq!(open(&sb.noise, &mut read, &sealed).unwrap(), payload);
        }
        assert_eq!(sent, read);
        // A flipped bit, a replayed frame, a dropped frame, a truncated one: none opens.
        let f1 = seal(&sa.noise, &mut sent, b"vote").unwrap();
        let f2 = seal(&sa.noise, &mut sent, b"block").unwrap();
        let mut flipped = f1.clone();
        flipped[2] ^= 1;
        assert!(open(&sb.noise, &mut read.clone(), &flipped).is_err());
        assert!(
            open(&sb.noise, &mut read.clone(), &f2).is_err(),
            "f1 dropped"
        );
        assert!(open(&sb.noise, &mut read.clone(), &f1[..f1.len() - 1]).is_err());
        assert!(open(&sb.noise, &mut read.clone(), &[]).is_err());
        let mut r = read;
        assert_eq!(open(&sb.noise, &mut r, &f1).unwrap(), b"vote");
        assert!(open(&sb.noise, &mut r.clone(), &f1).is_err(), "a replay");
        assert_eq!(open(&sb.noise, &mut r, &f2).unwrap(), b"block");
        // The other direction has its own key: a frame sent back opens only there.
        let back = seal(&sb.noise, &mut 0, b"x").unwrap();
        assert!(open(&sb.noise, &mut 0, &back).is_err());
        assert_eq!(open(&sa.noise, &mut 0, &back).unwrap(), b"x");
    }

    #[test]
    fn a_changed_handshake_message_or_a_missing_proof_fails() {
        let (a, b) = (Keypair::testnet(0), Keypair::testnet(1));
        for i in 0..3 {
            let r = sessions(&a, &b, |k, m| {
                if k == i {
                    let last = m.len() - 1;
                    m[last] ^= 1;
                }
            });
            assert!(r.is_err(), "message {i} changed: {r:?}");
        }
        // The hellos a side saw are in the prologue: a listener that saw another dialer hello
        // (a relay rewrote it) cannot finish.
        let chain = [7u8; 32];
        let (ha, hb) = (
            Hello::new(&a, Role::Peer, chain),
            Hello::new(&b, Role::Peer, chain),
        );
        let (ea, eb) = (ha.encode(), hb.encode());
        let other = Hello::new(&a, Role::Peer, chain);
        let (ka, kb) = (NoiseKey::generate(), NoiseKey::generate());
        let mut da = NoiseSide::new(&a, &ka, true, chain, ea, eb.clone(), hb).unwrap();
        let mut db =
            NoiseSide::new(&b, &kb, false, chain, eb, other.encode(), other.clone()).unwrap();
        db.read(&da.write().unwrap()).unwrap();
        assert!(da.read(&db.write().unwrap()).is_err());
        // A third message without its proof: the listener does not finish.
        let (ha, hb) = (
            Hello::new(&a, Role::Peer, chain),
            Hello::new(&b, Role::Peer, chain),
        );
        let (ea, eb) = (ha.encode(), hb.encode());
        let mut da = NoiseSide::new(&a, &ka, true, chain, ea.clone(), eb.clone(), hb).unwrap();
        let mut db = NoiseSide::new(&b, &kb, false, chain, eb, ea, ha).unwrap();
        db.read(&da.write().unwrap()).unwrap();
        da.read(&db.write().unwrap()).unwrap();
        let mut buf = vec![0u8; 1024];
        let n = da.state.write_message(&[], &mut buf).unwrap();
        db.read(&buf[..n]).unwrap();
        assert!(matches!(db.finish(), Err(HandshakeError::Malformed(_))));
    }
}
