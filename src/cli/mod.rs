//! The command line: the same workspace operations as the TUI, without a terminal.
//!
//! `--json` prints exactly one JSON document on stdout; errors go to stderr with a non-zero
//! exit status in both modes.

mod output;

pub use output::visible;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};

use crate::domain::CLOSE_TICKET;
use crate::domain::connector::ConnectPayload;
use crate::domain::preview::CloseRequest;
use crate::domain::run::{RunMode, RunState};
use crate::sandbox::{self, Faults};
use crate::workspace::{StepResult, Workspace};

/// ActionPlane for ServiceNow Ticketing: preview, approve and verify incident changes.
#[derive(Debug, Parser)]
#[command(name = "actionplane", version, about, long_about = None)]
pub struct Cli {
    /// The local database (default: in the user's data directory).
    /// The `ACTIONPLANE_DB` variable overrides the default too.
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,

    /// Seconds one call to the instance may take before it counts as a timeout.
    #[arg(long, global = true, value_name = "SECS", default_value_t = 20)]
    pub timeout: u64,

    /// Print one JSON document instead of text.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

/// The subcommands; without one, the TUI starts.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Save connector settings from a connect payload, then validate and sync if it asks to.
    Connect {
        /// The connect payload (JSON), e.g. assets/connect-sandbox.json.
        #[arg(long, value_name = "FILE")]
        file: PathBuf,
    },
    /// Check auth, the integration user and its roles, and the instance build.
    Validate,
    /// Sync the dictionary and choice lists of the allowlisted fields.
    SyncMetadata,
    /// Show each onboarding step with its status, and the next move.
    Onboarding,
    /// Show where the connector's password is kept and whether this process can read it.
    Credentials,
    /// Preview, approve and execute a governed action.
    Run(RunArgs),
    /// List governed runs, or show one.
    Runs {
        #[command(subcommand)]
        show: Option<RunsCommand>,
    },
    /// Show audit events, of all runs or one; verify or export the chain.
    Audit {
        /// Only the events of this run.
        #[arg(long, value_name = "RUN_ID")]
        run: Option<String>,
        #[command(subcommand)]
        command: Option<AuditCommand>,
    },
    /// Preview a rollback of a live run; with --approve-digest and --reason, execute it.
    Rollback {
        /// The live run to roll back.
        run_id: String,
        /// The digest of the rollback preview you approve (printed without this flag).
        #[arg(long, value_name = "DIGEST", requires = "reason")]
        approve_digest: Option<String>,
        /// Why the rollback is right; stored with the approval.
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// On a production instance: its name, typed to acknowledge the write.
        #[arg(long, value_name = "NAME")]
        confirm_instance: Option<String>,
    },
    /// The embedded ServiceNow sandbox.
    Sandbox {
        #[command(subcommand)]
        command: SandboxCommand,
    },
}

/// `runs show`, `runs reconcile`, `runs export`.
#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Everything stored about one run.
    Show {
        /// The run, as `actionplane runs` lists it.
        run_id: String,
    },
    /// Settle a run a stopped process left executing: re-read the record; verify a write that
    /// landed, or send the approved write once if the record is exactly as approved.
    Reconcile {
        /// The interrupted run.
        run_id: String,
    },
    /// Write the run's evidence pack (Markdown and JSON) into a directory.
    Export {
        /// The run to export.
        run_id: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

/// `audit verify` and `audit export`.
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain and name the first event that was altered, removed or reordered.
    Verify,
    /// Write every event as JSON lines, ending with the chain head.
    Export {
        #[arg(long, value_name = "FORMAT", default_value = "jsonl")]
        format: String,
        /// Write to a file instead of stdout.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The action to run; today only support.close-ticket.
    pub action: String,
    /// The incident number.
    #[arg(long, default_value = crate::domain::SAMPLE_RECORD)]
    pub record: String,
    /// Preview, approve and simulate: nothing is written.
    #[arg(long, conflicts_with = "live")]
    pub dry_run: bool,
    /// Write to the instance: needs --approve-digest from a verified dry run, and --reason.
    #[arg(long, requires_all = ["approve_digest", "reason"])]
    pub live: bool,
    /// The digest of the preview you approve (printed by the dry run).
    #[arg(long, value_name = "DIGEST")]
    pub approve_digest: Option<String>,
    /// Why this change is right; stored with the approval.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Close code (a value from the synced choices).
    #[arg(long, value_name = "CODE")]
    pub close_code: Option<String>,
    /// Resolution notes.
    #[arg(long, value_name = "TEXT")]
    pub close_notes: Option<String>,
    /// Work note to append.
    #[arg(long, value_name = "TEXT")]
    pub work_note: Option<String>,
    /// Resolve (6) instead of close (7): the reversible variant.
    #[arg(long)]
    pub resolve_only: bool,
    /// On a production instance: its name, typed to acknowledge a live write.
    #[arg(long, value_name = "NAME")]
    pub confirm_instance: Option<String>,
}

/// `sandbox serve` and `sandbox reset`.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// Serve the sandbox on an address until interrupted.
    Serve {
        #[arg(long, default_value = "127.0.0.1:8099", value_name = "ADDR")]
        addr: SocketAddr,
        /// Sandbox state file (default: next to the app database).
        #[arg(long, value_name = "PATH")]
        state: Option<PathBuf>,
        #[command(flatten)]
        faults: FaultArgs,
    },
    /// Restore the seed story (INC-42 open again). Audit records are kept.
    Reset {
        /// Sandbox state file (default: next to the app database).
        #[arg(long, value_name = "PATH")]
        state: Option<PathBuf>,
    },
}

