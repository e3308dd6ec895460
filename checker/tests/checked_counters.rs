//! The search's counters live in `sa_checker::Checked`, not in the protocol: what the model
//! reports on the search's own threads reaches the report.

#[test]
fn a_mutation_that_changes_a_decision_is_collected_from_the_search_threads() {
    let mut c = sa_model::Config::preset("tiny").expect("preset");
    c.mutations = vec![sa_model::Mutation::AcceptInvalid];
    c.faults.invalid_candidates = 1;
    let checked = sa_checker::Checked::new(sa_model::SaModel::new(c));
    let report = sa_checker::check_model(
        checked.clone(),
        &sa_checker::CheckOptions {
            threads: 2,
            shorten: false,
            ..Default::default()
        },
        &mut |_| {},
    );
    assert!(report.unique_states > 0);
    // Validators vote Valid on the invalid candidate: the mutation decided something, on
    // the search's own threads.
    assert!(checked.was_hit(sa_model::Mutation::AcceptInvalid));
    assert!(!report
        .mutations_without_effect
        .contains(&sa_model::Mutation::AcceptInvalid.name()));
}
