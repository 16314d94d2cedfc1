//! A scrollable document of styled lines: wrapped once per width, drawn only where visible, so
//! a preview of a 10,000-line note costs the same per frame as a short one.

use crossterm::event::{KeyCode, KeyEvent};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use unicode_width::UnicodeWidthChar;

/// One logical line and the prefix its wrapped continuations repeat (a diff marker, an indent).
#[derive(Clone, Debug)]
struct DocLine {
    line: Line<'static>,
    prefix: Option<Span<'static>>,
}

/// Styled lines, wrapped on demand and cached for the last width.
#[derive(Clone, Debug, Default)]
pub struct Doc {
    lines: Vec<DocLine>,
    cache: Option<(u16, Vec<Line<'static>>)>,
}

impl Doc {
    /// An empty document.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a line; its continuations start at the left edge.
    pub fn push(&mut self, line: impl Into<Line<'static>>) {
        self.lines.push(DocLine {
            line: line.into(),
            prefix: None,
        });
        self.cache = None;
    }

    /// Adds a line whose continuations repeat `prefix`, so a diff marker survives wrapping.
    pub fn push_prefixed(&mut self, prefix: Span<'static>, rest: Vec<Span<'static>>) {
        let mut spans = vec![prefix.clone()];
        spans.extend(rest);
        self.lines.push(DocLine {
            line: Line::from(spans),
            prefix: Some(prefix),
        });
        self.cache = None;
    }

    /// Adds a line whose continuations are indented by `indent` columns (a hanging indent).
    pub fn push_hanging(&mut self, indent: usize, line: impl Into<Line<'static>>) {
        let prefix = Span::raw(" ".repeat(indent));
        self.lines.push(DocLine {
            line: line.into(),
            prefix: Some(prefix),
        });
        self.cache = None;
    }

    /// Adds a bullet item: `indent` spaces and `• `, its continuations lined up after the bullet.
    pub fn push_bullet(&mut self, indent: usize, rest: Vec<Span<'static>>) {
        let mut spans = vec![Span::raw(format!("{}• ", " ".repeat(indent)))];
        spans.extend(rest);
        self.push_hanging(indent + 2, Line::from(spans));
    }

    /// Adds an empty line.
    pub fn blank(&mut self) {
        self.push(Line::default());
    }

    /// How many logical lines there are.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether the document has no lines.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines wrapped to `width`, computed once per width.
    pub fn wrapped(&mut self, width: u16) -> &[Line<'static>] {
        if self.cache.as_ref().is_none_or(|(w, _)| *w != width) {
            let lines = self
                .lines
                .iter()
                .flat_map(|l| wrap(l, usize::from(width)))
                .collect();
            self.cache = Some((width, lines));
        }
        self.cache
            .as_ref()
            .map_or(&[], |(_, lines)| lines.as_slice())
    }

    /// Draws the visible part of the document at the scroll offset, clamping the offset.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, scroll: &mut Scroll) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let lines = self.wrapped(area.width);
        scroll.fit(lines.len(), usize::from(area.height));
        let visible = lines
            .iter()
            .skip(scroll.offset)
            .take(usize::from(area.height));
        for (row, line) in (area.y..).zip(visible) {
            buf.set_line(area.x, row, line, area.width);
        }
    }
}

/// Where a scrollable view stands, and the size it was last drawn at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Scroll {
    pub offset: usize,
    total: usize,
    height: usize,
}

impl Scroll {
    /// Clamps the offset to the content drawn in a viewport of `height` rows.
    pub fn fit(&mut self, total: usize, height: usize) {
        self.total = total;
        self.height = height;
        self.offset = self.offset.min(total.saturating_sub(height));
    }

    /// Moves for a scroll key; returns false for keys that do not scroll.
    pub fn handle_key(&mut self, key: KeyEvent) -> bool {
        let page = self.height.saturating_sub(1).max(1);
        match key.code {
            KeyCode::Down | KeyCode::Char('j') => self.offset = self.offset.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.offset = self.offset.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => {
                self.offset = self.offset.saturating_add(page);
            }
            KeyCode::PageUp => self.offset = self.offset.saturating_sub(page),
            KeyCode::Home | KeyCode::Char('g') => self.offset = 0,
            KeyCode::End | KeyCode::Char('G') => self.offset = usize::MAX,
            _ => return false,
        }
        if self.total > 0 || self.height > 0 {
            self.fit(self.total, self.height);
        }
        true
    }

    /// Whether some content lies below the viewport.
    pub fn has_more(&self) -> bool {
        self.offset + self.height < self.total
    }

