//! The OAuth password grant end to end: the client against the embedded sandbox on loopback.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use actionplane::sandbox::{self, Faults, SandboxHandle, SandboxStats};
use actionplane::servicenow::{Client, Error, MemoryVault, Secret, TokenVault};
use axum::Router;
use axum::body::Body;
use axum::response::Response;
use axum::routing::{get, post};
use tempfile::TempDir;

const SAMPLE_ID: &str = "95e7741a0379fdc0ada93fa11a4903ca";

/// A running sandbox with its own state file.
struct Sandbox {
    handle: SandboxHandle,
    state: PathBuf,
    _dir: TempDir,
}

async fn start(state: &Path, faults: Faults) -> SandboxHandle {
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    sandbox::start(state, addr, faults)
        .await
        .expect("sandbox starts")
}

async fn sandbox(faults: Faults) -> Sandbox {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = sandbox::state_path_for(&dir.path().join("actionplane.sqlite"));
    let handle = start(&state, faults).await;
    Sandbox {
        handle,
        state,
        _dir: dir,
    }
}

fn oauth_client(base: &str, vault: Arc<MemoryVault>, secret: &str) -> Client {
    Client::new_oauth(
        base,
        sandbox::INTEGRATION_USER,
        Secret::new(sandbox::INTEGRATION_PASSWORD.to_owned()),
        sandbox::OAUTH_CLIENT_ID,
        Secret::new(secret.to_owned()),
        vault,
        Duration::from_secs(10),
    )
    .expect("client")
}

fn client(base: &str, vault: Arc<MemoryVault>) -> Client {
    oauth_client(base, vault, sandbox::OAUTH_CLIENT_SECRET)
}

/// The calls of the request log as `METHOD path-without-query status`.
fn calls(client: &Client) -> Vec<String> {
    client
        .request_log()
        .iter()
        .map(|call| {
            let path = call.path.split('?').next().unwrap_or_default();
            let status = call.status.map_or("-".to_owned(), |s| s.to_string());
            format!("{} {path} {status}", call.method)
        })
        .collect()
}

const SAMPLE_PATH: &str = "/api/now/table/incident/95e7741a0379fdc0ada93fa11a4903ca";

#[tokio::test]
async fn a_password_grant_signs_table_reads_with_the_bearer_token() {
    let sb = sandbox(Faults::default()).await;
    let vault = Arc::new(MemoryVault::new());
    let first = client(&sb.handle.base_url(), vault.clone());

    let record = first.read("incident", SAMPLE_ID).await.expect("read");
    assert_eq!(record.sys_id(), SAMPLE_ID);
    let tokens = vault.load().expect("tokens kept in the vault");
    assert!(tokens.refresh_token.is_some());
    let life = tokens.expires_at - chrono::Utc::now();
    assert!(life > chrono::TimeDelta::seconds(1700), "{life}");

    assert_eq!(
        calls(&first),
        [
            "POST /oauth_token.do 200",
            &format!("GET {SAMPLE_PATH} 200")
        ]
    );
    let stats = sb.handle.stats();
    assert_eq!((stats.password_grants, stats.bearer_calls), (1, 1));

    // A second client sharing the vault (another process, say) reuses the kept token.
    let again = client(&sb.handle.base_url(), vault);
    again.read("incident", SAMPLE_ID).await.expect("read");
    assert_eq!(calls(&again), [format!("GET {SAMPLE_PATH} 200")]);
    assert_eq!(sb.handle.stats().password_grants, 1);
}

#[tokio::test]
async fn a_short_lived_token_is_refreshed_before_it_expires() {
    let faults = Faults {
        oauth_token_seconds: 2,
        ..Faults::default()
    };
    let sb = sandbox(faults).await;
    let client = client(&sb.handle.base_url(), Arc::new(MemoryVault::new()));
    for _ in 0..3 {
        client.read("incident", SAMPLE_ID).await.expect("read");
    }
    // The first call is granted; a 2 s token is inside the 60 s margin, so every later call
    // refreshes first and no expired token is ever sent.
    let stats = sb.handle.stats();
    assert_eq!(
        stats,
        SandboxStats {
            password_grants: 1,
            refresh_grants: 2,
            bearer_calls: 3,
            ..SandboxStats::default()
        }
    );
    assert_eq!(calls(&client).len(), 6);
}

