//! Drawing the app: the frame, the screen on top, the notice line, the status bar, overlays.
//! Rendering reads state only; it never waits on I/O.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::action::Level;
use super::app::{App, Overlay};
use super::keymap::{self, HintContext};
use super::screens::evidence::EvidenceView;
use super::screens::preview::PreviewView;
use super::screens::{self, Screen, configure, help, instance, overview, request_log, user};
use super::widgets::doc::Doc;
use super::widgets::sanitize::one_line;
use super::widgets::spinner;
use super::widgets::status_bar::StatusBar;
use crate::domain::run::RunMode;

impl App {
    /// Draws the whole app into a frame.
    pub fn render(&mut self, frame: &mut ratatui::Frame<'_>) {
        let area = frame.area();
        self.render_area(area, frame.buffer_mut());
    }

    /// Draws the whole app into an area of a buffer (any size, down to 0x0).
    pub fn render_area(&mut self, area: Rect, buf: &mut Buffer) {
        self.too_small = !screens::fits(area);
        if self.too_small {
            screens::render_too_small(area, buf, self.theme);
            return;
        }
        // A long notice may take a few rows, never more than a sixth of the screen.
        let mut notice = self.notice_lines(area.width);
        notice.truncate(usize::from(area.height / 6).clamp(2, 3));
        let rows = u16::try_from(notice.len().max(1)).unwrap_or(1);
        let frame = screens::Frame::split(area, rows);
        screens::render_header(frame.header, buf, self.screen(), self.theme);
        self.render_body(frame.body, buf);
        for (y, line) in (frame.notice.y..).zip(&notice) {
            buf.set_line(frame.notice.x, y, line, frame.notice.width);
        }
        self.render_status(frame.status, buf);
        self.render_overlay(area, buf);
    }

    fn render_body(&mut self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let screen = self.screen();
        let mut scroll = self.text_scroll(screen).copied().unwrap_or_default();
        match screen {
            Screen::Overview => overview::render(area, buf, &self.facts, &mut scroll, theme),
            Screen::Instance => instance::render(area, buf, &self.facts, &mut scroll, theme),
            Screen::User => user::render(area, buf, &self.facts, &mut scroll, theme),
            Screen::Fields => self.fields.render(area, buf, &self.facts, theme),
            Screen::Configure => configure::render(area, buf, &self.facts, &mut scroll, theme),
            Screen::Sample => self.sample.render(area, buf, &self.facts, theme),
            Screen::Preview => {
                if let Some(view) = self.preview.as_mut() {
                    view.render(area, buf, theme);
                }
            }
            Screen::Evidence => {
                if let Some(view) = self.evidence.as_mut() {
                    view.render(area, buf);
                }
            }
            Screen::Audit => {
                if let Some(view) = self.evidence.as_mut() {
                    screens::audit::render(area, buf, &mut view.audit_doc, &mut view.audit_scroll);
                }
            }
            Screen::AuditLog => self.audit_log.render(area, buf, theme),
            Screen::Runs => self.runs.render(area, buf, &self.facts.runs, theme),
        }
        if let Some(stored) = self.text_scroll(screen) {
            *stored = scroll;
        }
    }

    /// The rows above the status bar: a spinner with what runs (and, under it, how far its
    /// reads are), else the last notice, wrapped.
    fn notice_lines(&self, width: u16) -> Vec<Line<'static>> {
        let theme = self.theme;
        if let Some(task) = self.tasks.newest() {
            let cancel = match (task.cancellable, task.quick) {
                (_, true) => "",
                (true, false) => " (Esc cancels)",
                (false, false) => " (cannot be cancelled)",
            };
            let mut lines = vec![Line::from(vec![
                Span::styled(format!(" {} ", spinner(self.tick)), theme.key()),
                Span::raw(format!("{}…", one_line(&task.label))),
                Span::styled(cancel, theme.dim()),
            ])];
            if let Some(remote) = &task.remote {
                lines.push(Line::from(vec![
                    Span::raw("   "),
                    Span::styled(one_line(&remote.line(self.now)), theme.info()),
                ]));
            }
            return lines;
        }
        let Some(notice) = &self.notice else {
            return Vec::new();
        };
        let (mark, style) = match notice.level {
            Level::Error => (" ✗ ", theme.error()),
            Level::Info => (" · ", theme.info()),
        };
        let mut doc = Doc::new();
        doc.push_hanging(
            3,
            Line::styled(format!("{mark}{}", one_line(&notice.text)), style),
        );
        doc.wrapped(width).to_vec()
    }

    fn render_status(&self, area: Rect, buf: &mut Buffer) {
        let mode = self.mode();
        let hints = keymap::hints(self.screen(), self.hint_context());
        let target = self.facts.target_label().unwrap_or("no connector");
        let bar = StatusBar {
            target,
            mode: mode.banner(),
            live: mode == RunMode::Live,
            production: self.shows_production(),
            hints: &hints,
            theme: self.theme,
        };
        ratatui::widgets::Widget::render(&bar, area, buf);
    }

    /// Whether the target in view is not a sandbox: the saved one, or the shown preview's.
    fn shows_production(&self) -> bool {
        match self.screen() {
            Screen::Preview => self.preview.as_ref().is_some_and(|p| !p.preview.is_sandbox),
            _ => self.facts.is_production(),
        }
    }

    fn hint_context(&self) -> HintContext {
        let typing = match self.screen() {
            Screen::Fields => self.fields.typing(),
            Screen::Sample => self.sample.typing(),
            _ => false,
        };
        HintContext {
            typing,
            live_offered: self
                .evidence
                .as_ref()
                .is_some_and(EvidenceView::live_offered),
            rollback_offered: self
                .evidence
                .as_ref()
                .is_some_and(EvidenceView::rollback_offered),
            approvable: !self.is_busy()
                && self.preview.as_ref().is_some_and(PreviewView::approvable),
            demo_fill: self.fields.targets_sandbox(),
        }
    }

    fn render_overlay(&mut self, area: Rect, buf: &mut Buffer) {
        let theme = self.theme;
        let screen = self.screen();
        match self.overlay.as_mut() {
            Some(Overlay::Help(scroll)) => help::render(area, buf, screen, scroll, theme),
            Some(Overlay::Approve(form)) => form.render(area, buf, theme),
            Some(Overlay::Reject(form)) => form.render(area, buf, theme),
            Some(Overlay::ConfirmQuit) => help::render_quit(area, buf, theme),
            Some(Overlay::RequestLog(scroll)) => {
                request_log::render(area, buf, &self.facts.request_log, scroll, theme);
            }
            None => {}
        }
    }
}
