//! Typed errors of the Table API client, each with a next step for the operator.

use thiserror::Error;

/// What went wrong talking to an instance; every message ends with what to do next.
#[derive(Debug, Error)]
pub enum Error {
    /// 401; `mfa` when the instance asked for a one-time password (`X-MFA_TOKEN: invalid`).
    #[error("{}", unauthorized_text(*.mfa))]
    Unauthorized { mfa: bool },

    /// 403 from an ACL.
    #[error(
        "an ACL denied the operation ({detail}): grant the integration user the role it needs \
         (itil to resolve, itil_admin to close) or review the table's ACLs"
    )]
    AclDenied { detail: String },

    /// 403 from a data policy; `fields` are the labels the instance listed.
    #[error(
        "a data policy refused the change, these fields are mandatory: {}: set them in the same \
         change and try again",
        .fields.join(", ")
    )]
    DataPolicy { fields: Vec<String> },

    /// 403 from a business rule that aborted the operation.
    #[error(
        "the business rule '{rule}' aborted the operation: check what that rule requires on the \
         instance, then try again"
    )]
    BusinessRule { rule: String },

    /// Any other 403, such as missing rights to query a table or field.
    #[error(
        "the instance refused the request (403: {}): give the integration user read access to \
         that table (metadata tables may need admin or personalize_dictionary)",
        join_message(.message, .detail)
    )]
    Forbidden { message: String, detail: String },

    /// 404, or no record with the given number.
    #[error(
        "{what} was not found, or an ACL hides it: check the number or sys_id and that the user \
         may read the table"
    )]
    NotFound { what: String },

    /// A number matched more than one record.
    #[error("the number {number} matches {count} records: address the record by its sys_id")]
    Ambiguous { number: String, count: u64 },

    /// 429, with the seconds of `Retry-After` when the instance sent it.
    #[error("{}", rate_limited_text(*.retry_after))]
    RateLimited { retry_after: Option<u64> },

    /// The instance sent its hibernation page instead of an API answer.
    #[error(
        "instance is hibernating: wake it from the developer portal (developer.servicenow.com), \
         wait a few minutes, then try again"
    )]
    Hibernating,

    /// A body that is not JSON, or JSON cut short.
    #[error(
        "the instance answered {status} with {} instead of complete JSON: check that the \
         instance URL is the instance root (https://<name>.service-now.com) and that it is up",
        content_type_text(.content_type)
    )]
    NotJson { status: u16, content_type: String },

    /// 5xx.
    #[error(
        "the instance failed with HTTP {status}{}: try again later; if it persists, read the \
         instance's system log",
        prefixed(.message)
    )]
    Server { status: u16, message: String },

    /// No answer within the client's timeout.
    #[error(
        "the instance did not answer in time: check the network, or allow more time with \
         --timeout SECS; if this was a write it may still have landed, so the record is read \
         again before anything is sent twice"
    )]
    Timeout,

    /// The connection could not be made (DNS, TCP, TLS, or a bad URL).
    #[error("cannot connect to the instance: {reason}: check the instance URL and the network")]
    Connect { reason: String },

    /// 400 and other client errors, or a request this client refuses to send.
    #[error(
        "the request was rejected as invalid: {message}: check the table, field names and \
         values, then try again"
    )]
    BadRequest { message: String },

    /// The OAuth token endpoint refused to issue a token, or answered in a way it cannot be used.
    #[error(
        "OAuth sign-in failed: {detail}: find the cause in the instance's system log (System Logs \
         > All), then check the grant settings: the OAuth plugin is active, the property \
         com.snc.platform.security.oauth.is.active is true, the client id and secret match the \
         Application Registry entry, and the user's \"Password needs reset\" flag is off"
    )]
    OAuth { detail: String },

    /// The operator cancelled a read while it waited or ran.
    #[error("cancelled by the operator: nothing was written; start the step again when ready")]
    Cancelled,

    /// An answer whose shape cannot be understood.
    #[error(
        "the instance sent an answer this client cannot use: {reason}: try again, and report it \
         with the request log if it persists"
    )]
    Unexpected { reason: String },
}

