//! Driving and reading the app on a `TestBackend`: keys in, screen text out.

use actionplane::domain::run::Approval;
use actionplane::tui::App;
use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn type_text(app: &mut App, text: &str) {
    for c in text.chars() {
        app.handle_event(key(KeyCode::Char(c)));
    }
}

pub fn draw(app: &mut App, width: u16, height: u16) -> Buffer {
    // Screens must read the same on every machine, whatever its time zone.
    actionplane::domain::incident::show_times_in_utc();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|frame| app.render(frame)).unwrap();
    terminal.backend().buffer().clone()
}

pub fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        let mut skip = 0;
        for x in 0..area.width {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let symbol = buf[(x, y)].symbol();
            skip = unicode_width::UnicodeWidthStr::width(symbol).saturating_sub(1);
            line.push_str(symbol);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Replaces what differs between machines and versions: digests and the approver's identity.
pub fn filtered(screen: &str) -> String {
    let (user, host, _) = Approval::identity();
    let mut out = screen.replace(&format!("{user}@{host}"), "[approver]");
    while let Some(start) = out.find("sha256:") {
        let hex = out[start + 7..]
            .chars()
            .take_while(char::is_ascii_hexdigit)
            .count();
        out.replace_range(start..start + 7 + hex, "[digest]");
    }
    out
}

pub fn snapshot(app: &mut App, width: u16, height: u16) -> String {
    filtered(&text(&draw(app, width, height)))
}
