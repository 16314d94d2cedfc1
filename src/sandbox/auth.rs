//! Basic and bearer auth against the sandbox's users, and who the caller is once signed in.

use std::path::Path;

use axum::http::{HeaderMap, header};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use rusqlite::Connection;

use super::store::{self, Record, Snapshot};

/// The signed-in user of one request.
#[derive(Clone, Debug)]
pub(crate) struct Caller {
    pub sys_id: String,
    pub user_name: String,
    /// Role names granted to the user.
    pub roles: Vec<String>,
}

impl Caller {
    /// Whether the user holds one of the roles; `admin` holds every role.
    pub fn has_role(&self, any_of: &[&str]) -> bool {
        self.roles
            .iter()
            .any(|role| role == "admin" || any_of.contains(&role.as_str()))
    }
}

/// The user name and password of a Basic `Authorization` header, if it has a usable one.
pub(crate) struct Credentials {
    pub user_name: String,
    pub password: String,
}

impl Credentials {
    /// Reads the header; bearer tokens and malformed values give `None`.
    pub fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
        let (scheme, encoded) = value.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = STANDARD.decode(encoded.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (user_name, password) = text.split_once(':')?;
        Some(Self {
            user_name: user_name.to_owned(),
            password: password.to_owned(),
        })
    }
}

/// The token of a `Bearer` `Authorization` header, if the request carries one.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// Checks the credentials against the state file; `None` means 401.
///
/// Inactive and locked-out users are refused like a wrong password, as the instance does.
pub(crate) fn authenticate(
    state: &Path,
    credentials: &Credentials,
) -> anyhow::Result<Option<Caller>> {
    let conn = store::open(state)?;
    if !store::password_matches(&conn, &credentials.user_name, &credentials.password)? {
        return Ok(None);
    }
    caller(&conn, &credentials.user_name)
}

/// The caller for a user who may sign in (active, not locked out), with its active roles.
pub(crate) fn caller(conn: &Connection, user_name: &str) -> anyhow::Result<Option<Caller>> {
    let snapshot = Snapshot::load(conn, &["sys_user", "sys_user_has_role", "sys_user_role"])?;
    let Some(user) = snapshot.find_by("sys_user", "user_name", user_name) else {
        return Ok(None);
    };
    if !may_sign_in(user) {
        return Ok(None);
    }
    let sys_id = user.get("sys_id").cloned().unwrap_or_default();
    let roles = snapshot
        .rows("sys_user_has_role")
        .iter()
        .filter(|grant| grant.get("user") == Some(&sys_id))
        .filter(|grant| grant.get("state").is_some_and(|s| s == "active"))
        .filter_map(|grant| snapshot.find("sys_user_role", grant.get("role")?))
        .filter_map(|role| role.get("name").cloned())
        .collect();
    Ok(Some(Caller {
        sys_id,
        user_name: user_name.to_owned(),
        roles,
    }))
}

/// Whether a user record may sign in at all.
pub(crate) fn may_sign_in(user: &Record) -> bool {
    is_set(user, "active") && !is_set(user, "locked_out")
}

/// Whether a user record may get OAuth tokens: it may sign in and need not reset its password.
pub(crate) fn may_get_token(user: &Record) -> bool {
    may_sign_in(user) && !is_set(user, "password_needs_reset")
}

fn is_set(user: &Record, flag: &str) -> bool {
    user.get(flag).is_some_and(|v| v == "true")
}
