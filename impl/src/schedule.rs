//! A network schedule, for fault injection only (`sa testnet --schedule`, docs/operators.md, "A network schedule"):
//! rules that delay, hold or drop what one node sends to another, per message kind, round,
//! iteration and vote value, within a window of time. Every node of a testnet reads the same
//! schedule and applies the rules whose `from` names it, so one file scripts the whole
//! network; delays may carry a seeded jitter, so a run is reproducible up to the operating
//! system's timing. An empty schedule (the default) changes nothing.

use serde::{Deserialize, Serialize};

use crate::hash::blake2b256;
use crate::message::Message;
use crate::tally::Vote;

/// What a rule does to the messages it matches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Sent as usual (an exception to the rules after it).
    Pass,
    /// Never sent.
    Drop,
    /// Sent at `until_ms` (the end of the rule's window), not before.
    Hold,
    /// Sent `delay_ms` later (plus the seeded jitter).
    Delay,
}

/// One rule of a [`Schedule`]. Empty lists and absent ranges match everything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Senders (provisioner indexes, genesis order) that apply the rule.
    #[serde(default)]
    pub from: Vec<u32>,
    /// Receivers (provisioner indexes).
    #[serde(default)]
    pub to: Vec<u32>,
    /// Message kinds: candidate, validation, ratification, block, get_blocks, transaction.
    #[serde(default)]
    pub kinds: Vec<String>,
    /// Rounds, inclusive (a block's height is its round).
    #[serde(default)]
    pub rounds: Option<[u64; 2]>,
    /// Iterations, inclusive (candidates, votes and blocks).
    #[serde(default)]
    pub iterations: Option<[u8; 2]>,
    /// Vote values: valid, invalid, no-candidate, no-quorum.
    #[serde(default)]
    pub values: Vec<String>,
    /// The window: messages sent from this time on (ms after the genesis time) ...
    #[serde(default)]
    pub from_ms: u64,
    /// ... and before this one (none: for ever).
    #[serde(default)]
    pub until_ms: Option<u64>,
    /// What the rule does.
    pub action: Action,
    /// With `delay`: the added delay.
    #[serde(default)]
    pub delay_ms: u64,
    /// With `delay`: up to this much more, drawn from the schedule's seed and the message.
    #[serde(default)]
    pub jitter_ms: u64,
}

/// The kinds a rule may name.
pub const KINDS: [&str; 6] = [
    "candidate",
    "validation",
    "ratification",
    "block",
    "get_blocks",
    "transaction",
];

/// The vote values a rule may name.
pub const VALUES: [&str; 4] = ["valid", "invalid", "no-candidate", "no-quorum"];

/// A whole schedule: its rules (the first that matches decides) and the jitter's seed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Seed of every rule's jitter.
    #[serde(default)]
    pub seed: u64,
    /// The rules, in order.
    #[serde(default, rename = "rule")]
    pub rules: Vec<Rule>,
}

/// What happens to one message on its way to one peer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Sent as usual.
    Send,
    /// Never sent.
    Drop,
    /// Sent this many ms after the genesis time at the earliest.
    At(u64),
}

/// What the rules look at in a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Shape {
    kind: &'static str,
    round: Option<u64>,
    iteration: Option<u8>,
    value: Option<&'static str>,
}

fn value_name(v: &Vote) -> &'static str {
    match v {
        Vote::Valid(_) => "valid",
        Vote::Invalid(_) => "invalid",
        Vote::NoCandidate => "no-candidate",
        Vote::NoQuorum => "no-quorum",
    }
}

fn shape(m: &Message) -> Shape {
    let (round, iteration, value) = match m {
        Message::Candidate(c) => (Some(c.header.height), Some(c.header.iteration), None),
        Message::Validation(v) | Message::Ratification { vote: v, .. } => (
            Some(v.header.round),
            Some(v.header.iteration),
            Some(value_name(&v.vote)),
        ),
        Message::Block(b) => (Some(b.header().height), Some(b.header().iteration), None),
        Message::GetBlocks { .. } | Message::Transaction(_) => (None, None, None),
    };
    Shape {
        kind: m.kind(),
        round,
        iteration,
        value,
    }
}

