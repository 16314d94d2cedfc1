//! The whole app driven by scripted keys against the real embedded sandbox over loopback HTTP:
//! save the connector in the step 03 form, validate and sync, dry run, approve, go live,
//! approve, verified; then the sandbox record and the SQLite rows are checked.

use std::path::Path;
use std::sync::Arc;

use actionplane::domain::run::{RunMode, RunState};
use actionplane::sandbox::{self, Faults};
use actionplane::secrets::SecretStore;
use actionplane::tui::event_loop;
use actionplane::tui::screens::Screen;
use actionplane::tui::{App, Theme};
use actionplane::workspace::Workspace;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

const PAYLOAD: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/assets/connect-sandbox.json");

fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

fn press(app: &mut App, code: KeyCode) {
    app.handle_event(key(code));
}

fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        press(app, KeyCode::Char(c));
    }
}

fn screen(app: &mut App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal.draw(|frame| app.render(frame)).unwrap();
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        let row: String = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
        out.push_str(row.trim_end());
        out.push('\n');
    }
    out
}

/// The connect payload of the sandbox, read as the operator would read the file.
fn payload() -> Value {
    serde_json::from_str(&std::fs::read_to_string(PAYLOAD).unwrap()).unwrap()
}

fn workspace(dir: &Path) -> Arc<Workspace> {
    Workspace::open(&dir.join("actionplane.db"), SecretStore::in_memory()).unwrap()
}

/// Types the step 03 form for another instance: URL, user and password by hand.
fn fill_connector_form(app: &mut App, url: &str) {
    let payload = payload();
    app.handle_event(ctrl('u'));
    type_text(app, url);
    press(app, KeyCode::Tab);
    type_text(app, payload["clientId"].as_str().unwrap());
    press(app, KeyCode::Tab);
    type_text(app, payload["clientSecret"].as_str().unwrap());
    app.handle_event(ctrl('s'));
}

/// Fills the step 03 form as a newcomer on the sandbox would: the demo user is already there,
/// Ctrl-D fills the demo password, Ctrl-S saves.
fn fill_sandbox_form(app: &mut App) {
    app.handle_event(ctrl('d'));
    app.handle_event(ctrl('s'));
}

/// Approves the run on the preview screen: the deliberate key, a reason, the typed number.
fn approve(app: &mut App, reason: &str) {
    press(app, KeyCode::Char('a'));
    type_text(app, reason);
    press(app, KeyCode::Tab);
    type_text(app, "INC-42");
    press(app, KeyCode::Enter);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_closes_through_dry_run_then_live() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut app = App::with_theme(Arc::clone(&ws), Theme::plain());
    app.settle().await;
    assert!(screen(&mut app).contains("Start with: Save connector settings."));

    press(&mut app, KeyCode::Enter);
    assert_eq!(app.screen(), Screen::Fields);
    fill_sandbox_form(&mut app);
    app.settle().await;
    assert_eq!(
        app.screen(),
        Screen::Configure,
        "saving moves on to step 04"
    );
    let secret = payload()["clientSecret"].as_str().unwrap().to_owned();
    assert!(!screen(&mut app).contains(&secret));

    press(&mut app, KeyCode::Enter);
    app.settle().await;
    let configure = screen(&mut app);
    assert!(
        configure.contains("Dictionary of the allowlisted fields"),
        "{configure}"
    );
    assert!(
        configure.contains("close_code") && configure.contains("Duplicate"),
        "{configure}"
    );

    press(&mut app, KeyCode::Char('n'));
    assert_eq!(
        app.screen(),
        Screen::Sample,
        "after sync the next move is the sample"
    );
    app.settle().await;
    assert!(screen(&mut app).contains("Starting record INC-42 as read"));

    press(&mut app, KeyCode::Char('p'));
    app.settle().await;
    assert_eq!(app.screen(), Screen::Preview);
    assert_eq!(app.mode(), RunMode::DryRun);
    let preview = screen(&mut app);
    assert!(
        preview.contains("+ Closed (7)") && preview.contains("DRY RUN"),
        "{preview}"
    );

    approve(&mut app, "duplicate alert confirmed by the operator");
    app.settle().await;
    assert_eq!(app.screen(), Screen::Evidence);
    let dry = app.evidence_run().cloned().unwrap();
    assert_eq!((dry.mode, dry.state), (RunMode::DryRun, RunState::Verified));
    assert_eq!(
        ws.read_record("INC-42").await.unwrap().value("state"),
        "2",
        "a dry run writes nothing"
    );

    press(&mut app, KeyCode::Char('L'));
    app.settle().await;
    assert_eq!(app.screen(), Screen::Preview);
    assert_eq!(app.mode(), RunMode::Live);
    assert!(
        screen(&mut app)
            .lines()
            .last()
            .unwrap_or_default()
            .contains("LIVE")
    );

    approve(&mut app, "dry run reviewed; closing for real");
    app.settle().await;
    let live = app.evidence_run().cloned().unwrap();
    assert_eq!(
        (live.mode, live.state),
        (RunMode::Live, RunState::Verified),
        "{:?}",
        app.notice()
    );
    assert_eq!(live.parent_id.as_deref(), Some(dry.id.as_str()));
    let evidence = screen(&mut app);
    assert!(
        evidence.contains("VERIFIED") && evidence.contains("What was sent"),
        "{evidence}"
    );

    let record = ws.read_record("INC-42").await.unwrap();
    assert_eq!(record.value("state"), "7");
    assert_eq!(record.value("close_code"), "Duplicate");

    let runs = ws.runs().unwrap();
    assert!(
        runs.iter()
            .any(|r| r.id == live.id && r.mode == RunMode::Live && r.state == RunState::Verified)
    );
    let audit = ws.audit_events(Some(&live.id)).unwrap();
    let kinds: Vec<&str> = audit.iter().map(|e| e.kind.as_str()).collect();
    assert!(audit.len() >= 3, "{kinds:?}");
    assert!(kinds.iter().any(|k| k.contains("approv")), "{kinds:?}");

    export_and_verify(&mut app, &ws, &live.id, dir.path()).await;
    press(&mut app, KeyCode::Char('o'));
    app.settle().await;
    assert!(screen(&mut app).contains("Done: the sample closed live and verified"));
    ws.shutdown().await;
}

