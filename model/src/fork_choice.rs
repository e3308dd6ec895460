//! Fork choice (spec/protocol.md FORK-1): the Success of a strictly lower iteration on the
//! parent of a block a node holds above its last Final block replaces that block.

use crate::model::SaModel;
use crate::mutations::Mutation;
use crate::node::Event;
use crate::rules::Rule;
use crate::state::{block, State};

impl SaModel {
    /// FORK-1: a Success of a strictly lower iteration on the parent of a block this node
    /// holds above its last Final block.
    pub(crate) fn fork_choice(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        if self
            .config
            .broken(Rule::Fork1)
            .contains(Mutation::NoFallback)
        {
            let before = out.len();
            self.fork_choice_reference(state, p, out);
            if out.len() > before {
                Mutation::NoFallback.hit();
                out.truncate(before);
            }
            return;
        }
        self.fork_choice_reference(state, p, out);
    }

    /// FORK-1 as the spec states it (and the mutations that change it).
    fn fork_choice_reference(&self, state: &State, p: usize, out: &mut Vec<Event>) {
        Rule::Fork1.applies();
        Rule::Fin4.applies();
        let node = &state.nodes[p];
        let final_height = node.final_height();
        let any_iteration = self
            .config
            .broken(Rule::Fork1)
            .contains(Mutation::FallbackAnyIteration)
            || self
                .config
                .broken(Rule::Fork2)
                .contains(Mutation::DuskStalledRecovery);
        Rule::Fork2.applies();
        let ignore_final = self
            .config
            .broken(Rule::Fork2)
            .contains(Mutation::DuskStalledRecovery);
        for h in 1..=node.chain.len() {
            let below_final = h <= final_height;
            if below_final && !ignore_final {
                continue;
            }
            let have = node.chain[h - 1].iteration;
            let parent = node.block_at(h - 1);
            for j in 0..self.config.protocol.max_iterations {
                let allowed = if any_iteration { j != have } else { j < have };
                if !allowed {
                    continue;
                }
                for v in 0..2 {
                    if let Some((att, failed)) = self.success(state, Some(p), block(parent, j, v)) {
                        if j >= have {
                            Mutation::FallbackAnyIteration.hit();
                        }
                        if below_final {
                            Mutation::DuskStalledRecovery.hit();
                        }
                        out.push(Event::Fallback {
                            height: h as u8,
                            att,
                            failed,
                        });
                    }
                }
            }
        }
    }
}
