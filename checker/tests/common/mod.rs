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
