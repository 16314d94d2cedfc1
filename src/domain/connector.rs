//! Connector settings: the connect payload, its validation, and the instance target.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The word that points a connector at the embedded sandbox instead of a real instance.
pub const SANDBOX_WORD: &str = "sandbox";

/// The connect payload as the seed defines it (camelCase JSON).
#[derive(Clone, Deserialize, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectPayload {
    pub instance_url: String,
    pub client_id: String,
    pub client_secret: String,
    #[serde(default = "yes")]
    pub is_sandbox: bool,
    #[serde(default = "yes")]
    pub is_enabled: bool,
    #[serde(default = "yes")]
    pub validate_after_save: bool,
    #[serde(default = "yes")]
    pub sync_metadata_after_save: bool,
    #[serde(default)]
    pub managed_objects: Vec<ManagedObject>,
    /// `basic` (default) or `oauth` (the password grant at `/oauth_token.do`).
    #[serde(default)]
    pub auth_method: AuthKind,
    /// The OAuth application's client id (Application Registry), for `oauth`.
    #[serde(default)]
    pub oauth_client_id: String,
    /// The OAuth application's client secret, for `oauth`.
    #[serde(default)]
    pub oauth_client_secret: String,
}

/// How the connector signs in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AuthKind {
    #[default]
    Basic,
    #[serde(rename = "oauth")]
    OAuth,
}

/// How a saved connector signs in; the OAuth client secret lives in the credential store.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", tag = "method")]
pub enum Auth {
    #[default]
    Basic,
    #[serde(rename = "oauth", rename_all = "camelCase")]
    OAuth { client_id: String },
}

fn yes() -> bool {
    true
}

impl fmt::Debug for ConnectPayload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConnectPayload")
            .field("instance_url", &self.instance_url)
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("auth_method", &self.auth_method)
            .field("oauth_client_id", &self.oauth_client_id)
            .field("oauth_client_secret", &"<redacted>")
            .field("is_sandbox", &self.is_sandbox)
            .field("managed_objects", &self.managed_objects)
            .finish_non_exhaustive()
    }
}

/// One table the connector may write, and the fields of it that are allowed.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ManagedObject {
    pub object_api_name: String,
    #[serde(default)]
    pub display_name: String,
    #[serde(default)]
    pub allowed_fields: Vec<String>,
}

/// Where the connector points: the embedded sandbox or a real instance's base URL.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "url", rename_all = "camelCase")]
pub enum InstanceTarget {
    Sandbox,
    Remote(String),
}

impl InstanceTarget {
    /// The label shown in the status bar and stored with every preview.
    pub fn label(&self) -> String {
        match self {
            Self::Sandbox => "embedded sandbox".to_owned(),
            Self::Remote(url) => url.clone(),
        }
    }

    /// Whether the target is known to be a sandbox by its address: the embedded sandbox,
    /// loopback, or a Personal Developer Instance (`devNNNNN.service-now.com`).
    pub fn is_known_sandbox(&self) -> bool {
        let Self::Remote(url) = self else { return true };
        let Some(host) = url::Url::parse(url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
        else {
            return false;
        };
        let pdi = host
            .strip_suffix(".service-now.com")
            .and_then(|name| name.strip_prefix("dev"))
            .is_some_and(|digits| !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()));
        pdi || is_loopback(&host)
    }

    /// The short name of the instance (`dev12345`), which production runs ask to be typed.
    pub fn instance_name(&self) -> String {
        match self {
            Self::Sandbox => SANDBOX_WORD.to_owned(),
            Self::Remote(url) => {
                let host = url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host().map(|h| h.to_owned()));
                match host {
                    Some(url::Host::Domain(name)) => {
                        name.split('.').next().unwrap_or(&name).to_owned()
                    }
                    Some(ip) => ip.to_string(),
                    None => url.clone(),
                }
            }
        }
    }
}

/// Why an instance URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the instance URL is empty: type an instance name such as dev12345, or `sandbox`")]
    Empty,
    #[error(
        "`{0}` uses plain http, which would send the password unencrypted: type \
         https://{1} instead (plain http is allowed only on 127.0.0.1 or localhost)"
    )]
    PlainHttp(String, String),
    #[error(
        "`{0}` is not a URL this app can use ({1}): type e.g. dev12345 or \
         https://dev12345.service-now.com"
    )]
    Invalid(String, String),
    #[error("`{0}` uses the scheme {1}: type an https:// address")]
    Scheme(String, String),
}

