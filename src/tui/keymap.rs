//! The keys: global ones, the short hints of the status bar, and the full list for `?`.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::screens::Screen;

/// A key and what it does, as the hints and the help show it.
pub type Hint = (&'static str, &'static str);

/// Keys that work on every screen when no text input holds focus.
pub fn global(key: KeyEvent) -> Action {
    if key
        .modifiers
        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
    {
        return Action::Ignored;
    }
    match key.code {
        KeyCode::F(1) | KeyCode::Char('?') => Action::Help,
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Backspace => Action::Back,
        KeyCode::Char(c @ '1'..='5') => {
            let index = usize::from(c as u8 - b'1');
            Screen::step(index).map_or(Action::Ignored, Action::Go)
        }
        KeyCode::Char('o') => Action::Go(Screen::Overview),
        KeyCode::Char('R') => Action::Go(Screen::Runs),
        KeyCode::Char('A') => Action::Go(Screen::AuditLog),
        KeyCode::Char('l') => Action::RequestLog,
        KeyCode::Char('n') => Action::NextMove,
        _ => Action::Ignored,
    }
}

/// What the hints depend on besides the screen.
#[derive(Clone, Copy, Debug, Default)]
pub struct HintContext {
    /// A text input has focus: letters type instead of acting.
    pub typing: bool,
    /// The shown run is a verified dry run, so live is offered.
    pub live_offered: bool,
    /// The shown preview may be approved now.
    pub approvable: bool,
    /// The shown run is a landed live run, so a rollback run may be asked for.
    pub rollback_offered: bool,
    /// The step 03 form targets the embedded sandbox, so its demo credentials may be filled.
    pub demo_fill: bool,
}

/// The few hints the status bar has room for.
pub fn hints(screen: Screen, ctx: HintContext) -> Vec<Hint> {
    let mut hints: Vec<Hint> = match screen {
        Screen::Overview => vec![("Enter", "next move"), ("1-5", "steps"), ("A", "audit")],
        Screen::Instance | Screen::User => vec![("v", "validate")],
        Screen::Fields if ctx.demo_fill => vec![("^D", "demo password"), ("^S", "save")],
        Screen::Fields => vec![("Tab", "next field"), ("^S", "save")],
        Screen::Configure => vec![("Enter", "validate+sync"), ("v", "validate"), ("s", "sync")],
        Screen::Sample if ctx.typing => vec![("Tab", "field"), ("^P", "preview")],
        Screen::Sample => vec![("p", "dry run preview"), ("L", "live")],
        Screen::Preview if ctx.approvable => vec![("a", "approve"), ("r", "reject")],
        Screen::Preview => vec![("↑↓", "scroll")],
        Screen::Audit => vec![("↑↓", "scroll"), ("A", "every event")],
        Screen::Evidence if ctx.live_offered => vec![("L", "go live"), ("x", "export")],
        Screen::Evidence if ctx.rollback_offered => vec![("B", "roll back"), ("x", "export")],
        Screen::Evidence => vec![("x", "export"), ("A", "audit")],
        Screen::AuditLog => vec![("↑↓", "scroll"), ("v", "verify")],
        Screen::Runs => vec![("Enter", "open")],
    };
    if !ctx.typing {
        hints.push(("?", "help"));
    }
    hints.push(("Esc", "back"));
    hints
}

/// Every key, in sections, for the help overlay.
pub fn help(screen: Screen) -> Vec<(&'static str, Vec<Hint>)> {
    vec![
        (
            "Everywhere (when no text field has focus)",
            EVERYWHERE.to_vec(),
        ),
        ("This screen", screen_keys(screen).to_vec()),
        ("In a text field", TEXT_KEYS.to_vec()),
    ]
}

