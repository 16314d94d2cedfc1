//! The app: the one owner of state. Keys and messages come in here, screens get their part of
//! the state, and background work is asked for as jobs.

use std::sync::Arc;

use crossterm::event::{Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::action::{Action, Notice};
use super::jobs::{Runner, Tasks};
use super::keymap;
use super::message::{Job, Message, OverviewData, RunRow, SaveNote, SavedSettings};
use super::screens::approval::{ApprovalForm, RejectForm};
use super::screens::evidence::EvidenceView;
use super::screens::fields::FieldsForm;
use super::screens::preview::PreviewView;
use super::screens::runs::RunsView;
use super::screens::sample::SampleForm;
use super::screens::{Screen, configure, help};
use super::theme::Theme;
use super::widgets::doc::Scroll;
use crate::domain::SAMPLE_RECORD;
use crate::domain::incident::Record;
use crate::domain::metadata::TableMetadata;
use crate::domain::onboarding::{StepStatus, ValidationReport};
use crate::domain::run::{GovernedRun, RunMode, RunState};

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
}

/// A layer over the screen that takes every key while it is open.
pub enum Overlay {
    Help(Scroll),
    Approve(Box<ApprovalForm>),
    Reject(Box<RejectForm>),
    ConfirmQuit,
}

/// The whole terminal app.
pub struct App {
    pub(crate) theme: Theme,
    pub(crate) nav: Vec<Screen>,
    pub(crate) overlay: Option<Overlay>,
    pub(crate) facts: Facts,
    pub(crate) fields: FieldsForm,
    pub(crate) sample: SampleForm,
    pub(crate) preview: Option<PreviewView>,
    pub(crate) evidence: Option<EvidenceView>,
    pub(crate) runs: RunsView,
    pub(crate) scrolls: [Scroll; 5],
    pub(crate) tasks: Tasks,
    pub(crate) notice: Option<Notice>,
    pub(crate) tick: usize,
    quit: bool,
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
            theme,
            nav: vec![Screen::Overview],
            overlay: None,
            facts: Facts::default(),
            fields: FieldsForm::new(),
            sample: SampleForm::new(),
            preview: None,
            evidence: None,
            runs: RunsView::default(),
            scrolls: [Scroll::default(); 5],
            tasks: Tasks::new(runner),
            notice: None,
            tick: 0,
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

