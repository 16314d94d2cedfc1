//! Every audit event, newest first, with the chain's verification in words. Only the rows
//! around the visible ones are read, a page at a time, so a million events scroll as lightly
//! as ten.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::audit::summary;
use super::check_line;
use crate::domain::policy::Outcome;
use crate::store::{AuditEvent, ChainReport};
use crate::tui::action::Action;
use crate::tui::message::{AuditPage, Job};
use crate::tui::theme::Theme;
use crate::tui::widgets::doc::{Doc, Scroll};
use crate::tui::widgets::sanitize::{one_line, pad, truncate};

/// The screen rows one event takes.
const ROWS_PER_EVENT: u16 = 2;

/// The fewest rows one page read asks for.
const MIN_PAGE: u64 = 60;

/// The audit log screen: where it is scrolled to and the page of events around it.
#[derive(Debug, Default)]
pub struct AuditLogView {
    /// The row at the top of the list, counted from the newest event.
    offset: u64,
    /// How many events the store holds, once a page has said.
    total: Option<u64>,
    /// The position of `events[0]`.
    loaded_at: u64,
    events: Vec<AuditEvent>,
    /// The rows the list had at its last draw.
    rows: u64,
    /// A page was asked for and has not arrived: one read runs at a time, the latest wins.
    waiting: bool,
    /// The last walk of the chain.
    pub verified: Option<ChainReport>,
}

impl AuditLogView {
    /// Forgets the loaded rows (new events shift every position) and asks for the page shown.
    pub fn reload(&mut self) -> Job {
        self.events.clear();
        self.waiting = true;
        self.page_job()
    }

    /// Takes a page that arrived; returns the next read when the view has moved past it.
    pub fn apply_page(&mut self, page: AuditPage) -> Option<Job> {
        self.waiting = false;
        self.total = Some(page.total);
        self.loaded_at = page.offset;
        self.events = page.events;
        self.offset = self.offset.min(self.last_offset());
        self.wanted()
    }

