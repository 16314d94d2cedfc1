//! The allowlist and the policy checks every write passes before it may be approved.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::incident::state;
use super::metadata::TableMetadata;

/// The fields of one table that the connector may write.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Allowlist {
    pub table: String,
    pub fields: Vec<String>,
}

impl Allowlist {
    pub fn new(table: impl Into<String>, fields: Vec<String>) -> Self {
        Self {
            table: table.into(),
            fields,
        }
    }

    pub fn allows(&self, field: &str) -> bool {
        self.fields.iter().any(|f| f == field)
    }

    /// A short hash of the sorted field list: any change to the allowlist changes it.
    pub fn version(&self) -> String {
        let mut fields = self.fields.clone();
        fields.sort();
        fields.dedup();
        let text = format!("{}:{}", self.table, fields.join(","));
        hex::encode(&Sha256::digest(text.as_bytes())[..6])
    }
}

/// How one policy check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Pass,
    Warn,
    Fail,
}

impl Outcome {
    pub fn word(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Fail => "FAIL",
        }
    }
}

/// One named rule and what it found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyCheck {
    pub rule: String,
    pub outcome: Outcome,
    pub detail: String,
}

impl PolicyCheck {
    fn new(rule: &str, outcome: Outcome, detail: impl Into<String>) -> Self {
        Self {
            rule: rule.to_owned(),
            outcome,
            detail: detail.into(),
        }
    }
}

/// The whole posture of a preview: approvable only when nothing failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyPosture {
    pub checks: Vec<PolicyCheck>,
}

impl PolicyPosture {
    pub fn allowed(&self) -> bool {
        self.checks.iter().all(|c| c.outcome != Outcome::Fail)
    }

    /// One line for the status of the whole posture.
    pub fn summary(&self) -> String {
        let rules = |outcome| {
            let named: Vec<_> = self
                .checks
                .iter()
                .filter(|c| c.outcome == outcome)
                .map(|c| c.rule.as_str())
                .collect();
            named
        };
        let (failed, warned) = (rules(Outcome::Fail), rules(Outcome::Warn));
        if failed.is_empty() && warned.is_empty() {
            "allowed: every check passed".to_owned()
        } else if failed.is_empty() {
            format!("allowed, with a warning from {}", warned.join(", "))
        } else {
            format!("blocked by {}", failed.join(", "))
        }
    }
}

/// What the policy needs to judge one write.
pub struct PolicyInput<'a> {
    pub allowlist: &'a Allowlist,
    pub metadata: Option<&'a TableMetadata>,
    /// Field name and the value to write, for the fields that will be sent.
    pub writes: &'a [(String, String)],
    /// Fields requested but outside the allowlist.
    pub blocked: &'a [String],
    /// The after-image values of the close fields (current value when not written).
    pub after_close_code: &'a str,
    pub after_close_notes: &'a str,
    pub target_state: Option<&'a str>,
    /// The record's state before the change.
    pub current_state: &'a str,
    pub is_sandbox: bool,
    /// Whether the address shows the target is a sandbox (embedded, loopback or a PDI).
    pub known_sandbox: bool,
    pub production_acknowledged: bool,
}

/// Evaluates every rule, in a fixed order so that the digest is stable.
pub fn evaluate(input: &PolicyInput<'_>) -> PolicyPosture {
    let checks = vec![
        record_check(input),
        allowlist_check(input),
        metadata_check(input),
        choice_check(input),
        length_check(input),
        mandatory_check(input),
        target_check(input),
    ];
    PolicyPosture { checks }
}

fn record_check(input: &PolicyInput<'_>) -> PolicyCheck {
    const RULE: &str = "record";
    match input.current_state {
        state::CLOSED | state::CANCELED => PolicyCheck::new(
            RULE,
            Outcome::Fail,
            format!(
                "the incident is already {}: ServiceNow accepts no further changes to its state \
                 or close fields, so there is nothing to do",
                state::label(input.current_state)
            ),
        ),
        current => PolicyCheck::new(
            RULE,
            Outcome::Pass,
            format!("the incident is open ({})", state::label(current)),
        ),
    }
}

fn allowlist_check(input: &PolicyInput<'_>) -> PolicyCheck {
    const RULE: &str = "allowlist";
    if input.blocked.is_empty() {
        let names: Vec<_> = input.writes.iter().map(|(f, _)| f.as_str()).collect();
        PolicyCheck::new(
            RULE,
            Outcome::Pass,
            format!("every written field is allowed: {}", names.join(", ")),
        )
    } else {
        PolicyCheck::new(
            RULE,
            Outcome::Fail,
            format!(
                "{} outside the allowlist: blocked and never sent; add it to the allowlist \
                 (step 03) and sync again to write it",
                input.blocked.join(", ")
            ),
        )
    }
}

