//! Table API handlers: list, read, update and create records.

use std::path::PathBuf;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, StatusCode, Uri, header};
use axum::response::Response;
use rusqlite::TransactionBehavior;
use serde_json::{Map, Value};

use super::auth::Caller;
use super::faults::{self, Faults};
use super::params::Params;
use super::render::{View, raw_value};
use super::rules::{Refusal, Rules};
use super::schema::schema;
use super::server::{Shared, blocking};
use super::store::{self, Record, Snapshot};
use super::{now, respond};

/// The only table the sandbox lets callers write.
const WRITABLE: &str = "incident";

/// Everything a handler needs once it leaves the async world.
struct Call {
    state: PathBuf,
    faults: Faults,
    caller: Caller,
    params: Params,
    /// `http://host:port` as the caller addressed the sandbox.
    base: String,
    path: String,
    body: Bytes,
}

impl Call {
    fn new(shared: &Shared, caller: Caller, headers: &HeaderMap, uri: &Uri, body: Bytes) -> Self {
        let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
        let base = host.map_or_else(
            || format!("http://{}", shared.addr),
            |h| format!("http://{h}"),
        );
        Self {
            state: shared.state_path.clone(),
            faults: shared.faults(),
            caller,
            params: Params::parse(uri.query()),
            base,
            path: uri.path().to_owned(),
            body,
        }
    }

    /// The records as this caller sees them, with the fault switches' views applied.
    fn snapshot(&self, conn: &rusqlite::Connection) -> anyhow::Result<Snapshot> {
        let mut snapshot = Snapshot::load(conn, &[])?;
        faults::apply_choice_view(&mut snapshot, &self.faults);
        Ok(snapshot)
    }

    fn view<'a>(&'a self, snapshot: &'a Snapshot) -> View<'a> {
        View {
            snapshot,
            base: &self.base,
            mode: self.params.display_mode(),
            links: self.params.links(),
            journal_visible: self.caller.has_role(&["itil", "itil_admin"]),
        }
    }

    /// Row-level read ACLs. They run after paging, as on the instance, so a page can come
    /// back shorter than the limit or empty with a non-zero total.
    fn can_read(&self, table: &str, record: &Record) -> bool {
        match table {
            "sys_properties" => self.caller.has_role(&["itil_admin"]),
            // Only admin holds the empty role list: `has_role` treats admin as every role.
            "oauth_entity" => self.caller.has_role(&[]),
            "sys_journal_field" => self.caller.has_role(&["itil", "itil_admin"]),
            "sys_user_has_role" => {
                self.caller.has_role(&[]) || record.get("user") == Some(&self.caller.sys_id)
            }
            _ => true,
        }
    }

    fn link(&self, table: &str, sys_id: &str) -> String {
        format!("{}/api/now/table/{table}/{sys_id}", self.base)
    }
}

/// `GET /api/now/table/{table}`.
pub(crate) async fn list(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(table): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(&shared, caller, &headers, &uri, Bytes::new());
    blocking(move || list_records(&call, &table)).await
}

fn list_records(call: &Call, table: &str) -> anyhow::Result<Response> {
    if schema().table(table).is_none() {
        return Ok(respond::invalid_table(table));
    }
    let conn = store::open(&call.state)?;
    let snapshot = call.snapshot(&conn)?;
    let query = call.params.query(table);
    let mut rows: Vec<&Record> = snapshot
        .rows(table)
        .iter()
        .filter(|r| query.matches(|path| raw_value(&snapshot, table, r, path)))
        .collect();
    rows.sort_by(|a, b| {
        query.compare(
            |path| raw_value(&snapshot, table, a, path),
            |path| raw_value(&snapshot, table, b, path),
        )
    });

    let total = rows.len() as u64;
    let offset = usize::try_from(call.params.offset()).unwrap_or(usize::MAX);
    let limit = usize::try_from(call.params.limit()).unwrap_or(usize::MAX);
    let fields = call.params.fields(table);
    let view = call.view(&snapshot);
    let page: Vec<Value> = rows
        .into_iter()
        .skip(offset)
        .take(limit)
        .filter(|r| call.can_read(table, r))
        .map(|r| view.record(table, r, &fields))
        .collect();

    let mut response = respond::result(StatusCode::OK, Value::Array(page));
    let headers = response.headers_mut();
    if !call.params.flag("sysparm_no_count") {
        respond::set(
            headers,
            HeaderName::from_static("x-total-count"),
            &total.to_string(),
        );
    }
    if !call.params.flag("sysparm_suppress_pagination_header") {
        let url = format!("{}{}", call.base, call.path);
        respond::set(headers, header::LINK, &call.params.link_header(&url, total));
    }
    Ok(response)
}

/// `GET /api/now/table/{table}/{sys_id}`.
pub(crate) async fn read(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let call = Call::new(&shared, caller, &headers, &uri, Bytes::new());
    blocking(move || read_record(&call, &table, &sys_id)).await
}

fn read_record(call: &Call, table: &str, sys_id: &str) -> anyhow::Result<Response> {
    if schema().table(table).is_none() {
        return Ok(respond::invalid_table(table));
    }
    let conn = store::open(&call.state)?;
    let snapshot = call.snapshot(&conn)?;
    let Some(record) = snapshot
        .find(table, sys_id)
        .filter(|r| call.can_read(table, r))
    else {
        return Ok(respond::no_record());
    };
    let fields = call.params.fields(table);
    let body = call.view(&snapshot).record(table, record, &fields);
    Ok(respond::result(StatusCode::OK, body))
}