/// Normalises what an operator types or pastes into an instance target.
///
/// `dev12345`, `dev12345.service-now.com`, `https://dev12345.service-now.com/` and a pasted UI
/// link all become `https://dev12345.service-now.com`; custom domains keep their host; plain
/// http is refused except on loopback.
pub fn normalise_instance_url(input: &str) -> Result<InstanceTarget, UrlError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(UrlError::Empty);
    }
    if trimmed.eq_ignore_ascii_case(SANDBOX_WORD) {
        return Ok(InstanceTarget::Sandbox);
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_owned()
    } else if trimmed.contains('.') || trimmed.contains(':') || trimmed.contains('/') {
        format!("https://{trimmed}")
    } else {
        format!("https://{}.service-now.com", trimmed.to_ascii_lowercase())
    };
    let parsed = url::Url::parse(&with_scheme)
        .map_err(|e| UrlError::Invalid(trimmed.to_owned(), e.to_string()))?;
    let host = parsed
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| UrlError::Invalid(trimmed.to_owned(), "no host".to_owned()))?
        .to_ascii_lowercase();
    let port = parsed.port().map(|p| format!(":{p}")).unwrap_or_default();
    match parsed.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(UrlError::PlainHttp(
                trimmed.to_owned(),
                format!("{host}{port}"),
            ));
        }
        other => return Err(UrlError::Scheme(trimmed.to_owned(), other.to_owned())),
    }
    Ok(InstanceTarget::Remote(format!(
        "{}://{host}{port}",
        parsed.scheme()
    )))
}

