//! Step 02 create-user: what validation learned about the integration user, in words.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::check_line;
use super::instance::intro;
use crate::domain::onboarding::ValidationReport;
use crate::domain::policy::Outcome;
use crate::tui::app::Facts;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::label_value;

/// Draws step 02.
pub fn render(area: Rect, buf: &mut Buffer, facts: &Facts, scroll: &mut Scroll, theme: Theme) {
    build(facts, theme).render(area, buf, scroll);
}

fn build(facts: &Facts, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    intro(&mut doc, 1, facts, theme);
    let Some(report) = &facts.validation else {
        doc.push(Line::from(vec![
            Span::raw("Not validated yet: press "),
            Span::styled("v", theme.key()),
            Span::raw(" to read the user and its roles from the instance."),
        ]));
        return doc;
    };
    let name = format!("{} ({})", report.user_name, report.user_display_name);
    doc.push(Line::from(label_value("User", &name, theme)));
    let roles = if report.roles.is_empty() {
        "none".to_owned()
    } else {
        report.roles.join(", ")
    };
    doc.push(Line::from(label_value("Roles", &roles, theme)));
    doc.blank();
    doc.push(Line::styled("Findings", theme.heading()));
    for (outcome, text) in findings(report) {
        doc.push_hanging(8, check_line(outcome, &text, theme));
    }
    doc
}

/// Each property of the user as a check with a sentence.
pub fn findings(report: &ValidationReport) -> Vec<(Outcome, String)> {
    let yes_no = |ok: bool, yes: &str, no: &str| {
        if ok {
            (Outcome::Pass, yes.to_owned())
        } else {
            (Outcome::Fail, no.to_owned())
        }
    };
    vec![
        yes_no(
            report.active,
            "active",
            "inactive: activate the user on the instance",
        ),
        yes_no(
            !report.locked_out,
            "not locked out",
            "locked out: unlock the user on the instance",
        ),
        if report.web_service_only {
            (
                Outcome::Pass,
                "web-service-only: cannot log in to the UI".to_owned(),
            )
        } else {
            (
                Outcome::Warn,
                "not web-service-only: tick \"Web service access only\"".to_owned(),
            )
        },
        yes_no(
            report.can_resolve(),
            "may resolve incidents (itil)",
            "cannot resolve incidents: grant itil",
        ),
        yes_no(
            report.can_close(),
            "may close incidents (itil_admin)",
            "cannot close incidents: grant itil_admin",
        ),
        if report.is_admin() {
            (
                Outcome::Warn,
                "holds admin: NOT least-privilege; use itil + itil_admin only".to_owned(),
            )
        } else {
            (Outcome::Pass, "no admin role: least-privilege".to_owned())
        },
    ]
}
