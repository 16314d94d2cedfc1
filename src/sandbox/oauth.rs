//! The OAuth token endpoint (`POST /oauth_token.do`) and the bearer tokens it issues.
//!
//! Tokens live in memory only, so a restarted sandbox refuses every earlier token with the
//! plain 401, as an instance does for a token it no longer knows.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rusqlite::Connection;
use serde_json::Value;

use super::auth;
use super::respond;
use super::server::{Shared, blocking};
use super::store::{self, Snapshot};

/// The access-token life of a default Application Registry entry, as `expires_in` says it.
pub(crate) const DEFAULT_TOKEN_SECONDS: u64 = 1799;
/// The refresh-token life of a default entry: 100 days.
const REFRESH_TOKEN_SECONDS: u64 = 8_640_000;
/// The only scope the sandbox grants.
const SCOPE: &str = "useraccount";
/// The one answer the instance gives to every refused token request.
const REFUSED: &str = r#"{"error_description":"access_denied","error":"server_error"}"#;

/// Counts of what the token endpoint and the bearer check did, for tests and demos.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SandboxStats {
    /// Tokens issued for `grant_type=password`.
    pub password_grants: u64,
    /// Tokens issued for `grant_type=refresh_token`.
    pub refresh_grants: u64,
    /// Token requests answered with the opaque 401.
    pub refused_token_requests: u64,
    /// API calls admitted with a live bearer token.
    pub bearer_calls: u64,
    /// API calls refused because their bearer token was unknown or expired.
    pub refused_bearer_calls: u64,
}

/// Who a token was issued to, and until when it works.
#[derive(Clone)]
struct Issued {
    user_name: String,
    client_id: String,
    expires: Instant,
}

impl Issued {
    fn is_live(&self) -> bool {
        Instant::now() < self.expires
    }
}

#[derive(Default)]
struct Book {
    access: HashMap<String, Issued>,
    refresh: HashMap<String, Issued>,
    stats: SandboxStats,
}

/// The tokens a running sandbox issued, and its counters.
#[derive(Default)]
pub(crate) struct Tokens {
    book: Mutex<Book>,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let book = self.lock();
        f.debug_struct("Tokens")
            .field("access", &book.access.len())
            .field("refresh", &book.refresh.len())
            .finish()
    }
}

impl Tokens {
    fn lock(&self) -> std::sync::MutexGuard<'_, Book> {
        self.book.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The user a live access token was issued to; counts the call as admitted or refused.
    pub fn holder(&self, access_token: &str) -> Option<String> {
        let mut book = self.lock();
        let holder = book
            .access
            .get(access_token)
            .filter(|issued| issued.is_live())
            .map(|issued| issued.user_name.clone());
        if holder.is_some() {
            book.stats.bearer_calls += 1;
        } else {
            book.stats.refused_bearer_calls += 1;
        }
        holder
    }

    pub fn stats(&self) -> SandboxStats {
        self.lock().stats
    }

    /// Ends every access token now; refresh tokens keep working.
    pub fn expire_access_tokens(&self) {
        let now = Instant::now();
        for issued in self.lock().access.values_mut() {
            issued.expires = now;
        }
    }

    fn refused(&self) -> Response {
        self.lock().stats.refused_token_requests += 1;
        refused()
    }

    /// The live refresh token's grant, if it was issued to this client.
    fn refresh_grant(&self, refresh_token: &str, client_id: &str) -> Option<Issued> {
        self.lock()
            .refresh
            .get(refresh_token)
            .filter(|issued| issued.is_live() && issued.client_id == client_id)
            .cloned()
    }

    /// Issues an access token (and a refresh token for a new grant) and answers as S10.
    fn issue(&self, grant: &Issued, refresh_token: Option<&str>, seconds: u64) -> Response {
        let access_token = new_token();
        let mut book = self.lock();
        let access = Issued {
            expires: Instant::now() + Duration::from_secs(seconds),
            ..grant.clone()
        };
        book.access.insert(access_token.clone(), access);
        let refresh_token = if let Some(kept) = refresh_token {
            book.stats.refresh_grants += 1;
            kept.to_owned()
        } else {
            book.stats.password_grants += 1;
            let fresh = new_token();
            let refresh = Issued {
                expires: Instant::now() + Duration::from_secs(REFRESH_TOKEN_SECONDS),
                ..grant.clone()
            };
            book.refresh.insert(fresh.clone(), refresh);
            fresh
        };
        granted(&access_token, &refresh_token, seconds)
    }
}

