//! The bottom bar: target and mode in words on the left, key hints on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{hint_spans, sanitize};
use crate::tui::theme::Theme;

/// What the status bar shows.
pub struct StatusBar<'a> {
    /// "embedded sandbox", a URL, or "no connector".
    pub target: &'a str,
    /// "DRY RUN" or "LIVE".
    pub mode: &'a str,
    pub live: bool,
    /// The target is not a sandbox: say PRODUCTION in reverse video, which survives `NO_COLOR`.
    pub production: bool,
    pub hints: &'a [(&'a str, &'a str)],
    pub theme: Theme,
}

impl Widget for &StatusBar<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let theme = self.theme;
        buf.set_style(area, theme.status());
        let mode_style = if self.live {
            theme.live()
        } else {
            theme.dry_run()
        };
        let target = sanitize::truncate(&sanitize::one_line(self.target), self.target_room(area));
        let mut spans = vec![
            Span::raw(lead(area)),
            Span::styled(format!(" {} ", self.mode), mode_style),
            Span::raw(" "),
        ];
        if self.production {
            spans.push(Span::styled(" PRODUCTION ", theme.production()));
            spans.push(Span::raw(" "));
        }
        spans.push(Span::raw(format!("{target} ")));
        let left = Line::from(spans);
        let left_width = u16::try_from(left.width())
            .unwrap_or(u16::MAX)
            .min(area.width);
        buf.set_line(area.x, area.y, &left, area.width);

        let room = usize::from(area.width.saturating_sub(left_width + 1));
        let hints = fitting_hints(self.hints, room, theme);
        let width = u16::try_from(hints.width()).unwrap_or(u16::MAX);
        if width > 0 && width <= area.width {
            buf.set_line(area.x + area.width - width, area.y, &hints, width);
        }
    }
}

impl StatusBar<'_> {
    /// Columns the target may take: at most 40, and less on a narrow bar, so that the help and
    /// back hints keep their place; never under 12, so the target still reads.
    fn target_room(&self, area: Rect) -> usize {
        let globals = &self.hints[self.hints.len().saturating_sub(2)..];
        let hints = Line::from(hint_spans(globals, self.theme)).width();
        let badge = if self.production { 13 } else { 0 };
        let fixed = lead(area).len() + self.mode.chars().count() + 2 + 1 + badge + 1;
        usize::from(area.width)
            .saturating_sub(fixed + hints + 1)
            .clamp(12, 40)
    }
}

/// A space before the mode, given up on a narrow bar.
fn lead(area: Rect) -> &'static str {
    if area.width < 50 { "" } else { " " }
}

/// As many whole hints as fit in `room` columns. The screen's own hints go first; the last two
/// (help and back) stay longest, because they lead to everything else. A cut hint helps nobody.
fn fitting_hints(hints: &[(&str, &str)], room: usize, theme: Theme) -> Line<'static> {
    let globals = hints.len().min(2);
    let (own, global) = hints.split_at(hints.len() - globals);
    let candidates = (0..=own.len())
        .rev()
        .map(|n| own[..n].iter().chain(global).copied().collect::<Vec<_>>())
        .chain(
            (0..global.len())
                .rev()
                .map(|n| global[global.len() - n..].to_vec()),
        );
    for candidate in candidates {
        let line = Line::from(hint_spans(&candidate, theme));
        if line.width() <= room {
            return line;
        }
    }
    Line::default()
}