    /// The rows of the list from the top of the screen, as the operator scrolled.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Handles the screen's keys: scrolling, and `v` to walk the chain again.
    pub fn on_key(&mut self, key: KeyEvent) -> Action {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return Action::Ignored;
        }
        let page = self.rows.saturating_sub(1).max(1);
        self.offset = match key.code {
            KeyCode::Char('v') => return Action::Start(Job::VerifyAudit),
            KeyCode::Down | KeyCode::Char('j') => self.offset.saturating_add(1),
            KeyCode::Up | KeyCode::Char('k') => self.offset.saturating_sub(1),
            KeyCode::PageDown | KeyCode::Char(' ') => self.offset.saturating_add(page),
            KeyCode::PageUp => self.offset.saturating_sub(page),
            KeyCode::Home | KeyCode::Char('g') => 0,
            KeyCode::End | KeyCode::Char('G') => u64::MAX,
            _ => return Action::Ignored,
        }
        .min(self.last_offset());
        self.wanted().map_or(Action::Done, Action::Start)
    }

    /// The greatest top row that still fills the list.
    fn last_offset(&self) -> u64 {
        self.total.map_or(0, |t| t.saturating_sub(self.rows.max(1)))
    }

    /// A read of the rows around the view, unless they are loaded or a read is on its way.
    fn wanted(&mut self) -> Option<Job> {
        if self.waiting || self.covers() {
            return None;
        }
        self.waiting = true;
        Some(self.page_job())
    }

    /// A page that starts one screen above the view and ends one screen below it.
    fn page_job(&self) -> Job {
        Job::AuditPage {
            offset: self.offset.saturating_sub(self.rows),
            limit: (self.rows * 3).max(MIN_PAGE),
        }
    }

    /// Whether every visible row is loaded.
    fn covers(&self) -> bool {
        let end = self.loaded_at + self.events.len() as u64;
        let last = self.total.unwrap_or(0).min(self.offset + self.rows.max(1));
        !self.events.is_empty() && self.loaded_at <= self.offset && last <= end
    }

    /// Draws the heading, the chain's verification, the visible rows and a position line.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, theme: Theme) {
        if area.width == 0 || area.height == 0 {
            return;
        }
        let mut head = self.heading(area.width, theme);
        let head_rows = head.wrapped(area.width).len().min(usize::from(area.height));
        let head_height = u16::try_from(head_rows).unwrap_or(u16::MAX);
        head.render(
            Rect {
                height: head_height,
                ..area
            },
            buf,
            &mut Scroll::default(),
        );
        let list = Rect {
            y: area.y + head_height,
            height: area.height - head_height,
            ..area
        };
        self.render_list(list, buf, theme);
    }

    fn heading(&self, width: u16, theme: Theme) -> Doc {
        let mut doc = Doc::new();
        let count = self.total.map_or_else(
            || "counting…".to_owned(),
            |t| format!("{} events", thousands(t)),
        );
        // Narrow, the position line alone gives the count, so more events fit.
        if width >= 64 {
            doc.push(Line::from(vec![
                Span::styled("Every audit event, newest first: ", theme.heading()),
                Span::raw(count),
            ]));
        }
        let line = match &self.verified {
            None => check_line(Outcome::Warn, "chain not verified yet: verifying…", theme),
            Some(report) => match &report.first_bad {
                None => check_line(Outcome::Pass, &intact(report, width), theme),
                Some(bad) => {
                    let text = format!("chain BROKEN: {}", one_line(bad));
                    check_line(Outcome::Fail, &text, theme)
                }
            },
        };
        doc.push_hanging(8, line);
        doc
    }

    fn render_list(&mut self, area: Rect, buf: &mut Buffer, theme: Theme) {
        if area.height < 2 {
            return;
        }
        let columns = format!("  {}{}event · run", pad("seq", 8), pad("at", 20));
        buf.set_line(
            area.x,
            area.y,
            &Line::styled(columns, theme.dim()),
            area.width,
        );
        // Two rows per event, so that who did it and the detail show at any width.
        self.rows = u64::from((area.height - 2) / ROWS_PER_EVENT).max(1);
        self.offset = self.offset.min(self.last_offset());
        let total = self.total.unwrap_or(0);
        let ys = (area.y + 1..area.y + area.height - 1).step_by(usize::from(ROWS_PER_EVENT));
        for (y, position) in ys.zip(self.offset..(self.offset + self.rows).min(total)) {
            let [first, second] = self.event_at(position).map_or_else(
                || [Line::styled("  loading…", theme.dim()), Line::default()],
                |e| rows(e, theme),
            );
            buf.set_line(area.x, y, &first, area.width);
            if y + 1 < area.y + area.height - 1 {
                buf.set_line(area.x, y + 1, &second, area.width);
            }
        }
        if total == 0 && self.total.is_some() {
            let empty = Line::styled("  no events yet", theme.dim());
            buf.set_line(area.x, area.y + 1, &empty, area.width);
        }
        let bottom = area.y + area.height - 1;
        buf.set_line(area.x, bottom, &self.position(theme), area.width);
    }

    fn event_at(&self, position: u64) -> Option<&AuditEvent> {
        let index = usize::try_from(position.checked_sub(self.loaded_at)?).ok()?;
        self.events.get(index)
    }

    fn position(&self, theme: Theme) -> Line<'static> {
        let total = self.total.unwrap_or(0);
        let last = (self.offset + self.rows).min(total);
        let first = (self.offset + 1).min(last.max(1));
        Line::from(vec![
            Span::styled(
                format!("events {first}-{last} of {} · ", thousands(total)),
                theme.dim(),
            ),
            Span::styled("v", theme.key()),
            Span::styled(" verifies the chain again", theme.dim()),
        ])
    }
}

/// An intact chain in words, with its head (its first 16 digits on a narrow screen).
fn intact(report: &ChainReport, width: u16) -> String {
    let head = if width >= 80 {
        report.head.clone()
    } else {
        truncate(&report.head, 17)
    };
    format!(
        "chain intact: {} events, each linked to the one before; head {head}",
        thousands(report.events),
    )
}

/// One event on two lines: when, what and which run; then who and the detail.
fn rows(event: &AuditEvent, theme: Theme) -> [Line<'static>; 2] {
    let mut first = vec![
        Span::raw(format!("  {}", pad(&event.seq.to_string(), 8))),
        Span::styled(pad(&one_line(&event.at), 20), theme.dim()),
        Span::styled(one_line(&event.kind), theme.heading()),
    ];
    if let Some(run) = &event.run_id {
        first.push(Span::styled(format!(" · {}", one_line(run)), theme.dim()));
    }
    let second = Line::from(vec![
        Span::raw(format!("{}{} · ", " ".repeat(10), one_line(&event.actor))),
        Span::styled(truncate(&summary(&event.detail), 160), theme.dim()),
    ]);
    [Line::from(first), second]
}

/// A count with thin groups of three digits: 1,000,000.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn counts_read_in_groups_of_three() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn scrolling_past_the_loaded_rows_asks_for_one_page_at_a_time() {
        let mut view = AuditLogView::default();
        let first = view.reload();
        assert!(matches!(first, Job::AuditPage { offset: 0, .. }));
        view.rows = 20;
        let follow = view.apply_page(AuditPage {
            offset: 0,
            events: Vec::new(),
            total: 1_000_000,
        });
        assert!(follow.is_some(), "an empty page does not cover the view");
        assert!(matches!(view.on_key(key(KeyCode::End)), Action::Done));
        assert_eq!(view.offset(), 1_000_000 - 20, "one read at a time");
    }
}
