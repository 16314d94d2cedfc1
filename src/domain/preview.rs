//! Previews: the before/after of every field, the policy posture, the rollback plan, the digest.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::incident::{Record, state};
use super::metadata::TableMetadata;
use super::policy::{self, Allowlist, PolicyInput, PolicyPosture};

/// The change an operator asks for with `support.close-ticket`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CloseRequest {
    /// The incident number as the operator typed it.
    pub number: String,
    /// `7` closes; `6` resolves (the reversible variant).
    pub target_state: String,
    pub close_code: String,
    pub close_notes: String,
    /// Appended to the journal; empty means no work note.
    pub work_note: String,
    /// Further field writes, which the allowlist may block.
    #[serde(default)]
    pub extra: Vec<(String, String)>,
}

impl CloseRequest {
    /// The canonical sample change of the seed story for a record.
    pub fn sample(number: &str) -> Self {
        Self {
            number: number.to_owned(),
            target_state: state::CLOSED.to_owned(),
            close_code: "Duplicate".to_owned(),
            close_notes: "Duplicate of an alert already handled: the monitoring event fired \
                          twice for the same outage. Confirmed by the operator; no customer \
                          impact beyond the original incident."
                .to_owned(),
            work_note: "Closed as a duplicate alert after operator review.".to_owned(),
            extra: Vec::new(),
        }
    }

    /// The field writes in the order they are shown and sent.
    pub fn writes(&self) -> Vec<(String, String)> {
        let mut writes = vec![
            ("state".to_owned(), self.target_state.clone()),
            ("close_code".to_owned(), self.close_code.clone()),
            ("close_notes".to_owned(), self.close_notes.clone()),
        ];
        if !self.work_note.trim().is_empty() {
            writes.push(("work_notes".to_owned(), self.work_note.clone()));
        }
        writes.extend(self.extra.iter().cloned());
        writes
    }
}

/// How a field changes: a value is replaced, or a journal entry is appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeKind {
    Set,
    JournalAppend,
    Unchanged,
}

/// One field of the preview: before, after, and their display labels.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldChange {
    pub field: String,
    pub label: String,
    pub kind: ChangeKind,
    pub before: String,
    pub after: String,
    pub before_display: String,
    pub after_display: String,
}

/// What undoing the change means, decided before approval.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RollbackPlan {
    pub reversible: bool,
    /// The raw values of the written fields before the change.
    pub before_image: BTreeMap<String, String>,
    /// The writes a rollback run would send (empty when not reversible).
    pub compensating_writes: Vec<(String, String)>,
    pub compensating_note: String,
    /// In words: what recovery means for this change.
    pub explanation: String,
    /// A reversible variant to offer instead, if any.
    pub alternative: Option<String>,
}

/// A complete preview of one write, bound to the record version it was computed from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Preview {
    pub action: String,
    pub target: String,
    pub is_sandbox: bool,
    pub table: String,
    pub number: String,
    pub sys_id: String,
    pub mod_count: u64,
    pub updated_on: String,
    pub short_description: String,
    /// What the operator asked for, kept so execution can re-check the policy.
    pub request: CloseRequest,
    pub changes: Vec<FieldChange>,
    pub blocked: Vec<String>,
    pub posture: PolicyPosture,
    pub rollback: RollbackPlan,
    /// Instance rules that will fire on the write, in words (the dry-run simulation).
    pub expected_effects: Vec<String>,
    pub allowlist_version: String,
    pub digest: String,
}

impl Preview {
    /// The writes that would be sent: allowlisted fields only.
    pub fn sendable_writes(&self) -> Vec<(String, String)> {
        self.changes
            .iter()
            .filter(|c| c.kind != ChangeKind::Unchanged)
            .map(|c| (c.field.clone(), c.after.clone()))
            .collect()
    }

    /// Whether the preview may be approved at all.
    pub fn approvable(&self) -> bool {
        self.posture.allowed() && self.changes.iter().any(|c| c.kind != ChangeKind::Unchanged)
    }
}

