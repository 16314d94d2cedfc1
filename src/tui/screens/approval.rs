//! The approval modal (a reason, the typed record number, and for a live write to production
//! the typed instance name) and the reject modal.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::domain::connector::InstanceTarget;
use crate::domain::preview::Preview;
use crate::domain::run::{Approval, RunMode};
use crate::tui::action::Action;
use crate::tui::message::Job;
use crate::tui::screens::preview::PreviewView;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::one_line;
use crate::tui::widgets::text_input::TextInput;
use crate::tui::widgets::{centered, hint_spans};

/// One input of the modal: what it asks, and what must be typed (if anything exact).
struct Field {
    label: String,
    input: TextInput,
    expected: Option<String>,
}

/// The approval modal of one previewed run.
pub struct ApprovalForm {
    run_id: String,
    digest: String,
    title: String,
    facts: Vec<Line<'static>>,
    fields: Vec<Field>,
    focus: usize,
    error: Option<String>,
}

impl ApprovalForm {
    /// A modal for the run on the preview screen.
    pub fn new(view: &PreviewView, theme: Theme) -> Self {
        let preview = &view.preview;
        let mut fields = vec![
            Field {
                label: "Reason (stored with the approval)".to_owned(),
                input: TextInput::single(""),
                expected: None,
            },
            Field {
                label: format!("Type {} to confirm", one_line(&preview.number)),
                input: TextInput::single(""),
                expected: Some(preview.number.clone()),
            },
        ];
        if let Some(why) = typed_name_needed(preview).filter(|_| view.run.mode == RunMode::Live) {
            let name = target_of(preview).instance_name();
            fields.push(Field {
                label: format!("{why}: type the instance name {}", one_line(&name)),
                input: TextInput::single(""),
                expected: Some(name),
            });
        }
        let mut form = Self {
            run_id: view.run.id.clone(),
            digest: view.run.digest.clone(),
            title: format!(
                " Approve {} of {} ",
                view.run.mode.banner(),
                view.run.action
            ),
            facts: facts(view, theme),
            fields,
            focus: 0,
            error: None,
        };
        form.refocus();
        form
    }

    /// Handles a key inside the modal; the app sees none of them.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        match key.code {
            KeyCode::Esc => Action::CloseOverlay,
            KeyCode::Tab | KeyCode::Down => self.move_focus(1),
            KeyCode::BackTab | KeyCode::Up => self.move_focus(self.fields.len() - 1),
            KeyCode::Enter if self.focus + 1 < self.fields.len() => self.move_focus(1),
            KeyCode::Enter => self.submit(),
            _ => {
                self.fields[self.focus].input.handle_key(key);
                Action::Done
            }
        }
    }

    /// Pastes into the focused input.
    pub fn on_paste(&mut self, text: &str) {
        self.fields[self.focus].input.paste(text);
    }

    fn move_focus(&mut self, step: usize) -> Action {
        self.focus = (self.focus + step) % self.fields.len();
        self.refocus();
        Action::Done
    }

    fn refocus(&mut self) {
        for (i, field) in self.fields.iter_mut().enumerate() {
            field.input.set_focus(i == self.focus);
        }
    }

    fn submit(&mut self) -> Action {
        let reason = self.fields[0].input.value();
        if reason.trim().is_empty() {
            self.error = Some("give a reason: why is this change right?".to_owned());
            return self.focus_on(0);
        }
        for (i, field) in self.fields.iter().enumerate().skip(1) {
            if let Some(expected) = &field.expected
                && field.input.value().trim() != expected
            {
                self.error = Some(format!("type {expected} exactly to confirm"));
                return self.focus_on(i);
            }
        }
        Action::Start(Job::ApproveAndExecute {
            run_id: self.run_id.clone(),
            digest: self.digest.clone(),
            reason: reason.trim().to_owned(),
            typed_instance: self
                .fields
                .get(2)
                .map(|f| f.input.value().trim().to_owned()),
        })
    }

    fn focus_on(&mut self, index: usize) -> Action {
        self.focus = index;
        self.refocus();
        Action::Done
    }

    /// Draws the modal over the screen.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: Theme) {
        let width = area.width.saturating_sub(4).min(76);
        let mut facts = Doc::new();
        for line in &self.facts {
            facts.push_hanging(2, line.clone());
        }
        let fact_rows = facts.wrapped(width.saturating_sub(2)).len();
        // Borders, facts, a blank row, two rows per field, the error row and the hints row.
        let rows = 2 + fact_rows + 1 + self.fields.len() * 2 + 2;
        let height = u16::try_from(rows).unwrap_or(u16::MAX);
        let Some(inner) = modal(area, buf, width, height, &self.title, theme) else {
            return;
        };
        // The inputs come first: on a short screen the facts give up rows, never the fields.
        let for_fields = u16::try_from(1 + self.fields.len() * 2 + 2).unwrap_or(u16::MAX);
        let facts_height = u16::try_from(fact_rows)
            .unwrap_or(u16::MAX)
            .min(inner.height.saturating_sub(for_fields).max(1))
            .min(inner.height);
        facts.render(
            Rect {
                height: facts_height,
                ..inner
            },
            buf,
            &mut Scroll::default(),
        );
        let mut y = inner.y + facts_height + 1;
        for (i, field) in self.fields.iter().enumerate() {
            let style = if self.focus == i {
                theme.focus()
            } else {
                theme.text()
            };
            y = labelled_input(inner, buf, y, (&field.label, style), &field.input);
        }
        self.render_footer(inner, buf, theme);
    }

    fn render_footer(&self, inner: Rect, buf: &mut Buffer, theme: Theme) {
        let bottom = inner.y + inner.height;
        if let Some(error) = &self.error
            && inner.height > 2
        {
            let line = Line::styled(format!("✗ {error}"), theme.fail());
            buf.set_line(inner.x, bottom - 2, &line, inner.width);
        }
        let hints = [
            ("Enter", "approve"),
            ("Tab", "next field"),
            ("Esc", "cancel"),
        ];
        if inner.height > 1 {
            let line = Line::from(hint_spans(&hints, theme));
            buf.set_line(inner.x, bottom - 1, &line, inner.width);
        }
    }
}

