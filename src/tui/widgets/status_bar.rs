//! The bottom bar: target and mode in words on the left, key hints on the right.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use super::{hint_spans, sanitize};
use crate::tui::theme::Theme;

/// What the status bar shows.
pub struct StatusBar<'a> {
    /// "embedded sandbox", a URL, or "not connected".
    pub target: &'a str,
    /// "DRY RUN" or "LIVE".
    pub mode: &'a str,
    pub live: bool,
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
        let target = sanitize::truncate(&sanitize::one_line(self.target), 40);
        let left = Line::from(vec![
            Span::raw(" "),
            Span::styled(format!(" {} ", self.mode), mode_style),
            Span::raw(format!(" {target} ")),
        ]);
        let left_width = u16::try_from(left.width())
            .unwrap_or(u16::MAX)
            .min(area.width);
        buf.set_line(area.x, area.y, &left, area.width);

        let hints = Line::from(hint_spans(self.hints, theme));
        let room = area.width.saturating_sub(left_width + 1);
        let hint_width = u16::try_from(hints.width()).unwrap_or(u16::MAX);
        if room >= 8 {
            let shown = hint_width.min(room);
            let x = area.x + area.width - shown;
            buf.set_line(x, area.y, &hints, shown);
        }
    }
}
