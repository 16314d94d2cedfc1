//! How the CLI prints results: plain text for people, one JSON document with `--json`.

use std::fmt::Write as _;
use std::path::Path;

use serde::Serialize;
use serde_json::json;

use crate::domain::incident::local_time;
use crate::domain::metadata::TableMetadata;
use crate::domain::onboarding::ValidationReport;
use crate::domain::preview::{ChangeKind, Preview, line_diff};
use crate::domain::run::{Approval, GovernedRun};
use crate::store::{AuditEvent, ChainReport};
use crate::tui::widgets::sanitize::clean;
use crate::workspace::{
    ConnectOutcome, CredentialStatus, Execution, ExportedPack, Onboarding, RunDetail, RunSummary,
    StepResult,
};

/// An outcome already printed in full; main exits non-zero with this one line on stderr.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Reported(pub String);

/// Where and how results go.
pub struct Output {
    pub json: bool,
    /// The database named on the command line, repeated in the commands it suggests.
    pub db: Option<std::path::PathBuf>,
}

impl Output {
    fn emit(&self, value: &impl Serialize, text: impl FnOnce() -> String) -> anyhow::Result<()> {
        if self.json {
            println!("{}", serde_json::to_string_pretty(value)?);
        } else {
            print!("{}", visible(&text()));
        }
        Ok(())
    }

    pub fn connect(&self, outcome: &ConnectOutcome) -> anyhow::Result<()> {
        self.emit(outcome, || {
            let mut text = format!("Saved the connector for {}.\n", outcome.instance);
            let _ = writeln!(
                text,
                "Password kept in: {}",
                outcome.secret_store.describe()
            );
            if !outcome.secret_note.is_empty() {
                let _ = writeln!(text, "  {}", outcome.secret_note);
            }
            match &outcome.validation {
                Some(StepResult::Ok { result }) => text.push_str(&validation_text(result)),
                Some(StepResult::Failed { error, .. }) => {
                    let _ = writeln!(text, "Validation failed: {error}\nThe settings stay saved.");
                }
                None => {}
            }
            match &outcome.sync {
                Some(StepResult::Ok { result }) => {
                    let _ = writeln!(
                        text,
                        "Synced {} fields at {}.",
                        result.fields,
                        local_time(&result.synced_at)
                    );
                    if !result.missing.is_empty() {
                        let _ =
                            writeln!(text, "  Not on the instance: {}", result.missing.join(", "));
                    }
                }
                Some(StepResult::Failed { error, .. }) => {
                    let _ = writeln!(text, "Metadata sync failed: {error}");
                }
                None => {}
            }
            text
        })
    }

    /// ` --db PATH` when the command line named a database, so suggested commands hit it too.
    fn db_arg(&self) -> String {
        self.db
            .as_ref()
            .map_or_else(String::new, |db| format!(" --db {}", db.display()))
    }

    pub fn credentials(&self, status: &CredentialStatus) -> anyhow::Result<()> {
        self.emit(status, || {
            let readable = if status.readable {
                "readable by this process"
            } else {
                "NOT readable"
            };
            let (account, store) = (&status.account, &status.store_description);
            let mut text = format!("Password of {account}: {store}, {readable}\n");
            if !status.persists {
                text.push_str("  It does not survive a reboot: ");
                text.push_str("for automation set ACTIONPLANE_CLIENT_SECRET.\n");
            }
            text
        })
    }

    pub fn validation(&self, report: &ValidationReport) -> anyhow::Result<()> {
        self.emit(report, || validation_text(report))
    }

    pub fn metadata(&self, metadata: &TableMetadata) -> anyhow::Result<()> {
        self.emit(metadata, || metadata_text(metadata))
    }

