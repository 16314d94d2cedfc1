//! Screens on a `TestBackend`, built from domain values (no network): snapshots at fixed sizes,
//! the NO_COLOR rule, key behaviour that needs no workspace, and a no-panic sweep of tiny sizes.

use std::collections::BTreeMap;

use actionplane::domain::incident::{FieldValue, Record};
use actionplane::domain::metadata::{Choice, DictionaryEntry, FieldMetadata, TableMetadata};
use actionplane::domain::onboarding::{self, Progress, SyncSummary, ValidationReport};
use actionplane::domain::policy::Allowlist;
use actionplane::domain::preview::{self, CloseRequest, Preview, PreviewInput};
use actionplane::domain::run::{Approval, GovernedRun, RunMode, RunState};
use actionplane::store::{Artifact, AuditEvent};
use actionplane::tui::app::Overlay;
use actionplane::tui::message::{Data, EvidenceData, Job, Message, OverviewData};
use actionplane::tui::screens::Screen;
use actionplane::tui::{App, Theme};
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use serde_json::json;

// ---- fixtures: the seed story as domain values ----

fn report(roles: &[&str]) -> ValidationReport {
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

fn overview(progress: &Progress) -> OverviewData {
    OverviewData {
        target: progress.saved.then(|| "embedded sandbox".to_owned()),
        is_sandbox: true,
        secret_store: progress
            .saved
            .then(|| "this process only: typed again at next start".to_owned()),
        steps: onboarding::steps(progress),
        next_move: onboarding::next_move(progress),
        validation: progress.validation.clone(),
    }
}

fn synced_progress() -> Progress {
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

fn entry(element: &str, label: &str, internal_type: &str, max: u32) -> DictionaryEntry {
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

fn choices(pairs: &[(&str, &str)]) -> Vec<Choice> {
    (0_i64..)
        .zip(pairs)
        .map(|(i, (v, l))| Choice {
            value: (*v).into(),
            label: (*l).into(),
            sequence: i,
        })
        .collect()
}

fn metadata() -> TableMetadata {
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

fn record(close_notes: &str) -> Record {
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
fn preview_with(
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
        production_acknowledged: true,
        record: &rec,
        request,
        allowlist: &allowlist,
        metadata: Some(&meta),
        operator: "actionplane.integration",
    });
    (run(mode, RunState::Previewed, &preview.digest), preview)
}

fn sample_preview() -> (GovernedRun, Preview) {
    let mut request = CloseRequest::sample("INC-42");
    request.close_notes =
        "Duplicate of INC-41.\nThe monitor fired twice for one outage.\nNo further impact."
            .to_owned();
    request.extra = vec![("priority".to_owned(), "1".to_owned())];
    let before = "Investigating.\nThe monitor fired twice for one outage.";
    preview_with(&request, before, RunMode::DryRun)
}

fn run(mode: RunMode, state: RunState, digest: &str) -> GovernedRun {
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

fn evidence() -> EvidenceData {
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
    }
}

/// An app with every screen's data loaded, as the background tasks would have sent it.
fn loaded_app(theme: Theme) -> App {
    let mut app = App::detached(theme);
    let (run, preview) = sample_preview();
    for data in [
        Data::Overview(overview(&synced_progress())),
        Data::Metadata(Some(metadata())),
        Data::Record(record("")),
        Data::Runs(vec![evidence().run]),
        Data::Detail(Box::new(evidence())),
        Data::Previewed(Box::new((run, preview))),
    ] {
        app.apply(Message::from(data));
    }
    app.go(Screen::Overview);
    app
}

// ---- helpers ----

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_event(key(KeyCode::Char(c)));
    }
}

fn draw(app: &mut App, width: u16, height: u16) -> Buffer {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| app.render(frame)).unwrap();
    terminal.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            line.push_str(symbol);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Replaces what differs between machines and versions: digests and the approver's identity.
fn filtered(screen: &str) -> String {
    let (user, host, _) = Approval::identity();
    let mut out = screen.replace(&format!("{user}@{host}"), "[approver]");
    while let Some(start) = out.find("sha256:") {
        let hex = out[start + 7..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        out.replace_range(start..start + 7 + hex, "[digest]");
    }
    out
}

fn snapshot(app: &mut App, width: u16, height: u16) -> String {
    filtered(&text(&draw(app, width, height)))
}

// ---- snapshots ----

#[test]
fn overview_snapshots() {
    let mut app = App::detached(Theme::plain());
    app.apply(Message::from(Data::Overview(
        overview(&Progress::default()),
    )));
    insta::assert_snapshot!("overview_100x30", snapshot(&mut app, 100, 30));
    insta::assert_snapshot!("overview_80x24", snapshot(&mut app, 80, 24));
}

#[test]
fn metadata_table_snapshots() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Configure);
    insta::assert_snapshot!("metadata_100x30", snapshot(&mut app, 100, 30));
    insta::assert_snapshot!("metadata_80x24", snapshot(&mut app, 80, 24));
}

