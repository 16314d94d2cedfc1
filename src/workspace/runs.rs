//! Governed runs: preview, approval, execution (simulated or live), read-back and evidence.

use serde::Serialize;
use serde_json::json;

use super::{INCIDENT, Result, Workspace, WorkspaceError};
use crate::domain::CLOSE_TICKET;
use crate::domain::incident::Record;
use crate::domain::preview::{self, ChangeKind, CloseRequest, Preview, PreviewInput};
use crate::domain::run::{Approval, GovernedRun, RunMode, RunState};
use crate::servicenow::Client;
use crate::store::{Artifact, AuditEvent, new_run_id, now};

/// The end of an execution: the run as it now stands, and the fields that differ, if any.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Execution {
    pub run: GovernedRun,
    pub diverged: Vec<String>,
    pub message: String,
}

/// Everything stored about one run.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetail {
    pub run: GovernedRun,
    pub preview: Option<Preview>,
    pub approval: Option<Approval>,
    pub artifacts: Vec<Artifact>,
    pub audit: Vec<AuditEvent>,
}

/// The marker a live work note carries, so a landed note can be recognised by its run.
pub fn run_marker(run_id: &str) -> String {
    format!("[actionplane {run_id}]")
}

impl Workspace {
    /// Reads the record and stores a new run with its preview. A live run must continue a
    /// verified dry run of the same change.
    pub async fn preview(&self, request: &CloseRequest, mode: RunMode) -> Result<(GovernedRun, Preview)> {
        let (settings, _) = self.settings()?;
        let metadata = self.metadata()?.ok_or(WorkspaceError::NoMetadata)?;
        let allowlist = self.allowlist()?;
        let client = self.client().await?;
        let record = client.find_by_number(INCIDENT, request.number.trim()).await?;
        let preview = preview::build(&PreviewInput {
            action: CLOSE_TICKET,
            target: &settings.instance.label(),
            is_sandbox: settings.is_sandbox,
            production_acknowledged: settings.is_sandbox,
            record: &record,
            request,
            allowlist: &allowlist,
            metadata: Some(&metadata),
            operator: &settings.username,
        });
        let parent_id = match mode {
            RunMode::DryRun => None,
            RunMode::Live => Some(self.verified_dry_run(&preview)?.ok_or(WorkspaceError::NeedsDryRun)?),
        };
        let at = now();
        let run = GovernedRun {
            id: new_run_id(),
            action: CLOSE_TICKET.to_owned(),
            mode,
            state: RunState::Previewed,
            target: preview.target.clone(),
            number: preview.number.clone(),
            digest: preview.digest.clone(),
            created_at: at.clone(),
            updated_at: at,
            parent_id,
            outcome: None,
        };
        self.store().create_run(&run, &preview, self.actor())?;
        Ok((run, preview))
    }

    /// The verified dry run whose change equals this preview's, if there is one.
    fn verified_dry_run(&self, preview: &Preview) -> Result<Option<String>> {
        let store = self.store();
        for run in store.runs()? {
            let same_record = run.number == preview.number && run.target == preview.target;
            if run.mode != RunMode::DryRun || run.state != RunState::Verified || !same_record {
                continue;
            }
            let dry = store.preview(&run.id)?;
            if dry.is_some_and(|d| d.sendable_writes() == preview.sendable_writes() && d.sys_id == preview.sys_id) {
                return Ok(Some(run.id));
            }
        }
        Ok(None)
    }

    /// Approves a previewed run: binds who, where, when and why to its digest.
    pub fn approve(&self, run_id: &str, digest: &str, reason: &str) -> Result<Approval> {
        let run = self.store().run(run_id)?.ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        if run.digest != digest {
            return Err(WorkspaceError::DigestMismatch { approved: digest.to_owned(), current: run.digest });
        }
        let preview = self.store().preview(run_id)?.ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        if !preview.approvable() {
            return Err(WorkspaceError::NotApprovable(preview.posture.summary()));
        }
        if reason.trim().is_empty() {
            return Err(WorkspaceError::Refused("an approval needs a reason: say why this change is right".to_owned()));
        }
        let (approver, host, over_ssh) = Approval::identity();
        let approval = Approval {
            run_id: run_id.to_owned(),
            digest: digest.to_owned(),
            approver,
            host,
            over_ssh,
            reason: reason.trim().to_owned(),
            approved_at: now(),
        };
        self.store().approve(&approval)?;
        Ok(approval)
    }

    /// Rejects a previewed run; nothing is sent.
    pub fn reject(&self, run_id: &str, reason: &str) -> Result<GovernedRun> {
        let detail = json!({"reason": reason});
        Ok(self.store().transition(run_id, RunState::Rejected, Some("rejected by the operator"), self.actor(), detail)?)
    }

    /// Executes an approved run: simulated for a dry run, written and read back for a live one.
    pub async fn execute(&self, run_id: &str) -> Result<Execution> {
        let run = self.store().run(run_id)?.ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let preview = self.store().preview(run_id)?.ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let approval = self.store().approval(run_id)?;
        if run.state != RunState::Approved || approval.as_ref().is_none_or(|a| a.digest != run.digest) {
            return Err(WorkspaceError::Refused(format!(
                "run {run_id} is {} without an approval of its digest: approve it first",
                run.state
            )));
        }
        match run.mode {
            RunMode::DryRun => self.simulate(&run, &preview),
            RunMode::Live => self.execute_live(&run, &preview).await,
        }
    }

