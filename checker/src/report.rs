//! The check report: what `sa check` prints as a table or as one JSON object.

use serde::Serialize;

use sa_model::config::Config;
use sa_model::properties::Kind;

/// Outcome of one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Safety property: no reachable state violates it.
    Holds,
    /// Safety property: a reachable state violates it (see the counterexample).
    Violated,
    /// Witness: a reachable state satisfies it.
    Witnessed,
    /// Witness: no explored state satisfies it.
    NotWitnessed,
    /// Witness or liveness property the configuration excludes (the reason is in `note`).
    NotApplicable,
    /// Liveness property not proven: the progress rank failed to increase on some transition,
    /// so "no stuck state" does not imply "every path ends" (the reason is in `note`).
    Inconclusive,
}

/// The verdict of a check: one meaning each, one exit status each.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    /// Exhaustive, every safety property holds, every applicable witness is reached and every
    /// mutation checked changed at least one decision. Exit 0.
    Pass,
    /// A safety property is violated (a counterexample is given), exhaustive or not. Exit 1.
    Violated,
    /// Exhaustive and nothing violated, but some result says nothing: an applicable witness
    /// was not reached, or a mutation never changed a decision. Exit 3.
    Vacuous,
    /// A limit (states, depth, time) cut the search and nothing was violated in what it saw.
    /// Exit 4.
    Incomplete,
    /// Exhaustive, mutations asked for, each changed a decision, and no property was violated:
    /// the broken variants were not caught (a designer's finding, not a success). Exit 3.
    NotCaught,
}

impl Verdict {
    /// The process exit status of this verdict.
    pub fn exit_code(self) -> u8 {
        match self {
            Verdict::Pass => 0,
            Verdict::Violated => 1,
            Verdict::Vacuous | Verdict::NotCaught => 3,
            Verdict::Incomplete => 4,
        }
    }
    /// The verdict as printed.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Pass => "PASS",
            Verdict::Violated => "VIOLATED",
            Verdict::Vacuous => "VACUOUS",
            Verdict::Incomplete => "INCOMPLETE",
            Verdict::NotCaught => "NOT CAUGHT",
        }
    }
}

/// One step of a counterexample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Step {
    /// 1-based step number.
    pub index: usize,
    /// The provisioner that acted.
    pub actor: String,
    /// The action, structured (actor, event and its fields), as the model's `Action`.
    pub action: serde_json::Value,
    /// The action in the spec's words.
    pub description: String,
    /// What each node believed after the step.
    pub beliefs: Vec<String>,
    /// The same beliefs, in parts (for the compact view and the chart).
    pub views: Vec<NodeView>,
    /// The step as a message sequence chart draws it.
    pub chart: ChartEvent,
}

/// One node's belief in parts: where it is, the draws of its iteration, its chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct NodeView {
    /// `P0`, `P1`, ...
    pub name: String,
    /// False once the node went absent.
    pub alive: bool,
    /// A Byzantine provisioner (no node state).
    pub byzantine: bool,
    /// Round, iteration and step (`round 1 iteration 0 Proposal`, `done`).
    pub place: String,
    /// The draws of that iteration (`gen P0, Validation {P1x2 P2x2}, Ratification {...}`),
    /// empty when the node is between rounds.
    pub draws: String,
    /// The chain with labels (`genesis <- B1.0:Attested`).
    pub chain: String,
    /// The blocks this node holds Final (names).
    pub finals: Vec<String>,
}

/// What kind of mark a step makes on its actor's lane.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ChartKind {
    /// The actor broadcasts a candidate.
    Broadcast,
    /// The actor receives messages (arrows from their senders).
    Receive,
    /// A timer of the actor fires.
    Timer,
    /// The actor goes absent.
    Crash,
    /// A Byzantine provisioner broadcasts.
    Byzantine,
    /// The actor falls back to another block.
    Fallback,
}

/// One step of a message sequence chart: a mark on the actor's lane and arrows from the
/// provisioners whose messages it acted on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ChartEvent {
    /// Index of the acting provisioner.
    pub actor: usize,
    /// The mark.
    pub kind: ChartKind,
    /// A short label (`candidate B1.0`, `quorum Valid`, `timer Ratification`).
    pub label: String,
    /// Senders of the messages acted on (signers of a quorum, the candidate's generator).
    pub from: Vec<usize>,
}

