//! The text of spec/properties.md, for reports that quote each property's full statement and
//! why it matters (`sa report`). The file is compiled in, so a report always quotes the spec
//! of the build that checked.

/// spec/properties.md as built.
pub const PROPERTIES_MD: &str = include_str!("../../spec/properties.md");

/// A property's row of spec/properties.md.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpecRow {
    /// The full statement.
    pub statement: String,
    /// Why it matters (empty for witnesses, whose rows have no such column).
    pub why: String,
}

/// The row of property `id` (None: the spec has no row for it).
pub fn row(id: &str) -> Option<SpecRow> {
    let needle = format!("| `{id}` |");
    let line = PROPERTIES_MD.lines().find(|l| l.starts_with(&needle))?;
    let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
    Some(SpecRow {
        statement: cells.get(1).map_or(String::new(), |s| (*s).to_string()),
        // Safety rows: ID | statement | why | function | variant; witnesses: no "why".
        why: if cells.len() >= 5 {
            cells[2].to_string()
        } else {
            String::new()
        },
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_property_has_a_row_in_the_spec() {
        for s in sa_model::properties::SPECS {
            let row = super::row(s.id).unwrap_or_else(|| panic!("{} not in spec", s.id));
            assert!(!row.statement.is_empty(), "{}", s.id);
        }
        let row = super::row("SAFE-FINAL-NO-REVERT").unwrap();
        assert!(row.statement.contains("FIN-4"), "{}", row.statement);
        assert!(row.why.contains("settled history"), "{}", row.why);
        assert_eq!(super::row("SAFE-NOT-A-PROPERTY"), None);
    }
}