    /// Advances the spinner.
    pub fn on_tick(&mut self) {
        self.tick = self.tick.wrapping_add(1);
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
            Event::Paste(text) => self.on_paste(&text),
            _ => {}
        }
    }

    /// Applies one message from a background task.
    pub fn apply(&mut self, message: Message) {
        match message {
            Message::Data(data) => self.apply_data(*data),
            Message::Progress { task, text } => self.tasks.set_progress(task, text),
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

    fn on_key(&mut self, key: KeyEvent) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.perform(Action::Quit);
            return;
        }
        if self.overlay.is_some() {
            let action = self.overlay_key(key);
            self.perform(action);
            return;
        }
        if key.code == KeyCode::Esc {
            self.escape();
            return;
        }
        let action = match self.screen_key(key) {
            Action::Ignored => keymap::global(key),
            action => action,
        };
        self.perform(action);
    }

    /// Esc cancels the newest running task if it may be cancelled; otherwise it goes back.
    fn escape(&mut self) {
        if let Some(label) = self.tasks.cancel_newest() {
            self.notice = Some(Notice::info(format!("cancelled: {label}")));
        } else if self.tasks.has_uninterruptible() {
            self.notice = Some(Notice::info(
                "an execution cannot be cancelled once sent; waiting for its read-back",
            ));
        } else {
            self.back();
        }
    }

    fn overlay_key(&mut self, key: KeyEvent) -> Action {
        let Some(overlay) = self.overlay.as_mut() else {
            return Action::Ignored;
        };
        let action = match overlay {
            Overlay::Help(scroll) => help::on_key(key, scroll),
            Overlay::Approve(form) => form.on_key(key),
            Overlay::Reject(form) => form.on_key(key),
            Overlay::ConfirmQuit => help::on_quit_key(key),
        };
        if matches!(action, Action::Start(_)) {
            self.overlay = None;
        }
        action
    }

    fn screen_key(&mut self, key: KeyEvent) -> Action {
        match self.screen() {
            Screen::Overview if key.code == KeyCode::Enter => Action::NextMove,
            Screen::Instance | Screen::User if key.code == KeyCode::Char('v') => {
                Action::Start(Job::Validate)
            }
            Screen::Fields => self.fields.on_key(key),
            Screen::Configure => configure::on_key(key),
            Screen::Sample => self.sample.on_key(key, self.facts.is_sandbox()),
            Screen::Preview => self
                .preview
                .as_mut()
                .map_or(Action::Ignored, |p| p.on_key(key)),
            Screen::Evidence => self
                .evidence
                .as_mut()
                .map_or(Action::Ignored, |e| e.on_key(key)),
            Screen::Audit => self.audit_key(key),
            Screen::Runs => self.runs.on_key(key, &self.facts.runs),
            screen => self.text_scroll(screen).map_or(Action::Ignored, |s| {
                if s.handle_key(key) {
                    Action::Done
                } else {
                    Action::Ignored
                }
            }),
        }
    }

    fn audit_key(&mut self, key: KeyEvent) -> Action {
        let scrolled = self
            .evidence
            .as_mut()
            .is_some_and(|e| e.audit_scroll.handle_key(key));
        if scrolled {
            Action::Done
        } else {
            Action::Ignored
        }
    }

    /// The scroll position of a text-only screen.
    pub(crate) fn text_scroll(&mut self, screen: Screen) -> Option<&mut Scroll> {
        let index = match screen {
            Screen::Overview => 0,
            Screen::Instance => 1,
            Screen::User => 2,
            Screen::Configure => 3,
            Screen::Sample => 4,
            _ => return None,
        };
        self.scrolls.get_mut(index)
    }

    fn on_paste(&mut self, text: &str) {
        let screen = self.screen();
        match (&mut self.overlay, screen) {
            (Some(Overlay::Approve(form)), _) => form.on_paste(text),
            (Some(Overlay::Reject(form)), _) => form.on_paste(text),
            (None, Screen::Fields) => self.fields.on_paste(text),
            (None, Screen::Sample) => self.sample.on_paste(text),
            _ => {}
        }
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::Ignored | Action::Done => {}
            Action::Back => self.back(),
            Action::Go(screen) => self.go(screen),
            Action::NextMove => self.go(self.next_move_screen()),
            Action::Start(job) => self.start(job),
            Action::OpenApproval => self.open_approval(),
            Action::OpenReject => self.open_reject(),
            Action::GoLive => self.go_live(),
            Action::Help => self.overlay = Some(Overlay::Help(Scroll::default())),
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

    fn request_quit(&mut self) {
        let confirming = matches!(self.overlay, Some(Overlay::ConfirmQuit));
        if self.tasks.has_uninterruptible() && !confirming {
            self.overlay = Some(Overlay::ConfirmQuit);
        } else {
            self.tasks.cancel_all();
            self.quit = true;
        }
    }

    /// Goes back one screen; the overview is the bottom of the stack.
    pub fn back(&mut self) {
        if self.nav.len() > 1 {
            self.nav.pop();
        }
    }

    /// Opens a screen. Steps replace steps, so the stack stays short.
    pub fn go(&mut self, screen: Screen) {
        if !self.can_show(screen) {
            return;
        }
        if screen == Screen::Overview {
            self.nav.truncate(1);
        } else if screen != self.screen() {
            if screen.is_step() && self.screen().is_step() {
                self.nav.pop();
            }
            self.nav.push(screen);
        }
        self.entered(screen);
    }

    fn can_show(&mut self, screen: Screen) -> bool {
        let missing = match screen {
            Screen::Preview => self
                .preview
                .is_none()
                .then_some("no preview yet: run the sample (press 5)"),
            Screen::Evidence | Screen::Audit => self
                .evidence
                .is_none()
                .then_some("no run opened yet: pick one in the runs list (R)"),
            _ => None,
        };
        if let Some(text) = missing {
            self.notice = Some(Notice::info(text));
        }
        missing.is_none()
    }

    /// Shows a run screen: earlier run screens leave the stack, so Esc never shows a stale run.
    pub(crate) fn show_run_screen(&mut self, screen: Screen) {
        self.nav.retain(|s| !s.shows_run());
        self.nav.push(screen);
    }

    fn entered(&mut self, screen: Screen) {
        if !self.tasks.is_attached() {
            return;
        }
        match screen {
            Screen::Overview => self.start(Job::Refresh),
            Screen::Sample => self.start(Job::ReadRecord(SAMPLE_RECORD.to_owned())),
            Screen::Runs => self.start(Job::Runs),
            _ => {}
        }
    }

    /// The screen the next move points at, from the steps' status.
    pub fn next_move_screen(&self) -> Screen {
        let Some(overview) = self.facts.overview.as_ref().filter(|o| o.target.is_some()) else {
            return Screen::Fields;
        };
        let status = |i: usize| overview.steps.get(i).map(|s| &s.status);
        let done = |i: usize| status(i).is_some_and(StepStatus::is_done);
        let blocked = |i: usize| matches!(status(i), Some(StepStatus::Blocked(_)));
        match () {
            () if !done(0) && blocked(0) => Screen::Fields,
            () if !done(0) => Screen::Configure,
            () if !done(1) => Screen::User,
            () if blocked(2) => Screen::Fields,
            () if !done(3) => Screen::Configure,
            () if !done(4) => Screen::Sample,
            () => Screen::Runs,
        }
    }

    fn open_approval(&mut self) {
        let Some(view) = self.preview.as_ref() else {
            return;
        };
        if view.run.state != RunState::Previewed {
            let text = format!(
                "run {} is {}: only a previewed run can be approved",
                view.run.id, view.run.state
            );
            self.notice = Some(Notice::info(text));
        } else if !view.preview.approvable() {
            let text = format!("cannot be approved: {}", view.preview.posture.summary());
            self.notice = Some(Notice::error(text));
        } else {
            self.overlay = Some(Overlay::Approve(Box::new(ApprovalForm::new(
                view, self.theme,
            ))));
        }
    }

    fn open_reject(&mut self) {
        match self.preview.as_ref() {
            Some(view) if view.run.state == RunState::Previewed => {
                self.overlay = Some(Overlay::Reject(Box::new(RejectForm::new(&view.run.id))));
            }
            Some(view) => {
                let text = format!(
                    "run {} is {}: nothing to reject",
                    view.run.id, view.run.state
                );
                self.notice = Some(Notice::info(text));
            }
            None => {}
        }
    }

    fn go_live(&mut self) {
        match self.evidence.as_ref().and_then(EvidenceView::live_request) {
            Some(request) => self.start(Job::Preview(request, RunMode::Live)),
            None => self.notice = Some(Notice::error("no verified dry run to go live from")),
        }
    }
}

#[cfg(test)]
#[path = "app_tests.rs"]
mod tests;
