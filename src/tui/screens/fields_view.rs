//! Drawing the step 03 form: the rows of inputs with the hint or problem under each, the auth
//! method, the sandbox's demo user in words, and where the saved password is kept.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::check_line;
use super::fields::{
    FieldsForm, LABELS, OAUTH_ID, OAUTH_SECRET, PASSWORD, Stop, URL, USER, input_of,
};
use super::instance::intro;
use crate::domain::connector::{AuthKind, InstanceTarget, normalise_instance_url};
use crate::domain::policy::Outcome;
use crate::sandbox::INTEGRATION_USER;
use crate::tui::app::Facts;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::Doc;
use crate::tui::widgets::sanitize::one_line;

/// Where the inputs start, after their labels, on a wide enough screen.
const LABEL_WIDTH: u16 = 22;
/// Narrower than this, each label sits above its input.
const SIDE_BY_SIDE: u16 = 64;
/// Where a stacked input and its hint start.
const STACKED: u16 = 4;

/// Where inputs start on a screen `width` columns wide, and whether labels sit above them.
fn input_column(width: u16) -> (u16, bool) {
    if width >= SIDE_BY_SIDE {
        (LABEL_WIDTH, false)
    } else {
        (STACKED, true)
    }
}

/// One row of the form.
struct Row {
    line: Line<'static>,
    input: Option<usize>,
    focus: Option<Stop>,
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

impl FieldsForm {
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
        let offset = (focus_row + 4).saturating_sub(height);
        let (column, _) = input_column(area.width);
        for (y, row) in (area.y..).zip(rows.iter().skip(offset).take(height)) {
            buf.set_line(area.x, y, &row.line, area.width);
            if let Some(index) = row.input {
                let x = area.x + column.min(area.width);
                let input_area = Rect::new(x, y, area.width.saturating_sub(column + 1), 1);
                self.inputs[index].render(input_area, buf);
            }
        }
    }

    fn rows(&self, facts: &Facts, width: u16, theme: Theme) -> Vec<Row> {
        let mut top = Doc::new();
        intro(&mut top, 2, facts, theme);
        if facts.target_label().is_some() {
            password_store(&mut top, facts, theme);
            top.blank();
        }
        if self.targets_sandbox() {
            sandbox_note(&mut top, theme);
        }
        let mut rows: Vec<Row> = top.wrapped(width).iter().cloned().map(Row::text).collect();
        let (column, stacked) = input_column(width);
        let pad = " ".repeat(usize::from(column));
        for stop in self.stops() {
            let (mut row, below) = match stop {
                Stop::Input(index) => {
                    (self.input_row(index, theme), Some(self.below(index, theme)))
                }
                Stop::Auth => (self.auth_row(theme, stacked), Some(self.auth_hint(theme))),
                Stop::Sandbox => (self.toggle_row(theme), None),
                Stop::Save => (self.save_row(theme), None),
            };
            if stacked && let Some(index) = row.input.take() {
                rows.push(row);
                row = Row {
                    line: Line::default(),
                    input: Some(index),
                    focus: None,
                };
            }
            rows.push(row);
            let below = below.map(|line| indented(&pad, line));
            rows.extend(
                below
                    .into_iter()
                    .flat_map(|l| wrap(l, column, width))
                    .map(Row::text),
            );
        }
        rows
    }

    fn marker(&self, stop: Stop, theme: Theme) -> (&'static str, ratatui::style::Style) {
        if self.focus == stop {
            ("▶ ", theme.focus())
        } else {
            ("  ", theme.text())
        }
    }

    fn input_row(&self, index: usize, theme: Theme) -> Row {
        let (marker, style) = self.marker(Stop::Input(index), theme);
        Row {
            line: Line::styled(format!("{marker}{}", LABELS[index]), style),
            input: Some(index),
            focus: Some(Stop::Input(index)),
        }
    }

