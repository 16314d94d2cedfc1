//! Schema migrations, applied in order and counted in `PRAGMA user_version`.

use rusqlite::{Connection, TransactionBehavior};

use super::{Result, StoreError};

/// Each entry moves the schema one version forward; never edit a released entry.
const MIGRATIONS: &[&str] = &[
    r"
CREATE TABLE connector (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    settings     TEXT NOT NULL,
    secret_store TEXT NOT NULL,
    saved_at     TEXT NOT NULL
);
CREATE TABLE onboarding (
    fact       TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE metadata (
    table_name TEXT PRIMARY KEY,
    body       TEXT NOT NULL,
    synced_at  TEXT NOT NULL
);
CREATE TABLE runs (
    id         TEXT PRIMARY KEY,
    action     TEXT NOT NULL,
    mode       TEXT NOT NULL CHECK (mode IN ('dry-run', 'live')),
    state      TEXT NOT NULL,
    target     TEXT NOT NULL,
    number     TEXT NOT NULL,
    digest     TEXT NOT NULL,
    parent_id  TEXT REFERENCES runs(id),
    outcome    TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX runs_by_time ON runs (created_at);
CREATE TABLE artifacts (
    id         INTEGER PRIMARY KEY,
    run_id     TEXT NOT NULL REFERENCES runs(id),
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX artifacts_by_run ON artifacts (run_id, id);
CREATE TABLE approvals (
    run_id      TEXT PRIMARY KEY REFERENCES runs(id),
    digest      TEXT NOT NULL,
    approver    TEXT NOT NULL,
    host        TEXT NOT NULL,
    over_ssh    INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    approved_at TEXT NOT NULL
);
CREATE TABLE audit_events (
    seq       INTEGER PRIMARY KEY,
    at        TEXT NOT NULL,
    run_id    TEXT,
    kind      TEXT NOT NULL,
    actor     TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE INDEX audit_by_run ON audit_events (run_id, seq);
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;
",
    r"
CREATE TABLE leases (
    record_key TEXT PRIMARY KEY,
    run_id     TEXT NOT NULL,
    owner      TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
",
    r"
CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  INTEGER NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
    SELECT 1, seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1;
CREATE TRIGGER audit_events_head AFTER INSERT ON audit_events
BEGIN
    INSERT INTO audit_head (id, seq, hash) VALUES (1, NEW.seq, NEW.hash)
    ON CONFLICT(id) DO UPDATE SET seq = NEW.seq, hash = NEW.hash;
END;
",
];

/// Applies every migration the database has not seen yet, each in its own transaction.
///
/// The version is read inside the write transaction, so two processes opening a new database
/// at once cannot both apply the same step.
pub fn apply(conn: &mut Connection) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let version: usize = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version > MIGRATIONS.len() {
            return Err(StoreError::TooNew {
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        let Some(sql) = MIGRATIONS.get(version) else {
            return Ok(());
        };
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", version + 1)?;
        tx.commit()?;
    }
}
