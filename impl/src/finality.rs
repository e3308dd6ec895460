//! Block labels and finality (spec/protocol.md FIN-1, FIN-2, FIN-3).

use crate::config::Finality;
use crate::rules::Rule;

use serde::{Deserialize, Serialize};

/// A block's label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Label {
    /// PNI > 0: may still be replaced by a lower-iteration block (FORK-1).
    Accepted,
    /// PNI = 0: every earlier iteration of its round is known to have failed.
    Attested,
    /// Enough later blocks make it stable (FIN-2).
    Confirmed,
    /// Never reverted (FIN-4).
    Final,
}

impl Label {
    /// Lower-case name.
    pub fn name(&self) -> &'static str {
        match self {
            Label::Accepted => "accepted",
            Label::Attested => "attested",
            Label::Confirmed => "confirmed",
            Label::Final => "final",
        }
    }
}

/// FIN-1: `PNI = min(iteration, MAX_ITER) − fails`, where `fails` counts the valid Fail
/// attestations in the candidate's failed_iterations.
pub fn pni(iteration: u8, max_iterations: u8, fails: usize) -> u64 {
    Rule::Fin1.applies();
    u64::from(iteration.min(max_iterations)).saturating_sub(fails as u64)
}

/// FIN-1: the label of a new block and its `confirmed_after`. Under VAR-FIN-CLOSED
/// (spec/variants.md) a block with PNI > 0 is never Confirmed (`u64::MAX`).
pub fn initial_label(pni: u64, finality: Finality) -> (Label, u64) {
    if pni == 0 {
        (Label::Attested, 0)
    } else if finality == Finality::Closed {
        (Label::Accepted, u64::MAX)
    } else {
        (Label::Accepted, 2 * pni)
    }
}

/// A chain entry's label state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LabelState {
    /// The label.
    pub label: Label,
    /// Blocks of stability needed to become Confirmed.
    pub confirmed_after: u64,
}

/// FIN-2, FIN-3 after an Attested block was appended at the end of `labels` (index = height).
/// Returns the heights whose label changed, with the new label.
pub fn on_attested_append(labels: &mut [LabelState]) -> Vec<(usize, Label)> {
    Rule::Fin2.applies();
    Rule::Fin3.applies();
    let mut changed = Vec::new();
    let n = labels.len();
    if n < 2 || labels[n - 1].label != Label::Attested {
        return changed;
    }
    // FIN-2: walk back from the block below the new one.
    let mut stable = 1u64;
    let mut h = n - 1;
    while h > 0 {
        h -= 1;
        let e = &mut labels[h];
        match e.label {
            Label::Final => break,
            Label::Confirmed => stable += 1,
            Label::Accepted | Label::Attested if e.confirmed_after <= stable => {
                e.label = Label::Confirmed;
                changed.push((h, Label::Confirmed));
                stable += 1;
            }
            _ => break,
        }
    }
    // FIN-3: the Confirmed blocks just above the last Final one become Final.
    let last_final = labels
        .iter()
        .rposition(|e| e.label == Label::Final)
        .unwrap_or(0);
    for (h, e) in labels.iter_mut().enumerate().skip(last_final + 1) {
        if e.label != Label::Confirmed {
            break;
        }
        e.label = Label::Final;
        changed.retain(|(x, _)| *x != h);
        changed.push((h, Label::Final));
    }
    changed
}