/// Everything a preview is computed from.
pub struct PreviewInput<'a> {
    pub action: &'a str,
    pub target: &'a str,
    pub is_sandbox: bool,
    /// Whether the address shows the target is a sandbox (see `InstanceTarget::is_known_sandbox`).
    pub known_sandbox: bool,
    pub production_acknowledged: bool,
    pub record: &'a Record,
    pub request: &'a CloseRequest,
    pub allowlist: &'a Allowlist,
    pub metadata: Option<&'a TableMetadata>,
    /// The user name the instance will stamp on the write.
    pub operator: &'a str,
}

/// Builds the preview: pure, deterministic, and the only place a digest is made.
pub fn build(input: &PreviewInput<'_>) -> Preview {
    let (allowed, blocked): (Vec<_>, Vec<_>) = input
        .request
        .writes()
        .into_iter()
        .partition(|(f, _)| input.allowlist.allows(f));
    let blocked: Vec<String> = blocked.into_iter().map(|(f, _)| f).collect();
    let changes: Vec<FieldChange> = allowed
        .iter()
        .map(|(f, v)| field_change(input, f, v))
        .collect();

    let after = |field: &str| {
        allowed
            .iter()
            .find(|(f, _)| f == field)
            .map_or(input.record.value(field), |(_, v)| v.as_str())
    };
    let target_state = allowed
        .iter()
        .find(|(f, _)| f == "state")
        .map(|(_, v)| v.as_str());
    let posture = policy::evaluate(&PolicyInput {
        allowlist: input.allowlist,
        metadata: input.metadata,
        writes: &allowed,
        blocked: &blocked,
        after_close_code: after("close_code"),
        after_close_notes: after("close_notes"),
        target_state,
        current_state: input.record.value("state"),
        is_sandbox: input.is_sandbox,
        known_sandbox: input.known_sandbox,
        production_acknowledged: input.production_acknowledged,
    });
    let rollback = rollback_plan(input.record, &changes, target_state);
    let expected_effects = expected_effects(input, &changes, target_state);

    let mut preview = Preview {
        action: input.action.to_owned(),
        target: input.target.to_owned(),
        is_sandbox: input.is_sandbox,
        table: input.allowlist.table.clone(),
        number: input.record.number().to_owned(),
        sys_id: input.record.sys_id().to_owned(),
        mod_count: input.record.mod_count(),
        updated_on: input.record.updated_on().to_owned(),
        short_description: input.record.value("short_description").to_owned(),
        request: input.request.clone(),
        changes,
        blocked,
        posture,
        rollback,
        expected_effects,
        allowlist_version: input.allowlist.version(),
        digest: String::new(),
    };
    preview.digest = digest(&preview);
    preview
}

fn field_change(input: &PreviewInput<'_>, field: &str, after: &str) -> FieldChange {
    let meta = input.metadata.and_then(|m| m.field(field));
    let label = meta.map_or_else(|| field.to_owned(), |m| m.entry.label.clone());
    let journal = meta.map_or(field == "work_notes" || field == "comments", |m| {
        m.entry.is_journal()
    });
    let before = if journal {
        String::new()
    } else {
        input.record.value(field).to_owned()
    };
    let kind = if journal {
        ChangeKind::JournalAppend
    } else if before == after {
        ChangeKind::Unchanged
    } else {
        ChangeKind::Set
    };
    let shown = |value: &str| {
        meta.and_then(|m| m.choice_label(value))
            .map_or_else(|| value.to_owned(), str::to_owned)
    };
    FieldChange {
        field: field.to_owned(),
        label,
        kind,
        before_display: if journal {
            String::new()
        } else {
            shown(&before)
        },
        after_display: shown(after),
        before,
        after: after.to_owned(),
    }
}

