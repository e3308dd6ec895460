//! The safety monitor of a testnet: it reads every node's typed events (`sa_node::events`) and
//! judges SAFE-FINAL-NO-REVERT, SAFE-FINAL-AGREEMENT, SAFE-VOTE-UNIQUE (against honest nodes)
//! and durability across restarts, and gathers the run's figures. It does no I/O: the driver
//! feeds it events and prints the lines it returns.

use std::collections::{BTreeMap, BTreeSet};

use sa_node::config::Behaviour;
use sa_node::events::Event;
use sa_node::finality::Label;
use serde::Serialize;

/// The property a violation breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Property {
    /// A node replaced or fell back below a block it held as Final.
    FinalNoRevert,
    /// Two nodes hold different Final blocks at one height.
    FinalAgreement,
    /// A fault proof against a node that was not told to equivocate.
    VoteUnique,
    /// A restarted node lost a block its previous process reported accepting.
    Durable,
}

impl Property {
    /// The spec's ID (spec/properties.md, spec/node.md).
    pub fn id(self) -> &'static str {
        match self {
            Property::FinalNoRevert => "SAFE-FINAL-NO-REVERT",
            Property::FinalAgreement => "SAFE-FINAL-AGREEMENT",
            Property::VoteUnique => "SAFE-VOTE-UNIQUE",
            Property::Durable => "SAFE-DURABLE",
        }
    }
}

impl Serialize for Property {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// One safety violation the monitor saw.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// What it breaks.
    pub property: Property,
    /// Who and where, in words.
    pub detail: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.property.id(), self.detail)
    }
}

/// Per-node view: its Final blocks and how many processes it ran.
#[derive(Default)]
pub(crate) struct View {
    finals: BTreeMap<u64, String>,
    pub(crate) last_final: u64,
    /// Processes started so far.
    pub(crate) incarnations: u32,
}

/// What one process of a node reported: where its chain started (restored from the log) and
/// its tip as its accepted and fallback events moved it, the highest Final height it
/// reported, and the highest Final height of any node when it was started.
#[derive(Clone, Debug, Default)]
pub(crate) struct Incarnation {
    pub(crate) restored: Option<(u64, String)>,
    pub(crate) tip: Option<(u64, String)>,
    pub(crate) final_height: u64,
    pub(crate) floor: u64,
}

/// A block as first seen by any node.
#[derive(Clone, Debug)]
pub(crate) struct FirstSeen {
    pub(crate) timestamp: u64,
    pub(crate) iteration: u8,
}

/// The monitor's state across a run.
#[derive(Default)]
pub struct Monitor {
    /// Short key -> node index.
    names: BTreeMap<String, u32>,
    /// Nodes told to sign two votes (their fault proofs are expected).
    double_voters: BTreeSet<u32>,
    pub(crate) views: BTreeMap<u32, View>,
    pub(crate) incs: BTreeMap<(u32, u32), Incarnation>,
    pub(crate) blocks: BTreeMap<u64, FirstSeen>,
    final_shown: BTreeSet<u64>,
    pub(crate) failed: BTreeSet<(u64, u8)>,
    pub(crate) violations: Vec<Violation>,
    pub(crate) rejected: u64,
    pub(crate) detected_faults: u64,
    pub(crate) included: u64,
    pub(crate) tx_failed: BTreeMap<String, u64>,
}

/// What an event changed that the driver acts on.
#[derive(Default, Debug)]
pub struct Observed {
    /// Lines to show.
    pub lines: Vec<String>,
    /// A height seen for the first time.
    pub new_height: Option<u64>,
}

impl Monitor {
    /// A monitor of `nodes` testnet provisioners (keys `Keypair::testnet(i)`).
    pub fn new(nodes: u32, behaviours: &BTreeMap<u32, Behaviour>) -> Monitor {
        Monitor {
            names: (0..nodes)
                .map(|i| (sa_node::keys::Keypair::testnet(i).public.short(), i))
                .collect(),
            double_voters: behaviours
                .iter()
                .filter(|(_, b)| b.double_vote)
                .map(|(n, _)| *n)
                .collect(),
            ..Monitor::default()
        }
    }

    /// `nI` for a testnet key, the short key otherwise.
    pub fn name(&self, short: &str) -> String {
        self.names
            .get(short)
            .map_or_else(|| short.to_string(), |i| format!("n{i}"))
    }

