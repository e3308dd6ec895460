//! sa-node's consensus core over sa-node's log on a simulated disk (sa-testkit's `SimDisk`
//! under the in-memory network, `Sim::attach_disk`), deterministic from a seed: the storage
//! faults of `storage_faults.rs` (a disk that fills up, an fsync that fails and drops what it
//! should have made durable, a process killed inside an fsync, a crash that loses, tears or
//! zero-fills what was not synced) injected under a node that votes, with its restarts.
//!
//! Per seed: five provisioners; node 1's log is on the faulty disk. Three times, node 1 runs
//! until a fault stops it (an append that fails stops the node before the rest of that input's
//! outputs, as the runtime does) or it is killed at a random input; its disk crashes; it stays
//! down a random while, then restarts from what the disk kept (the log reopened and repaired
//! as the runtime does) and hears nothing for 3 s, so its own timers take it through the steps
//! it had voted in, where a node that lost a vote would vote anew.
//!
//! What must hold on every seed: node 1 never signs two different votes for one step nor two
//! candidates for one iteration across its incarnations; every record whose append returned
//! Ok comes back on restart (at most the one in flight besides); no two running nodes hold
//! different Final blocks; the other four keep making blocks. Each fault is counted and must
//! occur. The broken runtime that ignores a failed append and goes on is caught by the same
//! check.

use std::collections::BTreeMap;

use sa_node::message::Message;
use sa_node::node::Output;
use sa_testkit::campaign::Rng;
use sa_testkit::disk::{Crash, DiskState, SimDisk};
use sa_testkit::sim::{params, Sim};

const DUSK: u64 = 1_000_000_000;
/// About a second each on this machine (signatures are real BLS; one verification per
/// signature for the whole network, `Sim::share_verified_signatures`).
const SEEDS: u64 = 30;

/// A fault planned `within` syncs from now, on one seed in `one_in`.
fn planned(r: &mut Rng, now: u64, one_in: u64, within: u64) -> Option<u64> {
    (r.below(one_in) == 0).then(|| now + 1 + r.below(within))
}

