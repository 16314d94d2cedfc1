//! The embedded instance: a Table API server on loopback with real behaviour, not canned replies.
//!
//! It serves `/api/now/table/{table}[/{sys_id}]` (and `/api/now/v2/...`) as
//! `shared/servicenow/CONTRACT.md` describes: basic auth against its own users, the OAuth
//! password and refresh-token grants at `/oauth_token.do` with bearer tokens, encoded
//! queries, display values, paging headers, role-based writes, the data policy for resolve
//! and close, the business rules that stamp resolved/closed fields and journal entries, and
//! the error envelopes. State lives in its own `SQLite` file (see [`state_path_for`]), which a
//! standalone `actionplane sandbox serve` process may share.
//!
//! Besides the instance's paths there are control routes, which are not part of any real
//! instance, need no credentials, ignore the fault switches, and answer only callers on
//! loopback (anyone else gets 404):
//!
//! - `GET /actionplane/sandbox/faults` returns the current [`Faults`] as JSON;
//! - `PUT /actionplane/sandbox/faults` with a JSON [`Faults`] object replaces them (fields
//!   left out are off);
//! - `POST /actionplane/sandbox/reset` restores the seed story, like [`reset`].

mod auth;
mod faults;
mod oauth;
mod params;
mod query;
mod render;
mod respond;
mod routes;
mod rules;
mod schema;
mod seed;
mod server;
mod store;

#[cfg(test)]
mod query_tests;
#[cfg(test)]
mod rules_tests;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use faults::Faults;
pub use oauth::SandboxStats;

use server::Shared;

/// Seed user name of the integration user (roles `itil` and `itil_admin`, web-service only).
pub const INTEGRATION_USER: &str = "actionplane.integration";
/// Seed password of the integration user (also in `assets/connect-sandbox.json`).
pub const INTEGRATION_PASSWORD: &str = "sandbox-only-Passw0rd!";
/// Seed password of `admin` (role `admin`).
pub const ADMIN_PASSWORD: &str = "sandbox-admin-Passw0rd!";
/// A seed user without any write role.
pub const READONLY_USER: &str = "readonly.viewer";
/// Seed password of [`READONLY_USER`].
pub const READONLY_PASSWORD: &str = "sandbox-readonly-Passw0rd!";
/// A seed user with `itil` only: it may resolve but not close.
pub const ITIL_ONLY_USER: &str = "itil.only";
/// Seed password of [`ITIL_ONLY_USER`].
pub const ITIL_ONLY_PASSWORD: &str = "sandbox-itil-Passw0rd!";
/// Client id of the seed OAuth client (System OAuth > Application Registry).
pub const OAUTH_CLIENT_ID: &str = "actionplane-sandbox-client";
/// Client secret of the seed OAuth client.
pub const OAUTH_CLIENT_SECRET: &str = "sandbox-oauth-Secr3t!";

/// A running sandbox server.
#[derive(Debug)]
pub struct SandboxHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: oneshot::Sender<()>,
    task: JoinHandle<()>,
}

impl SandboxHandle {
    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`, the instance URL to give any Table API client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The current fault switches.
    pub fn faults(&self) -> Faults {
        self.shared.faults()
    }

    /// Changes the fault switches; the next request sees them.
    pub fn set_faults(&self, faults: Faults) {
        self.shared.set_faults(faults);
    }

    /// What the token endpoint and the bearer check have done since the server started.
    pub fn stats(&self) -> SandboxStats {
        self.shared.tokens.stats()
    }

    /// Ends every issued access token now, as if its life had run out; refresh tokens keep
    /// working. For tests of token renewal without waiting.
    pub fn expire_oauth_tokens(&self) {
        self.shared.tokens.expire_access_tokens();
    }

    /// Stops accepting requests, lets running ones finish, and waits for the server to end.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(());
        if let Err(cause) = self.task.await {
            tracing::warn!("sandbox server task ended badly: {cause}");
        }
    }
}

/// Starts the server on `addr` (port 0 = any) in the current tokio runtime, state in the
/// `SQLite` file `state_path` (created and seeded if missing).
pub async fn start(
    state_path: &Path,
    addr: SocketAddr,
    faults: Faults,
) -> anyhow::Result<SandboxHandle> {
    let path = state_path.to_owned();
    tokio::task::spawn_blocking(move || store::ensure_seeded(&path)).await??;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr} for the sandbox"))?;
    let addr = listener.local_addr()?;
    let shared = Arc::new(Shared::new(state_path.to_owned(), addr, faults));
    let app = server::router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (shutdown, stop) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let serve = axum::serve(listener, app).with_graceful_shutdown(async {
            let _ = stop.await;
        });
        if let Err(cause) = serve.await {
            tracing::warn!("sandbox server stopped: {cause}");
        }
    });
    tracing::info!(%addr, state = %state_path.display(), "sandbox listening");
    Ok(SandboxHandle {
        addr,
        shared,
        shutdown,
        task,
    })
}

/// Restores the seed story (drops and re-seeds all tables). Works whether or not a server runs.
pub fn reset(state_path: &Path) -> anyhow::Result<()> {
    store::reseed(state_path)
}

/// The sandbox state file that lives next to the app database: `<dir>/<db stem>.sandbox.sqlite`.
pub fn state_path_for(app_db: &Path) -> PathBuf {
    let stem = app_db
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("actionplane");
    let dir = app_db.parent().unwrap_or_else(|| Path::new(""));
    dir.join(format!("{stem}.sandbox.sqlite"))
}

/// The current time as the instance stores it: UTC `YYYY-MM-DD HH:MM:SS`.
fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}
