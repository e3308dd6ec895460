//! The exported traces replayed against sa-node in process.

use sa_conformance::export::export;
use sa_conformance::replay::{replay, Adapter, SaNode};
use sa_conformance::trace::{read, Big, Event, Label, Observed, Sent, Set, Value};
use sa_model::{Config, SaModel};

fn run(preset: &str, walks: usize) -> (usize, usize, Vec<String>) {
    run_with(preset, walks, &mut SaNode::default())
}

fn run_with(preset: &str, walks: usize, a: &mut dyn Adapter) -> (usize, usize, Vec<String>) {
    let m = SaModel::new(Config::preset(preset).unwrap());
    let dir = tempfile::tempdir().unwrap();
    export(&m, preset, dir.path(), walks, 1).unwrap();
    replay_dir(dir.path(), preset, a)
}

/// Replays every trace of `dir` (of `preset`); (passed, steps, failures).
fn replay_dir(
    dir: &std::path::Path,
    preset: &str,
    a: &mut dyn Adapter,
) -> (usize, usize, Vec<String>) {
    let config = Config::preset(preset).unwrap();
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let (mut passed, mut steps, mut failures) = (0, 0, vec![]);
    for f in &files {
        let t = read(&std::fs::read_to_string(f).unwrap()).unwrap();
        let node: usize = t.meta.other["node"].parse().unwrap();
        let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
        match replay(a, &config, node, &states) {
            Ok(Ok(n)) => {
                passed += 1;
                steps += n;
            }
            Ok(Err(m)) => failures.push(format!(
                "{}: state {} {}: {} expected {} got {}",
                f.file_name().unwrap().to_string_lossy(),
                m.state,
                m.event,
                m.field,
                m.expected,
                m.actual
            )),
            Err(e) => failures.push(format!("{}: {e}", f.display())),
        }
    }
    (passed, steps, failures)
}

#[test]
fn the_tiny_suite_replays_against_sa_node() {
    let (passed, steps, failures) = run("tiny", 10);
    for f in &failures {
        eprintln!("{f}");
    }
    eprintln!("passed {passed}, steps {steps}, failed {}", failures.len());
    assert!(failures.is_empty());
}

/// sa-node with one defect emulated from outside: the suite must catch each.
struct Broken {
    inner: SaNode,
    defect: Defect,
}

#[derive(Clone, Copy, Debug)]
enum Defect {
    /// Fail attestations never reach the node's logic (rusk #2301: Fail quorums ignored).
    FailIgnored,
    /// The node needs one vote more than the quorum (threshold off by one).
    ThresholdPlusOne,
    /// Finality never reaches Final (FIN-3 broken).
    NoFinal,
    /// NoCandidate votes are never cast (a Proposal timeout that does not vote).
    SilentTimeout,
    /// Soft slashes never happen (SLASH-1/2: no fault counted, nothing locked).
    NoSoftSlash,
}

impl Adapter for Broken {
    fn init(&mut self, c: &Config, n: usize, i: bool) -> Result<(), String> {
        self.inner.init(c, n, i)
    }
    fn deliver(&mut self, e: &Event, at: &Observed) -> Result<Vec<Sent>, String> {
        let e = match (self.defect, e) {
            (Defect::FailIgnored, Event::RatificationQuorum { attestation })
                if !matches!(attestation.value, Value::Valid { .. }) =>
            {
                return Ok(vec![]);
            }
            (
                Defect::ThresholdPlusOne,
                Event::ValidationQuorum {
                    value,
                    signers,
                    failed,
                },
            ) => {
                let mut s = signers.0.clone();
                s.pop();
                Event::ValidationQuorum {
                    value: *value,
                    signers: Set(s),
                    failed: failed.clone(),
                }
            }
            _ => e.clone(),
        };
        let sent = self.inner.deliver(&e, at)?;
        Ok(match self.defect {
            Defect::SilentTimeout => sent
                .into_iter()
                .filter(|s| {
                    !matches!(
                        s,
                        Sent::Vote {
                            value: Value::NoCandidate,
                            ..
                        }
                    )
                })
                .collect(),
            _ => sent,
        })
    }
    fn observe(&mut self) -> Result<Observed, String> {
        let mut o = self.inner.observe()?;
        if let Defect::NoSoftSlash = self.defect {
            for b in &mut o.ledger {
                b.stake = Big(b.stake.0 + b.locked.0);
                b.locked = Big(0);
                b.faults = Big(0);
                b.suspended_until = Big(0);
            }
        }
        if let Defect::NoFinal = self.defect {
            for c in &mut o.chain {
                if c.label == Label::Final {
                    c.label = Label::Confirmed;
                }
            }
            o.final_height = Big(0);
        }
        Ok(o)
    }
}

