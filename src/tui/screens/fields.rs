//! Step 03 collect-fields: the connector form. Problems are shown inline under the field they
//! name; the password is masked and never drawn; Esc leaves even while the form is invalid.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::instance::intro;
use crate::domain::connector::{
    ConnectPayload, FieldProblem, InstanceTarget, ManagedObject, SANDBOX_WORD,
    normalise_instance_url,
};
use crate::tui::action::{Action, Notice};
use crate::tui::app::Facts;
use crate::tui::message::{Job, SavedSettings};
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::Doc;
use crate::tui::widgets::text_input::TextInput;

/// The labels of the four text inputs, in focus order.
pub const LABELS: [&str; 4] = ["Instance URL", "Username", "Password", "Allowed fields"];
const TOGGLE: usize = 4;
const SAVE: usize = 5;
const FOCUS_STOPS: usize = 6;
const DEFAULT_FIELDS: &str = "state, close_notes, close_code, work_notes";
const LABEL_WIDTH: u16 = 17;

/// The state of the step 03 form.
pub struct FieldsForm {
    inputs: [TextInput; 4],
    sandbox: bool,
    focus: usize,
    problems: Vec<FieldProblem>,
    touched: bool,
}

impl Default for FieldsForm {
    fn default() -> Self {
        Self::new()
    }
}

impl FieldsForm {
    /// A fresh form pointing at the embedded sandbox with the seed's allowlist.
    pub fn new() -> Self {
        let mut form = Self {
            inputs: [
                TextInput::single(SANDBOX_WORD),
                TextInput::single(""),
                TextInput::secret(),
                TextInput::single(DEFAULT_FIELDS),
            ],
            sandbox: true,
            focus: 0,
            problems: Vec::new(),
            touched: false,
        };
        form.refocus();
        form
    }

    /// Fills the form from saved settings, unless the operator already typed something.
    pub fn prefill(&mut self, saved: &SavedSettings) {
        if self.touched {
            return;
        }
        self.inputs[0].set_value(&saved.instance);
        self.inputs[1].set_value(&saved.username);
        self.inputs[3].set_value(&saved.allowed_fields.join(", "));
        self.sandbox = saved.is_sandbox;
    }

    /// Drops the typed password once it is saved, so it lives in one store only.
    pub fn forget_secret(&mut self) {
        self.inputs[2] = TextInput::secret();
        self.refocus();
    }

    /// Whether a text input has focus (letters type instead of acting).
    pub fn typing(&self) -> bool {
        self.focus < TOGGLE
    }

    /// The connect payload the form describes; saving does not validate or sync (step 04 does).
    pub fn payload(&self) -> ConnectPayload {
        let fields = self.inputs[3]
            .value()
            .split([',', ' '])
            .filter(|f| !f.is_empty())
            .map(str::to_owned)
            .collect();
        let url = self.inputs[0].value();
        let is_sandbox = self.sandbox || url.trim().eq_ignore_ascii_case(SANDBOX_WORD);
        ConnectPayload {
            instance_url: url,
            client_id: self.inputs[1].value(),
            client_secret: self.inputs[2].value(),
            is_sandbox,
            is_enabled: true,
            validate_after_save: false,
            sync_metadata_after_save: false,
            managed_objects: vec![ManagedObject {
                object_api_name: "incident".to_owned(),
                display_name: "Incident".to_owned(),
                allowed_fields: fields,
            }],
            auth_method: crate::domain::connector::AuthKind::Basic,
            oauth_client_id: String::new(),
            oauth_client_secret: String::new(),
        }
    }

