//! The composition as a Stateright model: the initial state, the network's actions, and a
//! transition (one event at one node, or an adversary move, then TALLY-4's own quorums). What
//! any checker reads; counters, limits and reports belong to the checker crate.

use stateright::{Model, Property};

use crate::model::{Action, SaModel};
use crate::node::{handle, skip_idle_steps, Event};
use crate::state::{Msg, Node, Root, State, Step};

impl Model for SaModel {
    type State = State;
    type Action = Action;

    fn init_states(&self) -> Vec<State> {
        let mut nodes = vec![Node::new(); self.n()];
        for (p, node) in nodes.iter_mut().enumerate() {
            if self.config.is_byzantine(p) {
                node.alive = false;
                node.step = Step::Done;
            } else {
                skip_idle_steps(self, &Root::GENESIS, p, node);
            }
        }
        vec![State {
            nodes,
            pool: Default::default(),
            invalid_used: 0,
            root: Root::GENESIS,
        }]
    }

    fn actions(&self, state: &State, actions: &mut Vec<Action>) {
        self.actions_until(state, actions, false);
    }

    fn next_state(&self, last: &State, action: Action) -> Option<State> {
        let mut state = last.clone();
        match action {
            // Only the unbounded model offers it, and handles it itself.
            Action::Rejoin { .. } => return None,
            Action::ByzantinePropose { block, failed, .. } => {
                state.pool.insert(Msg::Candidate {
                    block,
                    valid: true,
                    failed,
                });
            }
            Action::Node { p, event } => {
                let p = usize::from(p);
                if let Event::Propose { valid: false } = event {
                    state.invalid_used += 1;
                }
                let (node, out) = handle(self, &last.root, p, &last.nodes[p], &event);
                state.nodes[p] = node;
                state.pool.extend(out);
                self.own_quorums(&mut state, p);
            }
        }
        Some(state)
    }

    /// Every property of [`crate::properties::SPECS`], evaluated as written (the checker crate
    /// wraps them to count, and to evaluate a witness only until it is reached).
    fn properties(&self) -> Vec<Property<Self>> {
        crate::properties::all()
    }
}
