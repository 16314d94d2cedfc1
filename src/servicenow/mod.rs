//! The Table API client: basic and OAuth auth, typed errors, wire parsing, paging, retries.

mod client;
mod error;
mod log;
mod metadata;
mod oauth;
mod overrides;
mod paging;
mod progress;
mod query;
mod records;
mod response;
mod secret;
mod validate;
mod wire;

pub use client::Client;
pub use error::Error;
pub use log::LoggedRequest;
pub use oauth::{MemoryVault, OAuthTokens, TokenVault};
pub use progress::{Progress, ProgressSink};
pub use records::Exchange;
pub use secret::Secret;

/// Now in UTC, written the way the Table API writes dates: `YYYY-MM-DD HH:MM:SS`.
fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%d %H:%M:%S").to_string()
}
