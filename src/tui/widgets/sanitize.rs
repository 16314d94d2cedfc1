//! Makes remote text safe to draw: control, escape and bidi characters become visible marks.

use std::borrow::Cow;

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Replaces every character that could move the cursor, change terminal modes or reorder text.
///
/// C0 controls become their Unicode "control picture" (so an escape reads as `␛`), DEL becomes
/// `␡`, and C1 controls and bidirectional overrides become `�`. A tab becomes spaces so that
/// column widths stay predictable.
pub fn clean(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_care) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        push_clean(&mut out, c);
    }
    Cow::Owned(out)
}

/// Splits text into lines (`\n`, `\r\n` or a lone `\r`) and cleans each one.
pub fn clean_lines(text: &str) -> Vec<String> {
    let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
    normalised
        .split('\n')
        .map(|line| clean(line).into_owned())
        .collect()
}

/// One line for a single-line cell: newlines become ` ⏎ ` so nothing is hidden.
pub fn one_line(text: &str) -> String {
    clean_lines(text).join(" ⏎ ")
}

/// Cuts a line to at most `width` columns, ending with `…` when something was cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.width() <= width {
        return text.to_owned();
    }
    if width == 0 {
        return String::new();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = c.width().unwrap_or(0);
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

/// Cuts or pads a line to exactly `width` columns, measuring wide characters correctly.
pub fn pad(text: &str, width: usize) -> String {
    let mut out = truncate(text, width);
    let used = out.width();
    out.extend(std::iter::repeat_n(' ', width.saturating_sub(used)));
    out
}

fn needs_care(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

fn push_clean(out: &mut String, c: char) {
    match c {
        '\t' => out.push_str("    "),
        '\u{7f}' => out.push('␡'),
        c if u32::from(c) < 0x20 => {
            out.push(char::from_u32(0x2400 + u32::from(c)).unwrap_or('\u{FFFD}'));
        }
        c if needs_care(c) => out.push('\u{FFFD}'),
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_and_overrides_become_visible() {
        assert_eq!(clean("a\x1b[2Jb"), "a␛[2Jb");
        assert_eq!(clean("x\u{202E}y\u{9b}"), "x\u{FFFD}y\u{FFFD}");
        assert!(matches!(clean("plain 日本"), Cow::Borrowed(_)));
    }

    #[test]
    fn lines_split_on_every_newline_style() {
        assert_eq!(clean_lines("a\r\nb\rc\nd"), ["a", "b", "c", "d"]);
    }

    #[test]
    fn truncation_respects_wide_characters() {
        assert_eq!(truncate("日本語テキスト", 5), "日本…");
        assert_eq!(truncate("short", 10), "short");
        assert_eq!(truncate("abc", 0), "");
        assert_eq!(pad("日本", 6), "日本  ");
    }
}
