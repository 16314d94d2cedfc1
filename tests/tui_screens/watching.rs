//! What the operator watches while work runs and after it: progress and retry countdowns, the
//! request log, the whole audit log, evidence export, and PRODUCTION in words.

use std::sync::Arc;
use std::time::{Duration, Instant};

use actionplane::domain::preview::CloseRequest;
use actionplane::domain::run::{GovernedRun, RunMode};
use actionplane::servicenow::{LoggedRequest, Progress};
use actionplane::store::{AuditEvent, ChainReport};
use actionplane::tui::app::Overlay;
use actionplane::tui::jobs::{Outbox, Runner};
use actionplane::tui::message::{
    AuditPage, Data, ExportView, Job, Message, OverviewData, TaskError,
};
use actionplane::tui::screens::Screen;
use actionplane::tui::{App, Theme};
use crossterm::event::KeyCode;
use futures::future::BoxFuture;
use ratatui::style::{Color, Modifier};

use crate::fixtures::{loaded_app, preview_with};
use crate::helpers::{draw, key, text};

/// A runner whose validation is told to wait before a retry, then never ends.
struct RateLimited;

impl Runner for RateLimited {
    fn run(&self, job: Job, out: Outbox) -> BoxFuture<'static, Result<(), TaskError>> {
        if matches!(job, Job::Validate) {
            (out.progress_sink())(Progress::Retrying {
                what: "the table `sys_user`".to_owned(),
                wait: Duration::from_secs(3),
                attempt: 2,
                of: 3,
                reason: "rate-limited",
            });
        }
        Box::pin(futures::future::pending())
    }
}

#[tokio::test]
async fn a_retry_counts_down_under_the_spinner_and_esc_says_nothing_was_written() {
    let mut app = App::with_runner(Arc::new(RateLimited), Theme::plain());
    app.handle_event(key(KeyCode::Char('1')));
    app.handle_event(key(KeyCode::Char('v')));
    assert!(app.next_message().await);
    let start = Instant::now();
    let mut lines = Vec::new();
    for seconds in [0, 1, 2, 3] {
        app.set_clock(start + Duration::from_millis(seconds * 1_000 + 100));
        let screen = text(&draw(&mut app, 100, 30));
        let rows: Vec<&str> = screen.lines().collect();
        assert!(rows[27].contains("validating auth"), "{screen}");
        lines.push(rows[28].trim().to_owned());
    }
    assert_eq!(
        lines,
        [
            "retrying the table `sys_user` in 3 s (attempt 2 of 3)",
            "retrying the table `sys_user` in 2 s (attempt 2 of 3)",
            "retrying the table `sys_user` in 1 s (attempt 2 of 3)",
            "sent the table `sys_user` again (attempt 2 of 3)",
        ]
    );
    app.handle_event(key(KeyCode::Esc));
    assert!(
        app.notice().is_some_and(|n| n.text
            == "cancelled validating auth and the integration user: \
                nothing was written to the instance"),
        "{:?}",
        app.notice()
    );
    assert_eq!(app.screen(), Screen::Instance, "the first Esc only cancels");
}

fn call(i: usize) -> LoggedRequest {
    LoggedRequest {
        method: if i.is_multiple_of(2) { "GET" } else { "PATCH" }.to_owned(),
        path: format!("/api/now/table/incident/call-{i:02}"),
        status: Some(200),
        elapsed_ms: 7,
        at: "2026-01-02 03:04:05".to_owned(),
    }
}

#[test]
fn the_request_log_lists_calls_newest_first_and_scrolls() {
    let mut app = loaded_app(Theme::plain());
    app.apply(Message::from(Data::RequestLog((0..40).map(call).collect())));
    app.handle_event(key(KeyCode::Char('l')));
    assert!(matches!(app.overlay(), Some(Overlay::RequestLog(_))));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(
        screen.contains("Requests to the instance, newest first"),
        "{screen}"
    );
    assert!(screen.contains("40 calls this session"), "{screen}");
    let newest = screen.find("call-39").expect("newest shown");
    let older = screen.find("call-38").expect("older shown");
    assert!(newest < older, "{screen}");
    assert!(!screen.contains("call-00"), "{screen}");
    app.handle_event(key(KeyCode::End));
    assert!(text(&draw(&mut app, 100, 30)).contains("call-00"));
    app.handle_event(key(KeyCode::Char('l')));
    assert!(app.overlay().is_none(), "l closes the log again");

    app.handle_event(key(KeyCode::Char('?')));
    let help = text(&draw(&mut app, 100, 40));
    assert!(help.contains("the request log"), "{help}");
}

