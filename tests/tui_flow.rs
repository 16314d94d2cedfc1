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

/// Types the step 03 form: URL (replacing the prefilled `sandbox` when given), user, password.
fn fill_connector_form(app: &mut App, url: Option<&str>) {
    let payload = payload();
    if let Some(url) = url {
        app.handle_event(ctrl('u'));
        type_text(app, url);
    }
    press(app, KeyCode::Tab);
    type_text(app, payload["clientId"].as_str().unwrap());
    press(app, KeyCode::Tab);
    type_text(app, payload["clientSecret"].as_str().unwrap());
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
    fill_connector_form(&mut app, None);
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

    press(&mut app, KeyCode::Char('A'));
    assert_eq!(app.screen(), Screen::Audit);
    assert!(screen(&mut app).contains(kinds[0]));
    press(&mut app, KeyCode::Char('o'));
    app.settle().await;
    assert!(screen(&mut app).contains("Done: the sample closed live and verified"));
    ws.shutdown().await;
}

/// Saves the sandbox connector through the form, then validates and syncs from step 04.
async fn connect_and_sync(app: &mut App) {
    app.settle().await;
    press(app, KeyCode::Char('3'));
    fill_connector_form(app, None);
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
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let server = sandbox::start(&dir.path().join("peer.sqlite"), addr, slow)
        .await
        .unwrap();
    let ws = workspace(dir.path());
    let mut app = App::with_theme(Arc::clone(&ws), Theme::plain());
    app.settle().await;

    press(&mut app, KeyCode::Char('3'));
    fill_connector_form(&mut app, Some(&server.base_url()));
    app.settle().await;
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
