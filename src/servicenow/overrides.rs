//! Dictionary overrides: per-table changes (`sys_dictionary_override`) to inherited columns.

use crate::domain::incident::Record;
use crate::domain::metadata::DictionaryEntry;

use super::client::Client;
use super::error::Error;
use super::paging::Listing;
use super::{query, wire};

const OVERRIDE_FIELDS: [&str; 7] = [
    "name",
    "base_table",
    "element",
    "mandatory",
    "mandatory_override",
    "read_only",
    "read_only_override",
];

impl Client {
    /// The override rows that may reach the inherited entries of `found`.
    ///
    /// The rows sit on the tables between the child and the defining table. A user who may
    /// not read the table gets none: the sync then keeps the dictionary's own flags.
    pub(super) async fn override_rows(
        &self,
        hierarchy: &[String],
        found: &[DictionaryEntry],
    ) -> Result<Vec<Record>, Error> {
        let Some((child, _)) = hierarchy.split_first() else {
            return Ok(Vec::new());
        };
        let inherited: Vec<&str> = found
            .iter()
            .filter(|e| e.defined_on != *child)
            .map(|e| e.element.as_str())
            .collect();
        // The root table has nothing above it to override.
        let tables = &hierarchy[..hierarchy.len() - 1];
        if inherited.is_empty() || tables.is_empty() {
            return Ok(Vec::new());
        }
        let listing = Listing {
            what: format!("dictionary overrides of {child}"),
            table: "sys_dictionary_override",
            query: format!(
                "{}^elementIN{}",
                query::any_table(tables),
                inherited.join(",")
            ),
            fields: &OVERRIDE_FIELDS,
        };
        match self.list_all(&listing).await {
            Err(
                error @ (Error::AclDenied { .. }
                | Error::Forbidden { .. }
                | Error::NotFound { .. }
                | Error::BadRequest { .. }),
            ) => {
                tracing::warn!(
                    kind = error.kind(),
                    "dictionary overrides unreadable: {error}"
                );
                Ok(Vec::new())
            }
            outcome => outcome,
        }
    }
}

/// Applies to `entry` each flag whose `*_override` is set on the closest table below the one
/// that defines the column.
pub(super) fn apply(entry: &mut DictionaryEntry, rows: &[Record], hierarchy: &[String]) {
    let Some(defined) = hierarchy.iter().position(|t| *t == entry.defined_on) else {
        return;
    };
    let mut reaching: Vec<(usize, &Record)> = rows
        .iter()
        .filter(|r| r.value("element") == entry.element)
        .filter_map(|r| {
            let rank = hierarchy.iter().position(|t| t == r.value("name"))?;
            (rank < defined).then_some((rank, r))
        })
        .collect();
    reaching.sort_by_key(|(rank, _)| *rank);
    let flag = |name: &str| {
        let switch = format!("{name}_override");
        reaching
            .iter()
            .find(|(_, r)| wire::flag(r.value(&switch), false))
            .map(|(_, r)| wire::flag(r.value(name), false))
    };
    if let Some(mandatory) = flag("mandatory") {
        entry.mandatory = mandatory;
    }
    if let Some(read_only) = flag("read_only") {
        entry.read_only = read_only;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Record {
        Record::from_pairs(pairs)
    }

    fn entry(defined_on: &str, element: &str) -> DictionaryEntry {
        DictionaryEntry {
            defined_on: defined_on.to_owned(),
            element: element.to_owned(),
            label: element.to_owned(),
            internal_type: "string".to_owned(),
            max_length: Some(40),
            mandatory: false,
            read_only: true,
            active: true,
            reference: None,
        }
    }

    fn chain() -> Vec<String> {
        ["u_child", "incident", "task"].map(str::to_owned).to_vec()
    }

    #[test]
    fn only_flags_marked_as_overridden_are_applied_closest_first() {
        let rows = [
            row(&[
                ("name", "incident"),
                ("element", "short_description"),
                ("mandatory", "true"),
                ("mandatory_override", "true"),
                ("read_only", "false"),
                ("read_only_override", "false"),
            ]),
            row(&[
                ("name", "u_child"),
                ("element", "short_description"),
                ("mandatory", "false"),
                ("mandatory_override", "false"),
            ]),
            row(&[
                ("name", "u_child"),
                ("element", "short_description"),
                ("read_only", "false"),
                ("read_only_override", "true"),
            ]),
        ];
        let mut found = entry("task", "short_description");
        apply(&mut found, &rows, &chain());
        assert!(found.mandatory, "incident's override reaches the child");
        assert!(!found.read_only, "the child's own override wins");
    }

    #[test]
    fn overrides_on_the_defining_table_or_elsewhere_do_not_count() {
        let rows = [
            row(&[
                ("name", "task"),
                ("element", "state"),
                ("mandatory", "true"),
                ("mandatory_override", "true"),
            ]),
            row(&[
                ("name", "problem"),
                ("element", "state"),
                ("mandatory", "true"),
                ("mandatory_override", "true"),
            ]),
        ];
        let mut found = entry("task", "state");
        apply(&mut found, &rows, &chain());
        assert!(!found.mandatory);
    }
}
