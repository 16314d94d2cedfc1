//! Live execution: lease the record, check for drift and re-check the policy, store the intent,
//! write once, read back. An interrupted run is settled by reading the instance, never by
//! sending the write again blindly.

use serde_json::json;

use super::runs::Execution;
use super::{INCIDENT, Result, Workspace, WorkspaceError};
use crate::domain::incident::{JournalEntry, Record};
use crate::domain::preview::{ChangeKind, Preview};
use crate::domain::run::{Approval, GovernedRun, RunState};
use crate::servicenow::{self, Client};
use crate::store::{Lease, now};

/// How long a record's lease lasts without being given back.
const LEASE_SECONDS: i64 = 120;

/// The environment variable that stops the process at a named point (crash-safety tests).
pub const CRASH_AT_ENV: &str = "ACTIONPLANE_CRASH_AT";

/// The named points between the stored transitions of a live run.
pub const CRASH_POINTS: [&str; 4] = [
    "after-intent",
    "after-write",
    "after-response",
    "after-read-back",
];

/// Stops the process abruptly at `point` when the environment names it, as a kill would.
fn crash_point(point: &str) {
    if std::env::var(CRASH_AT_ENV).is_ok_and(|p| p == point) {
        eprintln!("stopping at {point} ({CRASH_AT_ENV})");
        std::process::abort();
    }
}

/// The marker a live work note carries, so a landed note can be recognised by its run.
pub fn run_marker(run_id: &str) -> String {
    format!("[actionplane {run_id}]")
}

/// Whether a run was left executing by a process that is gone.
pub fn is_interrupted(run: &GovernedRun, lease: Option<&Lease>) -> bool {
    let host = gethostname::gethostname().to_string_lossy().into_owned();
    run.state == RunState::Executing && lease.is_none_or(|l| l.is_abandoned(&now(), &host))
}

/// A run as listed: the stored run, and whether a stopped process left it executing.
#[derive(Clone, Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunSummary {
    #[serde(flatten)]
    pub run: GovernedRun,
    pub interrupted: bool,
}

impl Workspace {
    /// All runs, newest first, each marked if it was interrupted and needs reconciling.
    pub fn run_summaries(&self) -> Result<Vec<RunSummary>> {
        let store = self.store();
        let mut summaries = Vec::new();
        for run in store.runs()? {
            let lease = store.lease_of_run(&run.id)?;
            let interrupted = is_interrupted(&run, lease.as_ref());
            summaries.push(RunSummary { run, interrupted });
        }
        Ok(summaries)
    }

    fn lease_for(&self, run: &GovernedRun, preview: &Preview) -> Lease {
        let (_, host, _) = Approval::identity();
        let expires = chrono::Utc::now() + chrono::Duration::seconds(LEASE_SECONDS);
        Lease {
            record_key: format!("{}/{INCIDENT}/{}", preview.target, preview.sys_id),
            run_id: run.id.clone(),
            owner: self.actor().to_owned(),
            host,
            pid: std::process::id(),
            expires_at: expires.format("%Y-%m-%d %H:%M:%S").to_string(),
        }
    }

    /// Executes an approved live run while holding the record's lease.
    pub(super) async fn execute_live(
        &self,
        run: &GovernedRun,
        preview: &Preview,
    ) -> Result<Execution> {
        let lease = self.lease_for(run, preview);
        let acquired = self.store().acquire_lease(&lease);
        if let Err(held) = acquired {
            let text = format!("not executed: {held}");
            self.settle(
                run,
                RunState::Failed,
                &text,
                json!({"lease": held.to_string()}),
            )?;
            return Err(WorkspaceError::Refused(held.to_string()));
        }
        let result = self.write_and_verify(run, preview).await;
        self.store().release_lease(&lease.record_key, &run.id)?;
        result
    }

