//! Incident records as read from an instance, with raw and display values.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One field as read with `sysparm_display_value=all`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldValue {
    pub value: String,
    pub display: String,
}

impl FieldValue {
    /// A field whose display value equals its raw value.
    pub fn plain(value: impl Into<String>) -> Self {
        let value = value.into();
        Self {
            display: value.clone(),
            value,
        }
    }
}

/// A record read from a table, every field kept as the instance sent it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub fields: BTreeMap<String, FieldValue>,
}

impl Record {
    /// A record of plain fields (display equals value), as fixtures and samples need.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        let fields = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), FieldValue::plain(*v)))
            .collect();
        Self { fields }
    }

    /// The raw value of a field, or `""` when the instance did not send it.
    pub fn value(&self, field: &str) -> &str {
        self.fields.get(field).map_or("", |f| f.value.as_str())
    }

    /// The display value of a field, falling back to the raw value.
    pub fn display(&self, field: &str) -> &str {
        match self.fields.get(field) {
            Some(f) if !f.display.is_empty() => &f.display,
            Some(f) => &f.value,
            None => "",
        }
    }

    pub fn sys_id(&self) -> &str {
        self.value("sys_id")
    }

    pub fn number(&self) -> &str {
        self.value("number")
    }

    /// `sys_mod_count` as a number; a missing or odd value reads as 0.
    pub fn mod_count(&self) -> u64 {
        self.value("sys_mod_count").parse().unwrap_or(0)
    }

    pub fn updated_on(&self) -> &str {
        self.value("sys_updated_on")
    }
}

/// The incident states of current releases and their labels (synced choices win in the UI).
pub mod state {
    pub const NEW: &str = "1";
    pub const IN_PROGRESS: &str = "2";
    pub const ON_HOLD: &str = "3";
    pub const RESOLVED: &str = "6";
    pub const CLOSED: &str = "7";
    pub const CANCELED: &str = "8";

    /// A fallback label for a state value, used only when no choices were synced.
    pub fn label(value: &str) -> &str {
        match value {
            NEW => "New",
            IN_PROGRESS => "In Progress",
            ON_HOLD => "On Hold",
            RESOLVED => "Resolved",
            CLOSED => "Closed",
            CANCELED => "Canceled",
            other => other,
        }
    }
}

/// One journal entry (a work note or comment) as stored in `sys_journal_field`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JournalEntry {
    pub element: String,
    pub value: String,
    pub created_on: String,
    pub created_by: String,
}

/// Turns a raw ServiceNow date (UTC, `YYYY-MM-DD HH:MM:SS`) into local time with the zone
/// named, e.g. `2026-05-04 13:20:07 Europe/Berlin (UTC+02:00)`. Odd input is shown as given.
pub fn local_time(raw_utc: &str) -> String {
    if TIMES_IN_UTC.load(std::sync::atomic::Ordering::Relaxed) {
        return local_time_in(raw_utc, &chrono::Utc, "UTC");
    }
    // `TZ` decides the offset chrono uses, so it names the zone too when it is set.
    let zone = std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_owned())
        .filter(|tz| !tz.is_empty())
        .or_else(|| iana_time_zone::get_timezone().ok())
        .unwrap_or_else(|| "local".to_owned());
    local_time_in(raw_utc, &chrono::Local, &zone)
}

static TIMES_IN_UTC: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Shows every time in UTC instead of local time, for operators who compare with instance
/// logs (`ACTIONPLANE_TIME=utc`) and for output that must not depend on the machine's zone.
pub fn show_times_in_utc() {
    TIMES_IN_UTC.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// [`local_time`] for a given offset and zone name (testable without touching `TZ`).
pub fn local_time_in<Tz: chrono::TimeZone>(raw_utc: &str, tz: &Tz, zone: &str) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let Ok(naive) = chrono::NaiveDateTime::parse_from_str(raw_utc.trim(), "%Y-%m-%d %H:%M:%S")
    else {
        return raw_utc.to_owned();
    };
    let local = naive.and_utc().with_timezone(tz);
    let offset = local.format("%:z").to_string();
    if offset == "+00:00" && (zone == "UTC" || zone == "Etc/UTC" || zone == "local") {
        return format!("{} UTC", local.format("%Y-%m-%d %H:%M:%S"));
    }
    format!("{} {zone} (UTC{offset})", local.format("%Y-%m-%d %H:%M:%S"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_utc_dates_are_shown_in_local_time_with_the_zone() {
        let berlin_summer = chrono::FixedOffset::east_opt(2 * 3600).unwrap();
        assert_eq!(
            local_time_in("2026-05-04 11:20:07", &berlin_summer, "Europe/Berlin"),
            "2026-05-04 13:20:07 Europe/Berlin (UTC+02:00)"
        );
        assert_eq!(
            local_time_in("2026-05-04 11:20:07", &chrono::Utc, "UTC"),
            "2026-05-04 11:20:07 UTC"
        );
        assert_eq!(local_time_in("", &chrono::Utc, "UTC"), "");
        assert_eq!(
            local_time_in("05/04/2026", &chrono::Utc, "UTC"),
            "05/04/2026"
        );
    }
}
