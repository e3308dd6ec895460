//! The model's state in the spec's words: per-node state (each node's own view), the set of
//! messages sent, and what the adversary has used of its budget.

use std::hash::Hash;

use serde::Serialize;

/// A block (or candidate slot) by its path from genesis: one nibble per round holding
/// `1 + 2·iteration + variant`. Genesis is 0. Variant 0 is the candidate an honest generator
/// proposes; variant 1 the second, different candidate a Byzantine generator may propose for
/// the same (prev_hash, round, iteration). The *slot* of a block is its id with variant 0:
/// votes for NoCandidate/NoQuorum name the slot, Valid/Invalid name the block.
pub type BlockId = u32;

#[inline]
fn nibble(id: BlockId, k: u8) -> u32 {
    (id >> (4 * u32::from(k))) & 0xF
}

/// Round (height) of a block id: number of non-zero nibbles.
#[inline]
pub fn round_of(id: BlockId) -> u8 {
    (0..8).take_while(|&k| nibble(id, k) != 0).count() as u8
}

/// Parent of a block id.
#[inline]
pub fn parent_of(id: BlockId) -> BlockId {
    let r = round_of(id);
    if r == 0 {
        0
    } else {
        id & ((1u32 << (4 * (u32::from(r) - 1))) - 1)
    }
}

/// Iteration of a (non-genesis) block id.
#[inline]
pub fn iteration_of(id: BlockId) -> u8 {
    ((nibble(id, round_of(id) - 1) - 1) / 2) as u8
}

/// Candidate variant of a (non-genesis) block id (0 = the only one an honest generator makes).
#[inline]
pub fn variant_of(id: BlockId) -> u8 {
    ((nibble(id, round_of(id) - 1) - 1) % 2) as u8
}

/// The block of variant `variant` of iteration `iteration` on `parent`.
#[inline]
pub fn block(parent: BlockId, iteration: u8, variant: u8) -> BlockId {
    let r = round_of(parent);
    parent | (1 + 2 * u32::from(iteration) + u32::from(variant)) << (4 * u32::from(r))
}

/// Slot of iteration `i` on `parent`: the spec's (prev_hash, round, iteration).
#[inline]
pub fn slot(parent: BlockId, iteration: u8) -> BlockId {
    block(parent, iteration, 0)
}

/// The slot a block was proposed in.
#[inline]
pub fn slot_of(id: BlockId) -> BlockId {
    slot(parent_of(id), iteration_of(id))
}

/// Human form of a block id: `B1.0-2.1` = round 1 iteration 0, then round 2 iteration 1;
/// a second candidate of a slot is marked `'` (`B1.0'`).
#[inline]
pub fn block_name(id: BlockId) -> String {
    if id == 0 {
        return "genesis".into();
    }
    let r = round_of(id);
    let parts: Vec<String> = (0..r)
        .map(|k| {
            let n = nibble(id, k) - 1;
            let mark = if n % 2 == 1 { "'" } else { "" };
            format!("{}.{}{mark}", k + 1, n / 2)
        })
        .collect();
    format!("B{}", parts.join("-"))
}

/// A vote value (spec VOTE-1). `Valid`/`Invalid` carry the candidate variant they name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Value {
    /// No candidate was received before the Proposal timeout.
    NoCandidate,
    /// The candidate (variant) is valid.
    Valid(u8),
    /// The candidate (variant) is invalid.
    Invalid(u8),
    /// The previous step reached no quorum (Ratification only).
    NoQuorum,
}

impl Value {
    /// Whether this is a Valid vote (Success when ratified).
    #[inline]
    pub fn is_valid(self) -> bool {
        matches!(self, Value::Valid(_))
    }
    /// The short name used in reports.
    #[inline]
    pub fn name(self) -> String {
        match self {
            Value::NoCandidate => "NoCandidate".into(),
            Value::Valid(0) => "Valid".into(),
            Value::Valid(v) => format!("Valid(candidate {v})"),
            Value::Invalid(0) => "Invalid".into(),
            Value::Invalid(v) => format!("Invalid(candidate {v})"),
            Value::NoQuorum => "NoQuorum".into(),
        }
    }
    /// Two-bit code of a Fail value used in [`FailSet`] (0 = none).
    #[inline]
    fn fail_code(self) -> u16 {
        match self {
            Value::NoCandidate => 1,
            Value::Invalid(_) => 2,
            Value::NoQuorum => 3,
            Value::Valid(_) => 0,
        }
    }
    #[inline]
    fn from_fail_code(c: u16) -> Option<Value> {
        match c {
            1 => Some(Value::NoCandidate),
            2 => Some(Value::Invalid(0)),
            3 => Some(Value::NoQuorum),
            _ => None,
        }
    }
}

