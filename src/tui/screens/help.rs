//! The overlays that are not forms: the help with every key, and the quit confirmation.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use super::Screen;
use crate::tui::action::Action;
use crate::tui::keymap;
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::pad;

/// Handles a key in the help overlay: scroll keys scroll, the rest close it.
pub fn on_key(key: KeyEvent, scroll: &mut Scroll) -> Action {
    if scroll.handle_key(key) {
        Action::Done
    } else {
        Action::CloseOverlay
    }
}

/// Draws every key for the screen below the overlay.
pub fn render(area: Rect, buf: &mut Buffer, screen: Screen, scroll: &mut Scroll, theme: Theme) {
    let outer = centered(
        area,
        area.width.saturating_sub(4).min(90),
        area.height.saturating_sub(2),
    );
    if outer.width < 4 || outer.height < 3 {
        return;
    }
    Clear.render(outer, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(" Keys (↑↓ scroll, any other key closes) ");
    let inner = block.inner(outer);
    block.render(outer, buf);
    // Narrow, each key's meaning goes on the row under it instead of a squeezed column.
    let column = if inner.width >= 60 { 24 } else { 4 };
    let mut doc = Doc::new();
    for (section, keys) in keymap::help(screen) {
        doc.push(Line::styled(section, theme.heading()));
        for (key, what) in keys {
            if column == 24 {
                let key = Span::styled(pad(&format!("  {key}"), 24), theme.key());
                doc.push_hanging(24, Line::from(vec![key, Span::raw(what)]));
            } else {
                doc.push(Line::styled(format!("  {key}"), theme.key()));
                doc.push_hanging(4, Line::raw(format!("    {what}")));
            }
        }
        doc.blank();
    }
    doc.render(inner, buf, scroll);
}

/// Handles a key in the quit confirmation.
pub fn on_quit_key(key: KeyEvent) -> Action {
    match key.code {
        KeyCode::Char('y' | 'Y') => Action::Quit,
        _ => Action::CloseOverlay,
    }
}

/// Draws the quit confirmation.
pub fn render_quit(area: Rect, buf: &mut Buffer, theme: Theme) {
    let outer = centered(area, area.width.saturating_sub(4).min(64), 6);
    if outer.width < 4 || outer.height < 3 {
        return;
    }
    Clear.render(outer, buf);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.fail())
        .title(" Quit? ");
    let inner = block.inner(outer);
    block.render(outer, buf);
    let mut doc = Doc::new();
    doc.push("A run is executing. Quitting now leaves it marked executing; its evidence says so.");
    doc.push(Line::from(vec![
        Span::styled("y", theme.key()),
        Span::raw(" quits anyway, any other key stays"),
    ]));
    doc.render(inner, buf, &mut Scroll::default());
}