    /// Handles a key; text inputs get only editing keys, app keys come first.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Char('s') if ctrl => return self.save(),
            KeyCode::BackTab | KeyCode::Up => return self.move_focus(FOCUS_STOPS - 1),
            KeyCode::Enter if self.focus == SAVE => return self.save(),
            KeyCode::Enter | KeyCode::Char(' ') if self.focus == TOGGLE => {
                self.sandbox = !self.sandbox;
                self.touched = true;
                return Action::Done;
            }
            KeyCode::Tab | KeyCode::Down | KeyCode::Enter => return self.move_focus(1),
            _ => {}
        }
        if self.typing() && self.inputs[self.focus].handle_key(key) {
            self.touched = true;
            return Action::Done;
        }
        Action::Ignored
    }

    /// Pastes into the focused input.
    pub fn on_paste(&mut self, text: &str) {
        if self.typing() {
            self.inputs[self.focus].paste(text);
            self.touched = true;
        }
    }

    fn move_focus(&mut self, step: usize) -> Action {
        self.focus = (self.focus + step) % FOCUS_STOPS;
        self.refocus();
        Action::Done
    }

    fn refocus(&mut self) {
        for (i, input) in self.inputs.iter_mut().enumerate() {
            input.set_focus(i == self.focus);
        }
    }

    fn save(&mut self) -> Action {
        let payload = self.payload();
        match payload.check() {
            Ok(_) => {
                self.problems.clear();
                Action::Start(Job::Connect(payload))
            }
            Err(problems) => {
                self.focus = problems.first().map_or(0, |p| input_of(&p.field));
                self.refocus();
                let names: Vec<_> = problems
                    .iter()
                    .map(|p| LABELS[input_of(&p.field)])
                    .collect();
                self.problems = problems;
                Action::Notice(Notice::error(format!(
                    "not saved: fix {}",
                    names.join(", ")
                )))
            }
        }
    }

    /// Draws the form, scrolled so that the focused row stays visible.
    pub fn render(&self, area: Rect, buf: &mut Buffer, facts: &Facts, theme: Theme) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let rows = self.rows(facts, area.width, theme);
        let focus_row = rows
            .iter()
            .position(|r| r.focus == Some(self.focus))
            .unwrap_or(0);
        let height = usize::from(area.height);
        let offset = (focus_row + 3).saturating_sub(height);
        for (y, row) in (area.y..).zip(rows.iter().skip(offset).take(height)) {
            buf.set_line(area.x, y, &row.line, area.width);
            if let Some(index) = row.input {
                let x = area.x + LABEL_WIDTH.min(area.width);
                let input_area = Rect::new(x, y, area.width.saturating_sub(LABEL_WIDTH + 1), 1);
                self.inputs[index].render(input_area, buf);
            }
        }
    }

    fn rows(&self, facts: &Facts, width: u16, theme: Theme) -> Vec<Row> {
        let mut intro_doc = Doc::new();
        intro(&mut intro_doc, 2, facts, theme);
        let mut rows: Vec<Row> = intro_doc
            .wrapped(width)
            .iter()
            .cloned()
            .map(Row::text)
            .collect();
        for (index, label) in LABELS.iter().enumerate() {
            rows.push(self.input_row(index, label, theme));
            let below = self.below(index, theme);
            rows.extend(wrap(below, width).into_iter().map(Row::text));
        }
        rows.push(self.toggle_row(theme));
        rows.push(self.save_row(theme));
        rows
    }

    fn input_row(&self, index: usize, label: &str, theme: Theme) -> Row {
        let focused = self.focus == index;
        let marker = if focused { "▶ " } else { "  " };
        let style = if focused { theme.focus() } else { theme.text() };
        let line = Line::from(Span::styled(format!("{marker}{label}"), style));
        Row {
            line,
            input: Some(index),
            focus: Some(index),
        }
    }

    /// The line under an input: its problem when there is one, else a hint.
    fn below(&self, index: usize, theme: Theme) -> Line<'static> {
        let pad = " ".repeat(usize::from(LABEL_WIDTH));
        if let Some(problem) = self.problems.iter().find(|p| input_of(&p.field) == index) {
            let text = format!("{pad}✗ {}: {}", LABELS[index], problem.problem);
            return Line::styled(text, theme.fail());
        }
        let hint = match index {
            0 => url_hint(&self.inputs[0].value()),
            1 => "the integration user (web-service-only, itil + itil_admin)".to_owned(),
            2 => "masked, never shown; kept in the OS keyring or for this session only".to_owned(),
            _ => "table incident; field names separated by commas".to_owned(),
        };
        Line::styled(format!("{pad}{hint}"), theme.dim())
    }

    fn toggle_row(&self, theme: Theme) -> Row {
        let focused = self.focus == TOGGLE;
        let mark = if self.sandbox { "[x]" } else { "[ ]" };
        let marker = if focused { "▶ " } else { "  " };
        let style = if focused { theme.focus() } else { theme.text() };
        let mut spans = vec![Span::styled(
            format!("{marker}{mark} target is a sandbox or PDI"),
            style,
        )];
        if !self.sandbox {
            spans.push(Span::styled(
                "  PRODUCTION: writes change real records",
                theme.fail(),
            ));
        }
        Row {
            line: Line::from(spans),
            input: None,
            focus: Some(TOGGLE),
        }
    }

    fn save_row(&self, theme: Theme) -> Row {
        let focused = self.focus == SAVE;
        let marker = if focused { "▶ " } else { "  " };
        let button = if focused {
            theme.selected()
        } else {
            theme.heading()
        };
        let line = Line::from(vec![
            Span::raw(marker),
            Span::styled("[ Save ]", button),
            Span::styled("  or Ctrl-S from any field", theme.dim()),
        ]);
        Row {
            line,
            input: None,
            focus: Some(SAVE),
        }
    }
}

