//! sa-node under the protocol variants of spec/variants.md (`Params::finality`,
//! `Params::suspension`), held to the
//! model under the same variant: traces exported from the model with `finality = "sm-fail"`
//! and `"closed"` (every transition class of `byzantine`, and seeded random walks on
//! `byzantine` and on `async-final`, three asynchronous rounds) replay against sa-node started
//! with that variant. The same traces replayed against sa-node left on Dusk's rule diverge
//! (the variant is observable in what the suite compares: labels and failed_iterations), so
//! the passing replays say something.

use std::collections::BTreeSet;

use sa_conformance::export::{class_runs, project, random_walks, random_walks_from};
use sa_conformance::replay::{replay, Adapter, SaNode};
use sa_conformance::trace::{Event, Observed, Sent};
use sa_model::config::{Finality, Suspension};
use sa_model::model::Action;
use sa_model::{Config, SaModel};

/// sa-node started on Dusk's rules whatever the trace's configuration says.
struct OnDuskRule(SaNode);

impl Adapter for OnDuskRule {
    fn init(&mut self, config: &Config, node: usize, invalid: bool) -> Result<(), String> {
        let mut c = config.clone();
        c.protocol.finality = Finality::Dusk;
        c.protocol.suspension = Suspension::Dusk;
        self.0.init(&c, node, invalid)
    }
    fn deliver(&mut self, event: &Event, at: &Observed) -> Result<Vec<Sent>, String> {
        self.0.deliver(event, at)
    }
    fn observe(&mut self) -> Result<Observed, String> {
        self.0.observe()
    }
}

/// (traces, diverged, the first divergence) of `runs` projected on every node they move.
fn replay_runs(
    model: &SaModel,
    runs: &[Vec<Action>],
    adapter: &mut dyn Adapter,
) -> (usize, usize, Option<String>) {
    let (mut traces, mut diverged, mut first) = (0, 0, None);
    for (k, run) in runs.iter().enumerate() {
        let moved: BTreeSet<usize> = run
            .iter()
            .filter_map(|a| match a {
                Action::Node { p, .. } => Some(usize::from(*p)),
                _ => None,
            })
            .collect();
        for p in moved {
            let Some((states, _)) = project(model, run, p) else {
                panic!("run {k} does not replay in the model");
            };
            if states.len() < 2 {
                continue;
            }
            traces += 1;
            match replay(adapter, &model.config, p, &states) {
                Ok(Ok(_)) => {}
                Ok(Err(m)) => {
                    diverged += 1;
                    first.get_or_insert(format!(
                        "run {k} node {p}: state {} field {}",
                        m.state, m.field
                    ));
                }
                Err(e) => panic!("run {k} node {p}: sa-node refused: {e}"),
            }
        }
    }
    (traces, diverged, first)
}

fn model(preset: &str, rule: Finality) -> SaModel {
    let mut c = Config::preset(preset).expect("preset");
    c.protocol.finality = rule;
    SaModel::new(c)
}

/// Every transition class of `byzantine` plus 200 seeded walks under `rule`.
fn byzantine_runs(m: &SaModel) -> Vec<Vec<Action>> {
    let found = class_runs(m);
    let mut runs: Vec<Vec<Action>> = found.classes.into_values().map(|(_, r)| r).collect();
    runs.extend(found.witnesses.into_values());
    runs.extend(random_walks(m, 200, 1, 60));
    runs
}

#[test]
fn sa_node_follows_the_model_under_each_finality_variant() {
    for rule in [Finality::SmFail, Finality::Closed] {
        let m = model("byzantine", rule);
        let runs = byzantine_runs(&m);
        let (traces, diverged, first) = replay_runs(&m, &runs, &mut SaNode::default());
        assert!(traces > 300, "{rule:?}: {traces} traces");
        assert_eq!(diverged, 0, "{rule:?}: {first:?}");
        // Three asynchronous rounds, where VAR-FIN-CLOSED is meant to matter.
        let m = model("async-final", rule);
        let walks = random_walks(&m, 300, 7, 80);
        let (traces, diverged, first) = replay_runs(&m, &walks, &mut SaNode::default());
        assert!(traces > 600, "{rule:?}: {traces} traces");
        assert_eq!(diverged, 0, "{rule:?}: {first:?}");
    }
}

#[test]
fn the_variant_is_observable_sa_node_on_dusk_s_rule_diverges() {
    for rule in [Finality::SmFail, Finality::Closed] {
        let m = model("byzantine", rule);
        let runs = byzantine_runs(&m);
        let (traces, diverged, first) = replay_runs(&m, &runs, &mut OnDuskRule(SaNode::default()));
        eprintln!(
            "byzantine, {rule:?} on Dusk's rule: {diverged} of {traces} diverge, first {first:?}"
        );
        let m = model("async-final", rule);
        let walks = random_walks(&m, 300, 7, 80);
        let (async_traces, async_diverged, async_first) =
            replay_runs(&m, &walks, &mut OnDuskRule(SaNode::default()));
        eprintln!(
            "async-final, {rule:?} on Dusk's rule: {async_diverged} of {async_traces} diverge, first {async_first:?}"
        );
        assert!(
            diverged > 0 && async_diverged > 0,
            "{rule:?}: the variant is not seen"
        );
    }
}