/// The fields of a form-urlencoded body; later duplicates are ignored.
struct Form(HashMap<String, String>);

impl Form {
    fn parse(body: &[u8]) -> Self {
        let mut fields = HashMap::new();
        for (key, value) in url::form_urlencoded::parse(body) {
            fields
                .entry(key.into_owned())
                .or_insert_with(|| value.into_owned());
        }
        Self(fields)
    }

    fn get(&self, key: &str) -> &str {
        self.0.get(key).map_or("", String::as_str)
    }
}

/// `POST /oauth_token.do`: the password and refresh-token grants.
pub(crate) async fn token(State(shared): State<Arc<Shared>>, body: Bytes) -> Response {
    let faults = shared.faults();
    if faults.oauth_disabled {
        return shared.tokens.refused();
    }
    let seconds = match faults.oauth_token_seconds {
        0 => DEFAULT_TOKEN_SECONDS,
        seconds => seconds,
    };
    let form = Form::parse(&body);
    blocking(move || {
        let conn = store::open(&shared.state_path)?;
        let tokens = &shared.tokens;
        Ok(match grant(&conn, tokens, &form)? {
            Some((issued, kept)) => tokens.issue(&issued, kept.as_deref(), seconds),
            None => tokens.refused(),
        })
    })
    .await
}

/// Checks the client, then the grant; `None` means the opaque refusal. The second value is
/// the refresh token a refresh grant keeps.
fn grant(
    conn: &Connection,
    tokens: &Tokens,
    form: &Form,
) -> anyhow::Result<Option<(Issued, Option<String>)>> {
    let client_id = form.get("client_id");
    let scope_ok = matches!(form.get("scope"), "" | SCOPE);
    if !scope_ok || !client_is_registered(conn, client_id, form.get("client_secret"))? {
        return Ok(None);
    }
    match form.get("grant_type") {
        "password" => {
            let user_name = form.get("username");
            if !store::password_matches(conn, user_name, form.get("password"))? {
                return Ok(None);
            }
            let issued = Issued {
                user_name: user_name.to_owned(),
                client_id: client_id.to_owned(),
                expires: Instant::now(),
            };
            Ok(user_may_get_token(conn, user_name)?.then_some((issued, None)))
        }
        "refresh_token" => {
            let kept = form.get("refresh_token");
            let Some(issued) = tokens.refresh_grant(kept, client_id) else {
                return Ok(None);
            };
            let allowed = user_may_get_token(conn, &issued.user_name)?;
            Ok(allowed.then(|| (issued, Some(kept.to_owned()))))
        }
        // client_credentials and the rest are not enabled on the sandbox.
        _ => Ok(None),
    }
}

/// An active Application Registry entry with this client id, and the matching secret.
fn client_is_registered(conn: &Connection, client_id: &str, secret: &str) -> anyhow::Result<bool> {
    if !store::client_secret_matches(conn, client_id, secret)? {
        return Ok(false);
    }
    let snapshot = Snapshot::load(conn, &["oauth_entity"])?;
    Ok(snapshot
        .find_by("oauth_entity", "client_id", client_id)
        .is_some_and(|entry| entry.get("active").is_some_and(|a| a == "true")))
}

fn user_may_get_token(conn: &Connection, user_name: &str) -> anyhow::Result<bool> {
    let snapshot = Snapshot::load(conn, &["sys_user"])?;
    Ok(snapshot
        .find_by("sys_user", "user_name", user_name)
        .is_some_and(auth::may_get_token))
}

/// 43 characters of URL-safe base64 from 32 random bytes.
fn new_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// 200 with the S10 body, keys in the instance's order.
fn granted(access_token: &str, refresh_token: &str, seconds: u64) -> Response {
    let body = format!(
        "{{\"access_token\":{},\"refresh_token\":{},\"scope\":\"{SCOPE}\",\
         \"token_type\":\"Bearer\",\"expires_in\":{seconds}}}",
        Value::from(access_token),
        Value::from(refresh_token),
    );
    respond::json_text(StatusCode::OK, body)
}

/// 401 with the opaque body the instance gives for every refused token request.
fn refused() -> Response {
    respond::json_text(StatusCode::UNAUTHORIZED, REFUSED.to_owned())
}
