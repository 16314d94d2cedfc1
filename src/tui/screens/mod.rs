//! The screens, one file each, and the frame around them: header, body, notice line, status.

pub mod approval;
pub mod audit;
pub mod audit_log;
pub mod configure;
pub mod evidence;
pub mod fields;
mod fields_view;
pub mod help;
pub mod instance;
pub mod overview;
pub mod preview;
pub mod preview_doc;
pub mod request_log;
pub mod runs;
pub mod sample;
pub mod user;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Widget, Wrap};

use super::theme::Theme;

/// The smallest terminal that still gives a useful layout.
pub const MIN_WIDTH: u16 = 40;
/// The smallest terminal height that still gives a useful layout.
pub const MIN_HEIGHT: u16 = 12;

/// Every screen of the app.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Screen {
    Overview,
    /// Step 01 create-pdi.
    Instance,
    /// Step 02 create-user.
    User,
    /// Step 03 collect-fields.
    Fields,
    /// Step 04 configure-actionplane.
    Configure,
    /// Step 05 run-first-sample.
    Sample,
    Preview,
    Evidence,
    /// The audit events of the run on the evidence screen.
    Audit,
    /// Every audit event, newest first, with the chain's verification.
    AuditLog,
    Runs,
}

impl Screen {
    /// All screens, for sweeps.
    pub const ALL: [Self; 11] = [
        Self::Overview,
        Self::Instance,
        Self::User,
        Self::Fields,
        Self::Configure,
        Self::Sample,
        Self::Preview,
        Self::Evidence,
        Self::Audit,
        Self::AuditLog,
        Self::Runs,
    ];

    /// The title in the header line.
    pub fn title(self) -> &'static str {
        match self {
            Self::Overview => "Overview",
            Self::Instance => "01 create-pdi",
            Self::User => "02 create-user",
            Self::Fields => "03 collect-fields",
            Self::Configure => "04 configure-actionplane",
            Self::Sample => "05 run-first-sample",
            Self::Preview => "Preview",
            Self::Evidence => "Evidence",
            Self::Audit => "Audit events of one run",
            Self::AuditLog => "Audit log",
            Self::Runs => "Governed runs",
        }
    }

    /// The onboarding step screen for a step index 0..=4.
    pub fn step(index: usize) -> Option<Self> {
        [
            Self::Instance,
            Self::User,
            Self::Fields,
            Self::Configure,
            Self::Sample,
        ]
        .get(index)
        .copied()
    }

    /// Whether the screen is one of the five onboarding steps.
    pub fn is_step(self) -> bool {
        matches!(
            self,
            Self::Instance | Self::User | Self::Fields | Self::Configure | Self::Sample
        )
    }

    /// Screens that show one run; only one of each lives on the back stack.
    pub fn shows_run(self) -> bool {
        matches!(self, Self::Preview | Self::Evidence | Self::Audit)
    }
}

/// The areas of the frame.
pub struct Frame {
    pub header: Rect,
    pub body: Rect,
    /// One row, or two while a task reports how far its reads are.
    pub notice: Rect,
    pub status: Rect,
}

impl Frame {
    /// Splits the terminal: header on top, then the body, the notice rows and the status line.
    pub fn split(area: Rect, notice_rows: u16) -> Self {
        let line = |y| Rect::new(area.x, y, area.width, 1);
        let bottom = area.y + area.height;
        let notice_rows = notice_rows.min(area.height.saturating_sub(2));
        let notice_y = bottom.saturating_sub(1 + notice_rows);
        Self {
            header: line(area.y),
            body: Rect::new(
                area.x,
                area.y + 1,
                area.width,
                area.height.saturating_sub(2 + notice_rows),
            ),
            notice: Rect::new(area.x, notice_y, area.width, notice_rows),
            status: line(bottom.saturating_sub(1)),
        }
    }
}

/// Whether the terminal is big enough for the layout.
pub fn fits(area: Rect) -> bool {
    area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT
}

/// The message shown instead of a layout that would not fit.
pub fn render_too_small(area: Rect, buf: &mut Buffer, theme: Theme) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let text = format!(
        "terminal too small: {}x{}, need at least {MIN_WIDTH}x{MIN_HEIGHT}",
        area.width, area.height
    );
    Paragraph::new(Line::styled(text, theme.warn()))
        .wrap(Wrap { trim: true })
        .render(area, buf);
}

/// The header: the product, the connector and where the operator is.
/// On a narrow terminal the lane's name gives way, so the screen's title stays whole.
pub fn render_header(area: Rect, buf: &mut Buffer, screen: Screen, theme: Theme) {
    let trail = if area.width >= 64 {
        "▸ ServiceNow Ticketing ▸ "
    } else {
        "▸ "
    };
    let line = Line::from(vec![
        Span::styled(" ActionPlane ", theme.title()),
        Span::styled(trail, theme.dim()),
        Span::styled(screen.title(), theme.heading()),
    ]);
    buf.set_line(area.x, area.y, &line, area.width);
}

/// A step's status word with its style.
pub fn status_span(status: &crate::domain::onboarding::StepStatus, theme: Theme) -> Span<'static> {
    use crate::domain::onboarding::StepStatus;
    let style = match status {
        StepStatus::Todo => theme.dim(),
        StepStatus::Done => theme.pass(),
        StepStatus::Warning(_) => theme.warn(),
        StepStatus::Blocked(_) => theme.fail(),
    };
    let word = match status {
        StepStatus::Todo => "todo",
        StepStatus::Done => "done",
        StepStatus::Warning(_) => "warning",
        StepStatus::Blocked(_) => "BLOCKED",
    };
    Span::styled(format!("{word:<8}"), style)
}

/// A check result as text that survives without colour: `pass`, `warn` or `FAIL`, then words.
pub fn check_line(
    outcome: crate::domain::policy::Outcome,
    text: &str,
    theme: Theme,
) -> Line<'static> {
    use crate::domain::policy::Outcome;
    let style = match outcome {
        Outcome::Pass => theme.pass(),
        Outcome::Warn => theme.warn(),
        Outcome::Fail => theme.fail(),
    };
    Line::from(vec![
        Span::raw("  "),
        Span::styled(format!("{:<5}", outcome.word()), style),
        Span::raw(" "),
        Span::raw(super::widgets::sanitize::one_line(text)),
    ])
}