    /// Records that node `n` starts process number `k`, when the highest Final height of any
    /// node is what it is now.
    pub(crate) fn started(&mut self, n: u32) -> u32 {
        let floor = self.views.values().map(|w| w.last_final).max().unwrap_or(0);
        let w = self.views.entry(n).or_default();
        let k = w.incarnations;
        w.incarnations += 1;
        self.incs.entry((n, k)).or_default().floor = floor;
        k
    }

    /// Highest height any node accepted.
    pub fn top(&self) -> u64 {
        self.blocks.keys().next_back().copied().unwrap_or(0)
    }

    /// Node `node`'s process `incarnation` emitted `event`; `alive` are the nodes running now.
    pub fn observe(
        &mut self,
        node: u32,
        incarnation: u32,
        event: &Event,
        alive: &[u32],
    ) -> Observed {
        let mut out = Observed::default();
        match event {
            Event::Started { height, tip, .. } => {
                let inc = self.incs.entry((node, incarnation)).or_default();
                inc.restored = Some((*height, tip.clone()));
                inc.tip = Some((*height, tip.clone()));
            }
            Event::Accepted {
                height,
                hash,
                label,
                ..
            } => {
                let inc = self.incs.entry((node, incarnation)).or_default();
                inc.tip = Some((*height, hash.clone()));
                if *label == Label::Final {
                    inc.final_height = inc.final_height.max(*height);
                    self.note_final(node, *height, hash);
                }
                if !self.blocks.contains_key(height) {
                    out.lines.push(self.first_acceptance(event));
                    out.new_height = Some(*height);
                }
            }
            Event::Label {
                height,
                hash,
                label: Label::Final,
            } => {
                let inc = self.incs.entry((node, incarnation)).or_default();
                inc.final_height = inc.final_height.max(*height);
                self.note_final(node, *height, hash);
                let have = alive
                    .iter()
                    .filter(|n| {
                        self.views
                            .get(n)
                            .is_some_and(|w| w.finals.contains_key(height))
                    })
                    .count();
                if have == alive.len() && self.final_shown.insert(*height) {
                    let blocks: std::collections::BTreeSet<&String> = alive
                        .iter()
                        .filter_map(|n| self.views.get(n).and_then(|w| w.finals.get(height)))
                        .collect();
                    out.lines.push(if blocks.len() > 1 {
                        format!(
                            "height {height:4}  Final on all {have} running nodes, as {} \
                             different blocks (SAFE-FINAL-AGREEMENT)",
                            blocks.len()
                        )
                    } else {
                        format!("height {height:4}  Final on all {have} running nodes")
                    });
                }
            }
            Event::Fallback {
                from_height,
                to_height,
            } => out
                .lines
                .push(self.fallback(node, incarnation, *from_height, *to_height)),
            Event::IterationFailed {
                round, iteration, ..
            } => {
                self.failed.insert((*round, *iteration));
            }
            Event::Fault {
                offender,
                round,
                iteration,
            } => out
                .lines
                .extend(self.fault(node, offender, *round, *iteration)),
            Event::Rejected { .. } | Event::Suppressed { .. } => {
                self.count_rejected(node, event, &mut out)
            }
            _ => {}
        }
        out
    }

    /// A rejection (or a count of those the node did not log one by one) counts; the first
    /// few are shown.
    fn count_rejected(&mut self, node: u32, event: &Event, out: &mut Observed) {
        match event {
            Event::Rejected {
                peer, kind, reason, ..
            } => {
                self.rejected += 1;
                if self.rejected <= 5 {
                    out.lines.push(format!(
                        "  n{node} rejected {kind} from peer {peer}: {reason}"
                    ));
                }
            }
            Event::Suppressed { what, count, .. }
                if what.starts_with("REJ-") || what == "frame" =>
            {
                self.rejected += u64::from(*count);
            }
            _ => {}
        }
    }

    /// FORK-1 on node `node`: a violation if below its Final height.
    fn fallback(&mut self, node: u32, incarnation: u32, from: u64, to: u64) -> String {
        // The tip is now the kept ancestor; its hash follows from the next accepted event (a
        // restart in between is compared by height only).
        let inc = self.incs.entry((node, incarnation)).or_default();
        inc.tip = Some((to, String::new()));
        let lf = self.views.get(&node).map_or(0, |w| w.last_final);
        if to < lf {
            self.violations.push(Violation {
                property: Property::FinalNoRevert,
                detail: format!("n{node} reverted to {to} below its Final height {lf}"),
            });
        }
        format!("  n{node} fell back from height {from} to {to} (FORK-1)")
    }

