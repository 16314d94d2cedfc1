//! App behaviour that needs a runner but no workspace: quitting and cancelling while tasks run.

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use futures::future::BoxFuture;

use super::{App, Overlay};
use crate::tui::jobs::{Outbox, Runner};
use crate::tui::message::{Job, TaskError};
use crate::tui::theme::Theme;

/// A runner whose jobs never end, as a slow instance would look.
struct Forever;

impl Runner for Forever {
    fn run(&self, _job: Job, _out: Outbox) -> BoxFuture<'static, Result<(), TaskError>> {
        Box::pin(futures::future::pending())
    }
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_event(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
}

fn execution() -> Job {
    Job::ApproveAndExecute {
        run_id: "run-1".to_owned(),
        digest: "sha256:00".to_owned(),
        reason: "test".to_owned(),
        typed_instance: None,
    }
}

#[tokio::test]
async fn quitting_while_a_write_executes_asks_first() {
    let mut app = App::with_runner(Arc::new(Forever), Theme::plain());
    app.start(execution());
    press(&mut app, KeyCode::Char('q'));
    assert!(matches!(app.overlay(), Some(Overlay::ConfirmQuit)));
    assert!(!app.should_quit());
    press(&mut app, KeyCode::Char('n'));
    assert!(app.overlay().is_none() && !app.should_quit());
    press(&mut app, KeyCode::Char('q'));
    press(&mut app, KeyCode::Char('y'));
    assert!(app.should_quit());
}

#[tokio::test]
async fn esc_cancels_what_may_be_cancelled_and_never_an_execution() {
    let mut app = App::with_runner(Arc::new(Forever), Theme::plain());
    app.start(execution());
    app.start(Job::Validate);
    press(&mut app, KeyCode::Esc);
    assert!(app.notice().is_some_and(|n| {
        n.text.starts_with("cancelled validating") && n.text.contains("nothing was written")
    }));
    press(&mut app, KeyCode::Esc);
    assert!(
        app.notice()
            .is_some_and(|n| n.text.contains("cannot be cancelled"))
    );
    assert!(app.is_busy(), "the execution keeps running");
}

#[tokio::test]
async fn esc_passes_over_a_quick_local_read_and_goes_back() {
    let mut app = App::with_runner(Arc::new(Forever), Theme::plain());
    press(&mut app, KeyCode::Char('R'));
    assert_eq!(app.screen(), crate::tui::screens::Screen::Runs);
    press(&mut app, KeyCode::Esc);
    assert_eq!(app.screen(), crate::tui::screens::Screen::Overview);
    assert!(app.notice().is_none(), "{:?}", app.notice());
}

#[tokio::test]
async fn quitting_without_an_execution_needs_no_confirmation() {
    let mut app = App::with_runner(Arc::new(Forever), Theme::plain());
    press(&mut app, KeyCode::Char('q'));
    assert!(app.should_quit(), "a pending read may be dropped on quit");
}
