//! The five onboarding steps, their status computed from stored facts, and the next move.

use serde::{Deserialize, Serialize};

/// What validation learned about the instance and the integration user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ValidationReport {
    pub instance: String,
    /// The build tag, or `None` when the user may not read it.
    pub build: Option<String>,
    pub user_name: String,
    pub user_display_name: String,
    pub active: bool,
    pub locked_out: bool,
    pub web_service_only: bool,
    pub roles: Vec<String>,
    pub checked_at: String,
}

impl ValidationReport {
    pub fn has_role(&self, role: &str) -> bool {
        self.roles.iter().any(|r| r == role)
    }

    /// Resolving needs itil (or admin).
    pub fn can_resolve(&self) -> bool {
        ["itil", "sn_incident_write", "list_updater", "admin"]
            .iter()
            .any(|r| self.has_role(r))
    }

    /// Closing needs itil_admin or admin.
    pub fn can_close(&self) -> bool {
        self.has_role("itil_admin") || self.has_role("admin")
    }

    pub fn is_admin(&self) -> bool {
        self.has_role("admin")
    }

    /// The build in words.
    pub fn build_text(&self) -> String {
        self.build
            .clone()
            .unwrap_or_else(|| "unknown: needs admin to read".to_owned())
    }

    /// Findings about the user, each a sentence; problems make step 02 fail.
    pub fn user_findings(&self) -> (Vec<String>, Vec<String>) {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();
        if !self.active {
            problems.push("the user is inactive: activate it on the instance".to_owned());
        }
        if self.locked_out {
            problems.push("the user is locked out: unlock it on the instance".to_owned());
        }
        if !self.can_resolve() {
            problems.push("the user cannot resolve incidents: grant it itil".to_owned());
        }
        if !self.can_close() {
            problems.push("the user cannot close incidents: grant it itil_admin".to_owned());
        }
        if !self.web_service_only {
            warnings.push(
                "not web-service-only: basic auth for interactive accounts is being restricted; \
                 tick \"Web service access only\" on the user"
                    .to_owned(),
            );
        }
        if self.is_admin() {
            warnings.push(
                "holds admin: not least-privilege; use a user with itil and itil_admin".to_owned(),
            );
        }
        (problems, warnings)
    }
}

/// What sync found about the allowlist against the instance's dictionary.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncSummary {
    pub fields: usize,
    pub missing: Vec<String>,
    pub read_only: Vec<String>,
    pub synced_at: String,
}

/// The stored facts that step status is computed from.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub saved: bool,
    pub target_is_sandbox: bool,
    pub validation: Option<ValidationReport>,
    pub validation_error: Option<String>,
    pub sync: Option<SyncSummary>,
    pub sync_error: Option<String>,
    pub dry_run_verified: bool,
    pub live_run_verified: bool,
}

/// The status of one step.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "status", content = "detail")]
pub enum StepStatus {
    Todo,
    Done,
    /// Done, with something the operator should know.
    Warning(String),
    Blocked(String),
}

impl StepStatus {
    pub fn word(&self) -> &'static str {
        match self {
            Self::Todo => "todo",
            Self::Done => "done",
            Self::Warning(_) => "done, with a warning",
            Self::Blocked(_) => "blocked",
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self, Self::Done | Self::Warning(_))
    }
}

/// One onboarding step as the overview and `onboarding --json` show it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub number: String,
    pub id: String,
    pub title: String,
    pub status: StepStatus,
}

/// The static text of each step: number, id, title, what to do.
pub const STEPS: [(&str, &str, &str, &str); 5] = [
    (
        "01",
        "create-pdi",
        "Create a ServiceNow Personal Developer Instance",
        "Use a Personal Developer Instance, or the embedded sandbox, so the first incident \
         workflow runs away from production.",
    ),
    (
        "02",
        "create-user",
        "Create a least-privilege integration user",
        "A dedicated, web-service-only user with itil and itil_admin: enough to resolve and \
         close incidents through state, close_notes, close_code and work_notes, and no more.",
    ),
    (
        "03",
        "collect-fields",
        "Collect the instance URL and workflow allowlist",
        "Record the instance URL, the service user name and password, and the narrow incident \
         field allowlist to govern first.",
    ),
    (
        "04",
        "configure-actionplane",
        "Enter the ServiceNow settings in ActionPlane",
        "Save the settings, validate auth, and sync metadata so the incident dictionary is \
         visible before anything runs.",
    ),
    (
        "05",
        "run-first-sample",
        "Run one incident sample as a dry run",
        "Run the canonical sample as a dry run, review preview and approval, then allow one \
         live closure.",
    ),
];

/// Computes each step's status from the facts.
pub fn steps(progress: &Progress) -> Vec<Step> {
    let statuses = [
        instance_status(progress),
        user_status(progress),
        fields_status(progress),
        configure_status(progress),
        sample_status(progress),
    ];
    STEPS
        .iter()
        .zip(statuses)
        .map(|((number, id, title, _), status)| Step {
            number: (*number).to_owned(),
            id: (*id).to_owned(),
            title: (*title).to_owned(),
            status,
        })
        .collect()
}