/// Behaviours of real instances the sandbox can play.
#[derive(Debug, Args, Default)]
pub struct FaultArgs {
    /// Answer every call with the hibernation HTML page.
    #[arg(long)]
    pub hibernate: bool,
    /// Answer 429 with Retry-After.
    #[arg(long)]
    pub rate_limit: bool,
    /// Delay every answer by this many milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 0)]
    pub slow_ms: u64,
    /// Answer 500.
    #[arg(long)]
    pub server_error: bool,
    /// Refuse closing (state 7) with an ACL error, even for itil_admin.
    #[arg(long)]
    pub deny_close: bool,
    /// Offer the close codes of older releases.
    #[arg(long)]
    pub legacy_close_codes: bool,
    /// Use the older 401 message spelling.
    #[arg(long)]
    pub legacy_401: bool,
    /// Refuse every OAuth token request, as an instance with the grant disabled does.
    #[arg(long)]
    pub oauth_disabled: bool,
    /// Lifetime of issued OAuth tokens in seconds (0: the instance default of 1799).
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub oauth_token_seconds: u64,
}

impl FaultArgs {
    fn faults(&self) -> Faults {
        Faults {
            hibernating: self.hibernate,
            rate_limited: self.rate_limit,
            slow_ms: self.slow_ms,
            server_error: self.server_error,
            deny_close: self.deny_close,
            legacy_close_codes: self.legacy_close_codes,
            legacy_401_text: self.legacy_401,
            oauth_disabled: self.oauth_disabled,
            oauth_token_seconds: self.oauth_token_seconds,
        }
    }
}

/// Runs one subcommand to completion.
pub async fn execute(
    cli: &Cli,
    command: &Command,
    workspace: Arc<Workspace>,
) -> anyhow::Result<()> {
    let from_env = std::env::var_os(crate::store::DB_ENV).filter(|v| !v.is_empty());
    let out = output::Output {
        json: cli.json,
        db: cli.db.clone().or(from_env.map(PathBuf::from)),
    };
    let result = dispatch(&out, command, &workspace).await;
    workspace.shutdown().await;
    result
}