const EVERYWHERE: [Hint; 13] = [
    ("? or F1", "show this help (Esc closes it)"),
    ("Esc", "cancel the running task; else go back"),
    (
        "Backspace",
        "go back (Esc works from any form, valid or not)",
    ),
    ("o", "overview"),
    ("n", "go to the next move"),
    ("1 … 5", "open onboarding step 01 … 05"),
    ("R", "list every governed run"),
    (
        "A",
        "the audit log: every event, and whether the chain is intact",
    ),
    (
        "l",
        "the request log: every call made to the instance, newest first",
    ),
    ("↑ ↓ PgUp PgDn", "scroll (also j k, Home End)"),
    ("q", "quit (asks first while a write is executing)"),
    ("Ctrl-C", "quit"),
    (
        "the status bar",
        "always names the target and the mode (DRY RUN or LIVE), and says PRODUCTION when \
         the target is not a sandbox",
    ),
];

const TEXT_KEYS: [Hint; 6] = [
    ("Tab / Shift-Tab", "next / previous field"),
    ("← → Home End", "move the cursor"),
    ("Ctrl-← Ctrl-→", "move by word"),
    (
        "Ctrl-U Ctrl-K Ctrl-W",
        "delete to line start / line end / word",
    ),
    ("Ctrl-Z Ctrl-Y", "undo / redo"),
    ("Esc", "leave the form (what you typed is kept)"),
];

fn screen_keys(screen: Screen) -> &'static [Hint] {
    match screen {
        Screen::Overview => &[
            ("Enter or n", "go to the next move"),
            ("1 … 5", "open a step"),
        ],
        Screen::Instance | Screen::User => &[("v", "validate auth and the integration user")],
        Screen::Fields => &[
            ("Tab ↓ / Shift-Tab ↑", "move between fields"),
            ("Enter", "next field; on [Save] saves"),
            (
                "Space ← →",
                "switch the auth method; toggle the sandbox box",
            ),
            (
                "Ctrl-D",
                "sandbox only: fill the demo password (and OAuth client) of the embedded sandbox",
            ),
            ("Ctrl-S", "save the connector"),
        ],
        Screen::Configure => &[
            ("Enter", "validate, then sync metadata"),
            ("v", "validate auth only"),
            ("s", "sync metadata only"),
        ],
        Screen::Sample => &[
            (
                "Tab / Shift-Tab",
                "move between state, close code, notes, work note",
            ),
            ("↑ ↓", "pick the close code (in the list)"),
            ("t or Space", "switch Closed / Resolved (on the state line)"),
            ("p or Ctrl-P", "preview the change as a DRY RUN"),
            (
                "L or Ctrl-L",
                "preview it LIVE (needs its verified dry run)",
            ),
            ("r", "read the record again"),
            ("Ctrl-R", "reset the sandbox story (sandbox only)"),
        ],
        Screen::Preview => &[
            (
                "a",
                "approve: asks for a reason and the typed record number",
            ),
            ("r", "reject with a reason"),
            ("↑ ↓ PgUp PgDn", "scroll the diff"),
        ],
        Screen::Evidence => &[
            (
                "L",
                "after a verified dry run: preview the same change LIVE",
            ),
            ("A", "the audit events of this run"),
            (
                "x",
                "export the evidence pack (Markdown + JSON) next to the database",
            ),
            ("B", "after a live run: preview its linked rollback run"),
            ("C", "reconcile a run a stopped process left executing"),
        ],
        Screen::Audit => &[
            ("↑ ↓ PgUp PgDn", "scroll the events"),
            ("A", "every event of every run: the audit log"),
        ],
        Screen::AuditLog => &[
            ("↑ ↓ PgUp PgDn", "scroll; only the visible events are read"),
            ("Home End", "newest / oldest event"),
            ("v", "walk the whole chain again"),
        ],
        Screen::Runs => &[("↑ ↓", "pick a run"), ("Enter", "open its evidence")],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_enter_is_never_a_global_action() {
        let enter = KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE);
        assert!(matches!(global(enter), Action::Ignored));
    }

    #[test]
    fn digits_open_the_steps() {
        let three = KeyEvent::new(KeyCode::Char('3'), KeyModifiers::NONE);
        assert!(matches!(global(three), Action::Go(Screen::Fields)));
    }
}