fn rollback_plan(
    record: &Record,
    changes: &[FieldChange],
    target_state: Option<&str>,
) -> RollbackPlan {
    let before_image: BTreeMap<String, String> = changes
        .iter()
        .filter(|c| c.kind == ChangeKind::Set)
        .map(|c| (c.field.clone(), c.before.clone()))
        .collect();
    let number = record.number();
    let compensating_note = format!(
        "Rollback of the governed change to {number}: fields restored to their values before it."
    );
    if matches!(target_state, Some(state::CLOSED | state::CANCELED)) {
        return RollbackPlan {
            reversible: false,
            before_image,
            compensating_writes: Vec::new(),
            compensating_note,
            explanation: "Closing is one-way on ServiceNow: a Closed incident cannot be reopened. \
                          Recovery means the stored before-image and evidence of this run; a \
                          follow-up incident would carry the work on."
                .to_owned(),
            alternative: Some(
                "Resolve first (state 6): reversible back to In Progress, and the instance \
                 closes it after its auto-close period."
                    .to_owned(),
            ),
        };
    }
    let compensating_writes = before_image
        .iter()
        .map(|(f, v)| (f.clone(), v.clone()))
        .collect::<Vec<_>>();
    RollbackPlan {
        reversible: true,
        explanation: "Reversible: a linked rollback run restores the before-image of the written \
                      fields and appends a compensating work note (journal entries stay)."
            .to_owned(),
        before_image,
        compensating_writes,
        compensating_note,
        alternative: None,
    }
}

fn expected_effects(
    input: &PreviewInput<'_>,
    changes: &[FieldChange],
    target: Option<&str>,
) -> Vec<String> {
    let user = input.operator;
    let mut effects = Vec::new();
    if target == Some(state::RESOLVED) {
        effects.push(format!(
            "resolved_at is stamped with the write time, resolved_by with {user}"
        ));
    }
    if target == Some(state::CLOSED) {
        effects.push(format!(
            "closed_at is stamped with the write time, closed_by with {user}"
        ));
        effects.push("active becomes false; the incident can no longer be reopened".to_owned());
        if input.record.value("resolved_at").is_empty() {
            effects.push(format!(
                "resolved_at and resolved_by are stamped too ({user})"
            ));
        }
    }
    if target.is_some() {
        effects.push("incident_state mirrors the new state".to_owned());
    }
    if changes.iter().any(|c| c.kind == ChangeKind::JournalAppend) {
        effects.push(format!(
            "one journal entry is added to the work notes, by {user}"
        ));
        effects.push(
            "a live write ends the work note with the run marker `[actionplane <run id>]`, so a \
             landed note is recognised and never appended twice"
                .to_owned(),
        );
    }
    let count = input.record.mod_count();
    effects.push(format!(
        "sys_mod_count goes from {count} to {}; sys_updated_by becomes {user}",
        count + 1
    ));
    effects
}

/// The hash that an approval binds to: instance, record version, changes, allowlist, policy.
pub fn digest(preview: &Preview) -> String {
    let decisions: Vec<_> = preview
        .posture
        .checks
        .iter()
        .map(|c| (c.rule.as_str(), c.outcome.word()))
        .collect();
    let changes: Vec<_> = preview
        .changes
        .iter()
        .map(|c| (&c.field, &c.kind, &c.before, &c.after))
        .collect();
    let canonical = serde_json::json!({
        "action": preview.action,
        "target": preview.target,
        "table": preview.table,
        "sysId": preview.sys_id,
        "modCount": preview.mod_count,
        "updatedOn": preview.updated_on,
        "changes": changes,
        "blocked": preview.blocked,
        "allowlistVersion": preview.allowlist_version,
        "policy": decisions,
    });
    let hash = Sha256::digest(canonical.to_string().as_bytes());
    format!("sha256:{}", hex::encode(hash))
}

/// One line of a line-by-line text diff.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DiffLine {
    Same(String),
    Removed(String),
    Added(String),
}

impl DiffLine {
    /// The line with a marker that survives without colour.
    pub fn marked(&self) -> String {
        match self {
            Self::Same(t) => format!("  {t}"),
            Self::Removed(t) => format!("- {t}"),
            Self::Added(t) => format!("+ {t}"),
        }
    }
}

/// Diffs two values line by line (single-line values become one removal and one addition).
pub fn line_diff(before: &str, after: &str) -> Vec<DiffLine> {
    let diff = similar::TextDiff::from_lines(before, after);
    diff.iter_all_changes()
        .map(|change| {
            let text = change.value().trim_end_matches('\n').to_owned();
            match change.tag() {
                similar::ChangeTag::Equal => DiffLine::Same(text),
                similar::ChangeTag::Delete => DiffLine::Removed(text),
                similar::ChangeTag::Insert => DiffLine::Added(text),
            }
        })
        .collect()
}

#[cfg(test)]
#[path = "preview_tests.rs"]
mod tests;