/// `PATCH` and `PUT /api/now/table/{table}/{sys_id}`: both are partial updates.
pub(crate) async fn update(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path((table, sys_id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = Call::new(&shared, caller, &headers, &uri, body);
    blocking(move || update_record(&call, &table, &sys_id)).await
}

/// `POST` on a record path, honoured only as `X-HTTP-Method-Override: PATCH|PUT`.
pub(crate) async fn post_record(
    state: State<Arc<Shared>>,
    caller: Extension<Caller>,
    path: Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let method = headers
        .get("x-http-method-override")
        .and_then(|v| v.to_str().ok());
    match method.map(str::to_ascii_uppercase).as_deref() {
        Some("PATCH" | "PUT") => update(state, caller, path, headers, uri, body).await,
        _ => wrong_method().await,
    }
}

fn update_record(call: &Call, table: &str, sys_id: &str) -> anyhow::Result<Response> {
    if let Some(refused) = refuse_table(table, "Update") {
        return Ok(refused);
    }
    let Some(request) = request_object(&call.body) else {
        return Ok(bad_payload());
    };
    let mut conn = store::open(&call.state)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut snapshot = call.snapshot(&tx)?;
    let Some(current) = snapshot.find(table, sys_id).cloned() else {
        return Ok(respond::no_record());
    };
    let rules = rules(call, &snapshot);
    let write = match rules.update(&current, &request) {
        Ok(write) => write,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    if write.changed {
        store::update(&tx, table, &write.record)?;
        for entry in &write.journal {
            store::insert(&tx, "sys_journal_field", entry)?;
        }
    }
    tx.commit()?;
    Ok(written(call, &mut snapshot, table, write, StatusCode::OK))
}

/// `POST /api/now/table/{table}`: creates one incident.
pub(crate) async fn create(
    State(shared): State<Arc<Shared>>,
    Extension(caller): Extension<Caller>,
    Path(table): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    let call = Call::new(&shared, caller, &headers, &uri, body);
    blocking(move || create_record(&call, &table)).await
}

fn create_record(call: &Call, table: &str) -> anyhow::Result<Response> {
    if let Some(refused) = refuse_table(table, "Insert") {
        return Ok(refused);
    }
    let Some(request) = request_object(&call.body) else {
        return Ok(bad_payload());
    };
    let mut conn = store::open(&call.state)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let mut snapshot = call.snapshot(&tx)?;
    let write = match rules(call, &snapshot).insert(&request) {
        Ok(write) => write,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    store::insert(&tx, table, &write.record)?;
    for entry in &write.journal {
        store::insert(&tx, "sys_journal_field", entry)?;
    }
    tx.commit()?;
    let location = call.link(table, write.record.get("sys_id").map_or("", String::as_str));
    let mut response = written(call, &mut snapshot, table, write, StatusCode::CREATED);
    respond::set(response.headers_mut(), header::LOCATION, &location);
    Ok(response)
}

/// `DELETE` on a record: the sandbox's ACLs allow nobody to delete.
pub(crate) async fn delete(Path((table, _)): Path<(String, String)>) -> Response {
    refuse_table(&table, "Delete").unwrap_or_else(|| respond::acl_denied("Delete"))
}

/// Unknown tables get 400; known tables other than incident are read-only.
fn refuse_table(table: &str, operation: &str) -> Option<Response> {
    if schema().table(table).is_none() {
        return Some(respond::invalid_table(table));
    }
    (table != WRITABLE).then(|| respond::acl_denied(operation))
}

fn rules<'a>(call: &'a Call, snapshot: &'a Snapshot) -> Rules<'a> {
    Rules {
        snapshot,
        caller: &call.caller,
        faults: &call.faults,
        now: now(),
        auto_sys_fields: !call.params.flag("sysparm_suppress_auto_sys_field"),
    }
}

/// The full record after a write, journal included, as the caller asked to see it.
fn written(
    call: &Call,
    snapshot: &mut Snapshot,
    table: &str,
    write: super::rules::Write,
    status: StatusCode,
) -> Response {
    for entry in write.journal {
        snapshot.put("sys_journal_field", entry);
    }
    let record = write.record;
    snapshot.put(table, record.clone());
    let fields = call.params.fields(table);
    respond::result(status, call.view(snapshot).record(table, &record, &fields))
}

fn refused(refusal: &Refusal) -> Response {
    match refusal {
        Refusal::Acl(operation) => respond::acl_denied(operation),
        Refusal::DataPolicy(labels) => respond::data_policy(labels),
        Refusal::BusinessRule(rule, id) => respond::business_rule(WRITABLE, rule, id),
    }
}

/// The JSON object of a write; an empty body counts as `{}`.
fn request_object(body: &Bytes) -> Option<Map<String, Value>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Some(Map::new());
    }
    match serde_json::from_slice(body).ok()? {
        Value::Object(object) => Some(object),
        _ => None,
    }
}

fn bad_payload() -> Response {
    respond::error(
        StatusCode::BAD_REQUEST,
        "Exception while reading request",
        Some("The payload is not valid JSON."),
    )
}

/// Versioned `/api/now/v1/...` paths answer 404 on the instance.
pub(crate) async fn retired() -> Response {
    respond::no_resource(StatusCode::NOT_FOUND)
}

/// Any other path.
pub(crate) async fn unknown() -> Response {
    respond::no_resource(StatusCode::BAD_REQUEST)
}

/// A verb the resource does not support.
pub(crate) async fn wrong_method() -> Response {
    respond::error(StatusCode::METHOD_NOT_ALLOWED, "Method not Supported", None)
}
