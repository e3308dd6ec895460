//! State against height (spec/execution.md EXEC-STATE-1, EXEC-STATE-2): figures in
//! docs/measurements.md. `cargo bench -p sa-node --bench state` (or `-- restart 10000`,
//! `-- memory 240 1000`) builds chains with the simulator (4 provisioners, sa_testkit::sim's
//! fast parameters), writes node 0's log, then measures in a child process that holds one
//! node and nothing else:
//!
//! - **memory**: a storage-filling attacker (the four funded genesis accounts, 16
//!   transactions each per block) deploys `CONTRACTS` distinct contracts and fills each one's
//!   storage to the limit (256 entries of 1 KiB), then `EMPTY` empty blocks follow. The child
//!   feeds the log's blocks to a fresh node in order (the sync path: verified, executed, root
//!   checked) and prints its resident memory (`VmRSS`) every 100 blocks, the application
//!   states it holds and the contract storage it holds.
//! - **restart**: a chain of `BLOCKS` blocks (a call in every tenth) with a snapshot every
//!   1,000 Final heights; the child times parsing the log, restoring from genesis (every block
//!   verified and executed) and restoring from the last snapshot.
//!
//! Wall-clock figures, for this machine; nothing here is asserted but what makes a figure
//! meaningful (the node accepted every block, the restores reach the same tip and state).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use sa_node::exec::{self, samples, Tx};
use sa_node::keys::Keypair;
use sa_node::message::Message;
use sa_node::node::{Input, Node, Output};
use sa_node::storage::{frame, parse, Record, MAGIC};
use sa_testkit::sim::{params, Sim};

const STAKE: u64 = 1_000_000_000_000;

/// A contract that writes 256 entries of 1 KiB (keys 0..255) into its storage; `tag` makes
/// its code, so its id, distinct.
fn filler(tag: u32) -> Vec<u8> {
    samples::compile(&format!(
        r#"(module
  (import "env" "storage_set" (func $set (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 4096) "filler-{tag}")
  (func (export "call") (local $i i32)
    (loop $l
      (i32.store (i32.const 0) (local.get $i))
      (call $set (i32.const 0) (i32.const 4) (i32.const 1024) (i32.const 1024))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 256))))))"#
    ))
}

fn network() -> Sim {
    let mut sim = Sim::new(4, params(16), STAKE, &[]);
    sim.start();
    sim
}

fn advance(sim: &mut Sim, more: u64) {
    let target = sim.min_tip() + more;
    assert!(
        sim.run_until(3_600_000, |s| s.min_tip() >= target),
        "stuck below {target}"
    );
    // The simulator's own record of every output grows with height: not the node's.
    for h in &mut sim.history {
        h.clear();
    }
}

fn write_log(path: &Path, records: &[Record]) {
    let mut bytes = MAGIC.to_vec();
    for r in records {
        bytes.extend(frame(r));
    }
    std::fs::write(path, bytes).expect("log written");
}

fn build_memory(path: &Path, contracts: u32, empty: u64) {
    let mut sim = network();
    let keys: Vec<Keypair> = (0..4).map(Keypair::testnet).collect();
    let mut nonces = [0u64; 4];
    let mut txs: Vec<(usize, Tx)> = vec![];
    for c in 0..contracts {
        let code = filler(c);
        let id = exec::contract_id(&code);
        let k = (c % 4) as usize;
        txs.push((k, exec::deploy(&keys[k], nonces[k], code)));
        nonces[k] += 1;
        txs.push((k, exec::call(&keys[k], nonces[k], id, vec![], 2_000_000)));
        nonces[k] += 1;
    }
    // 16 per sender at a time (the pool's window), then a block.
    let mut sent = [0u64; 4];
    let mut queue = txs.into_iter().peekable();
    while queue.peek().is_some() {
        let tip = sim.node(0).app_state().clone();
        while let Some((k, t)) = queue.peek() {
            let next = tip.nonce(&exec::address_of(&keys[*k].public));
            if sent[*k] >= next + 16 {
                break;
            }
            sent[*k] += 1;
            sim.submit(t.encode());
            let _ = t;
            queue.next();
        }
        advance(&mut sim, 1);
    }
    advance(&mut sim, 4);
    let (n, entries) = sim.node(0).app_state().storage_size();
    eprintln!(
        "built: {contracts} contracts filled in {} blocks ({n} with storage, {entries} entries)",
        sim.node(0).tip_height()
    );
    advance(&mut sim, empty);
    write_log(path, &sim.logs[0]);
}