    /// The line under an input: its problem when there is one, else a hint.
    fn below(&self, index: usize, theme: Theme) -> Line<'static> {
        if let Some(problem) = self.problems.iter().find(|p| input_of(&p.field) == index) {
            let text = format!("✗ {}: {}", LABELS[index], problem.problem);
            return Line::styled(text, theme.fail());
        }
        let sandbox = self.targets_sandbox();
        let hint = match index {
            URL => {
                return Line::styled(url_hint(&self.inputs[URL].value()), theme.dim());
            }
            USER if sandbox => "sandbox demo user: itil, itil_admin, web-service-only",
            USER => "the integration user (web-service-only, itil + itil_admin)",
            PASSWORD if self.has_saved && self.inputs[PASSWORD].value().is_empty() => {
                "masked, never shown; leave empty to keep the stored password"
            }
            PASSWORD if sandbox => "masked, never shown; Ctrl-D fills the demo password",
            PASSWORD => "masked, never shown; kept in the OS keyring or for this session only",
            OAUTH_ID if sandbox => "Ctrl-D fills the sandbox's demo client",
            OAUTH_ID => "the client id of the OAuth entry in the Application Registry",
            OAUTH_SECRET => "masked, never shown; kept beside the password",
            _ => "table incident; field names separated by commas",
        };
        Line::styled(hint, theme.dim())
    }

    /// The auth choice; stacked, the label takes its own row and the choice goes below it.
    fn auth_row(&self, theme: Theme, stacked: bool) -> Row {
        let (marker, style) = self.marker(Stop::Auth, theme);
        let choice = |kind: AuthKind, text: &str| {
            let mark = if self.auth == kind { "(•) " } else { "( ) " };
            let look = if self.auth == kind {
                theme.heading()
            } else {
                theme.dim()
            };
            Span::styled(format!("{mark}{text}"), look)
        };
        let label = if stacked {
            format!("{marker}Auth method: ")
        } else {
            format!("{marker}{:<20}", "Auth method")
        };
        let line = Line::from(vec![
            Span::styled(label, style),
            choice(AuthKind::Basic, "basic"),
            Span::raw("   "),
            choice(AuthKind::OAuth, "OAuth password grant"),
        ]);
        Row {
            line,
            input: None,
            focus: Some(Stop::Auth),
        }
    }

    fn auth_hint(&self, theme: Theme) -> Line<'static> {
        let text = match self.auth {
            AuthKind::Basic => "← → or Space switches; OAuth also asks for a client",
            AuthKind::OAuth => {
                "OAuth failures are opaque on ServiceNow (a bare 401): the error will point at \
                 the instance's system log"
            }
        };
        Line::styled(text, theme.dim())
    }

    fn toggle_row(&self, theme: Theme) -> Row {
        let (marker, style) = self.marker(Stop::Sandbox, theme);
        let mark = if self.sandbox { "[x]" } else { "[ ]" };
        let mut spans = vec![Span::styled(
            format!("{marker}{mark} target is a sandbox or PDI"),
            style,
        )];
        if !self.sandbox {
            spans.push(Span::raw("  "));
            spans.push(Span::styled(" PRODUCTION ", theme.production()));
            spans.push(Span::styled(" writes change real records", theme.fail()));
        }
        Row {
            line: Line::from(spans),
            input: None,
            focus: Some(Stop::Sandbox),
        }
    }

    fn save_row(&self, theme: Theme) -> Row {
        let (marker, _) = self.marker(Stop::Save, theme);
        let button = if self.focus == Stop::Save {
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
            focus: Some(Stop::Save),
        }
    }
}

/// Says in words who the sandbox's demo user is and which key fills its password.
fn sandbox_note(doc: &mut Doc, theme: Theme) {
    doc.push_hanging(
        2,
        Line::from(vec![
            Span::styled("Embedded sandbox: ", theme.heading()),
            Span::raw(format!(
                "its demo user {INTEGRATION_USER} is filled in below. Press "
            )),
            Span::styled("Ctrl-D", theme.key()),
            Span::raw(
                " to fill its demo password (masked, never shown); it works on this sandbox only.",
            ),
        ]),
    );
    doc.blank();
}

/// Where the saved password is kept, why there, and whether this process can read it.
pub fn password_store(doc: &mut Doc, facts: &Facts, theme: Theme) {
    let Some(target) = facts.target_label() else {
        return;
    };
    let store = facts
        .credential
        .as_ref()
        .map(|c| c.store.clone())
        .or_else(|| facts.overview.as_ref().and_then(|o| o.secret_store.clone()))
        .unwrap_or_else(|| "an unknown store".to_owned());
    let (outcome, tail) = match &facts.credential {
        Some(c) if !c.readable => (Outcome::Fail, "; this process cannot read it"),
        Some(c) if !c.persists => (Outcome::Warn, ""),
        _ => (Outcome::Pass, ""),
    };
    let text = format!("saved {target}; password kept in {store}{tail}");
    doc.push_hanging(8, check_line(outcome, &text, theme));
    let why = facts
        .saved
        .as_ref()
        .filter(|s| s.instance == target && !s.note.is_empty());
    if let Some(saved) = why {
        let line = Line::styled(
            format!("        why: {}", one_line(&saved.note)),
            theme.dim(),
        );
        doc.push_hanging(13, line);
    }
    if let Some(problem) = facts.credential.as_ref().and_then(|c| c.problem.as_ref()) {
        let line = Line::styled(format!("        {}", one_line(problem)), theme.fail());
        doc.push_hanging(8, line);
    }
}

/// A hint or problem moved to the input column.
fn indented(pad: &str, line: Line<'static>) -> Line<'static> {
    let style = line.style;
    let mut spans = vec![Span::raw(pad.to_owned())];
    spans.extend(line.spans);
    Line::from(spans).style(style)
}

/// Wraps a line under the input column.
fn wrap(line: Line<'static>, column: u16, width: u16) -> Vec<Line<'static>> {
    let mut doc = Doc::new();
    doc.push_hanging(usize::from(column), line);
    doc.wrapped(width).to_vec()
}

/// What the typed URL will mean, as the operator types it.
fn url_hint(typed: &str) -> String {
    match normalise_instance_url(typed) {
        Ok(InstanceTarget::Sandbox) => {
            "→ embedded sandbox on 127.0.0.1 (no account or network)".to_owned()
        }
        Ok(InstanceTarget::Remote(url)) => format!("→ {url}"),
        Err(error) => format!("! {error}"),
    }
}
