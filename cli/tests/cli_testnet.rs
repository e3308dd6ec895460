//! The real testnet: node processes on loopback, driven through `sa testnet --json`.

use std::process::Command;

use serde_json::Value;

/// Testnets are timing-sensitive: run one at a time even when tests run in parallel.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn sa(args: &[&str]) -> (i32, Value, String) {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let out = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(args)
        .output()
        .expect("sa runs");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let v = serde_json::from_str(&stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, stderr)
}

fn no_violations(v: &Value) {
    assert_eq!(v["violations"], Value::Array(vec![]), "violations: {v}");
}

/// Starts `sa testnet --nodes 4 --blocks B --duration S --dir D --json` in the background.
fn spawn_testnet(d: &std::path::Path, blocks: &str, duration: &str) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_sa"))
        .args([
            "testnet",
            "--nodes",
            "4",
            "--blocks",
            blocks,
            "--duration",
            duration,
        ])
        .args(["--dir", d.to_str().unwrap(), "--json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `file` contains `needle` (a guard against a hang, not a timing assertion).
fn wait_for(file: &std::path::Path, needle: &str) -> bool {
    for _ in 0..600 {
        if std::fs::read_to_string(file).is_ok_and(|s| s.contains(needle)) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    false
}

#[test]
fn seven_nodes_two_absent_keep_finalizing() {
    let (code, v, err) = sa(&[
        "testnet",
        "--nodes",
        "7",
        "--absent",
        "2",
        "--blocks",
        "6",
        "--duration",
        "60",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    no_violations(&v);
    assert_eq!(v["absence_bound"], 2);
    assert!(v["height"].as_u64().unwrap() >= 6, "{v}");
    assert!(v["final_height"].as_u64().unwrap() >= 3, "{v}");
}

#[test]
fn past_the_bound_no_block_and_no_final_reverted() {
    // Three of seven nodes are killed at 3 s (bound: 2): blocks stop, nothing Final reverts.
    let (code, v, err) = sa(&[
        "testnet",
        "--nodes",
        "7",
        "--crash",
        "4@3",
        "--crash",
        "5@3",
        "--crash",
        "6@3",
        "--blocks",
        "1000",
        "--duration",
        "12",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    no_violations(&v);
    assert!(
        v["final_height"].as_u64().unwrap() >= 2,
        "blocks were Final before: {v}"
    );
    // Events, not wall-clock: after the crashes at most the round already in flight ends.
    let after = v["heights_after_last_crash"].as_u64().unwrap();
    assert!(after <= 1, "{after} blocks accepted after the crash: {v}");
}

#[test]
fn kill_and_restart_mid_round_never_double_votes() {
    let dir = tempfile::tempdir().unwrap();
    let kept = dir.path().join("net");
    let (code, v, err) = sa(&[
        "testnet",
        "--dir",
        kept.to_str().unwrap(),
        "--nodes",
        "7",
        "--crash",
        "1@1.3+0.7",
        "--crash",
        "3@2.25+0.1",
        "--crash",
        "1@3.6+0.05",
        "--crash",
        "5@4.1+0.4",
        "--blocks",
        "12",
        "--duration",
        "60",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    // A restarted node that signed a second, different vote would be caught by every peer
    // (TALLY-3 fault proof) and reported as a SAFE-VOTE-UNIQUE violation.
    no_violations(&v);
    assert_eq!(v["detected_faults"], 0);
    assert!(v["height"].as_u64().unwrap() >= 12, "{v}");
    // Each node's events are kept beside its config, across restarts: node 1 ran three times,
    // node 3 twice, node 0 once.
    let starts = |i: u32| {
        let text = std::fs::read_to_string(kept.join(format!("node{i}.events.jsonl"))).unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .filter(|e| e["event"] == "started")
            .count()
    };
    assert_eq!((starts(0), starts(1), starts(3)), (1, 3, 2));
    // Each of the four restarts (node 1 twice, nodes 3 and 5 once) was compared with what the
    // killed process had reported accepting.
    assert_eq!(v["restarts_checked"], 4, "{v}");
    assert_eq!(v["lost_blocks"], Value::Array(vec![]));
    // A kept directory is never reused: its logs belong to another genesis.
    let (code, _, err) = sa(&["testnet", "--dir", kept.to_str().unwrap(), "--nodes", "4"]);
    assert_eq!(code, 2);
    assert!(err.contains("exists and is not empty"), "{err}");
}

#[test]
fn an_equivocating_node_is_caught() {
    // The broken variant of the check above: a node that does double-vote is detected.
    let (code, v, err) = sa(&[
        "testnet",
        "--nodes",
        "5",
        "--misbehave",
        "2:double-vote",
        "--blocks",
        "4",
        "--duration",
        "30",
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(v["detected_faults"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn hostile_contracts_in_every_block_are_contained_and_blocks_become_final() {
    // `--hostile-load`: every hostile sample contract is deployed and called in (nearly)
    // every block; each fails for its own reason, blocks keep coming and become Final.
    // `--attack-load` adds the state attacks of issue 29 (a forged sender, an empty account,
    // a replay, 100 junk calls): every node refuses them and the state roots agree.
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, v, err) = sa(&[
        "testnet",
        "--nodes",
        "4",
        "--hostile-load",
        "--attack-load",
        "--blocks",
        "10",
        "--duration",
        "60",
        "--dir",
        d,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    no_violations(&v);
    assert!(v["height"].as_u64().unwrap() >= 10, "{v}");
    assert!(v["final_height"].as_u64().unwrap() >= 6, "{v}");
    assert!(v["transactions_included"].as_u64().unwrap() >= 50, "{v}");
    let failed = &v["transactions_failed"];
    for code in [
        "out-of-gas",
        "out-of-memory",
        "stack-overflow",
        "trap",
        "host-refused",
        "bad-interface",
        "invalid-module",
    ] {
        assert!(failed[code].as_u64().unwrap_or(0) >= 1, "{code}: {v}");
    }
    // At least one round of attacks reached every node and was refused (103 transactions).
    assert!(v["rejected"].as_u64().unwrap() >= 4 * 103, "{v}");
    let (code, inspect, err) = sa(&["inspect", d, "--json"]);
    assert_eq!(code, 0, "{err}");
    let roots: Vec<&str> = inspect["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["tip"] == inspect["nodes"][0]["tip"])
        .map(|n| n["state_root"].as_str().unwrap())
        .collect();
    assert!(roots.len() >= 2, "{inspect}");
    assert!(roots.iter().all(|r| *r == roots[0]), "{roots:?}");
}

#[test]
fn bad_arguments_are_rejected_with_exit_2() {
    let (code, _, err) = sa(&["testnet", "--nodes", "3", "--absent", "3"]);
    assert_eq!(code, 2);
    assert!(err.contains("--absent 3 leaves no node running"), "{err}");
    let (code, _, err) = sa(&["testnet", "--crash", "two@5"]);
    assert_eq!(code, 2);
    assert!(err.contains("NODE@SECONDS"), "{err}");
    let (code, _, err) = sa(&["testnet", "--blocks", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--blocks must be at least 1"), "{err}");
    let (code, _, err) = sa(&["testnet", "--misbehave", "1:sleepy"]);
    assert_eq!(code, 2);
    assert!(err.contains("--misbehave"), "{err}");
    let (code, _, err) = sa(&["testnet", "--finality", "fast"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--finality \"fast\": one of dusk, sm-fail, closed"),
        "{err}"
    );
    let (code, _, err) = sa(&["testnet", "--schedule", "no-such-schedule"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("nor a built-in schedule: async-final"),
        "{err}"
    );
    // A schedule whose rule names a node the network does not have is refused before anything
    // starts, naming the file, the rule and the field; so is an unknown field.
    let d = tempfile::tempdir().expect("tmp");
    for (text, needle) in [
        (
            "[[rule]]\nto = [9]\naction = \"drop\"\n",
            "rule[0].to: provisioner 9 does not exist",
        ),
        (
            "[[rule]]\naction = \"drop\"\nsender = 1\n",
            "unknown field `sender`",
        ),
    ] {
        let f = d.path().join("schedule.toml");
        std::fs::write(&f, text).expect("write");
        let net = d.path().join("net");
        let (code, _, err) = sa(&[
            "testnet",
            "--nodes",
            "4",
            "--schedule",
            f.to_str().expect("utf-8"),
            "--dir",
            net.to_str().expect("utf-8"),
        ]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(!net.exists(), "nothing written for a refused schedule");
    }
}

#[test]
fn a_corrupt_log_is_reported_not_used_and_a_torn_tail_is_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, v, err) = sa(&[
        "testnet",
        "--nodes",
        "4",
        "--blocks",
        "3",
        "--duration",
        "30",
        "--dir",
        d,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(v["height"].as_u64().unwrap() >= 3);
    let log = dir.path().join("node0").join("node.log");
    let mut bytes = std::fs::read(&log).unwrap();
    let n = bytes.len();
    bytes[n - 5] ^= 0x40;
    std::fs::write(&log, &bytes).unwrap();
    let cfg = dir.path().join("node0.toml");
    let out = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(["node", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("checksum mismatch in record"), "{err}");
    // A torn tail (the last append cut short) is repaired: the node says so and starts.
    bytes[n - 5] ^= 0x40;
    std::fs::write(&log, &bytes[..n - 3]).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(["node", "--config", cfg.to_str().unwrap()])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    // Events in order: the repair warning, then `started` (a guard, not a timing assertion).
    let mut events = Vec::new();
    while let Ok(line) = rx.recv_timeout(std::time::Duration::from_secs(120)) {
        let started = line.contains("\"started\"");
        events.push(line);
        if started {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(
        events.last().is_some_and(|l| l.contains("\"started\"")),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|l| l.contains("log repaired: a torn tail")),
        "{events:?}"
    );
    let saved = std::fs::read_dir(dir.path().join("node0"))
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("node.log.torn-")
        });
    assert!(saved, "the log as found is kept");
}

#[test]
fn a_node_that_exits_unexpectedly_is_reported_and_fails_the_run() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("run");
    let child = spawn_testnet(&d, "1000", "10");
    assert!(
        wait_for(&d.join("node3.events.jsonl"), "\"started\""),
        "node 3 never started"
    );
    // Node 3 is killed behind the runner's back.
    let cfg = d.join("node3.toml");
    let killed = Command::new("pkill")
        .args(["-KILL", "-f", cfg.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(killed.success(), "node 3's process was found and killed");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let exits = v["unexpected_exits"].as_array().unwrap();
    assert_eq!(exits.len(), 1, "{v}");
    assert!(
        exits[0]
            .as_str()
            .unwrap()
            .starts_with("n3 exited unexpectedly"),
        "{v}"
    );
}

#[test]
fn ctrl_c_stops_the_nodes_and_prints_the_summary() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("run");
    let child = spawn_testnet(&d, "100000", "120");
    assert!(
        wait_for(&d.join("node0.events.jsonl"), "\"accepted\""),
        "no block accepted"
    );
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130));
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["interrupted"], true, "{v}");
    assert_eq!(v["unexpected_exits"], Value::Array(vec![]), "{v}");
    assert!(v["height"].as_u64().unwrap() >= 1, "{v}");
    no_violations(&v);
}

#[test]
fn inspect_shows_one_ledger_per_block_across_nodes_and_a_torn_log() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("run");
    let ds = d.to_str().unwrap();
    let (code, v, err) = sa(&[
        "testnet",
        "--nodes",
        "5",
        "--blocks",
        "4",
        "--duration",
        "60",
        "--dir",
        ds,
        "--json",
    ]);
    assert_eq!(code, 0, "{err}");
    no_violations(&v);
    let inspect = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_sa"))
            .args(args)
            .output()
            .unwrap();
        let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (out.status.code(), v)
    };
    let (code, r) = inspect(&["inspect", ds, "--json"]);
    assert_eq!(code, Some(0), "{r}");
    let nodes = r["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 5);
    assert_eq!(r["ledger_disagreements"], Value::Array(vec![]));
    // Every node holds blocks, and nodes holding a block agree on the ledger after it.
    let mut compared = 0;
    for h in 0..3usize {
        let first = &nodes[0]["chain"][h];
        for n in nodes {
            let e = &n["chain"][h];
            if e["hash"] == first["hash"] {
                assert_eq!(e["ledger_digest"], first["ledger_digest"]);
                compared += 1;
            }
        }
    }
    assert!(compared >= 10, "{compared}");
    // A torn tail is reported (and left for the node to repair).
    let log = d.join("node1").join("node.log");
    let bytes = std::fs::read(&log).unwrap();
    std::fs::write(&log, &bytes[..bytes.len() - 3]).unwrap();
    let (code, r) = inspect(&["inspect", d.join("node1.toml").to_str().unwrap(), "--json"]);
    assert_eq!(code, Some(0));
    let state = r["nodes"][0]["log_state"].as_str().unwrap();
    assert!(state.starts_with("torn tail"), "{state}");
    assert_eq!(
        std::fs::read(&log).unwrap().len(),
        bytes.len() - 3,
        "inspect reads only"
    );
}

/// Peak resident memory of the process whose command line mentions `needle`, in KiB.
fn peak_kib_of(needle: &str) -> Option<u64> {
    let out = Command::new("pgrep").args(["-f", needle]).output().ok()?;
    let pid = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()?
        .trim()
        .to_string();
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_flood_of_connections_and_junk_frames_leaves_memory_bounded_and_blocks_coming() {
    let _guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("run");
    let child = spawn_testnet(&d, "8", "120");
    assert!(
        wait_for(&d.join("node0.events.jsonl"), "\"started\""),
        "node 0 never started"
    );
    let cfg = std::fs::read_to_string(d.join("node0.toml")).unwrap();
    let listen = cfg
        .lines()
        .find_map(|l| l.strip_prefix("listen = "))
        .unwrap()
        .trim_matches('"')
        .to_string();
    // 40 connections (the node keeps at most its 3 peers + 16), each sending 100 junk frames
    // of 64 KiB as fast as the socket takes them: 256 MB offered.
    let frame = {
        let mut f = (65_536u32).to_be_bytes().to_vec();
        f.extend(std::iter::repeat_n(0xA5u8, 65_536));
        f
    };
    let floods: Vec<_> = (0..40)
        .map(|_| {
            let (listen, frame) = (listen.clone(), frame.clone());
            std::thread::spawn(move || {
                use std::io::Write;
                let mut sent = 0u64;
                if let Ok(mut s) = std::net::TcpStream::connect(&listen) {
                    for _ in 0..100 {
                        if s.write_all(&frame).is_err() {
                            break;
                        }
                        sent += frame.len() as u64;
                    }
                }
                sent
            })
        })
        .collect();
    let sent: u64 = floods.into_iter().map(|t| t.join().unwrap()).sum();
    let peak = peak_kib_of(d.join("node0.toml").to_str().unwrap()).expect("node 0 runs");
    let out = child.wait_with_output().unwrap();
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    println!("flood: {sent} bytes accepted by the sockets; node 0 peak memory {peak} KiB");
    no_violations(&v);
    assert_eq!(v["unexpected_exits"], Value::Array(vec![]), "{v}");
    assert!(
        v["height"].as_u64().unwrap() >= 8,
        "blocks kept coming: {v}"
    );
    // 19 connections × 8 MiB inbound budget, plus the node itself: well under 512 MiB.
    assert!(peak < 512 * 1024, "node 0 peaked at {peak} KiB");
}

#[test]
fn soak_kills_at_random_instants_lose_nothing_and_every_node_comes_back() {
    // `sa soak` small: 8 seeded kills of 4 nodes (bound 1: one down at a time).
    let (code, v, err) = sa(&[
        "soak", "--nodes", "4", "--kills", "8", "--seed", "5", "--settle", "10", "--json",
    ]);
    assert_eq!(code, 0, "{err}\n{v}");
    assert_eq!(v["verdict"], "PASS");
    let t = &v["testnet"];
    // Every kill restarted and checked, unless it struck before the process reported its start.
    let checked = t["restarts_checked"].as_u64().unwrap();
    assert!((6..=8).contains(&checked), "{v}");
    assert_eq!(t["lost_blocks"], Value::Array(vec![]));
    assert_eq!(t["not_back"], Value::Array(vec![]));
    assert_eq!(v["double_votes"], Value::Array(vec![]));
    assert_eq!(v["final_reverts"], Value::Array(vec![]));
    assert_eq!(v["ledger_disagreements"], Value::Array(vec![]));
    // The logs were read back: votes of every node, across their restarts.
    assert!(v["votes_in_logs"].as_u64().unwrap() > 20, "{v}");
    assert!(t["final_height"].as_u64().unwrap() > 0, "{v}");
}

#[test]
fn genesis_writes_files_that_sa_node_runs_as_the_readme_says() {
    let guard = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // Four consecutive free ports (probed, then released).
    let base = (20_000u16..60_000)
        .step_by(7)
        .find(|p| {
            (0..4)
                .map(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)))
                .all(|l| l.is_ok())
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let net = dir.path().join("net");
    let out = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(["genesis", "--nodes", "4", "--out", net.to_str().unwrap()])
        .args(["--base-port", &base.to_string()])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut nodes: Vec<std::process::Child> = (0..4)
        .map(|i| {
            let events = std::fs::File::create(net.join(format!("n{i}.out"))).unwrap();
            Command::new(env!("CARGO_BIN_EXE_sa"))
                .args(["node", "--config"])
                .arg(net.join(format!("node{i}.toml")))
                .stdout(events)
                .spawn()
                .unwrap()
        })
        .collect();
    let got = (0..4).all(|i| wait_for(&net.join(format!("n{i}.out")), "\"height\":3"));
    for n in &mut nodes {
        let _ = n.kill();
        let _ = n.wait();
    }
    assert!(got, "every node of the written network reaches height 3");
    // A second run into the same directory is refused, nothing overwritten.
    let again = Command::new(env!("CARGO_BIN_EXE_sa"))
        .args(["genesis", "--out", net.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(2));
    drop(guard);
    // And the inspection of what they wrote agrees on every ledger.
    let (code, v, err) = sa(&["inspect", net.to_str().unwrap(), "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["ledger_disagreements"], Value::Array(vec![]));
    assert_eq!(v["nodes"][0]["state_root"].as_str().unwrap().len(), 64);
}

#[test]
fn the_campaign_command_counts_every_reason_and_passes() {
    let (code, v, err) = sa(&["campaign", "--messages", "5000", "--seed", "2", "--json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["verdict"], "PASS");
    assert_eq!(v["panics"], 0);
    assert_eq!(v["rejected_but_changed"], 0);
    assert_eq!(v["never_hit"], Value::Array(vec![]));
    // Every reason but the defensive REJ-CANDIDATE-HEIGHT (REJ-TRANSACTION included).
    assert_eq!(v["rejected"].as_object().unwrap().len(), 37, "{v}");
    let (code, _, err) = sa(&["campaign", "--messages", "0"]);
    assert_eq!(code, 2, "{err}");
}

/// The events of one node of a kept testnet directory, as JSON values.
fn events_of(dir: &std::path::Path, node: u32) -> Vec<Value> {
    std::fs::read_to_string(dir.join(format!("node{node}.events.jsonl")))
        .expect("an events file")
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The built-in `async-final` schedule (issue 31; spec/incidents.md, "Asynchrony through
/// finality") on real sa-node processes: four honest provisioners with the preset's stakes and
/// seed, only message timing chosen. Under Dusk's finality rule P1 makes a PNI-1 block Final
/// while iteration 0 of round 1 can still succeed; when its held votes arrive, P3 forms that
/// Success and the other nodes fall back to it and finalize it: the monitor reports two Final
/// blocks at height 1. The same schedule under VAR-FIN-CLOSED finalizes nothing that conflicts
/// (P1 never makes the PNI-1 block Final, so it falls back too).
#[test]
fn the_async_final_schedule_forks_sa_node_under_dusks_rule_and_not_under_the_closed_variant() {
    let run = |finality: &str| {
        let d = tempfile::tempdir().expect("tmp");
        let dir = d.path().join("net");
        let (code, v, stderr) = sa(&[
            "testnet",
            "--schedule",
            "async-final",
            "--time-scale",
            "0.1",
            "--duration",
            "22",
            "--blocks",
            "100",
            "--finality",
            finality,
            "--dir",
            dir.to_str().expect("utf-8"),
            "--json",
        ]);
        assert_eq!(v["nodes"], 4, "the schedule's network: {stderr}");
        assert_eq!(v["committee"], 7);
        let fallbacks: Vec<u32> = (0..4)
            .filter(|&n| events_of(&dir, n).iter().any(|e| e["event"] == "fallback"))
            .collect();
        (code, v, fallbacks)
    };
    let (code, v, fallbacks) = run("dusk");
    assert_eq!(code, 1, "a violation fails the run: {v}");
    let violations = v["violations"].as_array().expect("a list");
    assert!(!violations.is_empty(), "{v}");
    for x in violations {
        assert_eq!(x["property"], "SAFE-FINAL-AGREEMENT", "{v}");
        let detail = x["detail"].as_str().expect("text");
        assert!(
            detail.contains("and n1 hold different Final blocks at height 1"),
            "{detail}"
        );
    }
    // The mechanism: P0 and P2 fell back (FORK-1) from the block P1 holds as Final.
    assert!(
        fallbacks.contains(&0) && fallbacks.contains(&2),
        "{fallbacks:?}"
    );
    assert!(!fallbacks.contains(&1), "P1 held its block as Final");

    let (code, v, fallbacks) = run("closed");
    assert_eq!(code, 0, "{v}");
    no_violations(&v);
    assert!(v["final_height"].as_u64().expect("a height") >= 1, "{v}");
    // The same timing: this time P1 falls back with the others.
    assert!(fallbacks.contains(&1), "{fallbacks:?}");
}
