//! A text input over `ratatui-textarea` that forwards only editing keys, so app keys (Tab,
//! Esc, function keys, chosen Ctrl combinations) always reach the app first.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::widgets::{Block, Borders, Widget};
use ratatui_textarea::{CursorMove, TextArea, WrapMode};

use crate::tui::theme::Theme;

/// The character that stands in for every typed character of a secret.
pub const MASK: char = '•';

/// One editable value: a single line, a masked secret, or multi-line text.
pub struct TextInput {
    area: TextArea<'static>,
    multi_line: bool,
}

impl TextInput {
    /// A single-line input holding `value`.
    pub fn single(value: &str) -> Self {
        let mut input = Self {
            area: TextArea::new(vec![one_line(value)]),
            multi_line: false,
        };
        input.area.move_cursor(CursorMove::End);
        input.area.set_cursor_line_style(Style::new());
        input.set_focus(false);
        input
    }

    /// A single-line input whose characters are never drawn.
    pub fn secret() -> Self {
        let mut input = Self::single("");
        input.area.set_mask_char(MASK);
        input
    }

    /// A multi-line input that wraps long lines at words.
    pub fn multi(value: &str) -> Self {
        let lines = value.lines().map(str::to_owned).collect();
        let mut area = TextArea::new(lines);
        area.set_wrap_mode(WrapMode::WordOrGlyph);
        area.move_cursor(CursorMove::Bottom);
        area.move_cursor(CursorMove::End);
        area.set_cursor_line_style(Style::new());
        let mut input = Self {
            area,
            multi_line: true,
        };
        input.set_focus(false);
        input
    }

    /// The text as typed, lines joined with `\n`.
    pub fn value(&self) -> String {
        self.area.lines().join("\n")
    }

    /// Replaces the whole text.
    pub fn set_value(&mut self, value: &str) {
        let mask = self.area.mask_char();
        let cursor = self.area.cursor_style();
        *self = if self.multi_line {
            Self::multi(value)
        } else {
            Self::single(value)
        };
        if let Some(mask) = mask {
            self.area.set_mask_char(mask);
        }
        self.area.set_cursor_style(cursor);
    }

    /// Handles an editing key; returns false for keys that belong to the app.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        if alt {
            return false;
        }
        if ctrl {
            return self.ctrl_key(key.code);
        }
        self.plain_key(key.code)
    }

    fn plain_key(&mut self, code: KeyCode) -> bool {
        match code {
            KeyCode::Char(c) => self.area.insert_char(c),
            KeyCode::Backspace => {
                self.area.delete_char();
            }
            KeyCode::Delete => {
                self.area.delete_next_char();
            }
            KeyCode::Left => self.area.move_cursor(CursorMove::Back),
            KeyCode::Right => self.area.move_cursor(CursorMove::Forward),
            KeyCode::Home => self.area.move_cursor(CursorMove::Head),
            KeyCode::End => self.area.move_cursor(CursorMove::End),
            KeyCode::Enter if self.multi_line => self.area.insert_newline(),
            KeyCode::Up if self.multi_line => self.area.move_cursor(CursorMove::Up),
            KeyCode::Down if self.multi_line => self.area.move_cursor(CursorMove::Down),
            _ => return false,
        }
        true
    }

    fn ctrl_key(&mut self, code: KeyCode) -> bool {
        match code {
            KeyCode::Left => self.area.move_cursor(CursorMove::WordBack),
            KeyCode::Right => self.area.move_cursor(CursorMove::WordForward),
            KeyCode::Char('u') => {
                self.area.delete_line_by_head();
            }
            KeyCode::Char('k') => {
                self.area.delete_line_by_end();
            }
            KeyCode::Char('w') => {
                self.area.delete_word();
            }
            KeyCode::Char('z') => {
                self.area.undo();
            }
            KeyCode::Char('y') => {
                self.area.redo();
            }
            _ => return false,
        }
        true
    }

    /// Inserts pasted text; control characters are dropped, and newlines too on one line.
    pub fn paste(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n");
        let text = if self.multi_line {
            text.as_str()
        } else {
            text.trim_end_matches('\n')
        };
        let cleaned: String = text
            .chars()
            .filter_map(|c| match c {
                '\n' if self.multi_line => Some('\n'),
                '\n' | '\t' => Some(' '),
                c if c.is_control() => None,
                c => Some(c),
            })
            .collect();
        self.area.insert_str(cleaned);
    }

    /// Shows or hides the cursor; only the focused input draws one.
    pub fn set_focus(&mut self, focused: bool) {
        let cursor = if focused {
            Style::new().add_modifier(Modifier::REVERSED)
        } else {
            Style::new()
        };
        self.area.set_cursor_style(cursor);
    }

    /// Draws the input.
    pub fn render(&self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        (&self.area).render(area, buf);
    }

    /// Draws a multi-line input inside a titled border.
    pub fn render_boxed(
        &self,
        area: Rect,
        buf: &mut Buffer,
        title: &str,
        focused: bool,
        theme: Theme,
    ) {
        if area.width < 3 || area.height < 3 {
            return;
        }
        let border = if focused {
            theme.focus()
        } else {
            theme.border()
        };
        let block = Block::new()
            .borders(Borders::ALL)
            .border_style(border)
            .title(title.to_owned());
        let inner = block.inner(area);
        block.render(area, buf);
        self.render(inner, buf);
    }
}

fn one_line(value: &str) -> String {
    value.replace(['\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn app_keys_are_left_alone() {
        let mut input = TextInput::single("ab");
        assert!(!input.handle_key(key(KeyCode::Tab)));
        assert!(!input.handle_key(key(KeyCode::Esc)));
        assert!(!input.handle_key(key(KeyCode::Enter)));
        assert!(input.handle_key(key(KeyCode::Char('c'))));
        assert_eq!(input.value(), "abc");
    }

    #[test]
    fn a_secret_is_drawn_masked() {
        let mut input = TextInput::secret();
        input.paste("hunter2\n");
        let mut buf = Buffer::empty(Rect::new(0, 0, 12, 1));
        input.render(buf.area, &mut buf);
        let drawn: String = buf
            .content
            .iter()
            .map(ratatui::buffer::Cell::symbol)
            .collect();
        assert!(!drawn.contains("hunter2"), "{drawn}");
        assert!(drawn.starts_with("•••••••"), "{drawn}");
        assert_eq!(input.value(), "hunter2");
    }

    #[test]
    fn multi_line_takes_enter_as_a_newline() {
        let mut input = TextInput::multi("one");
        assert!(input.handle_key(key(KeyCode::Enter)));
        input.paste("two\x1b");
        assert_eq!(input.value(), "one\ntwo");
    }
}
