//! Wire parsing against the bodies of `CONTRACT.md` section 6 (S1–S10), kept in `samples/`.

use serde_json::{Value, json};

use super::*;

fn parse(body: &str) -> Value {
    serde_json::from_str(body).expect("sample is JSON")
}

const S1: &str = include_str!("samples/s1_incident_raw.json");
const S2: &str = include_str!("samples/s2_incident_display_all.json");
const S3: &str = include_str!("samples/s3_dictionary.json");
const S4: &str = include_str!("samples/s4_choices.json");
const S5: &str = include_str!("samples/s5_unauthorized.json");
const S6: &str = include_str!("samples/s6_acl.json");
const S7: &str = include_str!("samples/s7_data_policy.json");
const S8: &str = include_str!("samples/s8_business_rule.json");
const S9: &str = include_str!("samples/s9_rate_limited.json");
const S10_FAIL: &str = include_str!("samples/s10_oauth_failure.json");

#[test]
fn s1_raw_record_keeps_strings_and_reference_values() {
    let record = single_record(&parse(S1)).expect("a record");
    assert_eq!(record.sys_id(), "3f1c2a9e47d0211004f2c8b2736d43a1");
    assert_eq!(record.value("state"), "2");
    assert_eq!(
        record.value("assigned_to"),
        "5137153cc611227c000bbd1bd8cd2005"
    );
    assert_eq!(record.value("closed_by"), "");
    assert_eq!(record.mod_count(), 3);
    assert_eq!(record.fields.len(), 21);
}

#[test]
fn s2_display_all_keeps_raw_and_display_side_by_side() {
    let record = single_record(&parse(S2)).expect("a record");
    assert_eq!(record.value("state"), "7");
    assert_eq!(record.display("state"), "Closed");
    assert_eq!(
        record.value("closed_by"),
        "9d3a5c1e1b2c6010a1b2c3d4e5f60718"
    );
    assert_eq!(record.display("closed_by"), "Ticketing Service");
    // Raw dates are UTC; the display is in the user's zone.
    assert_eq!(record.value("closed_at"), "2026-05-04 11:20:07");
    assert_eq!(record.display("closed_at"), "2026-05-04 13:20:07");
    assert_eq!(record.value("work_notes"), "");
    assert!(
        record
            .display("work_notes")
            .contains("(Work notes)\nClosed via onboarding app")
    );
}

#[test]
fn s3_dictionary_rows_parse_reference_types_by_name() {
    let rows = record_list(&parse(S3)).expect("a list");
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0].value("internal_type"), "integer");
    assert_eq!(rows[1].value("internal_type"), "journal_input");
    assert_eq!(rows[2].value("column_label"), "Resolution code");
    assert_eq!(number(rows[3].value("max_length")), Some(4000));
    assert!(!flag(rows[3].value("mandatory"), true));
}

#[test]
fn s4_choices_keep_server_order_and_sequence() {
    let rows = record_list(&parse(S4)).expect("a list");
    let values: Vec<&str> = rows.iter().map(|r| r.value("value")).collect();
    assert_eq!(values[0], "Duplicate");
    assert_eq!(values[4], "Solution provided");
    assert_eq!(rows[5].value("sequence"), "90");
}

#[test]
fn s5_to_s9_error_envelopes_parse() {
    let s5 = error_envelope(&parse(S5)).expect("envelope");
    assert_eq!(s5.message, "User is not authenticated");
    let s6 = error_envelope(&parse(S6)).expect("envelope");
    assert!(s6.detail.starts_with("ACL Exception"));
    let s9 = error_envelope(&parse(S9)).expect("envelope");
    assert_eq!(s9.message, "Rate limit exceeded");
}

#[test]
fn s7_data_policy_lists_field_labels() {
    let detail = error_envelope(&parse(S7)).expect("envelope").detail;
    assert_eq!(
        data_policy_labels(&detail),
        ["Resolution code", "Resolution notes"]
    );
}

#[test]
fn s8_business_rule_name_drops_the_sys_id() {
    let detail = error_envelope(&parse(S8)).expect("envelope").detail;
    assert_eq!(
        business_rule_name(&detail).as_deref(),
        Some("Block close without CI")
    );
}

#[test]
fn s10_oauth_failure_reads_as_an_envelope() {
    let envelope = error_envelope(&parse(S10_FAIL)).expect("envelope");
    assert_eq!(envelope.message, "server_error");
    assert_eq!(envelope.detail, "access_denied");
}

#[test]
fn a_null_detail_becomes_empty() {
    let body =
        json!({"error": {"message": "Invalid table foo", "detail": null}, "status": "failure"});
    let envelope = error_envelope(&body).expect("envelope");
    assert_eq!(
        envelope,
        ErrorEnvelope {
            message: "Invalid table foo".into(),
            detail: String::new()
        }
    );
}

#[test]
fn odd_fields_are_kept_as_text() {
    let body = json!({"result": {
        "sys_id": "a1", "n": null, "count": 4, "ok": true, "list": ["x"],
        "ref": {"link": "https://x/api/now/table/sys_user/u1", "value": "u1"},
        "shown": {"display_value": "Beth"}, "odd": {"foo": 1},
        "nested": {"display_value": "Task", "value": {"link": "l", "value": "t1"}}
    }});
    let record = single_record(&body).expect("a record");
    assert_eq!(record.value("n"), "");
    assert_eq!(record.value("count"), "4");
    assert_eq!(record.value("ok"), "true");
    assert_eq!(record.value("list"), r#"["x"]"#);
    assert_eq!(record.value("ref"), "u1");
    assert_eq!(
        (record.value("shown"), record.display("shown")),
        ("", "Beth")
    );
    assert_eq!(record.value("odd"), r#"{"foo":1}"#);
    assert_eq!(
        (record.value("nested"), record.display("nested")),
        ("t1", "Task")
    );
}

#[test]
fn non_object_list_entries_do_not_drop_the_others() {
    let body = json!({"result": [{"sys_id": "a"}, "junk", null, {"sys_id": "b"}]});
    let ids: Vec<String> = record_list(&body)
        .expect("a list")
        .iter()
        .map(|r| r.sys_id().to_owned())
        .collect();
    assert_eq!(ids, ["a", "b"]);
}

#[test]
fn data_policy_without_the_usual_wording_still_lists_labels() {
    let detail = "Data Policy Exception: Close code";
    assert_eq!(data_policy_labels(detail), ["Close code"]);
    let two = "Data Policy Exception: \n\tThe following fields are mandatory: A\n\t\
               The following fields are read only: B, C";
    assert_eq!(data_policy_labels(two), ["A", "B", "C"]);
}

#[test]
fn business_rule_name_without_sys_id_ends_at_the_quote() {
    let text = "Operation against file 'incident' was aborted by Business Rule 'Keep open'. \
                Business Rule Stack:Keep open";
    assert_eq!(business_rule_name(text).as_deref(), Some("Keep open"));
    assert_eq!(business_rule_name("nothing here"), None);
}
