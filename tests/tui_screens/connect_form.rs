//! The step 03 form as a newcomer meets it: the sandbox's demo user in words, the demo-fill key,
//! the auth method with OAuth, and where the saved password went.

use actionplane::domain::connector::AuthKind;
use actionplane::domain::onboarding::Progress;
use actionplane::sandbox::{
    INTEGRATION_PASSWORD, INTEGRATION_USER, OAUTH_CLIENT_ID, OAUTH_CLIENT_SECRET,
};
use actionplane::tui::message::{CredentialView, Data, Job, Message, SaveNote};
use actionplane::tui::screens::Screen;
use actionplane::tui::{App, Theme};
use crossterm::event::KeyCode;

use crate::fixtures::overview;
use crate::helpers::{ctrl, draw, key, text, type_text};

/// The app on step 03 with nothing saved.
pub fn form() -> App {
    let mut app = App::detached(Theme::plain());
    app.handle_event(key(KeyCode::Char('3')));
    assert_eq!(app.screen(), Screen::Fields);
    app
}

fn saved_payload(app: &mut App) -> actionplane::domain::connector::ConnectPayload {
    app.handle_event(ctrl('s'));
    match app.detached_jobs() {
        [Job::Connect(payload)] => payload.clone(),
        jobs => panic!("no connect job: {jobs:?}"),
    }
}

#[test]
fn the_sandbox_form_names_its_demo_user_and_fills_the_password_unseen() {
    let mut app = form();
    let screen = text(&draw(&mut app, 100, 30));
    let user_row = screen
        .lines()
        .find(|l| l.contains("Username"))
        .unwrap_or("");
    assert!(user_row.ends_with(INTEGRATION_USER), "{screen}");
    assert!(
        screen.contains("Embedded sandbox: its demo user actionplane.integration"),
        "{screen}"
    );
    assert!(screen.contains("Ctrl-D"), "{screen}");
    let status = screen.lines().last().unwrap_or_default();
    assert!(status.contains("^D demo password"), "{status}");

    app.handle_event(ctrl('d'));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(!screen.contains(INTEGRATION_PASSWORD), "{screen}");
    let dots = "•".repeat(INTEGRATION_PASSWORD.chars().count());
    assert!(screen.contains(&dots), "{screen}");
    assert!(
        screen.contains("sandbox demo password filled (masked)"),
        "{screen}"
    );

    let payload = saved_payload(&mut app);
    assert_eq!(payload.client_id, INTEGRATION_USER);
    assert_eq!(payload.client_secret, INTEGRATION_PASSWORD);
    assert_eq!(payload.auth_method, AuthKind::Basic);
    let jobs = format!("{:?}", app.detached_jobs());
    assert!(!jobs.contains(INTEGRATION_PASSWORD), "{jobs}");
}

#[test]
fn oauth_asks_for_its_client_and_warns_that_failures_are_opaque() {
    let mut app = form();
    for _ in 0..3 {
        app.handle_event(key(KeyCode::Tab));
    }
    app.handle_event(key(KeyCode::Right));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(screen.contains("(•) OAuth password grant"), "{screen}");
    assert!(
        screen.contains("OAuth client id") && screen.contains("OAuth client secret"),
        "{screen}"
    );
    assert!(
        screen.contains("opaque on ServiceNow") && screen.contains("system log"),
        "{screen}"
    );

    app.handle_event(ctrl('d'));
    let screen = text(&draw(&mut app, 100, 30));
    assert!(screen.contains(OAUTH_CLIENT_ID), "{screen}");
    assert!(
        !screen.contains(OAUTH_CLIENT_SECRET) && !screen.contains(INTEGRATION_PASSWORD),
        "{screen}"
    );
    let payload = saved_payload(&mut app);
    assert_eq!(payload.auth_method, AuthKind::OAuth);
    assert_eq!(payload.oauth_client_id, OAUTH_CLIENT_ID);
    assert_eq!(payload.oauth_client_secret, OAUTH_CLIENT_SECRET);
    let jobs = format!("{:?}", app.detached_jobs());
    assert!(!jobs.contains(OAUTH_CLIENT_SECRET), "{jobs}");
}

#[test]
fn oauth_without_its_client_names_both_fields() {
    let mut app = form();
    for _ in 0..3 {
        app.handle_event(key(KeyCode::Tab));
    }
    app.handle_event(key(KeyCode::Char(' ')));
    app.handle_event(key(KeyCode::BackTab));
    type_text(&mut app, "pw");
    app.handle_event(ctrl('s'));
    assert!(app.detached_jobs().is_empty());
    let screen = text(&draw(&mut app, 100, 40));
    assert!(screen.contains("✗ OAuth client id:"), "{screen}");
    assert!(screen.contains("✗ OAuth client secret:"), "{screen}");
}

#[test]
fn the_demo_key_refuses_a_real_instance() {
    let mut app = form();
    app.handle_event(ctrl('u'));
    type_text(&mut app, "dev12345");
    let screen = text(&draw(&mut app, 100, 30));
    assert!(!screen.contains(INTEGRATION_USER), "{screen}");
    assert!(!screen.contains("Embedded sandbox:"), "{screen}");
    app.handle_event(ctrl('d'));
    assert!(
        app.notice()
            .is_some_and(|n| n.text.contains("embedded sandbox only"))
    );
    app.handle_event(ctrl('s'));
    assert!(app.detached_jobs().is_empty(), "no password was filled");
}

#[test]
fn after_saving_the_screens_say_where_the_password_went_and_why() {
    let mut app = App::detached(Theme::plain());
    let store = "session keyring: lives until logout or reboot";
    let mut facts = overview(&Progress {
        saved: true,
        target_is_sandbox: true,
        ..Progress::default()
    });
    facts.secret_store = Some(store.to_owned());
    for data in [
        Data::Overview(facts),
        Data::Saved(SaveNote {
            instance: "embedded sandbox".to_owned(),
            secret_store: store.to_owned(),
            note: "OS keyring skipped: no Secret Service answers on this host".to_owned(),
        }),
        Data::Credential(Some(CredentialView {
            store: store.to_owned(),
            persists: false,
            readable: true,
            problem: None,
        })),
    ] {
        app.apply(Message::from(data));
    }
    let overview = text(&draw(&mut app, 100, 30));
    assert!(
        overview.contains("embedded sandbox (password: session keyring"),
        "{overview}"
    );
    for step in ['3', '4'] {
        app.handle_event(key(KeyCode::Char(step)));
        let screen = text(&draw(&mut app, 100, 30)).replace('\n', " ");
        assert!(
            screen.contains("saved embedded sandbox; password kept in session keyring"),
            "{screen}"
        );
        assert!(
            screen.contains("why: OS keyring skipped: no Secret Service"),
            "{screen}"
        );
    }
}
