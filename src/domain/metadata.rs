//! Synced instance metadata: dictionary entries and choice lists for the allowlisted fields.

use serde::{Deserialize, Serialize};

/// One column of a table as `sys_dictionary` describes it, after inheritance is resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DictionaryEntry {
    /// The table that defines the column (`task` for inherited fields).
    pub defined_on: String,
    pub element: String,
    pub label: String,
    pub internal_type: String,
    pub max_length: Option<u32>,
    pub mandatory: bool,
    pub read_only: bool,
    pub active: bool,
    /// The referenced table for reference fields.
    pub reference: Option<String>,
}

impl DictionaryEntry {
    /// Journal fields are append-only: a write adds an entry instead of replacing a value.
    pub fn is_journal(&self) -> bool {
        self.internal_type.starts_with("journal")
    }
}

/// One active choice of a choice field, in the operator's language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub sequence: i64,
}

/// A field with its dictionary entry and choices: one row of the metadata table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMetadata {
    pub entry: DictionaryEntry,
    pub choices: Vec<Choice>,
}

impl FieldMetadata {
    /// The label of a raw choice value, if the value is a known choice.
    pub fn choice_label(&self, value: &str) -> Option<&str> {
        self.choices
            .iter()
            .find(|c| c.value == value)
            .map(|c| c.label.as_str())
    }
}

/// Everything synced for one table: the allowlisted fields that exist, and those that do not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TableMetadata {
    pub table: String,
    /// The table chain that was walked, child first (`incident`, `task`).
    pub hierarchy: Vec<String>,
    pub fields: Vec<FieldMetadata>,
    /// Allowlisted names that the instance's dictionary does not know.
    pub missing: Vec<String>,
    pub synced_at: String,
}

impl TableMetadata {
    /// The metadata of one field, if it was synced.
    pub fn field(&self, element: &str) -> Option<&FieldMetadata> {
        self.fields.iter().find(|f| f.entry.element == element)
    }

    /// The label of a field, falling back to its name.
    pub fn label<'a>(&'a self, element: &'a str) -> &'a str {
        self.field(element)
            .map_or(element, |f| f.entry.label.as_str())
    }
}