/// A path from the initial state to a violating (or witnessing) state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Counterexample {
    /// Whether the path was shortened by a breadth-first re-run (shortest up to thread races).
    pub shortest: bool,
    /// What each node believed in the initial state (a violation with no steps is there).
    pub initial: Vec<String>,
    /// The same, in parts.
    pub initial_views: Vec<NodeView>,
    /// The steps.
    pub steps: Vec<Step>,
    /// A lasso (liveness): the index of the first step of the loop; the steps from it to the
    /// last repeat for ever (the last step returns to the state before this one). Absent for a
    /// finite path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loop_start: Option<usize>,
}

/// One property's line in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct PropertyReport {
    /// Stable ID (spec/properties.md).
    pub id: String,
    /// `safety` or `witness`.
    pub kind: Kind,
    /// The statement in one line.
    pub statement: String,
    /// The outcome.
    pub status: Status,
    /// Why a witness is not applicable to this configuration (null otherwise).
    pub note: Option<String>,
    /// For a violation: the counterexample; for a witness: a path reaching it; else null.
    pub counterexample: Option<Counterexample>,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct CheckReport {
    /// The configuration checked.
    pub config: Config,
    /// The verdict (see [`Verdict`]).
    pub verdict: Verdict,
    /// Every bound that shapes the result, one line each.
    pub bounds: Vec<String>,
    /// Mutations of the configuration that never changed a decision in this search.
    pub mutations_without_effect: Vec<String>,
    /// True only when the search visited every reachable state (no limit cut it).
    pub exhaustive: bool,
    /// Why the search is not exhaustive, if it is not.
    pub cut_reason: Option<String>,
    /// Distinct states visited.
    pub unique_states: usize,
    /// States generated, counting revisits.
    pub total_states: usize,
    /// Deepest path explored.
    pub max_depth: usize,
    /// Wall-clock seconds of the whole check (search + counterexample shortening).
    pub seconds: f64,
    /// Seconds of the depth-first search alone.
    pub search_seconds: f64,
    /// Unique states per second of the depth-first search.
    pub states_per_second: f64,
    /// Peak resident memory of this process so far (Linux `VmHWM`), when known: after the
    /// check, the most the searches needed at once.
    pub peak_memory_bytes: Option<u64>,
    /// Threads used.
    pub threads: usize,
    /// Symmetry reduction applied, or why not.
    pub symmetry: String,
    /// With `--all-draws`: how many classes of first-round draws were checked (null: one seed).
    pub draw_classes: Option<usize>,
    /// With `--seeds`: the first and last seed checked (null: one seed).
    pub seeds: Option<[u64; 2]>,
    /// Every property, in spec order.
    pub properties: Vec<PropertyReport>,
    /// What the search found about per-round liveness beyond the properties' statuses.
    pub liveness: LivenessSummary,
    /// How long asynchrony lasts in this configuration, against how long finality takes.
    pub horizon: Horizon,
    /// `sa simulate` (or the simulation pass of `sa check`): the random walks run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationSummary>,
    /// With the partial-order reduction on (`--reduce`): the states whose actions it cut to a
    /// persistent subset (0: it never applied, the search was the full one).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduced_states: Option<u64>,
    /// With state merging on (`--merge-states`): the transitions whose successor it changed
    /// by dropping votes nothing can read (0: it never applied).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_states: Option<u64>,
    /// A shard's search (`sa check --shard I/N`): which one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::options::Shard>,
    /// A merge of shard reports (`sa check --merge`): how many shards it holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merged_shards: Option<usize>,
}

/// How long asynchrony lasts in a configuration, against how long finality takes: whether a
/// block with PNI > 0 can become Final while the network is still asynchronous (FIN-1..3: a
/// PNI-k block of round r is Confirmed, and Final, at the earliest when the Attested block of
/// round r + 2k is appended). A SAFE-FINAL-* result says nothing about asynchrony beyond this.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Horizon {
    /// Rounds explored.
    pub rounds: u8,
    /// Rounds 1..=this are asynchronous (0: synchronous from round 1; `rounds`: no GST within
    /// the explored rounds).
    pub asynchronous_rounds: u8,
    /// Every timer may fire early before GST (`faults.early_timers`).
    pub early_timers: bool,
    /// The largest PNI a block can carry (min(iteration, MAX_ITER) with no Fail attestation
    /// recorded: the last iteration).
    pub max_pni: u8,
    /// Whether asynchrony lasts until a PNI-1 block can be Final: round 1's PNI-1 block is
    /// Final at the earliest in round 3, so at least 3 asynchronous rounds explored.
    pub through_finality: bool,
    /// The sentence every report header prints.
    pub line: String,
}

