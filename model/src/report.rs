//! The check report: what `sa check` prints as a table or as one JSON object.

use serde::Serialize;

use crate::config::Config;
use crate::properties::Kind;

/// Outcome of one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
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
}

/// One step of a counterexample.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Step {
    /// 1-based step number.
    pub index: usize,
    /// The provisioner that acted.
    pub actor: String,
    /// The action as a Rust value (machine-readable).
    pub action: String,
    /// The action in the spec's words.
    pub description: String,
    /// What each node believed after the step.
    pub beliefs: Vec<String>,
}

/// A path from the initial state to a violating (or witnessing) state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Counterexample {
    /// Whether the path was shortened by a breadth-first re-run (shortest up to thread races).
    pub shortest: bool,
    /// What each node believed in the initial state (a violation with no steps is there).
    pub initial: Vec<String>,
    /// The steps.
    pub steps: Vec<Step>,
}

/// One property's line in the report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PropertyReport {
    /// Stable ID (spec/properties.md).
    pub id: String,
    /// `safety` or `witness`.
    pub kind: Kind,
    /// The statement in one line.
    pub statement: String,
    /// The outcome.
    pub status: Status,
    /// For a violation: the counterexample; for a witness: a path reaching it; else null.
    pub counterexample: Option<Counterexample>,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CheckReport {
    /// The configuration checked.
    pub config: Config,
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
    /// Threads used.
    pub threads: usize,
    /// Symmetry reduction applied, or why not.
    pub symmetry: String,
    /// With `--all-draws`: how many classes of first-round draws were checked (null: one seed).
    pub draw_classes: Option<usize>,
    /// Every property, in spec order.
    pub properties: Vec<PropertyReport>,
}

impl CheckReport {
    /// True when every safety property holds, every witness is witnessed and the search was
    /// exhaustive: the condition for exit status 0.
    pub fn passed(&self) -> bool {
        self.exhaustive
            && self
                .properties
                .iter()
                .all(|p| matches!(p.status, Status::Holds | Status::Witnessed))
    }

    /// The report line of `id`.
    pub fn property(&self, id: &str) -> Option<&PropertyReport> {
        self.properties.iter().find(|p| p.id == id)
    }
}