fn is_loopback(host: &str) -> bool {
    host == "localhost"
        || host == "[::1]"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What the store keeps of a connector: everything but the secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectorSettings {
    pub instance: InstanceTarget,
    pub username: String,
    pub is_sandbox: bool,
    pub is_enabled: bool,
    pub managed_objects: Vec<ManagedObject>,
    #[serde(default)]
    pub auth: Auth,
}

impl ConnectorSettings {
    /// Whether a live approval must type the instance name: production, or a target declared
    /// a sandbox whose address does not show it is one.
    pub fn needs_typed_confirmation(&self) -> bool {
        !self.is_sandbox || !self.instance.is_known_sandbox()
    }

    /// The allowed fields of one table, in the order the operator gave them.
    pub fn allowed_fields(&self, table: &str) -> Vec<String> {
        self.managed_objects
            .iter()
            .filter(|m| m.object_api_name == table)
            .flat_map(|m| m.allowed_fields.iter().cloned())
            .collect()
    }
}

/// One problem with a connect payload, naming the field it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub problem: String,
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl ConnectPayload {
    /// Parses a payload, naming each bad field instead of stopping at the first.
    pub fn parse(json: &str) -> Result<Self, Vec<FieldProblem>> {
        let payload: Self = serde_json::from_str(json).map_err(|e| {
            vec![FieldProblem {
                field: "(payload)".to_owned(),
                problem: format!(
                    "not a valid connect payload ({e}); it needs instanceUrl, clientId, \
                     clientSecret and managedObjects"
                ),
            }]
        })?;
        payload.check().map(|_| payload)
    }

    /// Checks every field and turns the payload into storable settings.
    pub fn check(&self) -> Result<ConnectorSettings, Vec<FieldProblem>> {
        let mut problems = Vec::new();
        let mut problem = |field: &str, text: String| {
            problems.push(FieldProblem {
                field: field.to_owned(),
                problem: text,
            });
        };
        let instance = normalise_instance_url(&self.instance_url)
            .map_err(|e| problem("instanceUrl", e.to_string()))
            .ok();
        if self.client_id.trim().is_empty() {
            problem(
                "clientId",
                "give the integration user's user name".to_owned(),
            );
        }
        if self.client_secret.is_empty() {
            problem(
                "clientSecret",
                "give the integration user's password".to_owned(),
            );
        }
        if self.auth_method == AuthKind::OAuth {
            if self.oauth_client_id.trim().is_empty() {
                problem(
                    "oauthClientId",
                    "give the OAuth application's client id (Application Registry)".to_owned(),
                );
            }
            if self.oauth_client_secret.is_empty() {
                problem(
                    "oauthClientSecret",
                    "give the OAuth application's client secret".to_owned(),
                );
            }
        }
        if self.managed_objects.is_empty() {
            problem(
                "managedObjects",
                "name at least the incident table and its fields".to_owned(),
            );
        }
        for (i, object) in self.managed_objects.iter().enumerate() {
            if !is_identifier(&object.object_api_name) {
                let name = &object.object_api_name;
                problem(
                    &format!("managedObjects[{i}].objectApiName"),
                    format!("`{name}` is not a table name"),
                );
            }
            if object.allowed_fields.is_empty() {
                problem(
                    &format!("managedObjects[{i}].allowedFields"),
                    "list at least one field".to_owned(),
                );
            }
            for field in object.allowed_fields.iter().filter(|f| !is_identifier(f)) {
                problem(
                    &format!("managedObjects[{i}].allowedFields"),
                    format!("`{field}` is not a field name"),
                );
            }
        }
        match instance {
            Some(instance) if problems.is_empty() => Ok(ConnectorSettings {
                instance,
                username: self.client_id.trim().to_owned(),
                is_sandbox: self.is_sandbox,
                is_enabled: self.is_enabled,
                managed_objects: self.managed_objects.clone(),
                auth: match self.auth_method {
                    AuthKind::Basic => Auth::Basic,
                    AuthKind::OAuth => Auth::OAuth {
                        client_id: self.oauth_client_id.trim().to_owned(),
                    },
                },
            }),
            _ => Err(problems),
        }
    }
}

/// ServiceNow table and column names: lowercase letters, digits and underscores.
pub fn is_identifier(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 80
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[rstest]
    #[case("dev12345", "https://dev12345.service-now.com")]
    #[case("DEV12345", "https://dev12345.service-now.com")]
    #[case("dev12345.service-now.com", "https://dev12345.service-now.com")]
    #[case(
        "https://dev12345.service-now.com/",
        "https://dev12345.service-now.com"
    )]
    #[case(
        "https://dev12345.service-now.com/now/nav/ui/home",
        "https://dev12345.service-now.com"
    )]
    #[case(
        "  https://Dev12345.Service-Now.com  ",
        "https://dev12345.service-now.com"
    )]
    #[case("https://itsm.example.org/", "https://itsm.example.org")]
    #[case("http://127.0.0.1:8080/", "http://127.0.0.1:8080")]
    #[case("http://localhost:9000", "http://localhost:9000")]
    fn instance_urls_normalise(#[case] input: &str, #[case] expected: &str) {
        assert_eq!(
            normalise_instance_url(input),
            Ok(InstanceTarget::Remote(expected.to_owned()))
        );
    }

    #[rstest]
    #[case("http://dev12345.service-now.com")]
    #[case("ftp://dev12345.service-now.com")]
    #[case("")]
    #[case("https://")]
    fn bad_instance_urls_are_refused_with_a_reason(#[case] input: &str) {
        let err = normalise_instance_url(input).unwrap_err();
        assert!(err.to_string().contains("type"), "{err}");
    }

    #[test]
    fn sandbox_word_targets_the_embedded_instance() {
        assert_eq!(
            normalise_instance_url("Sandbox"),
            Ok(InstanceTarget::Sandbox)
        );
    }

    #[test]
    fn the_seed_payload_is_accepted_as_is() {
        let seed = include_str!("../../assets/connect-sandbox.json");
        let payload = ConnectPayload::parse(seed).unwrap();
        assert_eq!(payload.check().unwrap().allowed_fields("incident").len(), 4);
    }

    #[test]
    fn every_bad_field_is_named() {
        let json = r#"{"instanceUrl":"http://x.example.com","clientId":" ",
            "clientSecret":"",
            "managedObjects":[{"objectApiName":"Incident!","allowedFields":[]}]}"#;
        let problems = ConnectPayload::parse(json).unwrap_err();
        let fields: Vec<_> = problems.iter().map(|p| p.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "instanceUrl",
                "clientId",
                "clientSecret",
                "managedObjects[0].objectApiName",
                "managedObjects[0].allowedFields"
            ]
        );
    }

    #[test]
    fn debug_output_hides_the_secret() {
        let json = r#"{"instanceUrl":"sandbox","clientId":"u","clientSecret":"hunter2"}"#;
        let payload: ConnectPayload = serde_json::from_str(json).unwrap();
        assert!(!format!("{payload:?}").contains("hunter2"));
    }
}
