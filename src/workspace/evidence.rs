//! Proof that stays attached: rollback runs, the evidence pack, audit verification and export,
//! and the go-live checklist computed from stored evidence.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use super::{INCIDENT, Result, Workspace, WorkspaceError};
use crate::domain::incident::{Record, state};
use crate::domain::preview::{CloseRequest, Preview};
use crate::domain::run::{GovernedRun, RunMode, RunState};
use crate::secrets::StoreKind;
use crate::store::{ChainReport, now};

/// The action name of a rollback run.
pub const ROLLBACK_ACTION: &str = "support.close-ticket.rollback";

/// One go-live condition of the seed, met or not, with the evidence that decides it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GoLiveCondition {
    pub condition: String,
    pub met: bool,
    pub evidence: String,
}

/// Where an exported evidence pack went.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedPack {
    pub run_id: String,
    pub markdown: PathBuf,
    pub json: PathBuf,
    pub chain_head: String,
}

impl Workspace {
    /// Previews a linked rollback run that restores the before-image of a verified run.
    pub async fn preview_rollback(&self, run_id: &str) -> Result<(GovernedRun, Preview)> {
        let forward = self
            .store()
            .run(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        let plan = self
            .store()
            .preview(run_id)?
            .ok_or_else(|| WorkspaceError::NoRun(run_id.to_owned()))?;
        if forward.mode != RunMode::Live
            || !matches!(forward.state, RunState::Verified | RunState::Diverged)
        {
            return Err(WorkspaceError::Refused(format!(
                "run {run_id} is a {} run in state {}: only a verified or diverged live run \
                 can be rolled back",
                forward.mode.as_str(),
                forward.state
            )));
        }
        if !plan.rollback.reversible {
            return Err(WorkspaceError::Refused(format!(
                "run {run_id} cannot be rolled back: {} Its before-image and evidence stay on \
                 the run.",
                plan.rollback.explanation
            )));
        }
        let request = rollback_request(&plan);
        let record = self.client().await?.read(INCIDENT, &plan.sys_id).await?;
        let mut preview = self.build_preview(&record, &request)?;
        if let Some(moved) = self.moved_since(run_id, &record)? {
            preview.expected_effects.insert(0, moved);
        }
        let run = super::runs::previewed_run(
            ROLLBACK_ACTION,
            RunMode::Live,
            &preview,
            Some(run_id.to_owned()),
        );
        self.store().create_run(&run, &preview, self.actor())?;
        Ok((run, preview))
    }

    /// Whether the record changed after a run's read-back, in words: a rollback would overwrite
    /// those later edits of the written fields.
    fn moved_since(&self, run_id: &str, current: &Record) -> Result<Option<String>> {
        let artifacts = self.store().artifacts(run_id)?;
        let read_back = artifacts.iter().rev().find(|a| a.kind == "read-back");
        let then = read_back
            .and_then(|a| a.body["record"]["fields"]["sys_mod_count"]["value"].as_str())
            .and_then(|v| v.parse::<u64>().ok());
        Ok(then.filter(|t| *t != current.mod_count()).map(|then| {
            format!(
                "the record changed after run {run_id} (sys_mod_count {then} -> {}, last by {}): \
                 the rollback overwrites later edits of the written fields",
                current.mod_count(),
                current.value("sys_updated_by")
            )
        }))
    }

    /// After a rollback run verifies, marks its forward run rolled back.
    pub(super) fn mark_rolled_back(&self, rollback: &GovernedRun) -> Result<()> {
        let Some(forward) = rollback.parent_id.as_deref() else {
            return Ok(());
        };
        let text = format!("rolled back by run {}", rollback.id);
        let detail = json!({"rollbackRun": rollback.id});
        self.store().transition(
            forward,
            RunState::RolledBack,
            Some(&text),
            self.actor(),
            detail,
        )?;
        Ok(())
    }

    /// Walks the audit chain.
    pub fn verify_audit(&self) -> Result<ChainReport> {
        Ok(self.store().verify_audit()?)
    }

    /// Writes every audit event as one JSON line, then a line with the chain head.
    pub fn export_audit_jsonl(&self, out: &mut impl std::io::Write) -> Result<ChainReport> {
        let report = self.verify_audit()?;
        let io =
            |e: std::io::Error| WorkspaceError::Refused(format!("cannot write the export: {e}"));
        for event in self.store().audit(None)? {
            writeln!(out, "{}", serde_json::to_string(&event).unwrap_or_default()).map_err(io)?;
        }
        let head = json!({
            "chainHead": report.head, "events": report.events, "firstBad": report.first_bad,
        });
        writeln!(out, "{head}").map_err(io)?;
        Ok(report)
    }

    /// Writes a self-contained evidence pack of one run: Markdown to read, JSON behind it.
    pub fn export_evidence(&self, run_id: &str, dir: &Path) -> Result<ExportedPack> {
        let detail = self.run_detail(run_id)?;
        let chain = self.verify_audit()?;
        let pack = json!({
            "run": detail.run, "preview": detail.preview, "approval": detail.approval,
            "artifacts": detail.artifacts, "audit": detail.audit,
            "chain": {"head": chain.head, "events": chain.events, "firstBad": chain.first_bad},
            "exportedAt": now(),
        });
        let io = |e: std::io::Error| {
            WorkspaceError::Refused(format!("cannot write to {}: {e}", dir.display()))
        };
        std::fs::create_dir_all(dir).map_err(io)?;
        let json_path = dir.join(format!("{run_id}.json"));
        let md_path = dir.join(format!("{run_id}.md"));
        std::fs::write(
            &json_path,
            serde_json::to_string_pretty(&pack).unwrap_or_default(),
        )
        .map_err(io)?;
        std::fs::write(&md_path, evidence_markdown(&pack, &chain)).map_err(io)?;
        self.audit(
            Some(run_id),
            "evidence.exported",
            json!({"dir": dir, "chainHead": chain.head}),
        )?;
        Ok(ExportedPack {
            run_id: run_id.to_owned(),
            markdown: md_path,
            json: json_path,
            chain_head: chain.head,
        })
    }

    /// The seed's go-live conditions, each computed from stored evidence.
    pub fn go_live(&self) -> Result<Vec<GoLiveCondition>> {
        let runs = self.runs()?;
        let verified = |mode: RunMode| {
            runs.iter().find(|r| {
                r.mode == mode
                    && r.action != ROLLBACK_ACTION
                    && matches!(r.state, RunState::Verified | RunState::RolledBack)
            })
        };
        let dry = verified(RunMode::DryRun);
        let live = verified(RunMode::Live).filter(|r| {
            self.store()
                .preview(&r.id)
                .ok()
                .flatten()
                .is_some_and(|p| p.is_sandbox)
        });
        let reviewed = live
            .and_then(|r| self.store().preview(&r.id).ok().flatten())
            .map(|p| p.rollback);
        let chain = self.verify_audit()?;
        let secret = self.settings().ok().map(|(_, kind)| kind);
        let cite = |run: Option<&GovernedRun>| {
            run.map_or_else(|| "none yet".to_owned(), |r| format!("run {}", r.id))
        };
        Ok(vec![
            condition("A verified dry run", dry.is_some(), cite(dry)),
            condition(
                "A verified live run on a sandbox record",
                live.is_some(),
                cite(live),
            ),
            condition(
                "Rollback readiness reviewed",
                reviewed.is_some(),
                reviewed.map_or_else(
                    || "not yet: a live run's approval reviews its rollback plan".to_owned(),
                    |r| {
                        if r.reversible {
                            "reversible; plan approved".to_owned()
                        } else {
                            "one-way; recovery plan approved".to_owned()
                        }
                    },
                ),
            ),
            condition(
                "Audit chain verified",
                chain.first_bad.is_none() && chain.events > 0,
                chain.first_bad.clone().unwrap_or_else(|| {
                    format!("{} events, head {}", chain.events, short(&chain.head))
                }),
            ),
            condition(
                "Secret in a store that persists",
                secret.is_some_and(StoreKind::persists),
                secret.map_or_else(
                    || "no connector saved".to_owned(),
                    |k| k.describe().to_owned(),
                ),
            ),
        ])
    }
}

fn condition(text: &str, met: bool, evidence: String) -> GoLiveCondition {
    GoLiveCondition {
        condition: text.to_owned(),
        met,
        evidence,
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// The change that restores the before-image, with a compensating work note.
fn rollback_request(plan: &Preview) -> CloseRequest {
    let before = |f: &str| {
        plan.rollback
            .before_image
            .get(f)
            .cloned()
            .unwrap_or_default()
    };
    let state = plan
        .rollback
        .before_image
        .get("state")
        .cloned()
        .unwrap_or_else(|| state::IN_PROGRESS.to_owned());
    CloseRequest {
        number: plan.number.clone(),
        target_state: state,
        close_code: before("close_code"),
        close_notes: before("close_notes"),
        work_note: plan.rollback.compensating_note.clone(),
        extra: Vec::new(),
    }
}

fn text(value: &serde_json::Value) -> &str {
    value.as_str().unwrap_or("")
}

fn evidence_markdown(pack: &serde_json::Value, chain: &ChainReport) -> String {
    let mut md = String::new();
    summary_section(&mut md, &pack["run"], &pack["preview"]);
    preview_section(&mut md, &pack["preview"]);
    approval_section(&mut md, &pack["approval"]);
    artifact_section(&mut md, &pack["artifacts"]);
    audit_section(&mut md, &pack["audit"], chain);
    md
}

fn summary_section(md: &mut String, run: &serde_json::Value, preview: &serde_json::Value) {
    let _ = writeln!(md, "# Evidence of run {}\n", text(&run["id"]));
    let _ = writeln!(
        md,
        "- Action: `{}` ({} run)",
        text(&run["action"]),
        text(&run["mode"])
    );
    let _ = writeln!(md, "- Target: {}", text(&run["target"]));
    let _ = writeln!(
        md,
        "- Record: {} (sys_id `{}`, version {})",
        text(&preview["number"]),
        text(&preview["sysId"]),
        preview["modCount"]
    );
    let outcome = text(&run["outcome"]);
    let outcome = if outcome.is_empty() {
        String::new()
    } else {
        format!(": {outcome}")
    };
    let _ = writeln!(md, "- State: **{}**{outcome}", text(&run["state"]));
    let _ = writeln!(md, "- Digest: `{}`\n", text(&run["digest"]));
}

fn preview_section(md: &mut String, preview: &serde_json::Value) {
    md.push_str("## Preview\n\n| field | before | after |\n|---|---|---|\n");
    for change in preview["changes"].as_array().into_iter().flatten() {
        let (field, before, after) = (text(&change["field"]), &change["before"], &change["after"]);
        let _ = writeln!(md, "| {field} | {} | {} |", cell(before), cell(after));
    }
    md.push_str("\n## Policy posture\n\n");
    for check in preview["posture"]["checks"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let (outcome, rule) = (text(&check["outcome"]), text(&check["rule"]));
        let _ = writeln!(md, "- {outcome} — {rule}: {}", text(&check["detail"]));
    }
    let rollback = &preview["rollback"];
    let _ = writeln!(
        md,
        "\n## Rollback plan\n\n{}\n",
        text(&rollback["explanation"])
    );
    if let Some(alternative) = rollback["alternative"].as_str() {
        let _ = writeln!(md, "Alternative: {alternative}\n");
    }
}

fn approval_section(md: &mut String, approval: &serde_json::Value) {
    md.push_str("## Approval\n\n");
    if approval.is_null() {
        md.push_str("Not approved.\n");
        return;
    }
    let _ = writeln!(
        md,
        "Approved by {} on {} (over SSH: {}) at {} UTC.\n\nReason: {}",
        text(&approval["approver"]),
        text(&approval["host"]),
        approval["overSsh"],
        text(&approval["approvedAt"]),
        text(&approval["reason"])
    );
}

fn artifact_section(md: &mut String, artifacts: &serde_json::Value) {
    md.push_str("\n## Artifacts (secrets removed)\n\n");
    for artifact in artifacts.as_array().into_iter().flatten() {
        let body = serde_json::to_string_pretty(&artifact["body"]).unwrap_or_default();
        let (kind, at) = (text(&artifact["kind"]), text(&artifact["createdAt"]));
        let _ = writeln!(md, "### {kind} ({at} UTC)\n\n```json\n{body}\n```\n");
    }
}

fn audit_section(md: &mut String, audit: &serde_json::Value, chain: &ChainReport) {
    md.push_str(
        "## Audit events\n\n| seq | at (UTC) | event | actor | hash |\n|---|---|---|---|---|\n",
    );
    for event in audit.as_array().into_iter().flatten() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | `{}` |",
            event["seq"],
            text(&event["at"]),
            text(&event["kind"]),
            text(&event["actor"]),
            short(text(&event["hash"]))
        );
    }
    let verdict = chain.first_bad.as_deref().unwrap_or("intact");
    let _ = writeln!(
        md,
        "\nAudit chain: {} events, head `{}`, {verdict}.",
        chain.events, chain.head
    );
}

fn cell(value: &serde_json::Value) -> String {
    let text = value.as_str().unwrap_or("");
    if text.is_empty() {
        "(empty)".to_owned()
    } else {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('|', "\\|")
            .replace('\n', "<br>")
    }
}