    pub fn onboarding(&self, onboarding: &Onboarding) -> anyhow::Result<()> {
        self.emit(onboarding, || {
            let mut text = format!(
                "Target: {}\n",
                onboarding.target.as_deref().unwrap_or("none saved yet")
            );
            for step in &onboarding.steps {
                let _ = writeln!(
                    text,
                    "  {} {:<22} {}",
                    step.number,
                    step.id,
                    step.status.word()
                );
                if let crate::domain::onboarding::StepStatus::Warning(d)
                | crate::domain::onboarding::StepStatus::Blocked(d) = &step.status
                {
                    let _ = writeln!(text, "       {d}");
                }
            }
            let _ = writeln!(text, "Next move: {}", onboarding.next_move);
            text.push_str("Go-live checklist:\n");
            for c in &onboarding.go_live {
                let mark = if c.met { "[x]" } else { "[ ]" };
                let _ = writeln!(text, "  {mark} {} — {}", c.condition, c.evidence);
            }
            text
        })
    }

    pub fn refused_preview(&self, run: &GovernedRun, preview: &Preview) -> anyhow::Result<()> {
        let value = run_json(run, preview, None);
        self.emit(&value, || preview_text(run, preview))?;
        Err(Reported(format!(
            "not approvable: {}; the run is recorded as rejected",
            preview.posture.summary()
        ))
        .into())
    }

    pub fn run_result(
        &self,
        execution: &Execution,
        preview: &Preview,
        approval: &Approval,
    ) -> anyhow::Result<()> {
        let mut value = run_json(&execution.run, preview, Some(approval));
        value["message"] = json!(execution.message);
        value["diverged"] = json!(execution.diverged);
        self.emit(&value, || {
            let mut text = preview_text(&execution.run, preview);
            let (who, host, why) = (&approval.approver, &approval.host, &approval.reason);
            let _ = writeln!(text, "Approved by {who} on {host} ({why})");
            let _ = writeln!(
                text,
                "Result: {} — {}",
                execution.run.state, execution.message
            );
            if execution.run.mode == crate::domain::run::RunMode::DryRun {
                let _ = writeln!(
                    text,
                    "To go live: actionplane{} run {} --record {} --live --approve-digest {} \
                     --reason \"...\"",
                    self.db_arg(),
                    preview.action,
                    preview.number,
                    preview.digest
                );
            }
            text
        })
    }

    pub fn execution(&self, execution: &Execution) -> anyhow::Result<()> {
        let value = json!({"runId": execution.run.id, "mode": execution.run.mode.as_str(),
            "state": execution.run.state.as_str(), "digest": execution.run.digest,
            "message": execution.message, "diverged": execution.diverged});
        self.emit(&value, || {
            format!(
                "Run {}: {} — {}\n",
                execution.run.id, execution.run.state, execution.message
            )
        })
    }

    pub fn exported(&self, pack: &ExportedPack) -> anyhow::Result<()> {
        self.emit(pack, || {
            format!(
                "Evidence pack of {} written:\n  {}\n  {}\nAudit chain head: {}\n",
                pack.run_id,
                pack.markdown.display(),
                pack.json.display(),
                pack.chain_head
            )
        })
    }

    pub fn chain(&self, report: &ChainReport) -> anyhow::Result<()> {
        self.emit(report, || match &report.first_bad {
            None => format!(
                "Audit chain intact: {} events, head {}\n",
                report.events, report.head
            ),
            Some(bad) => format!(
                "Audit chain BROKEN after {} good events: {bad}\n",
                report.events
            ),
        })
    }

    pub fn rollback_preview(&self, run: &GovernedRun, preview: &Preview) -> anyhow::Result<()> {
        let value = run_json(run, preview, None);
        self.emit(&value, || {
            let mut text = preview_text(run, preview);
            let _ = writeln!(
                text,
                "To roll back: actionplane rollback {} --approve-digest {} --reason \"...\"",
                run.parent_id.as_deref().unwrap_or_default(),
                preview.digest
            );
            text
        })
    }

    pub fn runs(&self, runs: &[RunSummary]) -> anyhow::Result<()> {
        self.emit(&runs, || {
            if runs.is_empty() {
                let start = "actionplane run support.close-ticket --record INC-42 --dry-run";
                return format!("No runs yet. Start with: {start}\n");
            }
            let mut text = format!(
                "{:<25} {:<8} {:<11} {:<10} {}\n",
                "run", "mode", "state", "record", "created"
            );
            for summary in runs {
                let r = &summary.run;
                let _ = write!(
                    text,
                    "{:<25} {:<8} {:<11} {:<10} {}",
                    r.id,
                    r.mode.as_str(),
                    r.state,
                    r.number,
                    local_time(&r.created_at)
                );
                if summary.interrupted {
                    let id = &r.id;
                    let _ = write!(
                        text,
                        "  INTERRUPTED: settle it: actionplane runs reconcile {id}"
                    );
                }
                text.push('\n');
            }
            text
        })
    }

