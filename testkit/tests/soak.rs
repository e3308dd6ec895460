//! The soak in the deterministic simulator: many seeded crashes (one node down at a time,
//! within the absence bound), each node restarted from exactly what it persisted; afterwards
//! every node must come back and finalize new blocks. This is `sa soak`'s liveness check on the
//! core alone, in virtual time (no wall clock, no processes), so a failure is reproducible by
//! its seed. Under the spec's soft slashing the same churn stalls the chain: the finding of
//! spec/incidents.md ("Suspension stall"), kept here as a test.

use sa_node::config::Params;
use sa_testkit::campaign::Rng;
use sa_testkit::sim::Sim;

const DUSK: u64 = 1_000_000_000;

/// The testnet's parameters: C = 64, mainnet timeouts at scale 0.05; `warnings` soft faults
/// before a suspension (the spec's WARNINGS is 1).
fn testnet_params(warnings: u8) -> Params {
    Params {
        committee_credits: 64,
        minimum_stake: DUSK,
        epoch: 100,
        soft_slash_warnings: warnings,
        ..Params::default()
    }
    .scaled(0.05)
}

struct Outcome {
    /// Per node: the highest Final height of any node when it was last restarted, and its
    /// own Final height at the end.
    finals: Vec<(u64, u64)>,
    /// Provisioners eligible for the next round at the end (node 0's ledger).
    eligible: usize,
}

/// `n` nodes of `sa testnet`'s sharp stake for C = 64 (⌈64 / (n − 2)⌉ DUSK), `kills` seeded
/// crashes as `sa soak` draws them (0.1–1.5 s apart, 0.2–2 s down), then 15 s without faults.
fn soak(n: usize, seed: u64, kills: u32, warnings: u8) -> Outcome {
    let stake = 64u64.div_ceil(n as u64 - 2);
    let mut s = Sim::new(n as u32, testnet_params(warnings), stake * DUSK, &[]);
    s.start();
    let mut r = Rng::new(seed, 0x50a4);
    let mut floor = vec![0; n];
    let t0 = s.now + 3_000;
    s.run_until(3_000, |s| s.now >= t0);
    for _ in 0..kills {
        let gap = 100 + r.below(1400);
        let t = s.now + gap;
        s.run_until(gap, |s| s.now >= t);
        let k = r.below(n as u64) as usize;
        s.crash(k);
        let down = 200 + r.below(1800);
        let t = s.now + down;
        s.run_until(down, |s| s.now >= t);
        floor[k] = s.running().map(|x| x.last_final()).max().unwrap_or(0);
        s.restart(k);
    }
    let t = s.now + 15_000;
    s.run_until(15_000, |s| s.now >= t);
    let n0 = s.node(0);
    Outcome {
        finals: (0..n).map(|i| (floor[i], s.node(i).last_final())).collect(),
        eligible: n0.ledger().eligible(n0.tip_height() + 1, n0.params()).len(),
    }
}

#[test]
fn after_many_crashes_every_node_comes_back_and_finalizes() {
    // Suspensions off (WARNINGS = 255): this is about the node's recovery, not about the
    // slashing rule (next test).
    let o = soak(7, 1, 40, 255);
    for (i, (floor, end)) in o.finals.iter().enumerate() {
        assert!(
            end > floor,
            "node {i} Final {end} after its last restart at Final {floor}: {:?}",
            o.finals
        );
    }
    assert_eq!(o.eligible, 7);
}

#[test]
fn four_nodes_one_down_at_a_time_come_back() {
    // Bound 1: each committee is the two provisioners left after excluding gen(i) and
    // gen(i+1), and a Success needs both. A node restarted mid-round must rejoin its peers'
    // iteration (RESTART-2, ITER-4), or the round can go on without ever holding all three
    // needed nodes in one iteration.
    let o = soak(4, 5, 30, 255);
    for (i, (floor, end)) in o.finals.iter().enumerate() {
        assert!(end > floor, "node {i}: {:?}", o.finals);
    }
}

#[test]
fn crash_churn_with_soft_slashing_stalls_the_chain() {
    // Under the spec's soft slashing (WARNINGS = 1) the same kind of churn suspends crashed
    // generators until only 5 of 7 provisioners are eligible; committees then exclude gen(i)
    // and gen(i+1) from 5, leaving 3 members of at most 13 credits (39 < SM = 43), so only
    // iterations with gen(i) = gen(i+1) can succeed, and nodes that restarted mid-round at
    // iteration 0 are never all in such an iteration together: no node finalizes again.
    let o = soak(7, 1, 100, 1);
    assert_eq!(o.eligible, 5, "{:?}", o.finals);
    assert!(
        o.finals.iter().all(|(floor, end)| end <= floor),
        "expected the stall: {:?}",
        o.finals
    );
}
