//! Liveness by our own fair-cycle search (issue 9's checker), on top of Stateright's `Model`.
//!
//! Stateright 0.31 judges `eventually` properties only at terminal states: a path that ends in
//! a cycle is silently accepted and there is no fairness. This module checks "from every
//! reachable state, every fair path reaches the goal" (AG AF goal under weak fairness)
//! exactly, on the finite reachable graph:
//!
//! 1. explore every reachable state breadth-first, keeping per state only its fingerprint,
//!    its parent and the action that reached it (for paths), its outgoing edges (target index
//!    and fairness class of the action) and whether the goal holds there;
//! 2. a **deadlock** is a reachable state with no successor where the goal does not hold;
//! 3. a **fair lasso** is a cycle of non-goal states that weak fairness does not exclude: the
//!    strongly connected components of the non-goal subgraph (Tarjan, iterative) are searched
//!    for one with a cycle in which every fairness class enabled in *all* of its states is
//!    taken by some edge inside it. For weak fairness this test on the whole component is
//!    exact: a cycle inside a component that fails it still has that class enabled at every
//!    state and never takes it.
//!
//! [`check_recurrence`] decides the other shape, "a bad state happens only finitely often"
//! (F G ¬bad, LIVE-SUSPEND): a fair cycle, among the components of the whole graph, through a
//! bad state.
//!
//! Counterexamples are shortest first: the prefix is the breadth-first path to the nearest
//! state of the offending component, the loop a breadth-first path inside the component from
//! that state back to itself through every fairness class the component must take.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::hash::{Hash, Hasher};

use stateright::Model;

/// A model whose actions have fairness classes: weak fairness says an action class enabled
/// in every state of a cycle is taken on it.
pub trait Fairness: Model {
    /// The action's fairness class, or `None` for an action no fairness assumption covers
    /// (e.g. an adversary's move, a timer before GST).
    fn fairness_class(&self, state: &Self::State, action: &Self::Action) -> Option<u32>;
}

/// Why a liveness property fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure<S, A> {
    /// A reachable state with no successor where the goal does not hold.
    Deadlock {
        /// The path from an initial state (states and the actions between them).
        path: Vec<(S, Option<A>)>,
    },
    /// A fair cycle of non-goal states.
    Lasso {
        /// The path to the first state of the loop.
        prefix: Vec<(S, Option<A>)>,
        /// The loop: from that state back to it (its last state is the first again).
        cycle: Vec<(S, Option<A>)>,
    },
}

/// What the search found.
#[derive(Clone, Debug)]
pub struct LivenessResult<S, A> {
    /// Reachable states.
    pub states: usize,
    /// Edges between them.
    pub edges: usize,
    /// States where the goal does not hold.
    pub non_goal_states: usize,
    /// Non-trivial strongly connected components of the non-goal subgraph (cycles).
    pub cyclic_components: usize,
    /// Of those, the ones weak fairness excludes.
    pub unfair_components: usize,
    /// True when the search stopped at `max_states` (the result is then not a proof).
    pub truncated: bool,
    /// The first failure found (shortest prefix first), if any.
    pub failure: Option<Failure<S, A>>,
}

impl<S, A> LivenessResult<S, A> {
    /// Whether the property holds on the whole reachable graph.
    pub fn holds(&self) -> bool {
        self.failure.is_none() && !self.truncated
    }
}

fn fingerprint<T: Hash>(t: &T) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    t.hash(&mut h);
    h.finish()
}

struct Graph {
    /// Parent index and the index (in `actions(parent)`) of the action that reached it.
    parent: Vec<Option<(u32, u32)>>,
    /// Outgoing edges: target and fairness class.
    edges: Vec<Vec<(u32, Option<u32>)>>,
    goal: Vec<bool>,
    /// Each state's fingerprint (to replay a loop).
    fp: Vec<u64>,
    init: Vec<u32>,
}

