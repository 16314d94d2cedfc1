//! The sandbox state file: connections, the record store, credentials and snapshots.
//!
//! Every instance table lives in one `SQLite` table of JSON records, so queries, dot-walks and
//! display values run in Rust over a snapshot. The file is shared with a standalone
//! `actionplane sandbox serve` process: every connection sets WAL and a busy timeout, and every
//! write runs in an IMMEDIATE transaction.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::Context as _;
use rusqlite::{Connection, OptionalExtension as _, Transaction, TransactionBehavior, params};
use sha2::{Digest as _, Sha256};

use super::seed;

/// A record: every field as the raw string the Table API sends.
pub(crate) type Record = BTreeMap<String, String>;

/// Bumped whenever the layout or the seed story changes, so old files are re-seeded.
const SEED_VERSION: i64 = 2;

const CREATE: &str = "
    DROP TABLE IF EXISTS record;
    DROP TABLE IF EXISTS credential;
    DROP TABLE IF EXISTS oauth_secret;
    CREATE TABLE record (
        seq INTEGER PRIMARY KEY,
        tbl TEXT NOT NULL,
        sys_id TEXT NOT NULL,
        body TEXT NOT NULL,
        UNIQUE (tbl, sys_id)
    );
    CREATE TABLE credential (
        user_name TEXT PRIMARY KEY,
        salt TEXT NOT NULL,
        password_sha256 TEXT NOT NULL
    );
    CREATE TABLE oauth_secret (
        client_id TEXT PRIMARY KEY,
        salt TEXT NOT NULL,
        secret_sha256 TEXT NOT NULL
    );";

/// Opens the state file with the settings every connection needs.
pub(crate) fn open(path: &Path) -> anyhow::Result<Connection> {
    let conn = Connection::open(path)
        .with_context(|| format!("cannot open the sandbox state file {}", path.display()))?;
    conn.busy_timeout(Duration::from_secs(5))?;
    let _mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |row| row.get(0))?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    Ok(conn)
}

/// Creates and seeds the state file unless it already holds the current seed version.
pub(crate) fn ensure_seeded(path: &Path) -> anyhow::Result<()> {
    let mut conn = open(path)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let version: i64 = tx.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if version != SEED_VERSION {
        write_seed(&tx)?;
    }
    tx.commit()?;
    Ok(())
}

/// Drops every table and writes the seed story again, in one transaction.
pub(crate) fn reseed(path: &Path) -> anyhow::Result<()> {
    let mut conn = open(path)?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    write_seed(&tx)?;
    tx.commit()?;
    Ok(())
}

fn write_seed(tx: &Transaction<'_>) -> anyhow::Result<()> {
    tx.execute_batch(CREATE)?;
    let story = seed::story()?;
    for (table, record) in &story.records {
        insert(tx, table, record)?;
    }
    for (user_name, password) in story.passwords {
        store_password(tx, user_name, password)?;
    }
    for (client_id, secret) in story.client_secrets {
        store_client_secret(tx, client_id, secret)?;
    }
    tx.pragma_update(None, "user_version", SEED_VERSION)?;
    Ok(())
}

/// Adds one record to a table.
pub(crate) fn insert(conn: &Connection, table: &str, record: &Record) -> anyhow::Result<()> {
    let sys_id = record.get("sys_id").map_or("", String::as_str);
    conn.execute(
        "INSERT INTO record (tbl, sys_id, body) VALUES (?1, ?2, ?3)",
        params![table, sys_id, serde_json::to_string(record)?],
    )?;
    Ok(())
}

/// Replaces the stored body of one record.
pub(crate) fn update(conn: &Connection, table: &str, record: &Record) -> anyhow::Result<()> {
    let sys_id = record.get("sys_id").map_or("", String::as_str);
    conn.execute(
        "UPDATE record SET body = ?3 WHERE tbl = ?1 AND sys_id = ?2",
        params![table, sys_id, serde_json::to_string(record)?],
    )?;
    Ok(())
}

