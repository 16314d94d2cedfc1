//! Validation: who the user is, which roles it holds, and which build the instance runs.

use crate::domain::onboarding::ValidationReport;

use super::client::Client;
use super::error::Error;
use super::paging::Listing;
use super::{now_utc, query, wire};

impl Client {
    /// The integration user's record and roles, and the build tag when readable.
    pub async fn validate(&self) -> Result<ValidationReport, Error> {
        let user_name = query::value(self.username(), "user name")?.to_owned();
        let user = self.user_record(&user_name).await?;
        let roles = self.roles(&user_name).await?;
        let build = self.build_tag().await?;
        let display = user.value("name");
        Ok(ValidationReport {
            instance: self.base_url().to_owned(),
            build,
            user_display_name: if display.is_empty() {
                user_name.clone()
            } else {
                display.to_owned()
            },
            // A user that just signed in is active and not locked, whatever an ACL hides.
            active: wire::flag(user.value("active"), true),
            locked_out: wire::flag(user.value("locked_out"), false),
            web_service_only: wire::flag(user.value("web_service_access_only"), false),
            user_name,
            roles,
            checked_at: now_utc(),
        })
    }

    async fn user_record(&self, user_name: &str) -> Result<crate::domain::incident::Record, Error> {
        let filter = format!("user_name={user_name}");
        let params = [
            ("sysparm_query", filter.as_str()),
            (
                "sysparm_fields",
                "sys_id,user_name,name,active,locked_out,web_service_access_only",
            ),
            ("sysparm_limit", "1"),
        ];
        let url = self.table_url("sys_user", None, &params);
        let reply = self.get(url, "the table sys_user").await?;
        let users = wire::record_list(&reply.body).unwrap_or_default();
        users.into_iter().next().ok_or_else(|| Error::NotFound {
            what: format!(
                "the user {user_name} in sys_user (the user may not read its own record)"
            ),
        })
    }

    /// Role names held by the user, sorted, each once.
    async fn roles(&self, user_name: &str) -> Result<Vec<String>, Error> {
        let listing = Listing {
            what: format!("role grants of {user_name}"),
            table: "sys_user_has_role",
            query: format!("user.user_name={user_name}"),
            fields: &["role.name", "inherited"],
        };
        let mut roles: Vec<String> = self
            .list_all(&listing)
            .await?
            .iter()
            .map(|row| row.value("role.name").to_owned())
            .filter(|name| !name.is_empty())
            .collect();
        roles.sort();
        roles.dedup();
        Ok(roles)
    }

    /// `glide.buildtag`, or `None` when the user may not read system properties.
    async fn build_tag(&self) -> Result<Option<String>, Error> {
        let params = [
            ("sysparm_query", "name=glide.buildtag"),
            ("sysparm_fields", "name,value"),
            ("sysparm_limit", "1"),
        ];
        let url = self.table_url("sys_properties", None, &params);
        match self.get(url, "the table sys_properties").await {
            Ok(reply) => Ok(wire::record_list(&reply.body)
                .and_then(|rows| rows.into_iter().next())
                .map(|row| row.value("value").to_owned())
                .filter(|tag| !tag.is_empty())),
            Err(Error::AclDenied { .. } | Error::Forbidden { .. } | Error::NotFound { .. }) => {
                Ok(None)
            }
            Err(error) => Err(error),
        }
    }
}
