//! FORK-1: a node that saw the iteration-0 Success while the others timed out and decided a
//! later iteration makes them fall back to the lower-iteration block, never below Final.

mod sim;

use sa_node::finality::Label;
use sa_node::message::Message;
use sa_node::node::Output;
use sim::{params, Sim};

const DUSK: u64 = 1_000_000_000;

fn fallbacks(s: &Sim, i: usize) -> Vec<(u64, u64)> {
    s.history[i]
        .iter()
        .filter_map(|o| match o {
            Output::Fallback {
                from_height,
                to_height,
            } => Some((*from_height, *to_height)),
            _ => None,
        })
        .collect()
}

/// Round 1, iteration 0: only node 0 hears the Ratification votes, and nobody hears of its
/// block until released.
fn hide_iteration_zero() -> sim::Filter {
    Box::new(|_, to, m| match m {
        Message::Ratification { vote, .. } => {
            vote.header.round == 1 && vote.header.iteration == 0 && to != 0
        }
        Message::Block(b) => b.header().height == 1 && b.header().iteration == 0,
        _ => false,
    })
}

#[test]
fn the_lower_iteration_block_wins_and_everyone_converges() {
    let mut s = Sim::new(7, params(15), 3 * DUSK, &[]);
    // Round 1, iteration 0: only node 0 hears the Ratification votes, and nobody hears of its
    // block until the others have decided round 1 in a later iteration.
    s.hold = hide_iteration_zero();
    s.start();
    assert!(
        s.run_until(120_000, |s| (1..7).all(|i| s.node(i).tip_height() >= 1)),
        "the others decided round 1"
    );
    assert_eq!(s.node(0).block(1).unwrap().header().iteration, 0);
    let theirs = s.node(1).block(1).unwrap().clone();
    assert!(theirs.header().iteration > 0);
    // Their block is only Accepted (iteration 0 ended by a timeout: PNI > 0), so revertible.
    assert_eq!(s.node(1).chain_labels()[1].1, Label::Accepted);
    s.hold = Box::new(|_, _, _| false);
    s.release();
    assert!(
        s.run_until(120_000, |s| s.min_tip() >= 4),
        "tip {}",
        s.min_tip()
    );
    let ours = s.node(0).block(1).unwrap().hash();
    for i in 0..7 {
        assert_eq!(
            s.node(i).block(1).unwrap().hash(),
            ours,
            "node {i} kept the higher iteration"
        );
    }
    // Nodes 1..6 fell back exactly once to height 0 (the common parent) from their tip.
    for i in 1..7 {
        let f = fallbacks(&s, i);
        assert!(!f.is_empty(), "node {i} never fell back");
        assert!(f.iter().all(|(_, to)| *to == 0));
    }
    assert!(
        fallbacks(&s, 0).is_empty(),
        "node 0 ignores the higher-iteration block"
    );
    // Agreement after convergence, and the converged blocks become Final.
    let c0 = s.node(0).chain_labels();
    for i in 1..7 {
        let c = s.node(i).chain_labels();
        for h in 0..=4 {
            assert_eq!(c[h].0, c0[h].0);
        }
    }
    assert!(s.running().all(|n| n.last_final() >= 2));
}

#[test]
fn a_final_block_is_never_replaced() {
    // As above, but node 0's iteration-0 block reaches the others only after their own
    // (later-iteration) block 1 became Final. Holding messages that long is outside the fault
    // budget (spec/faults.md: late messages are bounded); FIN-4 must hold anyway.
    let mut s = Sim::new(7, params(15), 3 * DUSK, &[]);
    s.hold = hide_iteration_zero();
    s.start();
    assert!(s.run_until(200_000, |s| (1..7).all(|i| s.node(i).last_final() >= 2)));
    s.hold = Box::new(|_, _, _| false);
    s.release(); // node 0's iteration-0 block 1 now reaches everyone
    let target = (1..7).map(|i| s.node(i).tip_height()).max().unwrap() + 2;
    assert!(s.run_until(60_000, |s| (1..7).all(|i| s.node(i).tip_height() >= target)));
    for i in 1..7 {
        assert!(
            fallbacks(&s, i).is_empty(),
            "node {i} reverted a Final block"
        );
        assert!(s.node(i).block(1).unwrap().header().iteration > 0);
        assert!(
            s.history[i].iter().any(|o| matches!(o,
                Output::Rejected { reason, .. } if reason.contains("FIN-4"))),
            "node {i} never saw the late block"
        );
    }
}

#[test]
fn a_reverted_blocks_transactions_return_to_the_pool() {
    // As in the first test, but while node 0 is cut off a client's transaction reaches only
    // nodes 1..6 (its relay to node 0 is dropped), given the moment the first of them accepts
    // its block 1, so that their height-2 block includes it. The fallback reverts that block:
    // the transaction must return to their pools (EXEC-POOL-4) and end in the converged chain
    // once; without the rule it is in no pool and lost.
    let mut s = Sim::new(7, params(15), 3 * DUSK, &[]);
    s.hold = hide_iteration_zero();
    s.filter = Box::new(|_, to, m| !(to == 0 && matches!(m, Message::Transaction(_))));
    s.start();
    while (1..7).all(|i| s.node(i).tip_height() == 0) {
        assert!(s.step(), "the network stopped");
    }
    let key = sa_node::keys::Keypair::testnet(1);
    let tx = sa_node::exec::call(&key, 0, [4; 32], b"returns".to_vec(), 1_000).encode();
    for i in 1..7 {
        s.deliver(i, sa_node::node::Input::Transaction(tx.clone()));
    }
    let holds = |s: &Sim, i: usize, h: u64| {
        s.node(i)
            .block(h)
            .is_some_and(|b| b.candidate.payload.contains(&tx))
    };
    assert!(
        s.run_until(5_000, |s| (1..7).all(|i| holds(s, i, 2))),
        "their height-2 block did not include it"
    );
    assert!((1..7).all(|i| s.node(i).chain_labels()[1].1 != Label::Final));
    assert_eq!(s.node(0).pool_len(), 0, "node 0 heard of it");
    s.hold = Box::new(|_, _, _| false);
    s.release();
    assert!(s.run_until(120_000, |s| s.min_tip() >= 6));
    assert!((1..7).all(|i| !fallbacks(&s, i).is_empty()), "no fallback");
    for i in 0..7 {
        let n = s.node(i);
        let times = (1..=n.tip_height()).filter(|h| holds(&s, i, *h)).count();
        assert_eq!(times, 1, "node {i}: included {times} times");
    }
}
