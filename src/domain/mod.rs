//! Pure domain model: no I/O, most of the unit tests live beside it.

pub mod connector;
pub mod incident;
pub mod metadata;
pub mod onboarding;
pub mod policy;
pub mod preview;
pub mod run;

/// The one action the lane offers today.
pub const CLOSE_TICKET: &str = "support.close-ticket";

/// The canonical sample record of the seed story.
pub const SAMPLE_RECORD: &str = "INC-42";
