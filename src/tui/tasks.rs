//! The only file that calls the workspace: it runs each job in a background task and sends
//! what it learned back as messages. It also holds the entry point `run`.

use std::sync::Arc;

use futures::future::BoxFuture;

use super::app::App;
use super::event_loop;
use super::jobs::{Outbox, Runner};
use super::message::{
    Data, EvidenceData, ExecutionView, GoLiveItem, Job, OverviewData, RunRow, SaveNote,
    SavedSettings, TaskError,
};
use super::terminal::{self, TerminalGuard};
use super::theme::Theme;
use crate::domain::connector::{InstanceTarget, SANDBOX_WORD};
use crate::domain::run::RunMode;
use crate::workspace::{Execution, INCIDENT, Workspace, WorkspaceError, is_interrupted};

type Result<T> = std::result::Result<T, WorkspaceError>;

/// Takes the terminal, runs the app until it quits, and gives the terminal back on every path.
pub async fn run(workspace: Arc<Workspace>) -> anyhow::Result<()> {
    let mut app = App::new(workspace);
    let mut guard = TerminalGuard::take()?;
    let events = crossterm::event::EventStream::new();
    let result = event_loop::drive(&mut app, events, |app| {
        terminal::draw_synchronized(guard.terminal(), |frame| app.render(frame))
    })
    .await;
    guard.restore()?;
    result
}

impl App {
    /// The app over a workspace, with colours unless `NO_COLOR` is set.
    pub fn new(workspace: Arc<Workspace>) -> Self {
        Self::with_theme(workspace, Theme::from_env())
    }

    /// The app over a workspace with a chosen theme.
    pub fn with_theme(workspace: Arc<Workspace>, theme: Theme) -> Self {
        Self::with_runner(Arc::new(WorkspaceRunner { workspace }), theme)
    }
}

/// Runs jobs against one workspace.
struct WorkspaceRunner {
    workspace: Arc<Workspace>,
}

impl Runner for WorkspaceRunner {
    fn run(&self, job: Job, out: Outbox) -> BoxFuture<'static, std::result::Result<(), TaskError>> {
        let workspace = Arc::clone(&self.workspace);
        Box::pin(async move {
            perform(&workspace, job, &out)
                .await
                .map_err(|e| task_error(&e))
        })
    }
}

/// The error in words for the screen; the CLI wording of one error is replaced by keys.
fn task_error(error: &WorkspaceError) -> TaskError {
    let message = match error {
        WorkspaceError::NeedsDryRun => "a live run needs a verified dry run of the same change \
            first: press p on the sample screen, approve the dry run, then press L"
            .to_owned(),
        WorkspaceError::NoMetadata => "no metadata synced yet: open step 04 (press 4) and press \
            Enter to validate and sync"
            .to_owned(),
        other => other.to_string(),
    };
    TaskError::new(error.kind(), message)
}

async fn perform(ws: &Workspace, job: Job, out: &Outbox) -> Result<()> {
    match job {
        Job::Refresh => refresh(ws, out),
        Job::Connect(payload) => {
            let outcome = ws.connect(&payload).await?;
            let secret_store = outcome.secret_store.describe().to_owned();
            out.send(Data::Saved(SaveNote {
                instance: outcome.instance,
                secret_store,
                note: outcome.secret_note,
            }));
            refresh(ws, out)
        }
        Job::Validate => validate(ws, out).await,
        Job::Sync => sync(ws, out).await,
        Job::ValidateAndSync => {
            validate(ws, out).await?;
            out.progress("syncing incident metadata");
            sync(ws, out).await
        }
        Job::ReadRecord(number) => {
            out.send(Data::Record(ws.read_record(&number).await?));
            Ok(())
        }
        Job::Preview(request, mode) => {
            let previewed = ws.preview(&request, mode).await?;
            out.send(Data::Previewed(Box::new(previewed)));
            Ok(())
        }
        Job::ApproveAndExecute {
            run_id,
            digest,
            reason,
            typed_instance,
        } => {
            let approval =
                ws.approve_typed(&run_id, &digest, &reason, typed_instance.as_deref())?;
            out.send(Data::Approved(approval));
            execute(ws, out, &run_id).await
        }
        Job::PreviewRollback(run_id) => {
            let previewed = ws.preview_rollback(&run_id).await?;
            out.send(Data::Previewed(Box::new(previewed)));
            Ok(())
        }
        Job::Reconcile(run_id) => {
            let settled = ws.reconcile(&run_id).await;
            finish_execution(ws, out, &run_id, settled)
        }
        Job::Reject { run_id, reason } => {
            out.send(Data::Rejected(ws.reject(&run_id, &reason)?));
            refresh(ws, out)
        }
        Job::Runs => {
            let rows = ws.run_summaries()?.into_iter();
            let rows = rows.map(|s| RunRow {
                run: s.run,
                interrupted: s.interrupted,
            });
            out.send(Data::Runs(rows.collect()));
            Ok(())
        }
        Job::RunDetail(id) => {
            out.send(Data::Detail(Box::new(detail(ws, &id)?)));
            Ok(())
        }
        Job::ResetSandbox => {
            ws.reset_sandbox().await?;
            out.send(Data::SandboxReset);
            out.send(Data::Record(
                ws.read_record(crate::domain::SAMPLE_RECORD).await?,
            ));
            refresh(ws, out)
        }
    }
}

