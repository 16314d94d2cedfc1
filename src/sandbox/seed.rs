//! The seed story: records built from `assets/sandbox/*.json` and the schema.

use serde::Deserialize;
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use super::rules::priority;
use super::schema::{Schema, TableDef, schema};
use super::store::Record;
use super::{
    ADMIN_PASSWORD, INTEGRATION_PASSWORD, INTEGRATION_USER, ITIL_ONLY_PASSWORD, ITIL_ONLY_USER,
    OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET, READONLY_PASSWORD, READONLY_USER,
};

/// When the seeded metadata was "installed"; business records carry their own dates.
const INSTALLED_ON: &str = "2026-01-05 09:00:00";

/// Everything a fresh state file holds.
pub(crate) struct Story {
    pub records: Vec<(String, Record)>,
    /// Demo users that can sign in; stored hashed, never as given here.
    pub passwords: Vec<(&'static str, &'static str)>,
    /// Secrets of the registered OAuth clients, by client id; stored hashed too.
    pub client_secrets: Vec<(&'static str, &'static str)>,
}

/// Builds the whole seed story.
pub(crate) fn story() -> anyhow::Result<Story> {
    let schema = schema();
    let mut records = Vec::new();
    records.extend(metadata(schema));
    records.extend(choices()?);
    records.extend(people()?);
    records.extend(incidents()?);
    records.extend(properties()?);
    records.extend(overrides()?);
    records.push(oauth_client());
    let passwords = vec![
        (INTEGRATION_USER, INTEGRATION_PASSWORD),
        ("admin", ADMIN_PASSWORD),
        (READONLY_USER, READONLY_PASSWORD),
        (ITIL_ONLY_USER, ITIL_ONLY_PASSWORD),
    ];
    Ok(Story {
        records,
        passwords,
        client_secrets: vec![(OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET)],
    })
}

/// A stable 32-hex `sys_id` for a seeded row, so that resets give the same ids.
pub(crate) fn seed_id(key: &str) -> String {
    let digest = hex::encode(Sha256::digest(format!("actionplane-sandbox:{key}")));
    digest[..32].to_owned()
}

/// A full record of a table: schema defaults, install stamps, then the given values.
pub(crate) fn complete(table: &str, given: Record) -> Record {
    let mut record: Record = schema()
        .fields(table)
        .into_iter()
        .map(|f| (f.element.clone(), f.default.clone()))
        .collect();
    for (field, value) in [
        ("sys_created_on", INSTALLED_ON),
        ("sys_created_by", "system"),
        ("sys_updated_on", INSTALLED_ON),
        ("sys_updated_by", "system"),
    ] {
        if record.contains_key(field) {
            record.insert(field.to_owned(), value.to_owned());
        }
    }
    record.extend(given);
    record
}

fn row(table: &str, pairs: &[(&str, &str)]) -> (String, Record) {
    let given = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    (table.to_owned(), complete(table, given))
}

fn flag(value: bool) -> &'static str {
    if value { "true" } else { "false" }
}

/// `sys_db_object`, `sys_dictionary` and `sys_glide_object`, all derived from the schema.
fn metadata(schema: &Schema) -> Vec<(String, Record)> {
    let mut rows = Vec::new();
    for table in &schema.tables {
        rows.push(table_row(table));
        rows.extend(dictionary_rows(table));
    }
    for glide in &schema.glide_types {
        let id = seed_id(&format!("sys_glide_object:{}", glide.0));
        rows.push(row(
            "sys_glide_object",
            &[
                ("sys_id", &id),
                ("name", &glide.0),
                ("label", &glide.1),
                ("scalar_type", &glide.2),
                ("scalar_length", &glide.3),
            ],
        ));
    }
    rows
}

fn table_row(table: &TableDef) -> (String, Record) {
    let id = seed_id(&format!("sys_db_object:{}", table.name));
    let parent = table
        .super_class
        .as_deref()
        .map(|p| seed_id(&format!("sys_db_object:{p}")));
    row(
        "sys_db_object",
        &[
            ("sys_id", &id),
            ("name", &table.name),
            ("label", &table.label),
            ("super_class", parent.as_deref().unwrap_or("")),
            ("is_extendable", flag(table.extendable)),
        ],
    )
}

