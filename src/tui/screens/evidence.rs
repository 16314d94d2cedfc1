//! The evidence of one run after execution: its state, the approval, what was sent, the
//! read-back and the rollback plan. After a verified dry run it offers the same change live.

use crate::domain::incident::local_time;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use serde_json::Value;

use super::audit;
use crate::domain::incident::Record;
use crate::domain::preview::{ChangeKind, CloseRequest, Preview};
use crate::domain::run::{GovernedRun, RunMode, RunState};
use crate::tui::action::{Action, Notice};
use crate::tui::message::{EvidenceData, ExportView, Job};
use crate::tui::screens::Screen;
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::{clean_lines, one_line};
use crate::workspace::ROLLBACK_ACTION;

/// The evidence screen's state: the stored run and its documents.
pub struct EvidenceView {
    pub data: EvidenceData,
    doc: Doc,
    pub scroll: Scroll,
    pub audit_doc: Doc,
    pub audit_scroll: Scroll,
    /// Where this run's evidence pack was written, once exported.
    pub exported: Option<ExportView>,
}

impl EvidenceView {
    /// Builds the evidence and audit documents once per run.
    pub fn new(data: EvidenceData, theme: Theme) -> Self {
        let doc = build(&data, None, theme);
        let audit_doc = audit::build(&data, theme);
        Self {
            data,
            doc,
            scroll: Scroll::default(),
            audit_doc,
            audit_scroll: Scroll::default(),
            exported: None,
        }
    }

    /// Keeps the scroll positions and the export of the view this one replaces.
    pub fn keep_place(&mut self, old: Self, theme: Theme) {
        self.scroll = old.scroll;
        self.audit_scroll = old.audit_scroll;
        if let Some(pack) = old.exported {
            self.set_exported(pack, theme);
        }
    }

    /// Shows where the evidence pack went.
    pub fn set_exported(&mut self, pack: ExportView, theme: Theme) {
        self.exported = Some(pack);
        self.doc = build(&self.data, self.exported.as_ref(), theme);
    }

    /// Whether this run is a verified dry run, so the same change may be previewed live.
    pub fn live_offered(&self) -> bool {
        self.data.run.mode == RunMode::DryRun && self.data.run.state == RunState::Verified
    }

    /// Whether a linked rollback run may be previewed: a live forward run that landed.
    pub fn rollback_offered(&self) -> bool {
        let run = &self.data.run;
        let reversible = self
            .data
            .preview
            .as_ref()
            .is_some_and(|p| p.rollback.reversible);
        run.mode == RunMode::Live
            && run.action != ROLLBACK_ACTION
            && reversible
            && matches!(run.state, RunState::Verified | RunState::Diverged)
    }

    /// The change to preview live: the dry run's sendable writes, as a request.
    pub fn live_request(&self) -> Option<CloseRequest> {
        self.live_offered()
            .then(|| self.data.preview.as_ref().map(request_of))
            .flatten()
    }

    /// Handles the screen's keys.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return Action::Ignored;
        }
        match key.code {
            KeyCode::Char('L') if self.live_offered() => Action::GoLive,
            KeyCode::Char('L') => Action::Notice(Notice::error(
                "live is offered after a verified dry run of the same change; this run is not one",
            )),
            KeyCode::Char('A') => Action::Go(Screen::Audit),
            KeyCode::Char('x') => Action::Start(Job::ExportEvidence(self.data.run.id.clone())),
            KeyCode::Char('B') if self.rollback_offered() => {
                Action::Start(Job::PreviewRollback(self.data.run.id.clone()))
            }
            KeyCode::Char('C') if self.data.interrupted => {
                Action::Start(Job::Reconcile(self.data.run.id.clone()))
            }
            _ if self.scroll.handle_key(key) => Action::Done,
            _ => Action::Ignored,
        }
    }

    /// Draws the visible part of the evidence.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer) {
        self.doc.render(area, buf, &mut self.scroll);
    }
}

/// The request that reproduces a preview's allowlisted writes.
pub fn request_of(preview: &Preview) -> CloseRequest {
    let after = |field: &str| {
        preview
            .changes
            .iter()
            .find(|c| c.field == field)
            .map(|c| c.after.clone())
            .unwrap_or_default()
    };
    let known = ["state", "close_code", "close_notes", "work_notes"];
    CloseRequest {
        number: preview.number.clone(),
        target_state: after("state"),
        close_code: after("close_code"),
        close_notes: after("close_notes"),
        work_note: after("work_notes"),
        extra: preview
            .changes
            .iter()
            .filter(|c| c.kind != ChangeKind::Unchanged && !known.contains(&c.field.as_str()))
            .map(|c| (c.field.clone(), c.after.clone()))
            .collect(),
    }
}

