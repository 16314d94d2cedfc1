//! The password's journey on a host without a Secret Service (a typical SSH jump host): the
//! app says where it went and why, a second process of the same login can use it, and it
//! never reaches the database, the log or the output.

mod common;

use common::Cli;

const PASSWORD: &str = "real-looking-Passw0rd-7f3a";

fn payload_for(cli: &Cli, instance: &str) -> std::path::PathBuf {
    let payload = serde_json::json!({
        "instanceUrl": instance,
        "clientId": "svc.actionplane",
        "clientSecret": PASSWORD,
        "isSandbox": true,
        "validateAfterSave": false,
        "syncMetadataAfterSave": false,
        "managedObjects": [{"objectApiName": "incident", "displayName": "Incident",
            "allowedFields": ["state", "close_notes", "close_code", "work_notes"]}]
    });
    let file = cli.db.with_file_name("payload.json");
    std::fs::write(&file, payload.to_string()).unwrap();
    file
}

#[test]
fn without_a_secret_service_the_password_goes_to_the_session_keyring_and_says_why() {
    let cli = Cli::new();
    let file = payload_for(&cli, "dev12345");
    let connect = cli.json(&["connect", "--file", file.to_str().unwrap()]);
    assert_eq!(connect["instance"], "https://dev12345.service-now.com");
    let note = connect["secretNote"].as_str().unwrap();
    assert!(
        note.contains("DBUS_SESSION_BUS_ADDRESS"),
        "the reason is named: {note}"
    );
    assert!(
        note.contains("lost at logout or reboot"),
        "the risk is named: {note}"
    );
    assert!(
        note.contains("ACTIONPLANE_CLIENT_SECRET"),
        "the option for automation is named: {note}"
    );

    let status = cli.json(&["credentials"]);
    assert_eq!(status["store"], "session-keyring");
    assert_eq!(
        status["readable"], true,
        "a second process of this login reads it: {status:#}"
    );
    assert_eq!(status["persists"], false);

    let onboarding = cli.json(&["onboarding"]);
    assert_eq!(onboarding["secretStore"], "session-keyring");

    for entry in std::fs::read_dir(cli.db.parent().unwrap()).unwrap() {
        let path = entry.unwrap().path();
        if path.ends_with("payload.json") {
            continue; // the operator's own input file
        }
        let bytes = std::fs::read(&path).unwrap();
        let found = bytes
            .windows(PASSWORD.len())
            .any(|w| w == PASSWORD.as_bytes());
        assert!(!found, "the password leaked into {}", path.display());
    }
}

#[test]
fn the_environment_variable_serves_automation() {
    let cli = Cli::new();
    let file = payload_for(&cli, "https://itsm.example.org");
    cli.json(&["connect", "--file", file.to_str().unwrap()]);
    let out = cli.run_env(
        &["credentials", "--json"],
        &[("ACTIONPLANE_CLIENT_SECRET", "from-env")],
    );
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["readable"], true);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("from-env"));
}

#[tokio::test(flavor = "multi_thread")]
async fn resaving_keeps_the_stored_password_only_for_the_same_instance_and_user() {
    use actionplane::domain::connector::ConnectPayload;
    use actionplane::secrets::SecretStore;
    use actionplane::workspace::Workspace;

    let dir = tempfile::tempdir().unwrap();
    let ws = Workspace::open(&dir.path().join("a.db"), SecretStore::in_memory()).unwrap();
    let text = std::fs::read_to_string(common::SANDBOX_PAYLOAD).unwrap();
    let mut payload = ConnectPayload::parse(&text).unwrap();
    ws.connect(&payload).await.unwrap();

    payload.client_secret.clear();
    let again = ws.connect_keeping_secret(payload.clone()).await.unwrap();
    assert!(matches!(
        again.validation,
        Some(actionplane::workspace::StepResult::Ok { .. })
    ));

    payload.instance_url = "https://itsm.example.org".to_owned();
    payload.validate_after_save = false;
    payload.sync_metadata_after_save = false;
    let moved = ws.connect_keeping_secret(payload).await;
    assert!(
        moved.is_err(),
        "a stored password must not follow a changed instance URL"
    );
    ws.shutdown().await;
}
