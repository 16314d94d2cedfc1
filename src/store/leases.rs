//! Per-record execution leases: one live write per record at a time, across processes.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Result, Store, StoreError, now};

/// Who holds a record, and until when.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    pub record_key: String,
    pub run_id: String,
    pub owner: String,
    pub host: String,
    pub pid: u32,
    pub expires_at: String,
}

impl Lease {
    /// Whether the holder is gone: the lease expired, or its process on this host has exited.
    pub fn is_abandoned(&self, at: &str, this_host: &str) -> bool {
        self.expires_at.as_str() <= at || (self.host == this_host && !process_alive(self.pid))
    }
}

fn process_alive(pid: u32) -> bool {
    let proc = std::path::Path::new("/proc");
    if !proc.exists() {
        return true; // without /proc, trust the expiry alone
    }
    proc.join(pid.to_string()).exists()
}

const LEASE_COLUMNS: &str = "record_key, run_id, owner, host, pid, expires_at";

fn lease_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Lease> {
    Ok(Lease {
        record_key: r.get(0)?,
        run_id: r.get(1)?,
        owner: r.get(2)?,
        host: r.get(3)?,
        pid: r.get(4)?,
        expires_at: r.get(5)?,
    })
}

impl Store {
    /// Takes the lease of a record for a run, unless a live holder has it.
    pub fn acquire_lease(&mut self, lease: &Lease) -> Result<()> {
        let at = now();
        self.write(|tx| {
            let held = tx
                .query_row(
                    &format!("SELECT {LEASE_COLUMNS} FROM leases WHERE record_key = ?1"),
                    params![lease.record_key],
                    lease_row,
                )
                .optional()?;
            let live_holder =
                |h: &Lease| h.run_id != lease.run_id && !h.is_abandoned(&at, &lease.host);
            if let Some(held) = held.filter(live_holder) {
                return Err(StoreError::Conflict(format!(
                    "{} is being written by run {}, held by {} on {} until {} UTC: wait for it \
                     to finish",
                    held.record_key, held.run_id, held.owner, held.host, held.expires_at
                )));
            }
            tx.execute(
                "INSERT INTO leases (record_key, run_id, owner, host, pid, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT(record_key) DO UPDATE SET run_id = ?2, owner = ?3, host = ?4, pid = ?5,
                 expires_at = ?6",
                params![
                    lease.record_key,
                    lease.run_id,
                    lease.owner,
                    lease.host,
                    lease.pid,
                    lease.expires_at
                ],
            )?;
            Ok(())
        })
    }

    /// Gives a record's lease back, if this run still holds it.
    pub fn release_lease(&mut self, record_key: &str, run_id: &str) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "DELETE FROM leases WHERE record_key = ?1 AND run_id = ?2",
                params![record_key, run_id],
            )?;
            Ok(())
        })
    }

    /// The lease a run holds, if any.
    pub fn lease_of_run(&self, run_id: &str) -> Result<Option<Lease>> {
        Ok(self
            .conn
            .query_row(
                &format!("SELECT {LEASE_COLUMNS} FROM leases WHERE run_id = ?1"),
                params![run_id],
                lease_row,
            )
            .optional()?)
    }
}