#[test]
fn each_broken_node_fails_a_named_trace_of_the_default_suite() {
    for defect in [
        Defect::FailIgnored,
        Defect::ThresholdPlusOne,
        Defect::NoFinal,
        Defect::SilentTimeout,
        Defect::NoSoftSlash,
    ] {
        let mut a = Broken {
            inner: SaNode::default(),
            defect,
        };
        let suite = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/default"));
        let (passed, _, failures) = replay_dir(suite, "default", &mut a);
        assert!(
            !failures.is_empty(),
            "{defect:?}: every trace passed ({passed})"
        );
        eprintln!(
            "{defect:?}: {} traces fail, first: {}",
            failures.len(),
            failures[0]
        );
    }
}

/// The TALLY-2 probes reach the membership check: every non-member vote of the suites is
/// rejected by sa-node as REJ-VOTE-NOT-MEMBER (and by nothing earlier), and changes nothing
/// (the replay compares the node after each).
#[test]
fn every_non_member_vote_of_the_suites_reaches_the_membership_check() {
    for preset in ["default", "byzantine"] {
        let dir =
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces")).join(preset);
        let mut probes = 0;
        for f in std::fs::read_dir(&dir).unwrap() {
            let t = read(&std::fs::read_to_string(f.unwrap().path()).unwrap()).unwrap();
            probes += t
                .states
                .iter()
                .filter(|s| {
                    matches!(s.value.event, Event::Vote { .. }) && s.value.sent.0.is_empty()
                })
                .count();
        }
        let mut a = SaNode::default();
        let (passed, _, failures) = replay_dir(&dir, preset, &mut a);
        assert!(failures.is_empty(), "{failures:?}");
        assert!(passed > 0 && probes > 100, "{preset}: {probes} probes");
        assert_eq!(
            a.rejected.get("REJ-VOTE-NOT-MEMBER").copied().unwrap_or(0),
            probes,
            "{preset}: {:?}",
            a.rejected
        );
        eprintln!(
            "{preset}: {probes} non-member votes, rejections {:?}",
            a.rejected
        );
    }
}

/// The equivocation probes (SLASH-4): each suite holds traces ending in a second candidate,
/// a second Validation vote and a second Ratification vote of one author, each expecting a
/// fault proof against that author and nothing else; sa-node outputs exactly that (a node
/// that only drops the second message fails them: conformance/tests/broken_variants.rs).
#[test]
fn every_equivocation_probe_ends_in_the_fault_proof_it_expects() {
    for preset in ["default", "byzantine"] {
        let dir =
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces")).join(preset);
        let mut kinds = std::collections::BTreeMap::new();
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|f| f.unwrap().path())
            .collect();
        files.sort();
        let mut a = SaNode::default();
        let config = Config::preset(preset).unwrap();
        for f in files {
            let name = f.file_name().unwrap().to_string_lossy().to_string();
            let Some(kind) = name.strip_prefix("equivocation-") else {
                continue;
            };
            let kind = kind.split('-').next().unwrap().to_string();
            let t = read(&std::fs::read_to_string(&f).unwrap()).unwrap();
            let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
            let last = states.last().unwrap();
            assert!(
                matches!(&last.sent.0[..], [Sent::FaultProof { .. }]),
                "{name}: {:?}",
                last.sent
            );
            let node: usize = t.meta.other["node"].parse().unwrap();
            assert_eq!(
                replay(&mut a, &config, node, &states),
                Ok(Ok(states.len() - 1)),
                "{name}"
            );
            *kinds.entry(kind).or_insert(0) += 1;
        }
        eprintln!("{preset}: equivocation probes {kinds:?}");
        for kind in ["candidate", "validation", "ratification"] {
            assert!(
                kinds.get(kind).copied().unwrap_or(0) >= 2,
                "{preset}: {kinds:?}"
            );
        }
    }
}

/// REW-3 as both sides apply it: in `byzantine` random walks (seed 1), some trace shows a
/// provisioner's soft fault count go back to 0 while its slash stays (its reward as the
/// generator of the parent block), and every trace replays. The model once kept the count:
/// walk 222 of this export failed on `node.ledger[P1].faults`.
#[test]
fn the_generators_reward_resets_its_fault_count_in_model_and_node() {
    let m = SaModel::new(Config::preset("byzantine").unwrap());
    let dir = tempfile::tempdir().unwrap();
    export(&m, "byzantine", dir.path(), 300, 1).unwrap();
    let mut resets = 0;
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let t = read(&std::fs::read_to_string(f.unwrap().path()).unwrap()).unwrap();
        for w in t.states.windows(2) {
            let (a, b) = (&w[0].value.node.ledger, &w[1].value.node.ledger);
            resets += a
                .iter()
                .zip(b)
                .filter(|(x, y)| x.faults.0 > 0 && y.faults.0 == 0 && y.locked.0 > 0)
                .count();
        }
    }
    assert!(resets > 0, "no fault count reset in 300 walks");
    let (passed, _, failures) = replay_dir(dir.path(), "byzantine", &mut SaNode::default());
    assert!(failures.is_empty(), "{failures:?}");
    assert!(passed > 900);
}

