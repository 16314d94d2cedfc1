//! The preview screen: the scrollable preview document of one run, and its approve / reject
//! keys. Plain Enter never approves.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::preview_doc;
use crate::domain::preview::Preview;
use crate::domain::run::{Approval, GovernedRun, RunState};
use crate::tui::action::{Action, Notice};
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};

/// One previewed run, its document and where it is scrolled to.
pub struct PreviewView {
    pub run: GovernedRun,
    pub preview: Preview,
    pub approval: Option<Approval>,
    doc: Doc,
    pub scroll: Scroll,
}

impl PreviewView {
    /// Builds the document once; later frames only scroll it.
    pub fn new(run: GovernedRun, preview: Preview, theme: Theme) -> Self {
        let doc = preview_doc::build(&run, &preview, theme);
        Self {
            run,
            preview,
            approval: None,
            doc,
            scroll: Scroll::default(),
        }
    }

    /// The run moved on (approved, rejected, executed): rebuild the header.
    pub fn update_run(&mut self, run: GovernedRun, theme: Theme) {
        if run.id == self.run.id {
            self.run = run;
            self.doc = preview_doc::build(&self.run, &self.preview, theme);
        }
    }

    /// Whether the run can be approved now.
    pub fn approvable(&self) -> bool {
        self.run.state == RunState::Previewed && self.preview.approvable()
    }

    /// Handles the screen's keys.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return Action::Ignored;
        }
        match key.code {
            KeyCode::Char('a') => Action::OpenApproval,
            KeyCode::Char('r') => Action::OpenReject,
            KeyCode::Enter => Action::Notice(Notice::info(
                "Enter does not approve: press a, give a reason and type the record number",
            )),
            _ if self.scroll.handle_key(key) => Action::Done,
            _ => Action::Ignored,
        }
    }

    /// Draws the visible part of the document and a position line.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, theme: Theme) {
        if area.height < 2 {
            self.doc.render(area, buf, &mut self.scroll);
            return;
        }
        let body = Rect {
            height: area.height - 1,
            ..area
        };
        self.doc.render(body, buf, &mut self.scroll);
        let more = if self.scroll.has_more() {
            " · more below (↓ PgDn)"
        } else {
            ""
        };
        let what = if self.approvable() {
            "a approves (reason + typed number) · r rejects"
        } else {
            "no approval pending for this run"
        };
        let line = Line::from(vec![
            Span::styled(format!("{}{more} · ", self.scroll.position()), theme.dim()),
            Span::styled(what, theme.key()),
        ]);
        buf.set_line(area.x, area.y + area.height - 1, &line, area.width);
    }
}
