//! Records as JSON: raw values, display values, reference links and journal text.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use super::schema::{FieldDef, schema};
use super::store::{Record, Snapshot};

/// What `sysparm_display_value` asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DisplayMode {
    Raw,
    Display,
    All,
}

impl DisplayMode {
    /// Reads the parameter; anything but `true` or `all` means raw values.
    pub fn parse(value: Option<&str>) -> Self {
        match value.map(str::to_ascii_lowercase).as_deref() {
            Some("true") => Self::Display,
            Some("all") => Self::All,
            _ => Self::Raw,
        }
    }
}

/// How to render records for one response.
pub(crate) struct View<'a> {
    pub snapshot: &'a Snapshot,
    /// `http://host:port`, the prefix of reference links.
    pub base: &'a str,
    pub mode: DisplayMode,
    /// False when `sysparm_exclude_reference_link=true`.
    pub links: bool,
    /// Whether the caller may read journal entries (display values of work notes).
    pub journal_visible: bool,
}

impl View<'_> {
    /// One record as a JSON object holding the requested (already validated) field paths.
    pub fn record(&self, table: &str, record: &Record, paths: &[String]) -> Value {
        let mut object = Map::new();
        for path in paths {
            if let Some(value) = self.path(table, record, path) {
                object.insert(path.clone(), value);
            }
        }
        Value::Object(object)
    }

    /// Follows a dot-walked path; an empty reference on the way yields an empty leaf.
    fn path(&self, table: &str, record: &Record, path: &str) -> Option<Value> {
        let steps = schema().walk(table, path)?;
        let (leaf, hops) = steps.split_last()?;
        let mut owner = Some(record);
        let mut owner_table = table.to_owned();
        for hop in hops {
            let value = owner
                .and_then(|r| r.get(&hop.element))
                .map_or("", String::as_str);
            owner = deref(self.snapshot, hop, value);
            hop.target()
                .unwrap_or_default()
                .clone_into(&mut owner_table);
        }
        Some(self.leaf(&owner_table, owner, leaf))
    }

    fn leaf(&self, table: &str, owner: Option<&Record>, field: &FieldDef) -> Value {
        let raw = owner
            .and_then(|r| r.get(&field.element))
            .cloned()
            .unwrap_or_default();
        if field.target().is_some() {
            return self.reference(field, &raw);
        }
        let display = if field.is_journal() {
            let id = owner
                .and_then(|r| r.get("sys_id"))
                .map_or("", String::as_str);
            let visible = self.journal_visible && !id.is_empty();
            if visible {
                journal_text(self.snapshot, id, field)
            } else {
                String::new()
            }
        } else {
            display_value(self.snapshot, table, field, &raw)
        };
        let raw = if field.is_journal() {
            String::new()
        } else {
            raw
        };
        match self.mode {
            DisplayMode::Raw => Value::String(raw),
            DisplayMode::Display => Value::String(display),
            DisplayMode::All if field.kind == "glide_date_time" && !raw.is_empty() => json!({
                "display_value": display, "display_value_internal": display, "value": raw,
            }),
            DisplayMode::All => json!({ "display_value": display, "value": raw }),
        }
    }

    fn reference(&self, field: &FieldDef, raw: &str) -> Value {
        if raw.is_empty() {
            return match self.mode {
                DisplayMode::All => json!({ "display_value": "", "value": "" }),
                _ => Value::String(String::new()),
            };
        }
        let display = reference_display(self.snapshot, field, raw);
        let link = self.link(field, raw);
        match (self.mode, self.links) {
            (DisplayMode::Raw, true) => json!({ "link": link, "value": raw }),
            (DisplayMode::Raw, false) => Value::String(raw.to_owned()),
            (DisplayMode::Display, true) => json!({ "display_value": display, "link": link }),
            (DisplayMode::Display, false) => Value::String(display),
            (DisplayMode::All, true) => {
                json!({ "display_value": display, "link": link, "value": raw })
            }
            (DisplayMode::All, false) => json!({ "display_value": display, "value": raw }),
        }
    }

    /// A record link, or a name-keyed one such as `sys_glide_object?name=string`.
    fn link(&self, field: &FieldDef, raw: &str) -> String {
        let target = field.target().unwrap_or_default();
        let base = format!("{}/api/now/table/{target}", self.base);
        match field.key() {
            "sys_id" => format!("{base}/{raw}"),
            key => {
                let query: String = url::form_urlencoded::Serializer::new(String::new())
                    .append_pair(key, raw)
                    .finish();
                format!("{base}?{query}")
            }
        }
    }
}