/// The ledger classes reach the checked-in default suite: some trace shows a hard slash
/// (a block carrying a Fail(Invalid) attestation: SLASH-4) and some a soft slash (SLASH-2),
/// and the suite passes (conformance/tests/suite.rs), so sa-node's ledger agrees on both.
#[test]
fn the_default_suite_holds_a_hard_and_a_soft_slash() {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces/default"));
    let (mut hard, mut soft) = (0, 0);
    for f in std::fs::read_dir(&dir).unwrap() {
        let t = read(&std::fs::read_to_string(f.unwrap().path()).unwrap()).unwrap();
        let last = &t.states.last().unwrap().value.node.ledger;
        hard += usize::from(last.iter().any(|b| b.hard_faults.0 > 0));
        soft += usize::from(last.iter().any(|b| b.locked.0 > 0));
    }
    assert!(hard > 0 && soft > 1, "hard {hard}, soft {soft}");
}

/// Traces of `suite` whose last state shows a provisioner with a soft fault counted and no
/// suspension (a warning given).
fn warned(suite: &str) -> usize {
    let dir = std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces")).join(suite);
    let mut warned = 0;
    for f in std::fs::read_dir(&dir).unwrap() {
        let t = read(&std::fs::read_to_string(f.unwrap().path()).unwrap()).unwrap();
        let last = &t.states.last().unwrap().value.node.ledger;
        warned += usize::from(
            last.iter()
                .any(|b| b.faults.0 > 0 && b.suspended_until.0 == 0 && b.locked.0 == 0),
        );
    }
    warned
}

/// The `warnings` suite (WARNINGS = 1) holds traces in which a provisioner has a soft fault
/// counted and is not suspended: the warning of SLASH-1 given, where the default suite
/// (WARNINGS = 0) holds soft faults only with their suspension.
#[test]
fn the_warnings_suite_gives_warnings() {
    let w = warned("warnings");
    assert!(w > 0, "no warning given in the warnings suite");
    assert_eq!(warned("default"), 0, "a warning under WARNINGS = 0");
    println!("{w} traces of the warnings suite end with a warning given");
}

/// The defective-candidate traces reach the check each names: in every suite, each defect of
/// `DEFECTS` has its trace, and sa-node refuses that candidate for exactly the reason the
/// defect is about (its REJ code, spec/node.md), nothing else, and stays as it was (the
/// replay compares the node and expects nothing sent).
#[test]
fn every_defective_candidate_is_refused_for_its_defect() {
    use sa_conformance::trace::DEFECTS;
    let code = |defect: &str| match defect {
        "parent" => "REJ-CANDIDATE-PARENT",
        "iteration" => "REJ-CANDIDATE-ITERATION",
        "generator" => "REJ-CANDIDATE-GENERATOR",
        "timestamp-past" => "REJ-CANDIDATE-TIMESTAMP-PAST",
        "timestamp-future" => "REJ-CANDIDATE-TIMESTAMP-FUTURE",
        "signature" => "REJ-CANDIDATE-SIGNATURE",
        "seed" => "REJ-CANDIDATE-SEED",
        "payload-root" => "REJ-CANDIDATE-PAYLOAD-ROOT",
        "faults-root" => "REJ-CANDIDATE-FAULTS-ROOT",
        "too-many-faults" => "REJ-CANDIDATE-TOO-MANY-FAULTS",
        "fault-proof-future" | "fault-proof-old" => "REJ-FAULT-TOO-OLD",
        "fault-proof-emergency" => "REJ-FAULT-EMERGENCY",
        d if d.starts_with("fault-") => "REJ-FAULT-INVALID",
        "failed-length" => "REJ-FAILED-ITERATIONS-LENGTH",
        "failed-forged" | "failed-generator" | "failed-short" => "REJ-FAILED-ITERATION",
        "block-attestation-forged" | "block-attestation-other" => "REJ-BLOCK-ATTESTATION",
        _ => "REJ-PREV-ATTESTATION",
    };
    let mut probed = std::collections::BTreeSet::new();
    for preset in ["default", "byzantine", "emergency", "warnings"] {
        let dir =
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces")).join(preset);
        let config = Config::preset(preset).unwrap();
        for (defect, needs) in DEFECTS {
            let f = dir.join(format!("defect-{defect}.itf.json"));
            let Ok(text) = std::fs::read_to_string(&f) else {
                // Only a defect whose position the configuration never has may be absent.
                assert!(
                    needs == "past-epoch" || needs == "emergency",
                    "{preset}: no trace for defect {defect}"
                );
                continue;
            };
            probed.insert(defect);
            let t = read(&text).unwrap();
            let node: usize = t.meta.other["node"].parse().unwrap();
            let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
            let last = states.last().unwrap();
            assert!(
                matches!(&last.event, Event::Defective { defect: d, .. } if d == defect)
                    && last.sent.0.is_empty()
                    && last.node == states[states.len() - 2].node,
                "{preset}/{defect}: the trace must end in the defect, expecting nothing"
            );
            // The prefix alone, then the whole trace: the difference is the probe's.
            let n = states.len();
            let mut prefix = SaNode::default();
            assert!(matches!(
                replay(&mut prefix, &config, node, &states[..n - 1]),
                Ok(Ok(_))
            ));
            let mut a = SaNode::default();
            let r = replay(&mut a, &config, node, &states).unwrap();
            assert!(r.is_ok(), "{preset}/{defect}: {r:?}");
            let mut added = a.rejected.clone();
            for (k, v) in &prefix.rejected {
                *added.get_mut(k).unwrap() -= v;
            }
            added.retain(|_, v| *v > 0);
            let want: std::collections::BTreeMap<String, usize> =
                [(code(defect).to_string(), 1)].into();
            assert_eq!(added, want, "{preset}/{defect}");
        }
    }
    assert_eq!(probed.len(), DEFECTS.len(), "a defect no suite probes");
}

