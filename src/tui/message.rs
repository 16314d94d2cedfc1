//! The one queue into the app: data that background tasks found, their progress and their end,
//! and the jobs the app asks them to do.

use std::fmt;
use std::path::PathBuf;

use crate::domain::connector::{AuthKind, ConnectPayload};
use crate::domain::incident::Record;
use crate::domain::metadata::TableMetadata;
use crate::domain::onboarding::{Step, ValidationReport};
use crate::domain::preview::{CloseRequest, Preview};
use crate::domain::run::{Approval, GovernedRun, RunMode};
use crate::servicenow::{LoggedRequest, Progress};
use crate::store::{Artifact, AuditEvent, ChainReport};

/// Names one background task for as long as it runs.
pub type TaskId = u64;

/// Everything that reaches the app from outside the key handler.
#[derive(Debug)]
pub enum Message {
    /// Something a task learned; applied whichever task sent it.
    Data(Box<Data>),
    /// What a running task is doing now, in words.
    Progress { task: TaskId, text: String },
    /// How far a running task's reads are: pages loaded, or a wait before a retry.
    Remote { task: TaskId, progress: Progress },
    /// A task ended: fine, failed, or cancelled.
    Finished {
        task: TaskId,
        result: Result<(), TaskError>,
    },
}

impl From<Data> for Message {
    fn from(data: Data) -> Self {
        Self::Data(Box::new(data))
    }
}

/// A result that changes what the screens show.
#[derive(Debug)]
pub enum Data {
    Overview(OverviewData),
    Settings(Option<SavedSettings>),
    Saved(SaveNote),
    Validated(ValidationReport),
    Synced(TableMetadata),
    Metadata(Option<TableMetadata>),
    Record(Record),
    Previewed(Box<(GovernedRun, Preview)>),
    Approved(Approval),
    Rejected(GovernedRun),
    Executed(ExecutionView),
    Runs(Vec<RunRow>),
    /// A run's evidence, to show now.
    Detail(Box<EvidenceData>),
    /// A run's evidence again, after something was added; shown only where it already is.
    DetailUpdate(Box<EvidenceData>),
    SandboxReset,
    /// The calls made to the instance so far, oldest first.
    RequestLog(Vec<LoggedRequest>),
    /// Where the saved password is kept and whether this process can read it.
    Credential(Option<CredentialView>),
    Exported(ExportView),
    AuditPage(AuditPage),
    AuditVerified(ChainReport),
}

/// Where the password is kept, as `Workspace::credential_status` found it (never the secret).
#[derive(Clone, Debug)]
pub struct CredentialView {
    /// The store in words.
    pub store: String,
    pub persists: bool,
    pub readable: bool,
    /// Why this process cannot read it, when it cannot.
    pub problem: Option<String>,
}

/// An evidence pack written to disk.
#[derive(Clone, Debug)]
pub struct ExportView {
    pub run_id: String,
    pub markdown: PathBuf,
    pub json: PathBuf,
    pub chain_head: String,
}

/// One page of the whole audit log, newest first, and how many events there are.
#[derive(Clone, Debug)]
pub struct AuditPage {
    /// The position of the first row, counted from the newest event.
    pub offset: u64,
    pub events: Vec<AuditEvent>,
    pub total: u64,
}

/// The overview's facts, as the workspace computed them from storage.
#[derive(Clone, Debug, Default)]
pub struct OverviewData {
    /// The target label ("embedded sandbox" or a URL); `None` before anything is saved.
    pub target: Option<String>,
    pub is_sandbox: bool,
    /// Where the password is kept, in words.
    pub secret_store: Option<String>,
    pub steps: Vec<Step>,
    pub next_move: String,
    pub validation: Option<ValidationReport>,
    /// The seed's go-live conditions, decided from stored evidence.
    pub go_live: Vec<GoLiveItem>,
}

/// One go-live condition: met or not, and the evidence that decides it.
#[derive(Clone, Debug)]
pub struct GoLiveItem {
    pub condition: String,
    pub met: bool,
    pub evidence: String,
}

/// A run as the runs list shows it.
#[derive(Clone, Debug)]
pub struct RunRow {
    pub run: GovernedRun,
    /// A stopped process left it executing; reconciling settles it.
    pub interrupted: bool,
}

/// The saved connector without its secret, to prefill the step 03 form.
#[derive(Clone, Debug)]
pub struct SavedSettings {
    /// The instance as the form shows it: `sandbox` or the normalised URL.
    pub instance: String,
    pub username: String,
    pub allowed_fields: Vec<String>,
    pub is_sandbox: bool,
    pub auth: AuthKind,
    /// The OAuth application's client id; empty with basic auth.
    pub oauth_client_id: String,
}

/// What saving the connector did with the password.
#[derive(Clone, Debug)]
pub struct SaveNote {
    pub instance: String,
    pub secret_store: String,
    pub note: String,
}

/// The end of an execution.
#[derive(Clone, Debug)]
pub struct ExecutionView {
    pub run: GovernedRun,
    pub diverged: Vec<String>,
    pub message: String,
}

/// Everything stored about one run: the evidence screen and the audit list read it.
#[derive(Clone, Debug)]
pub struct EvidenceData {
    pub run: GovernedRun,
    pub preview: Option<Preview>,
    pub approval: Option<Approval>,
    pub artifacts: Vec<Artifact>,
    pub audit: Vec<AuditEvent>,
    /// A stopped process left it executing; reconciling settles it.
    pub interrupted: bool,
}

