//! The trace format (spec/conformance.md): one model run projected onto one node under test,
//! written as ITF JSON (Apalache ADR-015) and read back with the `itf` crate.
//!
//! Shapes: integers are `{"#bigint": "n"}` ([`Big`]), sets `{"#set": [...]}` ([`Set`]), sum
//! types `{"tag": "Name", "value": {...}}` (every variant carries a record, possibly empty, so
//! that Quint's tools read it). The same types serialize (export) and deserialize (through
//! `itf::trace_from_str`, never by hand).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The format this crate writes and reads (`#meta.format_version`).
pub const FORMAT_VERSION: &str = "sa-conformance/4";

/// An integer in ITF form (`{"#bigint": "n"}`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Big(pub u64);

impl Serialize for Big {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("#bigint", &self.0.to_string())?;
        m.end()
    }
}

impl<'de> Deserialize<'de> for Big {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Big, D::Error> {
        u64::deserialize(d).map(Big)
    }
}

/// A set in ITF form (`{"#set": [...]}`), kept sorted.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Set<T>(pub Vec<T>);

impl<T: Serialize> Serialize for Set<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("#set", &self.0)?;
        m.end()
    }
}

impl<'de, T: Deserialize<'de> + Ord> Deserialize<'de> for Set<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Set<T>, D::Error> {
        let mut v = Vec::<T>::deserialize(d)?;
        v.sort();
        Ok(Set(v))
    }
}

/// A step of a round (spec STEP-*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "tag", content = "value")]
pub enum Step {
    /// Waiting for gen(i)'s candidate.
    Proposal,
    /// Voted (if a member), waiting for the Validation result.
    Validation,
    /// Voted (if a member), waiting for the Ratification quorum.
    Ratification,
    /// After the last iteration (ITER-3).
    Open,
    /// Past the last round the model explores.
    Done,
}

/// A vote value (VOTE-1); `candidate` is the candidate variant (0, or 1 for a Byzantine
/// generator's second candidate).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "tag", content = "value")]
pub enum Value {
    /// No candidate before the Proposal timeout.
    NoCandidate,
    /// The candidate is valid.
    Valid {
        /// Its variant.
        candidate: Big,
    },
    /// The candidate is invalid.
    Invalid {
        /// Its variant.
        candidate: Big,
    },
    /// No Validation quorum (Ratification only).
    NoQuorum,
}

/// The two voting steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "tag", content = "value")]
pub enum VoteStep {
    /// Validation.
    Validation,
    /// Ratification.
    Ratification,
}

/// A block label (FIN-*).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "tag", content = "value")]
pub enum Label {
    /// Accepted with PNI > 0.
    Accepted,
    /// Accepted with PNI = 0.
    Attested,
    /// Confirmed.
    Confirmed,
    /// Final.
    Final,
}

/// One Fail attestation a candidate carries in `failed_iterations`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Failed {
    /// Its iteration.
    pub iteration: Big,
    /// Its Fail value.
    pub value: Value,
}

/// An attestation as the node under test receives it: the outcome of `iteration` of its
/// round (or of the round at `height` for a fallback) with the signers of both steps.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Attestation {
    /// The iteration.
    pub iteration: Big,
    /// Success is `Valid`; anything else is a Fail of that value.
    pub value: Value,
    /// Validation signers (provisioner indices; empty for Fail(NoQuorum)).
    pub validation: Set<Big>,
    /// Ratification signers.
    pub ratification: Set<Big>,
    /// failed_iterations of the attested candidate (Success only).
    pub failed: Set<Failed>,
}

