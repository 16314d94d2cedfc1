//! Moving between screens: the back stack, what each screen needs before it shows, the jobs
//! that entering a screen starts, and the next move.

use super::action::Notice;
use super::app::{App, Overlay};
use super::message::Job;
use super::screens::Screen;
use super::screens::approval::{ApprovalForm, RejectForm};
use super::screens::evidence::EvidenceView;
use crate::domain::SAMPLE_RECORD;
use crate::domain::onboarding::StepStatus;
use crate::domain::run::{RunMode, RunState};

impl App {
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

    /// Starts the reads a screen shows. They leave the notice alone: it often says why the
    /// operator arrived here ("saved …").
    fn entered(&mut self, screen: Screen) {
        if !self.tasks.is_attached() {
            return;
        }
        let jobs = match screen {
            Screen::Overview => vec![Job::Refresh],
            Screen::Fields | Screen::Configure => vec![Job::Credential],
            Screen::Sample => vec![Job::ReadRecord(SAMPLE_RECORD.to_owned())],
            Screen::Runs => vec![Job::Runs],
            Screen::AuditLog => vec![self.audit_log.reload(), Job::VerifyAudit],
            _ => Vec::new(),
        };
        for job in jobs {
            self.tasks.start(job);
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

    pub(crate) fn open_approval(&mut self) {
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

    pub(crate) fn open_reject(&mut self) {
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

    pub(crate) fn go_live(&mut self) {
        match self.evidence.as_ref().and_then(EvidenceView::live_request) {
            Some(request) => self.start(Job::Preview(request, RunMode::Live)),
            None => self.notice = Some(Notice::error("no verified dry run to go live from")),
        }
    }
}
