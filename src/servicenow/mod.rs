//! The Table API client: auth, typed errors, wire parsing, paging and retries.

mod client;
mod error;
mod log;
mod metadata;
mod paging;
mod query;
mod records;
mod response;
mod secret;
mod validate;
mod wire;

pub use client::Client;
pub use error::Error;
pub use log::LoggedRequest;
pub use records::Exchange;
pub use secret::Secret;

/// Now in UTC, written the way the Table API writes dates: `YYYY-MM-DD HH:MM:SS`.
fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}