/// One row of the form.
struct Row {
    line: Line<'static>,
    input: Option<usize>,
    focus: Option<usize>,
}

impl Row {
    fn text(line: Line<'static>) -> Self {
        Self {
            line,
            input: None,
            focus: None,
        }
    }
}

fn wrap(line: Line<'static>, width: u16) -> Vec<Line<'static>> {
    let mut doc = Doc::new();
    doc.push(line);
    doc.wrapped(width).to_vec()
}

/// Which input a payload problem names.
fn input_of(field: &str) -> usize {
    match field {
        "instanceUrl" => 0,
        "clientId" => 1,
        "clientSecret" => 2,
        _ => 3,
    }
}

/// What the typed URL will mean, as the operator types it.
fn url_hint(typed: &str) -> String {
    match normalise_instance_url(typed) {
        Ok(InstanceTarget::Sandbox) => {
            "→ the embedded sandbox on 127.0.0.1 (no account, no network)".to_owned()
        }
        Ok(InstanceTarget::Remote(url)) => format!("→ {url}"),
        Err(error) => format!("! {error}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(form: &mut FieldsForm, code: KeyCode) -> Action {
        form.on_key(KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn saving_an_incomplete_form_names_each_field_and_sends_nothing() {
        let mut form = FieldsForm::new();
        let action = form.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        assert!(matches!(action, Action::Notice(n) if n.text.contains("Username")));
        let fields: Vec<_> = form.problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(fields, ["clientId", "clientSecret"]);
        assert_eq!(form.focus, 1);
    }

    #[test]
    fn a_complete_form_becomes_a_connect_job_without_validation() {
        let mut form = FieldsForm::new();
        press(&mut form, KeyCode::Tab);
        form.on_paste("svc");
        press(&mut form, KeyCode::Tab);
        form.on_paste("pw");
        let action = form.on_key(KeyEvent::new(KeyCode::Char('s'), KeyModifiers::CONTROL));
        let Action::Start(Job::Connect(payload)) = action else {
            panic!("no connect job")
        };
        assert_eq!(payload.managed_objects[0].allowed_fields.len(), 4);
        assert!(!payload.validate_after_save && !payload.sync_metadata_after_save);
        assert_eq!(payload.client_secret, "pw");
    }
}
