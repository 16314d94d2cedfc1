//! Governed runs: preview, approval, execution (simulated or live), read-back and evidence.

use serde::Serialize;
use serde_json::json;

use super::{INCIDENT, Result, Workspace, WorkspaceError};
use crate::domain::CLOSE_TICKET;
use crate::domain::incident::Record;
use crate::domain::preview::{self, CloseRequest, Preview, PreviewInput};
use crate::domain::run::{Approval, GovernedRun, RunMode, RunState};
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

impl Workspace {
    /// Reads the record and stores a new run with its preview. A live run must continue a
    /// verified dry run of the same change.
    pub async fn preview(
        &self,
        request: &CloseRequest,
        mode: RunMode,
    ) -> Result<(GovernedRun, Preview)> {
        check_number(&request.number)?;
        let client = self.client().await?;
        let record = client
            .find_by_number(INCIDENT, request.number.trim())
            .await?;
        let preview = self.build_preview(&record, request)?;
        let parent_id = match mode {
            RunMode::DryRun => None,
            RunMode::Live => Some(
                self.verified_dry_run(&preview)?
                    .ok_or(WorkspaceError::NeedsDryRun)?,
            ),
        };
        let run = previewed_run(CLOSE_TICKET, mode, &preview, parent_id);
        self.store().create_run(&run, &preview, self.actor())?;
        Ok((run, preview))
    }