/// The record a reference value points at.
pub(crate) fn deref<'s>(
    snapshot: &'s Snapshot,
    field: &FieldDef,
    value: &str,
) -> Option<&'s Record> {
    let target = field.target()?;
    if value.is_empty() {
        return None;
    }
    snapshot.find_by(target, field.key(), value)
}

/// The text a reference shows: the display column of the record it points at.
fn reference_display(snapshot: &Snapshot, field: &FieldDef, raw: &str) -> String {
    let Some(target) = field.target() else {
        return raw.to_owned();
    };
    let Some(record) = deref(snapshot, field, raw) else {
        return String::new();
    };
    let column = schema().display_field(target);
    let value = record.get(column).cloned().unwrap_or_default();
    match schema().field(target, column) {
        Some(inner) if inner.target().is_some() => match deref(snapshot, inner, &value) {
            Some(next) => next
                .get(schema().display_field(inner.target().unwrap_or_default()))
                .cloned()
                .unwrap_or_default(),
            None => String::new(),
        },
        _ => value,
    }
}

/// The display value of a plain field: the choice label when it has one.
pub(crate) fn display_value(
    snapshot: &Snapshot,
    table: &str,
    field: &FieldDef,
    raw: &str,
) -> String {
    let label = (field.has_choices() && !raw.is_empty())
        .then(|| choice_label(snapshot, table, &field.element, raw))
        .flatten();
    label.unwrap_or_else(|| raw.to_owned())
}

/// The English label of a choice, searching the table and then its ancestors.
fn choice_label(snapshot: &Snapshot, table: &str, element: &str, value: &str) -> Option<String> {
    let rows = snapshot.rows("sys_choice");
    schema().chain(table).into_iter().find_map(|t| {
        let candidates: Vec<&Record> = rows
            .iter()
            .filter(|r| is(r, "name", &t.name) && is(r, "element", element))
            .filter(|r| is(r, "value", value) && is(r, "language", "en"))
            .collect();
        let active = candidates.iter().find(|r| is(r, "inactive", "false"));
        active
            .or(candidates.first())
            .and_then(|r| r.get("label").cloned())
    })
}

fn is(record: &Record, field: &str, value: &str) -> bool {
    record.get(field).is_some_and(|v| v == value)
}

/// The whole journal of one field, newest first, as one string.
pub(crate) fn journal_text(snapshot: &Snapshot, element_id: &str, field: &FieldDef) -> String {
    let mut entries: Vec<&Record> = snapshot
        .rows("sys_journal_field")
        .iter()
        .filter(|r| is(r, "element_id", element_id) && is(r, "element", &field.element))
        .collect();
    // Insertion order breaks ties between entries written in the same second.
    entries.reverse();
    entries.sort_by(|a, b| created_on(b).cmp(created_on(a)));
    let mut journal = String::new();
    for entry in entries {
        let by = entry.get("sys_created_by").map_or("", String::as_str);
        let author = user_display_name(snapshot, by);
        let text = entry.get("value").map_or("", String::as_str);
        let _ = write!(
            journal,
            "{} - {author} ({})\n{text}\n\n",
            created_on(entry),
            field.label
        );
    }
    journal
}

fn created_on(record: &Record) -> &str {
    record.get("sys_created_on").map_or("", String::as_str)
}

/// The display name of a user, falling back to the user name.
fn user_display_name(snapshot: &Snapshot, user_name: &str) -> String {
    snapshot
        .find_by("sys_user", "user_name", user_name)
        .and_then(|u| u.get("name").cloned())
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| user_name.to_owned())
}

/// The raw value of a (dot-walked) field path; `""` when a reference on the way is empty.
pub(crate) fn raw_value(snapshot: &Snapshot, table: &str, record: &Record, path: &str) -> String {
    let Some(steps) = schema().walk(table, path) else {
        return String::new();
    };
    let Some((leaf, hops)) = steps.split_last() else {
        return String::new();
    };
    let mut owner = Some(record);
    for hop in hops {
        let value = owner
            .and_then(|r| r.get(&hop.element))
            .map_or("", String::as_str);
        owner = deref(snapshot, hop, value);
    }
    match owner.and_then(|r| r.get(&leaf.element)) {
        Some(value) if !leaf.is_journal() => value.clone(),
        _ => String::new(),
    }
}
