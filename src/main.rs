//! The `actionplane` binary: the TUI by default, subcommands for scripts.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use actionplane::cli::{self, Cli};
use actionplane::secrets::SecretStore;
use actionplane::store;
use actionplane::workspace::Workspace;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let db = cli.db.clone().unwrap_or_else(store::default_path);
    let _log_guard = init_logging(&db, cli.command.is_none());
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => return fail(&anyhow::anyhow!("cannot start the async runtime: {error}")),
    };
    match runtime.block_on(start(&cli, &db)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(&error),
    }
}

async fn start(cli: &Cli, db: &std::path::Path) -> anyhow::Result<()> {
    let workspace = Workspace::open(db, SecretStore::system())?;
    if let Some(command) = &cli.command {
        return cli::execute(cli, command, workspace).await;
    }
    let result = actionplane::tui::run(workspace.clone()).await;
    workspace.shutdown().await;
    result
}

fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!("error: {error:#}");
    ExitCode::FAILURE
}

/// Logs go to a file next to the database, never to the screen; its path is printed once
/// before the TUI takes the terminal.
fn init_logging(
    db: &std::path::Path,
    announce: bool,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = db
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "actionplane.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = tracing_subscriber::EnvFilter::try_from_env("ACTIONPLANE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
    if announce {
        eprintln!(
            "actionplane: log file {}",
            dir.join("actionplane.log").display()
        );
    }
    Some(guard)
}
