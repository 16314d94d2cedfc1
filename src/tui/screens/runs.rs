//! Every governed run, newest first; Enter opens a run's evidence.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Line;

use crate::domain::run::RunState;
use crate::tui::action::Action;
use crate::tui::message::{Job, RunRow};
use crate::tui::theme::Theme;
use crate::tui::widgets::sanitize::{one_line, pad};
use crate::workspace::ROLLBACK_ACTION;

/// Which run is picked.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunsView {
    pub selected: usize,
}

impl RunsView {
    /// Handles the list's keys.
    pub fn on_key(&mut self, key: KeyEvent, runs: &[RunRow]) -> Action {
        if key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
        {
            return Action::Ignored;
        }
        let last = runs.len().saturating_sub(1);
        match key.code {
            KeyCode::Up | KeyCode::Char('k') => self.selected = self.selected.saturating_sub(1),
            KeyCode::Down | KeyCode::Char('j') => self.selected = (self.selected + 1).min(last),
            KeyCode::Home | KeyCode::Char('g') => self.selected = 0,
            KeyCode::End | KeyCode::Char('G') => self.selected = last,
            KeyCode::Enter => {
                return runs.get(self.selected).map_or(Action::Done, |run| {
                    Action::Start(Job::RunDetail(run.run.id.clone()))
                });
            }
            _ => return Action::Ignored,
        }
        Action::Done
    }

    /// Draws the visible rows, keeping the selection on screen.
    pub fn render(&mut self, area: Rect, buf: &mut Buffer, runs: &[RunRow], theme: Theme) {
        if area.height < 2 || area.width == 0 {
            return;
        }
        self.selected = self.selected.min(runs.len().saturating_sub(1));
        let narrow = area.width < 70;
        let header = if narrow {
            format!(
                "  {}{}{}run",
                pad("mode", 9),
                pad("state", 12),
                pad("record", 10)
            )
        } else {
            format!(
                "  {}{}{}{}{}outcome",
                pad("run", 28),
                pad("mode", 9),
                pad("state", 12),
                pad("record", 10),
                pad("updated", 21)
            )
        };
        buf.set_line(
            area.x,
            area.y,
            &Line::styled(header, theme.dim()),
            area.width,
        );
        if runs.is_empty() {
            let empty = Line::styled("  no runs yet: run the sample (press 5)", theme.dim());
            buf.set_line(area.x, area.y + 1, &empty, area.width);
            return;
        }
        let rows = usize::from(area.height - 1);
        let first = (self.selected + 1).saturating_sub(rows);
        for (y, (i, run)) in (area.y + 1..).zip(runs.iter().enumerate().skip(first).take(rows)) {
            let line = Line::styled(
                row(run, i == self.selected, narrow),
                style(run, i == self.selected, theme),
            );
            buf.set_line(area.x, y, &line, area.width);
        }
    }
}

/// One run on one line; narrow, what it is and how it stands come before its id.
fn row(row: &RunRow, selected: bool, narrow: bool) -> String {
    let run = &row.run;
    let state = if row.interrupted {
        "interrupted"
    } else {
        run.state.as_str()
    };
    let kind = if run.action == ROLLBACK_ACTION {
        "ROLLBACK"
    } else {
        run.mode.banner()
    };
    let marker = if selected { "▶ " } else { "  " };
    if narrow {
        let number = pad(&one_line(&run.number), 10);
        return format!(
            "{marker}{}{}{number}{}",
            pad(kind, 9),
            pad(state, 12),
            run.id
        );
    }
    format!(
        "{}{}{}{}{}{}{}",
        marker,
        pad(&run.id, 28),
        pad(kind, 9),
        pad(state, 12),
        pad(&one_line(&run.number), 10),
        pad(&run.updated_at, 21),
        one_line(run.outcome.as_deref().unwrap_or(""))
    )
}

fn style(row: &RunRow, selected: bool, theme: Theme) -> ratatui::style::Style {
    if selected {
        return theme.selected();
    }
    match row.run.state {
        _ if row.interrupted => theme.warn(),
        RunState::Verified => theme.pass(),
        RunState::Diverged | RunState::Failed | RunState::Stale => theme.fail(),
        _ => theme.text(),
    }
}