/// On the evidence screen: `x` writes the pack beside the database; then `A` lists every event
/// with the chain verified.
async fn export_and_verify(app: &mut App, ws: &Workspace, run_id: &str, dir: &Path) {
    assert_eq!(app.screen(), Screen::Evidence);
    press(app, KeyCode::Char('x'));
    app.settle().await;
    let markdown = dir.join("evidence").join(format!("{run_id}.md"));
    assert!(markdown.is_file(), "{:?}", app.notice());
    let json = std::fs::read_to_string(dir.join("evidence").join(format!("{run_id}.json")));
    let pack: Value = serde_json::from_str(&json.unwrap()).unwrap();
    let head = pack["chain"]["head"].as_str().unwrap().to_owned();
    let shown = screen(app);
    assert!(
        shown.contains(&markdown.display().to_string()) && shown.contains(&head[..40]),
        "{shown}"
    );

    press(app, KeyCode::Char('A'));
    assert_eq!(app.screen(), Screen::Audit, "first the run's own events");
    let own = screen(app);
    assert!(own.contains("run.approved") && own.contains("A again lists every event"));
    press(app, KeyCode::Char('A'));
    app.settle().await;
    assert_eq!(app.screen(), Screen::AuditLog);
    let count = ws.store().audit_count().unwrap();
    let shown = screen(app);
    assert!(shown.contains(&format!("{count} events")), "{shown}");
    assert!(
        shown.contains("chain intact") && shown.contains("evidence.exported"),
        "{shown}"
    );
    press(app, KeyCode::End);
    app.settle().await;
    assert!(
        screen(app).contains("connector.saved"),
        "the oldest event is at the end"
    );
}

