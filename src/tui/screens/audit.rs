//! The audit events of one run, oldest first: when, what, who, and the detail in one line.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::tui::message::EvidenceData;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::{one_line, pad, truncate};

/// Builds the list once per run.
pub fn build(data: &EvidenceData, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    doc.push_hanging(
        2,
        Line::from(vec![
            Span::styled(
                format!("Audit events of run {}  ", data.run.id),
                theme.heading(),
            ),
            Span::styled("A", theme.key()),
            Span::styled(" again lists every event of every run", theme.dim()),
        ]),
    );
    doc.push(Line::styled(
        format!(
            "  {}{}{}{}",
            pad("seq", 6),
            pad("at", 21),
            pad("event", 26),
            "actor · detail"
        ),
        theme.dim(),
    ));
    if data.audit.is_empty() {
        doc.push(Line::styled("  no events", theme.dim()));
    }
    for event in &data.audit {
        let detail = summary(&event.detail);
        doc.push_hanging(
            8,
            Line::from(vec![
                Span::raw(format!("  {}", pad(&event.seq.to_string(), 6))),
                Span::styled(pad(&one_line(&event.at), 21), theme.dim()),
                Span::styled(pad(&one_line(&event.kind), 26), theme.heading()),
                Span::raw(format!("{} · ", one_line(&event.actor))),
                Span::styled(detail, theme.dim()),
            ]),
        );
    }
    doc
}

/// The detail of an event in one short line: scalar fields as `key=value`, nested ones sized.
/// The full detail stays in the store and in the evidence export.
pub(crate) fn summary(detail: &serde_json::Value) -> String {
    use serde_json::Value;
    let Value::Object(fields) = detail else {
        return truncate(&one_line(&detail.to_string()), 80);
    };
    let parts: Vec<String> = fields
        .iter()
        .map(|(key, value)| match value {
            Value::String(text) => format!("{key}={}", truncate(&one_line(text), 40)),
            Value::Array(items) => format!("{key}=[{}]", items.len()),
            Value::Object(inner) => format!("{key}={{{} fields}}", inner.len()),
            other => format!("{key}={other}"),
        })
        .collect();
    truncate(&parts.join(", "), 200)
}

/// Draws the visible events.
pub fn render(area: Rect, buf: &mut Buffer, doc: &mut Doc, scroll: &mut Scroll) {
    doc.render(area, buf, scroll);
}