/// Checks that from every reachable state of `model`, every path fair under `fair` (weak
/// fairness on [`Fairness::fairness_class`]; `false`: no fairness) reaches a state where
/// `goal` holds. `max_states` bounds the search (then `truncated`).
pub fn check_eventually<M>(
    model: &M,
    goal: &dyn Fn(&M, &M::State) -> bool,
    fair: bool,
    max_states: Option<usize>,
) -> LivenessResult<M::State, M::Action>
where
    M: Fairness,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let (g, truncated) = explore(model, goal, max_states);
    let states = g.goal.len();
    let edges = g.edges.iter().map(Vec::len).sum();
    let non_goal_states = g.goal.iter().filter(|x| !**x).count();
    // Deadlocks: the nearest first (indices are breadth-first order).
    let deadlock = (0..states).find(|&i| g.edges[i].is_empty() && !g.goal[i]);
    // The state of a component nearest the initial states.
    let (cyclic, unfair, lasso) = fair_cycles(&g, fair, |comp| comp.iter().min().copied());
    let failure = match (deadlock, lasso) {
        (Some(d), Some((e, _))) if d <= e as usize => Some(Failure::Deadlock {
            path: path_to(model, &g, d as u32),
        }),
        (Some(d), None) => Some(Failure::Deadlock {
            path: path_to(model, &g, d as u32),
        }),
        (_, Some((e, comp))) => {
            let cycle = cycle_in(&g, e, &comp, fair);
            Some(Failure::Lasso {
                prefix: path_to(model, &g, e),
                cycle: replay_cycle(model, &g, e, &cycle),
            })
        }
        (None, None) => None,
    };
    LivenessResult {
        states,
        edges,
        non_goal_states,
        cyclic_components: cyclic,
        unfair_components: unfair,
        truncated,
        failure,
    }
}

/// What [`check_eventually_from`] decided on the non-goal subgraph it explored.
#[derive(Clone, Debug, Default)]
pub struct SubgraphResult {
    /// States explored: the non-goal states reachable from the seeds without passing a goal
    /// state, and the goal states one step from them (not expanded).
    pub states: usize,
    /// Of those, states where the goal does not hold.
    pub non_goal_states: usize,
    /// Non-trivial strongly connected components of the non-goal subgraph.
    pub cyclic_components: usize,
    /// Of those, the ones weak fairness excludes.
    pub unfair_components: usize,
    /// A non-goal state without successors was found.
    pub deadlock: bool,
    /// A fair cycle of non-goal states was found.
    pub lasso: bool,
    /// The search stopped at `max_states`.
    pub truncated: bool,
}

impl SubgraphResult {
    /// Whether the property holds: nothing found, nothing cut.
    pub fn holds(&self) -> bool {
        !self.deadlock && !self.lasso && !self.truncated
    }
}

/// [`check_eventually`] without re-exploring the whole graph: every failure (a deadlock or a
/// fair cycle of non-goal states) lies inside the non-goal subgraph, so when `seeds` holds
/// every reachable non-goal state (the caller's exhaustive search recorded them), exploring
/// from the seeds through non-goal states only, the goal states one step away kept as
/// unexpanded leaves (their edges count for enabledness), decides the property exactly. It
/// gives no path from an initial state: on a failure, run [`check_eventually`] for the
/// shortest counterexample.
pub fn check_eventually_from<M>(
    model: &M,
    seeds: Vec<M::State>,
    goal: &dyn Fn(&M, &M::State) -> bool,
    fair: bool,
    max_states: Option<usize>,
) -> SubgraphResult
where
    M: Fairness,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let (g, truncated) = explore_from(model, seeds, false, goal, max_states);
    let mut r = SubgraphResult {
        states: g.goal.len(),
        non_goal_states: g.goal.iter().filter(|x| !**x).count(),
        truncated,
        ..Default::default()
    };
    r.deadlock = (0..g.goal.len()).any(|i| g.edges[i].is_empty() && !g.goal[i]);
    let (cyclic, unfair, lasso) = fair_cycles(&g, fair, |comp| comp.iter().min().copied());
    r.cyclic_components = cyclic;
    r.unfair_components = unfair;
    r.lasso = lasso.is_some();
    r
}