    async fn write_and_verify(&self, run: &GovernedRun, preview: &Preview) -> Result<Execution> {
        let client = self.client().await?;
        let current = client.read(INCIDENT, &preview.sys_id).await?;
        if let Some(stale) = self.staleness(preview, &current)? {
            return self.settle(run, RunState::Stale, &stale.0, stale.1);
        }
        if let Some(stale) = self.choices_gone(&client, preview).await? {
            return self.settle(run, RunState::Stale, &stale.0, stale.1);
        }

        let body: serde_json::Map<_, _> = writes_with_marker(preview, &run.id)
            .into_iter()
            .map(|(k, v)| (k, json!(v)))
            .collect();
        let request =
            json!({"method": "PATCH", "table": INCIDENT, "sysId": preview.sys_id, "body": body});
        self.store().add_artifact(&run.id, "request", &request)?;
        self.store()
            .transition(&run.id, RunState::Executing, None, self.actor(), request)?;
        crash_point("after-intent");
        self.send(&client, run, preview).await
    }

    /// Sends the one write of a run and follows it with the read-back.
    async fn send(
        &self,
        client: &Client,
        run: &GovernedRun,
        preview: &Preview,
    ) -> Result<Execution> {
        let writes = writes_with_marker(preview, &run.id);
        let result = client.patch(INCIDENT, &preview.sys_id, &writes).await;
        crash_point("after-write");
        match result {
            Ok(exchange) => {
                let body = serde_json::to_value(&exchange).unwrap_or_default();
                self.store().add_artifact(&run.id, "response", &body)?;
                crash_point("after-response");
                self.read_back(client, run, preview, Some(exchange.record.mod_count()))
                    .await
            }
            Err(error) if write_may_have_landed(&error) => {
                let detail =
                    json!({"kind": error.kind(), "error": error.to_string(), "uncertain": true});
                self.store().add_artifact(&run.id, "response", &detail)?;
                self.settle_uncertain(client, run, preview).await
            }
            Err(error) => {
                let detail = json!({"kind": error.kind(), "error": error.to_string()});
                self.store().add_artifact(&run.id, "response", &detail)?;
                let text = format!("the write was refused: {error}");
                self.settle(run, RunState::Failed, &text, detail)?;
                Err(error.into())
            }
        }
    }

    /// After a timeout or dropped connection: learn from the instance whether the write landed.
    async fn settle_uncertain(
        &self,
        client: &Client,
        run: &GovernedRun,
        preview: &Preview,
    ) -> Result<Execution> {
        match self.landed(client, run, preview).await {
            Ok(true) => self.read_back(client, run, preview, None).await,
            Ok(false) => {
                let text = "the write did not reach the instance (no trace of it on the record): \
                            nothing changed; preview again to retry";
                self.settle(run, RunState::Failed, text, json!({"landed": false}))
            }
            Err(error) => Err(error),
        }
    }

    /// Whether the run's write is on the record: its marked work note, or its field values.
    async fn landed(&self, client: &Client, run: &GovernedRun, preview: &Preview) -> Result<bool> {
        let marker = run_marker(&run.id);
        if preview
            .changes
            .iter()
            .any(|c| c.kind == ChangeKind::JournalAppend)
        {
            let journal = client
                .journal(INCIDENT, &preview.sys_id, "work_notes")
                .await?;
            return Ok(journal.iter().any(|j| j.value.contains(&marker)));
        }
        let record = client.read(INCIDENT, &preview.sys_id).await?;
        Ok(record.mod_count() > preview.mod_count
            && diverged_fields(preview, &record, 1).is_empty())
    }

    /// Reads the record and its journal back and compares them with the approved after-image.
    /// `written` is the `sys_mod_count` the write's own response carried, when known: anything
    /// but one more than at preview means another change reached the record in between.
    async fn read_back(
        &self,
        client: &Client,
        run: &GovernedRun,
        preview: &Preview,
        written: Option<u64>,
    ) -> Result<Execution> {
        let unread = |error: crate::servicenow::Error| {
            WorkspaceError::Refused(format!(
                "the write was sent, but reading it back failed: {error} Nothing will be sent \
                 again: run `actionplane runs reconcile {}` to verify it",
                run.id
            ))
        };
        let record = client
            .read(INCIDENT, &preview.sys_id)
            .await
            .map_err(unread)?;
        let journal = client
            .journal(INCIDENT, &preview.sys_id, "work_notes")
            .await
            .map_err(unread)?;
        let notes_from_run = count_marked(&journal, &run.id);
        let mut diverged = diverged_fields(preview, &record, notes_from_run);
        if let Some(count) = written.filter(|c| *c != preview.mod_count + 1) {
            diverged.push(format!(
                "sys_mod_count: the write made it {count}, expected {}: another change reached \
                 the record at the same time; review its journal",
                preview.mod_count + 1
            ));
        }
        let readback = json!({
            "record": record, "journalEntriesFromRun": notes_from_run, "diverged": diverged,
        });
        self.store().add_artifact(&run.id, "read-back", &readback)?;
        crash_point("after-read-back");
        if diverged.is_empty() {
            let text = format!("verified: {} reads back as approved", preview.number);
            self.settle(run, RunState::Verified, &text, readback)
        } else {
            let text = format!("diverged: {}", diverged.join("; "));
            self.settle(run, RunState::Diverged, &text, readback)
        }
    }

