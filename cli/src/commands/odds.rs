//! `sa odds`: how likely the Byzantine fork of spec/incidents.md is at mainnet scale.

use sa_checker::odds::{fork_odds, OddsParams};

use crate::{EXIT_BAD_INPUT, EXIT_OK};

/// Arguments of `sa odds`.
#[derive(clap::Args, Debug)]
#[command(
    about = "Probability, with the spec's sortition at mainnet parameters, that a Ratification committee gives the Byzantine stake the SM + M - C credits a Success and a Fail of one iteration need",
    long_about = "Seeded sampling with the real sortition (BLAKE2b, credits, gen(i) and gen(i+1) \
                  excluded): for Byzantine stake shares from 0 to 1/3 of N equal provisioners, \
                  the share of Ratification committees of C credits in which the Byzantine \
                  provisioners hold at least SM + M - C credits (mainnet: 12 of 64). With the \
                  worst honest split, that is exactly when two honest nodes can hold a Success \
                  and a Fail of the iteration, the start of the fork in spec/incidents.md. The \
                  binomial column is the same probability with credits drawn independently."
)]
pub struct Args {
    /// Provisioners (equal stakes).
    #[arg(long, default_value_t = 100)]
    provisioners: usize,
    /// Stake of each provisioner in DUSK.
    #[arg(long, default_value_t = 1000)]
    stake: u64,
    /// Committee credits C (SM and M follow the spec's formulas).
    #[arg(long, default_value_t = 64)]
    committee: u32,
    /// Samples per row.
    #[arg(long, default_value_t = 20_000)]
    samples: usize,
    /// Base seed of the sampling (the same seed gives the same table).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// Runs `sa odds`.
pub fn run(args: Args) -> u8 {
    if args.provisioners < 3 || args.committee == 0 || args.samples == 0 || args.stake == 0 {
        eprintln!(
            "sa odds: --provisioners must be at least 3, --committee, --samples and --stake at least 1"
        );
        return EXIT_BAD_INPUT;
    }
    let c = args.committee;
    let sm = c - c / 3;
    let m = c / 2 + 1;
    let params = OddsParams {
        provisioners: args.provisioners,
        stake: args.stake,
        committee_credits: c,
        overlap: (sm + m).saturating_sub(c),
        samples: args.samples,
        seed: args.seed,
    };
    let third = args.provisioners / 3;
    let mut counts: Vec<usize> = (0..=6).map(|k| third * k / 6).collect();
    counts.dedup();
    let rows = fork_odds(&params, &counts);
    // spec/variants.md: under VAR-FIN-SM and VAR-FIN-CLOSED a Success and a counted Fail of one
    // iteration need 2·SM − C equivocating credits.
    let sm_params = OddsParams {
        overlap: (2 * sm).saturating_sub(c),
        ..params.clone()
    };
    let sm_rows = fork_odds(&sm_params, &counts);
    let variants = variant_rows(&rows, &sm_rows);
    if args.json {
        let v = serde_json::json!({
            "params": params,
            "rows": rows,
            "variants": {
                "one_round_overlap": { "dusk": params.overlap, "sm-fail": sm_params.overlap, "closed": sm_params.overlap },
                "timing_only_rounds": { "dusk": 3, "sm-fail": 3, "closed": null },
                "rows": variants,
            },
        });
        crate::provenance::print_json("sa-odds/1", &v, None);
        return EXIT_OK;
    }
    println!(
        "sa odds: {} provisioners of {} DUSK, C = {c}, SM = {sm}, M = {m}: a Success and a Fail of one iteration need {} Byzantine credits in its Ratification committee",
        args.provisioners, args.stake, params.overlap
    );
    println!(
        "seeded sampling, {} committees per row (seed {}), the spec's sortition\n",
        args.samples, args.seed
    );
    println!(
        "byzantine  stake share  mean credits  P(credits >= {})  +/- (1 s.e.)  binomial",
        params.overlap
    );
    for r in rows {
        println!(
            "{:>9}  {:>11.3}  {:>12.2}  {:>16.5}  {:>12.5}  {:>8.5}",
            r.byzantine, r.share, r.mean_credits, r.probability, r.std_error, r.binomial
        );
    }
    println!(
        "\nper finality variant (spec/variants.md): the fewest asynchronous rounds a fork of Final blocks needs, and how often the draws allow it"
    );
    println!(
        "  1 asynchronous round (a Success and a counted Fail of one iteration, then a block on each): the Ratification committee must give the Byzantine stake {} credits under dusk (SM + M - C), {} under sm-fail and closed (2 SM - C); a necessary condition, sampled on the committees above",
        params.overlap, sm_params.overlap
    );
    println!(
        "  3 asynchronous rounds, timing only (no Byzantine stake, any draw): a PNI-1 block Final while iteration 0 can still succeed, under dusk and sm-fail (--preset async-final); under closed none found (not proven)\n"
    );
    println!(
        "{:>9}  {:>11}  {:>12}  {:>12}  {:>12}",
        "byzantine", "stake share", "1 round dusk", "sm-fail", "closed"
    );
    for v in &variants {
        println!(
            "{:>9}  {:>11.3}  {:>12.5}  {:>12.5}  {:>12.5}",
            v.byzantine, v.share, v.one_round_dusk, v.one_round_sm_fail, v.one_round_closed
        );
    }
    EXIT_OK
}

/// One row of the per-variant table: the probability that a Ratification committee allows
/// the one-round Byzantine mechanism under each finality variant.
#[derive(serde::Serialize)]
struct VariantRow {
    byzantine: usize,
    share: f64,
    /// Under Dusk's rule (SM + M − C Byzantine credits).
    one_round_dusk: f64,
    /// Under VAR-FIN-SM (2·SM − C).
    one_round_sm_fail: f64,
    /// Under VAR-FIN-CLOSED (2·SM − C, as VAR-FIN-SM).
    one_round_closed: f64,
}

fn variant_rows(
    dusk: &[sa_checker::odds::OddsRow],
    sm: &[sa_checker::odds::OddsRow],
) -> Vec<VariantRow> {
    dusk.iter()
        .zip(sm)
        .map(|(d, s)| VariantRow {
            byzantine: d.byzantine,
            share: d.share,
            one_round_dusk: d.probability,
            one_round_sm_fail: s.probability,
            one_round_closed: s.probability,
        })
        .collect()
}
