//! The Dusk profile's draws are dusk-consensus 1.7.0's (issue 36, part 1): along every chain
//! prefix the `dusk` preset's rounds can build (each block from any iteration that has a
//! generator), sa-model's seed, generators and committees under `sortition.profile = "dusk"`
//! are compared with what dusk-consensus's own `Provisioners::get_generator` and
//! `Committee::new` give on the same weights, and the child seed with what dusk-core's
//! `sign_multisig` gives: byte for byte, credit for credit.

use sa_dusk::draws::{draw, provisioners};
use sa_dusk::profile::{child_seed, table_json, DEPTH, GENESIS};
use sa_model::draws::{Context, Contexts, LedgerBlock};
use sa_model::state::FailSet;
use sa_model::Config;

fn compare(config: &Config, ctx: &Context, seed: [u8; 48], what: &str) -> usize {
    assert_eq!(ctx.seed, seed, "{what}: seeds differ");
    let n = config.provisioners.len();
    let set = provisioners(&ctx.weights[..n]);
    let mut compared = 0;
    for (i, d) in ctx.iterations.iter().enumerate() {
        let dusk = draw(&set, n, seed, u64::from(ctx.round), i as u8)
            .unwrap_or_else(|| panic!("{what}: dusk-consensus panics drawing iteration {i}"));
        assert_eq!(Some(dusk.generator), d.generator, "{what}: gen({i})");
        for (step, model, dusk) in [
            ("Validation", &d.validation, &dusk.validation),
            ("Ratification", &d.ratification, &dusk.ratification),
        ] {
            let model: std::collections::BTreeMap<usize, u32> =
                model.members().map(|p| (p, model.credits(p))).collect();
            assert_eq!(&model, dusk, "{what}: {step} committee of iteration {i}");
            assert_eq!(model.values().sum::<u32>(), 64, "{what}: a full committee");
            compared += 1;
        }
    }
    compared
}

fn walk(
    config: &Config,
    contexts: &Contexts,
    chain: &mut Vec<LedgerBlock>,
    seed: [u8; 48],
) -> usize {
    let ctx = contexts.get(config, chain);
    let mut compared = compare(config, &ctx, seed, &format!("prefix {chain:?}"));
    if chain.len() >= usize::from(config.protocol.rounds) {
        return compared;
    }
    for (i, d) in ctx.iterations.iter().enumerate() {
        let Some(g) = d.generator else { continue };
        let height = u64::from(ctx.round);
        chain.push((i as u8, FailSet::default()));
        compared += walk(config, contexts, chain, child_seed(height, &seed, g));
        chain.pop();
    }
    compared
}

#[test]
fn the_dusk_preset_draws_are_dusk_consensus_draws() {
    let config = Config::preset("dusk").expect("the dusk preset");
    let contexts = Contexts::default();
    let genesis = sa_model::keys::genesis_seed(config.sortition.seed);
    let n = walk(&config, &contexts, &mut Vec::new(), genesis);
    // 1 + 2 + 4 prefixes (2 iterations a round, the tips of round 2 included), 2 iterations
    // each, 2 committees an iteration.
    assert_eq!(n, 28, "committees compared");
}

#[test]
fn deeper_chains_of_every_generator_agree_too() {
    // Past the preset: 3 rounds, 3 iterations, so that every seed depth of the table is used.
    let mut config = Config::preset("dusk").expect("the dusk preset");
    config.protocol.rounds = DEPTH;
    config.protocol.max_iterations = 3;
    config.protocol.relaxed_iterations = 3;
    let contexts = Contexts::default();
    let genesis = sa_model::keys::genesis_seed(config.sortition.seed);
    let n = walk(&config, &contexts, &mut Vec::new(), genesis);
    assert!(n >= 6 * (1 + 3 + 9), "only {n} committees compared");
    println!("{n} committees compared");
}

#[test]
fn the_checked_in_table_is_what_dusk_core_computes() {
    let checked_in = include_str!("../../model/data/dusk-profile.json");
    assert!(
        checked_in == table_json(GENESIS, DEPTH),
        "model/data/dusk-profile.json is stale: regenerate it with \
         `cargo run --release --manifest-path dusk/Cargo.toml -- profile > model/data/dusk-profile.json`"
    );
}

#[test]
fn a_wrong_hash_or_key_order_is_caught() {
    // The comparison can fail: the reference profile's draws on the same weights and seed
    // (BLAKE2b-256 and the testnet keys' order) are not Dusk's.
    let mut config = Config::preset("dusk").expect("the dusk preset");
    let contexts = Contexts::default();
    let dusk_ctx = contexts.get(&config, &[]);
    config.sortition.profile = sa_model::config::Profile::Reference;
    let reference = Contexts::default().get(&config, &[]);
    let n = config.provisioners.len();
    let set = provisioners(&dusk_ctx.weights[..n]);
    let differs = reference.iterations.iter().enumerate().any(|(i, d)| {
        let dusk = draw(&set, n, dusk_ctx.seed, 1, i as u8).expect("a draw");
        let model: std::collections::BTreeMap<usize, u32> = d
            .validation
            .members()
            .map(|p| (p, d.validation.credits(p)))
            .collect();
        model != dusk.validation
    });
    assert!(
        differs,
        "the reference draws equal Dusk's: the test could not tell them apart"
    );
}

#[test]
fn with_two_eligible_dusk_consensus_panics_where_the_model_draws_empty_committees() {
    // Executed, not read (spec/incidents.md, SORT-5): with exactly two eligible provisioners
    // dusk-consensus 1.7.0 excludes both gen(i) and gen(i+1) when they differ, leaving no
    // weight, and `Provisioners::create_committee` panics ("No stakes available"); the Dusk
    // profile draws an empty committee there, and the reference (SORT-5) excludes gen(i) only.
    let mut config = Config::preset("dusk").expect("the dusk preset");
    config.provisioners.truncate(2);
    config.protocol.max_iterations = 7;
    config.protocol.relaxed_iterations = 7;
    let ctx = Contexts::default().get(&config, &[]);
    let set = provisioners(&ctx.weights[..2]);
    let mut panics = 0;
    for (i, d) in ctx.iterations.iter().enumerate() {
        let dusk = draw(&set, 2, ctx.seed, 1, i as u8);
        if d.excluded.count_ones() == 2 {
            assert_eq!(d.validation.total(), 0, "the model's committee is empty");
            assert!(
                dusk.is_none(),
                "dusk-consensus drew a committee from no weight"
            );
            panics += 1;
        } else {
            assert!(
                dusk.is_some(),
                "iteration {i}: one excluded, dusk-consensus draws"
            );
        }
    }
    assert!(
        panics > 0,
        "no iteration with gen(i) != gen(i+1) on this seed"
    );
}
