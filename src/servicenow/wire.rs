//! Parsing of the Table API's stringly typed JSON: records, result envelopes, error envelopes.

use serde_json::{Map, Value};

use crate::domain::incident::{FieldValue, Record};

/// The `error` object of a failure envelope; `detail` is `""` when the instance sent null.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ErrorEnvelope {
    pub message: String,
    pub detail: String,
}

/// The `result` member of a success envelope.
pub fn result(body: &Value) -> Option<&Value> {
    body.as_object()?.get("result")
}

/// The single record of `{"result":{…}}`.
pub fn single_record(body: &Value) -> Option<Record> {
    result(body)?.as_object().map(record)
}

/// The records of `{"result":[…]}`; entries that are not objects are skipped.
pub fn record_list(body: &Value) -> Option<Vec<Record>> {
    let items = result(body)?.as_array()?;
    Some(
        items
            .iter()
            .filter_map(Value::as_object)
            .map(record)
            .collect(),
    )
}

/// One record in either raw or `display_value=all` shape; no field is ever dropped.
pub fn record(object: &Map<String, Value>) -> Record {
    let fields = object
        .iter()
        .map(|(name, value)| (name.clone(), field(value)))
        .collect();
    Record { fields }
}

/// One field: a string, `{display_value, value[, link]}`, a raw reference `{link, value}`,
/// or an odd scalar turned into text.
pub fn field(value: &Value) -> FieldValue {
    let Value::Object(object) = value else {
        return FieldValue::plain(text(value));
    };
    let raw = object.get("value").map(text);
    let display = object.get("display_value").map(text);
    match (raw, display) {
        (Some(value), Some(display)) => FieldValue { value, display },
        (Some(value), None) => FieldValue::plain(value),
        // Only `sysparm_display_value=true` sends this shape; the raw value is unknown.
        (None, Some(display)) => FieldValue {
            value: String::new(),
            display,
        },
        (None, None) => FieldValue::plain(value.to_string()),
    }
}

/// A JSON value as the string the instance would have sent: null is `""`, scalars as written.
pub fn text(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        // A nested reference such as `{link, value}` inside `value`.
        Value::Object(o) if o.contains_key("value") => text(&o["value"]),
        other => other.to_string(),
    }
}

/// The instance's boolean strings; anything else is `default`.
pub fn flag(value: &str, default: bool) -> bool {
    match value.trim() {
        "true" | "1" => true,
        "false" | "0" => false,
        _ => default,
    }
}

/// A count or length; `""` and odd values give `None`.
pub fn number(value: &str) -> Option<u32> {
    value.trim().parse().ok()
}

/// The error object of a failure envelope, in the Table API or the OAuth shape.
pub fn error_envelope(body: &Value) -> Option<ErrorEnvelope> {
    let object = body.as_object()?;
    match object.get("error")? {
        Value::Object(error) => Some(ErrorEnvelope {
            message: error.get("message").map(text).unwrap_or_default(),
            detail: error.get("detail").map(text).unwrap_or_default(),
        }),
        // OAuth: {"error_description":"access_denied","error":"server_error"}.
        Value::String(code) => Some(ErrorEnvelope {
            message: code.clone(),
            detail: object
                .get("error_description")
                .map(text)
                .unwrap_or_default(),
        }),
        _ => None,
    }
}

/// The field labels a data-policy detail lists, in its order.
pub fn data_policy_labels(detail: &str) -> Vec<String> {
    let lines: Vec<&str> = detail
        .lines()
        .filter(|l| l.contains("fields are"))
        .collect();
    let lists: Vec<&str> = if lines.is_empty() {
        detail
            .rsplit_once(':')
            .map(|(_, list)| list)
            .into_iter()
            .collect()
    } else {
        lines
            .iter()
            .filter_map(|l| l.split_once(':').map(|(_, list)| list))
            .collect()
    };
    lists
        .iter()
        .flat_map(|list| list.split(','))
        .map(str::trim)
        .filter(|label| !label.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The rule name in `aborted by Business Rule '<name>^<sys_id>'`, if the text has one.
pub fn business_rule_name(text: &str) -> Option<String> {
    const MARK: &str = "Business Rule '";
    let rest = &text[text.find(MARK)? + MARK.len()..];
    // The sys_id suffix ends the name; without it the closing quote does.
    let quote = rest.find("'.").or_else(|| rest.find('\''));
    let end = match (rest.find('^'), quote) {
        (Some(caret), Some(quote)) => caret.min(quote),
        (caret, quote) => caret.or(quote)?,
    };
    let name = rest[..end].trim();
    (!name.is_empty()).then(|| name.to_owned())
}

#[cfg(test)]
#[path = "wire_tests.rs"]
mod tests;