fn event(seq: u64) -> AuditEvent {
    AuditEvent {
        seq: i64::try_from(seq).unwrap(),
        at: "2026-01-02 03:04:05".to_owned(),
        run_id: None,
        kind: format!("kind.{seq}"),
        actor: "operator@jump-01".to_owned(),
        detail: serde_json::json!({}),
        prev_hash: String::new(),
        hash: String::new(),
    }
}

/// The page a store of `total` events would answer, newest first.
fn page(offset: u64, limit: u64, total: u64) -> Data {
    let events = (offset..(offset + limit).min(total))
        .map(|position| event(total - position))
        .collect();
    Data::AuditPage(AuditPage {
        offset,
        events,
        total,
    })
}

#[test]
fn the_audit_log_reads_only_the_rows_it_shows_of_a_million() {
    const TOTAL: u64 = 1_000_000;
    let mut app = loaded_app(Theme::plain());
    app.handle_event(key(KeyCode::Char('A')));
    assert_eq!(app.screen(), Screen::AuditLog);
    app.apply(Message::from(page(0, 60, TOTAL)));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(screen.contains("1,000,000 events"), "{screen}");
    assert!(screen.contains("kind.1000000"), "{screen}");

    app.handle_event(key(KeyCode::End));
    let [Job::AuditPage { offset, limit }] = app.detached_jobs() else {
        panic!("{:?}", app.detached_jobs())
    };
    assert!(*offset > TOTAL - 200 && *limit <= 200, "{offset} {limit}");
    app.apply(Message::from(page(*offset, *limit, TOTAL)));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(screen.contains("of 1,000,000"), "{screen}");
    assert!(
        screen.lines().any(|l| l.ends_with(" kind.1")),
        "the oldest event is at the end: {screen}"
    );

    app.handle_event(key(KeyCode::Up));
    assert_eq!(
        app.detached_jobs().len(),
        1,
        "rows already read are not read again"
    );
}

#[test]
fn the_audit_log_says_in_words_whether_the_chain_holds() {
    let mut app = loaded_app(Theme::plain());
    app.handle_event(key(KeyCode::Char('A')));
    app.apply(Message::from(page(0, 60, 3)));
    assert!(text(&draw(&mut app, 100, 30)).contains("verifying"));
    let head = "ab".repeat(32);
    app.apply(Message::from(Data::AuditVerified(ChainReport {
        events: 3,
        head: head.clone(),
        first_bad: None,
    })));
    let screen = text(&draw(&mut app, 100, 30)).replace('\n', " ");
    assert!(screen.contains("pass  chain intact: 3 events"), "{screen}");
    assert!(screen.contains(&head), "{screen}");
    app.apply(Message::from(Data::AuditVerified(ChainReport {
        events: 1,
        head,
        first_bad: Some("event 2 (kind.2) was altered after it was written".to_owned()),
    })));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(
        screen.contains("FAIL  chain BROKEN: event 2 (kind.2) was altered"),
        "{screen}"
    );
}

#[test]
fn the_evidence_screen_exports_and_shows_the_paths_and_chain_head() {
    let mut app = loaded_app(Theme::plain());
    app.go(Screen::Evidence);
    assert!(text(&draw(&mut app, 100, 30)).contains("x exports this evidence"));
    app.handle_event(key(KeyCode::Char('x')));
    assert!(matches!(app.detached_jobs(), [Job::ExportEvidence(id)] if id == "run-0001"));
    app.apply(Message::from(Data::Exported(ExportView {
        run_id: "run-0001".to_owned(),
        markdown: "/data/evidence/run-0001.md".into(),
        json: "/data/evidence/run-0001.json".into(),
        chain_head: "c0ffee".repeat(10),
    })));
    let screen = text(&draw(&mut app, 100, 30));
    for needle in [
        "Exported evidence pack",
        "Markdown  /data/evidence/run-0001.md",
        "JSON      /data/evidence/run-0001.json",
        &format!("chain head {}", "c0ffee".repeat(10)),
        "evidence of run run-0001 written to /data/evidence",
    ] {
        assert!(screen.contains(needle), "missing {needle}: {screen}");
    }
}

/// Where a text starts on a row of a drawn screen.
fn find(buf: &ratatui::buffer::Buffer, row: usize, needle: &str) -> Option<(u16, u16)> {
    let screen = text(buf);
    let line = screen.lines().nth(row)?;
    let x = line[..line.find(needle)?].chars().count();
    Some((u16::try_from(x).ok()?, u16::try_from(row).ok()?))
}

