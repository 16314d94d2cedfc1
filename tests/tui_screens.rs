//! Screens on a `TestBackend`, built from domain values (no network): snapshots at fixed sizes,
//! the `NO_COLOR` rule, key behaviour that needs no workspace, and a no-panic sweep of tiny sizes.

#[path = "tui_screens/connect_form.rs"]
mod connect_form;
#[path = "tui_screens/fixtures.rs"]
mod fixtures;
#[path = "tui_screens/helpers.rs"]
mod helpers;
#[path = "tui_screens/watching.rs"]
mod watching;

use std::fmt::Write as _;

use actionplane::domain::incident::FieldValue;
use actionplane::domain::onboarding::Progress;
use actionplane::domain::preview::CloseRequest;
use actionplane::domain::run::{GovernedRun, RunMode};
use actionplane::tui::app::Overlay;
use actionplane::tui::message::{Data, Job, Message};
use actionplane::tui::screens::Screen;
use actionplane::tui::{App, Theme};
use crossterm::event::KeyCode;
use fixtures::{evidence, loaded_app, overview, preview_with, record, sample_preview};
use helpers::{ctrl, draw, key, snapshot, text, type_text};
use ratatui::style::Color;

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

#[test]
fn connect_form_snapshots() {
    let mut app = connect_form::form();
    app.handle_event(ctrl('d'));
    insta::assert_snapshot!("fields_100x30", snapshot(&mut app, 100, 30));
    insta::assert_snapshot!("fields_80x24", snapshot(&mut app, 80, 24));
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
    let note = (0..10_000).fold(String::new(), |mut note, i| {
        let _ = writeln!(note, "note line {i}");
        note
    });
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

/// A way to put the app on one screen or overlay.
type View = Box<dyn Fn(&mut App)>;

#[test]
fn every_screen_survives_every_small_size() {
    let mut app = loaded_app(Theme::coloured());
    let mut views: Vec<View> = Screen::ALL
        .into_iter()
        .map(|screen| Box::new(move |app: &mut App| app.go(screen)) as View)
        .collect();
    views.push(Box::new(|app: &mut App| {
        app.handle_event(key(KeyCode::Char('?')));
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

#[test]
fn a_live_write_to_production_also_wants_the_instance_name() {
    let (run, mut preview) = preview_with(&CloseRequest::sample("INC-42"), "", RunMode::Live);
    preview.is_sandbox = false;
    preview.target = "https://dev12345.service-now.com".to_owned();
    let mut app = App::detached(Theme::plain());
    let run = GovernedRun {
        mode: RunMode::Live,
        ..run
    };
    app.apply(Message::from(Data::Previewed(Box::new((run, preview)))));
    app.handle_event(key(KeyCode::Char('a')));
    let modal = text(&draw(&mut app, 100, 30));
    assert!(modal.contains("PRODUCTION"), "{modal}");
    assert!(
        modal.contains("PRODUCTION: type the instance name dev12345"),
        "{modal}"
    );

    type_text(&mut app, "customer confirmed the duplicate");
    app.handle_event(key(KeyCode::Tab));
    type_text(&mut app, "INC-42");
    app.handle_event(key(KeyCode::Enter));
    app.handle_event(key(KeyCode::Enter));
    assert!(text(&draw(&mut app, 100, 30)).contains("type dev12345 exactly"));
    assert!(app.detached_jobs().is_empty());

    type_text(&mut app, "dev12345");
    app.handle_event(key(KeyCode::Enter));
    let [Job::ApproveAndExecute { typed_instance, .. }] = app.detached_jobs() else {
        panic!("{:?}", app.detached_jobs())
    };
    assert_eq!(typed_instance.as_deref(), Some("dev12345"));
}

#[test]
fn keys_typed_while_the_terminal_is_too_small_change_nothing() {
    let mut app = App::detached(Theme::plain());
    draw(&mut app, 20, 5);
    app.handle_event(key(KeyCode::Char('3')));
    app.handle_event(key(KeyCode::Enter));
    assert_eq!(
        app.screen(),
        Screen::Overview,
        "no key may act on a screen nobody can see"
    );
    draw(&mut app, 100, 30);
    app.handle_event(key(KeyCode::Char('3')));
    assert_ne!(
        app.screen(),
        Screen::Overview,
        "once it fits, keys work again"
    );
}
