//! The model's seeds and draws are sa-node's (spec/protocol.md SORT-1..SORT-6): the
//! precondition of replaying model traces against sa-node. For every preset, along every chain
//! prefix the preset's rounds can build (each block from any of the first three iterations that
//! has a generator,
//! with no failed iteration or with every lower iteration failed for lack of a candidate), the
//! model's seed, generators and committees are computed by sa-model and by sa-node from the
//! same genesis and compared byte for byte. Provisioner `i` of the model is sa-node's testnet
//! key `i`.

use std::collections::BTreeMap;

use sa_model::draws::{Context, Contexts, LedgerBlock};
use sa_model::state::{FailSet, Value};
use sa_model::Config;
use sa_node::config::Genesis;
use sa_node::keys::{Keypair, PublicKey};
use sa_node::message::seed_digest;
use sa_node::sortition::{committee, generator, StepKind};

fn key(p: usize) -> PublicKey {
    Keypair::testnet(p as u32).public
}

/// Compares one context with sa-node's draws on the same seed and weights; returns how many
/// committees were compared.
fn compare(config: &Config, ctx: &Context, node_seed: &[u8; 48], what: &str) -> usize {
    assert_eq!(&ctx.seed, node_seed, "{what}: seeds differ");
    let eligible: BTreeMap<PublicKey, u64> = (0..config.provisioners.len())
        .filter(|&p| ctx.weights[p] > 0)
        .map(|p| (key(p), ctx.weights[p]))
        .collect();
    let iters = config.protocol.max_iterations;
    let c = config.protocol.committee_credits;
    let mut compared = 0;
    for (i, d) in ctx.iterations.iter().enumerate() {
        let i = i as u8;
        assert_eq!(
            generator(node_seed, i, &eligible),
            d.generator.map(key),
            "{what}: generator of iteration {i}"
        );
        for (kind, model) in [
            (StepKind::Validation, &d.validation),
            (StepKind::Ratification, &d.ratification),
        ] {
            let node = committee(node_seed, i, kind, iters, &eligible, c);
            let model: BTreeMap<PublicKey, u32> = model
                .members()
                .map(|p| (key(p), model.credits(p)))
                .collect();
            assert_eq!(node, model, "{what}: {kind:?} committee of iteration {i}");
            compared += 1;
        }
    }
    compared
}

/// Walks every prefix up to the preset's rounds (at most 3); returns the committees compared.
fn walk(
    config: &Config,
    contexts: &Contexts,
    chain: &mut Vec<LedgerBlock>,
    seed: [u8; 48],
) -> usize {
    let ctx = contexts.get(config, chain);
    let mut compared = compare(config, &ctx, &seed, &format!("prefix {chain:?}"));
    // Up to 3 rounds deep: every preset but `largest` (6 rounds, 5^6 prefixes of C = 64
    // committees: minutes) has at most 3.
    if chain.len() >= usize::from(config.protocol.rounds).min(3) {
        return compared;
    }
    // Children from the first three iterations (the mainnet preset has 50 per round).
    for (i, d) in ctx.iterations.iter().enumerate().take(3) {
        let Some(g) = d.generator else { continue };
        let i = i as u8;
        let all_failed = (0..i.min(config.protocol.relaxed_iterations))
            .fold(FailSet::default(), |f, j| f.with(j, Value::NoCandidate));
        let variants = if i == 0 {
            vec![FailSet::default()]
        } else {
            vec![FailSet::default(), all_failed]
        };
        for failed in variants {
            let child_seed = Keypair::testnet(g as u32)
                .sign(&seed_digest(&sa_node::keys::Signature(seed)))
                .0;
            chain.push((i, failed));
            compared += walk(config, contexts, chain, child_seed);
            chain.pop();
        }
    }
    compared
}

#[test]
fn model_keys_are_the_testnet_keys() {
    for p in 0..sa_model::config::MAX_PROVISIONERS {
        assert_eq!(sa_model::keys::public_key(p), key(p).0, "key {p}");
    }
}

#[test]
fn model_draws_are_sa_node_draws_for_every_preset() {
    let mut total = 0;
    for name in Config::preset_names() {
        let config = Config::preset(name).expect("preset");
        if config.sortition.profile == sa_model::config::Profile::Dusk {
            // Dusk's keys, seeds and hash, not sa-node's: compared with dusk-consensus's own
            // draws by dusk/tests/draws_agree.rs.
            continue;
        }
        let mut genesis = Genesis::testnet(
            config.provisioners.len() as u32,
            1,
            sa_node::config::Params::default(),
            0,
        );
        genesis.seed = config.sortition.seed;
        let contexts = Contexts::default();
        let n = walk(
            &config,
            &contexts,
            &mut Vec::new(),
            genesis.genesis_seed().0,
        );
        assert!(n > 0, "{name}: nothing compared");
        total += n;
    }
    // Every preset, every prefix: at least hundreds of committees, not a vacuous pass.
    assert!(total >= 200, "only {total} committees compared");
    println!("{total} committees compared");
}
