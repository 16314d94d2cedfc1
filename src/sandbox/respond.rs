//! Responses in the instance's shapes: the JSON envelope, its headers, and the error bodies.

use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde_json::{Map, Value};

/// The content type every JSON answer of the instance carries.
pub(crate) const JSON_UTF8: &str = "application/json;charset=UTF-8";

const NO_CACHE: &str = "no-cache,no-store,must-revalidate,max-age=-1";

/// A JSON body with the headers a real instance sends on every API answer.
pub(crate) fn json(status: StatusCode, body: &Value) -> Response {
    json_text(status, body.to_string())
}

/// A JSON body written by hand (to keep the instance's key order), with the same headers.
pub(crate) fn json_text(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    set(headers, header::CONTENT_TYPE, JSON_UTF8);
    set(headers, header::CACHE_CONTROL, NO_CACHE);
    set(headers, header::PRAGMA, "no-store,no-cache");
    set(headers, header::EXPIRES, "0");
    set(headers, header::SERVER, "snow_adc");
    set(headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(
        headers,
        HeaderName::from_static("x-transaction-id"),
        &transaction_id(),
    );
    response
}

/// `{"result": …}` for a signed-in caller.
pub(crate) fn result(status: StatusCode, result: Value) -> Response {
    let mut body = Map::new();
    body.insert("result".to_owned(), result);
    let mut response = json(status, &Value::Object(body));
    set(
        response.headers_mut(),
        HeaderName::from_static("x-is-logged-in"),
        "true",
    );
    response
}

/// Sets one header from a value the sandbox builds itself.
pub(crate) fn set(headers: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        headers.insert(name, value);
    }
}

/// A 12-hex transaction id, new for every answer.
fn transaction_id() -> String {
    hex::encode(rand::random::<[u8; 6]>())
}

/// The error envelope: `{"error":{"message":…,"detail":…},"status":"failure"}`.
///
/// Written by hand so the keys keep the instance's order (message before detail).
pub(crate) fn error(status: StatusCode, message: &str, detail: Option<&str>) -> Response {
    let body = format!(
        r#"{{"error":{{"message":{},"detail":{}}},"status":"failure"}}"#,
        Value::from(message),
        detail.map_or(Value::Null, Value::from),
    );
    json_text(status, body)
}

/// 401 as CONTRACT 1.3, in the current or the older spelling.
pub(crate) fn unauthorized(legacy_text: bool) -> Response {
    let message = if legacy_text {
        "User Not Authenticated"
    } else {
        "User is not authenticated"
    };
    let mut response = error(
        StatusCode::UNAUTHORIZED,
        message,
        Some("Required to provide Auth information"),
    );
    let headers = response.headers_mut();
    set(
        headers,
        header::WWW_AUTHENTICATE,
        "Basic realm=\"Service-now\"",
    );
    set(
        headers,
        header::STRICT_TRANSPORT_SECURITY,
        "max-age=63072000; includeSubDomains",
    );
    response
}

/// 403 for an ACL denial; `operation` is `Update`, `Insert` or `Delete`.
pub(crate) fn acl_denied(operation: &str) -> Response {
    let detail = format!("ACL Exception {operation} Failed due to security constraints");
    error(StatusCode::FORBIDDEN, "Operation Failed", Some(&detail))
}

/// 403 for a data-policy violation, naming the labels of the missing fields.
pub(crate) fn data_policy(labels: &[String]) -> Response {
    let detail = format!(
        "Data Policy Exception: \n\tThe following fields are mandatory: {}",
        labels.join(", ")
    );
    error(StatusCode::FORBIDDEN, "Operation Failed", Some(&detail))
}

/// 403 for a business rule that aborted the write.
pub(crate) fn business_rule(table: &str, rule: &str, rule_id: &str) -> Response {
    let detail = format!(
        "Operation against file '{table}' was aborted by Business Rule '{rule}^{rule_id}'. \
         Business Rule Stack:{rule}"
    );
    error(StatusCode::FORBIDDEN, "Operation Failed", Some(&detail))
}

/// 404 for a record that is missing or hidden by an ACL (they look the same).
pub(crate) fn no_record() -> Response {
    error(
        StatusCode::NOT_FOUND,
        "No Record found",
        Some("Record doesn't exist or ACL restricts the record retrieval"),
    )
}

/// 400 for a table the instance does not have.
pub(crate) fn invalid_table(table: &str) -> Response {
    error(
        StatusCode::BAD_REQUEST,
        &format!("Invalid table {table}"),
        None,
    )
}

/// 400 (or 404 for retired API versions) for a path that is not an API resource.
pub(crate) fn no_resource(status: StatusCode) -> Response {
    error(
        status,
        "Requested URI does not represent any resource",
        None,
    )
}

/// 500 for an unexpected failure inside the sandbox; the cause goes to the log only.
pub(crate) fn internal(cause: &anyhow::Error) -> Response {
    tracing::warn!("sandbox request failed: {cause:#}");
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error",
        Some("The instance could not process the request"),
    )
}
