//! Metadata sync: the table chain, dictionary entries with inheritance and overrides, and
//! choice lists.

use crate::domain::incident::Record;
use crate::domain::metadata::{Choice, DictionaryEntry, FieldMetadata, TableMetadata};

use super::client::Client;
use super::error::Error;
use super::paging::Listing;
use super::{now_utc, overrides, query, wire};

/// How deep a table chain may go; real ones are two or three tables.
const MAX_DEPTH: usize = 10;

const DICTIONARY_FIELDS: [&str; 9] = [
    "name",
    "element",
    "column_label",
    "internal_type",
    "max_length",
    "mandatory",
    "read_only",
    "active",
    "reference",
];

const CHOICE_FIELDS: [&str; 7] = [
    "name", "element", "value", "label", "sequence", "inactive", "language",
];

impl Client {
    /// Dictionary entries and choices of `fields` on `table`, inherited ones included, with
    /// the table's dictionary overrides applied to their mandatory and read-only flags.
    pub async fn sync_metadata(
        &self,
        table: &str,
        fields: &[String],
    ) -> Result<TableMetadata, Error> {
        let table = query::table(table)?;
        let hierarchy = self.hierarchy(table).await?;
        let wanted = unique_names(fields);
        let rows = self.dictionary_rows(&hierarchy, &wanted).await?;

        let mut found = Vec::new();
        let mut missing: Vec<String> = unique(fields)
            .into_iter()
            .filter(|f| !query::is_name(f))
            .collect();
        for element in &wanted {
            match closest(&rows, &hierarchy, element) {
                Some(row) => found.push(dictionary_entry(row)),
                None => missing.push(element.clone()),
            }
        }
        let override_rows = self.override_rows(&hierarchy, &found).await?;
        for entry in &mut found {
            overrides::apply(entry, &override_rows, &hierarchy);
        }

        let elements: Vec<String> = found.iter().map(|e| e.element.clone()).collect();
        let choice_rows = self.choice_rows(&hierarchy, &elements).await?;
        let fields = found
            .into_iter()
            .map(|entry| {
                let choices = choices_for(&choice_rows, &hierarchy, &entry.element);
                FieldMetadata { entry, choices }
            })
            .collect();
        Ok(TableMetadata {
            table: table.to_owned(),
            hierarchy,
            fields,
            missing,
            synced_at: now_utc(),
        })
    }

    /// The table and its ancestors through `sys_db_object.super_class`, child first.
    async fn hierarchy(&self, table: &str) -> Result<Vec<String>, Error> {
        let mut chain = vec![table.to_owned()];
        while chain.len() < MAX_DEPTH {
            let current = chain.last().map_or(table, String::as_str);
            let filter = format!("name={current}");
            let Some(row) = self
                .first_row(
                    "sys_db_object",
                    &filter,
                    "name,super_class,super_class.name",
                )
                .await?
            else {
                if chain.len() == 1 {
                    let what =
                        format!("the table {table} in sys_db_object (or the user may not read it)");
                    return Err(Error::NotFound { what });
                }
                break;
            };
            let Some(parent) = self.parent_name(&row).await? else {
                break;
            };
            if chain.contains(&parent) {
                break;
            }
            chain.push(parent);
        }
        Ok(chain)
    }

    /// The parent table's name: dot-walked when the instance did, else looked up by `sys_id`.
    async fn parent_name(&self, row: &Record) -> Result<Option<String>, Error> {
        let walked = row.value("super_class.name");
        if !walked.is_empty() {
            return Ok(query::is_name(walked).then(|| walked.to_owned()));
        }
        let id = row.value("super_class");
        if id.is_empty() || query::sys_id(id).is_err() {
            return Ok(None);
        }
        let parent = self
            .first_row("sys_db_object", &format!("sys_id={id}"), "name")
            .await?;
        Ok(parent
            .map(|p| p.value("name").to_owned())
            .filter(|n| query::is_name(n)))
    }

    /// The first row of a small raw query, or `None` when nothing matched.
    async fn first_row(
        &self,
        table: &str,
        filter: &str,
        fields: &str,
    ) -> Result<Option<Record>, Error> {
        let params = [
            ("sysparm_query", filter),
            ("sysparm_fields", fields),
            ("sysparm_limit", "1"),
            ("sysparm_exclude_reference_link", "true"),
        ];
        let url = self.table_url(table, None, &params);
        let reply = self.get(url, &format!("the table {table}")).await?;
        let rows = wire::record_list(&reply.body).ok_or_else(|| Error::Unexpected {
            reason: format!("the answer for {table} holds no result list"),
        })?;
        Ok(rows.into_iter().next())
    }

    async fn dictionary_rows(
        &self,
        tables: &[String],
        elements: &[String],
    ) -> Result<Vec<Record>, Error> {
        if elements.is_empty() {
            return Ok(Vec::new());
        }
        let listing = Listing {
            what: format!("dictionary entries of {}", tables.join(", ")),
            table: "sys_dictionary",
            query: format!(
                "{}^elementIN{}",
                query::any_table(tables),
                elements.join(",")
            ),
            fields: &DICTIONARY_FIELDS,
        };
        self.list_all(&listing).await
    }