#[tokio::test]
async fn an_expired_token_on_a_write_gets_one_refresh_and_one_resend() {
    let sb = sandbox(Faults::default()).await;
    let client = client(&sb.handle.base_url(), Arc::new(MemoryVault::new()));
    let before = client
        .journal("incident", SAMPLE_ID, "work_notes")
        .await
        .expect("journal");

    sb.handle.expire_oauth_tokens();
    let writes = [(
        "work_notes".to_owned(),
        "Checked by the OAuth test.".to_owned(),
    )];
    let exchange = client
        .patch("incident", SAMPLE_ID, &writes)
        .await
        .expect("patch after renewal");
    assert_eq!(exchange.status, 200);

    let log = calls(&client);
    assert_eq!(
        log[log.len() - 3..],
        [
            format!("PATCH {SAMPLE_PATH} 401"),
            "POST /oauth_token.do 200".to_owned(),
            format!("PATCH {SAMPLE_PATH} 200"),
        ]
    );
    let stats = sb.handle.stats();
    assert_eq!(
        (
            stats.password_grants,
            stats.refresh_grants,
            stats.refused_bearer_calls
        ),
        (1, 1, 1)
    );
    let after = client
        .journal("incident", SAMPLE_ID, "work_notes")
        .await
        .expect("journal");
    assert_eq!(after.len(), before.len() + 1, "the note was written once");
}

#[tokio::test]
async fn tokens_unknown_to_a_restarted_instance_get_one_new_grant_and_one_retry() {
    let sb = sandbox(Faults::default()).await;
    let vault = Arc::new(MemoryVault::new());
    client(&sb.handle.base_url(), vault.clone())
        .read("incident", SAMPLE_ID)
        .await
        .expect("read");
    let Sandbox {
        handle,
        state,
        _dir,
    } = sb;
    handle.shutdown().await;

    // The restarted server forgot every token; the vault still holds the old pair.
    let handle = start(&state, Faults::default()).await;
    let client = client(&handle.base_url(), vault);
    client.read("incident", SAMPLE_ID).await.expect("read");
    let stats = handle.stats();
    assert_eq!(
        stats,
        SandboxStats {
            password_grants: 1,
            refused_token_requests: 1,
            bearer_calls: 1,
            refused_bearer_calls: 1,
            ..SandboxStats::default()
        }
    );
    assert_eq!(
        calls(&client),
        [
            format!("GET {SAMPLE_PATH} 401"),
            "POST /oauth_token.do 401".to_owned(),
            "POST /oauth_token.do 200".to_owned(),
            format!("GET {SAMPLE_PATH} 200"),
        ]
    );
}