async fn dispatch(
    out: &output::Output,
    command: &Command,
    ws: &Arc<Workspace>,
) -> anyhow::Result<()> {
    match command {
        Command::Connect { file } => connect(out, ws, file).await,
        Command::Validate => out.validation(&ws.validate().await?),
        Command::SyncMetadata => out.metadata(&ws.sync_metadata().await?),
        Command::Onboarding => out.onboarding(&ws.onboarding()?),
        Command::Credentials => {
            let status = ws.credential_status()?;
            out.credentials(&status)?;
            match status.problem {
                None => Ok(()),
                Some(problem) => Err(output::Reported(problem).into()),
            }
        }
        Command::Run(args) => run(out, ws, args).await,
        Command::Runs { show: None } => out.runs(&ws.run_summaries()?),
        Command::Runs {
            show: Some(RunsCommand::Show { run_id }),
        } => out.run_detail(&ws.run_detail(run_id)?),
        Command::Runs {
            show: Some(RunsCommand::Reconcile { run_id }),
        } => {
            let execution = ws.reconcile(run_id).await?;
            out.execution(&execution)?;
            settled(execution)
        }
        Command::Runs {
            show: Some(RunsCommand::Export { run_id, out: dir }),
        } => out.exported(&ws.export_evidence(run_id, dir)?),
        Command::Audit { run, command: None } => {
            if let Some(run_id) = run {
                ws.run_detail(run_id)?;
            }
            out.audit(&ws.audit_events(run.as_deref())?)
        }
        Command::Audit {
            command: Some(AuditCommand::Verify),
            ..
        } => {
            let report = ws.verify_audit()?;
            out.chain(&report)?;
            match report.first_bad {
                None => Ok(()),
                Some(bad) => {
                    Err(output::Reported(format!("the audit chain is broken: {bad}")).into())
                }
            }
        }
        Command::Audit {
            command: Some(AuditCommand::Export { format, out: file }),
            ..
        } => export_audit(ws, format, file.as_deref()),
        Command::Rollback {
            run_id,
            approve_digest,
            reason,
            confirm_instance,
        } => {
            rollback(
                out,
                ws,
                run_id,
                approve_digest.as_deref(),
                reason.as_deref(),
                confirm_instance.as_deref(),
            )
            .await
        }
        Command::Sandbox { command } => sandbox_command(out, ws, command).await,
    }
}

async fn connect(out: &output::Output, ws: &Workspace, file: &PathBuf) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("cannot read the connect payload {}", file.display()))?;
    let payload =
        ConnectPayload::parse(&text).map_err(crate::workspace::WorkspaceError::Payload)?;
    let outcome = ws.connect(&payload).await?;
    out.connect(&outcome)?;
    let failed = [
        outcome.validation.as_ref().and_then(StepResult::error),
        outcome.sync.as_ref().and_then(StepResult::error),
    ];
    match failed.into_iter().flatten().next() {
        None => Ok(()),
        Some(error) => Err(output::Reported(format!("saved, but {error}")).into()),
    }
}

async fn run(out: &output::Output, ws: &Workspace, args: &RunArgs) -> anyhow::Result<()> {
    if args.action != CLOSE_TICKET {
        bail!(
            "unknown action `{}`: the lane offers `{CLOSE_TICKET}`",
            args.action
        );
    }
    if !args.dry_run && !args.live {
        bail!(
            "say --dry-run to preview and simulate, or --live --approve-digest DIGEST --reason TEXT"
        );
    }
    let request = close_request(ws, args)?;
    let mode = if args.live {
        RunMode::Live
    } else {
        RunMode::DryRun
    };
    let (run, preview) = ws.preview(&request, mode).await?;

    let (digest, reason) = match mode {
        RunMode::DryRun => (
            preview.digest.clone(),
            args.reason
                .clone()
                .unwrap_or_else(|| "dry run from the command line".to_owned()),
        ),
        RunMode::Live => {
            let approved = args.approve_digest.clone().unwrap_or_default();
            check_digest(&approved)?;
            if approved != preview.digest {
                return Err(ws.refuse_stale(&run, &preview, &approved)?.into());
            }
            (approved, args.reason.clone().unwrap_or_default())
        }
    };
    if !preview.approvable() {
        ws.reject(&run.id, &preview.posture.summary())?;
        return out.refused_preview(&run, &preview);
    }
    let approval = approve_or_reject(
        ws,
        &run.id,
        &digest,
        &reason,
        args.confirm_instance.as_deref(),
    )?;
    let execution = ws.execute(&run.id).await?;
    out.run_result(&execution, &preview, &approval)?;
    settled(execution)
}

/// Approves a run, or records it as rejected with the reason the approval was refused, so no
/// run is left waiting for an approval that cannot come.
fn approve_or_reject(
    ws: &Workspace,
    run_id: &str,
    digest: &str,
    reason: &str,
    typed: Option<&str>,
) -> anyhow::Result<crate::domain::run::Approval> {
    match ws.approve_typed(run_id, digest, reason, typed) {
        Ok(approval) => Ok(approval),
        Err(refused) => {
            ws.reject(run_id, &refused.to_string())?;
            Err(refused.into())
        }
    }
}