    async fn choice_rows(
        &self,
        tables: &[String],
        elements: &[String],
    ) -> Result<Vec<Record>, Error> {
        if elements.is_empty() {
            return Ok(Vec::new());
        }
        let listing = Listing {
            what: format!("choices of {}", tables.join(", ")),
            table: "sys_choice",
            query: format!(
                "{}^elementIN{}^inactive=false^language=en^ORDERBYsequence",
                query::any_table(tables),
                elements.join(",")
            ),
            fields: &CHOICE_FIELDS,
        };
        self.list_all(&listing).await
    }
}

/// The requested names in order, once each.
fn unique(fields: &[String]) -> Vec<String> {
    let mut seen = Vec::new();
    for field in fields {
        let field = field.trim().to_owned();
        if !field.is_empty() && !seen.contains(&field) {
            seen.push(field);
        }
    }
    seen
}

/// The requested names that can go into a query.
fn unique_names(fields: &[String]) -> Vec<String> {
    unique(fields)
        .into_iter()
        .filter(|f| query::is_name(f))
        .collect()
}

/// How close a table is to the child; tables outside the chain rank last.
fn rank(hierarchy: &[String], table: &str) -> usize {
    hierarchy
        .iter()
        .position(|t| t == table)
        .unwrap_or(usize::MAX)
}

/// The dictionary row of `element` defined closest to the child table.
fn closest<'a>(rows: &'a [Record], hierarchy: &[String], element: &str) -> Option<&'a Record> {
    rows.iter()
        .filter(|r| r.value("element") == element && rank(hierarchy, r.value("name")) != usize::MAX)
        .min_by_key(|r| rank(hierarchy, r.value("name")))
}

fn dictionary_entry(row: &Record) -> DictionaryEntry {
    let reference = row.value("reference");
    DictionaryEntry {
        defined_on: row.value("name").to_owned(),
        element: row.value("element").to_owned(),
        label: row.value("column_label").to_owned(),
        internal_type: row.value("internal_type").to_owned(),
        max_length: wire::number(row.value("max_length")),
        mandatory: wire::flag(row.value("mandatory"), false),
        read_only: wire::flag(row.value("read_only"), false),
        active: wire::flag(row.value("active"), true),
        reference: (!reference.is_empty()).then(|| reference.to_owned()),
    }
}

/// The active English choices of `element` from the closest table that has any, by sequence.
fn choices_for(rows: &[Record], hierarchy: &[String], element: &str) -> Vec<Choice> {
    let usable: Vec<&Record> = rows
        .iter()
        .filter(|r| r.value("element") == element)
        .filter(|r| !wire::flag(r.value("inactive"), false))
        .filter(|r| matches!(r.value("language"), "" | "en"))
        .collect();
    let Some(best) = usable
        .iter()
        .map(|r| rank(hierarchy, r.value("name")))
        .min()
    else {
        return Vec::new();
    };
    if best == usize::MAX {
        return Vec::new();
    }
    let mut choices: Vec<Choice> = Vec::new();
    for row in usable
        .into_iter()
        .filter(|r| rank(hierarchy, r.value("name")) == best)
    {
        if choices.iter().all(|c| c.value != row.value("value")) {
            choices.push(Choice {
                value: row.value("value").to_owned(),
                label: row.value("label").to_owned(),
                sequence: row.value("sequence").trim().parse().unwrap_or(0),
            });
        }
    }
    choices.sort_by_key(|c| c.sequence);
    choices
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, &str)]) -> Record {
        Record::from_pairs(pairs)
    }

    fn chain() -> Vec<String> {
        vec!["incident".into(), "task".into()]
    }

    #[test]
    fn the_child_definition_wins() {
        let rows = [
            row(&[
                ("name", "task"),
                ("element", "state"),
                ("column_label", "State"),
            ]),
            row(&[
                ("name", "incident"),
                ("element", "state"),
                ("column_label", "Incident state"),
            ]),
            row(&[
                ("name", "problem"),
                ("element", "close_code"),
                ("column_label", "Other"),
            ]),
        ];
        let found = closest(&rows, &chain(), "state")
            .map(dictionary_entry)
            .unwrap();
        assert_eq!(
            (found.defined_on.as_str(), found.label.as_str()),
            ("incident", "Incident state")
        );
        assert!(closest(&rows, &chain(), "close_code").is_none());
    }

    #[test]
    fn choices_come_from_the_closest_table_in_sequence_order() {
        let choice = |table, value, sequence, inactive| {
            row(&[
                ("name", table),
                ("element", "state"),
                ("value", value),
                ("label", value),
                ("sequence", sequence),
                ("inactive", inactive),
                ("language", "en"),
            ])
        };
        let rows = [
            choice("task", "1", "1", "false"),
            choice("incident", "7", "70", "false"),
            choice("incident", "2", "20", "false"),
            choice("incident", "9", "5", "true"),
            choice("incident", "2", "21", "false"),
        ];
        let values: Vec<String> = choices_for(&rows, &chain(), "state")
            .into_iter()
            .map(|c| c.value)
            .collect();
        assert_eq!(values, ["2", "7"]);
    }

    #[test]
    fn requested_names_are_deduplicated_and_odd_ones_kept_apart() {
        let fields: Vec<String> = ["state", " state", "close_code", "bad^name", ""]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        assert_eq!(unique_names(&fields), ["state", "close_code"]);
        assert_eq!(unique(&fields).len(), 3);
    }
}
