//! The terminal UI: terminal ownership, the event loop, screens, widgets, theme and keymap.
//!
//! One owner of state (`App`); background work runs in tasks that send `Message`s back through
//! one queue; the loop draws only when that queue is drained, and rendering never waits on I/O.

pub mod action;
pub mod app;
pub mod event_loop;
pub mod jobs;
pub mod keymap;
mod keys;
pub mod message;
mod nav;
pub mod screens;
mod tasks;
pub mod terminal;
pub mod theme;
mod update;
mod view;
pub mod widgets;

pub use app::App;
pub use message::{Data, Job, Message};
pub use tasks::run;
pub use theme::Theme;