#[test]
fn sample_snapshots() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Sample);
    insta::assert_snapshot!("sample_100x30", snapshot(&mut app, 100, 30));
    insta::assert_snapshot!("sample_80x24", snapshot(&mut app, 80, 24));
}

#[test]
fn preview_snapshots() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Preview);
    insta::assert_snapshot!("preview_100x30", snapshot(&mut app, 100, 30));
    insta::assert_snapshot!("preview_80x24", snapshot(&mut app, 80, 24));
}

#[test]
fn approval_modal_snapshots() {
    let (run, preview) = sample_preview();
    let mut request = CloseRequest::sample("INC-42");
    request.close_notes = preview.changes[2].after.clone();
    let (_, clean) = preview_with(&request, "", RunMode::Live);
    let mut app = loaded_app(Theme::plain());
    let live = GovernedRun {
        mode: RunMode::Live,
        digest: clean.digest.clone(),
        ..run
    };
    app.apply(Message::from(Data::Previewed(Box::new((live, clean)))));
    app.handle_event(key(KeyCode::Char('a')));
    assert!(matches!(app_overlay(&app), Some(Overlay::Approve(_))));
    insta::assert_snapshot!("approval_100x30", snapshot(&mut app, 100, 30));
    insta::assert_snapshot!("approval_80x24", snapshot(&mut app, 80, 24));
}

fn app_overlay(app: &App) -> Option<&Overlay> {
    app.overlay()
}

// ---- behaviour a user notices ----

#[test]
fn no_color_keeps_the_diff_markers_and_drops_every_colour() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Preview);
    let buf = draw(&mut app, 100, 40);
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );
    let screen = text(&buf);
    assert!(screen.contains("    - In Progress (2)"), "{screen}");
    assert!(screen.contains("    + Closed (7)"), "{screen}");
    assert!(screen.contains("    - Investigating."), "{screen}");
    assert!(screen.contains("    + No further impact."), "{screen}");

    let mut coloured = loaded_app(Theme::coloured());
    coloured.go(Screen::Preview);
    let buf = draw(&mut coloured, 100, 40);
    assert!(
        buf.content.iter().any(|c| c.fg == Color::Green),
        "added lines are green in colour"
    );
}

#[test]
fn the_preview_lists_blocked_fields_posture_rollback_and_digest() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Preview);
    let mut seen = String::new();
    for _ in 0..6 {
        seen.push_str(&text(&draw(&mut app, 100, 30)));
        app.handle_event(key(KeyCode::PageDown));
    }
    for needle in [
        "priority (blocked)",
        "FAIL  allowlist",
        "Rollback readiness: ONE-WAY",
        "Resolve first",
        "Digest  sha256:",
    ] {
        assert!(seen.contains(needle), "missing {needle}: {seen}");
    }
    assert!(seen.contains("appended as a new journal entry"), "{seen}");
}

