//! The request log overlay: every call made to the instance so far, newest first. It holds
//! method, path, status and timing only; headers and bodies, and so credentials, never enter it.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Widget};

use crate::servicenow::LoggedRequest;
use crate::tui::action::Action;
use crate::tui::theme::Theme;
use crate::tui::widgets::centered;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::{one_line, pad};

/// Where a call's path starts, so a long path wraps under itself.
const PATH_AT: usize = 29;

/// Handles a key: scroll keys scroll, any other key (`l` and Esc too) closes the log.
pub fn on_key(key: KeyEvent, scroll: &mut Scroll) -> Action {
    if scroll.handle_key(key) {
        Action::Done
    } else {
        Action::CloseOverlay
    }
}

/// Draws the log over the screen.
pub fn render(
    area: Rect,
    buf: &mut Buffer,
    log: &[LoggedRequest],
    scroll: &mut Scroll,
    theme: Theme,
) {
    let outer = centered(
        area,
        area.width.saturating_sub(2),
        area.height.saturating_sub(2),
    );
    if outer.width < 4 || outer.height < 3 {
        return;
    }
    Clear.render(outer, buf);
    let title = if outer.width >= 80 {
        " Requests to the instance, newest first (↑↓ scroll, any other key closes) "
    } else {
        " Requests to the instance, newest first "
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(title);
    let inner = block.inner(outer);
    block.render(outer, buf);
    build(log, inner.width >= 70, theme).render(inner, buf, scroll);
}

/// The log as a document; narrow, each call's path goes on the row under its status.
fn build(log: &[LoggedRequest], wide: bool, theme: Theme) -> Doc {
    let mut doc = Doc::new();
    doc.push_hanging(
        2,
        Line::styled(
            format!(
                "{} calls this session; no headers or bodies are kept, so no credentials",
                log.len()
            ),
            theme.dim(),
        ),
    );
    let header = format!(
        "{}{}{}{}{}",
        pad("time", 9),
        pad("method", 7),
        pad("status", 7),
        pad("   ms", 6),
        if wide { "path and query" } else { "" }
    );
    doc.push(Line::styled(header, theme.dim()));
    if log.is_empty() {
        doc.push(Line::styled(
            "no calls yet: validating (step 04) makes the first ones",
            theme.dim(),
        ));
    }
    for call in log.iter().rev() {
        let mut spans = row(call, theme);
        if wide {
            doc.push_hanging(PATH_AT, Line::from(spans));
        } else {
            let path = spans.split_off(4);
            doc.push(Line::from(spans));
            let mut below = vec![Span::raw("  ")];
            below.extend(path);
            doc.push_hanging(2, Line::from(below));
        }
    }
    doc
}

/// A call's spans: time, method, status and time taken, then the path and its query.
fn row(call: &LoggedRequest, theme: Theme) -> Vec<Span<'static>> {
    let (status, style) = match call.status {
        Some(code @ 200..=299) => (code.to_string(), theme.pass()),
        Some(code) => (code.to_string(), theme.fail()),
        None => ("none".to_owned(), theme.fail()),
    };
    let (path, query) = readable(&call.path);
    vec![
        Span::styled(pad(&local_clock(&call.at), 9), theme.dim()),
        Span::raw(pad(&one_line(&call.method), 7)),
        Span::styled(pad(&status, 7), style),
        Span::raw(format!("{:>5} ", call.elapsed_ms)),
        Span::raw(one_line(&path)),
        Span::styled(one_line(&query), theme.dim()),
    ]
}

/// The path, and its query decoded (`name=incident^ORname=task`, not `%3D` and `%5E`).
fn readable(path: &str) -> (String, String) {
    let Some((path, query)) = path.split_once('?') else {
        return (path.to_owned(), String::new());
    };
    let pairs: Vec<String> = url::form_urlencoded::parse(query.as_bytes())
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    (path.to_owned(), format!(" {}", pairs.join(" ")))
}

/// The time of day of a logged UTC stamp in local time; odd input is shown as given.
fn local_clock(at: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(at, "%Y-%m-%d %H:%M:%S").map_or_else(
        |_| at.to_owned(),
        |utc| {
            utc.and_utc()
                .with_timezone(&chrono::Local)
                .format("%H:%M:%S")
                .to_string()
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(path: &str, status: Option<u16>) -> LoggedRequest {
        LoggedRequest {
            method: "GET".to_owned(),
            path: path.to_owned(),
            status,
            elapsed_ms: 12,
            at: "2026-01-02 03:04:05".to_owned(),
        }
    }

    #[test]
    fn queries_read_decoded() {
        let (path, query) = readable(
            "/api/now/table/incident?sysparm_query=number%3DINC-42%5Eactive%3Dtrue&sysparm_limit=1",
        );
        assert_eq!(path, "/api/now/table/incident");
        assert_eq!(
            query,
            " sysparm_query=number=INC-42^active=true sysparm_limit=1"
        );
    }

    #[test]
    fn the_newest_call_comes_first_and_a_missing_answer_says_so() {
        let log = [
            call("/api/now/table/sys_user", Some(200)),
            call("/api/now/table/incident", None),
        ];
        let text: Vec<String> = build(&log, true, Theme::plain())
            .wrapped(100)
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect();
        let incident = text.iter().position(|l| l.contains("incident")).unwrap();
        let user = text.iter().position(|l| l.contains("sys_user")).unwrap();
        assert!(incident < user, "{text:?}");
        assert!(text[incident].contains("GET    none"), "{text:?}");
    }
}