/// The fork of spec/incidents.md ("Asynchrony through finality"), the model's 37 steps
/// ([`sa_model::examples::ASYNC_FINAL_FORK`]) projected onto P0 and P1: under Dusk's rule
/// sa-node replays both, so with that message schedule one sa-node holds B1.1 Final and
/// another B1.0 Final, the fork on the real node; under VAR-FIN-CLOSED it replays the same
/// schedule (matched by shape) and P1 finalizes nothing, and the closed traces diverge on
/// sa-node left on Dusk's rule at P1's labels.
#[test]
fn the_asynchronous_fork_on_sa_node_and_its_absence_under_the_closed_variant() {
    use sa_model::examples::{walk, ASYNC_FINAL_FORK};
    let mut finals = Vec::new();
    for (rule, by_shape) in [(Finality::Dusk, false), (Finality::Closed, true)] {
        let m = model("async-final", rule);
        let (states, run) = walk(&m, ASYNC_FINAL_FORK, by_shape).expect("the fork walk");
        let last = states.last().expect("a state");
        for p in [0usize, 1] {
            let (trace, _) = project(&m, &run, p).expect("projects");
            let mut node = SaNode::default();
            assert_eq!(
                replay(&mut node, &m.config, p, &trace)
                    .expect("starts")
                    .map(|_| ()),
                Ok(()),
                "{rule:?}: P{p}'s trace on sa-node"
            );
            // What the replay compared: the Final height sa-node reports is the model's.
            finals.push((rule, p, last.nodes[p].final_height()));
        }
        let (trace, _) = project(&m, &run, 1).expect("projects");
        let on_dusk =
            replay(&mut OnDuskRule(SaNode::default()), &m.config, 1, &trace).expect("starts");
        assert_eq!(
            on_dusk.is_err(),
            rule == Finality::Closed,
            "{rule:?}: sa-node on Dusk's rule must diverge on the closed trace only"
        );
    }
    // Under Dusk's rule P0 holds B1.0 Final and P1 B1.1 and B1.1-2.0 Final (different blocks at
    // height 1: model/tests/async_final_fork.rs); under the closed variant P1 holds nothing Final.
    assert_eq!(
        finals,
        vec![
            (Finality::Dusk, 0, 1),
            (Finality::Dusk, 1, 2),
            (Finality::Closed, 0, 1),
            (Finality::Closed, 1, 0)
        ]
    );
}

/// Whether some node of `s` is in an iteration VAR-SUSP-LIFTED draws on a different set (a
/// suspended provisioner in the ledger, the iteration at or above RELAXED).
fn in_a_lifted_iteration(m: &SaModel, s: &sa_model::state::State) -> bool {
    let relaxed = m.config.protocol.relaxed_iterations;
    s.nodes.iter().any(|n| {
        n.alive && n.iteration >= relaxed && {
            let ctx = m.node_context(&s.root, n);
            ctx.unsuspended != ctx.weights
        }
    })
}

/// VAR-SUSP-LIFTED on sa-node: on `stall` (the default stakes, RELAXED 1) under the variant,
/// a shortest path to a node in an iteration drawn on the lifted set
/// ([`sa_model::examples::STALL_LIFTED_PREFIX`]: a generator suspended, then a round past its
/// iteration 0), continued by 150 seeded walks,
/// replays on sa-node started with the variant; sa-node left on Dusk's rule diverges on them
/// (the variant is seen in what the suite compares: the committees the votes come from).
#[test]
fn sa_node_follows_the_model_under_the_lifted_suspension() {
    let mut c = Config::preset("stall").expect("preset");
    c.protocol.suspension = Suspension::Lifted;
    let m = SaModel::new(c);
    let (states, prefix) =
        sa_model::examples::walk(&m, sa_model::examples::STALL_LIFTED_PREFIX, false)
            .expect("the prefix is the model's");
    assert!(in_a_lifted_iteration(&m, states.last().expect("a state")));
    assert!(!states[..states.len() - 1]
        .iter()
        .any(|s| in_a_lifted_iteration(&m, s)));
    let runs = random_walks_from(&m, &prefix, 150, 11, prefix.len() + 60);
    let (traces, diverged, first) = replay_runs(&m, &runs, &mut SaNode::default());
    eprintln!(
        "stall, lifted: {traces} traces from a {}-step prefix",
        prefix.len()
    );
    assert!(traces >= 300, "{traces} traces");
    assert_eq!(diverged, 0, "{first:?}");
    let (traces, diverged, first) = replay_runs(&m, &runs, &mut OnDuskRule(SaNode::default()));
    eprintln!("stall, lifted, on Dusk's rule: {diverged} of {traces} diverge, first {first:?}");
    assert!(diverged > 0, "the variant is not seen");
}
