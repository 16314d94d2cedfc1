//! The whole onboarding path through the `actionplane` binary, against the embedded sandbox
//! over real HTTP on loopback, checking the sandbox's record and the local SQLite rows.

mod common;

use common::{Cli, SANDBOX_PAYLOAD, SandboxPeer};
use serde_json::Value;

fn sqlite_column(db: &std::path::Path, sql: &str, run_id: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([run_id], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Connects with the sandbox payload and checks that steps 01 to 04 are done.
fn connect_and_check_onboarding(cli: &Cli) {
    let connect = cli.json(&["connect", "--file", SANDBOX_PAYLOAD]);
    assert_eq!(connect["saved"], true);
    assert_eq!(connect["validation"]["outcome"], "ok", "{connect:#}");
    assert_eq!(connect["sync"]["outcome"], "ok", "{connect:#}");

    let onboarding = cli.json(&["onboarding"]);
    let steps = onboarding["steps"].as_array().unwrap();
    let done: Vec<_> = steps
        .iter()
        .map(|s| s["status"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        done,
        ["done", "done", "done", "done", "todo"],
        "{onboarding:#}"
    );
}

/// Checks the sandbox record and the local rows after the live close of `run_id`.
async fn check_closed(cli: &Cli, run_id: &str) {
    let peer = SandboxPeer::start(&cli.db).await;
    let after = peer.record("INC-42").await;
    let notes = peer
        .journal_count(after["sys_id"].as_str().unwrap(), run_id)
        .await;
    peer.stop().await;
    assert_eq!(after["state"], "7");
    assert_eq!(after["close_code"], "Duplicate");
    assert!(
        after["close_notes"]
            .as_str()
            .unwrap()
            .starts_with("Duplicate of an alert")
    );
    assert_eq!(after["active"], "false");
    assert_eq!(notes, 1, "exactly one work note from the live run");

    let state = sqlite_column(&cli.db, "SELECT state FROM runs WHERE id = ?1", run_id);
    assert_eq!(state, ["verified"]);
    let kinds = sqlite_column(
        &cli.db,
        "SELECT kind FROM artifacts WHERE run_id = ?1 ORDER BY id",
        run_id,
    );
    assert_eq!(
        kinds,
        ["preview", "approval", "request", "response", "read-back"]
    );

    let audit = cli.json(&["audit", "--run", run_id]);
    let kinds: Vec<_> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .filter(|k| k.starts_with("run."))
        .collect();
    assert_eq!(
        kinds,
        [
            "run.previewed",
            "run.approved",
            "run.executing",
            "run.verified"
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_validate_sync_dry_run_then_live_close_verifies() {
    let cli = Cli::new();
    connect_and_check_onboarding(&cli);

    let dry = common::dry_run(&cli);
    assert_eq!(
        (dry["mode"].as_str(), dry["state"].as_str()),
        (Some("dry-run"), Some("verified"))
    );
    let digest = dry["digest"].as_str().unwrap().to_owned();
    let changes = dry["changes"].as_array().unwrap();
    let state_change = changes.iter().find(|c| c["field"] == "state").unwrap();
    assert_eq!(
        (
            state_change["before"].as_str(),
            state_change["after"].as_str()
        ),
        (Some("2"), Some("7"))
    );

    let peer = SandboxPeer::start(&cli.db).await;
    assert_eq!(
        peer.record("INC-42").await["state"],
        "2",
        "a dry run must write nothing"
    );
    peer.stop().await;

    let live = cli.json(&common::as_strs(&common::live_args(&digest)));
    assert_eq!(
        (live["mode"].as_str(), live["state"].as_str()),
        (Some("live"), Some("verified")),
        "{live:#}"
    );
    check_closed(&cli, live["runId"].as_str().unwrap()).await;

    let replay = cli.run(&common::as_strs(&common::live_args(&digest)));
    assert!(
        !replay.status.success(),
        "the same digest must not close a closed record twice"
    );
}

#[test]
fn no_secret_reaches_the_database_or_the_log() {
    let cli = Cli::new();
    let out = cli.run(&["connect", "--file", SANDBOX_PAYLOAD]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let secret = common::SANDBOX_PASSWORD;
    let dir = cli.db.parent().unwrap();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.to_string_lossy().contains("sandbox.sqlite") {
            continue; // the sandbox's own user table holds only a hash, checked below by name
        }
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(!found, "the password leaked into {}", path.display());
    }
    assert!(!String::from_utf8_lossy(&out.stdout).contains(secret));
}

#[test]
fn an_unreachable_instance_keeps_the_saved_settings() {
    let cli = Cli::new();
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let payload = std::fs::read_to_string(SANDBOX_PAYLOAD).unwrap().replace(
        "\"sandbox\"",
        &format!("\"http://127.0.0.1:{closed_port}\""),
    );
    let file = cli.db.with_file_name("payload.json");
    std::fs::write(&file, payload).unwrap();

    let out = cli.run(&["connect", "--file", file.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stdout.contains("Saved the connector"), "{stdout}");
    assert!(stdout.contains("Validation failed"), "{stdout}");
    assert!(
        !out.status.success(),
        "a failed validation fails the exit status"
    );
    assert!(stderr.contains("saved, but cannot connect"), "{stderr}");

    let onboarding = cli.json(&["onboarding"]);
    assert_eq!(
        onboarding["target"],
        format!("http://127.0.0.1:{closed_port}")
    );
    assert_eq!(onboarding["steps"][0]["status"]["status"], "blocked");
}

#[test]
fn a_bad_payload_names_each_field_and_saves_nothing() {
    let cli = Cli::new();
    let file = cli.db.with_file_name("bad.json");
    std::fs::write(
        &file,
        r#"{"instanceUrl":"http://x.example.com","clientId":"","clientSecret":""}"#,
    )
    .unwrap();
    let out = cli.run(&["connect", "--file", file.to_str().unwrap()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for field in ["instanceUrl", "clientId", "clientSecret", "managedObjects"] {
        assert!(stderr.contains(field), "{field} not named in: {stderr}");
    }
    assert_eq!(cli.json(&["onboarding"])["target"], Value::Null);
}

#[test]
fn the_oauth_password_grant_closes_the_sample_too() {
    let cli = Cli::new();
    let payload = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/connect-sandbox-oauth.json"
    );
    let connect = cli.json(&["connect", "--file", payload]);
    assert_eq!(connect["validation"]["outcome"], "ok", "{connect:#}");
    let dry = common::dry_run(&cli);
    let digest = dry["digest"].as_str().unwrap();
    let live = cli.json(&common::as_strs(&common::live_args(digest)));
    assert_eq!(live["state"], "verified", "{live:#}");

    let secret = "sandbox-oauth-Secr3t!";
    for entry in std::fs::read_dir(cli.db.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes.windows(secret.len()).any(|w| w == secret.as_bytes());
        assert!(
            !found,
            "the OAuth client secret leaked into {}",
            path.display()
        );
    }
}