#[test]
fn enter_never_approves_and_the_modal_wants_a_reason_and_the_number() {
    let (run, _) = sample_preview();
    let request = CloseRequest::sample("INC-42");
    let (_, clean) = preview_with(&request, "", RunMode::DryRun);
    let mut app = App::detached(Theme::plain());
    let run = GovernedRun {
        digest: clean.digest.clone(),
        ..run
    };
    app.apply(Message::from(Data::Previewed(Box::new((run, clean)))));
    assert_eq!(app.screen(), Screen::Preview);

    app.handle_event(key(KeyCode::Enter));
    assert!(app.overlay().is_none(), "Enter must not open the approval");
    app.handle_event(key(KeyCode::Char('a')));
    assert!(matches!(app.overlay(), Some(Overlay::Approve(_))));
    app.handle_event(key(KeyCode::Tab));
    type_text(&mut app, "INC-42");
    app.handle_event(key(KeyCode::Enter));
    assert!(text(&draw(&mut app, 100, 30)).contains("give a reason"));

    app.handle_event(key(KeyCode::Tab));
    type_text(&mut app, "duplicate confirmed");
    app.handle_event(key(KeyCode::Tab));
    app.handle_event(ctrl('u'));
    type_text(&mut app, "INC-41");
    app.handle_event(key(KeyCode::Enter));
    assert!(text(&draw(&mut app, 100, 30)).contains("type INC-42 exactly"));
    assert!(
        app.detached_jobs().is_empty(),
        "nothing may start before the confirmation matches"
    );

    app.handle_event(key(KeyCode::Backspace));
    type_text(&mut app, "2");
    app.handle_event(key(KeyCode::Enter));
    assert!(app.overlay().is_none());
    let [Job::ApproveAndExecute { reason, .. }] = app.detached_jobs() else {
        panic!("{:?}", app.detached_jobs())
    };
    assert_eq!(reason, "duplicate confirmed");
}

#[test]
fn a_blocked_preview_cannot_be_approved() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Preview);
    app.handle_event(key(KeyCode::Char('a')));
    assert!(app.overlay().is_none());
    assert!(
        app.notice()
            .is_some_and(|n| n.text.contains("blocked by allowlist"))
    );
}

#[test]
fn esc_leaves_an_invalid_form_and_keeps_what_was_typed() {
    let mut app = App::detached(Theme::plain());
    app.handle_event(key(KeyCode::Enter));
    assert_eq!(
        app.screen(),
        Screen::Fields,
        "with nothing saved, the next move is step 03"
    );
    app.handle_event(ctrl('u'));
    type_text(&mut app, "http://dev1.example.com");
    app.handle_event(ctrl('s'));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(
        screen.contains("✗ Instance URL: `http://dev1.example.com` uses plain http"),
        "{screen}"
    );
    assert!(screen.contains("✗ Username"), "{screen}");
    assert!(app.detached_jobs().is_empty());

    app.handle_event(key(KeyCode::Esc));
    assert_eq!(app.screen(), Screen::Overview);
    app.handle_event(key(KeyCode::Char('3')));
    assert!(text(&draw(&mut app, 100, 30)).contains("http://dev1.example.com"));
}

#[test]
fn the_password_is_masked_and_never_drawn() {
    let mut app = App::detached(Theme::plain());
    app.handle_event(key(KeyCode::Char('3')));
    app.handle_event(key(KeyCode::Tab));
    type_text(&mut app, "svc");
    app.handle_event(key(KeyCode::Tab));
    type_text(&mut app, "s3cret-Pw");
    let screen = text(&draw(&mut app, 100, 30));
    assert!(!screen.contains("s3cret"), "{screen}");
    assert!(screen.contains("•••••••••"), "{screen}");
    app.handle_event(ctrl('s'));
    let [Job::Connect(payload)] = app.detached_jobs() else {
        panic!("no connect job")
    };
    assert_eq!(payload.client_secret, "s3cret-Pw");
    assert!(!format!("{:?}", app.detached_jobs()).contains("s3cret"));
}

#[test]
fn the_sample_picks_a_synced_close_code_and_previews_a_dry_run() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Sample);
    app.handle_event(key(KeyCode::Down));
    app.handle_event(key(KeyCode::Char('p')));
    let [Job::Preview(request, RunMode::DryRun)] = app.detached_jobs() else {
        panic!("{:?}", app.detached_jobs())
    };
    assert_eq!(request.close_code, "Known error");
    assert_eq!(request.target_state, "7");
}

