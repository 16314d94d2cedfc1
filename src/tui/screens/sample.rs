//! Step 05 run-first-sample: INC-42 as read from the instance, and the requested change: the
//! target state, a close code from the synced choices, close notes and a work note.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};

use crate::domain::SAMPLE_RECORD;
use crate::domain::incident::{Record, state};
use crate::domain::metadata::{Choice, TableMetadata};
use crate::domain::preview::CloseRequest;
use crate::domain::run::RunMode;
use crate::tui::action::{Action, Notice};
use crate::tui::app::Facts;
use crate::tui::message::Job;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::{clean_lines, one_line, pad};
use crate::tui::widgets::text_input::TextInput;

const STATE: usize = 0;
const CODE: usize = 1;
const NOTES: usize = 2;
const WORK_NOTE: usize = 3;
const FOCUS_STOPS: usize = 4;

/// The state of the sample screen's change form.
pub struct SampleForm {
    number: String,
    resolve_only: bool,
    choices: Vec<Choice>,
    code: usize,
    notes: TextInput,
    work_note: TextInput,
    focus: usize,
}

impl Default for SampleForm {
    fn default() -> Self {
        Self::new()
    }
}

impl SampleForm {
    /// The canonical sample change for INC-42.
    pub fn new() -> Self {
        let sample = CloseRequest::sample(SAMPLE_RECORD);
        Self {
            number: sample.number,
            resolve_only: false,
            choices: Vec::new(),
            code: 0,
            notes: TextInput::multi(&sample.close_notes),
            work_note: TextInput::multi(&sample.work_note),
            focus: CODE,
        }
    }

    /// Takes the close code choices from synced metadata, keeping the pick when it still exists.
    pub fn set_choices(&mut self, metadata: Option<&TableMetadata>) {
        let wanted = self.close_code();
        self.choices = metadata
            .and_then(|m| m.field("close_code"))
            .map(|f| f.choices.clone())
            .unwrap_or_default();
        self.code = self
            .choices
            .iter()
            .position(|c| c.value == wanted)
            .unwrap_or(0);
    }

    /// The close code value picked, or the sample's when no choices are synced.
    pub fn close_code(&self) -> String {
        self.choices.get(self.code).map_or_else(
            || CloseRequest::sample(SAMPLE_RECORD).close_code,
            |c| c.value.clone(),
        )
    }

    /// The change the form describes.
    pub fn request(&self) -> CloseRequest {
        CloseRequest {
            number: self.number.clone(),
            target_state: if self.resolve_only {
                state::RESOLVED
            } else {
                state::CLOSED
            }
            .to_owned(),
            close_code: self.close_code(),
            close_notes: self.notes.value(),
            work_note: self.work_note.value(),
            extra: Vec::new(),
        }
    }

    /// The record number the form changes.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// Whether a text area has focus.
    pub fn typing(&self) -> bool {
        self.focus >= NOTES
    }

    /// Handles a key: app keys first, then editing keys for the focused text area.
    pub fn on_key(&mut self, key: KeyEvent, is_sandbox: bool) -> Action {
        if key.modifiers.contains(KeyModifiers::CONTROL)
            && let Some(action) = self.ctrl_key(key.code, is_sandbox)
        {
            return action;
        }
        match key.code {
            KeyCode::Tab => return self.move_focus(1),
            KeyCode::BackTab => return self.move_focus(FOCUS_STOPS - 1),
            _ => {}
        }
        if self.typing() {
            let input = if self.focus == NOTES {
                &mut self.notes
            } else {
                &mut self.work_note
            };
            return if input.handle_key(key) {
                Action::Done
            } else {
                Action::Ignored
            };
        }
        self.choice_key(key.code)
    }

    fn ctrl_key(&mut self, code: KeyCode, is_sandbox: bool) -> Option<Action> {
        Some(match code {
            KeyCode::Char('p') => self.preview(RunMode::DryRun),
            KeyCode::Char('l') => self.preview(RunMode::Live),
            KeyCode::Char('r') if is_sandbox => Action::Start(Job::ResetSandbox),
            KeyCode::Char('r') => Action::Notice(Notice::error(
                "reset is offered on the embedded sandbox only; on a real instance a change is \
                 undone through a governed rollback run",
            )),
            _ => return None,
        })
    }