    fn settle(
        &self,
        run: &GovernedRun,
        state: RunState,
        text: &str,
        detail: serde_json::Value,
    ) -> Result<Execution> {
        let diverged = detail["diverged"]
            .as_array()
            .map(|d| {
                d.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let run = self
            .store()
            .transition(&run.id, state, Some(text), self.actor(), detail)?;
        if run.action == super::evidence::ROLLBACK_ACTION && state == RunState::Verified {
            self.mark_rolled_back(&run)?;
        }
        Ok(Execution {
            run,
            diverged,
            message: text.to_owned(),
        })
    }

    /// Why the approved preview no longer holds: the record moved, or the policy changed.
    fn staleness(
        &self,
        preview: &Preview,
        current: &Record,
    ) -> Result<Option<(String, serde_json::Value)>> {
        if let Some(moved) = drift(preview, current) {
            let text =
                format!("stale: the record changed since the preview ({moved}); preview again");
            let detail = json!({"moved": moved, "previewModCount": preview.mod_count,
                "currentModCount": current.mod_count(),
                "updatedBy": current.value("sys_updated_by")});
            return Ok(Some((text, detail)));
        }
        let fresh = self.build_preview(current, &preview.request)?;
        if fresh.digest != preview.digest {
            let text = format!(
                "stale: the allowlist or policy changed since approval (now: {}); preview again",
                fresh.posture.summary()
            );
            let detail = json!({"approvedDigest": preview.digest, "currentDigest": fresh.digest,
                "allowlistVersion": fresh.allowlist_version});
            return Ok(Some((text, detail)));
        }
        Ok(None)
    }

    /// Re-reads the instance's current choices for the written choice fields: ServiceNow drops
    /// an unknown choice silently, so a value retired since the sync must be caught here.
    async fn choices_gone(
        &self,
        client: &Client,
        preview: &Preview,
    ) -> Result<Option<(String, serde_json::Value)>> {
        let synced = self.metadata()?.ok_or(WorkspaceError::NoMetadata)?;
        let fields: Vec<String> = preview
            .changes
            .iter()
            .filter(|c| c.kind == ChangeKind::Set && !c.after.is_empty())
            .filter(|c| {
                synced
                    .field(&c.field)
                    .is_some_and(|f| !f.choices.is_empty())
            })
            .map(|c| c.field.clone())
            .collect();
        if fields.is_empty() {
            return Ok(None);
        }
        let current = client.sync_metadata(INCIDENT, &fields).await?;
        let gone: Vec<String> = preview
            .changes
            .iter()
            .filter(|c| fields.contains(&c.field))
            .filter(|c| {
                current
                    .field(&c.field)
                    .is_none_or(|f| f.choice_label(&c.after).is_none())
            })
            .map(|c| format!("{}=`{}`", c.field, c.after))
            .collect();
        if gone.is_empty() {
            return Ok(None);
        }
        let text = format!(
            "stale: {} no longer a current choice on the instance, which would drop it silently; \
             sync metadata and preview again",
            gone.join(", ")
        );
        Ok(Some((text, json!({"choicesGone": gone}))))
    }

    /// The `sys_mod_count` in a run's stored write response, if it has one.
    fn written_mod_count(&self, run_id: &str) -> Result<Option<u64>> {
        let artifacts = self.store().artifacts(run_id)?;
        Ok(artifacts
            .iter()
            .rev()
            .find(|a| a.kind == "response")
            .and_then(|a| a.body["record"]["fields"]["sys_mod_count"]["value"].as_str())
            .and_then(|v| v.parse().ok()))
    }

    /// Settles a run that a stopped process left executing: re-reads the record; if the write
    /// is there, verifies it; if the record is untouched, sends the approved write once.
    pub async fn reconcile(&self, run_id: &str) -> Result<Execution> {
        let run = self
            .store()
            .run(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let lease = self.store().lease_of_run(run_id)?;
        if !is_interrupted(&run, lease.as_ref()) {
            return Err(WorkspaceError::Refused(format!(
                "run {run_id} is {} and not interrupted: nothing to reconcile",
                run.state
            )));
        }
        let preview = self
            .store()
            .preview(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let lease = self.lease_for(&run, &preview);
        self.store()
            .acquire_lease(&lease)
            .map_err(|e| WorkspaceError::Refused(e.to_string()))?;
        let result = self.settle_interrupted(&run, &preview).await;
        self.store().release_lease(&lease.record_key, run_id)?;
        result
    }

    async fn settle_interrupted(&self, run: &GovernedRun, preview: &Preview) -> Result<Execution> {
        let client = self.client().await?;
        let detail =
            json!({"reconcile": "re-reading the record to learn whether the write landed"});
        self.store().add_artifact(&run.id, "reconcile", &detail)?;
        if self.landed(&client, run, preview).await? {
            let written = self.written_mod_count(&run.id)?;
            return self.read_back(&client, run, preview, written).await;
        }
        let current = client.read(INCIDENT, &preview.sys_id).await?;
        if let Some((text, detail)) = self.staleness(preview, &current)? {
            return self.settle(run, RunState::Stale, &text, detail);
        }
        // The record is exactly as approved and carries no trace of this run: the write never
        // landed, so sending it now is the one approved write.
        let detail = json!({"landed": false, "modCount": current.mod_count()});
        self.audit(Some(&run.id), "run.resent-after-interruption", detail)?;
        self.send(&client, run, preview).await
    }
}

fn write_may_have_landed(error: &servicenow::Error) -> bool {
    matches!(
        error,
        servicenow::Error::Timeout
            | servicenow::Error::Connect { .. }
            | servicenow::Error::NotJson { .. }
    ) || matches!(error, servicenow::Error::Server { status, .. } if *status >= 502)
}

fn count_marked(journal: &[JournalEntry], run_id: &str) -> usize {
    let marker = run_marker(run_id);
    journal.iter().filter(|j| j.value.contains(&marker)).count()
}

/// Fields whose read-back differs from the approved after-image, in words.
fn diverged_fields(preview: &Preview, record: &Record, notes_from_run: usize) -> Vec<String> {
    preview
        .changes
        .iter()
        .filter_map(|change| match change.kind {
            ChangeKind::Set if record.value(&change.field) != change.after => Some(format!(
                "{}: expected `{}`, instance has `{}`",
                change.field,
                change.after,
                record.value(&change.field)
            )),
            ChangeKind::JournalAppend if notes_from_run != 1 => Some(format!(
                "{}: expected one entry from this run, found {notes_from_run}",
                change.field
            )),
            _ => None,
        })
        .collect()
}

/// What moved between the preview and now, if anything.
fn drift(preview: &Preview, current: &Record) -> Option<String> {
    let mut moved = Vec::new();
    if current.mod_count() != preview.mod_count {
        moved.push(format!(
            "sys_mod_count {} -> {}",
            preview.mod_count,
            current.mod_count()
        ));
    }
    if current.updated_on() != preview.updated_on {
        moved.push(format!(
            "sys_updated_on {} -> {} by {}",
            preview.updated_on,
            current.updated_on(),
            current.value("sys_updated_by")
        ));
    }
    (!moved.is_empty()).then(|| moved.join(", "))
}

/// The allowlisted writes, with the run marker appended to a work note.
fn writes_with_marker(preview: &Preview, run_id: &str) -> Vec<(String, String)> {
    preview
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Unchanged)
        .map(|c| {
            let value = if c.kind == ChangeKind::JournalAppend {
                format!("{}\n{}", c.after, run_marker(run_id))
            } else {
                c.after.clone()
            };
            (c.field.clone(), value)
        })
        .collect()
}