fn store_password(conn: &Connection, user_name: &str, password: &str) -> anyhow::Result<()> {
    let salt = hex::encode(rand::random::<[u8; 16]>());
    conn.execute(
        "INSERT INTO credential (user_name, salt, password_sha256) VALUES (?1, ?2, ?3)",
        params![user_name, salt, hash_password(&salt, password)],
    )?;
    Ok(())
}

fn store_client_secret(conn: &Connection, client_id: &str, secret: &str) -> anyhow::Result<()> {
    let salt = hex::encode(rand::random::<[u8; 16]>());
    conn.execute(
        "INSERT INTO oauth_secret (client_id, salt, secret_sha256) VALUES (?1, ?2, ?3)",
        params![client_id, salt, hash_password(&salt, secret)],
    )?;
    Ok(())
}

/// Whether the secret matches the stored hash of the OAuth client; unknown clients never match.
pub(crate) fn client_secret_matches(
    conn: &Connection,
    client_id: &str,
    secret: &str,
) -> anyhow::Result<bool> {
    let stored: Option<(String, String)> = conn
        .query_row(
            "SELECT salt, secret_sha256 FROM oauth_secret WHERE client_id = ?1",
            [client_id],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(stored.is_some_and(|(salt, hash)| hash_password(&salt, secret) == hash))
}

fn hash_password(salt: &str, password: &str) -> String {
    hex::encode(Sha256::digest(format!("{salt}:{password}")))
}

/// Whether the password matches the stored hash of the user; unknown users never match.
pub(crate) fn password_matches(
    conn: &Connection,
    user_name: &str,
    password: &str,
) -> anyhow::Result<bool> {
    let stored: Option<(String, String)> = conn
        .query_row(
            "SELECT salt, password_sha256 FROM credential WHERE user_name = ?1",
            [user_name],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(stored.is_some_and(|(salt, hash)| hash_password(&salt, password) == hash))
}

/// The records of some (or all) tables, read in one go, in insertion order.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    tables: HashMap<String, Vec<Record>>,
}

impl Snapshot {
    /// Reads the named tables, or every table when `tables` is empty.
    pub fn load(conn: &Connection, tables: &[&str]) -> anyhow::Result<Self> {
        let mut statement = conn.prepare("SELECT tbl, body FROM record ORDER BY seq")?;
        let mut rows = statement.query([])?;
        let mut snapshot = Self::default();
        while let Some(row) = rows.next()? {
            let table: String = row.get(0)?;
            if !tables.is_empty() && !tables.contains(&table.as_str()) {
                continue;
            }
            let body: String = row.get(1)?;
            let record: Record = serde_json::from_str(&body)?;
            snapshot.tables.entry(table).or_default().push(record);
        }
        Ok(snapshot)
    }

    /// A snapshot of given records, for tests of the rules without a state file.
    #[cfg(test)]
    pub fn from_records(records: Vec<(String, Record)>) -> Self {
        let mut snapshot = Self::default();
        for (table, record) in records {
            snapshot.tables.entry(table).or_default().push(record);
        }
        snapshot
    }

    /// All records of a table, in insertion order.
    pub fn rows(&self, table: &str) -> &[Record] {
        self.tables.get(table).map_or(&[], Vec::as_slice)
    }

    /// Mutable access for views that reshape stored rows (fault switches).
    pub fn rows_mut(&mut self, table: &str) -> Option<&mut Vec<Record>> {
        self.tables.get_mut(table)
    }

    /// The first record of a table whose field equals a value.
    pub fn find_by(&self, table: &str, field: &str, value: &str) -> Option<&Record> {
        self.rows(table)
            .iter()
            .find(|r| r.get(field).is_some_and(|v| v == value))
    }

    pub fn find(&self, table: &str, sys_id: &str) -> Option<&Record> {
        self.find_by(table, "sys_id", sys_id)
    }

    /// Keeps a written record in the snapshot so the response reflects it.
    pub fn put(&mut self, table: &str, record: Record) {
        let rows = self.tables.entry(table.to_owned()).or_default();
        match rows
            .iter_mut()
            .find(|r| r.get("sys_id") == record.get("sys_id"))
        {
            Some(existing) => *existing = record,
            None => rows.push(record),
        }
    }
}
