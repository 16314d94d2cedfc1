use super::*;
use crate::domain::incident::FieldValue;
use crate::domain::metadata::{Choice, DictionaryEntry, FieldMetadata};

fn entry(element: &str, label: &str, internal_type: &str) -> DictionaryEntry {
    DictionaryEntry {
        defined_on: "incident".to_owned(),
        element: element.to_owned(),
        label: label.to_owned(),
        internal_type: internal_type.to_owned(),
        max_length: Some(4000),
        mandatory: false,
        read_only: false,
        active: true,
        reference: None,
    }
}

fn choices(pairs: &[(&str, &str)]) -> Vec<Choice> {
    pairs
        .iter()
        .enumerate()
        .map(|(i, (v, l))| Choice {
            value: (*v).to_owned(),
            label: (*l).to_owned(),
            sequence: i64::try_from(i).unwrap(),
        })
        .collect()
}

fn metadata() -> TableMetadata {
    TableMetadata {
        table: "incident".to_owned(),
        hierarchy: vec!["incident".to_owned(), "task".to_owned()],
        fields: vec![
            FieldMetadata {
                entry: entry("state", "State", "integer"),
                choices: choices(&[
                    ("1", "New"),
                    ("2", "In Progress"),
                    ("6", "Resolved"),
                    ("7", "Closed"),
                ]),
            },
            FieldMetadata {
                entry: entry("close_code", "Resolution code", "string"),
                choices: choices(&[
                    ("Duplicate", "Duplicate"),
                    ("Solution provided", "Solution provided"),
                ]),
            },
            FieldMetadata {
                entry: entry("close_notes", "Resolution notes", "string"),
                choices: vec![],
            },
            FieldMetadata {
                entry: entry("work_notes", "Work notes", "journal_input"),
                choices: vec![],
            },
        ],
        missing: vec![],
        synced_at: "2026-12-04 10:00:00".to_owned(),
    }
}

fn record() -> Record {
    Record::from_pairs(&[
        ("sys_id", "a1b2"),
        ("number", "INC-42"),
        ("state", "2"),
        ("close_code", ""),
        ("close_notes", ""),
        ("sys_mod_count", "3"),
        ("sys_updated_on", "2026-12-01 09:00:00"),
    ])
}

fn allowlist() -> Allowlist {
    Allowlist::new(
        "incident",
        ["state", "close_notes", "close_code", "work_notes"]
            .map(String::from)
            .to_vec(),
    )
}

fn preview_of(request: &CloseRequest, record: &Record, allowlist: &Allowlist) -> Preview {
    let meta = metadata();
    build(&PreviewInput {
        action: "support.close-ticket",
        target: "sandbox",
        is_sandbox: true,
        known_sandbox: true,
        production_acknowledged: false,
        record,
        request,
        allowlist,
        metadata: Some(&meta),
        operator: "actionplane.integration",
    })
}

#[test]
fn the_sample_close_is_allowed_and_one_way() {
    let preview = preview_of(&CloseRequest::sample("INC-42"), &record(), &allowlist());
    assert!(preview.approvable(), "{:?}", preview.posture);
    let state = &preview.changes[0];
    assert_eq!(
        (state.before_display.as_str(), state.after_display.as_str()),
        ("In Progress", "Closed")
    );
    assert_eq!(preview.changes[3].kind, ChangeKind::JournalAppend);
    assert!(!preview.rollback.reversible);
    assert!(
        preview
            .rollback
            .alternative
            .as_deref()
            .unwrap()
            .contains("Resolve first")
    );
    assert!(preview.digest.starts_with("sha256:"));
}

#[test]
fn a_field_outside_the_allowlist_is_blocked_and_not_sent() {
    let mut request = CloseRequest::sample("INC-42");
    request.extra.push(("priority".to_owned(), "1".to_owned()));
    let preview = preview_of(&request, &record(), &allowlist());
    assert_eq!(preview.blocked, ["priority"]);
    assert!(
        !preview
            .sendable_writes()
            .iter()
            .any(|(f, _)| f == "priority")
    );
    assert!(!preview.approvable());
}

#[test]
fn an_unknown_close_code_fails_the_choice_check() {
    let mut request = CloseRequest::sample("INC-42");
    request.close_code = "Solved (Permanently)".to_owned();
    let preview = preview_of(&request, &record(), &allowlist());
    assert!(preview.posture.summary().contains("choices"));
}

#[test]
fn closing_without_notes_fails_the_data_policy_with_labels() {
    let mut request = CloseRequest::sample("INC-42");
    request.close_notes = "  ".to_owned();
    let preview = preview_of(&request, &record(), &allowlist());
    let check = preview
        .posture
        .checks
        .iter()
        .find(|c| c.rule == "data policy")
        .unwrap();
    assert!(
        check.detail.contains("Resolution notes"),
        "{}",
        check.detail
    );
}

#[test]
fn resolving_is_reversible_with_the_before_image() {
    let mut request = CloseRequest::sample("INC-42");
    request.target_state = "6".to_owned();
    let preview = preview_of(&request, &record(), &allowlist());
    assert!(preview.rollback.reversible);
    assert_eq!(
        preview
            .rollback
            .before_image
            .get("state")
            .map(String::as_str),
        Some("2")
    );
}

#[test]
fn the_digest_moves_with_the_record_version_and_the_allowlist() {
    let request = CloseRequest::sample("INC-42");
    let first = preview_of(&request, &record(), &allowlist()).digest;
    assert_eq!(first, preview_of(&request, &record(), &allowlist()).digest);

    let mut touched = record();
    touched
        .fields
        .insert("sys_mod_count".to_owned(), FieldValue::plain("4"));
    assert_ne!(first, preview_of(&request, &touched, &allowlist()).digest);

    let mut wider = allowlist();
    wider.fields.push("priority".to_owned());
    assert_ne!(first, preview_of(&request, &record(), &wider).digest);
}

#[test]
fn text_diffs_mark_lines_without_colour() {
    let lines: Vec<_> = line_diff("one\ntwo\n", "one\nthree\n")
        .iter()
        .map(DiffLine::marked)
        .collect();
    assert_eq!(lines, ["  one", "- two", "+ three"]);
}
