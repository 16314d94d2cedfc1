//! The only file that calls the workspace: it runs each job in a background task and sends
//! what it learned back as messages. It also holds the entry point `run`.

use std::sync::{Arc, Mutex, PoisonError};

use futures::future::BoxFuture;

use super::app::App;
use super::event_loop;
use super::jobs::{Outbox, Runner};
use super::message::{
    AuditPage, CredentialView, Data, EvidenceData, ExecutionView, ExportView, GoLiveItem, Job,
    OverviewData, RunRow, SaveNote, SavedSettings, TaskError, TaskId,
};
use super::terminal::{self, TerminalGuard};
use super::theme::Theme;
use crate::domain::connector::{Auth, AuthKind, InstanceTarget, SANDBOX_WORD};
use crate::domain::run::RunMode;
use crate::workspace::{Execution, INCIDENT, Observer, Workspace, WorkspaceError, is_interrupted};

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
        let runner = WorkspaceRunner {
            workspace,
            watchers: Arc::default(),
        };
        let mut app = Self::with_runner(Arc::new(runner), theme);
        app.start(Job::Credential);
        app
    }
}

/// The observers of the network jobs that run now, oldest first; the newest one is installed.
type Watchers = Arc<Mutex<Vec<(TaskId, Observer)>>>;

/// Runs jobs against one workspace.
struct WorkspaceRunner {
    workspace: Arc<Workspace>,
    watchers: Watchers,
}

impl Runner for WorkspaceRunner {
    fn run(&self, job: Job, out: Outbox) -> BoxFuture<'static, std::result::Result<(), TaskError>> {
        let workspace = Arc::clone(&self.workspace);
        let watch = job
            .uses_network()
            .then(|| Watch::start(&workspace, &self.watchers, &out));
        Box::pin(async move {
            let result = perform(&workspace, job, &out).await;
            drop(watch);
            result.map_err(|e| task_error(&e))
        })
    }
}

/// A network job's observer: installed when the job starts, taken out when it ends, however it
/// ends (a cancelled job's future is dropped, and so is its watch).
///
/// The workspace holds one observer, so while two network jobs overlap the newer one's sink and
/// token also serve the older one's next reads; when the newer ends, the older's comes back.
struct Watch {
    workspace: Arc<Workspace>,
    watchers: Watchers,
    task: TaskId,
    out: Outbox,
}

impl Watch {
    fn start(workspace: &Arc<Workspace>, watchers: &Watchers, out: &Outbox) -> Self {
        let observer = Observer {
            progress: Some(out.progress_sink()),
            cancel: Some(out.cancel_token()),
        };
        let mut list = watchers.lock().unwrap_or_else(PoisonError::into_inner);
        list.push((out.task(), observer.clone()));
        workspace.observe(observer);
        Self {
            workspace: Arc::clone(workspace),
            watchers: Arc::clone(watchers),
            task: out.task(),
            out: out.clone(),
        }
    }
}

impl Drop for Watch {
    /// Puts back the observer of the newest job still running, and sends the request log, which
    /// this job's calls have just grown.
    fn drop(&mut self) {
        let mut list = self.watchers.lock().unwrap_or_else(PoisonError::into_inner);
        list.retain(|(task, _)| *task != self.task);
        let next = list.last().map(|(_, o)| o.clone()).unwrap_or_default();
        self.workspace.observe(next);
        drop(list);
        self.out
            .send(Data::RequestLog(self.workspace.request_log()));
    }
}

/// The error in words for the screen; the CLI wording of one error is replaced by keys.
fn task_error(error: &WorkspaceError) -> TaskError {
    if error.kind() == "cancelled" {
        return TaskError::cancelled();
    }
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

async fn perform(ws: &Arc<Workspace>, job: Job, out: &Outbox) -> Result<()> {
    match job {
        Job::Refresh => refresh(ws, out),
        Job::Connect(payload) => {
            let outcome = ws.connect_keeping_secret(payload).await?;
            let secret_store = outcome.secret_store.describe().to_owned();
            out.send(Data::Saved(SaveNote {
                instance: outcome.instance,
                secret_store,
                note: outcome.secret_note,
            }));
            out.send(Data::RequestLog(ws.request_log()));
            credential(ws, out)?;
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
        other => perform_local(ws, other, out).await,
    }
}

/// The jobs that read or write only local files: logs, evidence packs and the audit chain.
async fn perform_local(ws: &Arc<Workspace>, job: Job, out: &Outbox) -> Result<()> {
    match job {
        Job::RequestLog => out.send(Data::RequestLog(ws.request_log())),
        Job::Credential => credential(ws, out)?,
        Job::ExportEvidence(run_id) => {
            let dir = ws
                .db_path()
                .parent()
                .map_or_else(|| "evidence".into(), |p| p.join("evidence"));
            let pack = ws.export_evidence(&run_id, &dir)?;
            out.send(Data::DetailUpdate(Box::new(detail(ws, &run_id)?)));
            out.send(Data::Exported(ExportView {
                run_id: pack.run_id,
                markdown: pack.markdown,
                json: pack.json,
                chain_head: pack.chain_head,
            }));
        }
        Job::AuditPage { offset, limit } => {
            // One short lock for both reads, so the count and the page agree.
            let page = {
                let store = ws.store();
                AuditPage {
                    offset,
                    total: store.audit_count()?,
                    events: store.audit_page(offset, limit)?,
                }
            };
            out.send(Data::AuditPage(page));
        }
        Job::VerifyAudit => {
            // The walk reads every event: it runs off the async workers.
            let owned = Arc::clone(ws);
            let report = tokio::task::spawn_blocking(move || owned.verify_audit())
                .await
                .map_err(|e| WorkspaceError::Refused(format!("the audit check stopped: {e}")))??;
            out.send(Data::AuditVerified(report));
        }
        other => {
            let text = format!("{} is not a local job", other.label());
            return Err(WorkspaceError::Refused(text));
        }
    }
    Ok(())
}

/// Sends where the password is kept; nothing when no connector is saved.
fn credential(ws: &Workspace, out: &Outbox) -> Result<()> {
    let view = match ws.credential_status() {
        Ok(status) => Some(CredentialView {
            store: status.store_description,
            persists: status.persists,
            readable: status.readable,
            problem: status.problem,
        }),
        Err(WorkspaceError::NotConnected) => None,
        Err(error) => return Err(error),
    };
    out.send(Data::Credential(view));
    Ok(())
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
            auth: match &settings.auth {
                Auth::Basic => AuthKind::Basic,
                Auth::OAuth { .. } => AuthKind::OAuth,
            },
            oauth_client_id: match settings.auth {
                Auth::Basic => String::new(),
                Auth::OAuth { client_id } => client_id,
            },
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