    /// Computes a preview of `request` on `record` with the current allowlist and metadata.
    pub(super) fn build_preview(&self, record: &Record, request: &CloseRequest) -> Result<Preview> {
        let (settings, _) = self.settings()?;
        let metadata = self.metadata()?.ok_or(WorkspaceError::NoMetadata)?;
        let allowlist = self.allowlist()?;
        Ok(preview::build(&PreviewInput {
            action: CLOSE_TICKET,
            target: &settings.instance.label(),
            is_sandbox: settings.is_sandbox,
            // Production is acknowledged at approval, by typing the instance name.
            known_sandbox: settings.instance.is_known_sandbox(),
            production_acknowledged: true,
            record,
            request,
            allowlist: &allowlist,
            metadata: Some(&metadata),
            operator: &settings.username,
        }))
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
            if dry.is_some_and(|d| {
                d.sendable_writes() == preview.sendable_writes() && d.sys_id == preview.sys_id
            }) {
                return Ok(Some(run.id));
            }
        }
        Ok(None)
    }

    /// Approves a previewed run: binds who, where, when and why to its digest.
    pub fn approve(&self, run_id: &str, digest: &str, reason: &str) -> Result<Approval> {
        self.approve_typed(run_id, digest, reason, None)
    }

    /// Approves a run; on a production target `typed_instance` must be the instance name.
    pub fn approve_typed(
        &self,
        run_id: &str,
        digest: &str,
        reason: &str,
        typed_instance: Option<&str>,
    ) -> Result<Approval> {
        let run = self
            .store()
            .run(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let (settings, _) = self.settings()?;
        let name = settings.instance.instance_name();
        let typed_ok = typed_instance.map(str::trim) == Some(name.as_str());
        if settings.needs_typed_confirmation() && run.mode == RunMode::Live && !typed_ok {
            let kind = if settings.is_sandbox {
                "is declared a sandbox but its address does not show it"
            } else {
                "is a PRODUCTION instance"
            };
            return Err(WorkspaceError::Refused(format!(
                "{} {kind}: type its name `{name}` to approve a live write \
                 (--confirm-instance {name})",
                settings.instance.label()
            )));
        }
        if run.digest != digest {
            return Err(WorkspaceError::DigestMismatch {
                approved: digest.to_owned(),
                current: run.digest,
            });
        }
        let preview = self
            .store()
            .preview(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        if !preview.approvable() {
            return Err(WorkspaceError::NotApprovable(preview.posture.summary()));
        }
        if reason.trim().is_empty() {
            return Err(WorkspaceError::Refused(
                "an approval needs a reason: say why this change is right".to_owned(),
            ));
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

    /// Stops a fresh live run whose preview no longer matches the approved digest: records it
    /// as stale with what moved, and returns the error to show.
    pub fn refuse_stale(
        &self,
        run: &GovernedRun,
        fresh: &Preview,
        approved: &str,
    ) -> Result<WorkspaceError> {
        let store = self.store();
        let approved_preview = store
            .runs()?
            .into_iter()
            .filter(|r| r.digest == approved)
            .find_map(|r| store.preview(&r.id).ok().flatten());
        drop(store);
        let moved = match approved_preview {
            None => "no stored preview has that digest".to_owned(),
            Some(old) if old.number != fresh.number || old.sys_id != fresh.sys_id => {
                format!(
                    "that digest belongs to a preview of {}, not {}",
                    old.number, fresh.number
                )
            }
            Some(old) => preview_drift(&old, fresh),
        };
        let text = format!(
            "stale: the approved preview no longer matches the instance ({moved}); nothing was \
             written: run a new dry run and approve its digest"
        );
        let detail =
            json!({"moved": moved, "approvedDigest": approved, "currentDigest": fresh.digest});
        self.store()
            .transition(&run.id, RunState::Stale, Some(&text), self.actor(), detail)?;
        Ok(WorkspaceError::Refused(text))
    }

    /// Rejects a previewed run; nothing is sent.
    pub fn reject(&self, run_id: &str, reason: &str) -> Result<GovernedRun> {
        let detail = json!({"reason": reason});
        Ok(self.store().transition(
            run_id,
            RunState::Rejected,
            Some("rejected by the operator"),
            self.actor(),
            detail,
        )?)
    }

    /// Executes an approved run: simulated for a dry run, written and read back for a live one.
    pub async fn execute(&self, run_id: &str) -> Result<Execution> {
        let run = self
            .store()
            .run(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let preview = self
            .store()
            .preview(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let approval = self.store().approval(run_id)?;
        if run.state != RunState::Approved
            || approval.as_ref().is_none_or(|a| a.digest != run.digest)
        {
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
        store.transition(
            &run.id,
            RunState::Executing,
            None,
            self.actor(),
            json!({"simulated": true}),
        )?;
        let after: serde_json::Map<_, _> = preview
            .changes
            .iter()
            .map(|c| (c.field.clone(), json!(c.after)))
            .collect();
        let simulation = json!({
            "expectedAfterImage": after,
            "rulesThatWouldFire": preview.expected_effects,
            "remoteWrites": 0,
        });
        store.add_artifact(&run.id, "simulation", &simulation)?;
        let message = "dry run verified: nothing was written; the expected after-image is stored";
        let run = store.transition(
            &run.id,
            RunState::Verified,
            Some(message),
            self.actor(),
            simulation,
        )?;
        Ok(Execution {
            run,
            diverged: Vec::new(),
            message: message.to_owned(),
        })
    }

    /// All runs, newest first.
    pub fn runs(&self) -> Result<Vec<GovernedRun>> {
        Ok(self.store().runs()?)
    }

    /// Everything stored about one run.
    pub fn run_detail(&self, run_id: &str) -> Result<RunDetail> {
        let store = self.store();
        let run = store
            .run(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
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
        Ok(self
            .client()
            .await?
            .find_by_number(INCIDENT, number.trim())
            .await?)
    }
}

/// What differs between an approved preview and a fresh one, in words.
fn preview_drift(old: &Preview, new: &Preview) -> String {
    let mut moved = Vec::new();
    if old.mod_count != new.mod_count {
        moved.push(format!(
            "sys_mod_count {} -> {}",
            old.mod_count, new.mod_count
        ));
    }
    if old.updated_on != new.updated_on {
        moved.push(format!(
            "sys_updated_on {} -> {}",
            old.updated_on, new.updated_on
        ));
    }
    if old.allowlist_version != new.allowlist_version {
        moved.push(format!(
            "allowlist {} -> {}",
            old.allowlist_version, new.allowlist_version
        ));
    }
    if old.posture != new.posture {
        moved.push(format!("policy now: {}", new.posture.summary()));
    }
    if old.changes != new.changes {
        moved.push("the field changes differ".to_owned());
    }
    if moved.is_empty() {
        "the preview differs".to_owned()
    } else {
        moved.join(", ")
    }
}

/// A new run in state `previewed` for a preview.
pub(super) fn previewed_run(
    action: &str,
    mode: RunMode,
    preview: &Preview,
    parent_id: Option<String>,
) -> GovernedRun {
    let at = now();
    GovernedRun {
        id: new_run_id(),
        action: action.to_owned(),
        mode,
        state: RunState::Previewed,
        target: preview.target.clone(),
        number: preview.number.clone(),
        digest: preview.digest.clone(),
        created_at: at.clone(),
        updated_at: at,
        parent_id,
        outcome: None,
    }
}

/// Incident numbers are short words (`INC0010001`, `INC-42`): anything else would become a
/// query part, and ServiceNow drops bad query parts silently, so it is refused here.
fn check_number(number: &str) -> Result<()> {
    let number = number.trim();
    let fits = !number.is_empty()
        && number.len() <= 40
        && number
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if fits {
        Ok(())
    } else {
        let shown: String = number.chars().take(40).collect();
        Err(WorkspaceError::Refused(format!(
            "`{shown}` is not an incident number: give one such as INC0010001 or INC-42"
        )))
    }
}
