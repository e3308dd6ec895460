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
        .chain(sa_model::unbounded::IDS)
        .chain([sa_model::unbounded::SUSPEND])
        .map(str::to_owned)
        .collect();
    assert_eq!(spec_ids(), model);
}

#[test]
fn planned_liveness_ids_are_not_reported_as_checked() {
    let planned = "LIVE-REJOIN";
    assert!(SPECS.iter().all(|s| s.id != planned), "{planned}");
    assert!(!sa_model::unbounded::IDS.contains(&planned));
    assert_ne!(sa_model::unbounded::SUSPEND, planned);
    let live = SPECS.iter().filter(|s| s.id.starts_with("LIVE-")).count();
    assert_eq!(
        live, 2,
        "LIVE-GOOD-ITERATION and LIVE-ROUND-ENDS are checked"
    );
}
