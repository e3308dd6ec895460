//! Smoke test of the sans-IO core: four nodes on an instant in-memory network accept blocks
//! that become Final, and all hold the same chain.

use std::collections::{BTreeMap, VecDeque};

use sa_node::config::{Behaviour, Genesis, Params};
use sa_node::keys::Keypair;
use sa_node::node::{Input, Node, Output, Timer};

fn params() -> Params {
    Params {
        committee_credits: 8,
        minimum_stake: 1_000_000_000,
        min_block_time_ms: 0,
        ..Params::default()
    }
}

#[test]
fn four_nodes_accept_and_finalize() {
    let g = Genesis::testnet(4, 3_000_000_000, params(), 1_000);
    let ring = g.validate().unwrap();
    let mut nodes: Vec<Node> = (0..4)
        .map(|i| {
            Node::new(
                g.clone(),
                ring.clone(),
                Keypair::testnet(i),
                Behaviour::default(),
            )
        })
        .collect();
    let mut now = 10_000u64;
    let mut queue: VecDeque<(usize, Input)> = (0..4).map(|i| (i, Input::Start)).collect();
    let mut timers: BTreeMap<(u64, usize, Timer), ()> = BTreeMap::new();
    let mut steps = 0;
    while nodes.iter().any(|n| n.tip_height() < 5) && steps < 200_000 {
        steps += 1;
        let Some((i, input)) = queue.pop_front() else {
            // advance time to the next timer
            let (&(t, i, timer), _) = timers.iter().next().expect("a timer");
            timers.remove(&(t, i, timer));
            now = t;
            queue.push_back((i, Input::Timer(timer)));
            continue;
        };
        for o in nodes[i].handle(now, input) {
            match o {
                Output::Broadcast(m) => {
                    let bytes = m.to_bytes();
                    for j in 0..4 {
                        if j != i {
                            queue.push_back((
                                j,
                                Input::Message {
                                    peer: i as u64,
                                    bytes: bytes.clone(),
                                },
                            ));
                        }
                    }
                }
                Output::Send { peer, message } => queue.push_back((
                    peer as usize,
                    Input::Message {
                        peer: i as u64,
                        bytes: message.to_bytes(),
                    },
                )),
                Output::SetTimer { timer, after_ms } => {
                    timers.insert((now + after_ms, i, timer), ());
                }
                Output::Rejected { reason, kind, .. } => {
                    panic!("node {i} rejected {kind}: {reason}")
                }
                _ => {}
            }
        }
    }
    for n in &nodes {
        assert!(n.tip_height() >= 5, "tip {}", n.tip_height());
        assert!(n.last_final() >= 4, "last final {}", n.last_final());
    }
    let c0 = nodes[0].chain_labels();
    for n in &nodes[1..] {
        let c = n.chain_labels();
        for h in 0..=5 {
            assert_eq!(c[h].0, c0[h].0, "height {h} differs");
        }
    }
}