/// Candidates at an edge the spec allows (valid fault proofs of both kinds, the most proofs a
/// block may carry, a proof exactly one epoch old, a timestamp exactly at the future bound):
/// in the suites, each edge has its trace in at least one suite, sa-node takes each candidate
/// as the genuine one (the outputs and state the model gives for the genuine candidate, and no
/// rejection at all), and the same trace fails against a node that refuses the candidate (the
/// edge replaced by a defect): the probe can fail.
#[test]
fn every_candidate_at_an_edge_is_taken_as_the_genuine_one() {
    use sa_conformance::trace::EDGES;
    /// sa-node, with every `Edge` event turned into a defective candidate.
    struct Refusing(SaNode);
    impl Adapter for Refusing {
        fn init(&mut self, c: &Config, node: usize, invalid: bool) -> Result<(), String> {
            self.0.init(c, node, invalid)
        }
        fn deliver(&mut self, event: &Event, at: &Observed) -> Result<Vec<Sent>, String> {
            let e = match event {
                Event::Edge { block, .. } => Event::Defective {
                    block: block.clone(),
                    defect: "fault-votes-signer".into(),
                },
                e => e.clone(),
            };
            self.0.deliver(&e, at)
        }
        fn observe(&mut self) -> Result<Observed, String> {
            self.0.observe()
        }
    }
    let mut probed = std::collections::BTreeMap::new();
    for preset in ["default", "byzantine", "emergency", "warnings"] {
        let dir =
            std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces")).join(preset);
        let config = Config::preset(preset).unwrap();
        for (edge, _) in EDGES {
            let Ok(text) = std::fs::read_to_string(dir.join(format!("edge-{edge}.itf.json")))
            else {
                continue;
            };
            *probed.entry(edge).or_insert(0) += 1;
            let t = read(&text).unwrap();
            let node: usize = t.meta.other["node"].parse().unwrap();
            let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
            let last = states.last().unwrap();
            assert!(
                matches!(&last.event, Event::Edge { edge: e, .. } if e == edge)
                    && last.sent.0.iter().any(|m| matches!(m, Sent::Vote { .. })),
                "{preset}/{edge}: the trace must end in the edge, expecting a vote"
            );
            let mut prefix = SaNode::default();
            let r = replay(&mut prefix, &config, node, &states[..states.len() - 1]).unwrap();
            assert!(r.is_ok(), "{preset}/{edge}: the prefix {r:?}");
            let mut a = SaNode::default();
            let r = replay(&mut a, &config, node, &states).unwrap();
            assert!(r.is_ok(), "{preset}/{edge}: {r:?}");
            assert_eq!(a.rejected, prefix.rejected, "{preset}/{edge}: a rejection");
            let mut refusing = Refusing(SaNode::default());
            let r = replay(&mut refusing, &config, node, &states).unwrap();
            assert!(r.is_err(), "{preset}/{edge}: a refusing node passes");
        }
    }
    assert_eq!(
        probed.len(),
        EDGES.len(),
        "an edge no suite probes: {probed:?}"
    );
}
