//! The operations of the product, shared by the CLI and the TUI: connect, validate, sync,
//! onboarding progress, and governed runs. No screen or command holds logic of its own.

mod errors;
mod evidence;
mod execute;
mod runs;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::Mutex as AsyncMutex;

pub use errors::WorkspaceError;
pub use evidence::{ExportedPack, GoLiveCondition, ROLLBACK_ACTION};
pub use execute::{CRASH_AT_ENV, CRASH_POINTS, RunSummary, is_interrupted, run_marker};
pub use runs::{Execution, RunDetail};

use crate::domain::connector::{
    Auth, ConnectPayload, ConnectorSettings, InstanceTarget, normalise_instance_url,
};
use crate::domain::metadata::TableMetadata;
use crate::domain::onboarding::{self, Progress, Step, SyncSummary, ValidationReport};
use crate::domain::policy::Allowlist;
use crate::domain::run::RunMode;
use crate::sandbox::{self, Faults, SandboxHandle};
use crate::secrets::{self, CredentialVault, SecretStore, StoreKind};
use crate::servicenow::{Client, LoggedRequest, ProgressSink, Secret};
use crate::store::{NewAuditEvent, Store};
use tokio_util::sync::CancellationToken;

type Result<T> = std::result::Result<T, WorkspaceError>;

/// The table the first action governs.
pub const INCIDENT: &str = "incident";

const FACT_VALIDATION: &str = "validation";
const FACT_VALIDATION_ERROR: &str = "validation_error";
const FACT_SYNC: &str = "sync";
const FACT_SYNC_ERROR: &str = "sync_error";

/// One operator's workspace: the store, the credential store, and the target instance.
pub struct Workspace {
    store: Mutex<Store>,
    secrets: SecretStore,
    sandbox: AsyncMutex<Option<SandboxHandle>>,
    client: Mutex<Option<Client>>,
    observer: Mutex<Observer>,
    timeout_ms: AtomicU64,
    actor: String,
    /// Tells this workspace's credentials apart from another database's for the same user.
    credential_scope: String,
}

/// Who watches network work: a sink for "loaded n of total" and retry countdowns, and the
/// token that cancels reads (a write already sent is never cut off).
#[derive(Clone, Default)]
pub struct Observer {
    pub progress: Option<ProgressSink>,
    pub cancel: Option<CancellationToken>,
}

/// What `connect` did: saved, where the secret went, and how validation and sync went.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectOutcome {
    pub saved: bool,
    pub instance: String,
    pub secret_store: StoreKind,
    pub secret_note: String,
    pub validation: Option<StepResult<ValidationReport>>,
    pub sync: Option<StepResult<SyncSummary>>,
}

/// The result of one step that ran after saving; a failure never undoes the save.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase", tag = "outcome")]
pub enum StepResult<T> {
    Ok { result: T },
    Failed { kind: String, error: String },
}

/// Where the connector's secret is kept and whether this process can read it (never the secret).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CredentialStatus {
    pub account: String,
    pub store: StoreKind,
    pub store_description: String,
    pub persists: bool,
    pub readable: bool,
    pub problem: Option<String>,
}

/// The onboarding view: each step, the next move, and the facts behind them.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Onboarding {
    pub target: Option<String>,
    pub is_sandbox: bool,
    pub secret_store: Option<StoreKind>,
    pub steps: Vec<Step>,
    pub next_move: String,
    pub validation: Option<ValidationReport>,
    /// The seed's go-live conditions, computed from stored evidence.
    pub go_live: Vec<GoLiveCondition>,
}

impl Workspace {
    /// Opens the workspace on a database file, with the given credential store.
    pub fn open(db: &Path, secrets: SecretStore) -> Result<Arc<Self>> {
        let store = Store::open(db)?;
        let (user, host, _) = crate::domain::run::Approval::identity();
        Ok(Arc::new(Self {
            store: Mutex::new(store),
            secrets,
            sandbox: AsyncMutex::new(None),
            client: Mutex::new(None),
            observer: Mutex::new(Observer::default()),
            timeout_ms: AtomicU64::new(20_000),
            actor: format!("{user}@{host}"),
            credential_scope: credential_scope(db),
        }))
    }

    /// The credential-store account of a connector's password in this workspace.
    fn account(&self, settings: &ConnectorSettings) -> String {
        let account = secrets::account(&settings.instance.label(), &settings.username);
        format!("{account}#{}", self.credential_scope)
    }

    /// The credential-store account of an OAuth client secret in this workspace.
    fn oauth_account(&self, settings: &ConnectorSettings, client_id: &str) -> String {
        let account = secrets::oauth_account(&settings.instance.label(), client_id);
        format!("{account}#{}", self.credential_scope)
    }

