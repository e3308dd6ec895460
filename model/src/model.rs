//! The Stateright model: the honest nodes' handlers (`crate::node`) composed with the network
//! and the adversary. Every action is one event at one node, or a fault, and names its actor.
//!
//! Per-node views: a message sent is available to every node, but each node decides for itself
//! when (and whether, before its timer) it acts on it, and which quorum it holds. Byzantine
//! provisioners have no node state: like the faulty processes of the Tendermint accountability
//! specs, their votes are present from the start: every tally counts a Byzantine committee
//! member's credits for whatever value is tallied, so two nodes may hold quorums on different
//! values of one step, each with the Byzantine signer in it (an equivocation only a node that
//! holds both can prove).

use std::sync::Arc;

use serde::Serialize;

use crate::config::Config;
use crate::draws::{Context, Contexts, IterationDraw, LedgerBlock};
use crate::event::Event;
use crate::mutations::Mutation;
use crate::rules::Rule;
use crate::state::{
    block, candidate, iteration_of, parent_of, round_of, BlockId, FailSet, Node, Root, State,
};

/// One step of the model: an event at one honest node, a fault, or an adversary move.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Action {
    /// `event` happens at honest provisioner `p`.
    Node {
        /// Who.
        p: u8,
        /// What.
        event: Event,
    },
    /// Byzantine gen(i) `p` broadcasts candidate `block` (a second, different one when
    /// `variant_of(block) == 1`); which nodes receive it, and when, is up to delivery.
    ByzantinePropose {
        /// The Byzantine generator.
        p: u8,
        /// The candidate.
        block: BlockId,
        /// The failed_iterations it carries: every Fail attestation that can be formed.
        failed: FailSet,
    },
    /// Unbounded model with `faults.rejoin` only: absent provisioner `p` comes back, holding
    /// the common Final chain, and starts the round above it (never in the bounded model).
    Rejoin {
        /// Who.
        p: u8,
    },
}

impl Action {
    /// The provisioner that acts.
    pub fn actor(&self) -> u8 {
        match *self {
            Action::Node { p, .. } | Action::ByzantinePropose { p, .. } | Action::Rejoin { p } => p,
        }
    }
}

/// The model of one configuration.
#[derive(Clone, Debug)]
pub struct SaModel {
    /// The configuration checked.
    pub config: Config,
    contexts: Contexts,
    /// Unbounded model (sa-checker's `unbounded`): the draws of a height depend on the block below
    /// it only (its iteration and failed_iterations, or the root's anchor, `State::root`), as if that block
    /// were at height 1, so that dropping Final heights never changes a draw.
    pub tip_only: bool,
}

impl SaModel {
    /// The model of `config` (which must be valid).
    pub fn new(config: Config) -> SaModel {
        SaModel::with_contexts(config, Contexts::default())
    }

    fn with_contexts(config: Config, contexts: Contexts) -> SaModel {
        SaModel {
            config,
            contexts,
            tip_only: false,
        }
    }

    /// Unbounded model: keeps stake maturing inside the window (see `Contexts::keep_maturing`:
    /// the abstraction before 2026-12-07, for the test that shows the report catches it).
    pub fn keep_maturing_in_window(&mut self) {
        self.contexts.keep_maturing = true;
    }

    /// The largest credits the provisioners in `mask` hold together in one committee of any
    /// round context computed so far.
    pub fn max_credits_of(&self, mask: u8) -> u32 {
        self.contexts.max_credits_of(mask)
    }

    /// The model of `config` whose first round uses the given draws (gen(i), Validation,
    /// Ratification per iteration) instead of its seed's: to check every allowed draw.
    pub fn with_first_round(config: Config, profile: &crate::draw_classes::Profile) -> SaModel {
        let n = config.provisioners.len();
        let genesis = Contexts::default().get(&config, &[]);
        let drawable = genesis.weights[..n].iter().filter(|&&w| w > 0).count();
        let draws = profile
            .iter()
            .enumerate()
            .map(|(i, &(generator, validation, ratification))| {
                let next = profile.get(i + 1).and_then(|d| d.0);
                IterationDraw {
                    generator,
                    excluded: crate::draws::exclusions(&config, drawable, generator, next),
                    validation,
                    ratification,
                }
            })
            .collect();
        let contexts = Contexts::with_first_round(&config, draws);
        SaModel::with_contexts(config, contexts)
    }