/// Applies messages one at a time until the app is idle, and returns every frame drawn between.
async fn watch(app: &mut App) -> String {
    let mut frames = screen(app);
    while app.is_busy() && app.next_message().await {
        frames.push_str(&screen(app));
    }
    frames
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newcomer_connects_the_sandbox_guided_by_the_screen_alone() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut app = App::with_theme(Arc::clone(&ws), Theme::plain());
    app.settle().await;
    press(&mut app, KeyCode::Enter);
    let form = screen(&mut app);
    assert!(
        form.contains("its demo user actionplane.integration") && form.contains("Ctrl-D"),
        "{form}"
    );
    fill_sandbox_form(&mut app);
    app.settle().await;
    let saved = screen(&mut app);
    assert!(
        saved.contains("saved embedded sandbox; password kept in this process only"),
        "{saved}"
    );
    assert!(!saved.contains(actionplane::sandbox::INTEGRATION_PASSWORD));

    press(&mut app, KeyCode::Enter);
    let frames = watch(&mut app).await;
    assert!(
        frames
            .lines()
            .any(|l| l.contains("loaded ") && l.contains(" of ")),
        "sync shows its pages: {frames}"
    );
    assert!(screen(&mut app).contains("Dictionary of the allowlisted fields"));

    press(&mut app, KeyCode::Char('l'));
    app.settle().await;
    let log = screen(&mut app);
    assert!(
        log.contains("Requests to the instance, newest first"),
        "{log}"
    );
    assert!(
        log.contains("GET    200") && log.contains("sys_dictionary"),
        "{log}"
    );
    assert!(!log.contains(actionplane::sandbox::INTEGRATION_PASSWORD));
    ws.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_on_the_sandbox_validates_through_the_password_grant() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut app = App::with_theme(Arc::clone(&ws), Theme::plain());
    app.settle().await;
    press(&mut app, KeyCode::Char('3'));
    for _ in 0..3 {
        press(&mut app, KeyCode::Tab);
    }
    press(&mut app, KeyCode::Right);
    fill_sandbox_form(&mut app);
    app.settle().await;
    assert_eq!(app.screen(), Screen::Configure, "{:?}", app.notice());
    press(&mut app, KeyCode::Char('v'));
    app.settle().await;
    assert!(
        app.notice()
            .is_some_and(|n| n.text.starts_with("validated")),
        "{:?}",
        app.notice()
    );
    let calls = ws.request_log();
    assert!(
        calls.iter().any(|c| c.path.starts_with("/oauth_token.do")),
        "{calls:?}"
    );
    ws.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_read_counts_down_and_esc_cancels_it_writing_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let limited = Faults {
        rate_limited: true,
        ..Faults::default()
    };
    let (server, ws, mut app) = connected_to_faulty_sandbox(dir.path(), limited).await;

    press(&mut app, KeyCode::Char('v'));
    let retry = loop {
        assert!(app.next_message().await);
        let shown = screen(&mut app);
        if let Some(line) = shown.lines().find(|l| l.contains("retrying")) {
            break line.trim().to_owned();
        }
    };
    assert!(retry.ends_with("in 2 s (attempt 2 of 3)"), "{retry}");
    press(&mut app, KeyCode::Esc);
    assert!(!app.is_busy());
    let notice = app.notice().map(|n| n.text.clone()).unwrap_or_default();
    assert!(
        notice.ends_with("nothing was written to the instance"),
        "{notice}"
    );
    app.settle().await;
    let progress = ws.progress().unwrap();
    assert!(
        progress.validation.is_none() && progress.validation_error.is_none(),
        "a cancelled read records no outcome"
    );
    drop(server);
}