fn build(data: &EvidenceData, exported: Option<&ExportView>, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    header(&mut doc, &data.run, theme);
    if data.interrupted {
        doc.push_hanging(
            2,
            Line::from(vec![
                Span::styled("Interrupted while executing. ", theme.warn()),
                Span::styled("C", theme.key()),
                Span::raw(" reconciles: reads the record first and never sends the write twice"),
            ]),
        );
    }
    doc.blank();
    export(&mut doc, exported, theme);
    doc.blank();
    approval(&mut doc, data, theme);
    doc.blank();
    match data.run.mode {
        RunMode::DryRun => simulation(&mut doc, data, theme),
        RunMode::Live => {
            sent(&mut doc, data, theme);
            doc.blank();
            read_back(&mut doc, data, theme);
        }
    }
    doc.blank();
    rollback(&mut doc, data, theme);
    doc.blank();
    let count = data.audit.len();
    doc.push(Line::from(vec![
        Span::styled(
            format!("Audit: {count} events on this run  "),
            theme.heading(),
        ),
        Span::styled("A", theme.key()),
        Span::raw(" lists them"),
    ]));
    let forward_landed = data.run.mode == RunMode::Live
        && data.run.action != ROLLBACK_ACTION
        && matches!(data.run.state, RunState::Verified | RunState::Diverged);
    if forward_landed {
        let reversible = data.preview.as_ref().is_some_and(|p| p.rollback.reversible);
        let text = if reversible {
            " previews the linked rollback run that restores the before-image"
        } else {
            " asks for a rollback run; a one-way close is refused with the reason"
        };
        doc.push(Line::from(vec![
            Span::styled("Undo: ", theme.heading()),
            Span::styled("B", theme.key()),
            Span::raw(text),
        ]));
    }
    if data.run.mode == RunMode::DryRun && data.run.state == RunState::Verified {
        doc.push(Line::from(vec![
            Span::styled("Next: ", theme.heading()),
            Span::styled("L", theme.key()),
            Span::raw(" previews this same change LIVE (approved again before it writes)"),
        ]));
    }
    doc
}

/// Where the pack went, or the key that writes it.
fn export(doc: &mut Doc, exported: Option<&ExportView>, theme: Theme) {
    let Some(pack) = exported else {
        doc.push_hanging(
            2,
            Line::from(vec![
                Span::styled("x", theme.key()),
                Span::styled(
                    " exports this evidence (Markdown and JSON) next to the database",
                    theme.dim(),
                ),
            ]),
        );
        return;
    };
    doc.push(Line::styled("Exported evidence pack", theme.heading()));
    for (what, path) in [("Markdown", &pack.markdown), ("JSON", &pack.json)] {
        let path = one_line(&path.display().to_string());
        doc.push_hanging(
            12,
            Line::from(vec![
                Span::styled(format!("  {what:<10}"), theme.dim()),
                Span::raw(path),
            ]),
        );
    }
    doc.push_hanging(
        12,
        Line::from(vec![
            Span::styled("  chain head ", theme.dim()),
            Span::raw(one_line(&pack.chain_head)),
        ]),
    );
}

fn header(doc: &mut Doc, run: &GovernedRun, theme: Theme) {
    let mode_style = if run.mode == RunMode::Live {
        theme.live()
    } else {
        theme.dry_run()
    };
    let state_style = match run.state {
        RunState::Verified => theme.pass(),
        RunState::Diverged | RunState::Failed | RunState::Stale | RunState::Rejected => {
            theme.fail()
        }
        _ => theme.warn(),
    };
    doc.push_hanging(
        2,
        Line::from(vec![
            Span::styled(format!(" {} ", run.mode.banner()), mode_style),
            Span::raw(" run "),
            Span::styled(run.id.clone(), theme.heading()),
            Span::raw("  "),
            Span::styled(run.state.as_str().to_uppercase(), state_style),
        ]),
    );
    let summary = format!(
        "{} on {} · {}",
        run.action,
        one_line(&run.number),
        one_line(&run.target)
    );
    doc.push_hanging(2, Line::raw(summary));
    let times = format!(
        "created {} · updated {}",
        local_time(&run.created_at),
        local_time(&run.updated_at)
    );
    doc.push(Line::styled(times, theme.dim()));
    if let Some(parent) = &run.parent_id {
        doc.push(Line::styled(
            format!("continues dry run {parent}"),
            theme.dim(),
        ));
    }
    if let Some(outcome) = &run.outcome {
        doc.push_hanging(
            2,
            Line::from(vec![
                Span::styled("Outcome ", theme.heading()),
                Span::raw(one_line(outcome)),
            ]),
        );
    }
}

fn approval(doc: &mut Doc, data: &EvidenceData, theme: Theme) {
    doc.push(Line::styled("Approval", theme.heading()));
    let Some(approval) = &data.approval else {
        doc.push(Line::styled("  none recorded", theme.dim()));
        return;
    };
    let via = if approval.over_ssh { " over SSH" } else { "" };
    doc.push(Line::raw(format!(
        "  by {}@{}{via} at {}",
        approval.approver,
        approval.host,
        local_time(&approval.approved_at)
    )));
    doc.push_hanging(
        4,
        Line::raw(format!("  reason: {}", one_line(&approval.reason))),
    );
    let binds = if approval.digest == data.run.digest {
        "matches the run"
    } else {
        "DOES NOT MATCH the run"
    };
    doc.push_hanging(
        4,
        Line::styled(
            format!("  digest {} ({binds})", approval.digest),
            theme.dim(),
        ),
    );
}

