//! Step 04 configure-actionplane: validate and sync with progress, then the metadata table of
//! the allowlisted fields (dictionary entries and choice lists).

use crate::domain::incident::local_time;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::check_line;
use super::instance::intro;
use crate::domain::metadata::{FieldMetadata, TableMetadata};
use crate::domain::onboarding::StepStatus;
use crate::domain::policy::Outcome;
use crate::tui::action::Action;
use crate::tui::app::Facts;
use crate::tui::message::Job;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::{one_line, pad};

/// The metadata table's columns: title and width (the last takes the rest).
const COLUMNS: [(&str, usize); 7] = [
    ("field", 12),
    ("label", 17),
    ("type", 14),
    ("max", 5),
    ("mandatory", 10),
    ("read-only", 10),
    ("choices", 0),
];

/// Where the choices column starts, so that long choice lists wrap under it.
const CHOICES_AT: usize = 70;

/// Handles the step's keys.
pub fn on_key(key: KeyEvent) -> Action {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return Action::Ignored;
    }
    match key.code {
        KeyCode::Enter => Action::Start(Job::ValidateAndSync),
        KeyCode::Char('v') => Action::Start(Job::Validate),
        KeyCode::Char('s') => Action::Start(Job::Sync),
        _ => Action::Ignored,
    }
}

/// Draws step 04.
pub fn render(area: Rect, buf: &mut Buffer, facts: &Facts, scroll: &mut Scroll, theme: Theme) {
    build(facts, theme).render(area, buf, scroll);
}

fn build(facts: &Facts, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    intro(&mut doc, 3, facts, theme);
    connection(&mut doc, facts, theme);
    doc.blank();
    match &facts.metadata {
        Some(metadata) => table(&mut doc, metadata, theme),
        None => doc.push(Line::from(vec![
            Span::raw("No metadata synced yet: press "),
            Span::styled("Enter", theme.key()),
            Span::raw(" to validate and sync, or "),
            Span::styled("s", theme.key()),
            Span::raw(" to sync only."),
        ])),
    }
    doc
}

fn connection(doc: &mut Doc, facts: &Facts, theme: Theme) {
    doc.push(Line::styled("Connection", theme.heading()));
    if facts.target_label().is_none() {
        doc.push_hanging(
            8,
            check_line(
                Outcome::Fail,
                "nothing saved yet: fill in step 03 first (press 3)",
                theme,
            ),
        );
        return;
    }
    super::fields_view::password_store(doc, facts, theme);
    let first_step = facts
        .overview
        .as_ref()
        .and_then(|o| o.steps.first())
        .map(|s| s.status.clone());
    match (&facts.validation, first_step) {
        (Some(report), _) => {
            let text = format!(
                "auth validated as {} at {}",
                report.user_name,
                local_time(&report.checked_at)
            );
            doc.push_hanging(8, check_line(Outcome::Pass, &text, theme));
        }
        (None, Some(StepStatus::Blocked(error))) => {
            doc.push_hanging(8, check_line(Outcome::Fail, &error, theme));
        }
        (None, _) => doc.push_hanging(
            8,
            check_line(Outcome::Warn, "auth not validated yet: press v", theme),
        ),
    }
    if let Some(metadata) = &facts.metadata {
        let text = format!(
            "synced {} fields of {} at {}",
            metadata.fields.len(),
            metadata.hierarchy.join(" ← "),
            local_time(&metadata.synced_at)
        );
        doc.push_hanging(8, check_line(Outcome::Pass, &text, theme));
        if !metadata.missing.is_empty() {
            let text = format!(
                "not on the instance: {} (fix the allowlist in step 03)",
                metadata.missing.join(", ")
            );
            doc.push_hanging(8, check_line(Outcome::Fail, &text, theme));
        }
    }
}

fn table(doc: &mut Doc, metadata: &TableMetadata, theme: Theme) {
    doc.push(Line::styled(
        format!(
            "Dictionary of the allowlisted fields on {}",
            one_line(&metadata.table)
        ),
        theme.heading(),
    ));
    let header: Vec<String> = COLUMNS
        .iter()
        .map(|(title, _)| (*title).to_owned())
        .collect();
    doc.push(Line::styled(format!("  {}", cells(&header)), theme.dim()));
    for field in &metadata.fields {
        let style = if field.entry.read_only {
            theme.fail()
        } else {
            theme.text()
        };
        doc.push_hanging(
            CHOICES_AT,
            Line::styled(format!("  {}", cells(&row(field))), style),
        );
    }
    for missing in &metadata.missing {
        doc.push(Line::styled(
            format!("  {:<12}not in the dictionary", one_line(missing)),
            theme.fail(),
        ));
    }
    let with_choices: Vec<_> = metadata
        .fields
        .iter()
        .filter(|f| !f.choices.is_empty())
        .collect();
    if with_choices.is_empty() {
        return;
    }
    doc.blank();
    doc.push(Line::styled(
        "Choice lists (value = label)",
        theme.heading(),
    ));
    for field in with_choices {
        let list: Vec<String> = field
            .choices
            .iter()
            .map(|c| choice_text(&c.value, &c.label))
            .collect();
        doc.push_prefixed(
            Span::raw("    "),
            vec![
                Span::styled(format!("{}: ", field.entry.element), theme.key()),
                Span::raw(list.join(" · ")),
            ],
        );
    }
}

fn row(field: &FieldMetadata) -> Vec<String> {
    let entry = &field.entry;
    let yes_no = |b: bool| if b { "yes" } else { "no" }.to_owned();
    let choices = match field.choices.len() {
        0 => "-".to_owned(),
        n => format!("{n}, below"),
    };
    vec![
        entry.element.clone(),
        entry.label.clone(),
        entry.internal_type.clone(),
        entry
            .max_length
            .map_or_else(|| "-".to_owned(), |m| m.to_string()),
        yes_no(entry.mandatory),
        yes_no(entry.read_only),
        choices,
    ]
}

/// Pads each value to its column; the last column is left as long as it is (the doc wraps).
fn cells(values: &[String]) -> String {
    let mut line = String::new();
    for ((_, width), value) in COLUMNS.iter().zip(values) {
        let value = one_line(value);
        if *width == 0 {
            line.push_str(&value);
        } else {
            line.push_str(&pad(&value, width - 1));
            line.push(' ');
        }
    }
    line
}

fn choice_text(value: &str, label: &str) -> String {
    if value == label {
        one_line(label)
    } else {
        format!("{} = {}", one_line(value), one_line(label))
    }
}