fn dictionary_rows(table: &TableDef) -> Vec<(String, Record)> {
    let collection_id = seed_id(&format!("sys_dictionary:{}.", table.name));
    let mut rows = vec![row(
        "sys_dictionary",
        &[
            ("sys_id", &collection_id),
            ("name", &table.name),
            ("element", ""),
            ("column_label", &table.label),
            ("internal_type", "collection"),
            ("max_length", "40"),
        ],
    )];
    for field in &table.fields {
        let id = seed_id(&format!("sys_dictionary:{}.{}", table.name, field.element));
        let max_length = field.max_length.to_string();
        rows.push(row(
            "sys_dictionary",
            &[
                ("sys_id", &id),
                ("name", &table.name),
                ("element", &field.element),
                ("column_label", &field.label),
                ("internal_type", &field.kind),
                ("max_length", &max_length),
                ("mandatory", flag(field.mandatory)),
                ("read_only", flag(field.read_only)),
                ("display", flag(table.display == field.element)),
                ("primary", flag(field.element == "sys_id")),
                ("reference", field.target().unwrap_or("")),
                ("default_value", &field.default),
                ("choice", &field.choice),
            ],
        ));
    }
    rows
}

#[derive(Deserialize)]
struct ChoiceFile {
    lists: Vec<ChoiceList>,
}

#[derive(Deserialize)]
struct ChoiceList {
    name: String,
    element: String,
    #[serde(default)]
    inactive: bool,
    #[serde(default = "english")]
    language: String,
    choices: Vec<(String, String, u32)>,
}

fn english() -> String {
    "en".to_owned()
}

fn choices() -> anyhow::Result<Vec<(String, Record)>> {
    let file: ChoiceFile = serde_json::from_str(include_str!("../../assets/sandbox/choices.json"))?;
    let mut rows = Vec::new();
    for list in &file.lists {
        for (value, label, sequence) in &list.choices {
            let key = format!(
                "sys_choice:{}.{}.{}.{}",
                list.name, list.element, list.language, value
            );
            rows.push(row(
                "sys_choice",
                &[
                    ("sys_id", &seed_id(&key)),
                    ("name", &list.name),
                    ("element", &list.element),
                    ("value", value),
                    ("label", label),
                    ("sequence", &sequence.to_string()),
                    ("inactive", flag(list.inactive)),
                    ("language", &list.language),
                ],
            ));
        }
    }
    Ok(rows)
}

#[derive(Deserialize)]
struct PeopleFile {
    roles: Vec<Record>,
    groups: Vec<Record>,
    users: Vec<Value>,
}

/// Users, roles, role grants and groups.
fn people() -> anyhow::Result<Vec<(String, Record)>> {
    let file: PeopleFile = serde_json::from_str(include_str!("../../assets/sandbox/users.json"))?;
    let mut rows: Vec<(String, Record)> = Vec::new();
    for role in &file.roles {
        rows.push((
            "sys_user_role".to_owned(),
            complete("sys_user_role", role.clone()),
        ));
    }
    for group in &file.groups {
        rows.push((
            "sys_user_group".to_owned(),
            complete("sys_user_group", group.clone()),
        ));
    }
    for user in &file.users {
        let mut user = user.as_object().cloned().unwrap_or_default();
        let roles = user.remove("roles").unwrap_or_default();
        let user = strings(user);
        let user_id = user.get("sys_id").cloned().unwrap_or_default();
        for role in roles
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            let role_id = find_id(&rows, "sys_user_role", role)?;
            rows.push(grant(&user_id, &role_id));
        }
        rows.push(("sys_user".to_owned(), complete("sys_user", user)));
    }
    Ok(rows)
}

fn strings(object: serde_json::Map<String, Value>) -> Record {
    object
        .into_iter()
        .map(|(k, v)| {
            let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
            (k, text)
        })
        .collect()
}

