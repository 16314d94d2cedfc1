//! What a write to an incident goes through: ACLs, choice checks, the data policy for
//! resolve and close, and the business rules that stamp fields and append journal entries.

use serde_json::{Map, Value};

use super::auth::Caller;
use super::faults::Faults;
use super::schema::schema;
use super::seed::complete;
use super::store::{Record, Snapshot};

const TABLE: &str = "incident";
const RESOLVED: &str = "6";
const CLOSED: &str = "7";
const CANCELED: &str = "8";

/// Fields a closed incident still accepts; anything else is silently not written, as a
/// field-level write ACL does on a real instance.
const WRITABLE_AFTER_CLOSE: [&str; 7] = [
    "state",
    "description",
    "subcategory",
    "resolved_at",
    "resolved_by",
    "work_notes",
    "comments",
];

/// The business rule that refuses to reopen a Closed incident.
const PREVENT_REOPEN: (&str, &str) = (
    "Prevent reopen of closed incident",
    "3d1f6a2b9c0e4d5f8a7b6c5d4e3f2a10",
);

/// Why the instance refused a write.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// An ACL denied the operation (`Update` or `Insert`).
    Acl(&'static str),
    /// The data policy found mandatory fields empty; their labels.
    DataPolicy(Vec<String>),
    /// A business rule aborted the write: its name and `sys_id`.
    BusinessRule(&'static str, &'static str),
}

/// The outcome of an accepted write.
#[derive(Debug)]
pub(crate) struct Write {
    pub record: Record,
    /// New `sys_journal_field` rows.
    pub journal: Vec<Record>,
    /// False when the request changed nothing, so nothing is stored.
    pub changed: bool,
}

/// The context one write runs in.
pub(crate) struct Rules<'a> {
    pub snapshot: &'a Snapshot,
    pub caller: &'a Caller,
    pub faults: &'a Faults,
    /// UTC `YYYY-MM-DD HH:MM:SS`.
    pub now: String,
    /// False with `sysparm_suppress_auto_sys_field=true`.
    pub auto_sys_fields: bool,
}

/// Priority from impact and urgency, by the base instance's lookup rules.
pub(crate) fn priority(impact: &str, urgency: &str) -> &'static str {
    match (impact, urgency) {
        ("1", "1") => "1",
        ("1", "2") | ("2", "1") => "2",
        ("1", "3") | ("2", "2") | ("3", "1") => "3",
        ("2", "3") | ("3", "2") => "4",
        _ => "5",
    }
}