#[test]
fn remote_text_is_sanitised_before_drawing() {
    let mut app = loaded_app(Theme::plain());
    let mut hostile = record("");
    hostile.fields.insert(
        "short_description".to_owned(),
        FieldValue::plain("evil\x1b[2J\u{202e}txt"),
    );
    app.apply(Message::from(Data::Record(hostile)));
    app.go(Screen::Sample);
    let buf = draw(&mut app, 100, 30);
    assert!(buf.content.iter().all(|c| !c.symbol().contains('\x1b')));
    assert!(text(&buf).contains("evil␛[2J\u{fffd}txt"));
}

#[test]
fn a_verified_dry_run_offers_live_and_its_audit() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Runs);
    app.handle_event(key(KeyCode::Enter));
    assert!(matches!(app.detached_jobs(), [Job::RunDetail(id)] if id == "run-0001"));
    app.apply(Message::from(Data::Detail(Box::new(evidence()))));
    assert_eq!(app.screen(), Screen::Evidence);
    let screen = text(&draw(&mut app, 100, 40));
    assert!(
        screen.contains("VERIFIED") && screen.contains("L previews this same change LIVE"),
        "{screen}"
    );
    app.handle_event(key(KeyCode::Char('L')));
    let [_, Job::Preview(request, RunMode::Live)] = app.detached_jobs() else {
        panic!("{:?}", app.detached_jobs())
    };
    assert_eq!(request.close_code, "Duplicate");
    app.handle_event(key(KeyCode::Char('A')));
    assert_eq!(app.screen(), Screen::Audit);
    assert!(text(&draw(&mut app, 100, 30)).contains("run.approved"));
}

#[test]
fn the_status_bar_names_target_and_mode_and_help_lists_keys() {
    let mut app = loaded_app(Theme::plain());
    let screen = text(&draw(&mut app, 100, 30));
    let status = screen.lines().last().unwrap_or_default();
    assert!(
        status.contains("DRY RUN") && status.contains("embedded sandbox"),
        "{status}"
    );
    app.handle_event(key(KeyCode::Char('?')));
    let help = text(&draw(&mut app, 100, 30));
    assert!(
        help.contains("Keys") && help.contains("open onboarding step"),
        "{help}"
    );
    app.handle_event(key(KeyCode::Char('x')));
    assert!(app.overlay().is_none());
}

#[test]
fn a_small_terminal_says_so() {
    let mut app = loaded_app(Theme::plain());
    let screen = text(&draw(&mut app, 39, 12));
    assert!(
        screen
            .replace('\n', " ")
            .contains("terminal too small: 39x12, need at least 40x12"),
        "{screen}"
    );
    assert!(text(&draw(&mut app, 40, 12)).contains("ActionPlane"));
}

#[test]
fn a_ten_thousand_line_note_scrolls_to_its_end() {
    let note: String = (0..10_000).map(|i| format!("note line {i}\n")).collect();
    let mut request = CloseRequest::sample("INC-42");
    request.close_notes = note;
    let (run, preview) = preview_with(&request, "first\nsecond", RunMode::DryRun);
    let mut app = App::detached(Theme::plain());
    app.apply(Message::from(Data::Previewed(Box::new((run, preview)))));
    app.handle_event(key(KeyCode::End));
    let screen = text(&draw(&mut app, 80, 24));
    assert!(screen.contains("Digest"), "{screen}");
    for _ in 0..40 {
        app.handle_event(key(KeyCode::PageUp));
    }
    assert!(text(&draw(&mut app, 80, 24)).contains("+ note line 9"));
}

// ---- no panic at any size ----

#[test]
fn every_screen_survives_every_small_size() {
    let mut app = loaded_app(Theme::coloured());
    let mut views: Vec<Box<dyn Fn(&mut App)>> = Screen::ALL
        .into_iter()
        .map(|screen| Box::new(move |app: &mut App| app.go(screen)) as Box<dyn Fn(&mut App)>)
        .collect();
    views.push(Box::new(|app: &mut App| {
        app.handle_event(key(KeyCode::Char('?')))
    }));
    views.push(Box::new(|app: &mut App| {
        app.go(Screen::Fields);
        app.handle_event(ctrl('s'));
    }));
    for view in &views {
        view(&mut app);
        for width in 0..=45 {
            for height in (0..=15).chain([24]) {
                draw(&mut app, width, height);
            }
        }
        app.handle_event(key(KeyCode::Esc));
    }
}
