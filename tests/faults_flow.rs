//! Faults of real instances, played by the sandbox, through the binary: each ends in a clear
//! message with the next step, the saved settings intact and nothing half-written.

mod common;

use actionplane::sandbox::Faults;
use common::{Cli, SandboxPeer};

fn stderr_of(cli: &Cli, args: &[&str]) -> String {
    let out = cli.run(args);
    assert!(!out.status.success(), "{args:?} should fail");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

async fn connected_peer() -> (SandboxPeer, Cli) {
    let peer = SandboxPeer::serve().await;
    let cli = Cli::connected_to(&peer.base_url());
    (peer, cli)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hibernating_instance_says_how_to_wake_it() {
    let (peer, cli) = connected_peer().await;
    peer.set_faults(Faults {
        hibernating: true,
        ..Faults::default()
    });

    let stderr = stderr_of(&cli, &["validate"]);
    assert!(
        stderr.contains("hibernating") && stderr.contains("developer portal"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("<html") && !stderr.contains("<div"),
        "the page is never shown whole"
    );

    let onboarding = cli.json(&["onboarding"]);
    assert_eq!(
        onboarding["target"],
        peer.base_url(),
        "the settings stay saved"
    );
    let step = &onboarding["steps"][0]["status"];
    assert_eq!(step["status"], "blocked");
    assert!(step["detail"].as_str().unwrap().contains("hibernating"));
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rate_limits_and_server_errors_name_the_next_step() {
    let (peer, cli) = connected_peer().await;
    peer.set_faults(Faults {
        rate_limited: true,
        ..Faults::default()
    });
    let stderr = stderr_of(&cli, &["validate"]);
    assert!(stderr.to_lowercase().contains("rate limit"), "{stderr}");

    peer.set_faults(Faults {
        server_error: true,
        ..Faults::default()
    });
    let stderr = stderr_of(&cli, &["sync-metadata"]);
    assert!(stderr.contains("500"), "{stderr}");

    peer.set_faults(Faults::default());
    assert_eq!(
        cli.json(&["sync-metadata"])["table"],
        "incident",
        "it recovers once the fault ends"
    );
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_close_fails_the_run_and_writes_nothing() {
    let (peer, cli) = connected_peer().await;
    let dry = common::dry_run(&cli);
    let digest = dry["digest"].as_str().unwrap();
    peer.set_faults(Faults {
        deny_close: true,
        ..Faults::default()
    });

    let stderr = stderr_of(&cli, &common::as_strs(&common::live_args(digest)));
    assert!(
        stderr.contains("ACL") || stderr.contains("not allowed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("itil_admin"),
        "the message names the role to grant: {stderr}"
    );

    let runs = cli.json(&["runs"]);
    let live = runs
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == "live")
        .unwrap();
    assert_eq!(live["state"], "failed");
    let record = peer.record("INC-42").await;
    assert_eq!(
        (record["state"].as_str(), record["sys_mod_count"].as_str()),
        (Some("2"), Some("3"))
    );
    peer.stop().await;
}

#[test]
fn a_bad_instance_url_is_refused_with_what_to_type() {
    let cli = Cli::new();
    let payload = std::fs::read_to_string(common::SANDBOX_PAYLOAD)
        .unwrap()
        .replace("\"sandbox\"", "\"http://dev12345.service-now.com\"");
    let file = cli.db.with_file_name("plain-http.json");
    std::fs::write(&file, payload).unwrap();
    let stderr = stderr_of(&cli, &["connect", "--file", file.to_str().unwrap()]);
    assert!(
        stderr.contains("instanceUrl") && stderr.contains("https://dev12345.service-now.com"),
        "{stderr}"
    );
}
