//! The seed story as domain values: what the background tasks would have sent the app.

use std::collections::BTreeMap;

use actionplane::domain::incident::{FieldValue, Record};
use actionplane::domain::metadata::{Choice, DictionaryEntry, FieldMetadata, TableMetadata};
use actionplane::domain::onboarding::{self, Progress, SyncSummary, ValidationReport};
use actionplane::domain::policy::Allowlist;
use actionplane::domain::preview::{self, CloseRequest, Preview, PreviewInput};
use actionplane::domain::run::{Approval, GovernedRun, RunMode, RunState};
use actionplane::store::{Artifact, AuditEvent};
use actionplane::tui::message::{Data, EvidenceData, GoLiveItem, Message, OverviewData, RunRow};
use actionplane::tui::screens::Screen;
use actionplane::tui::{App, Theme};
use serde_json::json;

pub fn report(roles: &[&str]) -> ValidationReport {
    ValidationReport {
        instance: "sandbox".to_owned(),
        build: Some("glide-sandbox-1.0".to_owned()),
        user_name: "actionplane.integration".to_owned(),
        user_display_name: "ActionPlane Integration".to_owned(),
        active: true,
        locked_out: false,
        web_service_only: true,
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
        checked_at: "2026-01-02 03:04:05".to_owned(),
    }
}

pub fn overview(progress: &Progress) -> OverviewData {
    OverviewData {
        target: progress.saved.then(|| "embedded sandbox".to_owned()),
        is_sandbox: true,
        secret_store: progress
            .saved
            .then(|| "this process only: typed again at next start".to_owned()),
        steps: onboarding::steps(progress),
        next_move: onboarding::next_move(progress),
        validation: progress.validation.clone(),
        go_live: vec![
            GoLiveItem {
                condition: "A verified dry run".to_owned(),
                met: progress.dry_run_verified,
                evidence: "none yet".to_owned(),
            },
            GoLiveItem {
                condition: "Secret in a store that persists".to_owned(),
                met: false,
                evidence: "this process only: typed again at next start".to_owned(),
            },
        ],
    }
}

pub fn synced_progress() -> Progress {
    Progress {
        saved: true,
        target_is_sandbox: true,
        validation: Some(report(&["itil", "itil_admin", "admin"])),
        sync: Some(SyncSummary {
            fields: 4,
            synced_at: "2026-01-02 03:04:06".to_owned(),
            ..SyncSummary::default()
        }),
        ..Progress::default()
    }
}

pub fn entry(element: &str, label: &str, internal_type: &str, max: u32) -> DictionaryEntry {
    DictionaryEntry {
        defined_on: if element == "state" || element == "work_notes" {
            "task"
        } else {
            "incident"
        }
        .to_owned(),
        element: element.to_owned(),
        label: label.to_owned(),
        internal_type: internal_type.to_owned(),
        max_length: Some(max),
        mandatory: false,
        read_only: false,
        active: true,
        reference: None,
    }
}

pub fn choices(pairs: &[(&str, &str)]) -> Vec<Choice> {
    (0_i64..)
        .zip(pairs)
        .map(|(i, (v, l))| Choice {
            value: (*v).into(),
            label: (*l).into(),
            sequence: i,
        })
        .collect()
}

pub fn metadata() -> TableMetadata {
    let states = [
        ("1", "New"),
        ("2", "In Progress"),
        ("3", "On Hold"),
        ("6", "Resolved"),
        ("7", "Closed"),
    ];
    let codes = [
        ("Duplicate", "Duplicate"),
        ("Known error", "Known error"),
        ("Solution provided", "Solution provided"),
        ("Workaround provided", "Workaround provided"),
    ];
    TableMetadata {
        table: "incident".to_owned(),
        hierarchy: vec!["incident".to_owned(), "task".to_owned()],
        fields: vec![
            FieldMetadata {
                entry: entry("state", "State", "integer", 40),
                choices: choices(&states),
            },
            FieldMetadata {
                entry: entry("close_code", "Resolution code", "string", 40),
                choices: choices(&codes),
            },
            FieldMetadata {
                entry: entry("close_notes", "Resolution notes", "string", 4000),
                choices: vec![],
            },
            FieldMetadata {
                entry: entry("work_notes", "Work notes", "journal_input", 4000),
                choices: vec![],
            },
        ],
        missing: vec![],
        synced_at: "2026-01-02 03:04:06".to_owned(),
    }
}