    fn simulate(&self, run: &GovernedRun, preview: &Preview) -> Result<Execution> {
        let mut store = self.store();
        store.transition(&run.id, RunState::Executing, None, self.actor(), json!({"simulated": true}))?;
        let after: serde_json::Map<_, _> =
            preview.changes.iter().map(|c| (c.field.clone(), json!(c.after))).collect();
        let simulation = json!({
            "expectedAfterImage": after,
            "rulesThatWouldFire": preview.expected_effects,
            "remoteWrites": 0,
        });
        store.add_artifact(&run.id, "simulation", &simulation)?;
        let message = "dry run verified: nothing was written; the expected after-image is stored";
        let run = store.transition(&run.id, RunState::Verified, Some(message), self.actor(), simulation)?;
        Ok(Execution { run, diverged: Vec::new(), message: message.to_owned() })
    }

    async fn execute_live(&self, run: &GovernedRun, preview: &Preview) -> Result<Execution> {
        let client = self.client().await?;
        let current = client.read(INCIDENT, &preview.sys_id).await?;
        if let Some(moved) = drift(preview, &current) {
            let detail = json!({"moved": moved, "previewModCount": preview.mod_count,
                "currentModCount": current.mod_count()});
            let text = format!("stale: the record changed since the preview ({moved}); preview again");
            let run = self.store().transition(&run.id, RunState::Stale, Some(&text), self.actor(), detail)?;
            return Ok(Execution { run, diverged: Vec::new(), message: text });
        }

        let writes = writes_with_marker(preview, &run.id);
        let request = json!({"method": "PATCH", "table": INCIDENT, "sysId": preview.sys_id,
            "body": writes.iter().cloned().collect::<serde_json::Map<_, _>>()});
        self.store().transition(&run.id, RunState::Executing, None, self.actor(), request.clone())?;
        self.store().add_artifact(&run.id, "request", &request)?;

        let writes: Vec<(String, String)> =
            writes.into_iter().map(|(k, v)| (k, v.as_str().unwrap_or_default().to_owned())).collect();
        match client.patch(INCIDENT, &preview.sys_id, &writes).await {
            Ok(exchange) => {
                let body = serde_json::to_value(&exchange).unwrap_or_default();
                self.store().add_artifact(&run.id, "response", &body)?;
            }
            Err(error) => {
                let detail = json!({"kind": error.kind(), "error": error.to_string()});
                self.store().add_artifact(&run.id, "response", &detail)?;
                let text = format!("the write failed: {error}");
                self.store().transition(&run.id, RunState::Failed, Some(&text), self.actor(), detail)?;
                return Err(error.into());
            }
        }
        self.read_back(&client, run, preview).await
    }

    async fn read_back(&self, client: &Client, run: &GovernedRun, preview: &Preview) -> Result<Execution> {
        let record = client.read(INCIDENT, &preview.sys_id).await?;
        let journal = client.journal(INCIDENT, &preview.sys_id, "work_notes").await?;
        let marker = run_marker(&run.id);
        let notes_from_run = journal.iter().filter(|j| j.value.contains(&marker)).count();
        let mut diverged = Vec::new();
        for change in &preview.changes {
            match change.kind {
                ChangeKind::Set if record.value(&change.field) != change.after => {
                    diverged.push(format!(
                        "{}: expected `{}`, instance has `{}`",
                        change.field,
                        change.after,
                        record.value(&change.field)
                    ));
                }
                ChangeKind::JournalAppend if notes_from_run != 1 => {
                    diverged.push(format!("{}: expected one entry from this run, found {notes_from_run}", change.field));
                }
                _ => {}
            }
        }
        let readback = json!({"record": record, "journalEntriesFromRun": notes_from_run, "diverged": diverged});
        self.store().add_artifact(&run.id, "read-back", &readback)?;
        let (state, message) = if diverged.is_empty() {
            (RunState::Verified, format!("verified: {} reads back as approved", preview.number))
        } else {
            (RunState::Diverged, format!("diverged: {}", diverged.join("; ")))
        };
        let run = self.store().transition(&run.id, state, Some(&message), self.actor(), readback)?;
        Ok(Execution { run, diverged, message })
    }

    /// All runs, newest first.
    pub fn runs(&self) -> Result<Vec<GovernedRun>> {
        Ok(self.store().runs()?)
    }

    /// Everything stored about one run.
    pub fn run_detail(&self, run_id: &str) -> Result<RunDetail> {
        let store = self.store();
        let run = store.run(run_id)?.ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        Ok(RunDetail {
            preview: store.preview(run_id)?,
            approval: store.approval(run_id)?,
            artifacts: store.artifacts(run_id)?,
            audit: store.audit(Some(run_id))?,
            run,
        })
    }

    /// Audit events of one run, or of all.
    pub fn audit_events(&self, run_id: Option<&str>) -> Result<Vec<AuditEvent>> {
        Ok(self.store().audit(run_id)?)
    }

    /// Reads the current record without starting a run (the sample screen's starting record).
    pub async fn read_record(&self, number: &str) -> Result<Record> {
        Ok(self.client().await?.find_by_number(INCIDENT, number.trim()).await?)
    }
}

/// What moved between the preview and now, if anything.
fn drift(preview: &Preview, current: &Record) -> Option<String> {
    let mut moved = Vec::new();
    if current.mod_count() != preview.mod_count {
        moved.push(format!("sys_mod_count {} -> {}", preview.mod_count, current.mod_count()));
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
fn writes_with_marker(preview: &Preview, run_id: &str) -> Vec<(String, serde_json::Value)> {
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
            (c.field.clone(), json!(value))
        })
        .collect()
}