/// Issues tokens freely but refuses every Table API call; counts both.
async fn refusing_instance() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let (grants, calls) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (g, c) = (grants.clone(), calls.clone());
    let json = |status: u16, body: &str| {
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .body(Body::from(body.to_owned()))
            .expect("response")
    };
    let router = Router::new()
        .route(
            "/oauth_token.do",
            post(move || {
                g.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"access_token":"a","refresh_token":"r","scope":"useraccount",
                    "token_type":"Bearer","expires_in":1799}"#;
                async move { json(200, body) }
            }),
        )
        .route(
            "/api/now/table/{table}/{id}",
            get(move || {
                c.fetch_add(1, Ordering::SeqCst);
                let body = r#"{"error":{"message":"User is not authenticated",
                    "detail":"Required to provide Auth information"},"status":"failure"}"#;
                async move { json(401, body) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    (format!("http://{addr}"), grants, calls)
}

#[tokio::test]
async fn a_second_401_is_reported_without_another_retry() {
    let (base, grants, table_calls) = refusing_instance().await;
    let client = client(&base, Arc::new(MemoryVault::new()));
    let error = client.read("incident", SAMPLE_ID).await.expect_err("401");
    assert!(
        matches!(error, Error::Unauthorized { mfa: false }),
        "{error:?}"
    );
    assert_eq!(table_calls.load(Ordering::SeqCst), 2, "one call, one retry");
    assert_eq!(grants.load(Ordering::SeqCst), 2, "one grant, one renewal");
}

#[tokio::test]
async fn a_disabled_grant_gives_an_oauth_error_that_points_at_the_system_log() {
    let faults = Faults {
        oauth_disabled: true,
        ..Faults::default()
    };
    let sb = sandbox(faults).await;
    let vault = Arc::new(MemoryVault::new());
    let client = client(&sb.handle.base_url(), vault.clone());
    let error = client
        .read("incident", SAMPLE_ID)
        .await
        .expect_err("no token");
    assert!(matches!(error, Error::OAuth { .. }), "{error:?}");
    assert_eq!(error.kind(), "oauth");
    let text = error.to_string();
    for needle in [
        "without naming it",
        "System Logs > All",
        "com.snc.platform.security.oauth.is.active",
        "Application Registry",
        "Password needs reset",
    ] {
        assert!(text.contains(needle), "{needle}: {text}");
    }
    assert_eq!(calls(&client), ["POST /oauth_token.do 401"]);
    assert!(vault.load().is_none());
    assert_eq!(sb.handle.stats().refused_token_requests, 1);
}

#[tokio::test]
async fn a_wrong_client_secret_is_refused_like_every_other_cause() {
    let sb = sandbox(Faults::default()).await;
    let client = oauth_client(
        &sb.handle.base_url(),
        Arc::new(MemoryVault::new()),
        "not-the-secret",
    );
    let error = client
        .read("incident", SAMPLE_ID)
        .await
        .expect_err("no token");
    assert!(matches!(error, Error::OAuth { .. }), "{error:?}");
    assert!(!error.to_string().contains("not-the-secret"));
}

#[tokio::test]
async fn no_token_or_secret_shows_in_logs_errors_or_debug_output() {
    let faults = Faults {
        oauth_token_seconds: 2,
        ..Faults::default()
    };
    let sb = sandbox(faults).await;
    let vault = Arc::new(MemoryVault::new());
    let client = client(&sb.handle.base_url(), vault.clone());
    client.read("incident", SAMPLE_ID).await.expect("read");
    let first = vault.load().expect("tokens");
    client.read("incident", SAMPLE_ID).await.expect("read");
    let second = vault.load().expect("tokens");
    sb.handle.set_faults(Faults {
        oauth_disabled: true,
        ..Faults::default()
    });
    let error = client
        .read("incident", SAMPLE_ID)
        .await
        .expect_err("refused");

    let secrets = [
        first.access_token.expose().to_owned(),
        second.access_token.expose().to_owned(),
        first.refresh_token.expect("refresh").expose().to_owned(),
        sandbox::OAUTH_CLIENT_SECRET.to_owned(),
        sandbox::INTEGRATION_PASSWORD.to_owned(),
    ];
    assert_ne!(
        secrets[0], secrets[1],
        "the refresh issued a new access token"
    );
    let shown = [
        format!("{:?}", client.request_log()),
        format!("{client:?}"),
        format!("{second:?}"),
        format!("{vault:?}"),
        format!("{error} {error:?}"),
        format!("{:?}", sb.handle),
    ];
    for text in &shown {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "a secret leaked into {text}"
            );
        }
    }
    let token_calls: Vec<_> = client
        .request_log()
        .into_iter()
        .filter(|c| c.path.contains("oauth"))
        .collect();
    assert_eq!(
        token_calls.len(),
        4,
        "grant, refresh, refused refresh, refused grant"
    );
    assert!(token_calls.iter().all(|c| c.path == "/oauth_token.do"));
}
