//! List reads in pages: explicit limit and offset until `X-Total-Count`, de-duplicated, with
//! a progress report after each page.

use std::collections::HashSet;

use crate::domain::incident::Record;

use super::client::Client;
use super::error::Error;
use super::progress::Progress;
use super::wire;

/// A guard against an instance that never stops reporting more rows.
const MAX_PAGES: u64 = 10_000;

/// One list read: the table, an encoded query (its own ORDERBY first) and the fields wanted.
pub(super) struct Listing<'a> {
    /// What the rows are, for progress reports ("dictionary entries of incident").
    pub what: String,
    pub table: &'a str,
    pub query: String,
    pub fields: &'a [&'a str],
}

impl Listing<'_> {
    /// The query with `sys_id` as the last sort key, so pages stay stable.
    fn ordered_query(&self) -> String {
        if self.query.is_empty() {
            "ORDERBYsys_id".to_owned()
        } else {
            format!("{}^ORDERBYsys_id", self.query)
        }
    }

    /// The fields plus `sys_id`, which de-duplication needs.
    fn field_list(&self) -> String {
        let mut fields: Vec<&str> = self.fields.to_vec();
        if !fields.contains(&"sys_id") {
            fields.push("sys_id");
        }
        fields.join(",")
    }
}

/// Rows gathered so far, and where the next page starts.
struct Pages {
    table: String,
    offset: u64,
    seen: HashSet<String>,
    records: Vec<Record>,
}

impl Pages {
    /// Adds a page; a non-empty page that brings nothing new means paging would not end.
    fn add(&mut self, page: Vec<Record>) -> Result<(), Error> {
        let identified = page.iter().filter(|r| !r.sys_id().is_empty()).count();
        let mut fresh = 0;
        for record in page {
            let id = record.sys_id().to_owned();
            if id.is_empty() || self.seen.insert(id) {
                fresh += 1;
                self.records.push(record);
            }
        }
        if identified > 0 && fresh == 0 {
            return Err(Error::Unexpected {
                reason: format!(
                    "the page of {} at offset {} repeats rows already read, so the instance \
                     seems to ignore sysparm_offset",
                    self.table, self.offset
                ),
            });
        }
        Ok(())
    }

    /// Moves to the next page and says whether to read it.
    fn advance(&mut self, limit: u32, fetched: usize, total: Option<u64>) -> bool {
        // The limit applies before ACL filtering, so a short page is not the last page.
        self.offset += u64::from(limit);
        match total {
            Some(total) => self.offset < total,
            None => fetched >= limit as usize,
        }
    }
}

impl Client {
    /// Every row of a listing, in the instance's order, each `sys_id` once.
    pub(super) async fn list_all(&self, listing: &Listing<'_>) -> Result<Vec<Record>, Error> {
        let limit = self.page_size;
        let (query, fields, limit_text) = (
            listing.ordered_query(),
            listing.field_list(),
            limit.to_string(),
        );
        let mut pages = Pages {
            table: listing.table.to_owned(),
            offset: 0,
            seen: HashSet::new(),
            records: Vec::new(),
        };
        for _ in 0..MAX_PAGES {
            let offset = pages.offset.to_string();
            let params = [
                ("sysparm_query", query.as_str()),
                ("sysparm_fields", fields.as_str()),
                ("sysparm_limit", limit_text.as_str()),
                ("sysparm_offset", offset.as_str()),
                ("sysparm_display_value", "false"),
                ("sysparm_exclude_reference_link", "true"),
            ];
            let url = self.table_url(listing.table, None, &params);
            let reply = self
                .get(url, &format!("the table {}", listing.table))
                .await?;
            let page = wire::record_list(&reply.body).ok_or_else(|| Error::Unexpected {
                reason: format!("a page of {} holds no result list", listing.table),
            })?;
            let fetched = page.len();
            pages.add(page)?;
            self.report(Progress::Loaded {
                what: listing.what.clone(),
                loaded: pages.records.len() as u64,
                total: reply.head.total_count,
            });
            if !pages.advance(limit, fetched, reply.head.total_count) {
                return Ok(pages.records);
            }
        }
        Err(Error::Unexpected {
            reason: format!("{} has more than {MAX_PAGES} pages", listing.table),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::incident::FieldValue;

    fn page(ids: &[&str]) -> Vec<Record> {
        ids.iter()
            .map(|id| {
                let mut record = Record::default();
                record
                    .fields
                    .insert("sys_id".into(), FieldValue::plain(*id));
                record
            })
            .collect()
    }

    fn pages() -> Pages {
        Pages {
            table: "t".into(),
            offset: 0,
            seen: HashSet::new(),
            records: Vec::new(),
        }
    }

    #[test]
    fn overlapping_pages_are_deduplicated_and_a_repeat_is_refused() {
        let mut pages = pages();
        pages.add(page(&["a", "b"])).unwrap();
        pages.add(page(&["b", "c"])).unwrap();
        assert_eq!(pages.records.len(), 3);
        let error = pages.add(page(&["a", "c"])).unwrap_err();
        assert!(error.to_string().contains("repeats rows"));
    }

    #[test]
    fn paging_stops_at_the_total_even_after_short_pages() {
        let mut pages = pages();
        assert!(pages.advance(2, 1, Some(5)));
        assert!(pages.advance(2, 0, Some(5)));
        assert!(!pages.advance(2, 2, Some(5)));
        let mut uncounted = super::tests::pages();
        assert!(uncounted.advance(2, 2, None));
        assert!(!uncounted.advance(2, 1, None));
    }

    #[test]
    fn the_query_always_ends_with_a_stable_order() {
        let listing = Listing {
            what: "rows".into(),
            table: "t",
            query: "a=1^ORDERBYDESCb".into(),
            fields: &["a"],
        };
        assert_eq!(listing.ordered_query(), "a=1^ORDERBYDESCb^ORDERBYsys_id");
        assert_eq!(listing.field_list(), "a,sys_id");
    }
}