    /// The line of a block's first acceptance by any node; counts its transactions.
    fn first_acceptance(&mut self, event: &Event) -> String {
        let Event::Accepted {
            height,
            iteration,
            label,
            generator,
            timestamp,
            voters,
            transactions,
            failed,
            ..
        } = event
        else {
            return String::new();
        };
        self.blocks.insert(
            *height,
            FirstSeen {
                timestamp: *timestamp,
                iteration: *iteration,
            },
        );
        let dt = self.blocks.get(&(height - 1)).map_or_else(
            || "-".into(),
            |p| {
                format!(
                    "{:.2} s",
                    timestamp.saturating_sub(p.timestamp) as f64 / 1000.0
                )
            },
        );
        self.included += *transactions as u64;
        let mut why: BTreeMap<&str, u64> = BTreeMap::new();
        for f in failed {
            *why.entry(&f.code).or_default() += 1;
            *self.tx_failed.entry(f.code.clone()).or_default() += 1;
        }
        let tx_note = if *transactions == 0 {
            String::new()
        } else {
            let list: Vec<String> = why.iter().map(|(c, n)| format!("{c} {n}")).collect();
            let detail = if list.is_empty() {
                String::new()
            } else {
                format!(" ({})", list.join(", "))
            };
            format!("  txs {transactions}, failed {}{detail}", failed.len())
        };
        let names: Vec<String> = voters.iter().map(|v| self.name(v)).collect();
        format!(
            "height {height:4}  iteration {iteration:2}  block time {dt:>8}  generator {}  voters {} ({}/{})  {}{tx_note}",
            self.name(generator),
            names.join(" "),
            names.len(),
            self.names.len(),
            label.name()
        )
    }

    /// A fault proof: expected against a node told to double-vote, a violation otherwise.
    fn fault(&mut self, node: u32, offender: &str, round: u64, iteration: u8) -> Vec<String> {
        let honest = !self
            .names
            .get(offender)
            .is_some_and(|n| self.double_voters.contains(n));
        let who = self.name(offender);
        let detail = format!(
            "n{node} holds a fault proof against {who} (round {round}, iteration {iteration})"
        );
        if honest {
            self.violations.push(Violation {
                property: Property::VoteUnique,
                detail: format!("{detail}: an honest node equivocated"),
            });
            vec![]
        } else {
            self.detected_faults += 1;
            vec![format!(
                "  fault detected (injected): SAFE-VOTE-UNIQUE: {detail}"
            )]
        }
    }

    fn note_final(&mut self, node: u32, height: u64, hash: &str) {
        for (other, w) in &self.views {
            if w.finals.get(&height).is_some_and(|h| h != hash) {
                self.violations.push(Violation {
                    property: Property::FinalAgreement,
                    detail: format!(
                        "n{node} and n{other} hold different Final blocks at height {height}"
                    ),
                });
            }
        }
        let w = self.views.entry(node).or_default();
        if w.finals
            .insert(height, hash.to_string())
            .is_some_and(|old| old != hash)
        {
            self.violations.push(Violation {
                property: Property::FinalNoRevert,
                detail: format!("n{node} replaced its Final block at height {height}"),
            });
        }
        w.last_final = w.last_final.max(height);
    }

    /// Restarted nodes that reported no new Final height after their last restart.
    pub(crate) fn not_back(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (n, w) in &self.views {
            let k = w.incarnations.saturating_sub(1);
            if k == 0 {
                continue;
            }
            if let Some(last) = self.incs.get(&(*n, k)) {
                if last.final_height <= last.floor {
                    out.push(format!(
                        "n{n}: no Final height above {} after its last restart (process {k}; highest Final it reported: {})",
                        last.floor, last.final_height
                    ));
                }
            }
        }
        out
    }
}

