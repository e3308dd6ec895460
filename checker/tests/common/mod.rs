//! Helpers shared by the model tests.
#![allow(dead_code)]

use sa_checker::report::Status;
use sa_checker::{check, CheckOptions, CheckReport};
use sa_model::{Config, Mutation};

/// Checks a configuration with no limits, on two threads.
pub fn run(config: &Config, shorten: bool) -> CheckReport {
    let opts = CheckOptions {
        threads: 2,
        shorten,
        ..CheckOptions::default()
    };
    check(config, &opts, &mut |_| {})
}

/// A preset by name.
pub fn preset(name: &str) -> Config {
    Config::preset(name).expect("preset exists")
}

/// A preset with mutations.
pub fn mutated(name: &str, mutations: &[Mutation]) -> Config {
    let mut c = preset(name);
    c.mutations = mutations.to_vec();
    c
}

/// The IDs whose status is `status`.
pub fn ids(report: &CheckReport, status: Status) -> Vec<String> {
    report
        .properties
        .iter()
        .filter(|p| p.status == status)
        .map(|p| p.id.clone())
        .collect()
}

/// The status and note of property `id` in an unbounded search's result.
pub fn unbounded_status(r: &sa_checker::unbounded::UnboundedResult, id: &str) -> (Status, String) {
    let p = r
        .properties
        .iter()
        .find(|p| p.id == id)
        .expect("a property");
    (p.status, p.note.clone().unwrap_or_default())
}

/// Every property's status, in report order.
pub fn statuses(report: &CheckReport) -> Vec<(String, Status)> {
    report
        .properties
        .iter()
        .map(|p| (p.id.clone(), p.status))
        .collect()
}

/// A preset, or `byzantine-async-1`: `byzantine-async` cut to its first round (the searches
/// of the reductions' tests: asynchronous in every explored round, and small).
pub fn base(name: &str) -> Config {
    if name == "byzantine-async-1" {
        let mut c = preset("byzantine-async");
        c.name = name.into();
        c.protocol.rounds = 1;
        return c;
    }
    preset(name)
}

/// [`base`] with mutations.
pub fn with(name: &str, mutations: &[Mutation]) -> Config {
    let mut c = base(name);
    c.mutations = mutations.to_vec();
    c
}

/// The mutated configurations the reductions' mutation comparisons run: every mutation on
/// `tiny` and on `byzantine-async-1`, except on `tiny` the two that open committees to every
/// provisioner (the search no longer fits a test there; `byzantine-async-1` checks them).
pub fn mutation_cases() -> Vec<(String, Config)> {
    let too_large_on_tiny = [Mutation::CountNonMembers, Mutation::NoExclusion];
    let mut out = Vec::new();
    for name in ["tiny", "byzantine-async-1"] {
        for m in Mutation::ALL {
            if name == "tiny" && too_large_on_tiny.contains(&m) {
                continue;
            }
            out.push((format!("{name} with {}", m.name()), with(name, &[m])));
        }
    }
    out
}

/// Runs `compare` (which asserts what it compares and returns whether the mutation was
/// caught) on every one of [`mutation_cases`]; the comparison means something only if
/// mutations are caught there at all, so at least ten must be.
pub fn compare_on_mutations(mut compare: impl FnMut(&str, &Config) -> bool) {
    let caught = mutation_cases()
        .iter()
        .filter(|(what, c)| compare(what, c))
        .count();
    assert!(
        caught >= 10,
        "only {caught} mutations caught on tiny and byzantine-async-1"
    );
}
