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
    if std::env::var("ACTIONPLANE_TIME").is_ok_and(|v| v.eq_ignore_ascii_case("utc")) {
        actionplane::domain::incident::show_times_in_utc();
    }
    let from_env = std::env::var_os(store::DB_ENV)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let db = cli
        .db
        .clone()
        .or(from_env)
        .unwrap_or_else(store::default_path);
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
    workspace.set_timeout(std::time::Duration::from_secs(cli.timeout));
    if let Some(command) = &cli.command {
        return cli::execute(cli, command, workspace).await;
    }
    let result = actionplane::tui::run(workspace.clone()).await;
    workspace.shutdown().await;
    result
}

fn fail(error: &anyhow::Error) -> ExitCode {
    eprintln!(
        "error: {}",
        actionplane::cli::visible(&format!("{error:#}"))
    );
    ExitCode::FAILURE
}

/// Logs go to a file next to the database, never to the screen; its path is printed once
/// before the TUI takes the terminal. A log that cannot be opened is said once, not fatal.
fn init_logging(
    db: &std::path::Path,
    announce: bool,
) -> Option<tracing_appender::non_blocking::WorkerGuard> {
    let dir = db
        .parent()
        .map_or_else(|| PathBuf::from("."), std::path::Path::to_path_buf);
    let path = dir.join("actionplane.log");
    let file = std::fs::create_dir_all(&dir).and_then(|()| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
    });
    let file = match file {
        Ok(file) => file,
        Err(error) => {
            eprintln!(
                "actionplane: no log file ({}: {error}); continuing without one",
                path.display()
            );
            return None;
        }
    };
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = tracing_subscriber::EnvFilter::try_from_env("ACTIONPLANE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
    if announce {
        eprintln!("actionplane: log file {}", path.display());
    }
    Some(guard)
}
