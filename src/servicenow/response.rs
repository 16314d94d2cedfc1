//! Turns an HTTP answer (status, a few headers, body) into JSON or a typed error.

use serde_json::Value;

use super::error::Error;
use super::wire::{self, ErrorEnvelope};

/// The parts of a response head that decide how the body is read.
#[derive(Clone, Debug, Default)]
pub struct Head {
    pub status: u16,
    pub content_type: String,
    /// `Retry-After` in seconds, when sent.
    pub retry_after: Option<u64>,
    /// `X-MFA_TOKEN: invalid` was sent.
    pub mfa: bool,
    /// `X-Total-Count`, when sent.
    pub total_count: Option<u64>,
}

/// The JSON body of a 2xx answer, or the error the answer stands for; `what` names the
/// addressed resource for a 404.
pub fn classify(head: &Head, body: &[u8], what: &str) -> Result<Value, Error> {
    if !looks_like_json(&head.content_type, body) {
        return Err(non_json_error(head, body));
    }
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        return Err(status_error_without_body(head).unwrap_or_else(|| not_json(head)));
    };
    if (200..300).contains(&head.status) {
        return Ok(value);
    }
    let envelope = wire::error_envelope(&value).unwrap_or_default();
    Err(status_error(head, envelope, what))
}

/// Whether a body should be parsed as JSON: not HTML/XML by type or shape.
fn looks_like_json(content_type: &str, body: &[u8]) -> bool {
    let first = body.iter().copied().find(|b| !b.is_ascii_whitespace());
    let content_type = content_type.to_ascii_lowercase();
    if first == Some(b'<') || content_type.contains("html") || content_type.contains("xml") {
        return false;
    }
    // A JSON body without a declared type is still read; an empty body is not JSON.
    content_type.contains("json") || matches!(first, Some(b'{' | b'['))
}

/// The error for an HTML or other non-JSON answer: hibernation first, then the status.
fn non_json_error(head: &Head, body: &[u8]) -> Error {
    if String::from_utf8_lossy(body)
        .to_ascii_lowercase()
        .contains("hibernat")
    {
        return Error::Hibernating;
    }
    status_error_without_body(head).unwrap_or_else(|| not_json(head))
}

/// Statuses whose meaning does not need the body (a proxy may answer them in HTML).
fn status_error_without_body(head: &Head) -> Option<Error> {
    match head.status {
        401 => Some(Error::Unauthorized { mfa: head.mfa }),
        429 => Some(Error::RateLimited {
            retry_after: head.retry_after,
        }),
        500..=599 => Some(Error::Server {
            status: head.status,
            message: format!("the body was not JSON ({})", shown_type(&head.content_type)),
        }),
        _ => None,
    }
}

fn not_json(head: &Head) -> Error {
    Error::NotJson {
        status: head.status,
        content_type: head.content_type.clone(),
    }
}

fn shown_type(content_type: &str) -> &str {
    if content_type.is_empty() {
        "no content type"
    } else {
        content_type
    }
}

/// The typed error of a non-2xx answer with a JSON error envelope.
fn status_error(head: &Head, envelope: ErrorEnvelope, what: &str) -> Error {
    match head.status {
        401 => Error::Unauthorized { mfa: head.mfa },
        403 => forbidden(envelope),
        404 => Error::NotFound {
            what: what.to_owned(),
        },
        429 => Error::RateLimited {
            retry_after: head.retry_after,
        },
        500..=599 => Error::Server {
            status: head.status,
            message: joined(&envelope),
        },
        400..=499 => Error::BadRequest {
            message: non_empty(joined(&envelope), || format!("HTTP {}", head.status)),
        },
        other => Error::Unexpected {
            reason: format!("HTTP {other} with a JSON body"),
        },
    }
}

/// Splits a 403 into ACL, data policy, business rule, or other refusals.
fn forbidden(envelope: ErrorEnvelope) -> Error {
    let ErrorEnvelope { message, detail } = envelope;
    // Scripted APIs may put the reason into `message` and leave `detail` empty.
    let reason = if detail.is_empty() { &message } else { &detail };
    let text = format!("{message}\n{detail}");
    if text.contains("Data Policy Exception") {
        let source = if detail.contains("Data Policy Exception") {
            &detail
        } else {
            &message
        };
        return Error::DataPolicy {
            fields: wire::data_policy_labels(source),
        };
    }
    if let Some(rule) = wire::business_rule_name(&text) {
        return Error::BusinessRule { rule };
    }
    if text.contains("ACL Exception") {
        return Error::AclDenied {
            detail: reason.clone(),
        };
    }
    Error::Forbidden { message, detail }
}

fn joined(envelope: &ErrorEnvelope) -> String {
    match (envelope.message.is_empty(), envelope.detail.is_empty()) {
        (_, true) => envelope.message.clone(),
        (true, false) => envelope.detail.clone(),
        (false, false) => format!("{}: {}", envelope.message, envelope.detail),
    }
}

fn non_empty(text: String, fallback: impl FnOnce() -> String) -> String {
    if text.is_empty() { fallback() } else { text }
}