impl Error {
    /// Whether a read (GET) may be sent again after this error.
    pub fn is_retryable_read(&self) -> bool {
        match self {
            Self::RateLimited { .. } | Self::Timeout => true,
            Self::Server { status, .. } => matches!(status, 502..=504),
            _ => false,
        }
    }

    /// A short, stable name of the error kind for audit records and JSON output.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Unauthorized { .. } => "unauthorized",
            Self::AclDenied { .. } => "acl-denied",
            Self::DataPolicy { .. } => "data-policy",
            Self::BusinessRule { .. } => "business-rule",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not-found",
            Self::Ambiguous { .. } => "ambiguous",
            Self::RateLimited { .. } => "rate-limited",
            Self::Hibernating => "hibernating",
            Self::NotJson { .. } => "not-json",
            Self::Server { .. } => "server",
            Self::Timeout => "timeout",
            Self::Connect { .. } => "connect",
            Self::BadRequest { .. } => "bad-request",
            Self::OAuth { .. } => "oauth",
            Self::Cancelled => "cancelled",
            Self::Unexpected { .. } => "unexpected",
        }
    }
}

fn unauthorized_text(mfa: bool) -> &'static str {
    if mfa {
        "the instance wants a valid MFA one-time password for this user (401): use a \
         web-service-only integration user that is exempt from MFA"
    } else {
        "the instance rejected the credentials (401): check the user name and password; if basic \
         auth is restricted on the instance, tick \"Web service access only\" on the user"
    }
}

fn rate_limited_text(retry_after: Option<u64>) -> String {
    match retry_after {
        Some(seconds) => format!(
            "the instance's rate limit was hit (429): wait {seconds} s before trying again, or ask \
             an admin to raise the rate limit rule"
        ),
        None => {
            "the instance is rate limiting or busy (429): wait a minute, then try again".to_owned()
        }
    }
}

fn join_message(message: &str, detail: &str) -> String {
    match (message.is_empty(), detail.is_empty()) {
        (false, false) => format!("{message}; {detail}"),
        (false, true) => message.to_owned(),
        (true, false) => detail.to_owned(),
        (true, true) => "no reason given".to_owned(),
    }
}

fn content_type_text(content_type: &str) -> String {
    if content_type.is_empty() {
        "a body without content type".to_owned()
    } else {
        format!("'{content_type}'")
    }
}

fn prefixed(message: &str) -> String {
    if message.is_empty() {
        String::new()
    } else {
        format!(" ({message})")
    }
}

#[cfg(test)]
mod tests {
    use super::Error;

    #[test]
    fn messages_name_a_next_step() {
        let errors = [
            Error::Unauthorized { mfa: false },
            Error::Unauthorized { mfa: true },
            Error::DataPolicy {
                fields: vec!["Resolution code".into(), "Resolution notes".into()],
            },
            Error::RateLimited {
                retry_after: Some(1312),
            },
            Error::Hibernating,
            Error::Timeout,
        ];
        let texts: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert!(texts[1].contains("MFA"));
        assert!(texts[2].contains("Resolution code, Resolution notes"));
        assert!(texts[3].contains("wait 1312 s"));
        assert!(texts[4].starts_with("instance is hibernating: wake it from the developer portal"));
        assert!(texts.iter().all(|t| t.contains(": ")));
    }

    #[test]
    fn only_transient_read_failures_are_retryable() {
        assert!(Error::Timeout.is_retryable_read());
        assert!(Error::RateLimited { retry_after: None }.is_retryable_read());
        assert!(
            Error::Server {
                status: 503,
                message: String::new()
            }
            .is_retryable_read()
        );
        assert!(
            !Error::Server {
                status: 500,
                message: String::new()
            }
            .is_retryable_read()
        );
        assert!(!Error::Unauthorized { mfa: false }.is_retryable_read());
        assert!(!Error::Hibernating.is_retryable_read());
    }

    #[test]
    fn forbidden_shows_message_and_detail() {
        let error = Error::Forbidden {
            message: "Insufficient rights to query records".into(),
            detail: "Field(s) present in the query do not have permission to be read".into(),
        };
        assert_eq!(error.kind(), "forbidden");
        assert!(
            error
                .to_string()
                .contains("Insufficient rights to query records; Field(s)")
        );
    }
}
