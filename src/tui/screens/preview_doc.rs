//! The preview as a document: a diff per field with `+`/`-` markers, blocked fields, policy
//! posture, rollback readiness and the digest. Built once per preview, then only scrolled.

use crate::domain::incident::local_time;
use ratatui::text::{Line, Span};

use super::check_line;
use crate::domain::preview::{ChangeKind, DiffLine, FieldChange, Preview, line_diff};
use crate::domain::run::{GovernedRun, RunMode};
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::Doc;
use crate::tui::widgets::sanitize::{clean, clean_lines, one_line};

const INDENT: &str = "    ";

/// Builds the whole preview document.
pub fn build(run: &GovernedRun, preview: &Preview, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    header(&mut doc, run, preview, theme);
    doc.blank();
    changes(&mut doc, preview, theme);
    blocked(&mut doc, preview, theme);
    doc.blank();
    posture(&mut doc, preview, theme);
    doc.blank();
    rollback(&mut doc, preview, theme);
    doc.blank();
    effects(&mut doc, preview, run.mode, theme);
    doc.blank();
    doc.push(Line::from(vec![
        Span::styled("Digest  ", theme.heading()),
        Span::raw(one_line(&preview.digest)),
        Span::styled("  (an approval binds to this digest only)", theme.dim()),
    ]));
    doc
}

fn header(doc: &mut Doc, run: &GovernedRun, preview: &Preview, theme: Theme) {
    let summary = one_line(&preview.short_description);
    doc.push_hanging(
        2,
        Line::from(vec![
            Span::styled(
                format!("{} on {}", preview.action, one_line(&preview.number)),
                theme.title(),
            ),
            Span::raw(format!("  \"{summary}\"")),
        ]),
    );
    let target = if preview.is_sandbox {
        Span::styled(
            format!("target {} (sandbox)", one_line(&preview.target)),
            theme.text(),
        )
    } else {
        Span::styled(
            format!(
                "target {}: a live write changes real records",
                one_line(&preview.target)
            ),
            theme.fail(),
        )
    };
    if preview.is_sandbox {
        doc.push(Line::from(target));
    } else {
        let badge = Span::styled(" PRODUCTION ", theme.production());
        doc.push_hanging(2, Line::from(vec![badge, Span::raw(" "), target]));
    }
    let mode_style = if run.mode == RunMode::Live {
        theme.live()
    } else {
        theme.dry_run()
    };
    doc.push_hanging(
        2,
        Line::from(vec![
            Span::styled(format!(" {} ", run.mode.banner()), mode_style),
            Span::raw(format!(" run {} · {}", run.id, run.state)),
            Span::styled(
                format!(
                    " · record version {}, updated {}",
                    preview.mod_count,
                    one_line(&local_time(&preview.updated_on))
                ),
                theme.dim(),
            ),
        ]),
    );
}

fn changes(doc: &mut Doc, preview: &Preview, theme: Theme) {
    let sent = preview
        .changes
        .iter()
        .filter(|c| c.kind != ChangeKind::Unchanged)
        .count();
    doc.push(Line::styled(
        format!("Changes: {sent} field(s) will be sent"),
        theme.heading(),
    ));
    for change in &preview.changes {
        field_title(doc, change, theme);
        match change.kind {
            ChangeKind::Set => set_diff(doc, change, theme),
            ChangeKind::JournalAppend => journal(doc, change, theme),
            ChangeKind::Unchanged => {
                let text = format!(
                    "= {} (unchanged, not sent)",
                    one_line(&change.after_display)
                );
                doc.push(Line::styled(format!("{INDENT}{text}"), theme.dim()));
            }
        }
    }
}

fn field_title(doc: &mut Doc, change: &FieldChange, theme: Theme) {
    let how = match change.kind {
        ChangeKind::JournalAppend => ": appended as a new journal entry; earlier entries stay",
        ChangeKind::Set | ChangeKind::Unchanged => "",
    };
    doc.push_hanging(
        4,
        Line::from(vec![
            Span::raw("  "),
            Span::styled(one_line(&change.label), theme.heading()),
            Span::styled(format!(" [{}]{how}", change.field), theme.dim()),
        ]),
    );
}

fn set_diff(doc: &mut Doc, change: &FieldChange, theme: Theme) {
    if change.before.contains('\n') || change.after.contains('\n') {
        for line in line_diff(&change.before, &change.after) {
            diff_line(doc, &line, theme);
        }
        return;
    }
    diff_line(
        doc,
        &DiffLine::Removed(shown(&change.before, &change.before_display)),
        theme,
    );
    diff_line(
        doc,
        &DiffLine::Added(shown(&change.after, &change.after_display)),
        theme,
    );
}