    fn choice_key(&mut self, code: KeyCode) -> Action {
        match code {
            KeyCode::Char('p') => self.preview(RunMode::DryRun),
            KeyCode::Char('L') => self.preview(RunMode::Live),
            KeyCode::Char('r') => Action::Start(Job::ReadRecord(self.number.clone())),
            KeyCode::Char('t' | ' ') if self.focus == STATE => {
                self.resolve_only = !self.resolve_only;
                Action::Done
            }
            KeyCode::Up | KeyCode::Char('k') if self.focus == CODE => {
                self.code = self.code.saturating_sub(1);
                Action::Done
            }
            KeyCode::Down | KeyCode::Char('j') if self.focus == CODE => {
                self.code = (self.code + 1).min(self.choices.len().saturating_sub(1));
                Action::Done
            }
            KeyCode::Enter | KeyCode::Down => self.move_focus(1),
            KeyCode::Up => self.move_focus(FOCUS_STOPS - 1),
            _ => Action::Ignored,
        }
    }

    fn preview(&self, mode: RunMode) -> Action {
        Action::Start(Job::Preview(self.request(), mode))
    }

    fn move_focus(&mut self, step: usize) -> Action {
        self.focus = (self.focus + step) % FOCUS_STOPS;
        self.notes.set_focus(self.focus == NOTES);
        self.work_note.set_focus(self.focus == WORK_NOTE);
        Action::Done
    }

    /// Pastes into the focused text area.
    pub fn on_paste(&mut self, text: &str) {
        match self.focus {
            NOTES => self.notes.paste(text),
            WORK_NOTE => self.work_note.paste(text),
            _ => {}
        }
    }

    /// Draws the screen: the record on the left, the change on the right (stacked when narrow).
    pub fn render(&self, area: Rect, buf: &mut Buffer, facts: &Facts, theme: Theme) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let [title, body] =
            Layout::vertical([Constraint::Length(2), Constraint::Fill(1)]).areas(area);
        let heading = Line::from(vec![
            Span::styled("05 run-first-sample", theme.title()),
            Span::styled(": dry run first, then one live closure", theme.dim()),
        ]);
        buf.set_line(title.x, title.y, &heading, title.width);
        if body.width >= 70 {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(40), Constraint::Fill(1)])
                    .spacing(1)
                    .areas(body);
            render_record(left, buf, facts.record.as_ref(), theme, true);
            self.render_change(right, buf, theme);
        } else {
            let [top, bottom] =
                Layout::vertical([Constraint::Length(3), Constraint::Fill(1)]).areas(body);
            render_record(top, buf, facts.record.as_ref(), theme, false);
            self.render_change(bottom, buf, theme);
        }
    }

    fn render_change(&self, area: Rect, buf: &mut Buffer, theme: Theme) {
        let [head, code, notes, work] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(5),
            Constraint::Fill(3),
            Constraint::Fill(2),
        ])
        .areas(area);
        self.render_state(head, buf, theme);
        self.render_codes(code, buf, theme);
        self.notes.render_boxed(
            notes,
            buf,
            "Resolution notes (close_notes)",
            self.focus == NOTES,
            theme,
        );
        let title = "Work note (appended to the journal)";
        self.work_note
            .render_boxed(work, buf, title, self.focus == WORK_NOTE, theme);
    }

    fn render_state(&self, area: Rect, buf: &mut Buffer, theme: Theme) {
        let heading = Line::styled(
            format!("Requested change to {}", self.number),
            theme.heading(),
        );
        buf.set_line(area.x, area.y, &heading, area.width);
        let (word, note) = if self.resolve_only {
            ("Resolved (6)", "reversible; t: close")
        } else {
            ("Closed (7)", "one-way; t: resolve")
        };
        let line = Line::from(vec![
            marker(self.focus == STATE, theme),
            Span::styled("State       ", label_style(self.focus == STATE, theme)),
            Span::styled(word, theme.heading()),
            Span::styled(format!("  {note}"), theme.dim()),
        ]);
        if area.height > 1 {
            buf.set_line(area.x, area.y + 1, &line, area.width);
        }
    }

    fn render_codes(&self, area: Rect, buf: &mut Buffer, theme: Theme) {
        if area.height == 0 {
            return;
        }
        let focused = self.focus == CODE;
        let count = if self.choices.is_empty() {
            "no synced choices: sync metadata in step 04".to_owned()
        } else {
            format!("↑↓ {} of {}", self.code + 1, self.choices.len())
        };
        let line = Line::from(vec![
            marker(focused, theme),
            Span::styled("Close code  ", label_style(focused, theme)),
            Span::styled(count, theme.dim()),
        ]);
        buf.set_line(area.x, area.y, &line, area.width);
        let rows = usize::from(area.height - 1);
        let first = self
            .code
            .saturating_sub(rows / 2)
            .min(self.choices.len().saturating_sub(rows));
        for (y, (i, choice)) in
            (area.y + 1..).zip(self.choices.iter().enumerate().skip(first).take(rows))
        {
            let picked = i == self.code;
            let style = if picked && focused {
                theme.selected()
            } else if picked {
                theme.heading()
            } else {
                theme.text()
            };
            let mark = if picked { "  ● " } else { "    " };
            let text = format!("{mark}{}", one_line(&choice.label));
            buf.set_line(area.x, y, &Line::styled(text, style), area.width);
        }
    }
}

