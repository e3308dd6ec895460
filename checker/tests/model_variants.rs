//! Finality variants (spec/variants.md): what each changes in the checked verdicts. The
//! Byzantine fork at the bound with Dusk's own-vote path (spec/incidents.md, "Success and Fail
//! in one iteration") is a violation under Dusk's rule and holds exhaustively under
//! VAR-FIN-SM and VAR-FIN-CLOSED; the price is a witness: no PNI > 0 block is ever Final under
//! VAR-FIN-CLOSED.

mod common;

use common::{mutated, preset, run};
use sa_checker::report::Status;
use sa_model::config::Finality;
use sa_model::{Config, Mutation};

fn with(mut c: Config, rule: Finality) -> Config {
    c.protocol.finality = rule;
    c
}

fn status(r: &sa_checker::CheckReport, id: &str) -> Status {
    r.property(id).map(|p| p.status).expect("known property")
}

#[test]
fn counting_fails_at_sm_closes_the_byzantine_fork_of_the_own_vote_path() {
    let base = mutated("byzantine", &[Mutation::DuskAsyncOwnVote]);
    // Dusk's rule: the fork (the property can fail on this configuration).
    let dusk = run(&with(base.clone(), Finality::Dusk), false);
    assert!(dusk.exhaustive);
    assert_eq!(dusk.unique_states, 556_774);
    assert_eq!(status(&dusk, "SAFE-FINAL-AGREEMENT"), Status::Violated);
    for rule in [Finality::SmFail, Finality::Closed] {
        let r = run(&with(base.clone(), rule), false);
        assert!(r.exhaustive, "{rule:?}");
        assert_eq!(r.unique_states, 782_628, "{rule:?}");
        assert_eq!(
            status(&r, "SAFE-FINAL-AGREEMENT"),
            Status::Holds,
            "{rule:?}"
        );
        // Two outcomes of one iteration still exist (the variant changes what counts toward
        // PNI, not what can be formed), and accountability still holds.
        assert_eq!(status(&r, "SAFE-ONE-OUTCOME"), Status::Violated, "{rule:?}");
        assert_eq!(status(&r, "ACC-FORK-EVIDENCE"), Status::Holds, "{rule:?}");
        assert!(r.bounds.iter().any(|b| b.contains(rule.name())), "{rule:?}");
    }
}

#[test]
fn the_closed_variant_never_finalizes_a_pni_block() {
    // `emergency`'s bounded search (3 provisioners, C = 3) witnesses a block Final after PNI
    // > 0 under Dusk's rule; under VAR-FIN-CLOSED that witness is out of reach.
    let base = preset("emergency");
    let dusk = run(&with(base.clone(), Finality::Dusk), false);
    assert_eq!(status(&dusk, "WIT-FINAL-AFTER-PNI"), Status::Witnessed);
    let closed = run(&with(base, Finality::Closed), false);
    assert!(closed.exhaustive);
    assert_eq!(status(&closed, "WIT-FINAL-AFTER-PNI"), Status::NotWitnessed);
    assert_eq!(status(&closed, "SAFE-FINAL-AGREEMENT"), Status::Holds);
}
