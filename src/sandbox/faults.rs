//! Fault switches that make the sandbox behave like an unwell or older instance.

use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use serde::{Deserialize, Serialize};

use super::respond;
use super::store::Snapshot;

/// Fault switches (all off by default); a partial JSON object leaves the others off.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[expect(
    clippy::struct_excessive_bools,
    reason = "independent switches, set one by one"
)]
pub struct Faults {
    /// Every path answers 200 with the HTML page of a sleeping developer instance.
    pub hibernating: bool,
    /// Every API call answers 429 with `Retry-After` and the `X-RateLimit-*` headers.
    pub rate_limited: bool,
    /// Milliseconds to wait before answering.
    pub slow_ms: u64,
    /// Every API call answers 500 with the error envelope.
    pub server_error: bool,
    /// Closing (state 7) is refused by an ACL even for `itil_admin` and `admin`.
    pub deny_close: bool,
    /// The pre-Utah `close_code` choices are active and the current ones inactive.
    pub legacy_close_codes: bool,
    /// 401 says "User Not Authenticated", as older instances do.
    pub legacy_401_text: bool,
    /// The token endpoint answers the opaque 401 to every request, as an instance does when
    /// the OAuth plugin or the password grant is switched off.
    #[serde(default)]
    pub oauth_disabled: bool,
    /// Seconds an access token lives (`expires_in`); 0 means the instance default, 1799.
    #[serde(default)]
    pub oauth_token_seconds: u64,
}

/// Seconds a rate-limited caller is told to wait.
const RETRY_AFTER_SECS: u64 = 2;

/// The `close_code` values of older releases, from CONTRACT 3.3.
const LEGACY_CLOSE_CODES: [&str; 7] = [
    "Solved (Work Around)",
    "Solved (Permanently)",
    "Solved Remotely (Work Around)",
    "Solved Remotely (Permanently)",
    "Not Solved (Not Reproducible)",
    "Not Solved (Too Costly)",
    "Closed/Resolved by Caller",
];

/// The page a hibernating developer instance serves for every URL, API paths included.
const HIBERNATION_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Instance hibernating</title></head>
<body>
<div class="instance-hibernating-page"><h1>Your instance is hibernating</h1>
<p>This developer instance went to sleep after a period without activity. Its data is kept.</p>
<p>Sign in to the site to wake your instance; waking takes a few minutes.</p>
<a class="button" href="https://developer.servicenow.com/dev.do#!/home?wu=true">Wake instance</a>
</div>
</body>
</html>
"#;

/// 200 with the hibernation page, as a sleeping instance answers any request.
pub(crate) fn hibernation_page() -> Response {
    let mut response = (StatusCode::OK, HIBERNATION_PAGE).into_response();
    respond::set(
        response.headers_mut(),
        header::CONTENT_TYPE,
        "text/html;charset=UTF-8",
    );
    response
}

/// 429 with the rate-limit headers and body of CONTRACT S9.
pub(crate) fn rate_limited() -> Response {
    let mut response = respond::error(
        StatusCode::TOO_MANY_REQUESTS,
        "Rate limit exceeded",
        Some("Rate limit of 500 requests per hour for Table API exceeded"),
    );
    let reset = chrono::Utc::now().timestamp() + 3600;
    let headers = response.headers_mut();
    respond::set(headers, header::RETRY_AFTER, &RETRY_AFTER_SECS.to_string());
    respond::set(headers, HeaderName::from_static("x-ratelimit-limit"), "500");
    respond::set(
        headers,
        HeaderName::from_static("x-ratelimit-reset"),
        &reset.to_string(),
    );
    respond::set(
        headers,
        HeaderName::from_static("x-ratelimit-rule"),
        "0c9e4f5d1b7a2010aa55bb66cc77dd88",
    );
    response
}

/// 500 while the `server_error` switch is on.
pub(crate) fn server_error() -> Response {
    respond::error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal Server Error",
        Some("The instance could not process the request"),
    )
}

/// Shows the choice set of the selected release: with `legacy_close_codes` the old close
/// codes are the active ones and the current ones are inactive.
pub(crate) fn apply_choice_view(snapshot: &mut Snapshot, faults: &Faults) {
    if !faults.legacy_close_codes {
        return;
    }
    let Some(rows) = snapshot.rows_mut("sys_choice") else {
        return;
    };
    for row in rows.iter_mut().filter(|r| is_close_code_row(r)) {
        let legacy = row
            .get("value")
            .is_some_and(|v| LEGACY_CLOSE_CODES.contains(&v.as_str()));
        row.insert("inactive".to_owned(), (!legacy).to_string());
    }
}

fn is_close_code_row(row: &super::store::Record) -> bool {
    let is = |field: &str, value: &str| row.get(field).is_some_and(|v| v == value);
    is("name", "incident") && is("element", "close_code")
}