    /// Number of provisioners.
    #[inline]
    pub fn n(&self) -> usize {
        self.config.provisioners.len()
    }

    /// Context of a ledger-block prefix.
    #[inline]
    pub fn context(&self, chain: &[LedgerBlock]) -> Arc<Context> {
        self.contexts.get(&self.config, chain)
    }

    /// A property's verdict on one chain, computed once per thread ([`Contexts::memo`]).
    pub fn memo(&self, tag: u8, chain: &[LedgerBlock], f: impl FnOnce() -> bool) -> bool {
        self.contexts.memo(tag, chain, f)
    }

    /// Context in which `node`, whose chain lies above `root`, decides its current round.
    #[inline]
    pub fn node_context(&self, root: &Root, node: &Node) -> Arc<Context> {
        if self.tip_only {
            let blocks = crate::draws::ledger_blocks(&node.chain);
            return self.contexts.get_tip(
                &self.config,
                root.base,
                root.anchor,
                root.seed_class,
                &blocks,
            );
        }
        self.contexts.of_chain(&self.config, &node.chain)
    }

    /// Unbounded model: registers a ledger carried across a dropped height; its id.
    pub fn register_base(&self, ledger: crate::ledger::Ledger) -> u64 {
        self.contexts.register_base(ledger)
    }

    /// Unbounded model: the context of a relative chain above the carried ledger `base` and
    /// the last dropped block `anchor` (see `Contexts::get_tip`).
    #[inline]
    pub fn tip_context(
        &self,
        base: u64,
        anchor: Option<LedgerBlock>,
        class: u8,
        chain: &[LedgerBlock],
    ) -> Arc<Context> {
        self.contexts
            .get_tip(&self.config, base, anchor, class, chain)
    }

    /// Context of the block id `parent` (ancestors' failed_iterations read from the pool).
    #[inline]
    pub fn path_context(&self, state: &State, parent: BlockId) -> Arc<Context> {
        let r = round_of(parent);
        let mut blocks = [(0u8, FailSet::default()); 8];
        let mut id = 0;
        for k in 1..=r {
            let nib = ((parent >> (4 * (u32::from(k) - 1))) & 0xF) as u8 - 1;
            id = block(id, nib / 2, nib % 2);
            let failed = candidate(state, id).map_or(FailSet::default(), |(_, f)| f);
            blocks[usize::from(k) - 1] = (nib / 2, failed);
        }
        if self.tip_only {
            let root = &state.root;
            return self.contexts.get_tip(
                &self.config,
                root.base,
                root.anchor,
                root.seed_class,
                &blocks[..usize::from(r)],
            );
        }
        self.context(&blocks[..usize::from(r)])
    }

    /// Draws of the slot `s`.
    #[inline]
    pub fn slot_draw(&self, state: &State, s: BlockId) -> Option<IterationDraw> {
        self.path_context(state, parent_of(s))
            .iterations
            .get(usize::from(iteration_of(s)))
            .cloned()
    }

    /// Whether iteration `it` is an emergency iteration (EMERG-1).
    #[inline]
    pub fn emergency(&self, it: u8) -> bool {
        Rule::Emerg1.applies();
        let e = self
            .config
            .protocol
            .emergency_iteration
            .is_some_and(|e| it >= e);
        if e && self
            .config
            .broken(Rule::Emerg1)
            .contains(Mutation::IgnoreEmergency)
        {
            Mutation::IgnoreEmergency.hit();
            return false;
        }
        e
    }

    /// Whether the network is synchronous for `node` (it is at or past the GST round).
    #[inline]
    pub fn post_gst(&self, node: &Node) -> bool {
        let gst = self.config.faults.gst_round;
        gst != 0 && node.round() >= gst
    }
}