/// Durability across restarts: each restarted process must hold at least the tip its
/// predecessor reported (events follow the fsync), the same block if at the same height.
/// Returns the restarts compared and the ones that lost a block.
pub(crate) fn durability(incs: &BTreeMap<(u32, u32), Incarnation>) -> (u64, Vec<Violation>) {
    let mut checked = 0;
    let mut lost = Vec::new();
    for (&(n, k), now) in incs {
        if k == 0 {
            continue;
        }
        // The latest earlier process that reported anything (one killed before its start
        // event reported nothing and changed nothing it had not logged).
        let prev = (0..k)
            .rev()
            .find_map(|j| incs.get(&(n, j)).and_then(|p| p.tip.clone()));
        let (Some(prev), Some(restored)) = (prev, now.restored.clone()) else {
            continue; // this process was killed before it reported its start
        };
        checked += 1;
        let same = prev.1.is_empty() || restored.0 > prev.0 || restored.1 == prev.1;
        if restored.0 < prev.0 || !same {
            lost.push(Violation {
                property: Property::Durable,
                detail: format!(
                    "n{n} restarted (process {k}) at height {} but had reported accepting height {} ({})",
                    restored.0,
                    prev.0,
                    &prev.1[..prev.1.len().min(16)]
                ),
            });
        }
    }
    (checked, lost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restart_below_the_reported_tip_is_a_lost_block() {
        let inc = |restored: Option<(u64, &str)>, tip: Option<(u64, &str)>| Incarnation {
            restored: restored.map(|(h, x)| (h, x.to_string())),
            tip: tip.map(|(h, x)| (h, x.to_string())),
            ..Incarnation::default()
        };
        let mut incs = BTreeMap::new();
        incs.insert((1, 0), inc(Some((0, "g")), Some((5, "b5"))));
        incs.insert((1, 1), inc(Some((5, "b5")), Some((7, "b7"))));
        assert_eq!(durability(&incs), (1, vec![]));
        // killed before its start event: compared with the one before
        incs.insert((1, 2), inc(None, None));
        incs.insert((1, 3), inc(Some((6, "b6")), Some((6, "b6"))));
        let (n, lost) = durability(&incs);
        assert_eq!((n, lost.len()), (2, 1), "{lost:?}");
        assert_eq!(lost[0].property, Property::Durable);
        // same height, another block
        let mut incs = BTreeMap::new();
        incs.insert((2, 0), inc(Some((0, "g")), Some((3, "x"))));
        incs.insert((2, 1), inc(Some((3, "y")), None));
        assert_eq!(durability(&incs).1.len(), 1);
    }

    fn label(height: u64, hash: &str) -> Event {
        Event::Label {
            height,
            hash: hash.into(),
            label: Label::Final,
        }
    }

    #[test]
    fn the_monitor_judges_typed_events() {
        let mut m = Monitor::new(4, &BTreeMap::new());
        m.observe(0, 0, &label(1, "a"), &[0, 1]);
        m.observe(1, 0, &label(1, "a"), &[0, 1]);
        assert!(m.violations.is_empty());
        // another Final block at the same height on a third node
        m.observe(2, 0, &label(1, "b"), &[0, 1, 2]);
        assert_eq!(
            m.violations.iter().map(|v| v.property).collect::<Vec<_>>(),
            vec![Property::FinalAgreement, Property::FinalAgreement]
        );
        // a fallback below a Final height
        m.observe(
            0,
            0,
            &Event::Fallback {
                from_height: 2,
                to_height: 0,
            },
            &[0],
        );
        assert_eq!(
            m.violations.last().unwrap().property,
            Property::FinalNoRevert
        );
        // a label that is not Final judges nothing
        let before = m.violations.len();
        m.observe(
            3,
            0,
            &Event::Label {
                height: 1,
                hash: "c".into(),
                label: Label::Attested,
            },
            &[3],
        );
        assert_eq!(m.violations.len(), before);
    }

    #[test]
    fn a_fault_proof_is_a_violation_only_against_an_honest_node() {
        let b = BTreeMap::from([(
            1,
            Behaviour {
                double_vote: true,
                ..Behaviour::default()
            },
        )]);
        let mut m = Monitor::new(3, &b);
        let key = |i| sa_node::keys::Keypair::testnet(i).public.short();
        let fault = |i| Event::Fault {
            offender: key(i),
            round: 4,
            iteration: 0,
        };
        m.observe(0, 0, &fault(1), &[0]);
        assert_eq!((m.detected_faults, m.violations.len()), (1, 0));
        m.observe(0, 0, &fault(2), &[0]);
        assert_eq!(m.violations[0].property, Property::VoteUnique);
        assert!(m.violations[0]
            .to_string()
            .starts_with("SAFE-VOTE-UNIQUE: n0 "));
    }
}
