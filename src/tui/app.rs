//! The app: the one owner of state. Keys and messages come in here, screens get their part of
//! the state, and background work is asked for as jobs.

use std::sync::Arc;

use std::time::Instant;

use crossterm::event::{Event, KeyEventKind};

use super::action::{Action, Notice};
use super::jobs::{Runner, Tasks};
use super::message::{CredentialView, Job, Message, OverviewData, RunRow, SaveNote, SavedSettings};
use super::screens::Screen;
use super::screens::approval::{ApprovalForm, RejectForm};
use super::screens::audit_log::AuditLogView;
use super::screens::evidence::EvidenceView;
use super::screens::fields::FieldsForm;
use super::screens::preview::PreviewView;
use super::screens::runs::RunsView;
use super::screens::sample::SampleForm;
use super::theme::Theme;
use super::widgets::doc::Scroll;
use crate::domain::incident::Record;
use crate::domain::metadata::TableMetadata;
use crate::domain::onboarding::ValidationReport;
use crate::domain::run::{GovernedRun, RunMode};
use crate::servicenow::LoggedRequest;

/// What the app knows from storage and the instance.
#[derive(Debug, Default)]
pub struct Facts {
    pub overview: Option<OverviewData>,
    pub settings: Option<SavedSettings>,
    pub saved: Option<SaveNote>,
    pub validation: Option<ValidationReport>,
    pub metadata: Option<TableMetadata>,
    pub record: Option<Record>,
    pub runs: Vec<RunRow>,
    /// Where the password is kept and whether this process can read it.
    pub credential: Option<CredentialView>,
    /// The calls made to the instance so far, oldest first.
    pub request_log: Vec<LoggedRequest>,
}

impl Facts {
    /// The saved target's label, if a connector is saved.
    pub fn target_label(&self) -> Option<&str> {
        self.overview.as_ref().and_then(|o| o.target.as_deref())
    }

    /// Whether the saved target is the embedded sandbox or a PDI marked as sandbox.
    pub fn is_sandbox(&self) -> bool {
        self.overview.as_ref().is_none_or(|o| o.is_sandbox)
    }

    /// Whether a saved connector targets an instance not marked as a sandbox.
    pub fn is_production(&self) -> bool {
        self.target_label().is_some() && !self.is_sandbox()
    }
}

/// A layer over the screen that takes every key while it is open.
pub enum Overlay {
    Help(Scroll),
    Approve(Box<ApprovalForm>),
    Reject(Box<RejectForm>),
    ConfirmQuit,
    /// The calls made to the instance, newest first.
    RequestLog(Scroll),
}

/// The whole terminal app.
pub struct App {
    pub(crate) theme: Theme,
    /// Set when the last frame was too small for a layout: only quitting keys count then, so
    /// nothing typed lands in a form the operator cannot see.
    pub(crate) too_small: bool,
    pub(crate) nav: Vec<Screen>,
    pub(crate) overlay: Option<Overlay>,
    pub(crate) facts: Facts,
    pub(crate) fields: FieldsForm,
    pub(crate) sample: SampleForm,
    pub(crate) preview: Option<PreviewView>,
    pub(crate) evidence: Option<EvidenceView>,
    pub(crate) runs: RunsView,
    pub(crate) audit_log: AuditLogView,
    pub(crate) scrolls: [Scroll; 5],
    pub(crate) tasks: Tasks,
    pub(crate) notice: Option<Notice>,
    pub(crate) tick: usize,
    /// The clock a retry countdown is drawn against; the loop moves it, tests may set it.
    pub(crate) now: Instant,
    pub(crate) quit: bool,
}

impl App {
    /// An app without background work: jobs are only recorded. Screen tests use it.
    pub fn detached(theme: Theme) -> Self {
        Self::build(None, theme)
    }

    /// An app whose jobs run on `runner`; reads the stored progress at once.
    /// Must be called inside a tokio runtime.
    pub fn with_runner(runner: Arc<dyn Runner>, theme: Theme) -> Self {
        let mut app = Self::build(Some(runner), theme);
        app.start(Job::Refresh);
        app
    }

    fn build(runner: Option<Arc<dyn Runner>>, theme: Theme) -> Self {
        Self {
            too_small: false,
            theme,
            nav: vec![Screen::Overview],
            overlay: None,
            facts: Facts::default(),
            fields: FieldsForm::new(),
            sample: SampleForm::new(),
            preview: None,
            evidence: None,
            runs: RunsView::default(),
            audit_log: AuditLogView::default(),
            scrolls: [Scroll::default(); 5],
            tasks: Tasks::new(runner),
            notice: None,
            tick: 0,
            now: Instant::now(),
            quit: false,
        }
    }

    /// The screen on top.
    pub fn screen(&self) -> Screen {
        self.nav.last().copied().unwrap_or(Screen::Overview)
    }

    /// Whether the operator asked to quit (and confirmed, if a write was executing).
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// The notice line's text, if any.
    pub fn notice(&self) -> Option<&Notice> {
        self.notice.as_ref()
    }

