//! The node's events: one JSON object per line on stdout (spec/node.md, "Events"), typed here so
//! that the runtime writes them and every reader (the testnet driver, operators' tools) reads
//! them with the same definitions: a safety judgement never matches strings by hand.
//!
//! A line is `{"t": <ms>, "node": <short key>, "event": <kind>, ...fields}`; [`EventLine`] is
//! that object, [`Event`] the kind and its fields.

use serde::{Deserialize, Serialize};

use crate::finality::Label;
use crate::keys::to_hex;
use crate::node::{Output, PeerId};

/// One event line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EventLine {
    /// Milliseconds since the Unix epoch when the node emitted it.
    pub t: u64,
    /// The node's short key.
    pub node: String,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
}

/// What happened, by kind (the `event` field).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The node listens; its chain as restored from its log (and snapshot).
    Started {
        /// Listening address.
        listen: String,
        /// Records read from the log.
        records: usize,
        /// Tip height.
        height: u64,
        /// Last Final height.
        #[serde(rename = "final")]
        final_height: u64,
        /// Tip hash (hex).
        tip: String,
    },
    /// A block was appended to the chain (its record is durable before this line).
    Accepted {
        /// Height.
        height: u64,
        /// Hash (hex).
        hash: String,
        /// Iteration that produced it.
        iteration: u8,
        /// Label at acceptance.
        #[serde(with = "label_name")]
        label: Label,
        /// Generator's short key.
        generator: String,
        /// Header timestamp, ms.
        timestamp: u64,
        /// Short keys of the attestation's signers.
        voters: Vec<String>,
        /// State root after the block (hex).
        state_root: String,
        /// Transactions executed after the coinbase.
        transactions: usize,
        /// The failed ones.
        failed: Vec<FailedTx>,
    },
    /// A block's label changed.
    Label {
        /// Height.
        height: u64,
        /// Hash (hex).
        hash: String,
        /// The new label.
        #[serde(with = "label_name")]
        label: Label,
    },
    /// FORK-1: the tip fell back to an ancestor.
    Fallback {
        /// Tip height before.
        from_height: u64,
        /// Height of the kept ancestor.
        to_height: u64,
    },
    /// An iteration ended without a block (a Fail attestation or a timeout).
    IterationFailed {
        /// Round.
        round: u64,
        /// Iteration.
        iteration: u8,
        /// The Fail vote, if one was cast.
        vote: Option<String>,
    },
    /// A fault proof was built against a provisioner.
    Fault {
        /// Offender's short key.
        offender: String,
        /// Round of the fault.
        round: u64,
        /// Iteration of the fault.
        iteration: u8,
    },
    /// A message or frame was refused.
    Rejected {
        /// From which connection.
        peer: PeerId,
        /// Message kind, or `frame`.
        kind: String,
        /// The check it failed (spec/node.md); absent for frames the runtime refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// Why.
        reason: String,
    },
    /// The node stopped: a block it cannot follow.
    Halted {
        /// Height.
        height: u64,
        /// Hash (hex).
        hash: String,
        /// Why.
        reason: String,
    },
    /// Something the operator should know that is not an error of the chain.
    Warning {
        /// What.
        reason: String,
    },
    /// A connection passed the handshake (spec/node.md, "The handshake").
    Connected {
        /// The connection's peer id (a provisioner's genesis index + 1; clients from 2^32).
        peer: PeerId,
        /// Its key (short hex).
        key: String,
        /// `peer` or `client`.
        role: String,
    },
    /// A connection was refused or cut: a failed handshake, a key in back-off, a score at the
    /// disconnect threshold, a client sending consensus messages.
    Disconnected {
        /// The peer id, when the handshake had given one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<PeerId>,
        /// Why.
        reason: String,
    },
    /// Rejections not logged one by one in the last window (spec/node.md: sampled logs).
    Suppressed {
        /// From which peer (absent: handshake refusals of unknown connections).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer: Option<PeerId>,
        /// What was not logged (a rejection code, or `handshake`).
        what: String,
        /// How many.
        count: u32,
    },
}

