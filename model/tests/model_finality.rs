//! Block labels (FIN-1..3): PNI, Attested/Accepted, the walk-back and Final.

use sa_model::finality::{confirmed_after, pni, push};
use sa_model::state::{Entry, FailSet, Label, Value};
use sa_model::{Config, Mutation};

fn block(iteration: u8, failed: FailSet) -> Entry {
    Entry {
        iteration,
        failed,
        variant: 0,
        label: Label::Accepted,
    }
}

fn config(max_iterations: u8) -> Config {
    let mut c = Config::preset("default").unwrap();
    c.protocol.max_iterations = max_iterations;
    c.protocol.relaxed_iterations = max_iterations;
    c
}

fn labels(chain: &[Entry]) -> Vec<Label> {
    chain.iter().map(|e| e.label).collect()
}

#[test]
fn happy_path_block_n_is_final_when_n_plus_1_is_attested() {
    let c = config(3);
    let mut chain = Vec::new();
    push(&c, &mut chain, block(0, FailSet::default()));
    assert_eq!(labels(&chain), [Label::Attested]);
    push(&c, &mut chain, block(0, FailSet::default()));
    assert_eq!(labels(&chain), [Label::Final, Label::Attested]);
    push(&c, &mut chain, block(0, FailSet::default()));
    assert_eq!(
        labels(&chain),
        [Label::Final, Label::Final, Label::Attested]
    );
}

#[test]
fn pni_counts_lower_iterations_without_a_fail_attestation() {
    let c = config(4);
    let two_fails = FailSet::default()
        .with(0, Value::NoCandidate)
        .with(1, Value::NoQuorum);
    assert_eq!(pni(&c, &block(2, two_fails)), 0);
    let one_fail = FailSet::default().with(0, Value::NoCandidate);
    assert_eq!(pni(&c, &block(2, one_fail)), 1);
    assert_eq!(confirmed_after(&c, &block(2, one_fail)), 2);
    assert_eq!(pni(&c, &block(3, FailSet::default())), 3);
}

#[test]
fn an_accepted_block_needs_two_pni_confirmations() {
    let c = config(3);
    let mut chain = Vec::new();
    // Iteration 1 with no Fail attestation for iteration 0: PNI 1, confirmed_after 2.
    push(&c, &mut chain, block(1, FailSet::default()));
    assert_eq!(labels(&chain), [Label::Accepted]);
    push(&c, &mut chain, block(0, FailSet::default()));
    // stable = 1 < 2: the walk-back stops, nothing is confirmed.
    assert_eq!(labels(&chain), [Label::Accepted, Label::Attested]);
    push(&c, &mut chain, block(0, FailSet::default()));
    // Walk back from block 2: Attested, 0 ≤ 1 → Confirmed, stable 2; block 1: 2 ≤ 2 → Confirmed.
    assert_eq!(
        labels(&chain),
        [Label::Final, Label::Final, Label::Attested]
    );
}

#[test]
fn an_accepted_tip_triggers_no_walk_back() {
    let c = config(3);
    let mut chain = Vec::new();
    push(&c, &mut chain, block(0, FailSet::default()));
    push(&c, &mut chain, block(1, FailSet::default()));
    assert_eq!(labels(&chain), [Label::Attested, Label::Accepted]);
}

#[test]
fn the_mutations_change_the_labels() {
    let mut c = config(3);
    c.mutations = vec![Mutation::IgnorePni];
    let mut chain = Vec::new();
    push(&c, &mut chain, block(1, FailSet::default()));
    assert_eq!(labels(&chain), [Label::Attested]);
    c.mutations = vec![Mutation::FinalizeOnAccept];
    let mut chain = Vec::new();
    push(&c, &mut chain, block(1, FailSet::default()));
    assert_eq!(labels(&chain), [Label::Final]);
}