    /// What the app knows.
    pub fn facts(&self) -> &Facts {
        &self.facts
    }

    /// The open overlay, if any.
    pub fn overlay(&self) -> Option<&Overlay> {
        self.overlay.as_ref()
    }

    /// The run on the preview screen, if any.
    pub fn previewed_run(&self) -> Option<&GovernedRun> {
        self.preview.as_ref().map(|p| &p.run)
    }

    /// The run on the evidence screen, if any.
    pub fn evidence_run(&self) -> Option<&GovernedRun> {
        self.evidence.as_ref().map(|e| &e.data.run)
    }

    /// Jobs asked for while detached.
    pub fn detached_jobs(&self) -> &[Job] {
        self.tasks.detached_jobs()
    }

    /// Whether background work is running.
    pub fn is_busy(&self) -> bool {
        !self.tasks.is_idle()
    }

    /// Advances the spinner and the clock of retry countdowns.
    pub fn on_tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
        self.now = Instant::now();
    }

    /// Draws retry countdowns as if the clock read `now` (tests use it instead of waiting).
    pub fn set_clock(&mut self, now: Instant) {
        self.now = now;
    }

    /// The mode the status bar names: the shown run's, else a dry run (every change starts so).
    pub fn mode(&self) -> RunMode {
        match self.screen() {
            Screen::Preview => self.preview.as_ref().map(|p| p.run.mode),
            Screen::Evidence | Screen::Audit => self.evidence.as_ref().map(|e| e.data.run.mode),
            _ => None,
        }
        .unwrap_or(RunMode::DryRun)
    }

    /// Handles one terminal event; the real loop and the tests both come through here.
    pub fn handle_event(&mut self, event: Event) {
        match event {
            Event::Key(key) if key.kind != KeyEventKind::Release => self.on_key(key),
            Event::Paste(text) if !self.too_small => self.on_paste(&text),
            _ => {}
        }
    }

    /// Applies one message from a background task.
    pub fn apply(&mut self, message: Message) {
        match message {
            Message::Data(data) => self.apply_data(*data),
            Message::Progress { task, text } => self.tasks.set_progress(task, text),
            Message::Remote { task, progress } => {
                self.now = Instant::now();
                self.tasks.set_remote(task, progress, self.now);
            }
            Message::Finished { task, result } => {
                let known = self.tasks.finish(task).is_some();
                match result {
                    Err(error) if known && !error.is_cancelled() => {
                        self.notice = Some(Notice::error(error.message));
                    }
                    _ => {}
                }
            }
        }
    }

    /// Applies every message that is already waiting, without blocking.
    pub fn drain(&mut self) {
        while let Some(message) = self.tasks.try_recv() {
            self.apply(message);
        }
    }

    /// Waits for the next message and applies it; `false` when no sender is left.
    pub async fn next_message(&mut self) -> bool {
        match self.tasks.recv().await {
            Some(message) => {
                self.apply(message);
                true
            }
            None => false,
        }
    }

    /// Waits until every background task has finished and its messages are applied.
    pub async fn settle(&mut self) {
        loop {
            self.drain();
            if self.tasks.is_idle() || !self.next_message().await {
                break;
            }
        }
        self.drain();
    }

    /// Does what a key asked for.
    pub(crate) fn perform(&mut self, action: Action) {
        match action {
            Action::Ignored | Action::Done => {}
            // The operator moving on clears the last notice; moves the app makes keep it, since
            // it says why ("saved …" on step 04).
            Action::Back => {
                self.notice = None;
                self.back();
            }
            Action::Go(screen) => {
                self.notice = None;
                self.go(screen);
            }
            Action::NextMove => {
                self.notice = None;
                self.go(self.next_move_screen());
            }
            Action::Start(job) => self.start(job),
            Action::OpenApproval => self.open_approval(),
            Action::OpenReject => self.open_reject(),
            Action::GoLive => self.go_live(),
            Action::Help => self.overlay = Some(Overlay::Help(Scroll::default())),
            Action::RequestLog => self.open_request_log(),
            Action::Quit => self.request_quit(),
            Action::CloseOverlay => self.overlay = None,
            Action::Notice(notice) => self.notice = Some(notice),
        }
    }

    /// Starts a job and clears the last notice so the spinner line shows its progress.
    pub(crate) fn start(&mut self, job: Job) {
        self.notice = None;
        self.tasks.start(job);
    }

    /// Opens the request log and asks for the newest calls.
    fn open_request_log(&mut self) {
        self.overlay = Some(Overlay::RequestLog(Scroll::default()));
        if self.tasks.is_attached() {
            self.tasks.start(Job::RequestLog);
        }
    }

    fn request_quit(&mut self) {
        let confirming = matches!(self.overlay, Some(Overlay::ConfirmQuit));
        if self.tasks.has_uninterruptible() && !confirming {
            self.overlay = Some(Overlay::ConfirmQuit);
        } else {
            self.tasks.cancel_all();
            self.quit = true;
        }
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