/// A transaction that failed in an accepted block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FailedTx {
    /// Index in the payload.
    pub index: u32,
    /// Kind of transaction.
    pub kind: String,
    /// Stable code (spec/execution.md EXEC-TX-2).
    pub code: String,
    /// Why, in words.
    pub reason: String,
}

impl EventLine {
    /// Parses one line of a node's stdout (None: not an event line).
    pub fn parse(line: &str) -> Option<EventLine> {
        serde_json::from_str(line).ok()
    }
}

impl std::fmt::Display for EventLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = serde_json::to_string(self).map_err(|_| std::fmt::Error)?;
        f.write_str(&s)
    }
}

/// The event a core output produces, if any.
pub fn of_output(o: &Output) -> Option<Event> {
    Some(match o {
        Output::Accepted(a) => Event::Accepted {
            height: a.height,
            hash: to_hex(&a.hash),
            iteration: a.iteration,
            label: a.label,
            generator: a.generator.short(),
            timestamp: a.timestamp,
            voters: a.voters.iter().map(|k| k.short()).collect(),
            state_root: to_hex(&a.state_root),
            transactions: a.receipts.len(),
            failed: a
                .receipts
                .iter()
                .filter_map(|r| match &r.status {
                    crate::exec::Status::Ok => None,
                    crate::exec::Status::Failed { code, reason } => Some(FailedTx {
                        index: r.index,
                        kind: r.kind.clone(),
                        code: code.clone(),
                        reason: reason.clone(),
                    }),
                })
                .collect(),
        },
        Output::Labelled {
            height,
            hash,
            label,
        } => Event::Label {
            height: *height,
            hash: to_hex(hash),
            label: *label,
        },
        Output::Fallback {
            from_height,
            to_height,
        } => Event::Fallback {
            from_height: *from_height,
            to_height: *to_height,
        },
        Output::IterationFailed {
            round,
            iteration,
            vote,
        } => Event::IterationFailed {
            round: *round,
            iteration: *iteration,
            vote: vote.map(|v| format!("{v:?}")),
        },
        Output::Fault(f) => {
            let (who, round, iteration) = f.subject();
            Event::Fault {
                offender: who.short(),
                round,
                iteration,
            }
        }
        Output::Rejected {
            peer,
            kind,
            code,
            reason,
        } => Event::Rejected {
            peer: *peer,
            kind: (*kind).to_string(),
            code: Some(code.id()),
            reason: reason.clone(),
        },
        Output::Halted {
            height,
            hash,
            reason,
        } => Event::Halted {
            height: *height,
            hash: to_hex(hash),
            reason: reason.clone(),
        },
        _ => return None,
    })
}

/// Labels as their lower-case names (`final`, `attested`, ...), the events' spelling.
mod label_name {
    use serde::{Deserialize, Deserializer, Serializer};

    use crate::finality::Label;

    pub fn serialize<S: Serializer>(l: &Label, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(l.name())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Label, D::Error> {
        let s = String::deserialize(d)?;
        [
            Label::Accepted,
            Label::Attested,
            Label::Confirmed,
            Label::Final,
        ]
        .into_iter()
        .find(|l| l.name() == s)
        .ok_or_else(|| serde::de::Error::custom(format!("unknown label {s:?}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_read_back_as_written_and_other_lines_are_not_events() {
        let lines = [
            EventLine {
                t: 5,
                node: "ab12".into(),
                event: Event::Label {
                    height: 3,
                    hash: "00ff".into(),
                    label: Label::Final,
                },
            },
            EventLine {
                t: 6,
                node: "ab12".into(),
                event: Event::Rejected {
                    peer: 2,
                    kind: "frame".into(),
                    code: None,
                    reason: "too long".into(),
                },
            },
        ];
        for l in &lines {
            let text = l.to_string();
            assert_eq!(EventLine::parse(&text).as_ref(), Some(l), "{text}");
        }
        assert!(lines[0].to_string().contains(r#""label":"final""#));
        assert!(!lines[1].to_string().contains("code"));
        assert_eq!(EventLine::parse("thread main panicked"), None);
        assert_eq!(
            EventLine::parse(
                r#"{"t":1,"node":"x","event":"label","height":1,"hash":"","label":"gold"}"#
            ),
            None
        );
    }
}
