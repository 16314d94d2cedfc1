//! Errors of the workspace operations; each says what happened and what to do next.

use crate::domain::connector::FieldProblem;
use crate::secrets::SecretError;
use crate::servicenow;
use crate::store::StoreError;

/// Anything a workspace operation can meet.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(
        "no connector is saved yet: run `actionplane connect --file assets/connect-sandbox.json`, \
         or fill in step 03 in the app"
    )]
    NotConnected,
    #[error("the connect payload has problems:\n{}", list(.0))]
    Payload(Vec<FieldProblem>),
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error(transparent)]
    Remote(#[from] servicenow::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the embedded sandbox could not start: {0:#}")]
    Sandbox(anyhow::Error),
    #[error("no metadata synced yet: run `actionplane sync-metadata` (step 04) first")]
    NoMetadata,
    #[error("no run {0}: list runs with `actionplane runs`")]
    NoRun(String),
    #[error(
        "a live run needs a verified dry run of the same change first: run it with --dry-run, \
         then go live with its digest"
    )]
    NeedsDryRun,
    #[error(
        "the approved digest {approved} does not match the current preview {current}: the record \
         or the change moved since; preview again and approve the new digest"
    )]
    DigestMismatch { approved: String, current: String },
    #[error("the preview cannot be approved: {0}")]
    NotApprovable(String),
    #[error("{0}")]
    Refused(String),
}

fn list(problems: &[FieldProblem]) -> String {
    problems
        .iter()
        .map(|p| format!("  - {p}"))
        .collect::<Vec<_>>()
        .join("\n")
}

impl WorkspaceError {
    /// A short, stable name for JSON output and the audit.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotConnected => "not-connected",
            Self::Payload(_) => "bad-payload",
            Self::Secret(_) => "secret",
            Self::Remote(e) => e.kind(),
            Self::Store(_) => "store",
            Self::Sandbox(_) => "sandbox",
            Self::NoMetadata => "no-metadata",
            Self::NoRun(_) => "no-run",
            Self::NeedsDryRun => "needs-dry-run",
            Self::DigestMismatch { .. } => "digest-mismatch",
            Self::NotApprovable(_) => "not-approvable",
            Self::Refused(_) => "refused",
        }
    }
}