fn build_restart(path: &Path, blocks: u64) {
    let mut sim = network();
    if let Some(n) = sim.nodes[0].as_mut() {
        n.set_snapshot_every(1_000);
    }
    let k = Keypair::testnet(0);
    let code = samples::compile(samples::BENIGN);
    let id = exec::contract_id(&code);
    sim.submit(exec::deploy(&k, 0, code).encode());
    let mut nonce = 1;
    let mut snapshot = None;
    let start = Instant::now();
    while sim.min_tip() < blocks {
        sim.submit(exec::call(&k, nonce, id, nonce.to_le_bytes().to_vec(), 100_000).encode());
        nonce += 1;
        let target = sim.min_tip() + 10;
        assert!(sim.run_until(3_600_000, |s| s.min_tip() >= target));
        for o in &sim.history[0] {
            if let Output::Snapshot(s) = o {
                snapshot = Some(s.clone());
            }
        }
        for h in &mut sim.history {
            h.clear();
        }
    }
    eprintln!(
        "built: {} blocks in {:.1} s",
        sim.node(0).tip_height(),
        start.elapsed().as_secs_f64()
    );
    write_log(path, &sim.logs[0]);
    let s = snapshot.expect("a snapshot was taken");
    sa_node::snapshot::write(&sa_node::snapshot::path_of(path), &s).expect("snapshot written");
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

fn fresh() -> Node {
    let sim = Sim::new(4, params(16), STAKE, &[]);
    Node::new(
        sim.genesis.clone(),
        sim.ring.clone(),
        Keypair::testnet(3),
        Default::default(),
    )
}

fn records_of(path: &Path) -> Vec<Record> {
    parse(path, &std::fs::read(path).expect("log read")).expect("log parses")
}

fn measure_memory(path: &Path) {
    let blocks: Vec<_> = records_of(path)
        .into_iter()
        .filter_map(|r| match r {
            Record::Accepted(b) => Some(b),
            _ => None,
        })
        .collect();
    let mut node = fresh();
    println!("height\trss_mib\tapp_states_held\tcontracts_with_storage\tstorage_entries");
    let base = rss_kib();
    for (i, b) in blocks.into_iter().enumerate() {
        let bytes = Message::Block(b).to_bytes();
        node.handle(i as u64, Input::Message { peer: 1, bytes });
        assert_eq!(node.tip_height(), i as u64 + 1, "block {} refused", i + 1);
        if (i + 1) % 100 == 0 {
            let (c, e) = node.app_state().storage_size();
            println!(
                "{}\t{:.1}\t{}\t{c}\t{e}",
                i + 1,
                rss_kib() as f64 / 1024.0,
                node.app_states_held()
            );
        }
    }
    println!(
        "# baseline (the log's blocks parsed, before the node): {:.1} MiB",
        base as f64 / 1024.0
    );
}

fn measure_restart(path: &Path) {
    let t = Instant::now();
    let records = records_of(path);
    let parse_s = t.elapsed().as_secs_f64();
    let sim = Sim::new(4, params(16), STAKE, &[]);
    let restore = |s: Option<&sa_node::snapshot::Snapshot>| {
        let t = Instant::now();
        let n = Node::restore_from(
            sim.genesis.clone(),
            sim.ring.clone(),
            Keypair::testnet(0),
            Default::default(),
            s,
            &records,
        )
        .expect("restores");
        (n, t.elapsed().as_secs_f64())
    };
    let t = Instant::now();
    let snap = sa_node::snapshot::read(&sa_node::snapshot::path_of(path))
        .expect("reads")
        .expect("there");
    let read_s = t.elapsed().as_secs_f64();
    let (a, genesis_s) = restore(None);
    let (b, snap_s) = restore(Some(&snap));
    assert_eq!(a.tip_hash(), b.tip_hash());
    assert_eq!(a.app_state(), b.app_state());
    println!(
        "records\t{}\ttip\t{}\tsnapshot_at\t{}",
        records.len(),
        a.tip_height(),
        snap.height
    );
    println!("parse_log_s\t{parse_s:.2}");
    println!("restore_from_genesis_s\t{genesis_s:.2}");
    println!("read_snapshot_s\t{read_s:.3}");
    println!("restore_from_snapshot_s\t{snap_s:.2}");
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let num = |i: usize, d: u64| args.get(i).and_then(|a| a.parse().ok()).unwrap_or(d);
    let dir: PathBuf = std::env::temp_dir().join("sa-state-bench");
    std::fs::create_dir_all(&dir).expect("dir");
    let me = std::env::current_exe().expect("exe");
    match args.first().map(String::as_str) {
        Some("child-memory") => return measure_memory(Path::new(&args[1])),
        Some("child-restart") => return measure_restart(Path::new(&args[1])),
        _ => {}
    }
    let which = args.first().cloned().unwrap_or_else(|| "all".into());
    if which == "all" || which == "memory" {
        let log = dir.join("memory.log");
        build_memory(&log, num(1, 240) as u32, num(2, 1_000));
        let ok = Command::new(&me)
            .args(["child-memory", log.to_str().expect("utf-8")])
            .status()
            .expect("child runs");
        assert!(ok.success());
    }
    if which == "all" || which == "restart" {
        let log = dir.join("restart.log");
        build_restart(&log, num(if which == "all" { 3 } else { 1 }, 10_000));
        let ok = Command::new(&me)
            .args(["child-restart", log.to_str().expect("utf-8")])
            .status()
            .expect("child runs");
        assert!(ok.success());
    }
}
