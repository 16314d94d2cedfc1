//! The local SQLite store: connector settings, synced metadata, onboarding facts, governed runs,
//! their artifacts and approvals, and the append-only audit chain.

mod audit;
mod leases;
mod migrations;
mod runs;

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use audit::{AuditEvent, ChainReport, NewAuditEvent};
pub use leases::Lease;
pub use runs::{Artifact, new_run_id};

use crate::domain::connector::ConnectorSettings;
use crate::domain::metadata::TableMetadata;

/// Environment variable that overrides the database path.
pub const DB_ENV: &str = "ACTIONPLANE_DB";

/// Errors of the local store; each says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "cannot open the local database {path}: {source}. Check the path and its permissions, \
         or pass --db PATH"
    )]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the local database is busy (another actionplane holds it): try again in a moment")]
    Busy,
    #[error("local database error: {0}")]
    Sql(rusqlite::Error),
    #[error("stored data could not be read back: {0}")]
    Corrupt(String),
    #[error("{0}")]
    Conflict(String),
    #[error(
        "this database was written by a newer actionplane (schema {found}, this one knows up to \
         {known}): upgrade actionplane, or pass --db PATH for a separate database"
    )]
    TooNew { found: usize, known: usize },
    #[error(
        "the local database is read-only: check the file's permissions, or pass --db PATH for a \
         writable one"
    )]
    ReadOnly,
}

impl From<rusqlite::Error> for StoreError {
    fn from(error: rusqlite::Error) -> Self {
        match error.sqlite_error_code() {
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
                Self::Busy
            }
            Some(rusqlite::ErrorCode::ReadOnly) => Self::ReadOnly,
            _ => Self::Sql(error),
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One open connection to the local database.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

/// The default database location: the user's data directory.
pub fn default_path() -> PathBuf {
    dirs::data_dir()
        .or_else(|| dirs::home_dir().map(|h| h.join(".local/share")))
        .unwrap_or_else(|| PathBuf::from("."))
        .join("actionplane")
        .join("actionplane.db")
}

/// The current time in ServiceNow's raw format (UTC).
pub fn now() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

impl Store {
    /// Opens (creating if needed) the database and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                path: path.to_owned(),
                source: rusqlite::Error::InvalidPath(PathBuf::from(e.to_string())),
            })?;
        }
        let open_error = |source| StoreError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_error)?;
        conn.busy_timeout(Duration::from_secs(5))
            .map_err(open_error)?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(open_error)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(open_error)?;
        migrations::apply(&mut conn)?;
        Ok(Self {
            conn,
            path: path.to_owned(),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `work` in an IMMEDIATE transaction, so concurrent writers wait instead of failing.
    fn write<T>(
        &mut self,
        work: impl FnOnce(&rusqlite::Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = work(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Saves the connector settings (never the secret) and where the secret is kept.
    pub fn save_connector(
        &mut self,
        settings: &ConnectorSettings,
        secret_store: &str,
    ) -> Result<()> {
        let body = to_json(settings)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO connector (id, settings, secret_store, saved_at) VALUES (1, ?1, ?2, ?3)
                 ON CONFLICT(id) DO UPDATE SET settings = ?1, secret_store = ?2, saved_at = ?3",
                params![body, secret_store, now()],
            )?;
            Ok(())
        })
    }

    /// The saved connector and the name of the store that holds its secret.
    pub fn connector(&self) -> Result<Option<(ConnectorSettings, String)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT settings, secret_store FROM connector WHERE id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        row.map(|(body, store)| Ok((from_json(&body)?, store)))
            .transpose()
    }

    /// Records one onboarding fact (validation report, sync error, ...), replacing the last.
    pub fn set_fact<T: Serialize>(&mut self, name: &str, body: Option<&T>) -> Result<()> {
        let body = body.map(to_json).transpose()?;
        self.write(|tx| {
            match body {
                Some(body) => tx.execute(
                    "INSERT INTO onboarding (fact, body, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT(fact) DO UPDATE SET body = ?2, updated_at = ?3",
                    params![name, body, now()],
                )?,
                None => tx.execute("DELETE FROM onboarding WHERE fact = ?1", params![name])?,
            };
            Ok(())
        })
    }

    /// Reads one onboarding fact.
    pub fn fact<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM onboarding WHERE fact = ?1",
                params![name],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| from_json(&b)).transpose()
    }

    /// Replaces the synced metadata of one table.
    pub fn save_metadata(&mut self, metadata: &TableMetadata) -> Result<()> {
        let body = to_json(metadata)?;
        self.write(|tx| {
            tx.execute(
                "INSERT INTO metadata (table_name, body, synced_at) VALUES (?1, ?2, ?3)
                 ON CONFLICT(table_name) DO UPDATE SET body = ?2, synced_at = ?3",
                params![metadata.table, body, metadata.synced_at],
            )?;
            Ok(())
        })
    }

    /// The synced metadata of one table, if any.
    pub fn metadata(&self, table: &str) -> Result<Option<TableMetadata>> {
        let body: Option<String> = self
            .conn
            .query_row(
                "SELECT body FROM metadata WHERE table_name = ?1",
                params![table],
                |r| r.get(0),
            )
            .optional()?;
        body.map(|b| from_json(&b)).transpose()
    }
}

fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn from_json<T: DeserializeOwned>(body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| StoreError::Corrupt(e.to_string()))
}