fn metadata_check(input: &PolicyInput<'_>) -> PolicyCheck {
    const RULE: &str = "metadata";
    let Some(meta) = input.metadata else {
        return PolicyCheck::new(
            RULE,
            Outcome::Fail,
            "no metadata synced yet: run sync (step 04) first",
        );
    };
    let unknown: Vec<_> = input
        .writes
        .iter()
        .filter(|(f, _)| meta.field(f).is_none())
        .map(|(f, _)| f.as_str())
        .collect();
    let read_only: Vec<_> = input
        .writes
        .iter()
        .filter(|(f, _)| meta.field(f).is_some_and(|m| m.entry.read_only))
        .map(|(f, _)| f.as_str())
        .collect();
    if !unknown.is_empty() {
        let text = format!("not in the instance dictionary: {}", unknown.join(", "));
        PolicyCheck::new(RULE, Outcome::Fail, text)
    } else if !read_only.is_empty() {
        PolicyCheck::new(
            RULE,
            Outcome::Fail,
            format!("read-only on the instance: {}", read_only.join(", ")),
        )
    } else {
        PolicyCheck::new(
            RULE,
            Outcome::Pass,
            format!("fields synced {}", meta.synced_at),
        )
    }
}

fn choice_check(input: &PolicyInput<'_>) -> PolicyCheck {
    const RULE: &str = "choices";
    let Some(meta) = input.metadata else {
        return PolicyCheck::new(
            RULE,
            Outcome::Fail,
            "no synced choice lists to check values against",
        );
    };
    let mut bad = Vec::new();
    let mut offered = Vec::new();
    for (field, value) in input.writes {
        let Some(field_meta) = meta.field(field) else {
            continue;
        };
        let clearing = value.is_empty();
        if !clearing && !field_meta.choices.is_empty() && field_meta.choice_label(value).is_none() {
            bad.push(format!("{field}=`{value}`"));
            let values: Vec<_> = field_meta
                .choices
                .iter()
                .map(|c| c.value.as_str())
                .collect();
            offered.push(format!("{field}: {}", values.join(", ")));
        }
    }
    if bad.is_empty() {
        PolicyCheck::new(
            RULE,
            Outcome::Pass,
            "every choice value is in the instance's current choice list",
        )
    } else {
        let text = format!(
            "{} not a current choice; ServiceNow would drop it silently: pick one of {}",
            bad.join(", "),
            offered.join("; ")
        );
        PolicyCheck::new(RULE, Outcome::Fail, text)
    }
}

fn length_check(input: &PolicyInput<'_>) -> PolicyCheck {
    const RULE: &str = "lengths";
    let too_long: Vec<_> = input
        .writes
        .iter()
        .filter_map(|(field, value)| {
            let max = input.metadata?.field(field)?.entry.max_length?;
            let len = value.chars().count();
            (len > max as usize).then(|| format!("{field} has {len} characters, max {max}"))
        })
        .collect();
    if too_long.is_empty() {
        PolicyCheck::new(
            RULE,
            Outcome::Pass,
            "every value fits the field's max length",
        )
    } else {
        PolicyCheck::new(
            RULE,
            Outcome::Fail,
            format!("{}: shorten it", too_long.join("; ")),
        )
    }
}

fn mandatory_check(input: &PolicyInput<'_>) -> PolicyCheck {
    const RULE: &str = "data policy";
    let closing = matches!(input.target_state, Some(state::RESOLVED | state::CLOSED));
    if !closing {
        return PolicyCheck::new(
            RULE,
            Outcome::Pass,
            "no resolve or close: no mandatory close fields",
        );
    }
    let label = |f| input.metadata.map_or(f, |m| m.label(f));
    let mut missing = Vec::new();
    if input.after_close_code.trim().is_empty() {
        missing.push(label("close_code"));
    }
    if input.after_close_notes.trim().is_empty() {
        missing.push(label("close_notes"));
    }
    if missing.is_empty() {
        PolicyCheck::new(
            RULE,
            Outcome::Pass,
            "resolution code and notes are set, as state 6/7 requires",
        )
    } else {
        let text = format!(
            "the instance requires {} for this state: fill them in",
            missing.join(", ")
        );
        PolicyCheck::new(RULE, Outcome::Fail, text)
    }
}

fn target_check(input: &PolicyInput<'_>) -> PolicyCheck {
    const RULE: &str = "target";
    if input.is_sandbox && input.known_sandbox {
        PolicyCheck::new(RULE, Outcome::Pass, "the target is a sandbox instance")
    } else if input.is_sandbox {
        PolicyCheck::new(
            RULE,
            Outcome::Warn,
            "declared a sandbox, but its address is not the embedded sandbox, loopback or a \
             developer instance (devNNNNN.service-now.com): a live approval must type the \
             instance name",
        )
    } else if input.production_acknowledged {
        PolicyCheck::new(
            RULE,
            Outcome::Warn,
            "PRODUCTION instance: the approval must type the instance name to acknowledge it",
        )
    } else {
        PolicyCheck::new(
            RULE,
            Outcome::Fail,
            "PRODUCTION instance without an explicit acknowledgement: confirm the instance name",
        )
    }
}
