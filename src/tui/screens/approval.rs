//! The approval modal (a reason and the typed record number) and the reject modal.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::domain::run::{Approval, RunMode};
use crate::tui::action::Action;
use crate::tui::message::Job;
use crate::tui::screens::preview::PreviewView;
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crate::tui::widgets::sanitize::one_line;
use crate::tui::widgets::text_input::TextInput;

/// The approval modal of one previewed run.
pub struct ApprovalForm {
    run_id: String,
    digest: String,
    number: String,
    mode: RunMode,
    target: String,
    is_sandbox: bool,
    sends: Vec<String>,
    approver: String,
    reason: TextInput,
    confirm: TextInput,
    focus: usize,
    error: Option<String>,
}

impl ApprovalForm {
    /// A modal for the run on the preview screen.
    pub fn new(view: &PreviewView) -> Self {
        let (user, host, ssh) = Approval::identity();
        let via = if ssh { " over SSH" } else { "" };
        let mut form = Self {
            run_id: view.run.id.clone(),
            digest: view.run.digest.clone(),
            number: view.preview.number.clone(),
            mode: view.run.mode,
            target: view.preview.target.clone(),
            is_sandbox: view.preview.is_sandbox,
            sends: view
                .preview
                .sendable_writes()
                .into_iter()
                .map(|(f, _)| f)
                .collect(),
            approver: format!("{user}@{host}{via}"),
            reason: TextInput::single(""),
            confirm: TextInput::single(""),
            focus: 0,
            error: None,
        };
        form.reason.set_focus(true);
        form
    }

    /// Handles a key inside the modal; the app sees none of them.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        match key.code {
            KeyCode::Esc => Action::CloseOverlay,
            KeyCode::Tab | KeyCode::BackTab | KeyCode::Up | KeyCode::Down => self.switch(),
            KeyCode::Enter if self.focus == 0 => self.switch(),
            KeyCode::Enter => self.submit(),
            _ => {
                let input = if self.focus == 0 {
                    &mut self.reason
                } else {
                    &mut self.confirm
                };
                input.handle_key(key);
                Action::Done
            }
        }
    }

    /// Pastes into the focused input.
    pub fn on_paste(&mut self, text: &str) {
        let input = if self.focus == 0 {
            &mut self.reason
        } else {
            &mut self.confirm
        };
        input.paste(text);
    }

    fn switch(&mut self) -> Action {
        self.focus = 1 - self.focus;
        self.reason.set_focus(self.focus == 0);
        self.confirm.set_focus(self.focus == 1);
        Action::Done
    }

    fn submit(&mut self) -> Action {
        let reason = self.reason.value();
        if reason.trim().is_empty() {
            self.error = Some("give a reason: why is this change right?".to_owned());
            return Action::Done;
        }
        if self.confirm.value().trim() != self.number {
            self.error = Some(format!("type {} exactly to confirm", self.number));
            return Action::Done;
        }
        Action::Start(Job::ApproveAndExecute {
            run_id: self.run_id.clone(),
            digest: self.digest.clone(),
            reason: reason.trim().to_owned(),
        })
    }

    /// Draws the modal over the screen.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: Theme) {
        let title = format!(" Approve {} of support.close-ticket ", self.mode.banner());
        let Some(inner) = modal(area, buf, 15, &title, theme) else {
            return;
        };
        let mut lines = vec![Line::from(vec![
            Span::raw(format!(
                "Record {} on {} ",
                one_line(&self.number),
                one_line(&self.target)
            )),
            if self.is_sandbox {
                Span::styled("(sandbox)", theme.pass())
            } else {
                Span::styled("PRODUCTION instance: real records change", theme.fail())
            },
        ])];
        lines.push(Line::raw(self.consequence()));
        lines.push(Line::styled(format!("Digest {}", self.digest), theme.dim()));
        lines.push(Line::styled(
            format!("Approver {}", self.approver),
            theme.dim(),
        ));
        for (y, line) in (inner.y..).zip(lines.iter().take(usize::from(inner.height))) {
            buf.set_line(inner.x, y, line, inner.width);
        }
        let fields = [
            ("Reason (stored with the approval)", &self.reason),
            (&*format!("Type {} to confirm", self.number), &self.confirm),
        ];
        let mut y = inner.y + 5;
        for (i, (label, input)) in fields.into_iter().enumerate() {
            let style = if self.focus == i {
                theme.focus()
            } else {
                theme.text()
            };
            y = labelled_input(inner, buf, y, (label, style), input);
        }
        self.render_footer(inner, buf, theme);
    }

    fn consequence(&self) -> String {
        match self.mode {
            RunMode::DryRun => {
                "Approving runs the simulation: nothing is written to the instance.".to_owned()
            }
            RunMode::Live => format!(
                "Approving WRITES {} to the instance now.",
                self.sends.join(", ")
            ),
        }
    }

    fn render_footer(&self, inner: Rect, buf: &mut Buffer, theme: Theme) {
        let bottom = inner.y + inner.height;
        if let Some(error) = &self.error
            && inner.height > 2
        {
            buf.set_line(
                inner.x,
                bottom - 2,
                &Line::styled(format!("✗ {error}"), theme.fail()),
                inner.width,
            );
        }
        let hints = Line::from(crate::tui::widgets::hint_spans(
            &[
                ("Enter", "approve"),
                ("Tab", "switch field"),
                ("Esc", "cancel"),
            ],
            theme,
        ));
        if inner.height > 1 {
            buf.set_line(inner.x, bottom - 1, &hints, inner.width);
        }
    }
}

/// The reject modal: a reason, then the run is closed without sending anything.
pub struct RejectForm {
    run_id: String,
    reason: TextInput,
    error: Option<String>,
}

impl RejectForm {
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

    pub fn on_paste(&mut self, text: &str) {
        self.reason.paste(text);
    }

    /// Draws the modal over the screen.
    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: Theme) {
        let Some(inner) = modal(area, buf, 8, " Reject the run ", theme) else {
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
            buf.set_line(
                inner.x,
                inner.y + 4,
                &Line::styled(format!("✗ {error}"), theme.fail()),
                inner.width,
            );
        }
    }
}

/// Clears a centred box with a border and returns its inside, if there is room for one.
fn modal(area: Rect, buf: &mut Buffer, height: u16, title: &str, theme: Theme) -> Option<Rect> {
    let width = area.width.saturating_sub(4).min(76);
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

/// A label line and an input line under it; returns the next free row.
fn labelled_input(
    inner: Rect,
    buf: &mut Buffer,
    y: u16,
    label: (&str, ratatui::style::Style),
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
    if y + 1 < bottom {
        let field = Rect::new(inner.x + 2, y + 1, inner.width.saturating_sub(2), 1);
        input.render(field, buf);
    }
    y + 3
}
