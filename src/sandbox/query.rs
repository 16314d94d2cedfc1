//! Encoded queries (`sysparm_query`): parsing, matching and ordering.
//!
//! Like a real instance, a part naming an unknown field or using an unknown operator is
//! dropped silently and the rest of the query still runs.

use std::cmp::Ordering;

/// A comparison of one field with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Operator {
    Eq,
    NotEq,
    In,
    NotIn,
    Like,
    NotLike,
    StartsWith,
    EndsWith,
    IsEmpty,
    IsNotEmpty,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Anything,
}

/// Operator spellings, longest first so that `!=` wins over `=` and `NOT IN` over `IN`.
const OPERATORS: [(&str, Operator); 15] = [
    ("ISNOTEMPTY", Operator::IsNotEmpty),
    ("STARTSWITH", Operator::StartsWith),
    ("ENDSWITH", Operator::EndsWith),
    ("NOT LIKE", Operator::NotLike),
    ("ANYTHING", Operator::Anything),
    ("ISEMPTY", Operator::IsEmpty),
    ("NOT IN", Operator::NotIn),
    ("LIKE", Operator::Like),
    ("IN", Operator::In),
    ("!=", Operator::NotEq),
    ("<=", Operator::LessOrEqual),
    (">=", Operator::GreaterOrEqual),
    ("=", Operator::Eq),
    ("<", Operator::Less),
    (">", Operator::Greater),
];

/// One condition: `field`, operator, value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Condition {
    pub field: String,
    pub op: Operator,
    pub value: String,
}

/// One sort key from `ORDERBY<field>` or `ORDERBYDESC<field>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct OrderBy {
    pub field: String,
    pub descending: bool,
}

/// A parsed encoded query.
///
/// `alternatives` are the `^NQ` parts (any may match); each is a list of AND-ed groups, and
/// each group a list of OR-ed conditions, because `^OR` binds tighter than `^`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct EncodedQuery {
    pub alternatives: Vec<Vec<Vec<Condition>>>,
    pub order: Vec<OrderBy>,
}

/// Parses an encoded query, keeping only the parts whose field `is_field` accepts.
pub(crate) fn parse(query: &str, is_field: impl Fn(&str) -> bool) -> EncodedQuery {
    let mut parsed = EncodedQuery::default();
    let mut current: Vec<Vec<Condition>> = Vec::new();
    for term in split_terms(query) {
        let (term, new_query) = match term.strip_prefix("NQ") {
            Some(rest) => (rest.to_owned(), true),
            None => (term, false),
        };
        if new_query {
            parsed.alternatives.push(std::mem::take(&mut current));
        }
        if let Some(order) = parse_order(&term).filter(|o| is_field(&o.field)) {
            parsed.order.push(order);
            continue;
        }
        let (body, is_or) = split_or(&term);
        let Some(condition) = parse_condition(body).filter(|c| is_field(&c.field)) else {
            continue;
        };
        match current.last_mut() {
            Some(group) if is_or => group.push(condition),
            _ => current.push(vec![condition]),
        }
    }
    parsed.alternatives.push(current);
    parsed.alternatives.retain(|a| !a.is_empty());
    parsed
}

/// Splits on `^`, where `^^` stands for a literal caret inside a value.
fn split_terms(query: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut term = String::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '^' {
            term.push(c);
        } else if chars.peek() == Some(&'^') {
            chars.next();
            term.push('^');
        } else {
            terms.push(std::mem::take(&mut term));
        }
    }
    terms.push(term);
    terms.into_iter().filter(|t| !t.is_empty()).collect()
}

fn parse_order(term: &str) -> Option<OrderBy> {
    if let Some(field) = term.strip_prefix("ORDERBYDESC") {
        return Some(OrderBy {
            field: field.to_owned(),
            descending: true,
        });
    }
    let field = term.strip_prefix("ORDERBY")?;
    Some(OrderBy {
        field: field.to_owned(),
        descending: false,
    })
}

/// Strips a leading `OR` that joins this condition to the previous one.
fn split_or(term: &str) -> (&str, bool) {
    match term.strip_prefix("OR") {
        Some(rest) if rest.starts_with(is_field_char) => (rest, true),
        _ => (term, false),
    }
}

/// Column names are lowercase; operators start with a capital or a symbol.
fn is_field_char(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '.'
}

fn parse_condition(term: &str) -> Option<Condition> {
    let split = term.find(|c: char| !is_field_char(c))?;
    let (field, rest) = term.split_at(split);
    if field.is_empty() {
        return None;
    }
    let (op, value) = OPERATORS
        .iter()
        .find_map(|(spelling, op)| rest.strip_prefix(spelling).map(|value| (*op, value)))?;
    Some(Condition {
        field: field.to_owned(),
        op,
        value: value.to_owned(),
    })
}

impl EncodedQuery {
    /// Whether a record matches, given the raw value of any (dot-walked) field.
    pub fn matches(&self, value_of: impl Fn(&str) -> String) -> bool {
        if self.alternatives.is_empty() {
            return true;
        }
        self.alternatives.iter().any(|groups| {
            groups
                .iter()
                .all(|group| group.iter().any(|c| c.holds(&value_of(&c.field))))
        })
    }

    /// Orders two records by the query's sort keys, given each record's field values.
    pub fn compare(&self, a: impl Fn(&str) -> String, b: impl Fn(&str) -> String) -> Ordering {
        for key in &self.order {
            let ordering = compare_values(&a(&key.field), &b(&key.field));
            let ordering = if key.descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    }
}

impl Condition {
    /// Whether a raw field value satisfies this condition.
    pub fn holds(&self, actual: &str) -> bool {
        let wanted = self.value.as_str();
        match self.op {
            Operator::Eq => actual == wanted,
            Operator::NotEq => actual != wanted,
            Operator::In => wanted.split(',').any(|v| v == actual),
            Operator::NotIn => !wanted.split(',').any(|v| v == actual),
            Operator::Like => lower(actual).contains(&lower(wanted)),
            Operator::NotLike => !lower(actual).contains(&lower(wanted)),
            Operator::StartsWith => lower(actual).starts_with(&lower(wanted)),
            Operator::EndsWith => lower(actual).ends_with(&lower(wanted)),
            Operator::IsEmpty => actual.is_empty(),
            Operator::IsNotEmpty => !actual.is_empty(),
            Operator::Less => compare_values(actual, wanted).is_lt(),
            Operator::LessOrEqual => compare_values(actual, wanted).is_le(),
            Operator::Greater => compare_values(actual, wanted).is_gt(),
            Operator::GreaterOrEqual => compare_values(actual, wanted).is_ge(),
            Operator::Anything => true,
        }
    }
}

/// Text matches (LIKE and friends) ignore case, as the instance's database collation does.
fn lower(text: &str) -> String {
    text.to_lowercase()
}

/// Compares two raw values: as numbers when both are numbers, otherwise as text (which also
/// orders `YYYY-MM-DD HH:MM:SS` dates correctly).
pub(crate) fn compare_values(a: &str, b: &str) -> Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.cmp(b),
    }
}
