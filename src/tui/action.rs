//! What a key asks the app to do, and the notices it shows; screens return these instead of
//! touching state they do not own.

use super::message::Job;
use super::screens::Screen;

/// The outcome of a key on a screen or an overlay.
#[derive(Debug)]
pub enum Action {
    /// The key is not the screen's; global keys get a chance.
    Ignored,
    /// The key was used up; nothing else to do.
    Done,
    Back,
    Go(Screen),
    /// Go where the overview's next move points.
    NextMove,
    Start(Job),
    OpenApproval,
    OpenReject,
    /// Preview the change of the shown run again, live.
    GoLive,
    Help,
    /// Open the list of calls made to the instance.
    RequestLog,
    Quit,
    CloseOverlay,
    Notice(Notice),
}

/// How loud a notice is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Info,
    Error,
}

/// A one-line message above the status bar: what just happened, or what went wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub level: Level,
    pub text: String,
}

impl Notice {
    /// A notice about something that went as planned.
    pub fn info(text: impl Into<String>) -> Self {
        Self {
            level: Level::Info,
            text: text.into(),
        }
    }

    /// A notice about something that failed, with what to do next.
    pub fn error(text: impl Into<String>) -> Self {
        Self {
            level: Level::Error,
            text: text.into(),
        }
    }
}