/// What happens to the node under test at one step of the trace.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "tag", content = "value")]
pub enum Event {
    /// The initial state (no event).
    Init,
    /// The node is gen(i) and proposes (`valid = false`: a misconfigured generator).
    Propose {
        /// Whether its candidate passes validation.
        valid: bool,
    },
    /// A candidate of the node's current iteration arrives.
    Candidate {
        /// The block (`B1.0`, `B1.0'` for a Byzantine generator's second candidate).
        block: String,
        /// Whether it passes validation.
        valid: bool,
        /// The Fail attestations it carries in `failed_iterations`.
        failed: Set<Failed>,
    },
    /// The timer of the node's current step fires.
    Timeout {
        /// The step.
        step: Step,
    },
    /// Validation votes on `value` of the node's current iteration from `signers` (a quorum).
    ValidationQuorum {
        /// The value.
        value: Value,
        /// The signers.
        signers: Set<Big>,
        /// For a Valid or Invalid value, the Fail attestations its candidate carries in
        /// `failed_iterations` (with the name, they fix the candidate's hash); empty otherwise.
        failed: Set<Failed>,
    },
    /// Ratification votes forming an attestation of the node's current iteration.
    RatificationQuorum {
        /// The attestation.
        attestation: Attestation,
    },
    /// The Success attestation and block of an earlier iteration of the round.
    PastSuccess {
        /// The attestation.
        attestation: Attestation,
    },
    /// A lower-iteration block at `height` on the same parent (FORK-1).
    Fallback {
        /// The height.
        height: Big,
        /// Its Success attestation.
        attestation: Attestation,
    },
    /// A single vote of the node's current round from `signer` that the model has no message
    /// for, so that the node must stay as it was: a provisioner that is not a member of that
    /// step's committee (TALLY-2: it must not count, nothing is output), or a member whose vote
    /// of that step the node already counted, now on another value (TALLY-3: it must not
    /// count; SLASH-4: the node outputs a fault proof).
    Vote {
        /// The iteration.
        iteration: Big,
        /// The step.
        step: VoteStep,
        /// The value.
        value: Value,
        /// The signer.
        signer: Big,
    },
    /// A candidate of the node's current iteration, as gen(i) would sign it, with one defect
    /// (`defect`, one of [`DEFECTS`]) that makes every honest node refuse it (ACCEPT-1's
    /// checks, ATT-1, FAIL-1, REW-2, SLASH-4, SORT-6): the node must stay as it was and send
    /// nothing. `block` names the genuine candidate it is made from; for the `block-*`
    /// defects, iteration 0's candidate of the round, delivered as a block whose Success
    /// attestation is wrong (ITER-2, ATT-1).
    Defective {
        /// The genuine candidate.
        block: String,
        /// The defect.
        defect: String,
    },
    /// A candidate of the node's current iteration, as gen(i) would sign it, at an edge the
    /// spec allows (`edge`, one of [`EDGES`]): valid fault proofs, the most a block may carry,
    /// a proof exactly one epoch old, a timestamp exactly at the future bound. Every honest node
    /// must take it as it takes the genuine candidate `block` it is made from (with the Fail
    /// attestations `failed`): the expected outputs and state are the genuine candidate's.
    Edge {
        /// The genuine candidate it stands in for.
        block: String,
        /// The Fail attestations the genuine candidate carries.
        failed: Set<Failed>,
        /// The edge.
        edge: String,
    },
    /// Mutation `double-vote` only: a late candidate after a NoCandidate vote.
    Revote {
        /// The candidate.
        block: String,
    },
    /// The node goes offline for good.
    Crash,
}

/// The defects of a `Defective` candidate (spec/conformance.md, "Defective candidates"), with
/// what each needs of the node's position: `any`, `round-1`, `round-2+` (a parent attestation
/// is due), `iteration-1+` (failed_iterations has an entry), `past-epoch` (the round is past
/// the first epoch, so a proof older than one epoch exists) or `emergency` (the configuration
/// has an emergency iteration).
pub const DEFECTS: [(&str, &str); 32] = [
    ("parent", "any"),
    ("iteration", "any"),
    ("generator", "any"),
    ("timestamp-past", "any"),
    ("timestamp-future", "any"),
    ("signature", "any"),
    ("seed", "any"),
    ("payload-root", "any"),
    ("faults-root", "any"),
    ("too-many-faults", "any"),
    ("fault-proof-forged", "any"),
    ("fault-proof-future", "any"),
    ("failed-length", "any"),
    ("failed-forged", "iteration-1+"),
    ("failed-generator", "iteration-1+"),
    ("failed-short", "iteration-1+"),
    ("block-attestation-forged", "iteration-1+"),
    ("block-attestation-other", "iteration-1+"),
    ("prev-attestation-missing", "round-2+"),
    ("prev-attestation-forged", "round-2+"),
    ("prev-attestation-at-height-1", "round-1"),
    ("fault-votes-signer", "any"),
    ("fault-votes-step", "any"),
    ("fault-votes-signature", "any"),
    ("fault-candidates-generator", "any"),
    ("fault-candidates-height", "any"),
    ("fault-candidates-parent", "any"),
    ("fault-candidates-iteration", "any"),
    ("fault-candidates-same", "any"),
    ("fault-candidates-signature", "any"),
    ("fault-proof-old", "past-epoch"),
    ("fault-proof-emergency", "emergency"),
];

/// Whether a probe that `needs` (the second column of [`DEFECTS`] and [`EDGES`]) applies to
/// a node at `at` under `protocol`.
#[must_use]
pub fn needs_met(protocol: &sa_model::config::ProtocolParams, at: &Observed, needs: &str) -> bool {
    match needs {
        "round-1" => at.round.0 == 1,
        "round-2+" => at.round.0 >= 2,
        "iteration-1+" => at.iteration.0 >= 1 && protocol.relaxed_iterations >= 1,
        "past-epoch" => at.round.0 > u64::from(protocol.epoch),
        "emergency" => protocol
            .emergency_iteration
            .is_some_and(|e| e < protocol.max_iterations),
        _ => true,
    }
}

