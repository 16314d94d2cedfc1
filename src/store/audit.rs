//! The audit chain: events that are only ever appended, each hashing the one before it.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Transaction, params};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Result, Store, now};
use crate::domain::run::RunState;

/// The hash that stands before the first event.
const GENESIS: &str = "genesis";

/// An event to append.
#[derive(Clone, Debug)]
pub struct NewAuditEvent {
    pub run_id: Option<String>,
    pub kind: String,
    pub actor: String,
    pub detail: serde_json::Value,
}

impl NewAuditEvent {
    pub fn new(run_id: Option<&str>, kind: &str, actor: &str, detail: serde_json::Value) -> Self {
        Self {
            run_id: run_id.map(str::to_owned),
            kind: kind.to_owned(),
            actor: actor.to_owned(),
            detail,
        }
    }
}

/// One stored audit event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    pub seq: i64,
    pub at: String,
    pub run_id: Option<String>,
    pub kind: String,
    pub actor: String,
    pub detail: serde_json::Value,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of walking the chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainReport {
    pub events: u64,
    pub head: String,
    /// The first event whose content, link or position does not match, in words.
    pub first_bad: Option<String>,
}

fn event_hash(
    prev: &str,
    seq: i64,
    at: &str,
    run_id: Option<&str>,
    kind: &str,
    actor: &str,
    detail: &str,
) -> String {
    let canonical = serde_json::json!([prev, seq, at, run_id, kind, actor, detail]).to_string();
    hex::encode(Sha256::digest(canonical.as_bytes()))
}

/// Appends an event inside an open write transaction, linking it to the current head.
pub(super) fn append(tx: &Transaction<'_>, event: &NewAuditEvent) -> Result<AuditEvent> {
    let head: Option<(i64, String)> = tx
        .query_row(
            "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let (seq, prev_hash) = head.map_or((1, GENESIS.to_owned()), |(s, h)| (s + 1, h));
    let at = now();
    let detail = event.detail.to_string();
    let hash = event_hash(
        &prev_hash,
        seq,
        &at,
        event.run_id.as_deref(),
        &event.kind,
        &event.actor,
        &detail,
    );
    tx.execute(
        "INSERT INTO audit_events (seq, at, run_id, kind, actor, detail, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![
            seq,
            at,
            event.run_id,
            event.kind,
            event.actor,
            detail,
            prev_hash,
            hash
        ],
    )?;
    Ok(AuditEvent {
        seq,
        at,
        run_id: event.run_id.clone(),
        kind: event.kind.clone(),
        actor: event.actor.clone(),
        detail: event.detail.clone(),
        prev_hash,
        hash,
    })
}

type RawEvent = (
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
);

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawEvent> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
    ))
}

fn to_event(raw: RawEvent) -> AuditEvent {
    let (seq, at, run_id, kind, actor, detail, prev_hash, hash) = raw;
    let detail = serde_json::from_str(&detail).unwrap_or(serde_json::Value::String(detail));
    AuditEvent {
        seq,
        at,
        run_id,
        kind,
        actor,
        detail,
        prev_hash,
        hash,
    }
}

const COLUMNS: &str = "seq, at, run_id, kind, actor, detail, prev_hash, hash";

impl Store {
    /// Appends one audit event in its own transaction.
    pub fn append_audit(&mut self, event: &NewAuditEvent) -> Result<AuditEvent> {
        self.write(|tx| append(tx, event))
    }

