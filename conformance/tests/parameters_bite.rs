//! Every protocol parameter sa-node's rules depend on bites somewhere in the checked-in suites
//! (issue 35): for each parameter, the suites are replayed against sa-node started with that
//! one parameter changed (the traces, exported with the preset's value, are not), and at least
//! one trace must diverge. A parameter whose change no trace notices is a rule the suites do
//! not exercise: the test names it.
//!
//! The change is made where the adapter starts the node (`Adapter::init`), so the expected
//! states stay the model's. A change the node refuses at start (an adapter error) does not
//! count as a divergence. Measured (656 traces of the four suites): committee_credits + 1
//! diverges on 146, max_iterations + 1 on 63 (8 refused by the node at start), relaxed
//! iterations on 18, emergency_iteration on 175, epoch + 1 on 50, minimum_stake above the
//! least stake on 117 (521 refused: with equal stakes no provisioner is then eligible;
//! `byzantine`'s unequal stakes carry it), soft_slash_warnings on 26, 2 of them in the
//! `warnings` suite (WARNINGS = 1, the spec's value: its warning then becomes a suspension).

use std::path::PathBuf;

use sa_conformance::replay::{replay, Adapter, SaNode};
use sa_conformance::trace::{read, Event, Observed, Sent};
use sa_model::Config;

/// sa-node with one parameter of every configuration changed before it starts.
struct Changed {
    inner: SaNode,
    change: Change,
}

impl Adapter for Changed {
    fn init(&mut self, config: &Config, node: usize, invalid: bool) -> Result<(), String> {
        let mut c = config.clone();
        (self.change)(&mut c);
        self.inner.init(&c, node, invalid)
    }
    fn deliver(&mut self, event: &Event, at: &Observed) -> Result<Vec<Sent>, String> {
        self.inner.deliver(event, at)
    }
    fn observe(&mut self) -> Result<Observed, String> {
        self.inner.observe()
    }
}

/// A change of one parameter.
type Change = fn(&mut Config);

const SUITES: [&str; 4] = ["default", "byzantine", "emergency", "warnings"];

/// What a replay with one change gave.
#[derive(Default)]
struct Outcome {
    traces: usize,
    diverged: usize,
    /// Traces the node refused to start.
    errors: usize,
    /// Diverged traces per suite.
    per_suite: std::collections::BTreeMap<&'static str, usize>,
    /// The first divergence's trace and field.
    first: Option<String>,
    /// The first refusal at start.
    refusal: Option<String>,
}

fn replay_changed(change: Change) -> Outcome {
    let mut a = Changed {
        inner: SaNode::default(),
        change,
    };
    let mut o = Outcome::default();
    for preset in SUITES {
        let config = Config::preset(preset).expect("preset");
        let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/traces")).join(preset);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("suite")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for f in &files {
            let t = read(&std::fs::read_to_string(f).expect("readable")).expect("a trace");
            let node: usize = t.meta.other["node"].parse().expect("node index");
            let states: Vec<_> = t.states.into_iter().map(|s| s.value).collect();
            o.traces += 1;
            match replay(&mut a, &config, node, &states) {
                Ok(Ok(_)) => {}
                Ok(Err(m)) => {
                    o.diverged += 1;
                    *o.per_suite.entry(preset).or_default() += 1;
                    o.first.get_or_insert_with(|| {
                        format!(
                            "{preset}/{}: state {} field {}",
                            f.file_name().unwrap_or_default().to_string_lossy(),
                            m.state,
                            m.field
                        )
                    });
                }
                Err(e) => {
                    o.errors += 1;
                    o.refusal.get_or_insert(e);
                }
            }
        }
    }
    o
}

/// The parameters sa-node's rules read (sa-node's `Params` as the adapter fills them), each
/// with a change away from every suite's value.
fn changes() -> Vec<(&'static str, Change)> {
    vec![
        ("committee_credits (QUORUM-1/2, SORT-*)", |c| {
            c.protocol.committee_credits += 1;
            c.protocol.supermajority = None;
            c.protocol.majority = None;
        }),
        ("max_iterations (ITER-*)", |c| {
            c.protocol.max_iterations += 1
        }),
        ("relaxed_iterations (FAIL-1, PNI)", |c| {
            c.protocol.relaxed_iterations = if c.protocol.relaxed_iterations == 0 {
                1
            } else {
                c.protocol.relaxed_iterations - 1
            };
        }),
        ("emergency_iteration (EMERG-*)", |c| {
            c.protocol.emergency_iteration = match c.protocol.emergency_iteration {
                None => Some(1),
                Some(_) => None,
            };
        }),
        ("epoch (SLASH-2/4 suspensions)", |c| c.protocol.epoch += 1),
        ("minimum_stake (ELIG-1)", |c| {
            let least = c.provisioners.iter().map(|p| p.stake).min().unwrap_or(0);
            c.protocol.minimum_stake = least + 1;
        }),
        ("soft_slash_warnings (SLASH-1/2)", |c| {
            c.protocol.soft_slash_warnings = match c.protocol.soft_slash_warnings {
                0 => 1,
                w => w - 1,
            };
        }),
    ]
}

#[test]
fn every_parameter_bites_in_some_suite() {
    // The control: the same replay with nothing changed diverges nowhere, so a divergence
    // below is the change's doing.
    let control = replay_changed(|_| {});
    assert_eq!(
        (control.diverged, control.errors),
        (0, 0),
        "unchanged: {:?}",
        control.first
    );
    assert!(control.traces >= 500, "{} traces", control.traces);
    let mut idle = vec![];
    for (name, change) in changes() {
        let o = replay_changed(change);
        println!(
            "{name}: {} of {} traces diverge ({} refused at start{}) {:?}; first: {}",
            o.diverged,
            o.traces,
            o.errors,
            o.refusal
                .as_deref()
                .map(|e| format!(": {e}"))
                .unwrap_or_default(),
            o.per_suite,
            o.first.as_deref().unwrap_or("none")
        );
        if o.diverged == 0 {
            idle.push(name);
        }
        // The warning itself (WARNINGS = 1 → 0: the first missed slot suspends) bites in the
        // `warnings` suite, not only the suspension of the others (0 → 1).
        if name.starts_with("soft_slash_warnings") {
            assert!(
                o.per_suite.get("warnings").copied().unwrap_or(0) > 0,
                "no trace of the warnings suite notices the warning"
            );
        }
    }
    assert!(idle.is_empty(), "no trace notices a change of: {idle:?}");
}