/// The Fail attestations a candidate records in failed_iterations, two bits per iteration
/// (0 = none). `Invalid` is stored without its variant: the fail kind is what counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FailSet(pub u16);

impl FailSet {
    /// The Fail vote recorded for iteration `i`, if any.
    #[inline]
    pub fn get(self, i: u8) -> Option<Value> {
        Value::from_fail_code((self.0 >> (2 * i)) & 3)
    }
    /// Records Fail(`v`) for iteration `i`.
    #[inline]
    pub fn with(self, i: u8, v: Value) -> FailSet {
        FailSet((self.0 & !(3 << (2 * i))) | (v.fail_code() << (2 * i)))
    }
    /// Keeps only iterations below `n`.
    #[inline]
    pub fn below(self, n: u8) -> FailSet {
        if n >= 8 {
            return self;
        }
        FailSet(self.0 & ((1u32 << (2 * u32::from(n))) - 1) as u16)
    }
    /// Number of iterations with a Fail attestation.
    #[inline]
    pub fn count(self) -> u8 {
        (0..8).filter(|&i| self.get(i).is_some()).count() as u8
    }
}

/// The two voting steps (Proposal has no votes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum VoteStep {
    /// Validation step.
    Validation,
    /// Ratification step.
    Ratification,
}

/// A message some honest provisioner sent. Byzantine votes are not stored: a Byzantine
/// committee member can sign any value for any step it is drawn in and send it to anyone, so
/// every tally counts its credits for whatever value is being tallied (`network::tally`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Msg {
    /// A candidate, with the failed_iterations it carries.
    Candidate {
        /// The candidate's block id (slot + variant).
        block: BlockId,
        /// Whether the candidate passes validation.
        valid: bool,
        /// failed_iterations of the candidate (iterations < relaxed threshold).
        failed: FailSet,
    },
    /// A signed vote.
    Vote {
        /// The slot voted on: (prev_hash, round, iteration).
        slot: BlockId,
        /// The step.
        step: VoteStep,
        /// The value.
        value: Value,
        /// The signer.
        voter: u8,
    },
}

/// Where a node is in its round (spec STEP-*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Step {
    /// Waiting for gen(i)'s candidate.
    Proposal,
    /// Voted (if a member); waiting for the validation result.
    Validation,
    /// Voted (if a member); waiting for the ratification quorum.
    Ratification,
    /// After the last iteration: only Success quorums of the round are accepted (open consensus).
    Open,
    /// Past the last explored round.
    Done,
}

/// Block labels (spec FIN-*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Label {
    /// Accepted with PNI > 0.
    Accepted,
    /// Accepted with PNI = 0.
    Attested,
    /// Confirmed by the walk-back rule.
    Confirmed,
    /// Final: never reverted.
    Final,
}

/// A block in a node's chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Entry {
    /// Iteration the block won.
    pub iteration: u8,
    /// Candidate variant (0 unless a Byzantine generator made two).
    pub variant: u8,
    /// Its failed_iterations.
    pub failed: FailSet,
    /// Its label in this node's view.
    pub label: Label,
}

/// An attestation (ATT-1): the outcome of one iteration with the signers of both steps, as
/// one node holds it. Signers are bitsets of provisioners.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Att {
    /// (prev_hash, round, iteration).
    pub slot: BlockId,
    /// Success is `Valid(variant)`; anything else is Fail(value).
    pub value: Value,
    /// Validation signers (empty for Fail(NoQuorum)).
    pub validation: u8,
    /// Ratification signers.
    pub ratification: u8,
}

/// The last fallback a node performed (monitor for SAFE-FALLBACK-LOWER / SAFE-FINAL-NO-REVERT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct FallbackRecord {
    /// Height of the replaced block.
    pub height: u8,
    /// The replaced block.
    pub from: BlockId,
    /// The block accepted instead.
    pub to: BlockId,
    /// Highest label among the reverted blocks.
    pub reverted_label: Label,
}

/// One node (provisioner) in the spec's words: what it has decided and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Node {
    /// False once crashed (absent). Byzantine provisioners have no node state and stay inert.
    pub alive: bool,
    /// Current iteration of the round `chain.len() + 1`.
    pub iteration: u8,
    /// Current step.
    pub step: Step,
    /// Accepted blocks at heights 1.. (genesis is implicit and Final).
    pub chain: Vec<Entry>,
    /// Fail attestations held for the current round.
    pub fails: FailSet,
    /// The outcome (slot, value) of every attestation this node formed or adopted, in any
    /// round, never dropped: its own view, from which its fault proofs are computed (two
    /// attestations of one slot on different values whose signers overlap). The signers are
    /// not stored: see `properties::signers` and spec/faults.md (abstraction 2).
    pub held: Vec<(BlockId, Value)>,
    /// The last fallback performed.
    pub last_fallback: Option<FallbackRecord>,
    /// Whether, in the current round, this node cast a Validation vote for an emergency
    /// iteration it had already left (EMERG-1: several iterations open at once).
    pub voted_late: bool,
}

