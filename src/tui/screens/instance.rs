//! Step 01 create-pdi: which instance answers, its build, or what the embedded sandbox is.

use crate::domain::incident::local_time;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::check_line;
use crate::domain::onboarding::{STEPS, StepStatus};
use crate::domain::policy::Outcome;
use crate::tui::app::Facts;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::label_value;

/// Draws step 01.
pub fn render(area: Rect, buf: &mut Buffer, facts: &Facts, scroll: &mut Scroll, theme: Theme) {
    build(facts, theme).render(area, buf, scroll);
}

/// The step's title and what to do, shared by the five step screens.
pub fn intro(doc: &mut Doc, index: usize, facts: &Facts, theme: Theme) {
    let (number, id, title, what) = STEPS[index];
    doc.push(Line::styled(
        format!("{number} {id}: {title}"),
        theme.title(),
    ));
    doc.push(Line::styled(what, theme.dim()));
    let status = facts
        .overview
        .as_ref()
        .and_then(|o| o.steps.get(index))
        .map_or(StepStatus::Todo, |s| s.status.clone());
    let mut line = vec![
        Span::styled("Status  ", theme.dim()),
        super::status_span(&status, theme),
    ];
    if let StepStatus::Warning(detail) | StepStatus::Blocked(detail) = &status {
        line.push(Span::raw(crate::tui::widgets::sanitize::one_line(detail)));
    }
    doc.push_prefixed(Span::raw("        "), line);
    doc.blank();
}

fn build(facts: &Facts, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    intro(&mut doc, 0, facts, theme);
    if facts.target_label() == Some("embedded sandbox") {
        sandbox_story(&mut doc, theme);
    } else {
        pdi_story(&mut doc, theme);
    }
    doc.blank();
    doc.push(Line::styled("What the instance answered", theme.heading()));
    match &facts.validation {
        Some(report) => {
            doc.push_hanging(
                8,
                check_line(
                    Outcome::Pass,
                    "the Table API answers with the saved credentials",
                    theme,
                ),
            );
            doc.push(Line::from(label_value(
                "  Instance",
                &report.instance,
                theme,
            )));
            doc.push(Line::from(label_value(
                "  Build",
                &report.build_text(),
                theme,
            )));
            doc.push(Line::from(label_value(
                "  Checked at",
                &local_time(&report.checked_at),
                theme,
            )));
        }
        None => {
            doc.push(Line::from(vec![
                Span::raw("  not validated yet: press "),
                Span::styled("v", theme.key()),
                Span::raw(" to call the instance (after saving settings in step 03)"),
            ]));
        }
    }
    doc
}

fn sandbox_story(doc: &mut Doc, theme: Theme) {
    doc.push(Line::styled("The embedded sandbox", theme.heading()));
    for text in [
        "The target is the sandbox that ships inside ActionPlane: a ServiceNow Table API server \
         that this app starts on 127.0.0.1, with its own state file beside the workspace.",
        "It behaves like a Personal Developer Instance: basic auth against its users, roles, the \
         resolve/close data policy, business rules, journals and sys_mod_count. No account and \
         no network are needed.",
        "Its seed story holds INC-42, open with low customer impact; a reset restores it (audit \
         records are kept).",
    ] {
        doc.push_prefixed(Span::raw("  "), vec![Span::raw(text)]);
    }
}

fn pdi_story(doc: &mut Doc, theme: Theme) {
    doc.push(Line::styled(
        "Getting a Personal Developer Instance",
        theme.heading(),
    ));
    for text in [
        "Sign in to the ServiceNow Developer Program (free) and request a Personal Developer \
         Instance; its URL looks like https://dev12345.service-now.com.",
        "A PDI sleeps after a few days without use and then answers with an HTML page: wake it \
         from the developer portal, then validate again.",
        "Or type `sandbox` as the instance URL in step 03 to use the embedded sandbox.",
    ] {
        doc.push_prefixed(Span::raw("  "), vec![Span::raw(text)]);
    }
}