fn simulation(doc: &mut Doc, data: &EvidenceData, theme: Theme) {
    doc.push(Line::styled(
        "What was sent: nothing (dry run)",
        theme.heading(),
    ));
    let Some(body) = data.artifact("simulation") else {
        doc.push(Line::styled(
            "  no simulation stored (the run did not execute)",
            theme.dim(),
        ));
        return;
    };
    doc.push(Line::raw("  expected after-image:"));
    if let Some(after) = body.get("expectedAfterImage").and_then(Value::as_object) {
        for (field, value) in after {
            value_lines(doc, field, value.as_str().unwrap_or_default(), theme);
        }
    }
    doc.push(Line::raw("  instance rules that would fire:"));
    for rule in body
        .get("rulesThatWouldFire")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        doc.push_bullet(
            4,
            vec![Span::raw(one_line(rule.as_str().unwrap_or_default()))],
        );
    }
}

fn sent(doc: &mut Doc, data: &EvidenceData, theme: Theme) {
    doc.push(Line::styled("What was sent", theme.heading()));
    let Some(request) = data.artifact("request") else {
        doc.push(Line::styled(
            "  nothing: the run stopped before writing",
            theme.dim(),
        ));
        return;
    };
    let method = request
        .get("method")
        .and_then(Value::as_str)
        .unwrap_or("PATCH");
    let table = request
        .get("table")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sys_id = request
        .get("sysId")
        .and_then(Value::as_str)
        .unwrap_or_default();
    doc.push(Line::raw(format!(
        "  {method} {} {}",
        one_line(table),
        one_line(sys_id)
    )));
    if let Some(body) = request.get("body").and_then(Value::as_object) {
        for (field, value) in body {
            value_lines(doc, field, value.as_str().unwrap_or_default(), theme);
        }
    }
}

fn read_back(doc: &mut Doc, data: &EvidenceData, theme: Theme) {
    doc.push(Line::styled("Read-back", theme.heading()));
    let Some(body) = data.artifact("read-back") else {
        doc.push(Line::styled("  no read-back stored", theme.dim()));
        return;
    };
    let record: Option<Record> = body
        .get("record")
        .cloned()
        .and_then(|r| serde_json::from_value(r).ok());
    let fields: Vec<String> = data
        .preview
        .as_ref()
        .map(|p| {
            p.changes
                .iter()
                .filter(|c| c.kind == ChangeKind::Set)
                .map(|c| c.field.clone())
                .collect()
        })
        .unwrap_or_default();
    if let Some(record) = &record {
        for field in
            fields
                .iter()
                .map(String::as_str)
                .chain(["closed_at", "closed_by", "sys_mod_count"])
        {
            value_lines(doc, field, record.display(field), theme);
        }
    }
    let notes = body
        .get("journalEntriesFromRun")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    doc.push(Line::raw(format!(
        "  journal entries from this run: {notes}"
    )));
    let diverged: Vec<&str> = body
        .get("diverged")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if diverged.is_empty() {
        doc.push(Line::styled(
            "  every written field reads back as approved",
            theme.pass(),
        ));
    }
    for field in diverged {
        doc.push_hanging(
            4,
            Line::styled(format!("  ✗ diverged: {}", one_line(field)), theme.fail()),
        );
    }
}

fn rollback(doc: &mut Doc, data: &EvidenceData, theme: Theme) {
    doc.push(Line::styled("Rollback plan", theme.heading()));
    let Some(plan) = data.preview.as_ref().map(|p| &p.rollback) else {
        doc.push(Line::styled("  no preview stored", theme.dim()));
        return;
    };
    let word = if plan.reversible {
        "reversible"
    } else {
        "one-way"
    };
    doc.push_hanging(
        4,
        Line::raw(format!("  {word}: {}", one_line(&plan.explanation))),
    );
    for (field, value) in &plan.before_image {
        value_lines(doc, &format!("before {field}"), value, theme);
    }
    if let Some(alternative) = &plan.alternative {
        doc.push_hanging(
            4,
            Line::raw(format!("  alternative: {}", one_line(alternative))),
        );
    }
}

/// A field and its value; multi-line values continue indented under it.
fn value_lines(doc: &mut Doc, field: &str, value: &str, theme: Theme) {
    let mut lines = clean_lines(if value.is_empty() { "(empty)" } else { value }).into_iter();
    let first = lines.next().unwrap_or_default();
    doc.push_hanging(
        6,
        Line::from(vec![
            Span::styled(format!("    {field}: "), theme.dim()),
            Span::raw(first),
        ]),
    );
    for line in lines {
        doc.push_hanging(6, Line::raw(format!("      {line}")));
    }
}
