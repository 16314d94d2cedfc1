//! The governed run: its mode, its states, and the transitions between them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Dry runs simulate; live runs write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunMode {
    DryRun,
    Live,
}

impl RunMode {
    /// The mode in words, as the status bar shows it.
    pub fn banner(self) -> &'static str {
        match self {
            Self::DryRun => "DRY RUN",
            Self::Live => "LIVE",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DryRun => "dry-run",
            Self::Live => "live",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "dry-run" => Some(Self::DryRun),
            "live" => Some(Self::Live),
            _ => None,
        }
    }
}

/// Where a run stands. Every state is stored before the app moves on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RunState {
    Draft,
    Previewed,
    Approved,
    Rejected,
    Executing,
    Verified,
    Diverged,
    Failed,
    Stale,
    RolledBack,
}

impl RunState {
    pub const ALL: [Self; 10] = [
        Self::Draft,
        Self::Previewed,
        Self::Approved,
        Self::Rejected,
        Self::Executing,
        Self::Verified,
        Self::Diverged,
        Self::Failed,
        Self::Stale,
        Self::RolledBack,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Previewed => "previewed",
            Self::Approved => "approved",
            Self::Rejected => "rejected",
            Self::Executing => "executing",
            Self::Verified => "verified",
            Self::Diverged => "diverged",
            Self::Failed => "failed",
            Self::Stale => "stale",
            Self::RolledBack => "rolled-back",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// A finished run never moves again.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Self::Rejected
                | Self::Verified
                | Self::Diverged
                | Self::Failed
                | Self::Stale
                | Self::RolledBack
        )
    }

    /// Whether the state machine allows moving from `self` to `next`.
    pub fn can_move_to(self, next: Self) -> bool {
        use RunState::{
            Approved, Diverged, Draft, Executing, Failed, Previewed, Rejected, RolledBack, Stale,
            Verified,
        };
        matches!(
            (self, next),
            (Draft, Previewed | Failed)
                | (Previewed, Approved | Rejected | Stale)
                | (Approved, Executing | Stale | Failed)
                | (Executing, Verified | Diverged | Failed | Stale)
                | (Verified | Diverged, RolledBack)
        )
    }
}

impl fmt::Display for RunState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A transition the state machine does not allow.
#[derive(Debug, thiserror::Error)]
#[error("run {run_id} is {from} and cannot become {to}")]
pub struct BadTransition {
    pub run_id: String,
    pub from: RunState,
    pub to: RunState,
}

/// One governed run as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GovernedRun {
    pub id: String,
    pub action: String,
    pub mode: RunMode,
    pub state: RunState,
    pub target: String,
    pub number: String,
    pub digest: String,
    pub created_at: String,
    pub updated_at: String,
    /// The run this one continues (a live run names its dry run; a rollback its forward run).
    pub parent_id: Option<String>,
    pub outcome: Option<String>,
}

/// Who approved what, when and why; binds to one preview digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approval {
    pub run_id: String,
    pub digest: String,
    pub approver: String,
    pub host: String,
    pub over_ssh: bool,
    pub reason: String,
    pub approved_at: String,
}

impl Approval {
    /// The identity of the person at this terminal: OS user, host, and whether over SSH.
    pub fn identity() -> (String, String, bool) {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .ok()
            .filter(|u| !u.is_empty())
            .or_else(user_of_this_process)
            .unwrap_or_else(|| "unknown".to_owned());
        let host = gethostname::gethostname().to_string_lossy().into_owned();
        let ssh =
            std::env::var_os("SSH_CONNECTION").is_some() || std::env::var_os("SSH_TTY").is_some();
        (user, host, ssh)
    }
}

/// The login name of this process's user from `/proc` and `/etc/passwd`, when `USER` is unset
/// (cron, `su -c`, containers).
fn user_of_this_process() -> Option<String> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let uid = status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .next()?
        .to_owned();
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        (fields.get(2) == Some(&uid.as_str())).then(|| fields[0].to_owned())
    })
}

/// The word a person types to approve a live write (a dry run takes `dry-run`).
pub fn confirmation_word(mode: RunMode) -> &'static str {
    match mode {
        RunMode::DryRun => "dry-run",
        RunMode::Live => "close",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finished_runs_never_move() {
        for from in RunState::ALL
            .into_iter()
            .filter(|s| s.is_final() && *s != RunState::Verified)
        {
            for to in RunState::ALL {
                if from == RunState::Diverged && to == RunState::RolledBack {
                    continue;
                }
                assert!(!from.can_move_to(to), "{from} -> {to}");
            }
        }
    }

    #[test]
    fn a_run_cannot_execute_without_approval() {
        assert!(!RunState::Previewed.can_move_to(RunState::Executing));
        assert!(RunState::Approved.can_move_to(RunState::Executing));
    }

    #[test]
    fn states_round_trip_through_their_names() {
        for s in RunState::ALL {
            assert_eq!(RunState::parse(s.as_str()), Some(s));
        }
    }
}
