//! Governed runs, their artifacts and approvals. Every change also appends an audit event in
//! the same transaction, so the run and its audit trail never disagree.

use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::audit::{NewAuditEvent, append};
use super::{Result, Store, StoreError, from_json, now, to_json};
use crate::domain::preview::Preview;
use crate::domain::run::{Approval, GovernedRun, RunMode, RunState};

/// One stored artifact of a run: preview, approval, request, response, read-back, ...
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Artifact {
    pub id: i64,
    pub run_id: String,
    pub kind: String,
    pub body: serde_json::Value,
    pub created_at: String,
}

fn run_by_id() -> String {
    format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1")
}

const RUN_COLUMNS: &str =
    "id, action, mode, state, target, number, digest, parent_id, outcome, created_at, updated_at";

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<GovernedRun> {
    let mode: String = r.get(2)?;
    let state: String = r.get(3)?;
    Ok(GovernedRun {
        id: r.get(0)?,
        action: r.get(1)?,
        mode: RunMode::parse(&mode).unwrap_or(RunMode::DryRun),
        state: RunState::parse(&state).unwrap_or(RunState::Failed),
        target: r.get(4)?,
        number: r.get(5)?,
        digest: r.get(6)?,
        parent_id: r.get(7)?,
        outcome: r.get(8)?,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
    })
}

/// A new, unique run id: time-ordered with a random tail.
pub fn new_run_id() -> String {
    let stamp = chrono::Utc::now().format("%Y%m%d-%H%M%S");
    format!("run-{stamp}-{:04x}", rand::random::<u16>())
}

impl Store {
    /// Stores a new run in state `previewed` with its preview artifact and audit event.
    pub fn create_run(&mut self, run: &GovernedRun, preview: &Preview, actor: &str) -> Result<()> {
        let body = to_json(preview)?;
        self.write(|tx| {
            tx.execute(
                &format!(
                    "INSERT INTO runs ({RUN_COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)"
                ),
                params![
                    run.id,
                    run.action,
                    run.mode.as_str(),
                    run.state.as_str(),
                    run.target,
                    run.number,
                    run.digest,
                    run.parent_id,
                    run.outcome,
                    run.created_at,
                    run.updated_at
                ],
            )?;
            insert_artifact(tx, &run.id, "preview", &body)?;
            let detail = serde_json::json!({
                "mode": run.mode.as_str(), "number": run.number, "digest": run.digest,
                "target": run.target, "posture": preview.posture.summary(),
            });
            append(
                tx,
                &NewAuditEvent::new(Some(&run.id), "run.previewed", actor, detail),
            )?;
            Ok(())
        })
    }

    /// Moves a run from one state to the next, checked against the state machine and the
    /// stored state, with an audit event saying why.
    pub fn transition(
        &mut self,
        run_id: &str,
        to: RunState,
        outcome: Option<&str>,
        actor: &str,
        detail: serde_json::Value,
    ) -> Result<GovernedRun> {
        self.write(|tx| {
            let run = tx
                .query_row(&run_by_id(), params![run_id], run_row)
                .optional()?
                .ok_or_else(|| {
                    StoreError::Conflict(format!(
                        "no run {run_id}: list them with `actionplane runs`"
                    ))
                })?;
            if !run.state.can_move_to(to) {
                return Err(StoreError::Conflict(format!(
                    "run {run_id} is {} and cannot become {to}",
                    run.state
                )));
            }
            let at = now();
            tx.execute(
                "UPDATE runs SET state = ?2, outcome = COALESCE(?3, outcome), updated_at = ?4
                 WHERE id = ?1",
                params![run_id, to.as_str(), outcome, at],
            )?;
            let kind = format!("run.{to}");
            append(tx, &NewAuditEvent::new(Some(run_id), &kind, actor, detail))?;
            Ok(GovernedRun {
                state: to,
                outcome: outcome.map(str::to_owned).or(run.outcome),
                updated_at: at,
                ..run
            })
        })
    }