fn find_id(rows: &[(String, Record)], table: &str, name: &str) -> anyhow::Result<String> {
    rows.iter()
        .find(|(t, r)| t == table && r.get("name").is_some_and(|n| n == name))
        .and_then(|(_, r)| r.get("sys_id").cloned())
        .ok_or_else(|| anyhow::anyhow!("the sandbox seed grants an unknown role {name}"))
}

fn grant(user_id: &str, role_id: &str) -> (String, Record) {
    let id = seed_id(&format!("sys_user_has_role:{user_id}.{role_id}"));
    row(
        "sys_user_has_role",
        &[
            ("sys_id", &id),
            ("user", user_id),
            ("role", role_id),
            ("granted_by", "6816f79cc0a8016401c5a33be04be441"),
        ],
    )
}

/// Incidents with their business-rule fields filled in, and their journal entries.
fn incidents() -> anyhow::Result<Vec<(String, Record)>> {
    let file: Vec<Value> =
        serde_json::from_str(include_str!("../../assets/sandbox/incidents.json"))?;
    let mut rows = Vec::new();
    for incident in file {
        let mut incident = incident.as_object().cloned().unwrap_or_default();
        let journal = incident.remove("journal").unwrap_or_default();
        let mut record = strings(incident);
        derive_incident_fields(&mut record);
        let sys_id = record.get("sys_id").cloned().unwrap_or_default();
        let entries: Vec<(String, String, String, String)> = serde_json::from_value(journal)?;
        for (index, (on, by, element, text)) in entries.into_iter().enumerate() {
            let id = seed_id(&format!("sys_journal_field:{sys_id}.{index}"));
            rows.push(row(
                "sys_journal_field",
                &[
                    ("sys_id", &id),
                    ("element_id", &sys_id),
                    ("element", &element),
                    ("name", "incident"),
                    ("value", &text),
                    ("sys_created_on", &on),
                    ("sys_created_by", &by),
                ],
            ));
        }
        rows.push(("incident".to_owned(), complete("incident", record)));
    }
    Ok(rows)
}

/// The values the instance's business rules keep in step with state, impact and urgency.
fn derive_incident_fields(record: &mut Record) {
    let state = record
        .get("state")
        .cloned()
        .unwrap_or_else(|| "1".to_owned());
    let impact = record.get("impact").map_or("3", String::as_str);
    let urgency = record.get("urgency").map_or("3", String::as_str);
    let priority = priority(impact, urgency).to_owned();
    record.insert("priority".to_owned(), priority);
    record.insert(
        "active".to_owned(),
        flag(!matches!(state.as_str(), "7" | "8")).to_owned(),
    );
    record.insert("incident_state".to_owned(), state);
    record.insert("sys_class_name".to_owned(), "incident".to_owned());
}

fn properties() -> anyhow::Result<Vec<(String, Record)>> {
    let file: Vec<Record> =
        serde_json::from_str(include_str!("../../assets/sandbox/properties.json"))?;
    Ok(file
        .into_iter()
        .map(|p| ("sys_properties".to_owned(), complete("sys_properties", p)))
        .collect())
}

/// Per-table dictionary overrides of inherited incident fields.
fn overrides() -> anyhow::Result<Vec<(String, Record)>> {
    let file: Vec<Record> =
        serde_json::from_str(include_str!("../../assets/sandbox/overrides.json"))?;
    Ok(file
        .into_iter()
        .map(|o| {
            let table = "sys_dictionary_override";
            (table.to_owned(), complete(table, o))
        })
        .collect())
}

/// The Application Registry entry that the OAuth password grant checks (its secret is kept
/// hashed apart, as the instance keeps it encrypted).
fn oauth_client() -> (String, Record) {
    let id = seed_id(&format!("oauth_entity:{OAUTH_CLIENT_ID}"));
    row(
        "oauth_entity",
        &[
            ("sys_id", &id),
            ("name", "ActionPlane sandbox client"),
            ("client_id", OAUTH_CLIENT_ID),
            ("type", "client"),
            ("active", "true"),
        ],
    )
}