/// Node 1's process dies with its disk; it stays down a while (faults for its next session
/// planned meanwhile), restarts from what the disk kept, and the records read back are checked
/// against those acknowledged. False when the log never reopened.
fn crash_and_restart(
    s: &mut Sim,
    disk: &SimDisk,
    r: &mut Rng,
    seed: u64,
    (seen, broke): (&mut BTreeMap<&'static str, u32>, &mut Vec<String>),
) -> bool {
    let acked = s.logs[1].clone();
    let pending = disk.state().pending.len();
    let how = match r.below(4) {
        0 => Crash::Lost,
        1 => Crash::Torn(r.below(pending as u64 + 1) as usize),
        // The write reached the platter whole; only its fsync never returned.
        2 => Crash::Torn(pending),
        _ => Crash::ZeroFilled,
    };
    s.crash_disk(1, how);
    let down = s.now + r.below(4_000);
    s.run_until(10_000, |s| s.now >= down);
    // Space freed by an operator, sometimes; the next faults planned past this point.
    {
        let mut d = disk.0.lock().unwrap();
        if r.below(2) == 0 {
            d.capacity = None;
        }
        let syncs = d.syncs;
        d.fail_sync = planned(r, syncs, 2, 40);
        d.kill_at_sync = planned(r, syncs, 2, 40);
    }
    let mut back = s.restart_from_disk(1);
    for _ in 0..3 {
        if back.is_ok() {
            break;
        }
        *seen
            .entry("a reopening failed under a fault: started again")
            .or_default() += 1;
        disk.crash(Crash::Lost);
        back = s.restart_from_disk(1);
    }
    let Ok(records) = back else {
        broke.push(format!("seed {seed}: the log never reopened: {back:?}"));
        return false;
    };
    if records.len() < acked.len() || records[..acked.len()] != acked[..] {
        broke.push(format!(
            "seed {seed}: {} records acknowledged, {} read back, not a prefix",
            acked.len(),
            records.len()
        ));
    }
    if records.len() > acked.len() + 1 {
        broke.push(format!("seed {seed}: records appeared"));
    }
    if s.disks[1]
        .as_ref()
        .and_then(|d| d.log.as_ref()?.repaired())
        .is_some()
    {
        *seen.entry("a torn tail repaired on restart").or_default() += 1;
    }
    if records.len() == acked.len() + 1 {
        *seen
            .entry("the record in flight came back whole")
            .or_default() += 1;
    }
    true
}

/// Runs one seed; returns what happened (counts) and what broke (messages).
fn campaign(seed: u64, ignore_errors: bool) -> (BTreeMap<&'static str, u32>, Vec<String>) {
    let mut seen: BTreeMap<&'static str, u32> = BTreeMap::new();
    let mut broke = vec![];
    let mut r = Rng::new(seed, 11);
    let mut s = Sim::new(5, params(15), 4 * DUSK, &[]);
    s.ignore_storage_errors = ignore_errors;
    s.share_verified_signatures();
    let disk = SimDisk::new(DiskState {
        capacity: (r.below(4) == 0).then(|| 3_000 + r.below(20_000) as usize),
        fail_sync: planned(&mut r, 0, 2, 40),
        kill_at_sync: planned(&mut r, 0, 2, 40),
        ..DiskState::default()
    });
    s.attach_disk(1, disk.clone()).expect("a fresh disk opens");
    s.start();
    for _session in 0..3 {
        let kill_after = s.inputs[1] + 30 + r.below(150);
        let failures = s.storage_failures[1];
        while s.nodes[1].is_some() && s.inputs[1] < kill_after && s.step() {}
        if s.storage_failures[1] > failures {
            *seen.entry("an append failed").or_default() += 1;
            if s.nodes[1].is_none() {
                *seen.entry("a failed append stopped the node").or_default() += 1;
            }
        }
        if !crash_and_restart(&mut s, &disk, &mut r, seed, (&mut seen, &mut broke)) {
            break;
        }
        // Isolated for 3 s: its timers take it through the steps it voted in.
        let before = s.history[1].len();
        s.filter = Box::new(|_, to, _| to != 1);
        let t = s.now + 3_000;
        s.run_until(3_000, |s| s.now >= t);
        s.filter = Box::new(|_, _, _| true);
        let votes = s.history[1][before..]
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    Output::Broadcast(Message::Validation(_) | Message::Ratification { .. })
                )
            })
            .count();
        *seen
            .entry("votes signed while isolated after a restart")
            .or_default() += u32::try_from(votes).unwrap_or(u32::MAX);
    }
    for h in disk.state().hit {
        *seen
            .entry(match h {
                "full" => "disk full",
                "fsync" => "fsync failed",
                _ => "killed inside an fsync",
            })
            .or_default() += 1;
    }
    // The others keep making blocks.
    let others = |s: &Sim| {
        [0, 2, 3, 4]
            .iter()
            .map(|&i| s.node(i).tip_height())
            .min()
            .unwrap_or(0)
    };
    let goal = others(&s) + 3;
    if !s.run_until(120_000, |s| others(s) >= goal) {
        broke.push(format!("seed {seed}: the others stopped at {}", others(&s)));
    }
    for e in s.equivocations(1) {
        broke.push(format!("seed {seed}: node 1 equivocated: {e}"));
    }
    for h in s.final_disagreements() {
        broke.push(format!("seed {seed}: two Final blocks at height {h}"));
    }
    (seen, broke)
}

#[test]
fn no_vote_is_signed_twice_and_no_acknowledged_record_lost_under_storage_faults() {
    let mut seen: BTreeMap<&str, u32> = BTreeMap::new();
    let mut broke = vec![];
    for seed in 0..SEEDS {
        let (c, b) = campaign(seed, false);
        for (k, v) in c {
            *seen.entry(k).or_default() += v;
        }
        broke.extend(b);
    }
    println!("{seen:#?}");
    assert!(broke.is_empty(), "{broke:#?}");
    for what in [
        "an append failed",
        "a failed append stopped the node",
        "disk full",
        "fsync failed",
        "killed inside an fsync",
        "the record in flight came back whole",
        "a torn tail repaired on restart",
        "votes signed while isolated after a restart",
    ] {
        assert!(
            seen.get(what).copied().unwrap_or(0) > 0,
            "never reached: {what}: {seen:?}"
        );
    }
}

/// The same campaign with a runtime that ignores a failed append and carries out the rest of
/// the input (its vote sent though its record is not durable): node 1 double-votes after a
/// restart on some seed, and the check says so.
#[test]
fn a_runtime_that_goes_on_after_a_failed_append_is_caught() {
    let caught = (0..SEEDS).find(|&seed| {
        campaign(seed, true)
            .1
            .iter()
            .any(|b| b.contains("equivocated"))
    });
    println!("caught on seed {caught:?}");
    assert!(
        caught.is_some(),
        "ignoring storage errors never double-voted"
    );
}