/// Success only when the run verified; otherwise the outcome, already printed, fails the exit.
fn settled(execution: crate::workspace::Execution) -> anyhow::Result<()> {
    if matches!(execution.run.state, RunState::Verified) {
        Ok(())
    } else {
        Err(output::Reported(execution.message).into())
    }
}

async fn rollback(
    out: &output::Output,
    ws: &Workspace,
    run_id: &str,
    digest: Option<&str>,
    reason: Option<&str>,
    typed: Option<&str>,
) -> anyhow::Result<()> {
    let (run, preview) = ws.preview_rollback(run_id).await?;
    let Some(digest) = digest else {
        return out.rollback_preview(&run, &preview);
    };
    check_digest(digest)?;
    if digest != preview.digest {
        ws.reject(
            &run.id,
            "the approved digest does not match this rollback preview",
        )?;
        let current = preview.digest.clone();
        return Err(crate::workspace::WorkspaceError::DigestMismatch {
            approved: digest.to_owned(),
            current,
        }
        .into());
    }
    let approval = approve_or_reject(ws, &run.id, digest, reason.unwrap_or_default(), typed)?;
    let execution = ws.execute(&run.id).await?;
    out.run_result(&execution, &preview, &approval)?;
    settled(execution)
}

/// Refuses what is not a digest before comparing it, so a typo is not reported as drift.
fn check_digest(digest: &str) -> anyhow::Result<()> {
    let hex = digest.strip_prefix("sha256:").unwrap_or("");
    if hex.len() == 64
        && hex
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    {
        Ok(())
    } else {
        bail!("`{digest}` is not a preview digest: copy the `sha256:...` line the dry run printed")
    }
}

fn export_audit(
    ws: &Workspace,
    format: &str,
    file: Option<&std::path::Path>,
) -> anyhow::Result<()> {
    if format != "jsonl" {
        bail!("unknown export format `{format}`: use --format jsonl");
    }
    let report = match file {
        Some(path) => {
            let mut writer = std::io::BufWriter::new(
                std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?,
            );
            ws.export_audit_jsonl(&mut writer)?
        }
        None => ws.export_audit_jsonl(&mut std::io::stdout().lock())?,
    };
    match report.first_bad {
        None => Ok(()),
        Some(bad) => {
            Err(output::Reported(format!("exported, but the audit chain is broken: {bad}")).into())
        }
    }
}

fn close_request(ws: &Workspace, args: &RunArgs) -> anyhow::Result<CloseRequest> {
    let mut request = CloseRequest::sample(&args.record);
    if args.resolve_only {
        crate::domain::incident::state::RESOLVED.clone_into(&mut request.target_state);
        "Resolved as a duplicate alert after operator review.".clone_into(&mut request.work_note);
    }
    if let Some(code) = &args.close_code {
        request.close_code.clone_from(code);
    } else if let Some(meta) = ws.metadata()? {
        // The sample's code may not exist on an older release: fall back to the first choice.
        let choices = meta
            .field("close_code")
            .map(|f| f.choices.clone())
            .unwrap_or_default();
        if !choices.is_empty() && !choices.iter().any(|c| c.value == request.close_code) {
            request.close_code.clone_from(&choices[0].value);
        }
    }
    if let Some(notes) = &args.close_notes {
        request.close_notes.clone_from(notes);
    }
    if let Some(note) = &args.work_note {
        request.work_note.clone_from(note);
    }
    Ok(request)
}

async fn sandbox_command(
    out: &output::Output,
    ws: &Workspace,
    command: &SandboxCommand,
) -> anyhow::Result<()> {
    match command {
        SandboxCommand::Serve {
            addr,
            state,
            faults,
        } => {
            let state = state.clone().unwrap_or_else(|| ws.sandbox_state_path());
            let handle = sandbox::start(&state, *addr, faults.faults()).await?;
            out.serving(&handle.base_url(), &state)?;
            tokio::signal::ctrl_c()
                .await
                .context("waiting for Ctrl-C")?;
            handle.shutdown().await;
            Ok(())
        }
        SandboxCommand::Reset { state: Some(state) } => {
            sandbox::reset(state)?;
            out.reset(state)
        }
        SandboxCommand::Reset { state: None } => {
            ws.reset_sandbox().await?;
            out.reset(&ws.sandbox_state_path())
        }
    }
}