    /// How long one call to the instance may take.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(Ordering::Relaxed))
    }

    /// Sets how long one call may take (`--timeout`), for clients made from now on.
    pub fn set_timeout(&self, timeout: Duration) {
        let ms = u64::try_from(timeout.as_millis())
            .unwrap_or(u64::MAX)
            .max(1);
        self.timeout_ms.store(ms, Ordering::Relaxed);
        self.forget_client();
    }

    /// The local store; held only for short, synchronous work.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn db_path(&self) -> PathBuf {
        self.store().path().to_owned()
    }

    /// Who the audit names for work done at this terminal.
    pub fn actor(&self) -> &str {
        &self.actor
    }

    /// The saved connector and where its secret is kept.
    pub fn settings(&self) -> Result<(ConnectorSettings, StoreKind)> {
        let (settings, kind) = self
            .store()
            .connector()?
            .ok_or(WorkspaceError::NotConnected)?;
        Ok((
            settings,
            StoreKind::parse(&kind).unwrap_or(StoreKind::Memory),
        ))
    }

    /// The allowlist of the incident table.
    pub fn allowlist(&self) -> Result<Allowlist> {
        let (settings, _) = self.settings()?;
        Ok(Allowlist::new(INCIDENT, settings.allowed_fields(INCIDENT)))
    }

    fn audit(&self, run_id: Option<&str>, kind: &str, detail: serde_json::Value) -> Result<()> {
        self.store()
            .append_audit(&NewAuditEvent::new(run_id, kind, &self.actor, detail))?;
        Ok(())
    }

    /// Saves the connector, then validates and syncs if the payload asks for it.
    pub async fn connect(&self, payload: &ConnectPayload) -> Result<ConnectOutcome> {
        let settings = payload.check().map_err(WorkspaceError::Payload)?;
        let account = self.account(&settings);
        let placement = self
            .secrets
            .save(&account, &Secret::new(payload.client_secret.clone()));
        if let Auth::OAuth { client_id } = &settings.auth {
            let oauth_account = self.oauth_account(&settings, client_id);
            self.secrets.save(
                &oauth_account,
                &Secret::new(payload.oauth_client_secret.clone()),
            );
        }
        self.store()
            .save_connector(&settings, placement.kind.as_str())?;
        self.forget_client();
        self.audit(
            None,
            "connector.saved",
            serde_json::json!({
                "instance": settings.instance.label(), "username": settings.username,
                "secretStore": placement.kind.as_str(),
                "allowlist": settings.allowed_fields(INCIDENT),
            }),
        )?;
        let mut outcome = ConnectOutcome {
            saved: true,
            instance: settings.instance.label(),
            secret_store: placement.kind,
            secret_note: placement.note,
            validation: None,
            sync: None,
        };
        if payload.validate_after_save {
            outcome.validation = Some(step_result(self.validate().await));
        }
        let validated = matches!(outcome.validation, None | Some(StepResult::Ok { .. }));
        if payload.sync_metadata_after_save && validated {
            outcome.sync = Some(step_result(
                self.sync_metadata().await.map(|m| sync_summary(&m)),
            ));
        }
        Ok(outcome)
    }

    /// Saves settings like `connect`, keeping the stored password (and OAuth client secret)
    /// where the payload leaves it empty: re-saving a form need not retype a secret.
    pub async fn connect_keeping_secret(
        &self,
        mut payload: ConnectPayload,
    ) -> Result<ConnectOutcome> {
        // Only the very same instance and user may reuse a stored secret: a password must
        // never follow a changed URL to another host.
        let target = normalise_instance_url(&payload.instance_url).ok();
        let saved = self.settings().ok().filter(|(s, _)| {
            Some(&s.instance) == target.as_ref() && s.username == payload.client_id.trim()
        });
        if let Some((stored, kind)) = saved {
            if payload.client_secret.is_empty() {
                let secret = self.secrets.load(&self.account(&stored), kind)?;
                secret.expose().clone_into(&mut payload.client_secret);
            }
            let same_client = |id: &str| payload.oauth_client_id.trim() == id;
            if let (true, Auth::OAuth { client_id }) =
                (payload.oauth_client_secret.is_empty(), &stored.auth)
                && same_client(client_id)
            {
                let secret = self
                    .secrets
                    .load(&self.oauth_account(&stored, client_id), kind)?;
                secret.expose().clone_into(&mut payload.oauth_client_secret);
            }
        }
        self.connect(&payload).await
    }

    /// Says where the secret is kept and checks that this process can read it.
    pub fn credential_status(&self) -> Result<CredentialStatus> {
        let (settings, kind) = self.settings()?;
        let account = self.account(&settings);
        let problem = self
            .secrets
            .load(&account, kind)
            .err()
            .map(|e| e.to_string());
        Ok(CredentialStatus {
            account,
            store: kind,
            store_description: kind.describe().to_owned(),
            persists: kind.persists(),
            readable: problem.is_none(),
            problem,
        })
    }

    /// Keeps a password typed for this session only (the TUI's step 03 form).
    pub fn remember_secret(&self, settings: &ConnectorSettings, secret: &Secret) {
        let account = self.account(settings);
        self.secrets.remember(&account, secret);
        self.forget_client();
    }

    fn forget_client(&self) {
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = None;
    }

    /// A client for the saved connector, starting the embedded sandbox when it is the target.
    pub async fn client(&self) -> Result<Client> {
        let shared = self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let client = match shared {
            Some(client) => client,
            None => self.new_client().await?,
        };
        let observer = self
            .observer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        let client = match observer.progress {
            Some(sink) => client.with_progress(sink),
            None => client,
        };
        Ok(match observer.cancel {
            Some(token) => client.with_cancel(token),
            None => client,
        })
    }

    /// Sets who watches the network work of the next operations (the TUI's progress line and
    /// its Esc); `Observer::default()` stops watching.
    pub fn observe(&self, observer: Observer) {
        *self
            .observer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = observer;
    }

    async fn new_client(&self) -> Result<Client> {
        let (settings, kind) = self.settings()?;
        let base_url = match &settings.instance {
            InstanceTarget::Sandbox => self.ensure_sandbox().await?,
            InstanceTarget::Remote(url) => url.clone(),
        };
        let account = self.account(&settings);
        let secret = self.secrets.load(&account, kind)?;
        let client = match &settings.auth {
            Auth::Basic => Client::new(&base_url, &settings.username, secret, self.timeout())?,
            Auth::OAuth { client_id } => {
                let client_secret = self
                    .secrets
                    .load(&self.oauth_account(&settings, client_id), kind)?;
                let vault = Arc::new(CredentialVault::new(self.secrets.clone(), &account, kind));
                Client::new_oauth(
                    &base_url,
                    &settings.username,
                    secret,
                    client_id,
                    client_secret,
                    vault,
                    self.timeout(),
                )?
            }
        };
        *self
            .client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(client.clone());
        Ok(client)
    }

    /// Starts the in-process sandbox (once) and returns its base URL.
    pub async fn ensure_sandbox(&self) -> Result<String> {
        let mut slot = self.sandbox.lock().await;
        if let Some(handle) = slot.as_ref() {
            return Ok(handle.base_url());
        }
        let state = sandbox::state_path_for(&self.db_path());
        let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
        let handle = sandbox::start(&state, addr, Faults::default())
            .await
            .map_err(WorkspaceError::Sandbox)?;
        let url = handle.base_url();
        *slot = Some(handle);
        Ok(url)
    }

    /// Whether the embedded sandbox can run here (its state file can be opened).
    pub fn sandbox_state_path(&self) -> PathBuf {
        sandbox::state_path_for(&self.db_path())
    }

    /// Restores the sandbox's seed story; audit records stay.
    pub async fn reset_sandbox(&self) -> Result<()> {
        let state = self.sandbox_state_path();
        tokio::task::spawn_blocking(move || sandbox::reset(&state))
            .await
            .map_err(|e| WorkspaceError::Sandbox(e.into()))?
            .map_err(WorkspaceError::Sandbox)?;
        self.audit(
            None,
            "sandbox.reset",
            serde_json::json!({"story": "INC-42 back to open"}),
        )
    }

    /// Stops the in-process sandbox, if one runs.
    pub async fn shutdown(&self) {
        if let Some(handle) = self.sandbox.lock().await.take() {
            handle.shutdown().await;
        }
    }

    /// The calls made to the instance so far (method, path, status, time; no secrets).
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
            .map(Client::request_log)
            .unwrap_or_default()
    }

    /// Validates auth and the integration user, and stores what it learned.
    pub async fn validate(&self) -> Result<ValidationReport> {
        let result = match self.client().await {
            Ok(client) => client.validate().await.map_err(WorkspaceError::from),
            Err(e) => Err(e),
        };
        match &result {
            Ok(report) => {
                self.store().set_fact(FACT_VALIDATION, Some(report))?;
                self.store()
                    .set_fact::<String>(FACT_VALIDATION_ERROR, None)?;
                let (problems, warnings) = report.user_findings();
                let detail = serde_json::json!({"user": report.user_name, "roles": report.roles,
                    "build": report.build, "problems": problems, "warnings": warnings});
                self.audit(None, "connector.validated", detail)?;
            }
            Err(error) => {
                self.store()
                    .set_fact::<ValidationReport>(FACT_VALIDATION, None)?;
                self.store()
                    .set_fact(FACT_VALIDATION_ERROR, Some(&error.to_string()))?;
                let detail = serde_json::json!({"kind": error.kind(), "error": error.to_string()});
                self.audit(None, "connector.validation-failed", detail)?;
            }
        }
        result
    }

    /// Syncs the dictionary and choices of the allowlisted fields and stores them.
    pub async fn sync_metadata(&self) -> Result<TableMetadata> {
        let allowlist = self.allowlist()?;
        let result = match self.client().await {
            Ok(client) => client
                .sync_metadata(INCIDENT, &allowlist.fields)
                .await
                .map_err(WorkspaceError::from),
            Err(e) => Err(e),
        };
        match &result {
            Ok(metadata) => {
                let summary = sync_summary(metadata);
                self.store().save_metadata(metadata)?;
                self.store().set_fact(FACT_SYNC, Some(&summary))?;
                self.store().set_fact::<String>(FACT_SYNC_ERROR, None)?;
                self.audit(
                    None,
                    "metadata.synced",
                    serde_json::to_value(&summary).unwrap_or_default(),
                )?;
            }
            Err(error) => {
                self.store()
                    .set_fact(FACT_SYNC_ERROR, Some(&error.to_string()))?;
                let detail = serde_json::json!({"kind": error.kind(), "error": error.to_string()});
                self.audit(None, "metadata.sync-failed", detail)?;
            }
        }
        result
    }

    /// The synced metadata of the incident table.
    pub fn metadata(&self) -> Result<Option<TableMetadata>> {
        Ok(self.store().metadata(INCIDENT)?)
    }

    /// The stored facts that onboarding status is computed from.
    pub fn progress(&self) -> Result<Progress> {
        let store = self.store();
        let connector = store.connector()?;
        Ok(Progress {
            saved: connector.is_some(),
            target_is_sandbox: connector.as_ref().is_some_and(|(s, _)| s.is_sandbox),
            validation: store.fact(FACT_VALIDATION)?,
            validation_error: store.fact(FACT_VALIDATION_ERROR)?,
            sync: store.fact(FACT_SYNC)?,
            sync_error: store.fact(FACT_SYNC_ERROR)?,
            dry_run_verified: store.has_verified(RunMode::DryRun)?,
            live_run_verified: store.has_verified(RunMode::Live)?,
        })
    }

    /// Each step with its status, and the next move.
    pub fn onboarding(&self) -> Result<Onboarding> {
        let progress = self.progress()?;
        let connector = self.store().connector()?;
        Ok(Onboarding {
            target: connector.as_ref().map(|(s, _)| s.instance.label()),
            is_sandbox: connector.as_ref().is_none_or(|(s, _)| s.is_sandbox),
            secret_store: connector.as_ref().and_then(|(_, k)| StoreKind::parse(k)),
            steps: onboarding::steps(&progress),
            next_move: onboarding::next_move(&progress),
            validation: progress.validation,
            go_live: self.go_live()?,
        })
    }
}

/// A short, stable id of the database a workspace lives in.
fn credential_scope(db: &Path) -> String {
    use sha2::Digest as _;
    let absolute = std::path::absolute(db).unwrap_or_else(|_| db.to_owned());
    hex::encode(&sha2::Sha256::digest(absolute.to_string_lossy().as_bytes())[..4])
}

fn sync_summary(metadata: &TableMetadata) -> SyncSummary {
    SyncSummary {
        fields: metadata.fields.len(),
        missing: metadata.missing.clone(),
        read_only: metadata
            .fields
            .iter()
            .filter(|f| f.entry.read_only)
            .map(|f| f.entry.element.clone())
            .collect(),
        synced_at: metadata.synced_at.clone(),
    }
}

impl<T> StepResult<T> {
    /// The error text of a failed step.
    pub fn error(&self) -> Option<&str> {
        match self {
            Self::Ok { .. } => None,
            Self::Failed { error, .. } => Some(error),
        }
    }
}

fn step_result<T>(result: Result<T>) -> StepResult<T> {
    match result {
        Ok(result) => StepResult::Ok { result },
        Err(error) => StepResult::Failed {
            kind: error.kind().to_owned(),
            error: error.to_string(),
        },
    }
}
