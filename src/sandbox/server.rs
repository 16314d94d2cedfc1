//! The HTTP server: routes, the gate every API call passes, and the control routes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{any, get, post};

use super::auth::{self, Caller, Credentials};
use super::faults::{self, Faults};
use super::oauth::{self, Tokens};
use super::{respond, routes, store};

/// The prefix of the sandbox's own (non-ServiceNow) control routes.
const CONTROL_PREFIX: &str = "/actionplane/sandbox/";
/// The OAuth token endpoint, which takes its credentials in the form, not in a header.
const TOKEN_PATH: &str = "/oauth_token.do";

/// State shared by every request of one server.
#[derive(Debug)]
pub(crate) struct Shared {
    pub state_path: PathBuf,
    pub addr: SocketAddr,
    faults: RwLock<Faults>,
    /// Bearer tokens issued by `/oauth_token.do`, in memory only.
    pub tokens: Tokens,
}

impl Shared {
    pub fn new(state_path: PathBuf, addr: SocketAddr, faults: Faults) -> Self {
        Self {
            state_path,
            addr,
            faults: RwLock::new(faults),
            tokens: Tokens::default(),
        }
    }

    pub fn faults(&self) -> Faults {
        self.faults
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn set_faults(&self, faults: Faults) {
        *self.faults.write().unwrap_or_else(PoisonError::into_inner) = faults;
    }
}

/// Runs `SQLite` work off the async threads; failures become a 500 with the envelope.
pub(crate) async fn blocking<F>(work: F) -> Response
where
    F: FnOnce() -> anyhow::Result<Response> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(response)) => response,
        Ok(Err(cause)) => respond::internal(&cause),
        Err(join) => respond::internal(&anyhow::Error::new(join)),
    }
}

/// All routes, behind the gate.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let table = get(routes::list).post(routes::create);
    let record = get(routes::read)
        .patch(routes::update)
        .put(routes::update)
        .post(routes::post_record)
        .delete(routes::delete);
    Router::new()
        .route("/api/now/table/{table}", table.clone())
        .route("/api/now/v2/table/{table}", table)
        .route("/api/now/table/{table}/{sys_id}", record.clone())
        .route("/api/now/v2/table/{table}/{sys_id}", record)
        .route("/api/now/v1/{*rest}", any(routes::retired))
        .route(TOKEN_PATH, post(oauth::token))
        .route(
            "/actionplane/sandbox/faults",
            get(show_faults).put(change_faults),
        )
        .route("/actionplane/sandbox/reset", post(reset))
        .fallback(routes::unknown)
        .method_not_allowed_fallback(routes::wrong_method)
        .layer(middleware::from_fn_with_state(shared.clone(), gate))
        .with_state(shared)
}

/// Logs every request and lets API calls through only past the faults and the auth check.
async fn gate(State(shared): State<Arc<Shared>>, request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = if path.starts_with(CONTROL_PREFIX) {
        next.run(request).await
    } else {
        admit(&shared, request, next).await
    };
    tracing::debug!(%method, %path, status = response.status().as_u16(), "sandbox request");
    response
}

async fn admit(shared: &Shared, mut request: Request, next: Next) -> Response {
    let faults = shared.faults();
    if faults.slow_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.slow_ms)).await;
    }
    if faults.hibernating {
        return faults::hibernation_page();
    }
    if request.uri().path() == TOKEN_PATH {
        return next.run(request).await;
    }
    let caller = match identify(shared, request.headers()).await {
        Ok(Some(caller)) => caller,
        Ok(None) => return respond::unauthorized(faults.legacy_401_text),
        Err(cause) => return respond::internal(&cause),
    };
    if faults.rate_limited {
        return faults::rate_limited();
    }
    if faults.server_error {
        return faults::server_error();
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// The signed-in user of a request, by bearer token or basic auth; `None` means 401.
async fn identify(shared: &Shared, headers: &HeaderMap) -> anyhow::Result<Option<Caller>> {
    let state = shared.state_path.clone();
    if let Some(token) = auth::bearer_token(headers) {
        let Some(user_name) = shared.tokens.holder(&token) else {
            return Ok(None);
        };
        let found = tokio::task::spawn_blocking(move || {
            let conn = store::open(&state)?;
            auth::caller(&conn, &user_name)
        });
        return found.await?;
    }
    let Some(credentials) = Credentials::from_headers(headers) else {
        return Ok(None);
    };
    tokio::task::spawn_blocking(move || auth::authenticate(&state, &credentials)).await?
}

/// Control routes answer only callers on this machine; others see an unknown path.
fn remote(peer: SocketAddr) -> Option<Response> {
    (!peer.ip().is_loopback()).then(|| respond::no_resource(StatusCode::NOT_FOUND))
}

fn faults_body(faults: &Faults) -> Response {
    let body = serde_json::to_value(faults).unwrap_or_default();
    respond::json(StatusCode::OK, &body)
}

/// `GET /actionplane/sandbox/faults`.
async fn show_faults(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(refused) = remote(peer) {
        return refused;
    }
    faults_body(&shared.faults())
}

/// `PUT /actionplane/sandbox/faults` with a (partial) `Faults` object.
async fn change_faults(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Response {
    if let Some(refused) = remote(peer) {
        return refused;
    }
    match serde_json::from_slice::<Faults>(&body) {
        Ok(faults) => {
            tracing::info!(?faults, "sandbox faults changed");
            shared.set_faults(faults.clone());
            faults_body(&faults)
        }
        Err(cause) => respond::error(
            StatusCode::BAD_REQUEST,
            "Invalid fault switches",
            Some(&cause.to_string()),
        ),
    }
}

/// `POST /actionplane/sandbox/reset`: restores the seed story.
async fn reset(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
) -> Response {
    if let Some(refused) = remote(peer) {
        return refused;
    }
    let state = shared.state_path.clone();
    blocking(move || {
        store::reseed(&state)?;
        tracing::info!("sandbox reset to the seed story");
        Ok(respond::json(
            StatusCode::OK,
            &serde_json::json!({ "result": "reset" }),
        ))
    })
    .await
}
