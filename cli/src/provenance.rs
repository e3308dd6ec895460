//! Where a result comes from: the binary's version and commit, when it ran, the full command
//! line, and a digest of the configuration checked. Carried by `--json` outputs (`provenance`)
//! and the HTML report, so that a result found in a file can be traced to the code and the
//! input that produced it.

use serde::Serialize;

/// The provenance of one run.
#[derive(Clone, Debug, Serialize)]
pub struct Provenance {
    /// `sa --version`.
    pub version: &'static str,
    /// The commit the binary was built from (`+`: with uncommitted changes).
    pub commit: &'static str,
    /// That commit's date.
    pub commit_date: &'static str,
    /// When the run started, UTC, ISO 8601.
    pub run_at: String,
    /// The command line, argument by argument.
    pub command_line: Vec<String>,
    /// BLAKE2b-256 (hex) of the configuration's canonical JSON, when the run checked one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<String>,
}

/// This run's provenance; `config` is the configuration it checked, if any.
pub fn of_run(config: Option<&sa_model::Config>) -> Provenance {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    Provenance {
        version: crate::VERSION,
        commit: env!("SA_COMMIT"),
        commit_date: env!("SA_COMMIT_DATE"),
        run_at: iso8601(secs),
        command_line: std::env::args().collect(),
        config_digest: config.map(|c| {
            let json = serde_json::to_vec(c).unwrap_or_default();
            sa_node::keys::to_hex(&sa_node::hash::blake2b256(&[&json]))
        }),
    }
}

/// `secs` since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (the proleptic Gregorian calendar;
/// days to civil date as in Howard Hinnant's `civil_from_days`).
pub fn iso8601(secs: u64) -> String {
    let days = secs / 86_400;
    let rem = secs % 86_400;
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3_600,
        rem % 3_600 / 60,
        rem % 60
    )
}

/// A `--json` output: its `format` (name/version) and `provenance` first, then the body's own
/// fields in their order.
#[derive(Serialize)]
pub struct Stamped<'a, T: Serialize> {
    /// `sa-<command>/<version>`: what the object is and which version of its schema.
    pub format: &'static str,
    /// Where it comes from.
    pub provenance: Provenance,
    /// The output itself.
    #[serde(flatten)]
    pub body: &'a T,
}

/// `body` stamped with `format` and this run's provenance.
pub fn stamp<'a, T: Serialize>(
    format: &'static str,
    body: &'a T,
    config: Option<&sa_model::Config>,
) -> Stamped<'a, T> {
    Stamped {
        format,
        provenance: of_run(config),
        body,
    }
}

/// Prints `body` as one pretty JSON object stamped with `format` and this run's provenance.
pub fn print_json<T: Serialize>(format: &'static str, body: &T, config: Option<&sa_model::Config>) {
    match serde_json::to_string_pretty(&stamp(format, body, config)) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("cannot encode the JSON output: {e}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(super::iso8601(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(super::iso8601(1_796_601_599), "2026-12-06T23:59:59Z");
    }

    #[test]
    fn a_stamped_object_keeps_its_fields_after_format_and_provenance() {
        #[derive(serde::Serialize)]
        struct Body {
            zeta: u8,
            alpha: u8,
        }
        let text = serde_json::to_string(&super::stamp(
            "sa-test/1",
            &Body { zeta: 1, alpha: 2 },
            None,
        ))
        .unwrap();
        let at = |k: &str| text.find(&format!("\"{k}\"")).unwrap();
        assert!(at("format") < at("provenance") && at("provenance") < at("zeta"));
        assert!(at("zeta") < at("alpha"), "the body keeps its order: {text}");
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["format"], "sa-test/1");
        assert!(v["provenance"]["commit"].is_string());
        assert!(v["provenance"].get("config_digest").is_none());
    }
}
