//! Record operations: find by number, read, patch, and journal entries.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::domain::incident::{JournalEntry, Record};

use super::client::{Call, Client};
use super::error::Error;
use super::paging::Listing;
use super::{query, wire};

/// One request/response pair kept as evidence; it never holds an auth header.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Exchange {
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    pub request: Value,
    pub status: u16,
    pub response: Value,
    /// The record as the response returned it.
    pub record: Record,
}

impl Client {
    /// The one record of `table` with this number, read with display values.
    pub async fn find_by_number(&self, table: &str, number: &str) -> Result<Record, Error> {
        let table = query::table(table)?;
        let filter = format!("number={}", query::value(number, "record number")?);
        let params = [
            ("sysparm_query", filter.as_str()),
            ("sysparm_limit", "2"),
            ("sysparm_display_value", "all"),
        ];
        let url = self.table_url(table, None, &params);
        let reply = self.get(url, &format!("the table {table}")).await?;
        let mut records = wire::record_list(&reply.body).ok_or_else(|| no_result(table))?;
        // The total also counts rows an ACL hides, which still make the number ambiguous.
        let count = reply
            .head
            .total_count
            .unwrap_or(0)
            .max(records.len() as u64);
        match records.len() {
            0 => Err(Error::NotFound {
                what: format!("the {table} record {number}"),
            }),
            1 if count == 1 => Ok(records.remove(0)),
            _ => Err(Error::Ambiguous {
                number: number.to_owned(),
                count,
            }),
        }
    }

    /// One record by `sys_id`, every field with raw and display value.
    pub async fn read(&self, table: &str, sys_id: &str) -> Result<Record, Error> {
        let (table, sys_id) = (query::table(table)?, query::sys_id(sys_id)?);
        let params = [("sysparm_display_value", "all"), ("sysparm_limit", "1")];
        let url = self.table_url(table, Some(sys_id), &params);
        let reply = self
            .get(url, &format!("the {table} record {sys_id}"))
            .await?;
        wire::single_record(&reply.body).ok_or_else(|| no_result(table))
    }

    /// Writes the fields in one PATCH, sent exactly once; the exchange is the evidence.
    ///
    /// A cancelled client refuses to start the write, but a write once sent is never cut off.
    pub async fn patch(
        &self,
        table: &str,
        sys_id: &str,
        writes: &[(String, String)],
    ) -> Result<Exchange, Error> {
        let (table, sys_id) = (query::table(table)?, query::sys_id(sys_id)?);
        let request = write_body(writes)?;
        let url = self.table_url(table, Some(sys_id), &[("sysparm_display_value", "all")]);
        let call = Call {
            method: Method::PATCH,
            url,
            body: Some(request.clone()),
            what: format!("the {table} record {sys_id}"),
        };
        self.ensure_not_cancelled()?;
        let reply = self.send_once(&call).await?;
        let record = wire::single_record(&reply.body).ok_or_else(|| Error::Unexpected {
            reason: format!(
                "the PATCH answer for {table}/{sys_id} holds no record, so the change may or \
                 may not be applied; read the record before trying again"
            ),
        })?;
        Ok(Exchange {
            method: call.method.to_string(),
            path: call.path(),
            request,
            status: reply.head.status,
            response: reply.body,
            record,
        })
    }

    /// The journal entries (e.g. `work_notes`) of a record, newest first.
    pub async fn journal(
        &self,
        table: &str,
        sys_id: &str,
        element: &str,
    ) -> Result<Vec<JournalEntry>, Error> {
        let (table, sys_id) = (query::table(table)?, query::sys_id(sys_id)?);
        if !query::is_name(element) {
            return Err(Error::BadRequest {
                message: format!("'{element}' is not a field name"),
            });
        }
        let listing = Listing {
            what: format!("{element} entries"),
            table: "sys_journal_field",
            query: format!("element_id={sys_id}^element={element}^ORDERBYDESCsys_created_on"),
            fields: &[
                "element",
                "element_id",
                "name",
                "value",
                "sys_created_on",
                "sys_created_by",
            ],
        };
        let rows = self.list_all(&listing).await?;
        // The journal holds every table's entries; `name` tells whose they are.
        let mut entries: Vec<JournalEntry> = rows
            .iter()
            .filter(|row| row.value("name").is_empty() || row.value("name") == table)
            .map(journal_entry)
            .collect();
        entries.sort_by(|a, b| b.created_on.cmp(&a.created_on));
        Ok(entries)
    }
}

/// The compact JSON object of the writes; an empty change is refused before sending.
fn write_body(writes: &[(String, String)]) -> Result<Value, Error> {
    if writes.is_empty() {
        return Err(Error::BadRequest {
            message: "there is nothing to write".to_owned(),
        });
    }
    if let Some((field, _)) = writes.iter().find(|(field, _)| !query::is_name(field)) {
        return Err(Error::BadRequest {
            message: format!("'{field}' is not a field name"),
        });
    }
    let object: Map<String, Value> = writes
        .iter()
        .map(|(field, value)| (field.clone(), Value::String(value.clone())))
        .collect();
    Ok(Value::Object(object))
}

fn journal_entry(row: &Record) -> JournalEntry {
    JournalEntry {
        element: row.value("element").to_owned(),
        value: row.value("value").to_owned(),
        created_on: row.value("sys_created_on").to_owned(),
        created_by: row.value("sys_created_by").to_owned(),
    }
}

fn no_result(table: &str) -> Error {
    Error::Unexpected {
        reason: format!("the answer for {table} holds no result"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_bodies_are_flat_string_objects() {
        let writes = [
            ("state".to_owned(), "6".to_owned()),
            ("close_notes".to_owned(), "Done".to_owned()),
        ];
        let body = write_body(&writes).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"state": "6", "close_notes": "Done"})
        );
        assert!(!body.to_string().contains(' '));
        assert!(write_body(&[]).is_err());
        assert!(write_body(&[("a b".to_owned(), "x".to_owned())]).is_err());
    }
}