impl Horizon {
    /// The horizon of `config`.
    pub fn of(config: &Config) -> Horizon {
        let rounds = config.protocol.rounds;
        let gst = config.faults.gst_round;
        let asynchronous_rounds = if gst == 0 {
            rounds
        } else {
            (gst - 1).min(rounds)
        };
        let max_pni = config.protocol.max_iterations.saturating_sub(1);
        // Round 1's PNI-1 block is Final once round 3's Attested block is appended.
        let through_finality = max_pni >= 1 && asynchronous_rounds >= 3;
        let asynchrony = match asynchronous_rounds {
            0 => "synchronous from round 1".to_string(),
            a if a == rounds => {
                format!("asynchronous in every explored round (1..={rounds}), no GST")
            }
            1 => format!("asynchronous in round 1 only (GST at round {gst}) of {rounds}"),
            a => format!("asynchronous in rounds 1..={a} (GST at round {gst}) of {rounds}"),
        };
        let line = if max_pni == 0 {
            format!("{asynchrony}; one iteration per round: every block is Attested (PNI 0)")
        } else if through_finality {
            format!(
                "{asynchrony}: asynchrony lasts until a PNI-1 block can be Final (round 1's, \
                 once round 3's block is Attested)"
            )
        } else {
            format!(
                "{asynchrony}: asynchrony ends before a PNI > 0 block can be Final (round 1's \
                 PNI-1 block needs rounds 1..=3 asynchronous); SAFE-FINAL-* results here say \
                 nothing about asynchrony through finality"
            )
        };
        Horizon {
            rounds,
            asynchronous_rounds,
            early_timers: config.faults.early_timers,
            max_pni,
            through_finality,
            line,
        }
    }

    /// The caveat a SAFE-FINAL-* result carries when asynchrony ends before a PNI > 0 block
    /// can be Final (None when it does not need one).
    pub fn caveat(&self, id: &str) -> Option<String> {
        (id.starts_with("SAFE-FINAL") && !self.through_finality && self.max_pni > 0).then(|| {
            format!(
                "only with asynchrony over {} round(s): a PNI-1 block cannot be Final while the \
                 network is asynchronous here (preset async-final: it can, and forks)",
                self.asynchronous_rounds
            )
        })
    }
}

/// Per-round liveness figures of a search (see `sa_model::live`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct LivenessSummary {
    /// Transitions on which the progress rank did not increase (0: the graph is acyclic and
    /// the LIVE-* results are proofs).
    pub rank_violations: u64,
    /// Reachable states without successors in which an honest node is stuck in a round
    /// entered after GST that has **no** good iteration: absence or Byzantine credits past the
    /// bound (not a LIVE-ROUND-ENDS violation; `sa sweep` reports it as liveness failing).
    pub stuck_past_bound: u64,
    /// Most iterations a round entered after GST took to end, over every state explored
    /// (1 = in its iteration 0; 0 = no such round ended).
    pub worst_iterations: u32,
    /// Unique states of the unbounded model (`crate::unbounded`; 0: not searched).
    pub unbounded_states: usize,
    /// Seconds of the unbounded search.
    pub unbounded_seconds: f64,
    /// Transitions of the unbounded model that dropped no height and did not raise the rank.
    pub unbounded_rank_violations: u64,
    /// Stuck states of the unbounded model past the bound.
    pub unbounded_stuck_past_bound: u64,
}

impl LivenessSummary {
    /// Whether every round entered after GST ends on every path, good iteration or not.
    pub fn every_round_ends(&self, report: &CheckReport) -> bool {
        self.stuck_past_bound == 0
            && report
                .property("LIVE-ROUND-ENDS")
                .is_some_and(|p| p.status == Status::Holds)
    }
}

/// Peak resident memory of this process so far, from `/proc/self/status` (Linux).
pub fn peak_memory_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

