//! The first screen: the lane as the product page describes it, each step's status, and the
//! next move with the key that goes there.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::status_span;
use crate::domain::CLOSE_TICKET;
use crate::domain::onboarding::{STEPS, StepStatus};
use crate::tui::app::Facts;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::{self, pad};
use crate::tui::widgets::{LABEL_WIDTH, label_value};

/// The lane's known limits, in our words, from the product page.
const KNOWN_LIMITS: [&str; 3] = [
    "The fully seeded simulation workspace is not offered for this connector yet; the \
     embedded sandbox tells the same story on this machine instead.",
    "Keep the first workflow narrow, so that validation and metadata freshness stay easy to see.",
    "While the connector is in beta posture, touch non-production records only.",
];

/// Where a step's title starts, so that wrapped titles and details line up under it.
const STEP_INDENT: usize = 36;

/// Draws the overview.
pub fn render(area: Rect, buf: &mut Buffer, facts: &Facts, scroll: &mut Scroll, theme: Theme) {
    build(facts, theme).render(area, buf, scroll);
}

fn build(facts: &Facts, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    doc.push(Line::styled("ServiceNow Ticketing", theme.title()));
    doc.push(Line::styled(
        "From stored ServiceNow credentials to one governed, verified incident closure with \
         rollback evidence.",
        theme.dim(),
    ));
    doc.blank();
    lane(&mut doc, facts, theme);
    doc.blank();
    next_move(&mut doc, facts, theme);
    doc.blank();
    steps(&mut doc, facts, theme);
    doc.blank();
    go_live(&mut doc, facts, theme);
    doc.blank();
    doc.push(Line::styled("Known limits", theme.heading()));
    for limit in KNOWN_LIMITS {
        doc.push_bullet(2, vec![Span::raw(limit)]);
    }
    doc
}

fn lane(doc: &mut Doc, facts: &Facts, theme: Theme) {
    let row = |label: &str, value: &str| Line::from(label_value(label, value, theme));
    let label = |text: &str| Span::styled(pad(text, LABEL_WIDTH), theme.dim());
    doc.push(Line::from(vec![
        label("Sandbox availability"),
        Span::styled("Sandbox-ready", theme.pass()),
    ]));
    doc.push_hanging(
        LABEL_WIDTH,
        row(
            "Live sandbox path",
            "Official free dev: a free ServiceNow Developer Program account with a Personal \
         Developer Instance",
        ),
    );
    doc.push_hanging(LABEL_WIDTH, row("Sandbox posture", &posture(facts)));
    doc.push(Line::from(vec![
        label("First action"),
        Span::styled(CLOSE_TICKET, theme.heading()),
    ]));
    doc.push_hanging(LABEL_WIDTH, row(
        "Lane maturity",
        "pre-pilot, beta posture: auth, metadata sync and sandbox writes work here, but the lane \
         is not yet proven with real external tenants",
    ));
    doc.push_hanging(LABEL_WIDTH, row("Target", &target(facts)));
}

fn posture(facts: &Facts) -> String {
    let base = "Official ServiceNow Personal Developer Instance";
    match facts.overview.as_ref() {
        Some(o) if o.target.as_deref() == Some("embedded sandbox") => {
            format!("{base}; connected now to the embedded sandbox that behaves like one")
        }
        Some(o) if o.target.is_some() && !o.is_sandbox => {
            format!("{base} expected, but the saved target is marked PRODUCTION")
        }
        _ => base.to_owned(),
    }
}

fn target(facts: &Facts) -> String {
    match facts.overview.as_ref() {
        Some(o) => match (&o.target, &o.secret_store) {
            (Some(t), Some(store)) => format!("{t} (password: {store})"),
            (Some(t), None) => t.clone(),
            (None, _) => "nothing saved yet".to_owned(),
        },
        None => "reading…".to_owned(),
    }
}

fn next_move(doc: &mut Doc, facts: &Facts, theme: Theme) {
    let text = facts
        .overview
        .as_ref()
        .map_or("reading progress…", |o| o.next_move.as_str());
    doc.push_hanging(
        11,
        Line::from(vec![
            Span::styled("Next move  ", theme.heading()),
            Span::styled(sanitize::one_line(text), theme.warn()),
        ]),
    );
    doc.push(Line::from(vec![
        Span::raw("           press "),
        Span::styled("Enter", theme.key()),
        Span::raw(" to go there"),
    ]));
}

fn steps(doc: &mut Doc, facts: &Facts, theme: Theme) {
    doc.push(Line::styled("Developer connection steps", theme.heading()));
    let stored = facts
        .overview
        .as_ref()
        .map(|o| o.steps.as_slice())
        .unwrap_or_default();
    for (i, (number, id, title, _)) in STEPS.iter().enumerate() {
        let status = stored.get(i).map_or(&StepStatus::Todo, |s| &s.status);
        let line = Line::from(vec![
            Span::styled(format!("  {number} "), theme.key()),
            Span::raw(format!("{id:<22}")),
            status_span(status, theme),
            Span::raw(format!(" {title}")),
        ]);
        doc.push_hanging(STEP_INDENT, line);
        if let StepStatus::Warning(detail) | StepStatus::Blocked(detail) = status {
            let style = if matches!(status, StepStatus::Blocked(_)) {
                theme.fail()
            } else {
                theme.warn()
            };
            let indent = Span::raw(" ".repeat(STEP_INDENT));
            let text = Span::styled(sanitize::one_line(detail), style);
            doc.push_hanging(STEP_INDENT, Line::from(vec![indent, text]));
        }
    }
}

fn go_live(doc: &mut Doc, facts: &Facts, theme: Theme) {
    doc.push(Line::styled(
        "Go live, from stored evidence",
        theme.heading(),
    ));
    let items = facts
        .overview
        .as_ref()
        .map(|o| o.go_live.as_slice())
        .unwrap_or_default();
    for item in items {
        let (mark, style) = if item.met {
            ("[x] ", theme.pass())
        } else {
            ("[ ] ", theme.dim())
        };
        let line = Line::from(vec![
            Span::raw("  "),
            Span::styled(mark, style),
            Span::raw(sanitize::one_line(&item.condition)),
            Span::styled(
                format!(": {}", sanitize::one_line(&item.evidence)),
                theme.dim(),
            ),
        ]);
        doc.push_hanging(6, line);
    }
    let demo = "an evaluator demos the path without narration: the app cannot measure this; try it";
    let line = Line::from(vec![
        Span::raw("  "),
        Span::styled("[?] ", theme.dim()),
        Span::raw(demo),
    ]);
    doc.push_hanging(6, line);
}