/// `Retry-After` as seconds: a number, or an HTTP date turned into seconds from now.
pub fn retry_after_seconds(header: &str) -> Option<u64> {
    let header = header.trim();
    if let Ok(seconds) = header.parse::<u64>() {
        return Some(seconds);
    }
    let at = chrono::DateTime::parse_from_rfc2822(header).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now()).num_seconds();
    Some(u64::try_from(wait).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(status: u16, content_type: &str) -> Head {
        Head {
            status,
            content_type: content_type.to_owned(),
            ..Head::default()
        }
    }

    const JSON: &str = "application/json;charset=UTF-8";

    fn error_body(message: &str, detail: &str) -> String {
        serde_json::json!({"error": {"message": message, "detail": detail}, "status": "failure"})
            .to_string()
    }

    #[test]
    fn the_hibernation_page_is_recognised_whatever_the_status() {
        let page = "<html><body><div class=\"instance-hibernating-page\">\
                    <h1>Your instance is hibernating</h1></div></body></html>";
        for status in [200, 302, 503] {
            let error = classify(&head(status, "text/html"), page.as_bytes(), "x").unwrap_err();
            assert!(
                matches!(error, Error::Hibernating),
                "status {status}: {error:?}"
            );
        }
        // A body starting with '<' is HTML even when labelled JSON.
        let error = classify(&head(200, JSON), page.as_bytes(), "x").unwrap_err();
        assert!(matches!(error, Error::Hibernating));
    }

    #[test]
    fn other_html_is_not_json_and_keeps_the_body_out_of_the_error() {
        let page = b"<html><body>Login secret-ish page</body></html>";
        let error = classify(&head(200, "text/html"), page, "x").unwrap_err();
        let Error::NotJson {
            status,
            content_type,
        } = &error
        else {
            panic!("{error:?}")
        };
        assert_eq!((*status, content_type.as_str()), (200, "text/html"));
        assert!(!error.to_string().contains("secret-ish"));
    }

    #[test]
    fn truncated_json_is_not_json() {
        let error = classify(&head(200, JSON), br#"{"result":{"sys_id":"ab"#, "x").unwrap_err();
        assert!(matches!(error, Error::NotJson { status: 200, .. }));
    }

    #[test]
    fn both_401_spellings_and_the_mfa_header() {
        for message in ["User is not authenticated", "User Not Authenticated"] {
            let body = error_body(message, "Required to provide Auth information");
            let error = classify(&head(401, JSON), body.as_bytes(), "x").unwrap_err();
            assert!(matches!(error, Error::Unauthorized { mfa: false }));
        }
        let mfa = Head {
            mfa: true,
            ..head(401, JSON)
        };
        let error = classify(&mfa, b"{}", "x").unwrap_err();
        assert!(matches!(error, Error::Unauthorized { mfa: true }));
    }

    #[test]
    fn refusals_split_by_their_detail() {
        let cases = [
            (
                "Operation Failed",
                "ACL Exception Update Failed due to security constraints",
                "acl-denied",
            ),
            (
                "Operation Failed",
                "Data Policy Exception: \n\tThe following fields are mandatory: Resolution code",
                "data-policy",
            ),
            (
                "Operation Failed",
                "Operation against file 'incident' was aborted by Business Rule 'X^1'. \
                 Business Rule Stack:X",
                "business-rule",
            ),
            (
                "Operation against file 'incident' was aborted by Business Rule 'Y^2'.",
                "",
                "business-rule",
            ),
            (
                "Insufficient rights to query records",
                "Field(s) present in the query do not have permission to be read",
                "forbidden",
            ),
        ];
        for (message, detail, kind) in cases {
            let body = error_body(message, detail);
            let error = classify(&head(403, JSON), body.as_bytes(), "x").unwrap_err();
            assert_eq!(error.kind(), kind, "{message} / {detail}");
        }
    }

    #[test]
    fn not_found_names_the_resource_and_bad_request_keeps_null_detail_out() {
        let body = error_body(
            "No Record found",
            "Record doesn't exist or ACL restricts the record retrieval",
        );
        let error = classify(&head(404, JSON), body.as_bytes(), "incident/abc").unwrap_err();
        assert!(matches!(&error, Error::NotFound { what } if what == "incident/abc"));

        let body = br#"{"error":{"message":"Invalid table foo","detail":null},"status":"failure"}"#;
        let error = classify(&head(400, JSON), body, "x").unwrap_err();
        assert!(matches!(&error, Error::BadRequest { message } if message == "Invalid table foo"));
    }

    #[test]
    fn rate_limits_and_server_errors_survive_html_bodies() {
        let limited = Head {
            retry_after: Some(1),
            ..head(429, "text/html")
        };
        let error = classify(&limited, b"<html>busy</html>", "x").unwrap_err();
        assert!(matches!(
            error,
            Error::RateLimited {
                retry_after: Some(1)
            }
        ));
        let error =
            classify(&head(502, "text/html"), b"<html>bad gateway</html>", "x").unwrap_err();
        assert!(matches!(error, Error::Server { status: 502, .. }));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after_seconds(" 1312 "), Some(1312));
        assert_eq!(
            retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(0)
        );
        assert_eq!(retry_after_seconds("soon"), None);
    }
}