/// Saves the sandbox connector through the form, then validates and syncs from step 04.
async fn connect_and_sync(app: &mut App) {
    app.settle().await;
    press(app, KeyCode::Char('3'));
    fill_sandbox_form(app);
    app.settle().await;
    press(app, KeyCode::Enter);
    app.settle().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_resolve_first_variant_is_rolled_back_by_a_linked_run() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut app = App::with_theme(Arc::clone(&ws), Theme::plain());
    connect_and_sync(&mut app).await;

    press(&mut app, KeyCode::Char('5'));
    app.settle().await;
    press(&mut app, KeyCode::BackTab);
    press(&mut app, KeyCode::Char('t'));
    assert!(screen(&mut app).contains("Resolved (6)"));
    press(&mut app, KeyCode::Char('p'));
    app.settle().await;
    assert!(screen(&mut app).contains("+ Resolved (6)"));
    approve(&mut app, "resolve first, the reversible path");
    app.settle().await;
    press(&mut app, KeyCode::Char('L'));
    app.settle().await;
    approve(&mut app, "dry run looked right");
    app.settle().await;
    let forward = app.evidence_run().cloned().unwrap();
    assert_eq!(
        (forward.mode, forward.state),
        (RunMode::Live, RunState::Verified)
    );
    assert_eq!(ws.read_record("INC-42").await.unwrap().value("state"), "6");

    press(&mut app, KeyCode::Char('B'));
    app.settle().await;
    assert_eq!(app.screen(), Screen::Preview, "{:?}", app.notice());
    assert!(screen(&mut app).contains("+ In Progress (2)"));
    approve(&mut app, "undo the resolution");
    app.settle().await;
    let rollback = app.evidence_run().cloned().unwrap();
    assert_eq!(rollback.state, RunState::Verified, "{:?}", app.notice());
    assert_eq!(rollback.parent_id.as_deref(), Some(forward.id.as_str()));
    assert_eq!(ws.read_record("INC-42").await.unwrap().value("state"), "2");
    let runs = ws.runs().unwrap();
    let stored = runs.iter().find(|r| r.id == forward.id).unwrap();
    assert_eq!(stored.state, RunState::RolledBack);
    ws.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn esc_cancels_a_slow_validation_and_the_app_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let slow = Faults {
        slow_ms: 60_000,
        ..Faults::default()
    };
    let (server, _ws, mut app) = connected_to_faulty_sandbox(dir.path(), slow).await;
    assert_eq!(app.screen(), Screen::Configure);

    press(&mut app, KeyCode::Char('v'));
    assert!(app.is_busy());
    assert!(screen(&mut app).contains("validating auth and the integration user"));
    press(&mut app, KeyCode::Esc);
    assert!(!app.is_busy(), "Esc cancels the running task");
    assert_eq!(
        app.screen(),
        Screen::Configure,
        "the first Esc cancels, it does not go back"
    );
    assert!(
        app.notice()
            .is_some_and(|n| n.text.starts_with("cancelled"))
    );
    app.settle().await;

    press(&mut app, KeyCode::Esc);
    assert_eq!(
        app.screen(),
        Screen::Overview,
        "with nothing running, Esc goes back"
    );
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_loop_dispatches_scripted_keys_and_quits() {
    let dir = tempfile::tempdir().unwrap();
    let ws = workspace(dir.path());
    let mut app = App::with_theme(Arc::clone(&ws), Theme::plain());
    let script = [
        key(KeyCode::Enter),
        key(KeyCode::Esc),
        key(KeyCode::Char('?')),
        key(KeyCode::Esc),
        key(KeyCode::Char('q')),
    ];
    let events = futures::stream::iter(script.map(Ok));
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).unwrap();
    let mut frames = 0;
    event_loop::drive(&mut app, events, |app| {
        frames += 1;
        terminal
            .draw(|frame| app.render(frame))
            .map(|_| ())
            .map_err(|never| match never {})
    })
    .await
    .unwrap();
    assert!(app.should_quit());
    assert_eq!(app.screen(), Screen::Overview);
    assert!(frames >= 1);
    ws.shutdown().await;
}

/// A stream that, like crossterm's, remembers one waker per wait and wakes only that one.
struct OneWakerStream {
    shared: Arc<std::sync::Mutex<(Vec<Event>, Option<std::task::Waker>)>>,
}

impl futures::Stream for OneWakerStream {
    type Item = std::io::Result<Event>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let mut shared = self.shared.lock().unwrap();
        if !shared.0.is_empty() {
            return std::task::Poll::Ready(Some(Ok(shared.0.remove(0))));
        }
        if shared.1.is_none() {
            shared.1 = Some(cx.waker().clone());
        }
        std::task::Poll::Pending
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_arrive_later_still_reach_the_loop() {
    let shared = Arc::new(std::sync::Mutex::new((Vec::new(), None)));
    let feeder = Arc::clone(&shared);
    tokio::spawn(async move {
        for event in [
            key(KeyCode::Char('?')),
            key(KeyCode::Esc),
            key(KeyCode::Char('q')),
        ] {
            tokio::time::sleep(std::time::Duration::from_millis(30)).await;
            let waker = {
                let mut shared = feeder.lock().unwrap();
                shared.0.push(event);
                shared.1.take()
            };
            waker.into_iter().for_each(std::task::Waker::wake);
        }
    });
    let mut app = App::detached(Theme::plain());
    let events = OneWakerStream { shared };
    let run = event_loop::drive(&mut app, events, |_| Ok(()));
    // A safety net: a lost wake-up fails the test instead of hanging it. The deadline is
    // polled first, so reaching it cannot itself wake the stuck loop.
    tokio::select! {
        biased;
        () = tokio::time::sleep(std::time::Duration::from_secs(30)) => {
            panic!("the loop never saw the keys that arrived after it waited");
        }
        ended = run => ended.unwrap(),
    }
    assert!(app.should_quit());
}

/// A sandbox of its own playing `faults`, and the app connected to it through the step 03
/// form.
async fn connected_to_faulty_sandbox(
    dir: &std::path::Path,
    faults: Faults,
) -> (sandbox::SandboxHandle, Arc<Workspace>, App) {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = sandbox::start(&dir.join("peer.sqlite"), addr, faults)
        .await
        .unwrap();
    let ws = workspace(dir);
    let mut app = App::with_theme(Arc::clone(&ws), Theme::plain());
    app.settle().await;
    press(&mut app, KeyCode::Char('3'));
    fill_connector_form(&mut app, &server.base_url());
    app.settle().await;
    (server, ws, app)
}
