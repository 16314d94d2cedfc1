//! Small reusable pieces: text inputs, scrollable documents, sanitising, the status bar.

pub mod doc;
pub mod sanitize;
pub mod status_bar;
pub mod text_input;

use ratatui::layout::Rect;
use ratatui::text::Span;

use super::theme::Theme;

/// The frames of the progress spinner.
const SPINNER: [&str; 8] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧"];

/// The spinner frame for a tick count.
pub fn spinner(tick: usize) -> &'static str {
    SPINNER[tick % SPINNER.len()]
}

/// A rectangle of at most `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect::new(
        area.x + (area.width - width) / 2,
        area.y + (area.height - height) / 2,
        width,
        height,
    )
}

/// Key hints as spans: the key highlighted, its meaning plain, separated by two spaces.
pub fn hint_spans(hints: &[(&str, &str)], theme: Theme) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (i, (key, what)) in hints.iter().enumerate() {
        if i > 0 {
            spans.push(Span::raw("  "));
        }
        spans.push(Span::styled((*key).to_owned(), theme.key()));
        spans.push(Span::raw(format!(" {what}")));
    }
    spans
}

/// The width of the label column of key-value lines.
pub const LABEL_WIDTH: usize = 22;

/// A label column and a value, for key-value lines in the step screens.
pub fn label_value(label: &str, value: &str, theme: Theme) -> Vec<Span<'static>> {
    vec![
        Span::styled(sanitize::pad(label, LABEL_WIDTH), theme.dim()),
        Span::raw(sanitize::one_line(value)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn centred_boxes_never_leave_the_area() {
        let area = Rect::new(2, 3, 10, 4);
        assert_eq!(centered(area, 50, 50), area);
        assert_eq!(centered(area, 4, 2), Rect::new(5, 4, 4, 2));
        assert_eq!(centered(Rect::default(), 4, 2), Rect::default());
    }
}