    /// "lines 1-20 of 300" for a position hint.
    pub fn position(&self) -> String {
        let last = (self.offset + self.height).min(self.total);
        format!(
            "lines {}-{last} of {}",
            (self.offset + 1).min(last.max(1)),
            self.total
        )
    }
}

/// Wraps one logical line at spaces where possible, repeating its prefix on continuations.
fn wrap(doc_line: &DocLine, width: usize) -> Vec<Line<'static>> {
    let style = doc_line.line.style;
    let prefix_width = doc_line.prefix.as_ref().map_or(0, Span::width);
    let prefix_chars = doc_line
        .prefix
        .as_ref()
        .map_or(0, |p| p.content.chars().count());
    let cells: Vec<(char, ratatui::style::Style)> = doc_line
        .line
        .spans
        .iter()
        .flat_map(|s| s.content.chars().map(move |c| (c, s.style)))
        .collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < cells.len() || out.is_empty() {
        let room = if out.is_empty() || prefix_width >= width {
            width
        } else {
            width - prefix_width
        };
        let floor = if out.is_empty() {
            start + prefix_chars
        } else {
            start
        };
        let end = break_point(&cells, start, floor, room.max(1));
        let mut spans = Vec::new();
        if !out.is_empty() && prefix_width < width {
            spans.extend(doc_line.prefix.clone());
        }
        spans.extend(group(&cells[start..end]));
        out.push(Line::from(spans).style(style));
        start = skip_one_space(&cells, end);
    }
    out
}

/// The end of the row that starts at `start`: the last space after `floor` that fits, else a
/// hard break. A row always takes at least one character, so wrapping always ends.
fn break_point(
    cells: &[(char, ratatui::style::Style)],
    start: usize,
    floor: usize,
    room: usize,
) -> usize {
    let mut used = 0;
    let mut last_space = None;
    for (i, (c, _)) in cells.iter().enumerate().skip(start) {
        let w = c.width().unwrap_or(0);
        if used + w > room {
            return match last_space {
                _ if *c == ' ' && i > floor => i,
                Some(space) if space > floor => space,
                _ => i.max(start + 1),
            };
        }
        if *c == ' ' {
            last_space = Some(i);
        }
        used += w;
    }
    cells.len()
}

fn skip_one_space(cells: &[(char, ratatui::style::Style)], at: usize) -> usize {
    if cells.get(at).is_some_and(|(c, _)| *c == ' ') {
        at + 1
    } else {
        at
    }
}

/// Groups runs of equally styled characters back into spans.
fn group(cells: &[(char, ratatui::style::Style)]) -> Vec<Span<'static>> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    for (c, style) in cells {
        match spans.last_mut() {
            Some(last) if last.style == *style => last.content.to_mut().push(*c),
            _ => spans.push(Span::styled(c.to_string(), *style)),
        }
    }
    spans
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(lines: &[Line<'_>]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn long_lines_wrap_at_spaces_and_keep_their_marker() {
        let mut doc = Doc::new();
        doc.push_prefixed(Span::raw("+ "), vec![Span::raw("alpha beta gamma delta")]);
        assert_eq!(
            text(doc.wrapped(12)),
            ["+ alpha beta", "+ gamma", "+ delta"]
        );
    }

    #[test]
    fn only_the_visible_rows_are_drawn_and_the_offset_is_clamped() {
        let mut doc = Doc::new();
        for i in 0..10_000 {
            doc.push(format!("line {i}"));
        }
        let mut scroll = Scroll {
            offset: 20_000,
            ..Scroll::default()
        };
        let mut buf = Buffer::empty(Rect::new(0, 0, 10, 3));
        doc.render(buf.area, &mut buf, &mut scroll);
        assert_eq!(scroll.offset, 9_997);
        let first: String = (0..10).map(|x| buf[(x, 0)].symbol().to_owned()).collect();
        assert_eq!(first.trim_end(), "line 9997");
    }

    #[test]
    fn a_bullet_is_drawn_once_and_its_text_wraps_under_itself() {
        let mut doc = Doc::new();
        doc.push_bullet(2, vec![Span::raw("alpha beta gamma")]);
        assert_eq!(
            text(doc.wrapped(12)),
            ["  • alpha", "    beta", "    gamma"]
        );
    }

    #[test]
    fn a_zero_width_never_loops() {
        let mut doc = Doc::new();
        doc.push("abc");
        assert_eq!(doc.wrapped(0).len(), 3);
    }
}
