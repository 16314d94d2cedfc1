//! Terminal ownership. One place turns terminal modes on, records each one it turned on, and
//! turns exactly those off again: from Drop, from the panic hook, and on normal exit.

use std::io::{self, Stdout, Write};
use std::sync::{Mutex, Once, PoisonError};

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, EnableBracketedPaste};
use crossterm::execute;
use crossterm::terminal::{
    BeginSynchronizedUpdate, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

/// A terminal mode this process turns on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Raw,
    AlternateScreen,
    BracketedPaste,
    HiddenCursor,
}

/// The modes turned on and not yet off, in the order they were turned on. Shared with the panic
/// hook, which cannot reach the guard.
static ACTIVE: Mutex<Vec<Mode>> = Mutex::new(Vec::new());

static HOOK: Once = Once::new();

/// The terminal while the app owns it; dropping the guard gives it back.
pub struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    /// Takes the terminal: raw mode, alternate screen, bracketed paste, hidden cursor.
    /// If any step fails, what was already turned on is turned off before the error returns.
    pub fn take() -> io::Result<Self> {
        install_panic_hook();
        turn_on().inspect_err(|_| {
            let _ = restore();
        })?;
        let terminal = Terminal::new(CrosstermBackend::new(io::stdout())).inspect_err(|_| {
            let _ = restore();
        })?;
        Ok(Self { terminal })
    }

    /// The terminal to draw on.
    pub fn terminal(&mut self) -> &mut Terminal<CrosstermBackend<Stdout>> {
        &mut self.terminal
    }

    /// Gives the terminal back now (Drop does the same if this is never called).
    pub fn restore(&mut self) -> io::Result<()> {
        restore()
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = restore();
    }
}

fn turn_on() -> io::Result<()> {
    let mut out = io::stdout();
    enable_raw_mode()?;
    record(Mode::Raw);
    execute!(out, EnterAlternateScreen)?;
    record(Mode::AlternateScreen);
    execute!(out, EnableBracketedPaste)?;
    record(Mode::BracketedPaste);
    execute!(out, Hide)?;
    record(Mode::HiddenCursor);
    Ok(())
}

fn record(mode: Mode) {
    ACTIVE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(mode);
}

/// Turns off exactly the modes that are on, newest first; safe to call more than once.
pub fn restore() -> io::Result<()> {
    let modes = std::mem::take(&mut *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner));
    let mut out = io::stdout();
    let mut first_error = None;
    for mode in modes.into_iter().rev() {
        let result = match mode {
            Mode::HiddenCursor => execute!(out, Show),
            Mode::BracketedPaste => execute!(out, DisableBracketedPaste),
            Mode::AlternateScreen => execute!(out, LeaveAlternateScreen),
            Mode::Raw => disable_raw_mode(),
        };
        if let Err(error) = result {
            first_error.get_or_insert(error);
        }
    }
    if let Err(error) = out.flush() {
        first_error.get_or_insert(error);
    }
    first_error.map_or(Ok(()), Err)
}

/// Restores the terminal before the panic message prints, so the message is readable.
fn install_panic_hook() {
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore();
            previous(info);
        }));
    });
}

/// Draws one frame inside a synchronized update, so a slow link never shows half a frame.
pub fn draw_synchronized<W: Write>(
    terminal: &mut Terminal<CrosstermBackend<W>>,
    render: impl FnOnce(&mut ratatui::Frame<'_>),
) -> io::Result<()> {
    execute!(terminal.backend_mut(), BeginSynchronizedUpdate)?;
    let drawn = terminal.draw(render).map(|_| ());
    let ended = execute!(terminal.backend_mut(), EndSynchronizedUpdate);
    drawn.and(ended)
}