impl Node {
    /// A fresh node at round 1, iteration 0.
    #[inline]
    pub fn new() -> Node {
        Node {
            alive: true,
            iteration: 0,
            step: Step::Proposal,
            chain: Vec::new(),
            fails: FailSet::default(),
            held: Vec::new(),
            last_fallback: None,
            voted_late: false,
        }
    }
    /// The round being decided.
    #[inline]
    pub fn round(&self) -> u8 {
        self.chain.len() as u8 + 1
    }
    /// Id of the block at height `h` (0 = genesis).
    #[inline]
    pub fn block_at(&self, h: usize) -> BlockId {
        self.chain[..h]
            .iter()
            .fold(0, |id, e| block(id, e.iteration, e.variant))
    }
    /// Id of the tip.
    #[inline]
    pub fn tip(&self) -> BlockId {
        self.block_at(self.chain.len())
    }
    /// Height of the last Final block (0 = genesis).
    #[inline]
    pub fn final_height(&self) -> usize {
        self.chain
            .iter()
            .rposition(|e| e.label == Label::Final)
            .map_or(0, |k| k + 1)
    }
    /// Whether this node holds an attestation of `slot` on `value`.
    #[inline]
    pub fn holds(&self, slot: BlockId, value: Value) -> bool {
        self.held.binary_search(&(slot, value)).is_ok()
    }
}

impl Default for Node {
    #[inline]
    fn default() -> Self {
        Node::new()
    }
}

/// The whole model state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct State {
    /// One node per provisioner, by key order (Byzantine ones inert).
    pub nodes: Vec<Node>,
    /// Every message an honest provisioner (or a Byzantine generator: candidates) sent.
    pub pool: Pool,
    /// Invalid candidates proposed so far (fault budget).
    pub invalid_used: u8,
    /// What lies below every node's chain: the genesis block in the bounded model; in the
    /// unbounded model (the checker's), the last height dropped once Final everywhere.
    #[serde(skip_serializing_if = "Root::is_genesis")]
    pub root: Root,
}

/// What lies below every node's chain (heights are relative to it). The bounded model's root
/// is the genesis block; the checker's unbounded model drops a height once it is Final at
/// every present honest node and moves the root up to it, so that rounds go on for ever in a
/// finite state space. The draws of the round above the root depend only on it (`SaModel`'s
/// `tip_only`), and penalties outlive the drop through the carried ledger.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Root {
    /// The block at the root (iteration and failed_iterations), from which the draws of the
    /// round above it are derived; `None` at genesis.
    pub anchor: Option<(u8, FailSet)>,
    /// The id of the ledger after the root (`crate::draws::Contexts::register_base`; 0 = the
    /// genesis ledger). Penalties (faults, suspensions, slashed stake) outlive a drop.
    pub base: u64,
    /// With seed classes (`SortitionParams::seed_classes`): the class of the seed of the round
    /// above the root. 0 otherwise.
    pub seed_class: u8,
}

impl Root {
    /// The genesis root: the bounded model's, always.
    pub const GENESIS: Root = Root {
        anchor: None,
        base: 0,
        seed_class: 0,
    };

    /// Whether this is the genesis root (always, in the bounded model).
    #[inline]
    pub fn is_genesis(&self) -> bool {
        *self == Root::default()
    }
}

/// The messages sent: a sorted set kept as a vector (cheap to clone, hash and search).
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Pool(Vec<Msg>);

impl Pool {
    /// Whether `m` was sent.
    #[inline]
    pub fn contains(&self, m: &Msg) -> bool {
        self.0.binary_search(m).is_ok()
    }
    /// Records that `m` was sent.
    #[inline]
    pub fn insert(&mut self, m: Msg) {
        if let Err(at) = self.0.binary_search(&m) {
            self.0.insert(at, m);
        }
    }
    /// The voters (bit `v` for voter `v`) that sent a vote on `value` in step `step` of
    /// `slot`: one range of the sorted pool (votes are ordered by slot, step, value, voter).
    #[inline]
    pub fn voters(&self, slot: BlockId, step: VoteStep, value: Value) -> u8 {
        let lo = Msg::Vote {
            slot,
            step,
            value,
            voter: 0,
        };
        let a = self.0.partition_point(|m| *m < lo);
        let mut mask = 0u8;
        for m in &self.0[a..] {
            match *m {
                Msg::Vote {
                    slot: s,
                    step: st,
                    value: v,
                    voter,
                } if s == slot && st == step && v == value && voter < 8 => mask |= 1 << voter,
                _ => break,
            }
        }
        mask
    }
    /// Keeps only the messages `keep` accepts (state merging: `crate::merging`).
    pub fn retain(&mut self, keep: impl FnMut(&Msg) -> bool) {
        self.0.retain(keep);
    }
    /// Every message sent, in order.
    #[inline]
    pub fn iter(&self) -> std::slice::Iter<'_, Msg> {
        self.0.iter()
    }
    /// The messages from `lo` (inclusive) on, in order.
    #[inline]
    pub fn from(&self, lo: &Msg) -> &[Msg] {
        &self.0[self.0.partition_point(|m| m < lo)..]
    }
    /// The messages from `lo` (inclusive) to `hi` (exclusive), in order.
    #[inline]
    pub fn range(&self, lo: &Msg, hi: &Msg) -> &[Msg] {
        let a = self.0.partition_point(|m| m < lo);
        let b = self.0.partition_point(|m| m < hi);
        &self.0[a..b.max(a)]
    }
}