/// A value as shown: its label, with the raw value when they differ, or `(empty)`.
fn shown(value: &str, display: &str) -> String {
    match (value.is_empty(), display.is_empty() || display == value) {
        (true, _) => "(empty)".to_owned(),
        (false, true) => value.to_owned(),
        (false, false) => format!("{display} ({value})"),
    }
}

fn journal(doc: &mut Doc, change: &FieldChange, theme: Theme) {
    for line in clean_lines(&change.after) {
        diff_line(doc, &DiffLine::Added(line), theme);
    }
}

/// One diff line: the marker is text, so it survives `NO_COLOR`, and repeats when wrapped.
fn diff_line(doc: &mut Doc, line: &DiffLine, theme: Theme) {
    let (marker, style, text) = match line {
        DiffLine::Same(t) => ("  ", theme.dim(), t),
        DiffLine::Removed(t) => ("- ", theme.removed(), t),
        DiffLine::Added(t) => ("+ ", theme.added(), t),
    };
    let prefix = Span::styled(format!("{INDENT}{marker}"), style);
    doc.push_prefixed(prefix, vec![Span::styled(clean(text).into_owned(), style)]);
}

fn blocked(doc: &mut Doc, preview: &Preview, theme: Theme) {
    if preview.blocked.is_empty() {
        return;
    }
    doc.blank();
    doc.push(Line::styled(
        "Blocked: outside the allowlist, never sent",
        theme.fail(),
    ));
    for field in &preview.blocked {
        doc.push(Line::styled(
            format!("{INDENT}✗ {} (blocked)", one_line(field)),
            theme.fail(),
        ));
    }
}

fn posture(doc: &mut Doc, preview: &Preview, theme: Theme) {
    let style = if preview.posture.allowed() {
        theme.pass()
    } else {
        theme.fail()
    };
    doc.push(Line::from(vec![
        Span::styled("Policy posture: ", theme.heading()),
        Span::styled(preview.posture.summary(), style),
    ]));
    for check in &preview.posture.checks {
        let text = format!("{:<12} {}", check.rule, check.detail);
        let line = check_line(check.outcome, &text, theme);
        doc.push_hanging(21, line);
    }
}

fn rollback(doc: &mut Doc, preview: &Preview, theme: Theme) {
    let plan = &preview.rollback;
    let (word, style) = if plan.reversible {
        ("REVERSIBLE", theme.pass())
    } else {
        ("ONE-WAY", theme.warn())
    };
    doc.push(Line::from(vec![
        Span::styled("Rollback readiness: ", theme.heading()),
        Span::styled(word, style),
    ]));
    doc.push_hanging(
        4,
        Line::raw(format!("  recovery: {}", one_line(&plan.explanation))),
    );
    let image: Vec<String> = plan
        .before_image
        .iter()
        .map(|(f, v)| format!("{f}={}", one_line(&shown(v, v))))
        .collect();
    doc.push_hanging(
        4,
        Line::raw(format!("  before-image: {}", image.join(", "))),
    );
    if !plan.compensating_writes.is_empty() {
        let writes: Vec<String> = plan
            .compensating_writes
            .iter()
            .map(|(f, v)| format!("{f}={}", one_line(v)))
            .collect();
        doc.push_hanging(
            4,
            Line::raw(format!(
                "  a rollback run would write: {}",
                writes.join(", ")
            )),
        );
        doc.push_hanging(
            4,
            Line::raw(format!(
                "  and add the work note: {}",
                one_line(&plan.compensating_note)
            )),
        );
    }
    if let Some(alternative) = &plan.alternative {
        doc.push_hanging(
            4,
            Line::from(vec![
                Span::styled("  reversible alternative: ", theme.heading()),
                Span::raw(one_line(alternative)),
                Span::styled(" (t on the sample screen)", theme.dim()),
            ]),
        );
    }
}

fn effects(doc: &mut Doc, preview: &Preview, mode: RunMode, theme: Theme) {
    let title = match mode {
        RunMode::DryRun => "What the instance would do (simulated; nothing is sent in a dry run)",
        RunMode::Live => "What the instance will do",
    };
    doc.push(Line::styled(title, theme.heading()));
    for effect in &preview.expected_effects {
        doc.push_bullet(2, vec![Span::raw(one_line(effect))]);
    }
}