fn within<T: PartialOrd + Copy>(range: Option<[T; 2]>, x: Option<T>) -> bool {
    match (range, x) {
        (None, _) => true,
        (Some([lo, hi]), Some(x)) => lo <= x && x <= hi,
        (Some(_), None) => false,
    }
}

impl Rule {
    fn matches(&self, from: u32, to: u32, s: &Shape, t: u64) -> bool {
        (self.from.is_empty() || self.from.contains(&from))
            && (self.to.is_empty() || self.to.contains(&to))
            && (self.kinds.is_empty() || self.kinds.iter().any(|k| k == s.kind))
            && within(self.rounds, s.round)
            && within(self.iterations, s.iteration)
            && (self.values.is_empty()
                || s.value.is_some_and(|v| self.values.iter().any(|x| x == v)))
            && t >= self.from_ms
            && self.until_ms.is_none_or(|u| t < u)
    }

    /// Checks the rule's names and ranges; the error names the field.
    fn validate(&self, i: usize, provisioners: u32) -> Result<(), String> {
        let at = |field: &str| format!("rule[{i}].{field}");
        for (field, list) in [("from", &self.from), ("to", &self.to)] {
            if let Some(p) = list.iter().find(|&&p| p >= provisioners) {
                return Err(format!(
                    "{}: provisioner {p} does not exist (0..{})",
                    at(field),
                    provisioners.saturating_sub(1)
                ));
            }
        }
        if let Some(k) = self.kinds.iter().find(|k| !KINDS.contains(&k.as_str())) {
            return Err(format!(
                "{}: unknown kind {k:?} (one of {})",
                at("kinds"),
                KINDS.join(", ")
            ));
        }
        if let Some(v) = self.values.iter().find(|v| !VALUES.contains(&v.as_str())) {
            return Err(format!(
                "{}: unknown value {v:?} (one of {})",
                at("values"),
                VALUES.join(", ")
            ));
        }
        if self.rounds.is_some_and(|[a, b]| a > b) || self.iterations.is_some_and(|[a, b]| a > b) {
            return Err(format!(
                "{}: a range [lo, hi] with lo > hi",
                at("rounds/iterations")
            ));
        }
        if self.until_ms.is_some_and(|u| u < self.from_ms) {
            return Err(format!("{}: before from_ms", at("until_ms")));
        }
        if self.action == Action::Hold && self.until_ms.is_none() {
            return Err(format!(
                "{}: a hold needs the time it ends (until_ms)",
                at("action")
            ));
        }
        if self.action != Action::Delay && (self.delay_ms > 0 || self.jitter_ms > 0) {
            return Err(format!(
                "{}: delay_ms and jitter_ms go with action = \"delay\"",
                at("delay_ms")
            ));
        }
        Ok(())
    }
}

impl Schedule {
    /// Whether it has no rule.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every time and delay multiplied by `scale` (as [`crate::config::Params::scaled`] does the
    /// protocol's durations, so that a schedule written for one speed fits another).
    pub fn scaled(&self, scale: f64) -> Schedule {
        let s = |ms: u64| (ms as f64 * scale).round() as u64;
        Schedule {
            seed: self.seed,
            rules: self
                .rules
                .iter()
                .map(|r| Rule {
                    from_ms: s(r.from_ms),
                    until_ms: r.until_ms.map(s),
                    delay_ms: s(r.delay_ms),
                    jitter_ms: s(r.jitter_ms),
                    ..r.clone()
                })
                .collect(),
        }
    }

    /// Checks every rule against a network of `provisioners`.
    pub fn validate(&self, provisioners: u32) -> Result<(), String> {
        self.rules
            .iter()
            .enumerate()
            .try_for_each(|(i, r)| r.validate(i, provisioners))
    }

    /// Whether no rule names `from` as a sender (the node then sends as usual).
    pub fn idle_for(&self, from: u32) -> bool {
        !self
            .rules
            .iter()
            .any(|r| r.from.is_empty() || r.from.contains(&from))
    }