/// The instance a preview targets.
fn target_of(preview: &Preview) -> InstanceTarget {
    if preview.target == InstanceTarget::Sandbox.label() {
        InstanceTarget::Sandbox
    } else {
        InstanceTarget::Remote(preview.target.clone())
    }
}

/// Why a live approval must type the instance name, as the workspace decides it: production,
/// or a declared sandbox whose address does not show that it is one.
fn typed_name_needed(preview: &Preview) -> Option<&'static str> {
    if !preview.is_sandbox {
        Some("PRODUCTION")
    } else if !target_of(preview).is_known_sandbox() {
        Some("Not a known sandbox address")
    } else {
        None
    }
}

/// What the approver should know before typing: target, consequence, digest, identity.
fn facts(view: &PreviewView, theme: Theme) -> Vec<Line<'static>> {
    let preview = &view.preview;
    let (user, host, ssh) = Approval::identity();
    let via = if ssh { " over SSH" } else { "" };
    let sends: Vec<String> = preview
        .sendable_writes()
        .into_iter()
        .map(|(f, _)| f)
        .collect();
    let consequence = match view.run.mode {
        RunMode::DryRun => "Approving runs the simulation: nothing is written.".to_owned(),
        RunMode::Live => format!("Approving WRITES {} now.", sends.join(", ")),
    };
    let record = format!(
        "Record {} on {} ",
        one_line(&preview.number),
        one_line(&preview.target)
    );
    let mut lines = Vec::new();
    if preview.is_sandbox {
        lines.push(Line::from(vec![
            Span::raw(record),
            Span::styled("(sandbox)", theme.pass()),
        ]));
    } else {
        lines.push(Line::from(vec![
            Span::styled(" PRODUCTION ", theme.production()),
            Span::styled(" real records change on this instance", theme.fail()),
        ]));
        lines.push(Line::raw(record));
    }
    lines.extend([
        Line::styled(consequence, theme.heading()),
        Line::styled(format!("Digest {}", view.run.digest), theme.dim()),
        Line::styled(format!("Approver {user}@{host}{via}"), theme.dim()),
    ]);
    lines
}

/// The reject modal: a reason, then the run is closed without sending anything.
pub struct RejectForm {
    run_id: String,
    reason: TextInput,
    error: Option<String>,
}

impl RejectForm {
    /// A modal for rejecting the run `run_id`.
    pub fn new(run_id: &str) -> Self {
        let mut reason = TextInput::single("");
        reason.set_focus(true);
        Self {
            run_id: run_id.to_owned(),
            reason,
            error: None,
        }
    }

    /// Handles a key inside the modal.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        match key.code {
            KeyCode::Esc => Action::CloseOverlay,
            KeyCode::Enter if self.reason.value().trim().is_empty() => {
                self.error = Some("give a reason for the rejection".to_owned());
                Action::Done
            }
            KeyCode::Enter => Action::Start(Job::Reject {
                run_id: self.run_id.clone(),
                reason: self.reason.value().trim().to_owned(),
            }),
            _ => {
                self.reason.handle_key(key);
                Action::Done
            }
        }
    }

    /// Pastes into the reason.
    pub fn on_paste(&mut self, text: &str) {
        self.reason.paste(text);
    }

    /// Draws the modal over the screen.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: Theme) {
        let width = area.width.saturating_sub(4).min(76);
        let Some(inner) = modal(area, buf, width, 7, " Reject the run ", theme) else {
            return;
        };
        let intro = Line::raw("Nothing is sent; the run is closed as rejected.");
        buf.set_line(inner.x, inner.y, &intro, inner.width);
        labelled_input(
            inner,
            buf,
            inner.y + 2,
            ("Reason", theme.focus()),
            &self.reason,
        );
        if let Some(error) = &self.error
            && inner.height > 4
        {
            let line = Line::styled(format!("✗ {error}"), theme.fail());
            buf.set_line(inner.x, inner.y + 4, &line, inner.width);
        }
    }
}

/// Clears a centred box with a border and returns its inside, if there is room for one.
fn modal(
    area: Rect,
    buf: &mut Buffer,
    width: u16,
    height: u16,
    title: &str,
    theme: Theme,
) -> Option<Rect> {
    let outer = centered(area, width, height);
    if outer.width < 4 || outer.height < 3 {
        return None;
    }
    Clear.render(outer, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(title.to_owned());
    let inner = block.inner(outer);
    block.render(outer, buf);
    Some(inner)
}

/// A label line and a `› ` prompt line with the input; returns the next free row.
fn labelled_input(
    inner: Rect,
    buf: &mut Buffer,
    y: u16,
    label: (&str, Style),
    input: &TextInput,
) -> u16 {
    let bottom = inner.y + inner.height;
    if y < bottom {
        buf.set_line(
            inner.x,
            y,
            &Line::styled(label.0.to_owned(), label.1),
            inner.width,
        );
    }
    if y + 1 < bottom && inner.width > 2 {
        buf.set_line(inner.x, y + 1, &Line::styled("› ", label.1), 2);
        let field = Rect::new(inner.x + 2, y + 1, inner.width - 2, 1);
        input.render(field, buf);
    }
    y + 2
}