impl CheckReport {
    /// Puts the horizon's caveat on every SAFE-FINAL-* property that holds (or holds so far)
    /// where asynchrony ends before a PNI > 0 block can be Final.
    pub fn note_horizon(&mut self) {
        for p in &mut self.properties {
            if p.status == Status::Holds && p.note.is_none() {
                p.note = self.horizon.caveat(&p.id);
            }
        }
    }

    /// True when the verdict is PASS.
    pub fn passed(&self) -> bool {
        self.verdict == Verdict::Pass
    }

    /// The verdict the report's contents give.
    pub fn compute_verdict(&self) -> Verdict {
        if self.properties.iter().any(|p| p.status == Status::Violated) {
            Verdict::Violated
        } else if !self.exhaustive
            || self
                .properties
                .iter()
                .any(|p| p.status == Status::Inconclusive)
        {
            Verdict::Incomplete
        } else if self
            .properties
            .iter()
            .any(|p| p.status == Status::NotWitnessed)
            || !self.mutations_without_effect.is_empty()
        {
            Verdict::Vacuous
        } else if !self.config.mutations.is_empty() {
            Verdict::NotCaught
        } else {
            Verdict::Pass
        }
    }

    /// The report line of `id`.
    pub fn property(&self, id: &str) -> Option<&PropertyReport> {
        self.properties.iter().find(|p| p.id == id)
    }
}

/// What a simulation did, beside the properties' statuses.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct SimulationSummary {
    /// The run's seed.
    pub seed: u64,
    /// Walks asked for.
    pub walks_asked: u64,
    /// Walks run to their end (a violation, no enabled action, or the depth cap).
    pub walks: u64,
    /// States visited, counting revisits (the initial state of each walk included).
    pub states: u64,
    /// Longest walk, in steps.
    pub max_depth: usize,
    /// Mean walk length, in steps.
    pub mean_depth: f64,
    /// Walks cut by the depth cap (0 on the bounded model: every walk ends).
    pub walks_cut: u64,
    /// Wall-clock seconds of the walks (shrinking and rendering excluded).
    pub seconds: f64,
    /// Walks per second.
    pub walks_per_second: f64,
    /// States per second.
    pub states_per_second: f64,
    /// How walks chose among the enabled actions.
    pub strategy: crate::options::Strategy,
    /// The shard of the walks this run took (`sa simulate --shard I/N`); None for all of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<SimShard>,
    /// Breadth-first searches run around violations, and the states they visited.
    pub local_searches: u64,
    /// States those searches visited.
    pub local_states: u64,
    /// Per violated property: the lowest-numbered walk that violates it (replay it with
    /// `--walk`) and the steps that walk took up to the violation, before shrinking.
    pub violations: Vec<SimViolation>,
    /// Why the run stopped before its walks were done (timeout, interrupt, violation).
    pub stopped: Option<String>,
}

/// One shard of a simulation's walks: walk `k` is in shard `k % count`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SimShard {
    /// This shard, from 0 (`--shard I/N` is index I - 1).
    pub index: u64,
    /// How many shards.
    pub count: u64,
}

/// Where a simulation found a property violated.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct SimViolation {
    /// The property.
    pub id: String,
    /// The lowest-numbered walk that violates it.
    pub walk: u64,
    /// Steps of that walk up to the first violating state.
    pub steps: usize,
    /// Steps of the shrunk path (equal to `steps` when not shrunk).
    pub shrunk_to: usize,
    /// Walks run that violate it (found by a walk itself, not by a search around another
    /// violation).
    pub walks_violating: u64,
    /// Found by the breadth-first search around the state where `walk` violated another
    /// property (`steps` then counts the walk's steps to there plus the search's).
    pub local: bool,
}

impl SimulationSummary {
    /// The search line of a report: what was run, so no one reads it as exhaustive.
    pub fn line(&self) -> String {
        format!(
            "seeded random walks ({}), seed {}: {} of {} walks, {} states visited, mean depth \
             {:.1}, max depth {}{}{}",
            self.strategy.name(),
            self.seed,
            self.walks,
            self.walks_asked,
            self.states,
            self.mean_depth,
            self.max_depth,
            if self.walks_cut > 0 {
                format!(", {} walks cut by the depth cap", self.walks_cut)
            } else {
                String::new()
            },
            self.stopped
                .as_ref()
                .map_or(String::new(), |s| format!("; stopped: {s}"))
        )
    }
}