    pub fn run_detail(&self, detail: &RunDetail) -> anyhow::Result<()> {
        self.emit(detail, || {
            let mut text = detail
                .preview
                .as_ref()
                .map_or_else(String::new, |p| preview_text(&detail.run, p));
            let _ = writeln!(
                text,
                "State: {}{}",
                detail.run.state,
                outcome_suffix(&detail.run)
            );
            if let Some(a) = &detail.approval {
                let _ = writeln!(
                    text,
                    "Approval: {} on {} at {}: {}",
                    a.approver,
                    a.host,
                    local_time(&a.approved_at),
                    a.reason
                );
            }
            let _ = writeln!(
                text,
                "Artifacts: {}",
                detail
                    .artifacts
                    .iter()
                    .map(|a| a.kind.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            text.push_str(&audit_text(&detail.audit));
            text
        })
    }

    pub fn audit(&self, events: &[AuditEvent]) -> anyhow::Result<()> {
        self.emit(&events, || audit_text(events))
    }

    pub fn serving(&self, url: &str, state: &Path) -> anyhow::Result<()> {
        let value = json!({"url": url, "state": state});
        self.emit(&value, || {
            let mut text = format!("Sandbox serving the Table API at {url}\n");
            let _ = writeln!(text, "State: {}", state.display());
            text.push_str("Users: actionplane.integration, admin, itil.only, readonly.viewer ");
            text.push_str("(passwords in the README)\nPress Ctrl-C to stop.\n");
            text
        })?;
        std::io::Write::flush(&mut std::io::stdout())?;
        Ok(())
    }

    pub fn reset(&self, state: &Path) -> anyhow::Result<()> {
        let value = json!({"reset": true, "state": state});
        self.emit(&value, || {
            format!(
                "Sandbox reset: INC-42 is open again ({}).\n",
                state.display()
            )
        })
    }
}

/// Text as it may reach a terminal: remote data and operator input can hold escape sequences,
/// carriage returns or bidi overrides that would fake or hide lines, so each becomes a mark.
pub fn visible(text: &str) -> String {
    text.split('\n').map(clean).collect::<Vec<_>>().join("\n")
}

fn outcome_suffix(run: &GovernedRun) -> String {
    run.outcome
        .as_ref()
        .map_or_else(String::new, |o| format!(" — {o}"))
}

fn run_json(
    run: &GovernedRun,
    preview: &Preview,
    approval: Option<&Approval>,
) -> serde_json::Value {
    let changes: Vec<_> = preview
        .changes
        .iter()
        .map(|c| {
            json!({"field": c.field, "label": c.label, "kind": c.kind,
                "before": c.before, "after": c.after})
        })
        .collect();
    json!({
        "runId": run.id,
        "action": run.action,
        "mode": run.mode.as_str(),
        "state": run.state.as_str(),
        "target": run.target,
        "record": preview.number,
        "sysId": preview.sys_id,
        "digest": preview.digest,
        "changes": changes,
        "blocked": preview.blocked,
        "policy": preview.posture,
        "rollback": preview.rollback,
        "expectedEffects": preview.expected_effects,
        "approval": approval,
        "parentRunId": run.parent_id,
    })
}

fn validation_text(r: &ValidationReport) -> String {
    let yes = |b: bool| if b { "yes" } else { "no" };
    let mut text = format!(
        "Instance {} answers; build: {}\n",
        r.instance,
        r.build_text()
    );
    let _ = writeln!(text, "User {} ({})", r.user_name, r.user_display_name);
    let _ = writeln!(
        text,
        "  active: {}, locked out: {}, web-service-only: {}",
        yes(r.active),
        yes(r.locked_out),
        yes(r.web_service_only)
    );
    let _ = writeln!(
        text,
        "  can resolve: {}, can close: {}, admin: {}",
        yes(r.can_resolve()),
        yes(r.can_close()),
        yes(r.is_admin())
    );
    let (problems, warnings) = r.user_findings();
    for line in problems.iter().chain(&warnings) {
        let _ = writeln!(text, "  ! {line}");
    }
    text
}

fn metadata_text(m: &TableMetadata) -> String {
    let mut text = format!(
        "{} (hierarchy {}), synced {}\n",
        m.table,
        m.hierarchy.join(" -> "),
        local_time(&m.synced_at)
    );
    let _ = writeln!(
        text,
        "{:<14} {:<18} {:<14} {:>5}  {:<9} {:<9} choices",
        "field", "label", "type", "max", "mandatory", "read-only"
    );
    for f in &m.fields {
        let e = &f.entry;
        let max = e.max_length.map_or_else(String::new, |n| n.to_string());
        let choices: Vec<_> = f.choices.iter().map(|c| c.label.as_str()).collect();
        let _ = writeln!(
            text,
            "{:<14} {:<18} {:<14} {:>5}  {:<9} {:<9} {}",
            e.element,
            e.label,
            e.internal_type,
            max,
            e.mandatory,
            e.read_only,
            choices.join(", ")
        );
    }
    if !m.missing.is_empty() {
        let _ = writeln!(text, "Not on the instance: {}", m.missing.join(", "));
    }
    text
}

fn preview_text(run: &GovernedRun, p: &Preview) -> String {
    let mut text = format!(
        "{} {} on {} ({}) — {} run {}\n",
        p.action,
        p.number,
        p.target,
        if p.is_sandbox {
            "sandbox"
        } else {
            "PRODUCTION"
        },
        run.mode.banner(),
        run.id
    );
    let _ = writeln!(
        text,
        "Record sys_id {} at version {} (updated {})",
        p.sys_id,
        p.mod_count,
        local_time(&p.updated_on)
    );
    text.push_str("Changes:\n");
    for c in &p.changes {
        let _ = writeln!(text, "  {} ({})", c.label, c.field);
        match c.kind {
            ChangeKind::JournalAppend => {
                let _ = writeln!(text, "    + [new journal entry] {}", c.after);
            }
            ChangeKind::Unchanged => {
                let _ = writeln!(text, "      unchanged: {}", c.after_display);
            }
            ChangeKind::Set => {
                for line in line_diff(&show(&c.before_display), &c.after_display) {
                    let _ = writeln!(text, "    {}", line.marked());
                }
            }
        }
    }
    if !p.blocked.is_empty() {
        let _ = writeln!(
            text,
            "Blocked (outside the allowlist, never sent): {}",
            p.blocked.join(", ")
        );
    }
    let _ = writeln!(text, "Policy: {}", p.posture.summary());
    for check in &p.posture.checks {
        let _ = writeln!(
            text,
            "  {:<4} {:<12} {}",
            check.outcome.word(),
            check.rule,
            check.detail
        );
    }
    let reversible = if p.rollback.reversible {
        "reversible"
    } else {
        "ONE-WAY"
    };
    let _ = writeln!(text, "Rollback: {reversible}. {}", p.rollback.explanation);
    if let Some(alternative) = &p.rollback.alternative {
        let _ = writeln!(text, "  Alternative: {alternative}");
    }
    let _ = writeln!(text, "Digest: {}", p.digest);
    text
}

fn show(value: &str) -> String {
    if value.is_empty() {
        "(empty)".to_owned()
    } else {
        value.to_owned()
    }
}

fn audit_text(events: &[AuditEvent]) -> String {
    if events.is_empty() {
        return "No audit events.\n".to_owned();
    }
    let mut text = String::new();
    for e in events {
        let run = e.run_id.as_deref().unwrap_or("-");
        let _ = writeln!(
            text,
            "#{:<5} {} {:<28} {:<24} {}",
            e.seq,
            local_time(&e.at),
            e.kind,
            run,
            e.actor
        );
    }
    text
}
