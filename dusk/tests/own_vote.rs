//! Executed, not read: dusk-consensus 1.7.0 registers the node's own vote through its inbound
//! queue (spec/incidents.md, "Two Final blocks, with Dusk's own-vote path"; the model's
//! mutation `dusk-async-own-vote`), where the reference counts it at once (TALLY-4).
//!
//! A Validation member of round 1, iteration 0 receives gen(0)'s candidate and, queued right
//! behind it, another member's vote. The crate validates the candidate and casts its vote
//! (`cast_vote`: to the outbound queue, then to its own inbound queue). It relays every vote
//! it takes from its inbound queue and accepts, and its own vote comes out a second time as
//! such a relay, after the other member's vote, which was queued before it: the own vote is
//! counted when the event loop takes it from the queue, like a remote one. (What this test
//! does not show: a queued message changing an outcome before the own vote is counted. The
//! incident's path needs rusk's fallback and draws where one node's credits are a quorum.)

use sa_dusk::adapter::DuskNode;
use sa_dusk::draws::{draw, provisioners};
use sa_model::config::LUX_PER_UNIT;
use sa_model::Config;
use serde_json::json;

#[test]
fn the_crate_counts_its_own_vote_after_what_is_already_queued() {
    let config = Config::preset("dusk").unwrap();
    let n = config.provisioners.len();
    let weights: Vec<u64> = config
        .provisioners
        .iter()
        .map(|p| u64::from(p.stake) * LUX_PER_UNIT)
        .collect();
    let seed = sa_model::keys::genesis_seed(config.sortition.seed);
    let d = draw(&provisioners(&weights), n, seed, 1, 0).expect("a draw");
    let members: Vec<usize> = d.validation.keys().copied().collect();
    assert!(members.len() >= 2, "two Validation members: {members:?}");
    let (me, other) = (members[0], members[1]);

    let mut node = DuskNode::new();
    node.init(&config, me, false, &[]).unwrap();
    let candidate = json!({"tag": "Candidate", "value": {
        "block": "B1.0", "valid": true, "failed": {"#set": []}}});
    let vote = json!({"tag": "Vote", "value": {
        "iteration": {"#bigint": "0"}, "step": {"tag": "Validation"},
        "value": {"tag": "Valid", "value": {"candidate": {"#bigint": "0"}}},
        "signer": {"#bigint": other.to_string()}}});
    let sent = node.deliver_together(&[candidate, vote]).unwrap();
    let validation = sent
        .iter()
        .filter(|v| v["value"]["step"]["tag"] == "Validation")
        .count();
    assert_eq!(
        validation, 2,
        "its own Valid vote, cast and relayed: {sent:?}"
    );

    let log: Vec<(usize, &str)> = node
        .outbound_log()
        .iter()
        .filter(|(_, kind, i, _)| *kind == "Validation" && *i == 0)
        .map(|(who, kind, _, _)| (*who, *kind))
        .collect();
    let own: Vec<usize> = (0..log.len()).filter(|&k| log[k].0 == me).collect();
    let theirs: Vec<usize> = (0..log.len()).filter(|&k| log[k].0 == other).collect();
    println!("outbound Validation messages, in order: {log:?}");
    assert_eq!(
        own.len(),
        2,
        "the own vote: cast, then relayed from the inbound queue"
    );
    assert_eq!(theirs.len(), 1, "the other member's vote, relayed once");
    assert!(
        theirs[0] < own[1],
        "the own vote was taken from the inbound queue after the vote queued before it: {log:?}"
    );
}