/// The variant a block name gives: 1 for a name ending in `'` (a Byzantine generator's second
/// candidate), else 0.
#[must_use]
pub fn variant_of_name(name: &str) -> u8 {
    u8::from(name.ends_with('\''))
}

/// The iteration a block name gives (`B1.0-2.1'` -> 1): the number after the last dot.
#[must_use]
pub fn iteration_of_name(name: &str) -> Option<u8> {
    name.trim_end_matches('\'')
        .rsplit('.')
        .next()
        .and_then(|i| i.parse().ok())
}

/// The edges of an `Edge` candidate (spec/conformance.md, "Candidates at an edge"), with what
/// each needs of the node's position (as for [`DEFECTS`]).
pub const EDGES: [(&str, &str); 5] = [
    ("fault-double-vote", "any"),
    ("fault-double-candidate", "any"),
    ("faults-at-max", "any"),
    ("fault-epoch-old", "past-epoch"),
    ("timestamp-at-future-bound", "any"),
];

/// An output of the node under test at this step: a message it must send, or evidence it
/// must record.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "tag", content = "value")]
pub enum Sent {
    /// A vote of its current slot.
    Vote {
        /// Round.
        round: Big,
        /// Iteration.
        iteration: Big,
        /// Step.
        step: VoteStep,
        /// Value.
        value: Value,
    },
    /// Its candidate.
    Candidate {
        /// The block.
        block: String,
        /// Whether it passes validation.
        valid: bool,
    },
    /// A fault proof it records (SLASH-4), kept for its next candidate: two different signed
    /// messages of `offender` for one (round, iteration, step); `Proposal` for two candidates.
    FaultProof {
        /// The provisioner who equivocated.
        offender: Big,
        /// Round.
        round: Big,
        /// Iteration.
        iteration: Big,
        /// Step (`Proposal`: a double candidate).
        step: Step,
    },
}

/// One block of the node's chain.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ChainEntry {
    /// The block (`B1.0-2.1`).
    pub block: String,
    /// Its label at the node under test.
    pub label: Label,
}

/// What can be observed of the node under test after the step.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Observed {
    /// Running (not crashed).
    pub alive: bool,
    /// The round it decides (tip height + 1).
    pub round: Big,
    /// Its iteration.
    pub iteration: Big,
    /// Its step.
    pub step: Step,
    /// Its chain above genesis, with labels.
    pub chain: Vec<ChainEntry>,
    /// Height of its last Final block.
    pub final_height: Big,
    /// The ledger at its tip, one entry per provisioner in index order: what penalties and
    /// suspensions (SLASH-*, ELIG-3) did to each.
    pub ledger: Vec<Balance>,
}

/// One provisioner's entry of a node's ledger.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Balance {
    /// Stake with weight (lux).
    pub stake: Big,
    /// Soft-slashed stake (lux), without weight.
    pub locked: Big,
    /// Soft faults counted.
    pub faults: Big,
    /// Hard faults counted.
    pub hard_faults: Big,
    /// First round it is eligible again after a suspension (0: never suspended).
    pub suspended_until: Big,
    /// Rewards received (lux, REW-1, REW-2): every block below the tip pays its generator and
    /// its attestation's signers when the block above it is accepted, from the attestation
    /// the node under test was given for it (the one the next candidate's header carries).
    pub reward: Big,
}

/// One state of a trace: the event, the messages the node must send in answer, the node after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceState {
    /// What happened to the node.
    pub event: Event,
    /// What it must send.
    pub sent: Set<Sent>,
    /// The node after the event.
    pub node: Observed,
}

/// Reads a trace file's text with the `itf` crate; errors name the problem (the caller adds
/// the file).
pub fn read(text: &str) -> Result<itf::Trace<TraceState>, String> {
    let raw: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let version = raw
        .get("#meta")
        .and_then(|m| m.get("format_version"))
        .and_then(|v| v.as_str())
        .ok_or("#meta.format_version is missing")?;
    if version != FORMAT_VERSION {
        return Err(format!(
            "#meta.format_version is {version:?}; this reader knows {FORMAT_VERSION:?}"
        ));
    }
    let states = raw.get("states").and_then(|s| s.as_array()).cloned();
    itf::trace_from_value::<TraceState>(raw).map_err(|e| {
        // Decode state by state to name the state that is wrong.
        for (k, s) in states.iter().flatten().enumerate() {
            let one = serde_json::json!({"#meta": {}, "states": [s]});
            if let Err(e) = itf::trace_from_value::<TraceState>(one) {
                return format!("states[{k}]: {e}");
            }
        }
        e.to_string()
    })
}