/// Sends the stored progress, the saved settings and the synced metadata.
fn refresh(ws: &Workspace, out: &Outbox) -> Result<()> {
    let onboarding = ws.onboarding()?;
    out.send(Data::Overview(OverviewData {
        target: onboarding.target,
        is_sandbox: onboarding.is_sandbox,
        secret_store: onboarding.secret_store.map(|k| k.describe().to_owned()),
        steps: onboarding.steps,
        next_move: onboarding.next_move,
        validation: onboarding.validation,
        go_live: go_live(ws)?,
    }));
    let settings = match ws.settings() {
        Ok((settings, _)) => Some(SavedSettings {
            instance: match &settings.instance {
                InstanceTarget::Sandbox => SANDBOX_WORD.to_owned(),
                InstanceTarget::Remote(url) => url.clone(),
            },
            allowed_fields: settings.allowed_fields(INCIDENT),
            username: settings.username,
            is_sandbox: settings.is_sandbox,
        }),
        Err(WorkspaceError::NotConnected) => None,
        Err(error) => return Err(error),
    };
    out.send(Data::Settings(settings));
    out.send(Data::Metadata(ws.metadata()?));
    Ok(())
}

fn go_live(ws: &Workspace) -> Result<Vec<GoLiveItem>> {
    let conditions = ws.go_live()?.into_iter();
    Ok(conditions
        .map(|c| GoLiveItem {
            condition: c.condition,
            met: c.met,
            evidence: c.evidence,
        })
        .collect())
}

/// Validates; the outcome is stored either way, so progress is refreshed either way.
async fn validate(ws: &Workspace, out: &Outbox) -> Result<()> {
    let result = ws.validate().await;
    refresh(ws, out)?;
    out.send(Data::Validated(result?));
    Ok(())
}

async fn sync(ws: &Workspace, out: &Outbox) -> Result<()> {
    let result = ws.sync_metadata().await;
    refresh(ws, out)?;
    out.send(Data::Synced(result?));
    Ok(())
}

/// Executes an approved run, then loads its evidence whatever the outcome.
async fn execute(ws: &Workspace, out: &Outbox, run_id: &str) -> Result<()> {
    let mode = ws.run_detail(run_id)?.run.mode;
    out.progress(match mode {
        RunMode::DryRun => "simulating the dry run",
        RunMode::Live => "writing, then reading back",
    });
    let executed = ws.execute(run_id).await;
    finish_execution(ws, out, run_id, executed)
}

/// Sends the execution's end, the run's evidence and the new progress; keeps the error.
fn finish_execution(
    ws: &Workspace,
    out: &Outbox,
    run_id: &str,
    executed: Result<Execution>,
) -> Result<()> {
    if let Ok(execution) = &executed {
        out.send(Data::Executed(ExecutionView {
            run: execution.run.clone(),
            diverged: execution.diverged.clone(),
            message: execution.message.clone(),
        }));
    }
    out.send(Data::Detail(Box::new(detail(ws, run_id)?)));
    refresh(ws, out)?;
    executed.map(|_| ())
}

fn detail(ws: &Workspace, run_id: &str) -> Result<EvidenceData> {
    let detail = ws.run_detail(run_id)?;
    let lease = ws.store().lease_of_run(run_id)?;
    Ok(EvidenceData {
        interrupted: is_interrupted(&detail.run, lease.as_ref()),
        run: detail.run,
        preview: detail.preview,
        approval: detail.approval,
        artifacts: detail.artifacts,
        audit: detail.audit,
    })
}
