//! Block labels (spec/protocol.md FIN-1..3) on vectors worked out by hand from the spec,
//! beyond the model's bounds: PNI ≥ 2 (the model has two iterations, so PNI ≤ 1), an
//! Accepted block appended above an Attested one, and stability walks over several blocks.

use sa_node::config::Finality;
use sa_node::finality::{initial_label, on_attested_append, pni, Label, LabelState};

fn at(label: Label, confirmed_after: u64) -> LabelState {
    LabelState {
        label,
        confirmed_after,
    }
}

fn labels(chain: &[LabelState]) -> Vec<Label> {
    chain.iter().map(|e| e.label).collect()
}

use Label::{Accepted, Attested, Confirmed, Final};

#[test]
fn pni_counts_iterations_without_a_recorded_fail() {
    assert_eq!(pni(0, 8, 0), 0);
    assert_eq!(pni(3, 8, 1), 2);
    assert_eq!(pni(3, 8, 3), 0);
    // Capped at MAX_ITER (open consensus), never below zero.
    assert_eq!(pni(10, 8, 0), 8);
    assert_eq!(pni(10, 8, 3), 5);
    assert_eq!(pni(1, 8, 4), 0);
}

#[test]
fn a_new_block_is_attested_at_pni_0_else_accepted_for_2_pni_blocks() {
    assert_eq!(initial_label(0, Finality::Dusk), (Attested, 0));
    assert_eq!(initial_label(1, Finality::Dusk), (Accepted, 2));
    assert_eq!(initial_label(2, Finality::Dusk), (Accepted, 4));
    assert_eq!(initial_label(3, Finality::Dusk), (Accepted, 6));
    assert_eq!(initial_label(8, Finality::Dusk), (Accepted, 16));
    // VAR-FIN-CLOSED (spec/variants.md): a block with PNI > 0 is never Confirmed; PNI 0 as Dusk.
    assert_eq!(initial_label(0, Finality::Closed), (Attested, 0));
    assert_eq!(initial_label(1, Finality::Closed), (Accepted, u64::MAX));
    assert_eq!(initial_label(1, Finality::SmFail), (Accepted, 2));
}

#[test]
fn happy_path_block_n_is_final_once_n_plus_1_is_attested() {
    let mut c = vec![at(Final, 0), at(Attested, 0), at(Attested, 0)];
    assert_eq!(on_attested_append(&mut c), vec![(1, Final)]);
    assert_eq!(labels(&c), [Final, Final, Attested]);
}

#[test]
fn an_accepted_block_on_top_changes_nothing() {
    // FIN-2 runs only when the appended block is Attested.
    let mut c = vec![at(Final, 0), at(Attested, 0), at(Accepted, 2)];
    assert!(on_attested_append(&mut c).is_empty());
    assert_eq!(labels(&c), [Final, Attested, Accepted]);
    // Genesis alone: nothing to walk.
    let mut g = vec![at(Final, 0)];
    assert!(on_attested_append(&mut g).is_empty());
}

#[test]
fn an_accepted_block_waits_for_2_pni_stable_blocks() {
    // PNI 1: confirmed_after 2. One Attested block above is not enough...
    let mut c = vec![at(Final, 0), at(Accepted, 2), at(Attested, 0)];
    assert!(on_attested_append(&mut c).is_empty());
    assert_eq!(labels(&c), [Final, Accepted, Attested]);
    // ...two are: both below become Confirmed, then Final (FIN-3).
    c.push(at(Attested, 0));
    assert_eq!(on_attested_append(&mut c), vec![(1, Final), (2, Final)]);
    assert_eq!(labels(&c), [Final, Final, Final, Attested]);
}

#[test]
fn pni_2_needs_four_and_confirmed_blocks_are_not_final_below_an_unconfirmed_one() {
    // PNI 2 at height 1: confirmed_after 4.
    let mut c = vec![
        at(Final, 0),
        at(Accepted, 4),
        at(Attested, 0),
        at(Attested, 0),
        at(Attested, 0),
    ];
    // Walk: h3 and h2 become Confirmed (stable 3), h1 needs 4: stop. Nothing is Final:
    // the Confirmed blocks are not just above the last Final one.
    assert_eq!(
        on_attested_append(&mut c),
        vec![(3, Confirmed), (2, Confirmed)]
    );
    assert_eq!(
        labels(&c),
        [Final, Accepted, Confirmed, Confirmed, Attested]
    );
    // One more: the walk counts h3 and h2 (Confirmed) and confirms h4 and h1: all Final.
    c.push(at(Attested, 0));
    assert_eq!(
        on_attested_append(&mut c),
        vec![(1, Final), (2, Final), (3, Final), (4, Final)]
    );
    assert_eq!(labels(&c), [Final, Final, Final, Final, Final, Attested]);
}

#[test]
fn the_walk_stops_at_the_last_final_block() {
    let mut c = vec![
        at(Final, 0),
        at(Final, 0),
        at(Accepted, 2),
        at(Attested, 0),
        at(Attested, 0),
    ];
    assert_eq!(on_attested_append(&mut c), vec![(2, Final), (3, Final)]);
    assert_eq!(labels(&c), [Final, Final, Final, Final, Attested]);
}

#[test]
fn label_names() {
    let names: Vec<&str> = [Accepted, Attested, Confirmed, Final]
        .iter()
        .map(|l| l.name())
        .collect();
    assert_eq!(names, ["accepted", "attested", "confirmed", "final"]);
}
