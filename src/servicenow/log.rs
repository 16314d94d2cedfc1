//! The bounded in-memory log of calls made, mirrored to tracing; it never holds a secret.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How many calls the log keeps; older ones fall off.
const CAPACITY: usize = 200;

/// One call as logged: no headers and no bodies, so no credentials.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoggedRequest {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    /// `None` when no answer came (timeout, refused connection).
    pub status: Option<u16>,
    pub elapsed_ms: u64,
    /// When the call started, UTC `YYYY-MM-DD HH:MM:SS`.
    pub at: String,
}

/// The last calls of one client.
#[derive(Debug, Default)]
pub struct RequestLog {
    entries: Mutex<VecDeque<LoggedRequest>>,
}

impl RequestLog {
    /// Records a finished call here and in the tracing log.
    pub fn record(&self, method: &str, path: &str, status: Option<u16>, elapsed: Duration) {
        let elapsed_ms = u64::try_from(elapsed.as_millis()).unwrap_or(u64::MAX);
        let at = chrono::Utc::now() - elapsed;
        tracing::info!(method, path, status, ms = elapsed_ms, "servicenow call");
        let entry = LoggedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            status,
            elapsed_ms,
            at: at.format("%Y-%m-%d %H:%M:%S").to_string(),
        };
        let mut entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() == CAPACITY {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// A copy of the kept calls, oldest first.
    pub fn snapshot(&self) -> Vec<LoggedRequest> {
        let entries = self
            .entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.iter().cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_keeps_only_the_latest_calls() {
        let log = RequestLog::default();
        for i in 0..CAPACITY + 5 {
            log.record(
                "GET",
                &format!("/api/now/table/incident?i={i}"),
                Some(200),
                Duration::ZERO,
            );
        }
        let entries = log.snapshot();
        assert_eq!(entries.len(), CAPACITY);
        assert_eq!(entries[0].path, "/api/now/table/incident?i=5");
        assert_eq!(entries[0].at.len(), "2026-01-01 00:00:00".len());
    }
}