/// Checks that on every path fair under `fair`, states where `bad` holds occur only finitely
/// often (F G ¬bad, "stops happening"): a failure is a fair cycle through a `bad` state
/// (a lasso whose loop starts at it); a path that ends is no failure. The strongly connected
/// components are those of the whole reachable graph. `max_states` bounds the search.
pub fn check_recurrence<M>(
    model: &M,
    bad: &dyn Fn(&M, &M::State) -> bool,
    fair: bool,
    max_states: Option<usize>,
) -> LivenessResult<M::State, M::Action>
where
    M: Fairness,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    // Explore with `goal` false everywhere (every state in the subgraph), keeping `bad`.
    let (mut g, truncated) = explore(model, bad, max_states);
    let is_bad = std::mem::take(&mut g.goal);
    g.goal = vec![false; is_bad.len()];
    let states = is_bad.len();
    let edges = g.edges.iter().map(Vec::len).sum();
    // A component counts only through a bad state (the loop starts at the nearest one).
    let (cyclic, unfair, lasso) = fair_cycles(&g, fair, |comp| {
        comp.iter().copied().filter(|&v| is_bad[v as usize]).min()
    });
    let failure = lasso.map(|(e, comp)| {
        let cycle = cycle_in(&g, e, &comp, fair);
        Failure::Lasso {
            prefix: path_to(model, &g, e),
            cycle: replay_cycle(model, &g, e, &cycle),
        }
    });
    LivenessResult {
        states,
        edges,
        non_goal_states: is_bad.iter().filter(|x| **x).count(),
        cyclic_components: cyclic,
        unfair_components: unfair,
        truncated,
        failure,
    }
}

fn explore<M>(
    model: &M,
    goal: &dyn Fn(&M, &M::State) -> bool,
    max_states: Option<usize>,
) -> (Graph, bool)
where
    M: Fairness,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    explore_from(model, model.init_states(), true, goal, max_states)
}

/// Breadth-first from `roots`; goal states are expanded only when `expand_goal`.
fn explore_from<M>(
    model: &M,
    roots: Vec<M::State>,
    expand_goal: bool,
    goal: &dyn Fn(&M, &M::State) -> bool,
    max_states: Option<usize>,
) -> (Graph, bool)
where
    M: Fairness,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let mut index: HashMap<u64, u32> = HashMap::new();
    let mut g = Graph {
        parent: Vec::new(),
        edges: Vec::new(),
        goal: Vec::new(),
        fp: Vec::new(),
        init: Vec::new(),
    };
    let mut queue: VecDeque<(u32, M::State)> = VecDeque::new();
    let mut truncated = false;
    for s in roots {
        let fp = fingerprint(&s);
        if index.contains_key(&fp) {
            continue;
        }
        let i = g.goal.len() as u32;
        index.insert(fp, i);
        g.parent.push(None);
        g.edges.push(Vec::new());
        let at_goal = goal(model, &s);
        g.goal.push(at_goal);
        g.fp.push(fp);
        g.init.push(i);
        if expand_goal || !at_goal {
            queue.push_back((i, s));
        }
    }
    let mut actions = Vec::new();
    while let Some((i, s)) = queue.pop_front() {
        actions.clear();
        model.actions(&s, &mut actions);
        for (k, a) in actions.iter().enumerate() {
            let class = model.fairness_class(&s, a);
            let Some(next) = model.next_state(&s, a.clone()) else {
                continue;
            };
            let fp = fingerprint(&next);
            let j = match index.get(&fp) {
                Some(&j) => j,
                None => {
                    if max_states.is_some_and(|m| g.goal.len() >= m) {
                        truncated = true;
                        continue;
                    }
                    let j = g.goal.len() as u32;
                    index.insert(fp, j);
                    g.parent.push(Some((i, k as u32)));
                    g.edges.push(Vec::new());
                    let at_goal = goal(model, &next);
                    g.goal.push(at_goal);
                    g.fp.push(fp);
                    if expand_goal || !at_goal {
                        queue.push_back((j, next));
                    }
                    j
                }
            };
            g.edges[i as usize].push((j, class));
        }
    }
    (g, truncated)
}