    /// The audit events of one run, or of all runs, oldest first.
    pub fn audit(&self, run_id: Option<&str>) -> Result<Vec<AuditEvent>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM audit_events WHERE ?1 IS NULL OR run_id = ?1 ORDER BY seq"
        ))?;
        let rows = stmt.query_map(params![run_id], raw_row)?;
        Ok(rows
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(to_event)
            .collect())
    }

    /// One page of the audit list, newest first, without loading the rest: sequence numbers
    /// have no gaps in an intact chain, so the page is found through the key, not by counting.
    pub fn audit_page(&self, offset: u64, limit: u64) -> Result<Vec<AuditEvent>> {
        let mut stmt = self.conn.prepare(&format!(
            "SELECT {COLUMNS} FROM audit_events
             WHERE seq <= (SELECT max(seq) FROM audit_events) - ?2
             ORDER BY seq DESC LIMIT ?1"
        ))?;
        let rows = stmt.query_map(params![limit, offset], raw_row)?;
        Ok(rows
            .collect::<rusqlite::Result<Vec<_>>>()?
            .into_iter()
            .map(to_event)
            .collect())
    }

    /// How many audit events there are.
    pub fn audit_count(&self) -> Result<u64> {
        Ok(self
            .conn
            .query_row("SELECT count(*) FROM audit_events", [], |r| r.get(0))?)
    }

    /// Checks the run and artifact tables against the chain: each artifact's hash must match
    /// its `artifact.stored` event, and each run's state its latest state event.
    fn records_mismatch(&self) -> Result<Option<String>> {
        let mut stored: HashMap<i64, String> = HashMap::new();
        let mut states: HashMap<String, String> = HashMap::new();
        for event in self.audit(None)? {
            let run = event.run_id.clone().unwrap_or_default();
            if event.kind == "artifact.stored" {
                let id = event.detail["artifact"].as_i64().unwrap_or_default();
                stored.insert(
                    id,
                    event.detail["sha256"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                );
            } else if let Some(state) = event
                .kind
                .strip_prefix("run.")
                .filter(|s| RunState::parse(s).is_some())
            {
                states.insert(run, state.to_owned());
            }
        }
        let mut stmt = self
            .conn
            .prepare("SELECT id, run_id, kind, body FROM artifacts ORDER BY id")?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let (id, run, kind, body): (i64, String, String, String) =
                (row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?);
            if stored.get(&id) != Some(&super::runs::body_hash(&body)) {
                return Ok(Some(format!(
                    "artifact {id} ({kind}) of run {run} was altered or added outside the app"
                )));
            }
        }
        for run in self.runs()? {
            let audited = states.get(&run.id).map(String::as_str);
            if audited != Some(run.state.as_str()) {
                return Ok(Some(format!(
                    "run {} says {} but its audit trail says {}",
                    run.id,
                    run.state,
                    audited.unwrap_or("nothing")
                )));
            }
        }
        Ok(None)
    }

    /// Walks the whole chain, recomputing every hash, and names the first event that breaks it.
    pub fn verify_audit(&self) -> Result<ChainReport> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM audit_events ORDER BY seq"))?;
        let mut rows = stmt.query([])?;
        let (mut expected_prev, mut expected_seq, mut count) = (GENESIS.to_owned(), 1_i64, 0_u64);
        while let Some(row) = rows.next()? {
            let (seq, at, run_id, kind, actor, detail, prev_hash, hash) = raw_row(row)?;
            let problem = if seq != expected_seq {
                Some(format!(
                    "event {expected_seq} is missing or out of order (found {seq} in its place)"
                ))
            } else if prev_hash != expected_prev {
                Some(format!(
                    "event {seq} ({kind}) does not link to the event before it"
                ))
            } else if hash
                != event_hash(
                    &prev_hash,
                    seq,
                    &at,
                    run_id.as_deref(),
                    &kind,
                    &actor,
                    &detail,
                )
            {
                Some(format!(
                    "event {seq} ({kind}) was altered after it was written"
                ))
            } else {
                None
            };
            if problem.is_some() {
                return Ok(ChainReport {
                    events: count,
                    head: expected_prev,
                    first_bad: problem,
                });
            }
            count += 1;
            expected_seq += 1;
            expected_prev = hash;
        }
        let recorded: Option<(i64, String)> = self
            .conn
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let last = expected_seq - 1;
        let first_bad = match recorded {
            Some((seq, _)) if seq > last => Some(format!(
                "event {} is missing: the chain ends at {last} but had reached {seq}",
                last + 1
            )),
            Some((seq, hash)) if seq == last && hash != expected_prev => Some(format!(
                "event {seq} does not match the recorded head of the chain"
            )),
            _ => self.records_mismatch()?,
        };
        Ok(ChainReport {
            events: count,
            head: expected_prev,
            first_bad,
        })
    }
}
