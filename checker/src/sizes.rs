//! How large a preset's search is, for a progress estimate: the unique states `sa check`
//! counts on each exhaustively checkable preset at its own seed (the README's preset table;
//! `cli/tests/docs_drift.rs` checks that both say the same). A configuration that differs
//! from its preset in any field has no pinned size: its progress shows a rate, not an ETA.

use std::time::Duration;

use sa_model::Config;

/// Unique states of the bounded search of each preset the checker finishes.
pub const PRESET_STATES: &[(&str, u64)] = &[
    ("default", 13_127_694),
    ("tiny", 186_134),
    ("small", 21_459_129),
    ("two-eligible", 87),
    ("byzantine", 261_633),
    ("byzantine-over", 259_691),
    ("emergency", 3_078_280),
    ("matured", 13_127_931),
    ("warnings", 13_092_235),
    ("stall", 13_127_694),
    ("rejoin", 3_078_280),
    ("dusk", 670_128),
];

/// The pinned size of `config`'s search: some only when `config` is a preset unchanged.
#[must_use]
pub fn pinned_states(config: &Config) -> Option<u64> {
    let (_, n) = PRESET_STATES
        .iter()
        .find(|(name, _)| *name == config.name)?;
    (Config::preset(&config.name).as_ref() == Some(config)).then_some(*n)
}

/// "12.3% of ~13,127,694 states, ETA 3m 20s" when the size is pinned (the rate so far
/// carried to the end: an estimate, breadth-first levels are not equally fast), else
/// "size not pinned". Past the pinned size (another seed, a limit) it says so.
#[must_use]
pub fn estimate(unique: u64, elapsed: Duration, pinned: Option<u64>) -> String {
    let Some(total) = pinned else {
        return "size not pinned (not an unchanged preset): no ETA".into();
    };
    if unique >= total {
        return format!("past the pinned {} states: no ETA", thousands(total));
    }
    let pct = unique as f64 * 100.0 / total as f64;
    if unique == 0 {
        return format!("0% of ~{} states", thousands(total));
    }
    let secs = elapsed.as_secs_f64() / unique as f64 * (total - unique) as f64;
    let left = secs.round() as u64;
    format!(
        "{pct:.1}% of ~{} states, ETA {}m {:02}s",
        thousands(total),
        left / 60,
        left % 60
    )
}

/// 13127694 → "13,127,694".
#[must_use]
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (k, ch) in digits.chars().enumerate() {
        if k > 0 && (digits.len() - k).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preset_unchanged_has_its_size_and_a_changed_one_has_none() {
        let tiny = Config::preset("tiny").unwrap();
        assert_eq!(pinned_states(&tiny), Some(186_134));
        let mut changed = tiny.clone();
        changed.protocol.rounds += 1;
        assert_eq!(pinned_states(&changed), None);
        assert_eq!(pinned_states(&Config::preset("largest").unwrap()), None);
        // Every pinned name is a preset.
        for (name, _) in PRESET_STATES {
            assert!(Config::preset(name).is_some(), "{name}");
        }
    }

    #[test]
    fn the_estimate_carries_the_rate_to_the_end() {
        let d = Duration::from_secs(10);
        assert_eq!(
            estimate(1_000, d, Some(4_000)),
            "25.0% of ~4,000 states, ETA 0m 30s"
        );
        assert_eq!(
            estimate(5_000, d, Some(4_000)),
            "past the pinned 4,000 states: no ETA"
        );
        assert_eq!(estimate(0, d, Some(4_000)), "0% of ~4,000 states");
        assert!(estimate(10, d, None).contains("no ETA"));
        assert_eq!(thousands(13_127_694), "13,127,694");
        assert_eq!(thousands(87), "87");
        assert_eq!(thousands(100_000), "100,000");
    }
}
