//! ActionPlane: governed ServiceNow incident closure from the terminal.
//!
//! The crate is split by concern: `domain` holds the pure rules (onboarding, policy, previews,
//! the governed run), `servicenow` talks to an instance, `sandbox` is an embedded instance,
//! `store` keeps everything in one SQLite file, `workspace` ties them into the operations that
//! the `cli` and the `tui` both call.

pub mod cli;
pub mod domain;
pub mod sandbox;
pub mod secrets;
pub mod servicenow;
pub mod store;
pub mod tui;
pub mod workspace;
