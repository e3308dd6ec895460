//! A testnet's network schedule file (`sa testnet --schedule FILE|NAME`): the rules of
//! [`sa_node::schedule::Schedule`] every node applies to what it sends, and, in an optional
//! `[network]` table, the network they were written for (stakes, genesis seed, committee), since
//! a schedule that scripts who hears what in which iteration depends on the draws.
//!
//! Built in: `async-final` (`testkit/schedules/async-final.toml`), the fork of Final blocks that
//! asynchrony alone allows (spec/incidents.md, "Asynchrony through finality"), on the
//! `async-final` preset's network.

use serde::Deserialize;

use sa_node::schedule::Schedule;

/// The network a schedule was written for; absent fields are the testnet's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkSpec {
    /// Stake of each provisioner in DUSK (one credit's weight each); also sets the node count.
    pub stakes: Option<Vec<u64>>,
    /// The genesis seed number (the draws follow from it).
    pub seed: Option<u64>,
    /// Committee credits C.
    pub committee: Option<u32>,
}

/// A schedule file: the rules and the network they were written for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ScheduleSpec {
    /// Where it came from (a file or a built-in name), for messages.
    pub source: String,
    /// The network.
    pub network: NetworkSpec,
    /// The rules.
    pub schedule: Schedule,
}

/// The built-in schedules, by name.
pub const BUILT_IN: [(&str, &str); 1] = [(
    "async-final",
    include_str!("../../schedules/async-final.toml"),
)];

impl ScheduleSpec {
    /// Reads `arg`: a built-in name, or else a file.
    pub fn load(arg: &str) -> Result<ScheduleSpec, String> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == arg) {
            return ScheduleSpec::parse(text, &format!("built-in schedule {arg}"));
        }
        let text = std::fs::read_to_string(arg).map_err(|e| {
            let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
            format!(
                "--schedule {arg}: {e} (not a file, nor a built-in schedule: {})",
                names.join(", ")
            )
        })?;
        ScheduleSpec::parse(&text, arg)
    }

    /// Parses a schedule file's text; errors name `source` and the field.
    pub fn parse(text: &str, source: &str) -> Result<ScheduleSpec, String> {
        let mut table: toml::Table = toml::from_str(text).map_err(|e| format!("{source}: {e}"))?;
        let network = match table.remove("network") {
            Some(v) => v
                .try_into::<NetworkSpec>()
                .map_err(|e| format!("{source}: [network]: {e}"))?,
            None => NetworkSpec::default(),
        };
        let schedule: Schedule = toml::Value::Table(table)
            .try_into()
            .map_err(|e| format!("{source}: {e}"))?;
        if network
            .stakes
            .as_ref()
            .is_some_and(|s| s.is_empty() || s.contains(&0))
        {
            return Err(format!(
                "{source}: [network].stakes: every provisioner needs a stake of at least 1 DUSK"
            ));
        }
        Ok(ScheduleSpec {
            source: source.to_owned(),
            network,
            schedule,
        })
    }

    /// Checks the rules against a network of `nodes` provisioners.
    pub fn validate(&self, nodes: u32) -> Result<(), String> {
        self.schedule
            .validate(nodes)
            .map_err(|e| format!("{}: {e}", self.source))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_in_schedules_parse_and_fit_their_network() {
        for (name, _) in BUILT_IN {
            let s = ScheduleSpec::load(name).expect(name);
            let n = s.network.stakes.as_ref().map_or(4, Vec::len) as u32;
            s.validate(n).expect(name);
            assert!(!s.schedule.rules.is_empty(), "{name}");
        }
    }

    #[test]
    fn bad_files_name_where() {
        let e = ScheduleSpec::parse("[network]\nstakes = [1, 0]", "f.toml").expect_err("zero");
        assert!(e.starts_with("f.toml: [network].stakes"), "{e}");
        let e = ScheduleSpec::parse("[network]\nnodes = 3", "f.toml").expect_err("unknown");
        assert!(e.starts_with("f.toml: [network]"), "{e}");
        let e = ScheduleSpec::parse("[[rule]]\naction = \"later\"", "f.toml").expect_err("action");
        assert!(e.starts_with("f.toml"), "{e}");
        let s =
            ScheduleSpec::parse("[[rule]]\nto = [9]\naction = \"drop\"", "f.toml").expect("parses");
        let e = s.validate(4).expect_err("node 9");
        assert!(e.starts_with("f.toml: rule[0].to"), "{e}");
        assert!(ScheduleSpec::load("no-such-schedule")
            .expect_err("missing")
            .contains("async-final"));
    }
}
