//! Unit tests of the encoded-query parser and matcher.

use std::collections::BTreeMap;

use rstest::rstest;

use super::query::{Condition, Operator, OrderBy, parse};

const FIELDS: [&str; 8] = [
    "state",
    "active",
    "number",
    "short_description",
    "close_code",
    "user.user_name",
    "role.name",
    "sys_created_on",
];

fn known(path: &str) -> bool {
    FIELDS.contains(&path)
}

fn record(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn matches(query: &str, pairs: &[(&str, &str)]) -> bool {
    let record = record(pairs);
    parse(query, known).matches(|field| record.get(field).cloned().unwrap_or_default())
}

#[test]
fn parses_operators_with_lowercase_fields_and_uppercase_operators() {
    let query = parse(
        "stateNOT IN6,7^role.nameINadmin,itil^close_codeISEMPTY",
        known,
    );
    let conditions: Vec<&Condition> = query.alternatives[0].iter().flatten().collect();
    let ops: Vec<(&str, Operator, &str)> = conditions
        .iter()
        .map(|c| (c.field.as_str(), c.op, c.value.as_str()))
        .collect();
    assert_eq!(
        ops,
        vec![
            ("state", Operator::NotIn, "6,7"),
            ("role.name", Operator::In, "admin,itil"),
            ("close_code", Operator::IsEmpty, ""),
        ]
    );
}

#[rstest]
#[case("state=2", true)]
#[case("state!=2", false)]
#[case("stateIN1,2,3", true)]
#[case("stateNOT IN6,7", true)]
#[case("stateNOT IN2", false)]
#[case("short_descriptionLIKEvpn", true)]
#[case("short_descriptionNOT LIKEvpn", false)]
#[case("short_descriptionSTARTSWITHVPN drops", true)]
#[case("short_descriptionENDSWITHminutes", true)]
#[case("short_descriptionENDSWITHhours", false)]
#[case("close_codeISEMPTY", true)]
#[case("close_codeISNOTEMPTY", false)]
#[case("state>1", true)]
#[case("state<=1", false)]
#[case("user.user_name=beth.anglin", true)]
fn each_operator_matches_as_the_instance_does(#[case] query: &str, #[case] expected: bool) {
    let incident = [
        ("state", "2"),
        ("short_description", "VPN drops every 20 minutes"),
        ("close_code", ""),
        ("user.user_name", "beth.anglin"),
    ];
    assert_eq!(matches(query, &incident), expected, "{query}");
}

#[test]
fn or_binds_tighter_than_and() {
    let query = "active=true^state=1^ORstate=2";
    assert!(matches(query, &[("active", "true"), ("state", "2")]));
    assert!(!matches(query, &[("active", "false"), ("state", "2")]));
    assert!(!matches(query, &[("active", "true"), ("state", "3")]));
}

#[test]
fn new_query_joins_alternatives() {
    let query = "state=1^NQstate=7";
    assert!(matches(query, &[("state", "7")]));
    assert!(!matches(query, &[("state", "2")]));
}

#[test]
fn unknown_fields_and_operators_are_dropped_and_the_rest_still_runs() {
    let query = parse("bogus_field=1^state=2^state~~3", known);
    assert_eq!(query.alternatives.len(), 1);
    assert_eq!(query.alternatives[0].len(), 1);
    assert!(matches("bogus_field=1^state=2", &[("state", "2")]));
    assert!(!matches("bogus_field=1^state=2", &[("state", "1")]));
}

#[test]
fn a_query_of_only_invalid_parts_matches_everything() {
    assert!(parse("statte=7", known).alternatives.is_empty());
    assert!(matches("statte=7", &[("state", "1")]));
}

#[test]
fn order_terms_are_collected_and_unknown_ones_dropped() {
    let query = parse(
        "active=true^ORDERBYDESCsys_created_on^ORDERBYnope^ORDERBYnumber",
        known,
    );
    assert_eq!(
        query.order,
        vec![
            OrderBy {
                field: "sys_created_on".to_owned(),
                descending: true
            },
            OrderBy {
                field: "number".to_owned(),
                descending: false
            },
        ]
    );
}

#[test]
fn ordering_compares_numbers_as_numbers() {
    let query = parse("ORDERBYDESCstate", known);
    let a = record(&[("state", "10")]);
    let b = record(&[("state", "9")]);
    let ordering = query.compare(
        |f| a.get(f).cloned().unwrap_or_default(),
        |f| b.get(f).cloned().unwrap_or_default(),
    );
    assert!(ordering.is_lt(), "10 sorts before 9 when descending");
}

#[test]
fn double_caret_is_a_literal_caret_in_a_value() {
    assert!(matches(
        "short_description=a^^b",
        &[("short_description", "a^b")]
    ));
}

#[test]
fn a_trailing_eq_marker_and_empty_terms_are_harmless() {
    assert!(matches("state=2^EQ", &[("state", "2")]));
    assert!(!matches("state=2^EQ", &[("state", "3")]));
}
