//! Checks on names and values before they go into a URL path or an encoded query.

use super::error::Error;

/// A table name as the instance spells them (`incident`, `sys_user`, `x_acme_app_task`).
pub fn table(name: &str) -> Result<&str, Error> {
    if is_name(name) {
        Ok(name)
    } else {
        Err(Error::BadRequest {
            message: format!("'{name}' is not a valid table name"),
        })
    }
}

/// A `sys_id` for a URL path segment.
pub fn sys_id(id: &str) -> Result<&str, Error> {
    if !id.is_empty()
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(id)
    } else {
        Err(Error::BadRequest {
            message: format!("'{id}' is not a valid sys_id"),
        })
    }
}

/// Whether a column name can go into a query or field list without changing its meaning.
pub fn is_name(name: &str) -> bool {
    !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A value for `field=value` in an encoded query; `^` would start a new condition.
pub fn value<'a>(value: &'a str, what: &str) -> Result<&'a str, Error> {
    if value.is_empty() || value.contains('^') || value.chars().any(char::is_control) {
        Err(Error::BadRequest {
            message: format!("'{value}' is not a valid {what}"),
        })
    } else {
        Ok(value)
    }
}

/// `name=a^ORname=b`: rows of any of the tables.
pub fn any_table(tables: &[String]) -> String {
    tables
        .iter()
        .map(|t| format!("name={t}"))
        .collect::<Vec<_>>()
        .join("^OR")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_values_that_would_rewrite_a_query_are_refused() {
        assert!(table("incident").is_ok());
        assert!(table("incident^ORactive=true").is_err());
        assert!(table("../sys_user").is_err());
        assert!(sys_id("3f1c2a9e47d0211004f2c8b2736d43a1").is_ok());
        assert!(sys_id("a/b").is_err());
        assert!(value("INC0010031", "number").is_ok());
        assert!(value("INC1^ORnumber!=x", "number").is_err());
        assert_eq!(
            any_table(&["incident".into(), "task".into()]),
            "name=incident^ORname=task"
        );
    }
}
