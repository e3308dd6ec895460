//! Bad configurations are rejected before checking, naming the field and the rule.

use sa_model::{Config, ConfigError};

fn base() -> String {
    let c = Config::preset("tiny").unwrap();
    toml::to_string(&c).unwrap()
}

fn invalid(text: &str) -> (String, String) {
    match Config::from_toml_str(text, "test.toml") {
        Err(ConfigError::Invalid { field, rule }) => (field, rule),
        other => panic!("expected Invalid, got {other:?}"),
    }
}

fn set(text: &str, key: &str, value: &str) -> String {
    let mut found = false;
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if !found && l.starts_with(&format!("{key} = ")) {
                found = true;
                format!("{key} = {value}")
            } else {
                l.to_string()
            }
        })
        .collect();
    assert!(found, "{key} not in config");
    out.join("\n")
}

#[test]
fn every_preset_is_valid_and_round_trips() {
    for name in Config::preset_names() {
        let c = Config::preset(name).unwrap();
        c.validate().unwrap();
        let text = toml::to_string(&c).unwrap();
        assert_eq!(Config::from_toml_str(&text, name).unwrap(), c);
    }
}

#[test]
fn threshold_that_cannot_be_met() {
    let text = base().replace(
        "committee_credits = 4",
        "committee_credits = 4\nsupermajority = 5",
    );
    let (field, rule) = invalid(&text);
    assert_eq!(field, "protocol.supermajority");
    assert!(rule.contains("can never be met"), "{rule}");
}

#[test]
fn zero_credits() {
    let (field, _) = invalid(&set(&base(), "committee_credits", "0"));
    assert_eq!(field, "protocol.committee_credits");
}

#[test]
fn more_absent_than_provisioners() {
    let (field, rule) = invalid(&set(&base(), "absent", "5"));
    assert_eq!(field, "faults.absent");
    assert!(rule.contains("more than the 4 provisioners"), "{rule}");
}

#[test]
fn zero_stake() {
    let (field, _) = invalid(&set(&base(), "stake", "0"));
    assert_eq!(field, "provisioners[0].stake");
}

#[test]
fn zero_rounds_and_iterations() {
    assert_eq!(invalid(&set(&base(), "rounds", "0")).0, "protocol.rounds");
    assert_eq!(
        invalid(&set(&base(), "max_iterations", "0")).0,
        "protocol.max_iterations"
    );
}

#[test]
fn nobody_ever_eligible() {
    let text = base().replace("eligible_from = 1", "eligible_from = 9");
    assert_eq!(invalid(&text).0, "provisioners");
}

#[test]
fn unknown_field_is_named_with_its_line() {
    let text = base().replace("[faults]", "[faults]\nbyzantine = 1");
    match Config::from_toml_str(&text, "test.toml") {
        Err(ConfigError::Parse { origin, message }) => {
            assert_eq!(origin, "test.toml");
            assert!(message.contains("byzantine"), "{message}");
            assert!(message.contains("line"), "{message}");
        }
        other => panic!("expected Parse, got {other:?}"),
    }
}

#[test]
fn unknown_mutation_is_rejected() {
    let text = base().replace("mutations = []", "mutations = [\"no-such-bug\"]");
    let err = Config::from_toml_str(&text, "test.toml").unwrap_err();
    assert!(err.to_string().contains("no-such-bug"), "{err}");
}

#[test]
fn garbage_does_not_panic() {
    for text in ["", "[[[", "name = 3", "protocol = 1", "\u{0}\u{1}"] {
        assert!(Config::from_toml_str(text, "x").is_err());
    }
}

#[test]
fn mainnet_is_valid_but_beyond_the_model() {
    let c = Config::preset("mainnet").unwrap();
    c.validate().unwrap();
    match c.check_model_limits() {
        Err(ConfigError::Invalid { field, .. }) => assert_eq!(field, "protocol.max_iterations"),
        other => panic!("expected a model-limit error, got {other:?}"),
    }
    assert_eq!(c.supermajority(), 43);
    assert_eq!(c.majority(), 33);
}

#[test]
fn the_dusk_profile_refuses_what_its_table_cannot_draw() {
    let ok = Config::preset("dusk").unwrap();
    ok.check_model_limits().unwrap();
    let field_of = |c: &Config| match c.check_model_limits() {
        Err(ConfigError::Invalid { field, rule }) => (field, rule),
        other => panic!("expected a refusal, got {other:?}"),
    };
    let mut c = ok.clone();
    c.sortition.seed = 7;
    let (field, rule) = field_of(&c);
    assert_eq!(field, "sortition.seed");
    assert!(rule.contains("sa-dusk profile"), "{rule}");
    let mut c = ok.clone();
    c.provisioners[1].stake = 999;
    let (field, rule) = field_of(&c);
    assert_eq!(field, "provisioners");
    assert!(
        rule.contains("provisioner 1") && rule.contains("1000 DUSK"),
        "{rule}"
    );
    let mut c = ok.clone();
    c.protocol.rounds = 4;
    assert_eq!(field_of(&c).0, "protocol.rounds");
    let mut c = ok;
    c.sortition.seed_classes = 3;
    assert_eq!(field_of(&c).0, "sortition.seed_classes");
}

#[test]
fn variants_are_named_in_configurations_and_dusk_is_not_written_out() {
    let mut c = Config::preset("byzantine").unwrap();
    c.protocol.finality = sa_model::config::Finality::SmFail;
    let text = toml::to_string(&c).expect("serializes");
    assert!(text.contains("finality = \"sm-fail\""), "{text}");
    let back = Config::from_toml_str(&text, "test").expect("parses");
    assert_eq!(back.protocol.finality, sa_model::config::Finality::SmFail);
    let plain = toml::to_string(&Config::preset("byzantine").unwrap()).expect("serializes");
    assert!(!plain.contains("finality"), "{plain}");
    let bad = text.replace("sm-fail", "fast");
    let err = Config::from_toml_str(&bad, "test").expect_err("unknown variant");
    assert!(err.to_string().contains("finality"), "{err}");
}