    /// What happens to `m`, sent by `from` to `to` at `t` ms after the genesis time.
    pub fn decide(&self, from: u32, to: u32, m: &Message, t: u64) -> Decision {
        let s = shape(m);
        let Some(r) = self.rules.iter().find(|r| r.matches(from, to, &s, t)) else {
            return Decision::Send;
        };
        match r.action {
            Action::Pass => Decision::Send,
            Action::Drop => Decision::Drop,
            Action::Hold => Decision::At(r.until_ms.unwrap_or(t)),
            Action::Delay => {
                let jitter = if r.jitter_ms == 0 {
                    0
                } else {
                    let h = blake2b256(&[
                        &self.seed.to_le_bytes(),
                        &from.to_le_bytes(),
                        &to.to_le_bytes(),
                        &m.to_bytes(),
                    ]);
                    let mut w = [0u8; 8];
                    w.copy_from_slice(&h[..8]);
                    u64::from_le_bytes(w) % (r.jitter_ms + 1)
                };
                Decision::At(t + r.delay_ms + jitter)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::Message;

    fn rule(toml_text: &str) -> Schedule {
        toml::from_str(toml_text).expect("a schedule")
    }

    #[test]
    fn the_first_matching_rule_decides_and_the_window_bounds_it() {
        let s = rule(
            r#"
            [[rule]]
            from = [1]
            to = [0]
            kinds = ["get_blocks"]
            until_ms = 5000
            action = "hold"
            [[rule]]
            kinds = ["get_blocks"]
            action = "drop"
            "#,
        );
        s.validate(4).expect("valid");
        let m = Message::GetBlocks { from: 3 };
        assert_eq!(s.decide(1, 0, &m, 10), Decision::At(5000));
        assert_eq!(s.decide(1, 2, &m, 10), Decision::Drop, "second rule");
        assert_eq!(s.decide(1, 0, &m, 6000), Decision::Drop, "past the window");
        assert_eq!(
            s.decide(1, 0, &Message::Transaction(vec![1]), 10),
            Decision::Send
        );
        assert!(!s.idle_for(3), "the second rule names every sender");
        assert!(Schedule::default().idle_for(0));
    }

    #[test]
    fn a_seeded_delay_is_the_same_every_time_and_within_its_jitter() {
        let s = rule(
            r#"
            seed = 7
            [[rule]]
            action = "delay"
            delay_ms = 100
            jitter_ms = 50
            "#,
        );
        let m = Message::GetBlocks { from: 3 };
        let Decision::At(a) = s.decide(0, 1, &m, 1000) else {
            panic!("a delay")
        };
        assert!((1100..=1150).contains(&a));
        assert_eq!(s.decide(0, 1, &m, 1000), Decision::At(a));
    }

    #[test]
    fn bad_rules_are_refused_naming_the_field() {
        for (text, field) in [
            ("[[rule]]\nto = [4]\naction = \"drop\"", "rule[0].to"),
            (
                "[[rule]]\nkinds = [\"vote\"]\naction = \"drop\"",
                "rule[0].kinds",
            ),
            (
                "[[rule]]\nvalues = [\"yes\"]\naction = \"drop\"",
                "rule[0].values",
            ),
            ("[[rule]]\naction = \"hold\"", "rule[0].action"),
            (
                "[[rule]]\nrounds = [3, 1]\naction = \"drop\"",
                "rule[0].rounds",
            ),
            (
                "[[rule]]\naction = \"drop\"\ndelay_ms = 4",
                "rule[0].delay_ms",
            ),
            (
                "[[rule]]\nfrom_ms = 9\nuntil_ms = 3\naction = \"drop\"",
                "rule[0].until_ms",
            ),
        ] {
            let e = rule(text).validate(4).expect_err(text);
            assert!(e.starts_with(field), "{text}: {e}");
        }
        assert!(toml::from_str::<Schedule>("[[rule]]\naction = \"wait\"").is_err());
        assert!(toml::from_str::<Schedule>("[[rule]]\naction = \"drop\"\nsender = 1").is_err());
    }
}