impl Rules<'_> {
    /// A PATCH or PUT of one incident: only the sent fields change.
    pub fn update(&self, current: &Record, request: &Map<String, Value>) -> Result<Write, Refusal> {
        if !self.caller.has_role(&["itil", "itil_admin"]) {
            return Err(Refusal::Acl("Update"));
        }
        let was = field(current, "state").to_owned();
        let (mut edits, notes) = self.accept(request);
        if was == CLOSED {
            edits.retain(|name, _| WRITABLE_AFTER_CLOSE.contains(&name.as_str()));
            if edits.get("state").is_some_and(|state| state != CLOSED) {
                return Err(Refusal::BusinessRule(PREVENT_REOPEN.0, PREVENT_REOPEN.1));
            }
        }
        let mut next = current.clone();
        next.extend(edits);
        self.check_transition(&was, field(&next, "state"), "Update")?;
        check_data_policy(&next)?;
        self.stamp(&was, current, &mut next);

        let changed = next != *current || !notes.is_empty();
        if changed && self.auto_sys_fields {
            let count = field(current, "sys_mod_count").parse::<u64>().unwrap_or(0) + 1;
            next.insert("sys_mod_count".to_owned(), count.to_string());
            self.touch(&mut next);
        }
        let journal = self.journal(field(&next, "sys_id"), notes);
        Ok(Write {
            record: next,
            journal,
            changed,
        })
    }

    /// A POST of a new incident.
    pub fn insert(&self, request: &Map<String, Value>) -> Result<Write, Refusal> {
        if !self.caller.has_role(&["itil", "itil_admin"]) {
            return Err(Refusal::Acl("Insert"));
        }
        let (changes, notes) = self.accept(request);
        let mut next = complete(TABLE, Record::new());
        next.insert("sys_id".to_owned(), new_sys_id());
        next.insert("number".to_owned(), next_number(self.snapshot));
        next.insert("sys_class_name".to_owned(), TABLE.to_owned());
        next.insert("opened_at".to_owned(), self.now.clone());
        next.insert("opened_by".to_owned(), self.caller.sys_id.clone());
        next.insert("sys_created_on".to_owned(), self.now.clone());
        next.insert("sys_created_by".to_owned(), self.caller.user_name.clone());
        next.extend(changes);
        self.check_transition("", field(&next, "state"), "Insert")?;
        check_data_policy(&next)?;
        self.stamp("", &Record::new(), &mut next);
        self.touch(&mut next);
        let journal = self.journal(field(&next, "sys_id"), notes);
        Ok(Write {
            record: next,
            journal,
            changed: true,
        })
    }

    /// The request's writable fields as strings, and its journal entries apart.
    ///
    /// Unknown fields, system fields and values that are not an active choice are dropped
    /// silently, which is what lets a bad `close_code` surface as a data-policy error.
    fn accept(&self, request: &Map<String, Value>) -> (Record, Vec<(String, String)>) {
        let mut changes = Record::new();
        let mut notes = Vec::new();
        for (name, value) in request {
            let Some(def) = schema().field(TABLE, name) else {
                continue;
            };
            let Some(value) = as_text(value) else {
                continue;
            };
            if def.read_only {
                continue;
            }
            if def.is_journal() {
                if !value.trim().is_empty() {
                    notes.push((name.clone(), value));
                }
                continue;
            }
            if def.has_choices() && !value.is_empty() && !self.is_active_choice(name, &value) {
                continue;
            }
            changes.insert(name.clone(), value);
        }
        (changes, notes)
    }

    fn is_active_choice(&self, element: &str, value: &str) -> bool {
        let rows = self.snapshot.rows("sys_choice");
        let choices_of = |table: &str| {
            rows.iter()
                .filter(|r| field(r, "name") == table && field(r, "element") == element)
                .filter(|r| field(r, "language") == "en" && field(r, "inactive") == "false")
                .map(|r| field(r, "value"))
                .collect::<Vec<_>>()
        };
        let chain = schema().chain(TABLE);
        let list = chain
            .iter()
            .map(|t| choices_of(&t.name))
            .find(|l| !l.is_empty());
        list.is_some_and(|values| values.contains(&value))
    }

    /// Resolving needs `itil`; closing needs `itil_admin` (admin may do both).
    fn check_transition(
        &self,
        was: &str,
        state: &str,
        operation: &'static str,
    ) -> Result<(), Refusal> {
        if state == was {
            return Ok(());
        }
        let allowed = match state {
            CLOSED => !self.faults.deny_close && self.caller.has_role(&["itil_admin"]),
            RESOLVED => self.caller.has_role(&["itil", "itil_admin"]),
            _ => true,
        };
        if allowed {
            Ok(())
        } else {
            Err(Refusal::Acl(operation))
        }
    }

    /// The before-update business rules: state mirror, priority, resolve/close stamps.
    fn stamp(&self, was: &str, current: &Record, next: &mut Record) {
        let state = field(next, "state").to_owned();
        next.insert("incident_state".to_owned(), state.clone());
        let level = priority(field(next, "impact"), field(next, "urgency"));
        let rated_changed = field(next, "impact") != field(current, "impact")
            || field(next, "urgency") != field(current, "urgency");
        if rated_changed || current.is_empty() {
            next.insert("priority".to_owned(), level.to_owned());
        }
        if state == was {
            return;
        }
        let me = self.caller.sys_id.clone();
        match state.as_str() {
            RESOLVED => self.set_resolved(next, true),
            CLOSED => {
                self.set_resolved(next, false);
                next.insert("closed_at".to_owned(), self.now.clone());
                next.insert("closed_by".to_owned(), me);
                next.insert("active".to_owned(), "false".to_owned());
            }
            CANCELED => {
                next.insert("active".to_owned(), "false".to_owned());
            }
            _ if was == RESOLVED => {
                let count = field(next, "reopen_count").parse::<u64>().unwrap_or(0) + 1;
                next.insert("reopen_count".to_owned(), count.to_string());
                next.insert("reopened_by".to_owned(), me);
                next.insert("reopened_time".to_owned(), self.now.clone());
                next.insert("active".to_owned(), "true".to_owned());
            }
            _ => {
                next.insert("active".to_owned(), "true".to_owned());
            }
        }
    }

    /// Stamps resolution; when closing straight away, only where it is still empty.
    fn set_resolved(&self, next: &mut Record, overwrite: bool) {
        if overwrite || field(next, "resolved_at").is_empty() {
            next.insert("resolved_at".to_owned(), self.now.clone());
        }
        if overwrite || field(next, "resolved_by").is_empty() {
            next.insert("resolved_by".to_owned(), self.caller.sys_id.clone());
        }
    }

    fn touch(&self, next: &mut Record) {
        next.insert("sys_updated_on".to_owned(), self.now.clone());
        next.insert("sys_updated_by".to_owned(), self.caller.user_name.clone());
    }

    fn journal(&self, element_id: &str, notes: Vec<(String, String)>) -> Vec<Record> {
        notes
            .into_iter()
            .map(|(element, value)| {
                let mut entry = Record::new();
                entry.insert("sys_id".to_owned(), new_sys_id());
                entry.insert("element_id".to_owned(), element_id.to_owned());
                entry.insert("element".to_owned(), element);
                entry.insert("name".to_owned(), TABLE.to_owned());
                entry.insert("value".to_owned(), value);
                entry.insert("sys_created_on".to_owned(), self.now.clone());
                entry.insert("sys_created_by".to_owned(), self.caller.user_name.clone());
                entry
            })
            .collect()
    }
}

/// Resolved and Closed incidents need a resolution code and notes.
fn check_data_policy(next: &Record) -> Result<(), Refusal> {
    if !matches!(field(next, "state"), RESOLVED | CLOSED) {
        return Ok(());
    }
    let missing: Vec<String> = ["close_code", "close_notes"]
        .into_iter()
        .filter(|name| field(next, name).trim().is_empty())
        .filter_map(|name| schema().field(TABLE, name).map(|f| f.label.clone()))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(Refusal::DataPolicy(missing))
    }
}

fn field<'r>(record: &'r Record, name: &str) -> &'r str {
    record.get(name).map_or("", String::as_str)
}

/// A JSON value as the string the instance would store; objects and arrays are not values.
fn as_text(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Null => Some(String::new()),
        Value::Bool(_) | Value::Number(_) => Some(value.to_string()),
        Value::Array(_) | Value::Object(_) => None,
    }
}

/// A fresh 32-hex `sys_id`.
pub(crate) fn new_sys_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// The next `INC` + 7 digits number after the highest one in use.
fn next_number(snapshot: &Snapshot) -> String {
    let highest = snapshot
        .rows(TABLE)
        .iter()
        .filter_map(|r| field(r, "number").strip_prefix("INC")?.parse::<u64>().ok())
        .max()
        .unwrap_or(10_000);
    format!("INC{:07}", highest + 1)
}
