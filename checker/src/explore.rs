//! The model as Stateright's Explorer shows it: states and steps in the spec's words.
//!
//! The Explorer (`CheckerBuilder::serve`) prints a state with `{:#?}`, an action with
//! `format_action`, a step with `format_step` and draws `as_svg` for the path walked. The
//! wrapper here gives each of them the rendering `sa check` uses for counterexamples: every
//! node's belief (place, draws, chain with labels), the message pool as sent, each action as
//! "P1 round 1 iteration 0 Proposal: receives candidate B1.0; sends Validation vote Valid",
//! and the path so far as a message sequence chart.

use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use stateright::{Model, Path, Property};

use crate::render::render_steps;
use crate::render::{beliefs, describe};
use sa_model::model::{Action, SaModel};
use sa_model::properties::{Kind, SPECS};
use sa_model::state::State;

/// [`SaModel`] for the Explorer.
#[derive(Clone)]
pub struct Explore {
    /// The model explored.
    pub inner: Arc<SaModel>,
}

/// A state of [`Explore`]: the model's state and the model that renders it. Equality and hash
/// are the state's alone, so the Explorer's fingerprints are the model's.
#[derive(Clone)]
pub struct Shown {
    /// The model's state.
    pub state: State,
    model: Arc<SaModel>,
}

impl PartialEq for Shown {
    fn eq(&self, other: &Self) -> bool {
        self.state == other.state
    }
}

impl Eq for Shown {}

impl Hash for Shown {
    fn hash<H: Hasher>(&self, h: &mut H) {
        self.state.hash(h);
    }
}

impl fmt::Debug for Shown {
    /// Every node's belief, then the messages sent so far, in the spec's words.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in beliefs(&self.model, &self.state) {
            writeln!(f, "{b}")?;
        }
        writeln!(
            f,
            "messages sent (every node may still receive each): {}",
            self.state.pool.iter().count()
        )?;
        for m in self.state.pool.iter() {
            writeln!(f, "  {}", crate::render::describe_msg(m))?;
        }
        Ok(())
    }
}

impl Explore {
    /// Wraps `model`.
    pub fn new(model: SaModel) -> Self {
        Explore {
            inner: Arc::new(model),
        }
    }

    /// Serves the Explorer on `addr` with `threads` checker threads (blocks while serving).
    pub fn serve(self, threads: usize, addr: std::net::SocketAddr) {
        // Stateright's `serve` returns only when its web server thread ends.
        let _checker = self.checker().threads(threads).serve(addr);
    }

    fn shown(&self, state: State) -> Shown {
        Shown {
            state,
            model: Arc::clone(&self.inner),
        }
    }
}

fn holds(m: &Explore, s: &Shown, k: usize) -> bool {
    SPECS
        .get(k)
        .is_some_and(|p| (p.condition)(&m.inner, &s.state))
}

macro_rules! conditions {
    ($($k:literal)*) => {
        [$({
            fn c(m: &Explore, s: &Shown) -> bool {
                holds(m, s, $k)
            }
            c as fn(&Explore, &Shown) -> bool
        }),*]
    };
}

const CONDITIONS: [fn(&Explore, &Shown) -> bool; 40] = conditions!(
    0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19
    20 21 22 23 24 25 26 27 28 29 30 31 32 33 34 35 36 37 38 39
);

impl Model for Explore {
    type State = Shown;
    type Action = Action;

    fn init_states(&self) -> Vec<Shown> {
        self.inner
            .init_states()
            .into_iter()
            .map(|s| self.shown(s))
            .collect()
    }

    fn actions(&self, state: &Shown, actions: &mut Vec<Action>) {
        self.inner.actions(&state.state, actions);
    }

    fn next_state(&self, last: &Shown, action: Action) -> Option<Shown> {
        self.inner
            .next_state(&last.state, action)
            .map(|s| self.shown(s))
    }

    fn format_action(&self, action: &Action) -> String {
        match action {
            Action::Node { p, event } => format!("P{p}: {}", crate::render::event_name(event)),
            Action::ByzantinePropose { p, .. } => format!("P{p} (Byzantine): proposes"),
            Action::Rejoin { p } => format!("P{p}: comes back online"),
        }
    }

    fn format_step(&self, last: &Shown, action: Action) -> Option<String> {
        let description = describe(&self.inner, &last.state, &action);
        self.next_state(last, action)
            .map(|next| format!("{description}\n\n{next:?}"))
    }

    fn as_svg(&self, path: Path<Shown, Action>) -> Option<String> {
        let pairs: Vec<(State, Option<Action>)> = path
            .into_vec()
            .into_iter()
            .map(|(s, a)| (s.state, a))
            .collect();
        let cx = render_steps(&self.inner, pairs, false);
        Some(crate::chart::svg(
            "the path walked so far",
            &cx,
            crate::chart::Ending::Witness,
        ))
    }

    fn properties(&self) -> Vec<Property<Self>> {
        SPECS
            .iter()
            .enumerate()
            .map(|(k, s)| match s.kind {
                Kind::Safety | Kind::Liveness => Property::always(s.id, CONDITIONS[k]),
                Kind::Witness => Property::sometimes(s.id, CONDITIONS[k]),
            })
            .collect()
    }

    fn within_boundary(&self, state: &Shown) -> bool {
        self.inner.within_boundary(&state.state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sa_model::Config;

    #[test]
    fn states_and_steps_read_in_the_spec_words() {
        let m = Explore::new(SaModel::new(Config::preset("tiny").expect("preset")));
        let init = m.init_states().remove(0);
        let text = format!("{init:#?}");
        assert!(text.starts_with("P0: round 1 iteration 0"), "{text}");
        assert!(text.contains("messages sent (every node may still receive each): 0"));
        let mut actions = Vec::new();
        m.actions(&init, &mut actions);
        assert!(!actions.is_empty());
        // Every action has a short name, a description and a successor rendered the same way,
        // and the path so far is charted with one step mark per action.
        for a in &actions {
            assert!(
                m.format_action(a).starts_with('P'),
                "{}",
                m.format_action(a)
            );
            let step = m.format_step(&init, *a).expect("a successor");
            assert!(step.contains(" round 1 iteration 0"), "{step}");
            assert!(step.contains("messages sent"), "{step}");
        }
        let path = Path::from_actions(&m, init.clone(), [actions[0]].iter()).expect("a path");
        let svg = m.as_svg(path).expect("a chart");
        assert_eq!(svg.matches("class=\"sa-step\"").count(), 1, "{svg}");
        // The properties are the spec's, by ID, in order.
        let names: Vec<&str> = m.properties().iter().map(|p| p.name).collect();
        let ids: Vec<&str> = SPECS.iter().map(|s| s.id).collect();
        assert_eq!(names, ids);
    }
}
