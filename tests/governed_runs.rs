//! Governed runs that hold up, through the binary and the sandbox over loopback: stale
//! approvals, a process killed at each point of a live run, two operators on one record,
//! rollback, the audit chain and the evidence pack.

mod common;

use std::time::Duration;

use common::{Cli, SandboxPeer, as_strs, live_args};
use serde_json::Value;

fn dry_run(cli: &Cli) -> String {
    common::dry_run(cli)["digest"].as_str().unwrap().to_owned()
}

fn run_of(cli: &Cli, mode: &str) -> Value {
    let runs = cli.json(&["runs"]);
    runs.as_array()
        .unwrap()
        .iter()
        .find(|r| r["mode"] == mode)
        .cloned()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_by_someone_else_makes_the_old_digest_stale() {
    let cli = Cli::connected();
    let digest = dry_run(&cli);

    let peer = SandboxPeer::start(&cli.db).await;
    peer.patch_as_admin(
        "INC-42",
        serde_json::json!({"work_notes": "Looked at this from the service desk."}),
    )
    .await;
    peer.stop().await;

    let args = live_args(&digest);
    let out = cli.run(&as_strs(&args));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("stale"), "{stderr}");

    let live = run_of(&cli, "live");
    assert_eq!(live["state"], "stale");
    let audit = cli.json(&["audit", "--run", live["id"].as_str().unwrap()]);
    let last = audit.as_array().unwrap().last().unwrap();
    assert_eq!(last["kind"], "run.stale");
    assert!(
        last["detail"]["moved"]
            .as_str()
            .unwrap()
            .contains("sys_mod_count"),
        "{last:#}"
    );

    let peer = SandboxPeer::start(&cli.db).await;
    let record = peer.record("INC-42").await;
    peer.stop().await;
    assert_eq!(
        record["state"], "2",
        "nothing may be written by a stale approval"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_close_code_retired_after_the_dry_run_is_caught_before_the_write() {
    let peer = SandboxPeer::serve().await;
    let cli = Cli::connected_to(&peer.base_url());
    let digest = dry_run(&cli);
    peer.set_faults(actionplane::sandbox::Faults {
        legacy_close_codes: true,
        ..Default::default()
    });

    let args = live_args(&digest);
    let out = cli.run(&as_strs(&args));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("close_code=`Duplicate` no longer a current choice"),
        "{stderr}"
    );
    assert_eq!(
        peer.record("INC-42").await["state"],
        "2",
        "nothing was written"
    );
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_killed_at_each_point_is_reconciled_with_exactly_one_work_note() {
    for point in actionplane::workspace::CRASH_POINTS {
        let cli = Cli::connected();
        let digest = dry_run(&cli);
        let args = live_args(&digest);
        let out = cli.run_env(&as_strs(&args), &[("ACTIONPLANE_CRASH_AT", point)]);
        assert!(
            !out.status.success(),
            "{point}: the process should have stopped"
        );

        let live = run_of(&cli, "live");
        assert_eq!(live["state"], "executing", "{point}");
        assert_eq!(live["interrupted"], true, "{point}");
        let run_id = live["id"].as_str().unwrap().to_owned();

        let settled = cli.json(&["runs", "reconcile", &run_id]);
        assert_eq!(settled["state"], "verified", "{point}: {settled:#}");
        let again = cli.run(&["runs", "reconcile", &run_id]);
        assert!(
            !again.status.success(),
            "{point}: a settled run is not reconciled twice"
        );

        let peer = SandboxPeer::start(&cli.db).await;
        let record = peer.record("INC-42").await;
        let notes = peer
            .journal_count(record["sys_id"].as_str().unwrap(), &run_id)
            .await;
        peer.stop().await;
        assert_eq!(record["state"], "7", "{point}");
        assert_eq!(notes, 1, "{point}: exactly one work note from the run");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn two_operators_on_one_record_one_runs_the_other_is_told_who_holds_it() {
    let peer = SandboxPeer::serve().await;
    let cli = Cli::connected_to(&peer.base_url());
    let digest = dry_run(&cli);
    peer.set_slow_ms(1500);

    let args = live_args(&digest);
    let first = cli.spawn(&as_strs(&args));
    tokio::time::sleep(Duration::from_millis(700)).await;
    let second = cli.run(&as_strs(&args));
    let first = first.wait_with_output().unwrap();
    peer.set_slow_ms(0);

    assert!(
        first.status.success(),
        "{}",
        String::from_utf8_lossy(&first.stderr)
    );
    assert!(!second.status.success());
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("is being written by run") && stderr.contains("until"),
        "{stderr}"
    );

    let record = peer.record("INC-42").await;
    assert_eq!(record["state"], "7");
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn two_workspaces_writing_one_record_never_both_verify() {
    let peer = SandboxPeer::serve().await;
    let (first, second) = (
        Cli::connected_to(&peer.base_url()),
        Cli::connected_to(&peer.base_url()),
    );
    let (first_args, second_args) = (live_args(&dry_run(&first)), live_args(&dry_run(&second)));
    peer.set_slow_ms(800);

    let one = first.spawn(&first_args.iter().map(String::as_str).collect::<Vec<_>>());
    let two = second.spawn(&second_args.iter().map(String::as_str).collect::<Vec<_>>());
    let (one, two) = (
        one.wait_with_output().unwrap(),
        two.wait_with_output().unwrap(),
    );
    peer.set_slow_ms(0);

    let verified = [&one, &two].iter().filter(|o| o.status.success()).count();
    assert_eq!(
        verified, 1,
        "exactly one of two concurrent writers may verify"
    );
    let loser = if one.status.success() { &two } else { &one };
    let stderr = String::from_utf8_lossy(&loser.stderr);
    assert!(
        stderr.contains("sys_mod_count"),
        "the other is told the record moved: {stderr}"
    );
    peer.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_resolve_rolls_back_and_a_close_says_it_is_one_way() {
    let cli = Cli::connected();
    let dry = cli.json(&[
        "run",
        "support.close-ticket",
        "--record",
        "INC-42",
        "--dry-run",
        "--resolve-only",
    ]);
    let digest = dry["digest"].as_str().unwrap();
    assert_eq!(dry["rollback"]["reversible"], true);
    let mut args = live_args(digest);
    args.push("--resolve-only".to_owned());
    let live = cli.json(&as_strs(&args));
    assert_eq!(live["state"], "verified");
    let forward = live["runId"].as_str().unwrap().to_owned();

    let preview = cli.json(&["rollback", &forward]);
    let state = preview["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["field"] == "state")
        .unwrap()
        .clone();
    assert_eq!(
        (state["before"].as_str(), state["after"].as_str()),
        (Some("6"), Some("2"))
    );
    let rollback_digest = preview["digest"].as_str().unwrap().to_owned();
    let done = cli.json(&[
        "rollback",
        &forward,
        "--approve-digest",
        &rollback_digest,
        "--reason",
        "wrong incident",
    ]);
    assert_eq!(done["state"], "verified", "{done:#}");

    let shown = cli.json(&["runs", "show", &forward]);
    assert_eq!(shown["run"]["state"], "rolled-back");

    let peer = SandboxPeer::start(&cli.db).await;
    let record = peer.record("INC-42").await;
    peer.stop().await;
    assert_eq!(
        (record["state"].as_str(), record["close_code"].as_str()),
        (Some("2"), Some(""))
    );

    let closed = Cli::connected();
    let digest = dry_run(&closed);
    let args = live_args(&digest);
    let live = closed.json(&as_strs(&args));
    let out = closed.run(&["rollback", live["runId"].as_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("one-way"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_evidence_pack_reads_alone_holds_no_secret_and_matches_the_chain() {
    let cli = Cli::connected();
    let digest = dry_run(&cli);
    let args = live_args(&digest);
    let live = cli.json(&as_strs(&args));
    let run_id = live["runId"].as_str().unwrap();

    let out_dir = cli.db.with_file_name("evidence");
    let pack = cli.json(&["runs", "export", run_id, "--out", out_dir.to_str().unwrap()]);
    let verify = cli.json(&["audit", "verify"]);
    let markdown = std::fs::read_to_string(pack["markdown"].as_str().unwrap()).unwrap();
    let json = std::fs::read_to_string(pack["json"].as_str().unwrap()).unwrap();

    for section in [
        "## Preview",
        "## Policy posture",
        "## Rollback plan",
        "## Approval",
        "## Audit events",
    ] {
        assert!(markdown.contains(section), "missing {section}");
    }
    assert!(
        markdown.contains("duplicate alert confirmed"),
        "the approval's reason is in the pack"
    );
    for text in [&markdown, &json] {
        assert!(
            !text.contains(common::SANDBOX_PASSWORD),
            "the pack leaked the password"
        );
        assert!(
            !text.to_lowercase().contains("authorization"),
            "the pack carries an auth header"
        );
    }
    let pack_json: Value = serde_json::from_str(&json).unwrap();
    // The export itself appends an event, so the pack's head is the one before it.
    let events = verify["events"].as_u64().unwrap();
    assert_eq!(pack_json["chain"]["events"].as_u64().unwrap() + 1, events);
    let exported = cli.json(&["audit"]);
    let before_export = &exported.as_array().unwrap()[usize::try_from(events - 2).unwrap()];
    assert_eq!(pack_json["chain"]["head"], before_export["hash"]);
}
