//! spec/properties.md and the model name the same properties: every ID in the spec's safety
//! witness and checked-liveness tables is a checked property, and every checked property is in the spec.

use std::collections::BTreeSet;

use sa_model::properties::SPECS;

fn spec_ids() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/properties.md");
    let text = std::fs::read_to_string(path).expect("spec/properties.md exists");
    text.lines()
        .filter(|l| {
            l.starts_with("| `SAFE-")
                || l.starts_with("| `WIT-")
                || l.starts_with("| `ACC-")
                // Checked liveness rows have five columns; planned ones two.
                || (l.starts_with("| `LIVE-") && l.matches(" | ").count() >= 4)
        })
        .filter_map(|l| l.split('`').nth(1).map(str::to_owned))
        .collect()
}

#[test]
fn spec_and_model_name_the_same_properties() {
    let model: BTreeSet<String> = SPECS
        .iter()
        .map(|s| s.id)
        .chain(sa_checker::unbounded::IDS)
        .chain([
            sa_checker::unbounded::SUSPEND,
            sa_checker::unbounded::REJOIN,
        ])
        .map(str::to_owned)
        .collect();
    assert_eq!(spec_ids(), model);
}

#[test]
fn every_liveness_property_of_the_spec_is_checked() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/properties.md");
    let text = std::fs::read_to_string(path).expect("spec/properties.md exists");
    // No planned (two-column) liveness row is left.
    assert!(!text
        .lines()
        .any(|l| l.starts_with("| `LIVE-") && l.matches(" | ").count() < 4));
    let per_round = SPECS.iter().filter(|s| s.id.starts_with("LIVE-")).count();
    assert_eq!(
        per_round, 2,
        "LIVE-GOOD-ITERATION and LIVE-ROUND-ENDS on the bounded model"
    );
    assert_eq!(sa_checker::unbounded::IDS.len(), 3);
}