#[test]
fn production_is_said_in_reverse_video_without_colour() {
    let mut app = App::detached(Theme::plain());
    app.apply(Message::from(Data::Overview(OverviewData {
        target: Some("https://dev12345.service-now.com".to_owned()),
        is_sandbox: false,
        ..OverviewData::default()
    })));
    let buf = draw(&mut app, 100, 30);
    let (x, y) = find(&buf, 29, "PRODUCTION").expect("the status bar says PRODUCTION");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));
    assert!(
        buf.content
            .iter()
            .all(|c| c.fg == Color::Reset && c.bg == Color::Reset)
    );

    let (run, mut preview) = preview_with(&CloseRequest::sample("INC-42"), "", RunMode::Live);
    preview.is_sandbox = false;
    preview.target = "https://dev12345.service-now.com".to_owned();
    let run = GovernedRun {
        mode: RunMode::Live,
        ..run
    };
    app.apply(Message::from(Data::Previewed(Box::new((run, preview)))));
    let buf = draw(&mut app, 100, 30);
    let (x, y) = (2..5)
        .find_map(|row| find(&buf, row, "PRODUCTION"))
        .expect("the preview's header says PRODUCTION");
    assert!(buf[(x, y)].modifier.contains(Modifier::REVERSED));

    app.handle_event(key(KeyCode::Char('a')));
    let modal = text(&draw(&mut app, 100, 30));
    assert!(
        modal.contains("PRODUCTION  real records change on this instance"),
        "{modal}"
    );
    assert!(modal.contains("type the instance name dev12345"), "{modal}");
}

#[test]
fn a_declared_sandbox_at_an_unknown_address_also_wants_the_instance_name() {
    let (run, mut preview) = preview_with(&CloseRequest::sample("INC-42"), "", RunMode::Live);
    preview.target = "https://acme.service-now.com".to_owned();
    let run = GovernedRun {
        mode: RunMode::Live,
        ..run
    };
    let mut app = App::detached(Theme::plain());
    app.apply(Message::from(Data::Previewed(Box::new((run, preview)))));
    app.handle_event(key(KeyCode::Char('a')));
    let modal = text(&draw(&mut app, 100, 30));
    assert!(
        modal.contains("Not a known sandbox address: type the instance name acme"),
        "{modal}"
    );
    assert!(!modal.contains("PRODUCTION"), "declared a sandbox: {modal}");
    for field in ["checked with the customer", "INC-42", "acme"] {
        crate::helpers::type_text(&mut app, field);
        app.handle_event(key(KeyCode::Enter));
    }
    let [Job::ApproveAndExecute { typed_instance, .. }] = app.detached_jobs() else {
        panic!("{:?}", app.detached_jobs())
    };
    assert_eq!(typed_instance.as_deref(), Some("acme"));
}

#[test]
fn a_long_notice_wraps_above_the_status_bar_instead_of_being_cut() {
    let mut app = App::detached(Theme::plain());
    app.handle_event(key(KeyCode::Char('3')));
    app.handle_event(crate::helpers::ctrl('u'));
    crate::helpers::type_text(&mut app, "dev12345");
    app.handle_event(crate::helpers::ctrl('d'));
    let screen = text(&draw(&mut app, 100, 30));
    let rows: Vec<&str> = screen.lines().collect();
    let notice = format!("{} {}", rows[27].trim(), rows[28].trim());
    assert!(
        notice.starts_with("✗ Ctrl-D fills the demo secrets")
            && notice.ends_with("type the integration user's password"),
        "{screen}"
    );
    assert!(
        rows[29].contains("DRY RUN"),
        "the status bar stays: {screen}"
    );
    let small = text(&draw(&mut app, 40, 12));
    assert!(
        small.lines().nth(11).unwrap_or("").contains("DRY RUN"),
        "{small}"
    );
}

#[test]
fn on_a_small_screen_the_approval_keeps_its_inputs_in_view() {
    let (run, preview) = preview_with(&CloseRequest::sample("INC-42"), "", RunMode::DryRun);
    let mut app = App::detached(Theme::plain());
    app.apply(Message::from(Data::Previewed(Box::new((run, preview)))));
    app.handle_event(key(KeyCode::Char('a')));
    crate::helpers::type_text(&mut app, "dup");
    let screen = text(&draw(&mut app, 40, 12));
    assert!(
        screen.contains("Reason") && screen.contains("› dup"),
        "{screen}"
    );
    assert!(screen.contains("Type INC-42 to confirm"), "{screen}");
}