impl EvidenceData {
    /// The body of the newest artifact of a kind ("request", "read-back", "simulation").
    pub fn artifact(&self, kind: &str) -> Option<&serde_json::Value> {
        self.artifacts
            .iter()
            .rev()
            .find(|a| a.kind == kind)
            .map(|a| &a.body)
    }
}

/// Why a task ended without its result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskError {
    /// A short stable name (`auth`, `cancelled`, `needs-dry-run`).
    pub kind: String,
    /// What happened and what to do next.
    pub message: String,
}

impl TaskError {
    /// An error of a kind with its message.
    pub fn new(kind: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            kind: kind.into(),
            message: message.into(),
        }
    }

    /// The task was cancelled by the operator.
    pub fn cancelled() -> Self {
        Self::new(
            "cancelled",
            "cancelled: nothing was written to the instance",
        )
    }

    /// Whether the operator cancelled the task (not worth a notice of its own).
    pub fn is_cancelled(&self) -> bool {
        self.kind == "cancelled"
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Work the app asks a background task to do.
#[derive(Debug)]
pub enum Job {
    /// Re-read onboarding progress, saved settings and synced metadata from storage.
    Refresh,
    Connect(ConnectPayload),
    Validate,
    Sync,
    /// Validate, then sync when validation passed.
    ValidateAndSync,
    ReadRecord(String),
    Preview(CloseRequest, RunMode),
    /// Approve a previewed run, then execute it (simulated for a dry run). A live write to a
    /// production instance also carries the instance name the operator typed.
    ApproveAndExecute {
        run_id: String,
        digest: String,
        reason: String,
        typed_instance: Option<String>,
    },
    Reject {
        run_id: String,
        reason: String,
    },
    Runs,
    RunDetail(String),
    /// Preview the linked rollback run of a verified live run.
    PreviewRollback(String),
    /// Settle a run that a stopped process left executing.
    Reconcile(String),
    ResetSandbox,
    /// Read the calls made to the instance so far.
    RequestLog,
    /// Check where the password is kept and whether this process can read it.
    Credential,
    /// Write a run's evidence pack next to the database.
    ExportEvidence(String),
    /// Read one page of the whole audit log, newest first.
    AuditPage {
        offset: u64,
        limit: u64,
    },
    /// Walk the whole audit chain.
    VerifyAudit,
}

impl Job {
    /// What the task is doing, for the spinner.
    pub fn label(&self) -> String {
        match self {
            Self::Refresh => "reading onboarding progress".to_owned(),
            Self::Connect(_) => "saving connector settings".to_owned(),
            Self::Validate => "validating auth and the integration user".to_owned(),
            Self::Sync => "syncing incident metadata".to_owned(),
            Self::ValidateAndSync => "validating, then syncing metadata".to_owned(),
            Self::ReadRecord(number) => format!("reading {number}"),
            Self::Preview(request, mode) => {
                format!("previewing {} ({})", request.number, mode.banner())
            }
            Self::ApproveAndExecute { .. } => "approving and executing the run".to_owned(),
            Self::Reject { .. } => "rejecting the run".to_owned(),
            Self::Runs => "listing runs".to_owned(),
            Self::RunDetail(id) => format!("loading run {id}"),
            Self::PreviewRollback(id) => format!("previewing the rollback of run {id}"),
            Self::Reconcile(id) => format!("reconciling run {id} with the instance"),
            Self::ResetSandbox => "resetting the sandbox story".to_owned(),
            Self::RequestLog => "reading the request log".to_owned(),
            Self::Credential => "checking the password store".to_owned(),
            Self::ExportEvidence(id) => format!("exporting the evidence of run {id}"),
            Self::AuditPage { .. } => "reading audit events".to_owned(),
            Self::VerifyAudit => "verifying the audit chain".to_owned(),
        }
    }

    /// Whether the job only reads local storage and ends at once: Esc passes over it (and goes
    /// back) instead of cancelling it, since stopping it gains nothing.
    pub fn is_quick_read(&self) -> bool {
        matches!(
            self,
            Self::Refresh
                | Self::Credential
                | Self::Runs
                | Self::RunDetail(_)
                | Self::RequestLog
                | Self::AuditPage { .. }
        )
    }

    /// Whether the job talks to the instance, so its reads report progress and honour Esc.
    pub fn uses_network(&self) -> bool {
        matches!(
            self,
            Self::Validate
                | Self::Sync
                | Self::ValidateAndSync
                | Self::ReadRecord(_)
                | Self::Preview(..)
                | Self::ApproveAndExecute { .. }
                | Self::PreviewRollback(_)
                | Self::Reconcile(_)
                | Self::ResetSandbox
        )
    }

    /// Whether Esc may stop it. An execution is not cancellable: once a write is sent,
    /// stopping early would leave its outcome unrecorded, so the app waits for the read-back.
    /// Quick local writes (save, reject, export) are not either, so that a cancel notice's
    /// "nothing was written" is always true.
    pub fn cancellable(&self) -> bool {
        !matches!(
            self,
            Self::ApproveAndExecute { .. }
                | Self::Reconcile(_)
                | Self::Connect(_)
                | Self::ResetSandbox
                | Self::Reject { .. }
                | Self::ExportEvidence(_)
        )
    }
}