/// Strongly connected components of the non-goal subgraph (iterative Tarjan).
fn components(g: &Graph) -> Vec<Vec<u32>> {
    let n = g.goal.len();
    const NONE: u32 = u32::MAX;
    let mut index = vec![NONE; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<u32> = Vec::new();
    let mut out = Vec::new();
    let mut next = 0u32;
    // (node, position in its edge list)
    let mut work: Vec<(u32, usize)> = Vec::new();
    for root in 0..n as u32 {
        if g.goal[root as usize] || index[root as usize] != NONE {
            continue;
        }
        work.push((root, 0));
        index[root as usize] = next;
        low[root as usize] = next;
        next += 1;
        stack.push(root);
        on_stack[root as usize] = true;
        while let Some(&mut (v, ref mut pos)) = work.last_mut() {
            let vi = v as usize;
            if let Some(&(w, _)) = g.edges[vi].get(*pos) {
                *pos += 1;
                let wi = w as usize;
                if g.goal[wi] {
                    continue;
                }
                if index[wi] == NONE {
                    index[wi] = next;
                    low[wi] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[wi] = true;
                    work.push((w, 0));
                } else if on_stack[wi] {
                    low[vi] = low[vi].min(index[wi]);
                }
            } else {
                work.pop();
                if let Some(&(u, _)) = work.last() {
                    let ui = u as usize;
                    low[ui] = low[ui].min(low[vi]);
                }
                if low[vi] == index[vi] {
                    let mut comp = Vec::new();
                    loop {
                        let w = stack.pop().expect("on stack");
                        on_stack[w as usize] = false;
                        comp.push(w);
                        if w == v {
                            break;
                        }
                    }
                    out.push(comp);
                }
            }
        }
    }
    out
}

/// The cyclic components of the non-goal subgraph that have an entry state (`entry`: `None`
/// to skip a component), how many of those weak fairness excludes (when `fair`), and the
/// fair one whose entry comes first (breadth-first order: nearest the initial states).
fn fair_cycles(
    g: &Graph,
    fair: bool,
    entry: impl Fn(&[u32]) -> Option<u32>,
) -> (usize, usize, Option<(u32, Vec<u32>)>) {
    let mut cyclic = 0;
    let mut unfair = 0;
    let mut first: Option<(u32, Vec<u32>)> = None;
    for comp in components(g) {
        if !is_cyclic(g, &comp) {
            continue;
        }
        let Some(e) = entry(&comp) else {
            continue;
        };
        cyclic += 1;
        if fair && !weakly_fair(g, &comp) {
            unfair += 1;
            continue;
        }
        if first.as_ref().is_none_or(|(f, _)| e < *f) {
            first = Some((e, comp));
        }
    }
    (cyclic, unfair, first)
}

fn member_set(comp: &[u32]) -> std::collections::HashSet<u32> {
    comp.iter().copied().collect()
}

/// A component holds a cycle: more than one state, or a self-loop.
fn is_cyclic(g: &Graph, comp: &[u32]) -> bool {
    comp.len() > 1
        || comp
            .first()
            .is_some_and(|&v| g.edges[v as usize].iter().any(|(w, _)| *w == v))
}

/// The fairness classes enabled in every state of a component (enabled: an outgoing edge of
/// that class, inside the component or not): weak fairness says a fair loop there takes each.
fn enabled_everywhere(g: &Graph, comp: &[u32]) -> BTreeSet<u32> {
    let mut always: Option<BTreeSet<u32>> = None;
    for &v in comp {
        let enabled: BTreeSet<u32> = g.edges[v as usize].iter().filter_map(|(_, c)| *c).collect();
        always = Some(match always {
            None => enabled,
            Some(a) => a.intersection(&enabled).copied().collect(),
        });
    }
    always.unwrap_or_default()
}

/// Weak fairness on the whole component: every class enabled in all of its states is taken by
/// an edge inside it.
fn weakly_fair(g: &Graph, comp: &[u32]) -> bool {
    let inside = member_set(comp);
    let taken: BTreeSet<u32> = comp
        .iter()
        .flat_map(|&v| g.edges[v as usize].iter())
        .filter(|(w, _)| inside.contains(w))
        .filter_map(|(_, c)| *c)
        .collect();
    enabled_everywhere(g, comp).is_subset(&taken)
}

/// A loop from `entry` back to itself inside `comp` (as state indices, first = last = entry);
/// when `fair`, through an edge of every class the component must take (so the loop itself
/// is fair). Breadth-first legs: shortest up to that constraint.
fn cycle_in(g: &Graph, entry: u32, comp: &[u32], fair: bool) -> Vec<u32> {
    let inside = member_set(comp);
    // Classes the loop must take: those enabled everywhere in the component.
    let must: Vec<u32> = if fair {
        enabled_everywhere(g, comp).into_iter().collect()
    } else {
        Vec::new()
    };
    let bfs = |from: u32, done: &dyn Fn(u32, Option<u32>, u32) -> bool| -> Vec<u32> {
        // Shortest path inside the component from `from` whose last edge satisfies `done`.
        let mut prev: BTreeMap<u32, u32> = BTreeMap::new();
        let mut queue = VecDeque::from([from]);
        let mut seen = std::collections::HashSet::from([from]);
        while let Some(v) = queue.pop_front() {
            for &(w, c) in &g.edges[v as usize] {
                if !inside.contains(&w) {
                    continue;
                }
                if done(v, c, w) {
                    let mut path = vec![w, v];
                    let mut x = v;
                    while x != from {
                        x = prev[&x];
                        path.push(x);
                    }
                    path.reverse();
                    return path;
                }
                if seen.insert(w) {
                    prev.insert(w, v);
                    queue.push_back(w);
                }
            }
        }
        vec![from]
    };
    let mut path = vec![entry];
    let mut at = entry;
    for class in must {
        let leg = bfs(at, &|_, c, _| c == Some(class));
        at = *leg.last().expect("non-empty");
        path.extend(&leg[1..]);
    }
    let back = bfs(at, &|_, _, w| w == entry);
    path.extend(&back[1..]);
    path
}

/// The breadth-first path from an initial state to state `i`, replayed.
fn path_to<M>(model: &M, g: &Graph, i: u32) -> Vec<(M::State, Option<M::Action>)>
where
    M: Model,
    M::Action: Clone,
{
    let mut chain = vec![i];
    let mut x = i;
    while let Some((p, _)) = g.parent[x as usize] {
        chain.push(p);
        x = p;
    }
    chain.reverse();
    let root = chain[0];
    let init_pos = g.init.iter().position(|&r| r == root).unwrap_or(0);
    let mut state = model
        .init_states()
        .into_iter()
        .nth(init_pos)
        .expect("initial state");
    let mut out = Vec::new();
    for w in chain.windows(2) {
        let (_, k) = g.parent[w[1] as usize].expect("has a parent");
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let a = actions[k as usize].clone();
        let next = model.next_state(&state, a.clone()).expect("replayable");
        out.push((state, Some(a)));
        state = next;
    }
    out.push((state, None));
    out
}

/// Replays a loop given as state indices from the state `entry`: at each state, the first
/// action whose successor has the next index's fingerprint.
fn replay_cycle<M>(
    model: &M,
    g: &Graph,
    entry: u32,
    cycle: &[u32],
) -> Vec<(M::State, Option<M::Action>)>
where
    M: Model,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let start = path_to(model, g, entry);
    let mut state = start.last().expect("a state").0.clone();
    let mut out = Vec::new();
    for w in cycle.windows(2) {
        let want = g.fp[w[1] as usize];
        let mut actions = Vec::new();
        model.actions(&state, &mut actions);
        let step = actions.into_iter().find_map(|a| {
            model
                .next_state(&state, a.clone())
                .filter(|n| fingerprint(n) == want)
                .map(|n| (a, n))
        });
        let Some((a, next)) = step else { break };
        out.push((state, Some(a)));
        state = next;
    }
    out.push((state, None));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use stateright::Property;

    /// A hand-made model: states are numbers, actions are (label, target) edges.
    struct Graphy {
        init: u8,
        edges: Vec<(u8, u8, &'static str)>,
        /// Labels covered by weak fairness.
        fair: Vec<&'static str>,
    }

    impl Model for Graphy {
        type State = u8;
        type Action = (&'static str, u8);
        fn init_states(&self) -> Vec<u8> {
            vec![self.init]
        }
        fn actions(&self, s: &u8, out: &mut Vec<(&'static str, u8)>) {
            for (from, to, l) in &self.edges {
                if from == s {
                    out.push((l, *to));
                }
            }
        }
        fn next_state(&self, _: &u8, a: (&'static str, u8)) -> Option<u8> {
            Some(a.1)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![]
        }
    }

    impl Fairness for Graphy {
        fn fairness_class(&self, _: &u8, a: &(&'static str, u8)) -> Option<u32> {
            self.fair.iter().position(|l| *l == a.0).map(|k| k as u32)
        }
    }

    fn is(k: u8) -> impl Fn(&Graphy, &u8) -> bool {
        move |_, s| *s == k
    }

    #[test]
    fn a_cycle_without_the_goal_is_a_lasso_with_its_prefix() {
        // 0 -> 1 -> 2 -> 1, goal 3 unreachable from the loop; 0 -> 3 exists.
        let m = Graphy {
            init: 0,
            edges: vec![
                (0, 1, "a"),
                (1, 2, "b"),
                (2, 1, "c"),
                (0, 3, "d"),
                (3, 3, "e"),
            ],
            fair: vec![],
        };
        let r = check_eventually(&m, &is(3), true, None);
        assert_eq!(r.states, 4);
        assert!(!r.holds());
        match r.failure {
            Some(Failure::Lasso { prefix, cycle }) => {
                let p: Vec<u8> = prefix.iter().map(|(s, _)| *s).collect();
                let c: Vec<u8> = cycle.iter().map(|(s, _)| *s).collect();
                assert_eq!(p, vec![0, 1]);
                assert_eq!(c, vec![1, 2, 1]);
                assert_eq!(cycle[0].1, Some(("b", 2)));
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn a_cycle_weak_fairness_excludes_is_not_reported_and_is_without_fairness() {
        // 0 <-> 1 with an exit to the goal 2 enabled in both: fairness forces the exit.
        let m = Graphy {
            init: 0,
            edges: vec![(0, 1, "tick"), (1, 0, "tock"), (0, 2, "go"), (1, 2, "go")],
            fair: vec!["go"],
        };
        let r = check_eventually(&m, &is(2), true, None);
        assert!(r.holds(), "{:?}", r.failure);
        assert_eq!((r.cyclic_components, r.unfair_components), (1, 1));
        let r = check_eventually(&m, &is(2), false, None);
        assert!(matches!(r.failure, Some(Failure::Lasso { .. })));
        // An exit enabled in only one state of the loop does not exclude it.
        let m = Graphy {
            init: 0,
            edges: vec![(0, 1, "tick"), (1, 0, "tock"), (1, 2, "go")],
            fair: vec!["go"],
        };
        let r = check_eventually(&m, &is(2), true, None);
        assert!(matches!(r.failure, Some(Failure::Lasso { .. })));
    }

    #[test]
    fn a_fair_loop_takes_every_class_the_component_must_take() {
        // A loop 0 -> 1 -> 0 and a second loop 1 -> 3 -> 1 inside one component; "x" is
        // enabled everywhere (0 -> 0 self-loop, 1 -> 3, 3 -> 3): the reported loop takes it.
        let m = Graphy {
            init: 0,
            edges: vec![
                (0, 1, "a"),
                (1, 0, "b"),
                (1, 3, "x"),
                (3, 1, "c"),
                (0, 0, "x"),
                (3, 3, "x"),
            ],
            fair: vec!["x"],
        };
        let r = check_eventually(&m, &is(9), true, None);
        match r.failure {
            Some(Failure::Lasso { cycle, .. }) => {
                assert!(cycle.iter().any(|(_, a)| a.is_some_and(|a| a.0 == "x")));
                assert_eq!(cycle.first().map(|c| c.0), cycle.last().map(|c| c.0));
            }
            f => panic!("{f:?}"),
        }
    }

    #[test]
    fn a_terminal_state_without_the_goal_is_a_deadlock() {
        let m = Graphy {
            init: 0,
            edges: vec![(0, 1, "a"), (0, 2, "b")],
            fair: vec![],
        };
        let r = check_eventually(&m, &is(2), true, None);
        match r.failure {
            Some(Failure::Deadlock { path }) => {
                assert_eq!(path.iter().map(|(s, _)| *s).collect::<Vec<_>>(), vec![0, 1]);
            }
            f => panic!("{f:?}"),
        }
    }

    /// The case Stateright's `eventually` misses: 0 -> 2 -> 4 -> 0, "eventually odd".
    #[test]
    fn the_even_cycle_stateright_accepts_is_a_lasso_here() {
        let m = Graphy {
            init: 0,
            edges: vec![(0, 2, "s"), (2, 4, "s"), (4, 0, "s")],
            fair: vec!["s"],
        };
        let r = check_eventually(&m, &|_, s: &u8| s % 2 == 1, true, None);
        match r.failure {
            Some(Failure::Lasso { prefix, cycle }) => {
                assert_eq!(prefix.len(), 1);
                assert_eq!(
                    cycle.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
                    vec![0, 2, 4, 0]
                );
            }
            f => panic!("{f:?}"),
        }
        // With an odd state on the loop the property holds.
        let m = Graphy {
            init: 0,
            edges: vec![(0, 2, "s"), (2, 3, "s"), (3, 0, "s")],
            fair: vec!["s"],
        };
        assert!(check_eventually(&m, &|_, s: &u8| s % 2 == 1, true, None).holds());
    }

    #[test]
    fn a_bad_state_on_a_fair_cycle_recurs_and_one_off_the_cycles_does_not() {
        // 0 -> 1 -> 2 -> 1 with 2 bad: bad recurs for ever on the loop.
        let m = Graphy {
            init: 0,
            edges: vec![(0, 1, "a"), (1, 2, "b"), (2, 1, "c"), (1, 3, "d")],
            fair: vec![],
        };
        match check_recurrence(&m, &is(2), true, None).failure {
            Some(Failure::Lasso { prefix, cycle }) => {
                assert_eq!(
                    prefix.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
                    vec![0, 1, 2]
                );
                assert_eq!(
                    cycle.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
                    vec![2, 1, 2]
                );
            }
            f => panic!("{f:?}"),
        }
        // The bad state 0 is left for ever after one step (0 -> 1 <-> 2): no lasso, though
        // the graph has a cycle and paths through the bad state.
        let r = check_recurrence(&m, &is(0), true, None);
        assert!(r.holds(), "{:?}", r.failure);
        assert_eq!(r.non_goal_states, 1);
        // Weak fairness: the loop 1 <-> 2 through bad 2 has the fair exit "d" enabled at 1
        // only, so it stays fair; with "d" enabled at both and fair, it is excluded.
        let m = Graphy {
            init: 0,
            edges: vec![
                (0, 1, "a"),
                (1, 2, "b"),
                (2, 1, "c"),
                (1, 3, "d"),
                (2, 3, "d"),
            ],
            fair: vec!["d"],
        };
        let r = check_recurrence(&m, &is(2), true, None);
        assert!(r.holds() && r.unfair_components == 1, "{:?}", r.failure);
        assert!(!check_recurrence(&m, &is(2), false, None).holds());
    }

    /// Every reachable state of a hand-made model (for the seeds of `check_eventually_from`).
    fn reachable(m: &Graphy) -> Vec<u8> {
        let mut seen = vec![m.init];
        let mut i = 0;
        while i < seen.len() {
            for (from, to, _) in &m.edges {
                if *from == seen[i] && !seen.contains(to) {
                    seen.push(*to);
                }
            }
            i += 1;
        }
        seen
    }

    #[test]
    fn the_search_from_the_non_goal_states_decides_as_the_whole_graph_does() {
        let models = [
            // A lasso 1 -> 2 -> 1 beside the goal 3.
            (
                vec![(0, 1, "a"), (1, 2, "b"), (2, 1, "c"), (0, 3, "d")],
                vec![],
                3,
            ),
            // The loop 0 <-> 1 with a fair exit to the goal enabled in both states: excluded.
            (
                vec![(0, 1, "t"), (1, 0, "u"), (0, 2, "go"), (1, 2, "go")],
                vec!["go"],
                2,
            ),
            // The same exit enabled in one state only: a lasso.
            (vec![(0, 1, "t"), (1, 0, "u"), (1, 2, "go")], vec!["go"], 2),
            // A deadlock at 1.
            (vec![(0, 1, "a"), (0, 2, "b")], vec![], 2),
            // Every path reaches the goal, past a loop through it.
            (vec![(0, 1, "a"), (1, 2, "b"), (2, 0, "c")], vec![], 2),
        ];
        let mut verdicts = Vec::new();
        for (edges, fair, goal) in models {
            let m = Graphy {
                init: 0,
                edges,
                fair,
            };
            for fairness in [true, false] {
                let whole = check_eventually(&m, &is(goal), fairness, None);
                let seeds: Vec<u8> = reachable(&m).into_iter().filter(|&s| s != goal).collect();
                let sub = check_eventually_from(&m, seeds, &is(goal), fairness, None);
                assert_eq!(sub.holds(), whole.holds(), "goal {goal}, fair {fairness}");
                assert_eq!(
                    sub.deadlock,
                    matches!(whole.failure, Some(Failure::Deadlock { .. }))
                );
                verdicts.push(sub.holds());
            }
        }
        // Both verdicts occur: the comparison is not between two searches that always agree
        // on "holds".
        assert!(verdicts.contains(&true) && verdicts.contains(&false));
        // The goal state one step away is a leaf, not expanded: with seeds {1} of the first
        // model only 1, 2 (and no goal) are explored.
        let m = Graphy {
            init: 0,
            edges: vec![
                (0, 1, "a"),
                (1, 2, "b"),
                (2, 3, "c"),
                (3, 4, "d"),
                (4, 3, "e"),
            ],
            fair: vec![],
        };
        let r = check_eventually_from(&m, vec![1], &|_, s: &u8| *s >= 3, true, None);
        assert_eq!((r.states, r.non_goal_states), (3, 2));
        assert!(r.holds());
    }

    #[test]
    fn a_truncated_search_never_holds() {
        let m = Graphy {
            init: 0,
            edges: vec![(0, 1, "a"), (1, 2, "a"), (2, 3, "a")],
            fair: vec![],
        };
        let r = check_eventually(&m, &is(3), true, Some(2));
        assert!(r.truncated && !r.holds());
    }
}