fn marker(focused: bool, theme: Theme) -> Span<'static> {
    if focused {
        Span::styled("▶ ", theme.focus())
    } else {
        Span::raw("  ")
    }
}

fn label_style(focused: bool, theme: Theme) -> ratatui::style::Style {
    if focused { theme.focus() } else { theme.text() }
}

/// The record as the instance sent it: display values, sanitised.
fn render_record(area: Rect, buf: &mut Buffer, record: Option<&Record>, theme: Theme, full: bool) {
    let mut doc = Doc::new();
    let Some(record) = record else {
        doc.push(Line::styled("Starting record: reading…", theme.dim()));
        doc.push(Line::styled(
            "(r reads it again; Ctrl-R resets the sandbox story)",
            theme.dim(),
        ));
        doc.render(area, buf, &mut Scroll::default());
        return;
    };
    doc.push(Line::styled(
        format!("Starting record {} as read", one_line(record.number())),
        theme.heading(),
    ));
    if full {
        record_fields(&mut doc, record, theme);
    } else {
        let text = format!(
            "state {} · close code {} · version {}",
            or_empty(record.display("state")),
            or_empty(record.display("close_code")),
            record.mod_count()
        );
        doc.push(Line::raw(text));
    }
    doc.render(area, buf, &mut Scroll::default());
}

fn record_fields(doc: &mut Doc, record: &Record, theme: Theme) {
    let rows = [
        ("Summary", "short_description"),
        ("State", "state"),
        ("Impact", "impact"),
        ("Urgency", "urgency"),
        ("Priority", "priority"),
        ("Close code", "close_code"),
        ("Close notes", "close_notes"),
        ("Updated", "sys_updated_on"),
        ("Updated by", "sys_updated_by"),
    ];
    for (label, field) in rows {
        let value = record.display(field);
        let mut lines = clean_lines(or_empty(value)).into_iter();
        let first = lines.next().unwrap_or_default();
        let first = Line::from(vec![
            Span::styled(pad(label, 13), theme.dim()),
            Span::raw(first),
        ]);
        doc.push_hanging(13, first);
        for more in lines {
            doc.push_hanging(
                13,
                Line::from(vec![Span::raw(pad("", 13)), Span::raw(more)]),
            );
        }
    }
    let version = format!("sys_mod_count {}", record.mod_count());
    doc.push(Line::from(vec![
        Span::styled(pad("Version", 13), theme.dim()),
        Span::raw(version),
    ]));
}

fn or_empty(value: &str) -> &str {
    if value.is_empty() { "(empty)" } else { value }
}