pub fn record(close_notes: &str) -> Record {
    let mut fields = BTreeMap::new();
    let mut put = |name: &str, value: &str, display: &str| {
        fields.insert(
            name.to_owned(),
            FieldValue {
                value: value.to_owned(),
                display: display.to_owned(),
            },
        );
    };
    put("number", "INC-42", "INC-42");
    put(
        "sys_id",
        "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "a1b2c3d4e5f60718293a4b5c6d7e8f90",
    );
    put(
        "short_description",
        "Duplicate alert: disk usage on db-07",
        "Duplicate alert: disk usage on db-07",
    );
    put("state", "2", "In Progress");
    put("impact", "3", "3 - Low");
    put("urgency", "3", "3 - Low");
    put("priority", "5", "5 - Planning");
    put("close_code", "", "");
    put("close_notes", close_notes, close_notes);
    put("sys_mod_count", "3", "3");
    put(
        "sys_updated_on",
        "2026-01-02 02:00:00",
        "2026-01-02 02:00:00",
    );
    put("sys_updated_by", "admin", "admin");
    Record { fields }
}

/// A preview with a blocked field and a multi-line notes diff.
pub fn preview_with(
    request: &CloseRequest,
    before_notes: &str,
    mode: RunMode,
) -> (GovernedRun, Preview) {
    let meta = metadata();
    let rec = record(before_notes);
    let allowlist = Allowlist::new(
        "incident",
        ["state", "close_notes", "close_code", "work_notes"]
            .map(String::from)
            .to_vec(),
    );
    let preview = preview::build(&PreviewInput {
        action: "support.close-ticket",
        target: "embedded sandbox",
        is_sandbox: true,
        known_sandbox: true,
        production_acknowledged: true,
        record: &rec,
        request,
        allowlist: &allowlist,
        metadata: Some(&meta),
        operator: "actionplane.integration",
    });
    (run(mode, RunState::Previewed, &preview.digest), preview)
}

pub fn sample_preview() -> (GovernedRun, Preview) {
    let mut request = CloseRequest::sample("INC-42");
    request.close_notes = String::from(
        "Duplicate of INC-41.\nThe monitor fired twice for one outage.\nNo further impact.",
    );
    request.extra = vec![("priority".to_owned(), "1".to_owned())];
    let before = "Investigating.\nThe monitor fired twice for one outage.";
    preview_with(&request, before, RunMode::DryRun)
}

pub fn run(mode: RunMode, state: RunState, digest: &str) -> GovernedRun {
    GovernedRun {
        id: "run-0001".to_owned(),
        action: "support.close-ticket".to_owned(),
        mode,
        state,
        target: "embedded sandbox".to_owned(),
        number: "INC-42".to_owned(),
        digest: digest.to_owned(),
        created_at: "2026-01-02 03:05:00".to_owned(),
        updated_at: "2026-01-02 03:06:00".to_owned(),
        parent_id: None,
        outcome: Some("dry run verified: nothing was written".to_owned()),
    }
}

pub fn evidence() -> EvidenceData {
    let (mut run, preview) = sample_preview();
    run.state = RunState::Verified;
    let approval = Approval {
        run_id: run.id.clone(),
        digest: run.digest.clone(),
        approver: "operator".to_owned(),
        host: "jump-01".to_owned(),
        over_ssh: true,
        reason: "duplicate confirmed with the on-call engineer".to_owned(),
        approved_at: "2026-01-02 03:05:30".to_owned(),
    };
    let simulation = json!({"expectedAfterImage": {"state": "7", "close_code": "Duplicate"},
        "rulesThatWouldFire": ["closed_at is stamped"], "remoteWrites": 0});
    let artifact = Artifact {
        id: 1,
        run_id: run.id.clone(),
        kind: "simulation".to_owned(),
        body: simulation,
        created_at: "2026-01-02 03:06:00".to_owned(),
    };
    let audit = (1..=3)
        .map(|seq| AuditEvent {
            seq,
            at: format!("2026-01-02 03:0{seq}:00"),
            run_id: Some(run.id.clone()),
            kind: ["run.previewed", "run.approved", "run.verified"]
                [usize::try_from(seq - 1).unwrap()]
            .to_owned(),
            actor: "operator@jump-01".to_owned(),
            detail: json!({"seq": seq}),
            prev_hash: String::new(),
            hash: String::new(),
        })
        .collect();
    EvidenceData {
        run,
        preview: Some(preview),
        approval: Some(approval),
        artifacts: vec![artifact],
        audit,
        interrupted: false,
    }
}

/// An app with every screen's data loaded, as the background tasks would have sent it.
pub fn loaded_app(theme: Theme) -> App {
    let mut app = App::detached(theme);
    let (run, preview) = sample_preview();
    for data in [
        Data::Overview(overview(&synced_progress())),
        Data::Metadata(Some(metadata())),
        Data::Record(record("")),
        Data::Runs(vec![RunRow {
            run: evidence().run,
            interrupted: false,
        }]),
        Data::Detail(Box::new(evidence())),
        Data::Previewed(Box::new((run, preview))),
    ] {
        app.apply(Message::from(data));
    }
    app.go(Screen::Overview);
    app
}
