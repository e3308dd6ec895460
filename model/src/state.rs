//! The model's state: per-node state in the spec's words, the broadcast pool, and the
//! history of attestations (a monitor: what any node ever formed).

use std::collections::BTreeSet;

/// A block (or candidate slot) by its path from genesis: one nibble per round holding
/// `iteration + 1`. Genesis is 0. The slot of (parent, round r, iteration i) is the id of the
/// candidate gen(i) would propose on `parent`; votes name the slot they are for, which is the
/// spec's (prev_hash, round, iteration).
pub type BlockId = u32;

/// Round (height) of a block id: number of non-zero nibbles.
pub fn round_of(id: BlockId) -> u8 {
    (0..8).take_while(|k| (id >> (4 * k)) & 0xF != 0).count() as u8
}

/// Parent of a block id.
pub fn parent_of(id: BlockId) -> BlockId {
    let r = round_of(id);
    if r == 0 {
        0
    } else {
        id & ((1u32 << (4 * (u32::from(r) - 1))) - 1)
    }
}

/// Iteration of a (non-genesis) block id.
pub fn iteration_of(id: BlockId) -> u8 {
    let r = round_of(id);
    ((id >> (4 * (u32::from(r) - 1))) & 0xF) as u8 - 1
}

/// Slot of iteration `i` on `parent`.
pub fn slot(parent: BlockId, iteration: u8) -> BlockId {
    let r = round_of(parent);
    parent | (u32::from(iteration) + 1) << (4 * u32::from(r))
}

/// Human form of a block id: `B1.0-2.1` = round 1 iteration 0, then round 2 iteration 1.
pub fn block_name(id: BlockId) -> String {
    if id == 0 {
        return "genesis".into();
    }
    let r = round_of(id);
    let parts: Vec<String> = (1..=r)
        .map(|k| format!("{k}.{}", ((id >> (4 * (u32::from(k) - 1))) & 0xF) - 1))
        .collect();
    format!("B{}", parts.join("-"))
}

/// A vote value (spec VOTE-1). `Valid`/`Invalid` name the slot's unique candidate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Value {
    /// No candidate was received before the Proposal timeout.
    NoCandidate,
    /// The candidate is valid.
    Valid,
    /// The candidate is invalid.
    Invalid,
    /// The previous step reached no quorum (Ratification only).
    NoQuorum,
}

impl Value {
    /// Two-bit code used in [`FailSet`].
    pub fn code(self) -> u16 {
        match self {
            Value::NoCandidate => 1,
            Value::Valid => 0,
            Value::Invalid => 2,
            Value::NoQuorum => 3,
        }
    }
    fn from_code(c: u16) -> Option<Value> {
        match c {
            1 => Some(Value::NoCandidate),
            2 => Some(Value::Invalid),
            3 => Some(Value::NoQuorum),
            _ => None,
        }
    }
}

/// Fail attestations per iteration, two bits each (0 = none).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FailSet(pub u16);

impl FailSet {
    /// The Fail vote recorded for iteration `i`, if any.
    pub fn get(self, i: u8) -> Option<Value> {
        Value::from_code((self.0 >> (2 * i)) & 3)
    }
    /// Records Fail(`v`) for iteration `i`.
    pub fn with(self, i: u8, v: Value) -> FailSet {
        FailSet((self.0 & !(3 << (2 * i))) | (v.code() << (2 * i)))
    }
    /// Keeps only iterations below `n`.
    pub fn below(self, n: u8) -> FailSet {
        FailSet(self.0 & ((1u32 << (2 * u32::from(n))) - 1) as u16)
    }
    /// Number of iterations with a Fail attestation.
    pub fn count(self) -> u8 {
        (0..8).filter(|&i| self.get(i).is_some()).count() as u8
    }
}

/// The two voting steps (Proposal has no votes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum VoteStep {
    /// Validation step.
    Validation,
    /// Ratification step.
    Ratification,
}

/// A message in the broadcast pool. Field order gives range scans by slot and step.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Msg {
    /// gen(i)'s candidate for `slot`, with the failed_iterations it carries.
    Candidate {
        /// Slot (= the candidate's block id).
        slot: BlockId,
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
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
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Entry {
    /// Iteration the block won.
    pub iteration: u8,
    /// Its failed_iterations.
    pub failed: FailSet,
    /// Signers of its attestation (validation | ratification), as a bitset of provisioners.
    pub signers: u8,
    /// Its label in this node's view.
    pub label: Label,
}

/// The last fallback a node performed (monitor for SAFE-FALLBACK-LOWER / SAFE-FINAL-NO-REVERT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FallbackRecord {
    /// Height of the replaced block.
    pub height: u8,
    /// Iteration of the replaced block.
    pub from_iteration: u8,
    /// Iteration of the block accepted instead.
    pub to_iteration: u8,
    /// Highest label among the reverted blocks.
    pub reverted_label: Label,
}

/// One node (provisioner) in the spec's words.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Node {
    /// False once crashed (absent).
    pub alive: bool,
    /// Current iteration of the round `chain.len() + 1`.
    pub iteration: u8,
    /// Current step.
    pub step: Step,
    /// Candidate received in this iteration: Some(valid?).
    pub candidate: Option<bool>,
    /// Validation result of this iteration.
    pub result: Option<Value>,
    /// Accepted blocks at heights 1.. (genesis is implicit and Final).
    pub chain: Vec<Entry>,
    /// Fail attestations held for the current round.
    pub fails: FailSet,
    /// The last fallback performed.
    pub last_fallback: Option<FallbackRecord>,
}

impl Node {
    /// A fresh node at round 1, iteration 0.
    pub fn new() -> Node {
        Node {
            alive: true,
            iteration: 0,
            step: Step::Proposal,
            candidate: None,
            result: None,
            chain: Vec::new(),
            fails: FailSet::default(),
            last_fallback: None,
        }
    }
    /// The round being decided.
    pub fn round(&self) -> u8 {
        self.chain.len() as u8 + 1
    }
    /// Id of the block at height `h` (0 = genesis).
    pub fn block_at(&self, h: usize) -> BlockId {
        self.chain[..h]
            .iter()
            .fold(0, |id, e| slot(id, e.iteration))
    }
    /// Id of the tip.
    pub fn tip(&self) -> BlockId {
        self.block_at(self.chain.len())
    }
    /// Height of the last Final block (0 = genesis).
    pub fn final_height(&self) -> usize {
        self.chain
            .iter()
            .rposition(|e| e.label == Label::Final)
            .map_or(0, |k| k + 1)
    }
}

impl Default for Node {
    fn default() -> Self {
        Node::new()
    }
}

/// An attestation some node formed (monitor).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Attestation {
    /// (prev_hash, round, iteration).
    pub slot: BlockId,
    /// Success is `Valid`; anything else is Fail(value).
    pub value: Value,
    /// Validation signers (empty for Fail(NoQuorum)).
    pub validation: u8,
    /// Ratification signers.
    pub ratification: u8,
}

/// The whole model state.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct State {
    /// One node per provisioner, by key order.
    pub nodes: Vec<Node>,
    /// Every broadcast message (delivery is a node observing it).
    pub pool: BTreeSet<Msg>,
    /// Every attestation any node formed.
    pub attestations: BTreeSet<Attestation>,
    /// Invalid candidates proposed so far (fault budget).
    pub invalid_used: u8,
    /// Premature timer firings so far (late-message budget).
    pub late_used: u8,
}
