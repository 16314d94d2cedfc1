//! The `sysparm_*` parameters of a Table API call, and the paging `Link` header.

use super::query::{self, EncodedQuery};
use super::render::DisplayMode;
use super::schema::schema;

/// The default page size of the Table API.
const DEFAULT_LIMIT: u64 = 10_000;

/// The query string of one request, in order, duplicates kept.
#[derive(Clone, Debug, Default)]
pub(crate) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// Decodes a raw query string.
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self { pairs }
    }

    /// The first value of a parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A boolean switch such as `sysparm_no_count=true`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    pub fn display_mode(&self) -> DisplayMode {
        DisplayMode::parse(self.get("sysparm_display_value"))
    }

    pub fn links(&self) -> bool {
        !self.flag("sysparm_exclude_reference_link")
    }

    /// `sysparm_limit`; a missing, zero or unreadable value means the default.
    pub fn limit(&self) -> u64 {
        self.get("sysparm_limit")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|&limit| limit > 0)
            .unwrap_or(DEFAULT_LIMIT)
    }

    /// `sysparm_offset`; a negative or unreadable value reads as 0.
    pub fn offset(&self) -> u64 {
        self.get("sysparm_offset")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(0)
    }

    /// The requested field paths that exist; all columns of the table when none were asked.
    pub fn fields(&self, table: &str) -> Vec<String> {
        let Some(list) = self.get("sysparm_fields").filter(|v| !v.trim().is_empty()) else {
            return schema()
                .fields(table)
                .iter()
                .map(|f| f.element.clone())
                .collect();
        };
        let mut fields: Vec<String> = Vec::new();
        for path in list.split(',').map(str::trim) {
            if schema().is_path(table, path) && !fields.iter().any(|f| f == path) {
                fields.push(path.to_owned());
            }
        }
        fields
    }

    /// The filter: `sysparm_query`, or else `field=value` pairs of known fields.
    pub fn query(&self, table: &str) -> EncodedQuery {
        let is_field = |path: &str| schema().is_path(table, path);
        if let Some(encoded) = self.get("sysparm_query") {
            return query::parse(encoded, is_field);
        }
        let pairs: Vec<String> = self
            .pairs
            .iter()
            .filter(|(k, _)| !k.starts_with("sysparm_"))
            .map(|(k, v)| format!("{k}={}", v.replace('^', "^^")))
            .collect();
        query::parse(&pairs.join("^"), is_field)
    }

    /// The `Link` header of a list page: first, prev, next and last.
    ///
    /// Like the instance, `prev` is offered on a first page that has a next one, with a
    /// negative offset (`-1` for a page size of 1).
    pub fn link_header(&self, url: &str, total: u64) -> String {
        let limit = self.limit();
        let offset = self.offset();
        let has_next = offset.saturating_add(limit) < total;
        let last = total.saturating_sub(1) / limit * limit;
        let limit_signed = i128::from(limit);
        let offset_signed = i128::from(offset);
        let mut links = vec![(self.page_url(url, 0), "first")];
        if offset > 0 || has_next {
            links.push((self.page_url(url, offset_signed - limit_signed), "prev"));
        }
        if has_next {
            links.push((self.page_url(url, offset_signed + limit_signed), "next"));
        }
        links.push((self.page_url(url, i128::from(last)), "last"));
        let entries: Vec<String> = links
            .into_iter()
            .map(|(link, rel)| format!("<{link}>;rel=\"{rel}\""))
            .collect();
        entries.join(",")
    }

    /// The request's URL with its other parameters and a new page position.
    fn page_url(&self, url: &str, offset: i128) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if k != "sysparm_limit" && k != "sysparm_offset" {
                query.append_pair(k, v);
            }
        }
        query.append_pair("sysparm_limit", &self.limit().to_string());
        query.append_pair("sysparm_offset", &offset.to_string());
        format!("{url}?{}", query.finish())
    }
}