fn instance_status(p: &Progress) -> StepStatus {
    match (&p.validation, &p.validation_error) {
        (Some(_), _) => StepStatus::Done,
        (None, Some(error)) => StepStatus::Blocked(error.clone()),
        (None, None) => StepStatus::Todo,
    }
}

fn user_status(p: &Progress) -> StepStatus {
    let Some(report) = &p.validation else {
        return StepStatus::Todo;
    };
    let (problems, warnings) = report.user_findings();
    if !problems.is_empty() {
        StepStatus::Blocked(problems.join("; "))
    } else if warnings.is_empty() {
        StepStatus::Done
    } else {
        StepStatus::Warning(warnings.join("; "))
    }
}

fn fields_status(p: &Progress) -> StepStatus {
    if !p.saved {
        return StepStatus::Todo;
    }
    match &p.sync {
        Some(sync) if sync.fields == 0 => StepStatus::Blocked(
            "the allowlist names no incident field the instance knows: list e.g. state, \
             close_notes, close_code, work_notes for the incident table"
                .to_owned(),
        ),
        Some(sync) if !sync.missing.is_empty() => {
            StepStatus::Blocked(format!("not on the instance: {}", sync.missing.join(", ")))
        }
        Some(sync) if !sync.read_only.is_empty() => StepStatus::Blocked(format!(
            "read-only on the instance: {}",
            sync.read_only.join(", ")
        )),
        _ => StepStatus::Done,
    }
}

fn configure_status(p: &Progress) -> StepStatus {
    match (&p.validation, &p.sync, &p.sync_error) {
        _ if !p.saved => StepStatus::Todo,
        (Some(_), Some(sync), _) if sync.fields > 0 => StepStatus::Done,
        (_, None, Some(error)) => StepStatus::Blocked(error.clone()),
        _ => StepStatus::Todo,
    }
}

fn sample_status(p: &Progress) -> StepStatus {
    if p.live_run_verified {
        StepStatus::Done
    } else {
        StepStatus::Todo
    }
}

/// The one next thing to do, in words.
pub fn next_move(progress: &Progress) -> String {
    if !progress.saved {
        return "Start with: Save connector settings.".to_owned();
    }
    if let (Some(error), None) = (&progress.validation_error, &progress.validation) {
        return format!("Fix the connection, then validate again: {error}");
    }
    let Some(report) = &progress.validation else {
        return "Next: Validate auth against the instance.".to_owned();
    };
    let (problems, _) = report.user_findings();
    if let Some(problem) = problems.first() {
        return format!("Fix the integration user: {problem}.");
    }
    match &progress.sync {
        None => return "Next: Sync metadata for the allowlisted fields.".to_owned(),
        Some(sync)
            if sync.fields == 0 || !sync.missing.is_empty() || !sync.read_only.is_empty() =>
        {
            return "Fix the allowlist (step 03): some fields cannot be written.".to_owned();
        }
        Some(_) => {}
    }
    if !progress.dry_run_verified {
        return "Next: Run the sample INC-42 as a dry run.".to_owned();
    }
    if !progress.live_run_verified {
        return "Next: Approve one live closure of the dry-run change.".to_owned();
    }
    "Done: the sample closed live and verified. Review its evidence and audit.".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(roles: &[&str]) -> ValidationReport {
        ValidationReport {
            instance: "sandbox".to_owned(),
            build: Some("glide-test".to_owned()),
            user_name: "svc".to_owned(),
            user_display_name: "Svc".to_owned(),
            active: true,
            locked_out: false,
            web_service_only: true,
            roles: roles.iter().map(|r| (*r).to_owned()).collect(),
            checked_at: "2026-01-01 00:00:00".to_owned(),
        }
    }

    #[test]
    fn a_new_workspace_starts_with_saving_settings() {
        let progress = Progress::default();
        assert_eq!(next_move(&progress), "Start with: Save connector settings.");
        assert!(
            steps(&progress)
                .iter()
                .all(|s| s.status == StepStatus::Todo)
        );
    }

    #[test]
    fn an_admin_user_is_flagged_as_not_least_privilege() {
        let progress = Progress {
            saved: true,
            validation: Some(report(&["admin"])),
            ..Progress::default()
        };
        let user = &steps(&progress)[1];
        assert!(matches!(&user.status, StepStatus::Warning(w) if w.contains("least-privilege")));
    }

    #[test]
    fn an_itil_only_user_cannot_close() {
        let progress = Progress {
            saved: true,
            validation: Some(report(&["itil"])),
            ..Progress::default()
        };
        let status = &steps(&progress)[1].status;
        assert!(
            matches!(status, StepStatus::Blocked(b) if b.contains("itil_admin")),
            "{status:?}"
        );
        assert!(next_move(&progress).contains("itil_admin"));
    }

    #[test]
    fn after_sync_the_next_move_is_the_dry_run() {
        let progress = Progress {
            saved: true,
            validation: Some(report(&["itil", "itil_admin"])),
            sync: Some(SyncSummary {
                fields: 4,
                ..SyncSummary::default()
            }),
            ..Progress::default()
        };
        let done: Vec<_> = steps(&progress)
            .iter()
            .map(|s| s.status.is_done())
            .collect();
        assert_eq!(done, [true, true, true, true, false]);
        assert!(next_move(&progress).contains("dry run"));
    }
}