    /// Stores an approval bound to the run's digest, moving the run to `approved`.
    pub fn approve(&mut self, approval: &Approval) -> Result<GovernedRun> {
        let stored = self.run(&approval.run_id)?;
        if stored.as_ref().map(|r| r.digest.as_str()) != Some(approval.digest.as_str()) {
            return Err(StoreError::Conflict(format!(
                "the approval names digest {} but run {} previewed a different change: \
                 preview again",
                approval.digest, approval.run_id
            )));
        }
        let body = to_json(approval)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO approvals
                     (run_id, digest, approver, host, over_ssh, reason, approved_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    approval.run_id,
                    approval.digest,
                    approval.approver,
                    approval.host,
                    approval.over_ssh,
                    approval.reason,
                    approval.approved_at
                ],
            )?;
            insert_artifact(tx, &approval.run_id, "approval", &body)?;
            Ok(())
        })?;
        let detail = serde_json::json!({
            "digest": approval.digest, "reason": approval.reason,
            "host": approval.host, "overSsh": approval.over_ssh,
        });
        let actor = format!("{}@{}", approval.approver, approval.host);
        self.transition(&approval.run_id, RunState::Approved, None, &actor, detail)
    }

    /// The approval of a run, if it has one.
    pub fn approval(&self, run_id: &str) -> Result<Option<Approval>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM artifacts WHERE run_id = ?1 AND kind = 'approval'
                 ORDER BY id DESC LIMIT 1",
                params![run_id],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| from_json(&b)).transpose()
    }

    /// Adds an artifact to a run.
    pub fn add_artifact(
        &mut self,
        run_id: &str,
        kind: &str,
        body: &serde_json::Value,
    ) -> Result<()> {
        let body = body.to_string();
        self.write(|tx| insert_artifact(tx, run_id, kind, &body))
    }

    /// The artifacts of a run in the order they were stored.
    pub fn artifacts(&self, run_id: &str) -> Result<Vec<Artifact>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, run_id, kind, body, created_at FROM artifacts
             WHERE run_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map(params![run_id], |r| {
            let body: String = r.get(3)?;
            Ok(Artifact {
                id: r.get(0)?,
                run_id: r.get(1)?,
                kind: r.get(2)?,
                body: serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)),
                created_at: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// The preview a run was created with.
    pub fn preview(&self, run_id: &str) -> Result<Option<Preview>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM artifacts WHERE run_id = ?1 AND kind = 'preview'
                 ORDER BY id LIMIT 1",
                params![run_id],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| from_json(&b)).transpose()
    }

    /// One run by id.
    pub fn run(&self, run_id: &str) -> Result<Option<GovernedRun>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                params![run_id],
                run_row,
            )
            .optional()?)
    }

    /// All runs, newest first.
    pub fn runs(&self) -> Result<Vec<GovernedRun>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {RUN_COLUMNS} FROM runs ORDER BY created_at DESC, rowid DESC"
        ))?;
        let rows = stmt.query_map([], run_row)?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// Whether any run of this mode ended verified (onboarding facts).
    pub fn has_verified(&self, mode: RunMode) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM runs
             WHERE mode = ?1 AND state IN ('verified', 'rolled-back'))",
            params![mode.as_str()],
            |r| r.get(0),
        )?)
    }
}

fn insert_artifact(
    tx: &rusqlite::Transaction<'_>,
    run_id: &str,
    kind: &str,
    body: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO artifacts (run_id, kind, body, created_at) VALUES (?1, ?2, ?3, ?4)",
        params![run_id, kind, body, now()],
    )?;
    // The artifact's hash goes into the audit chain, so a later edit of the body shows.
    let detail = serde_json::json!({
        "artifact": tx.last_insert_rowid(), "kind": kind, "sha256": body_hash(body),
    });
    append(
        tx,
        &NewAuditEvent::new(Some(run_id), "artifact.stored", "actionplane", detail),
    )?;
    Ok(())
}

/// The hash of an artifact body as the audit chain records it.
pub(super) fn body_hash(body: &str) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(body.as_bytes()))
}
