//! Named styles for every screen; `NO_COLOR` resets all colours and keeps bold/reverse cues.

use ratatui::style::{Color, Modifier, Style};

/// The palette in use: coloured, or plain when `NO_COLOR` is set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Theme {
    colour: bool,
}

impl Default for Theme {
    fn default() -> Self {
        Self::coloured()
    }
}

impl Theme {
    /// Colours unless `NO_COLOR` is set to a non-empty value (see no-color.org).
    pub fn from_env() -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { colour: !no_color }
    }

    /// The coloured palette.
    pub const fn coloured() -> Self {
        Self { colour: true }
    }

    /// Every colour reset; modifiers (bold, reverse, underline) stay.
    pub const fn plain() -> Self {
        Self { colour: false }
    }

    /// Whether colours are drawn at all.
    pub const fn has_colour(self) -> bool {
        self.colour
    }

    /// Applies the palette rule to a style: in plain mode only the modifiers survive.
    fn paint(self, style: Style) -> Style {
        if self.colour {
            style
        } else {
            Style {
                fg: None,
                bg: None,
                underline_color: None,
                ..style
            }
        }
    }

    fn fg(self, colour: Color) -> Style {
        self.paint(Style::new().fg(colour))
    }

    /// Ordinary text.
    pub fn text(self) -> Style {
        Style::new()
    }

    /// Secondary text: explanations, timestamps.
    pub fn dim(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// Screen titles.
    pub fn title(self) -> Style {
        self.fg(Color::Cyan).add_modifier(Modifier::BOLD)
    }

    /// Section headings inside a screen.
    pub fn heading(self) -> Style {
        Style::new().add_modifier(Modifier::BOLD)
    }

    /// A key name in a hint ("a", "Esc").
    pub fn key(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// The selected row of a list or table.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// The border of the focused input.
    pub fn focus(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// The border of an input without focus.
    pub fn border(self) -> Style {
        self.fg(Color::DarkGray)
    }

    /// An added line or value in a diff.
    pub fn added(self) -> Style {
        self.fg(Color::Green)
    }

    /// A removed line or value in a diff.
    pub fn removed(self) -> Style {
        self.fg(Color::Red)
    }

    /// A check that passed, a step that is done.
    pub fn pass(self) -> Style {
        self.fg(Color::Green)
    }

    /// A warning: done, but the operator should know something.
    pub fn warn(self) -> Style {
        self.fg(Color::Yellow).add_modifier(Modifier::BOLD)
    }

    /// A failed check or a blocked step.
    pub fn fail(self) -> Style {
        self.fg(Color::Red).add_modifier(Modifier::BOLD)
    }

    /// An error notice.
    pub fn error(self) -> Style {
        self.fg(Color::LightRed).add_modifier(Modifier::BOLD)
    }

    /// An informational notice.
    pub fn info(self) -> Style {
        self.fg(Color::Cyan)
    }

    /// The status bar line.
    pub fn status(self) -> Style {
        self.paint(Style::new().bg(Color::DarkGray).fg(Color::White))
    }

    /// The mode banner for a dry run.
    pub fn dry_run(self) -> Style {
        self.paint(Style::new().bg(Color::Cyan).fg(Color::Black))
            .add_modifier(Modifier::BOLD)
    }

    /// The PRODUCTION badge: reverse video in both palettes, so it reads without colour.
    pub fn production(self) -> Style {
        self.paint(Style::new().fg(Color::Red).bg(Color::White))
            .add_modifier(Modifier::BOLD | Modifier::REVERSED)
    }

    /// The mode banner for a live write: loud on purpose.
    pub fn live(self) -> Style {
        if self.colour {
            Style::new()
                .bg(Color::Red)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_keeps_modifiers_and_drops_colours() {
        let style = Theme::plain().fail();
        assert_eq!(style.fg, None);
        assert!(style.add_modifier.contains(Modifier::BOLD));
        assert_eq!(Theme::coloured().fail().fg, Some(Color::Red));
    }
}
