//! Progress of long reads, reported to an optional sink so a screen can show it.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

/// Receives progress events; it is called on the task that runs the read, so it must be quick
/// (send to a channel, store in an atomic) and must not block.
pub type ProgressSink = Arc<dyn Fn(Progress) + Send + Sync>;

/// What a read reports while it runs: pages loaded, or a wait before it is sent again.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// A page of a paged read arrived; `total` is the instance's count when it sent one.
    Loaded {
        /// What is being read, e.g. "dictionary entries of incident".
        what: String,
        /// Rows kept so far (an ACL may hide some, so this can end below `total`).
        loaded: u64,
        total: Option<u64>,
    },
    /// A read failed for a passing reason and is sent again once `wait` has passed.
    Retrying {
        /// The resource being read, e.g. "the table `sys_dictionary`".
        what: String,
        wait: Duration,
        /// The attempt that follows the wait (2 or 3).
        attempt: u32,
        /// The most attempts a read gets.
        of: u32,
        /// The kind of the error that caused the retry (`rate-limited`, `server`, `timeout`).
        reason: &'static str,
    },
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Loaded {
                what,
                loaded,
                total: Some(total),
            } => write!(f, "loaded {loaded} of {total} {what}"),
            Self::Loaded {
                what,
                loaded,
                total: None,
            } => write!(f, "loaded {loaded} {what}"),
            Self::Retrying {
                what,
                wait,
                attempt,
                of,
                ..
            } => write!(
                f,
                "retrying {what} in {} (attempt {attempt} of {of})",
                seconds(*wait)
            ),
        }
    }
}

/// Whole seconds, or tenths below one second, so a short backoff does not read "0 s".
fn seconds(wait: Duration) -> String {
    if wait >= Duration::from_secs(1) {
        format!("{} s", wait.as_secs())
    } else {
        format!("{:.1} s", wait.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_read_as_a_status_line() {
        let page = Progress::Loaded {
            what: "dictionary entries of incident".into(),
            loaded: 100,
            total: Some(230),
        };
        assert_eq!(
            page.to_string(),
            "loaded 100 of 230 dictionary entries of incident"
        );
        let retry = Progress::Retrying {
            what: "the table incident".into(),
            wait: Duration::from_secs(2),
            attempt: 2,
            of: 3,
            reason: "rate-limited",
        };
        assert_eq!(
            retry.to_string(),
            "retrying the table incident in 2 s (attempt 2 of 3)"
        );
        let short = Progress::Retrying {
            what: "the table incident".into(),
            wait: Duration::from_millis(500),
            attempt: 3,
            of: 3,
            reason: "timeout",
        };
        assert_eq!(
            short.to_string(),
            "retrying the table incident in 0.5 s (attempt 3 of 3)"
        );
    }
}
