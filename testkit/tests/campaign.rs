//! The fault campaign, small: every rejection reason of spec/node.md produced by a message
//! built for it, no panic, and no rejection that changed the node. `sa campaign` runs the same
//! code on millions of messages (docs/measurements.md, "The fault campaign and the soak, measured").

use sa_node::node::Reason;
use sa_testkit::campaign::{craft, run, Fixture, Rng};

#[test]
fn every_rejection_reason_is_reached_and_no_rejection_changes_the_node() {
    let f = Fixture::new();
    assert!(f.node.last_final() >= 1, "a Final block to fork below");
    assert!(
        f.node.tip_height() > f.node.last_final(),
        "a tip that is not Final, for FORK-1 alternatives"
    );
    let rep = run(&f, 30_000, 7, 2, &|_| {});
    eprintln!("{}", serde_json::to_string_pretty(&rep).unwrap());
    assert_eq!(rep.panics, 0);
    assert_eq!(rep.rejected_but_changed, 0);
    assert!(rep.crafted_misses.is_empty(), "{:?}", rep.crafted_misses);
    assert!(rep.never_hit.is_empty(), "never hit: {:?}", rep.never_hit);
    for x in Reason::ALL {
        let defensive = Reason::DEFENSIVE.iter().any(|(d, _)| *d == x);
        assert_eq!(rep.rejected.contains_key(&x.id()), !defensive, "{}", x.id());
    }
    // The mix reaches past decoding: taken messages, state changes, signature checks.
    assert!(rep.taken > 0 && rep.taken_changed_state > 0);
    assert!(rep.rejected["REJ-VOTE-SIGNATURE"] > 10);
    assert!(rep.random > 1000 && rep.mutated > 10_000 && rep.crafted > 37);
    assert_eq!(rep.messages, rep.random + rep.mutated + rep.crafted);
}

#[test]
fn the_campaign_is_deterministic_and_independent_of_threads() {
    let f = Fixture::new();
    let a = run(&f, 3_000, 3, 1, &|_| {});
    let b = run(&f, 3_000, 3, 2, &|_| {});
    assert_eq!(a.rejected, b.rejected);
    assert_eq!((a.taken, a.messages), (b.taken, b.messages));
}

#[test]
fn a_crafted_message_is_refused_for_its_own_reason_only_when_built_for_it() {
    // The crafted-miss check can fail: a message built for one reason, fed where another is
    // expected, is reported.
    let f = Fixture::new();
    let mut r = Rng::new(1, 1);
    let seq = craft(&f, Reason::VoteSignature, &mut r).unwrap();
    let mut node = f.node.clone();
    let out = node.handle(
        f.now,
        sa_node::node::Input::Message {
            peer: seq[0].0,
            bytes: seq[0].1.clone(),
        },
    );
    let code = out.iter().find_map(|o| match o {
        sa_node::node::Output::Rejected { code, .. } => Some(*code),
        _ => None,
    });
    assert_eq!(code, Some(Reason::VoteSignature));
    assert_ne!(code, Some(Reason::VoteNotMember));
}

#[test]
fn spec_node_md_lists_exactly_the_rejection_reasons_of_the_code() {
    let spec = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/node.md"))
        .expect("spec/node.md");
    let listed: Vec<String> = spec
        .lines()
        .filter_map(|l| l.strip_prefix("| `REJ-"))
        .map(|rest| format!("REJ-{}", rest.split('`').next().unwrap_or_default()))
        .collect();
    let code: Vec<String> = Reason::ALL.iter().map(|x| x.id()).collect();
    assert_eq!(listed, code);
}
