//! The local store on a real SQLite file: append-only audit, the hash chain, run transitions.

use actionplane::domain::run::{GovernedRun, RunMode, RunState};
use actionplane::store::{NewAuditEvent, Store, StoreError};
use serde_json::json;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("app.db")).unwrap();
    (dir, store)
}

fn append(store: &mut Store, kind: &str) {
    store
        .append_audit(&NewAuditEvent::new(
            None,
            kind,
            "tester@host",
            json!({"n": kind}),
        ))
        .unwrap();
}

#[test]
fn audit_rows_refuse_updates_and_deletes() {
    let (_dir, mut store) = temp_store();
    append(&mut store, "one");
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let update = conn.execute("UPDATE audit_events SET actor = 'mallory'", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = conn.execute("DELETE FROM audit_events", []);
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[test]
fn an_untouched_chain_verifies_and_an_edited_one_names_the_event() {
    let (_dir, mut store) = temp_store();
    for kind in ["one", "two", "three", "four"] {
        append(&mut store, kind);
    }
    let report = store.verify_audit().unwrap();
    assert_eq!((report.events, report.first_bad.clone()), (4, None));

    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET detail = '{\"n\":\"forged\"}' WHERE seq = 3;",
    )
    .unwrap();
    let report = store.verify_audit().unwrap();
    assert_eq!(
        report.first_bad.as_deref(),
        Some("event 3 (three) was altered after it was written")
    );
}

#[test]
fn a_removed_event_breaks_the_chain_where_it_was() {
    let (_dir, mut store) = temp_store();
    for kind in ["one", "two", "three"] {
        append(&mut store, kind);
    }
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 2;",
    )
    .unwrap();
    let bad = store.verify_audit().unwrap().first_bad.unwrap();
    assert!(bad.contains("event 2 is missing"), "{bad}");
}

#[test]
fn removing_the_newest_event_or_reordering_two_is_caught() {
    let (_dir, mut store) = temp_store();
    for kind in ["one", "two", "three"] {
        append(&mut store, kind);
    }
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_events_no_delete; DELETE FROM audit_events WHERE seq = 3;",
    )
    .unwrap();
    let bad = store.verify_audit().unwrap().first_bad.unwrap();
    assert!(bad.contains("event 3 is missing"), "{bad}");

    let (_dir, mut store) = temp_store();
    for kind in ["one", "two", "three"] {
        append(&mut store, kind);
    }
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute_batch(
        "DROP TRIGGER audit_events_no_update;
         UPDATE audit_events SET seq = 100 WHERE seq = 1;
         UPDATE audit_events SET seq = 1 WHERE seq = 2;
         UPDATE audit_events SET seq = 2 WHERE seq = 100;",
    )
    .unwrap();
    let bad = store.verify_audit().unwrap().first_bad.unwrap();
    assert!(bad.starts_with("event 1 "), "{bad}");
}

#[test]
fn the_store_refuses_transitions_the_state_machine_forbids() {
    let (_dir, mut store) = temp_store();
    let run = GovernedRun {
        id: "run-1".to_owned(),
        action: "support.close-ticket".to_owned(),
        mode: RunMode::Live,
        state: RunState::Previewed,
        target: "embedded sandbox".to_owned(),
        number: "INC-42".to_owned(),
        digest: "sha256:x".to_owned(),
        created_at: "2026-12-04 10:00:00".to_owned(),
        updated_at: "2026-12-04 10:00:00".to_owned(),
        parent_id: None,
        outcome: None,
    };
    let preview: actionplane::domain::preview::Preview = serde_json::from_value(json!({
        "action": "support.close-ticket", "target": "embedded sandbox", "isSandbox": true,
        "table": "incident", "number": "INC-42", "sysId": "a", "modCount": 3, "updatedOn": "",
        "shortDescription": "",
        "request": {"number": "INC-42", "targetState": "7", "closeCode": "", "closeNotes": "",
            "workNote": ""},
        "changes": [], "blocked": [], "posture": {"checks": []},
        "rollback": {"reversible": true, "beforeImage": {}, "compensatingWrites": [],
            "compensatingNote": "", "explanation": "", "alternative": null},
        "expectedEffects": [], "allowlistVersion": "v", "digest": "sha256:x"
    }))
    .unwrap();
    store.create_run(&run, &preview, "tester").unwrap();

    let skip = store.transition("run-1", RunState::Executing, None, "tester", json!({}));
    assert!(matches!(skip, Err(StoreError::Conflict(m)) if m.contains("cannot become executing")));
    let stored = store.run("run-1").unwrap().unwrap();
    assert_eq!(
        stored.state,
        RunState::Previewed,
        "a refused transition leaves the run as it was"
    );
    let kinds: Vec<_> = store
        .audit(Some("run-1"))
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(kinds, ["artifact.stored", "run.previewed"]);
    assert_eq!(store.verify_audit().unwrap().first_bad, None);

    let conn = rusqlite::Connection::open(store.path()).unwrap();
    conn.execute("UPDATE runs SET state = 'verified' WHERE id = 'run-1'", [])
        .unwrap();
    let bad = store.verify_audit().unwrap().first_bad.unwrap();
    assert_eq!(
        bad,
        "run run-1 says verified but its audit trail says previewed"
    );
    conn.execute("UPDATE runs SET state = 'previewed' WHERE id = 'run-1'", [])
        .unwrap();
    conn.execute(
        "UPDATE artifacts SET body = '{}' WHERE run_id = 'run-1'",
        [],
    )
    .unwrap();
    let bad = store.verify_audit().unwrap().first_bad.unwrap();
    assert!(bad.contains("(preview) of run run-1 was altered"), "{bad}");
}

#[test]
fn reopening_the_database_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.db");
    {
        let mut store = Store::open(&path).unwrap();
        append(&mut store, "kept");
    }
    let store = Store::open(&path).unwrap();
    assert_eq!(store.audit(None).unwrap()[0].kind, "kept");
    assert_eq!(store.verify_audit().unwrap().first_bad, None);
}