impl Extend<Msg> for Pool {
    #[inline]
    fn extend<I: IntoIterator<Item = Msg>>(&mut self, iter: I) {
        for m in iter {
            self.insert(m);
        }
    }
}

/// A fast 64-bit hasher of good quality (the wyhash mixing step over 8-byte words), used to
/// fingerprint a state in one pass: Stateright then hashes only this one word. Two distinct
/// states are merged only if their 64-bit hashes collide (as with Stateright's own
/// fingerprints).
#[derive(Clone, Copy)]
pub struct WyHasher {
    h: u64,
    buf: u64,
    len: u32,
}

impl Default for WyHasher {
    #[inline]
    fn default() -> Self {
        WyHasher {
            h: 0xa076_1d64_78bd_642f,
            buf: 0,
            len: 0,
        }
    }
}

#[inline]
fn wymix(a: u64, b: u64) -> u64 {
    let r = u128::from(a) * u128::from(b);
    (r as u64) ^ ((r >> 64) as u64)
}

impl WyHasher {
    #[inline]
    fn word(&mut self, w: u64) {
        self.h = wymix(
            self.h ^ w ^ 0xe703_7ed1_a0b4_28db,
            0x8ebc_6af0_9c88_c6e3 ^ self.h.rotate_left(17),
        );
    }
}

impl std::hash::Hasher for WyHasher {
    #[inline]
    fn finish(&self) -> u64 {
        let mut h = *self;
        let w = h.buf;
        h.word(w ^ u64::from(h.len).rotate_right(8));
        wymix(h.h, 0x5899_65cc_7537_4cc3)
    }
    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut w = [0u8; 8];
            w[..chunk.len()].copy_from_slice(chunk);
            self.word(u64::from_le_bytes(w) ^ (chunk.len() as u64) << 60);
        }
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.push(u64::from(i), 8);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.push(u64::from(i), 16);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.push(u64::from(i), 32);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.word(i);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.push(i as u64, 32);
    }
}

impl WyHasher {
    /// Packs small integers into one word before mixing.
    #[inline]
    fn push(&mut self, v: u64, bits: u32) {
        if self.len + bits > 64 {
            let w = self.buf;
            self.word(w);
            self.buf = 0;
            self.len = 0;
        }
        self.buf |= v << self.len;
        self.len += bits;
    }
}

impl std::hash::Hash for State {
    #[inline]
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        use std::hash::Hasher as _;
        let mut h = WyHasher::default();
        self.nodes.hash(&mut h);
        self.pool.hash(&mut h);
        self.invalid_used.hash(&mut h);
        self.root.hash(&mut h);
        state.write_u64(h.finish());
    }
}

/// The candidate `b` if it was sent: (valid, failed_iterations).
#[inline]
pub fn candidate(state: &State, b: BlockId) -> Option<(bool, FailSet)> {
    let lo = Msg::Candidate {
        block: b,
        valid: false,
        failed: FailSet(0),
    };
    // The first message at or after `lo` in the sorted pool is the first candidate of `b`, if
    // there is one.
    match state.pool.from(&lo).first() {
        Some(&Msg::Candidate {
            block: x,
            valid,
            failed,
        }) if x == b => Some((valid, failed)),
        _ => None,
    }
}

/// Number of different votes `voter` cast for (`slot`, `step`).
#[inline]
pub fn votes_cast(state: &State, s: BlockId, step: VoteStep, voter: u8) -> usize {
    let mut values = vec![Value::NoCandidate, Value::NoQuorum];
    for v in 0..2 {
        values.push(Value::Valid(v));
        values.push(Value::Invalid(v));
    }
    values
        .into_iter()
        .filter(|&value| {
            state.pool.contains(&Msg::Vote {
                slot: s,
                step,
                value,
                voter,
            })
        })
        .count()
}
