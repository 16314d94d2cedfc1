//! Where a key goes: an open overlay takes every key, then the screen on top, then the global
//! keys. Esc cancels the newest running task before it goes back.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::{Action, Notice};
use super::app::{App, Overlay};
use super::keymap;
use super::message::Job;
use super::screens::{Screen, configure, help, request_log};
use super::widgets::doc::Scroll;

impl App {
    /// Routes one key press.
    pub(crate) fn on_key(&mut self, key: KeyEvent) {
        if key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c') {
            self.perform(Action::Quit);
            return;
        }
        if self.too_small {
            if key.code == KeyCode::Char('q') {
                self.perform(Action::Quit);
            }
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
            let text = format!("cancelled {label}: nothing was written to the instance");
            self.notice = Some(Notice::info(text));
        } else if self.tasks.has_uninterruptible() {
            self.notice = Some(Notice::info(
                "an execution cannot be cancelled once sent; waiting for its read-back",
            ));
        } else {
            self.perform(Action::Back);
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
            Overlay::RequestLog(scroll) => request_log::on_key(key, scroll),
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
            Screen::AuditLog => self.audit_log.on_key(key),
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

    /// Puts pasted text into the input that has focus, if any.
    pub(crate) fn on_paste(&mut self, text: &str) {
        let screen = self.screen();
        match (&mut self.overlay, screen) {
            (Some(Overlay::Approve(form)), _) => form.on_paste(text),
            (Some(Overlay::Reject(form)), _) => form.on_paste(text),
            (None, Screen::Fields) => self.fields.on_paste(text),
            (None, Screen::Sample) => self.sample.on_paste(text),
            _ => {}
        }
    }
}
