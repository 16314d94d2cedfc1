//! Unit tests of the write rules over the seed story, without a server.

use serde_json::{Map, Value, json};

use super::auth::Caller;
use super::faults::{Faults, apply_choice_view};
use super::rules::{Refusal, Rules, priority};
use super::seed::story;
use super::store::{Record, Snapshot};

const SAMPLE: &str = "95e7741a0379fdc0ada93fa11a4903ca";
const CLOSED_SAMPLE: &str = "b10212fb98f872fa6aae41f534dff10e";

fn snapshot(faults: &Faults) -> Snapshot {
    let mut snapshot = Snapshot::from_records(story().expect("seed story builds").records);
    apply_choice_view(&mut snapshot, faults);
    snapshot
}

fn caller(roles: &[&str]) -> Caller {
    Caller {
        sys_id: "19675299248891a05289d614ce26cd69".to_owned(),
        user_name: "actionplane.integration".to_owned(),
        roles: roles.iter().map(|r| (*r).to_owned()).collect(),
    }
}

fn body(value: &Value) -> Map<String, Value> {
    value.as_object().cloned().unwrap_or_default()
}

fn update(roles: &[&str], faults: &Faults, id: &str, request: &Value) -> Result<Record, Refusal> {
    let snapshot = snapshot(faults);
    let caller = caller(roles);
    let write_rules = Rules {
        snapshot: &snapshot,
        caller: &caller,
        faults,
        now: "2026-05-04 13:20:07".to_owned(),
        auto_sys_fields: true,
    };
    let current = snapshot
        .find("incident", id)
        .expect("seeded incident")
        .clone();
    write_rules
        .update(&current, &body(request))
        .map(|w| w.record)
}

fn close_request(code: &str) -> Value {
    json!({"state": "7", "close_code": code, "close_notes": "Duplicate of INC0010004.",
           "work_notes": "Closed after operator review."})
}

#[test]
fn priority_follows_the_lookup_rules() {
    assert_eq!(priority("1", "1"), "1");
    assert_eq!(priority("2", "1"), "2");
    assert_eq!(priority("2", "2"), "3");
    assert_eq!(priority("3", "2"), "4");
    assert_eq!(priority("3", "3"), "5");
}

#[test]
fn closing_stamps_the_business_rule_fields() {
    let faults = Faults::default();
    let record = update(
        &["itil", "itil_admin"],
        &faults,
        SAMPLE,
        &close_request("Duplicate"),
    )
    .expect("close accepted");
    assert_eq!(record["state"], "7");
    assert_eq!(record["incident_state"], "7");
    assert_eq!(record["active"], "false");
    assert_eq!(record["closed_at"], "2026-05-04 13:20:07");
    assert_eq!(record["closed_by"], "19675299248891a05289d614ce26cd69");
    assert_eq!(record["resolved_at"], "2026-05-04 13:20:07");
    assert_eq!(record["sys_mod_count"], "4");
    assert_eq!(record["sys_updated_by"], "actionplane.integration");
    assert_eq!(record["work_notes"], "");
}

#[test]
fn closing_needs_itil_admin_and_deny_close_refuses_even_admin() {
    let request = close_request("Duplicate");
    let refused = update(&["itil"], &Faults::default(), SAMPLE, &request);
    assert_eq!(refused.unwrap_err(), Refusal::Acl("Update"));
    let deny = Faults {
        deny_close: true,
        ..Faults::default()
    };
    assert_eq!(
        update(&["admin"], &deny, SAMPLE, &request).unwrap_err(),
        Refusal::Acl("Update")
    );
}

#[test]
fn resolving_without_close_fields_names_both_labels() {
    let refused = update(
        &["itil"],
        &Faults::default(),
        SAMPLE,
        &json!({"state": "6"}),
    );
    let labels = vec!["Resolution code".to_owned(), "Resolution notes".to_owned()];
    assert_eq!(refused.unwrap_err(), Refusal::DataPolicy(labels));
}

#[test]
fn a_close_code_of_the_other_release_is_dropped_and_fails_the_data_policy() {
    let roles = ["itil", "itil_admin"];
    let old = close_request("Solved (Permanently)");
    let refused = update(&roles, &Faults::default(), SAMPLE, &old);
    assert_eq!(
        refused.unwrap_err(),
        Refusal::DataPolicy(vec!["Resolution code".to_owned()])
    );

    let legacy = Faults {
        legacy_close_codes: true,
        ..Faults::default()
    };
    assert!(update(&roles, &legacy, SAMPLE, &old).is_ok());
    let current = close_request("Duplicate");
    assert!(matches!(
        update(&roles, &legacy, SAMPLE, &current),
        Err(Refusal::DataPolicy(_))
    ));
}

#[test]
fn a_closed_incident_cannot_be_reopened_but_takes_work_notes() {
    let roles = ["itil", "itil_admin"];
    let reopen = update(
        &roles,
        &Faults::default(),
        CLOSED_SAMPLE,
        &json!({"state": "2"}),
    );
    assert!(matches!(
        reopen,
        Err(Refusal::BusinessRule(
            "Prevent reopen of closed incident",
            _
        ))
    ));

    let note = json!({"work_notes": "Follow-up noted.", "close_notes": "rewritten"});
    let record = update(&roles, &Faults::default(), CLOSED_SAMPLE, &note).expect("note accepted");
    assert_eq!(
        record["close_notes"],
        "Cleared the stuck spooler queue and restarted the print service."
    );
    assert_eq!(record["sys_mod_count"], "6");
}

#[test]
fn users_without_itil_cannot_write() {
    let refused = update(
        &["snc_read_only"],
        &Faults::default(),
        SAMPLE,
        &json!({"impact": "2"}),
    );
    assert_eq!(refused.unwrap_err(), Refusal::Acl("Update"));
}

#[test]
fn impact_changes_recompute_priority() {
    let record = update(
        &["itil"],
        &Faults::default(),
        SAMPLE,
        &json!({"impact": "1", "urgency": 1}),
    )
    .expect("update accepted");
    assert_eq!(record["priority"], "1");
    assert_eq!(record["urgency"], "1");
}
