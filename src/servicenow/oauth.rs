//! OAuth 2.0 password grant: the tokens, where they are kept, and the token endpoint.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use chrono::{DateTime, TimeDelta, Utc};
use reqwest::header::{self, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::Client;
use super::error::Error;
use super::response::{self, Head};
use super::secret::Secret;

/// Where the instance issues tokens, relative to the instance root.
const TOKEN_PATH: &str = "oauth_token.do";
/// A token this close to its expiry is refreshed before use, as the Ansible client does.
const REFRESH_MARGIN: TimeDelta = TimeDelta::seconds(60);
/// The life the instance gives an access token when its answer does not say.
const DEFAULT_LIFE_SECS: i64 = 1799;
/// How the token endpoint is named in errors.
const TOKEN_WHAT: &str = "the OAuth token endpoint /oauth_token.do";

/// OAuth tokens as the instance issued them; Debug shows neither token.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OAuthTokens {
    #[serde(with = "exposed")]
    pub access_token: Secret,
    #[serde(with = "exposed_option", default)]
    pub refresh_token: Option<Secret>,
    /// When the access token stops working, UTC.
    pub expires_at: DateTime<Utc>,
}

impl OAuthTokens {
    /// Whether the access token is good for a call made at `now`, with the refresh margin.
    pub fn is_fresh(&self, now: DateTime<Utc>) -> bool {
        now + REFRESH_MARGIN < self.expires_at
    }
}

/// Where tokens live between calls and processes; the app keeps them in its credential store.
pub trait TokenVault: Send + Sync {
    /// The kept tokens, if any.
    fn load(&self) -> Option<OAuthTokens>;
    /// Keeps new tokens in place of the old ones.
    fn save(&self, tokens: &OAuthTokens);
    /// Forgets the tokens, e.g. after the instance refused the grant.
    fn clear(&self);
}

/// A vault in memory only, for tests and for sessions that keep nothing.
#[derive(Debug, Default)]
pub struct MemoryVault {
    tokens: Mutex<Option<OAuthTokens>>,
}

impl MemoryVault {
    /// An empty vault.
    pub fn new() -> Self {
        Self::default()
    }

    /// A vault that already holds tokens (e.g. from an earlier session).
    pub fn holding(tokens: OAuthTokens) -> Self {
        Self {
            tokens: Mutex::new(Some(tokens)),
        }
    }
}

impl TokenVault for MemoryVault {
    fn load(&self) -> Option<OAuthTokens> {
        self.tokens
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn save(&self, tokens: &OAuthTokens) {
        *self.tokens.lock().unwrap_or_else(PoisonError::into_inner) = Some(tokens.clone());
    }

    fn clear(&self) {
        *self.tokens.lock().unwrap_or_else(PoisonError::into_inner) = None;
    }
}

/// What a client needs to get tokens for one user through one registered OAuth client.
pub(super) struct OAuth {
    username: String,
    password: Secret,
    client_id: String,
    client_secret: Secret,
    vault: Arc<dyn TokenVault>,
    /// One token request at a time, so parallel calls do not each ask for a token.
    renewing: tokio::sync::Mutex<()>,
}

impl OAuth {
    pub fn new(
        username: &str,
        password: Secret,
        client_id: &str,
        client_secret: Secret,
        vault: Arc<dyn TokenVault>,
    ) -> Result<Self, Error> {
        let refuse = |message: &str| {
            Err(Error::BadRequest {
                message: message.to_owned(),
            })
        };
        if username.is_empty() {
            return refuse("the user name must be set");
        }
        if client_id.trim().is_empty() {
            return refuse("the OAuth client id must be set");
        }
        Ok(Self {
            username: username.to_owned(),
            password,
            client_id: client_id.trim().to_owned(),
            client_secret,
            vault,
            renewing: tokio::sync::Mutex::new(()),
        })
    }

    /// `grant_type=password`: a new token from the user's password.
    fn password_form(&self) -> String {
        form(&[
            ("grant_type", "password"),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
            ("username", &self.username),
            ("password", self.password.expose()),
        ])
    }

    /// `grant_type=refresh_token`: a new access token for the same grant.
    fn refresh_form(&self, refresh_token: &Secret) -> String {
        form(&[
            ("grant_type", "refresh_token"),
            ("client_id", &self.client_id),
            ("client_secret", self.client_secret.expose()),
            ("refresh_token", refresh_token.expose()),
        ])
    }
}

impl fmt::Debug for OAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuth")
            .field("username", &self.username)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// The `Bearer` header for the next call: the kept token, or a refreshed or new one.
    pub(super) async fn bearer(&self, oauth: &OAuth) -> Result<HeaderValue, Error> {
        let _one_at_a_time = oauth.renewing.lock().await;
        match oauth.vault.load() {
            Some(tokens) if tokens.is_fresh(Utc::now()) => bearer_header(&tokens.access_token),
            kept => self.renew_from(oauth, kept).await,
        }
    }

    /// A new token after the instance refused `rejected` with a 401.
    pub(super) async fn renew(
        &self,
        oauth: &OAuth,
        rejected: &HeaderValue,
    ) -> Result<HeaderValue, Error> {
        let _one_at_a_time = oauth.renewing.lock().await;
        let kept = oauth.vault.load();
        // Another call may have renewed the token while this one waited for the lock.
        if let Some(tokens) = &kept {
            let current = bearer_header(&tokens.access_token)?;
            if current != *rejected && tokens.is_fresh(Utc::now()) {
                return Ok(current);
            }
        }
        self.renew_from(oauth, kept).await
    }

    /// Refreshes with the kept refresh token, or grants anew when there is none or it failed.
    async fn renew_from(
        &self,
        oauth: &OAuth,
        kept: Option<OAuthTokens>,
    ) -> Result<HeaderValue, Error> {
        let refresh_token = kept.and_then(|t| t.refresh_token);
        if let Some(refresh_token) = &refresh_token {
            match self.token_request(&oauth.refresh_form(refresh_token)).await {
                Ok(mut tokens) => {
                    // The instance may leave the refresh token out; the old one still holds.
                    tokens.refresh_token = tokens.refresh_token.or(Some(refresh_token.clone()));
                    oauth.vault.save(&tokens);
                    return bearer_header(&tokens.access_token);
                }
                Err(Error::OAuth { .. }) => {
                    tracing::info!("OAuth refresh refused; asking for a new grant");
                }
                Err(other) => return Err(other),
            }
        }
        match self.token_request(&oauth.password_form()).await {
            Ok(tokens) => {
                oauth.vault.save(&tokens);
                bearer_header(&tokens.access_token)
            }
            Err(error) => {
                if matches!(error, Error::OAuth { .. }) {
                    oauth.vault.clear();
                }
                Err(error)
            }
        }
    }

    /// One POST to the token endpoint; logged with its status only, never its form or answer.
    async fn token_request(&self, form: &str) -> Result<OAuthTokens, Error> {
        let url = self.root_url(TOKEN_PATH);
        let started = Instant::now();
        let request = self
            .http()
            .post(url.clone())
            .header(header::ACCEPT, "application/json")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(form.to_owned());
        let (status, fetched) = self.exchange(request).await;
        self.log_call("POST", url.path(), status, started.elapsed());
        let (head, bytes) = fetched?;
        token_answer(&head, &bytes)
    }
}

/// `Bearer <token>`, marked sensitive so it never prints.
fn bearer_header(token: &Secret) -> Result<HeaderValue, Error> {
    let mut value =
        HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| Error::OAuth {
            detail: "the instance issued an access token that cannot be sent in a header"
                .to_owned(),
        })?;
    value.set_sensitive(true);
    Ok(value)
}

fn form(pairs: &[(&str, &str)]) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The tokens of a 2xx answer, or the error the answer stands for.
fn token_answer(head: &Head, bytes: &[u8]) -> Result<OAuthTokens, Error> {
    match head.status {
        200..=299 => tokens_of(&response::classify(head, bytes, TOKEN_WHAT)?),
        400 | 401 | 403 => Err(refusal(head.status, bytes)),
        404 => Err(Error::OAuth {
            detail: "the instance has no token endpoint at /oauth_token.do (404)".to_owned(),
        }),
        _ => Err(response::classify(head, bytes, TOKEN_WHAT)
            .err()
            .unwrap_or_else(|| Error::Unexpected {
                reason: format!("the token endpoint answered HTTP {}", head.status),
            })),
    }
}

fn tokens_of(body: &Value) -> Result<OAuthTokens, Error> {
    let text = |key: &str| {
        body.get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
    };
    let Some(access_token) = text("access_token") else {
        return Err(Error::OAuth {
            detail: "the token endpoint answered without an access token".to_owned(),
        });
    };
    let life = match body.get("expires_in") {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    }
    .unwrap_or(DEFAULT_LIFE_SECS);
    Ok(OAuthTokens {
        access_token: Secret::new(access_token.to_owned()),
        refresh_token: text("refresh_token").map(|t| Secret::new(t.to_owned())),
        expires_at: Utc::now() + TimeDelta::seconds(life.max(0)),
    })
}

/// The error of a refused token request; the instance's own codes, never the form sent.
fn refusal(status: u16, bytes: &[u8]) -> Error {
    let body: Value = serde_json::from_slice(bytes).unwrap_or_default();
    let field = |key: &str| body.get(key).and_then(Value::as_str).unwrap_or_default();
    let (code, description) = (field("error"), field("error_description"));
    let detail = match (code, description) {
        ("server_error", "access_denied") => format!(
            "the token endpoint answered {status} server_error (access_denied), the reply \
             ServiceNow gives for every cause (wrong password or client secret, a disabled \
             grant type, a user who must reset the password, a bad scope) without naming it"
        ),
        ("", _) => format!("the token endpoint answered {status} without naming a reason"),
        (code, "") => format!("the token endpoint answered {status} {code}"),
        (code, description) => {
            format!("the token endpoint answered {status} {code} ({description})")
        }
    };
    Error::OAuth { detail }
}

/// Serde for a secret that must be stored (in the credential store only).
mod exposed {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use super::Secret;

    pub fn serialize<S: Serializer>(secret: &Secret, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(secret.expose())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

/// [`exposed`] for an optional secret.
mod exposed_option {
    use serde::{Deserialize as _, Deserializer, Serializer};

    use super::Secret;

    #[expect(
        clippy::ref_option,
        reason = "serde's `with` hands the field over by reference"
    )]
    pub fn serialize<S: Serializer>(
        secret: &Option<Secret>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match secret {
            Some(secret) => serializer.serialize_some(secret.expose()),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Secret>, D::Error> {
        Ok(Option::<String>::deserialize(deserializer)?.map(Secret::new))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPAQUE: &str = include_str!("samples/s10_oauth_failure.json");

    fn head(status: u16) -> Head {
        Head {
            status,
            content_type: "application/json;charset=UTF-8".to_owned(),
            ..Head::default()
        }
    }

    #[test]
    fn the_s10_success_body_gives_tokens_and_an_expiry() {
        let body = br#"{"access_token":"Zk3q9","refresh_token":"pT72w","scope":"useraccount",
            "token_type":"Bearer","expires_in":1799}"#;
        let tokens = token_answer(&head(200), body).unwrap();
        assert_eq!(tokens.access_token.expose(), "Zk3q9");
        assert_eq!(
            tokens.refresh_token.as_ref().map(Secret::expose),
            Some("pT72w")
        );
        let life = tokens.expires_at - Utc::now();
        assert!(life > TimeDelta::seconds(1790) && life <= TimeDelta::seconds(1799));
        assert!(tokens.is_fresh(Utc::now()));
        assert!(!tokens.is_fresh(tokens.expires_at - TimeDelta::seconds(59)));
    }

    #[test]
    fn the_opaque_401_says_the_cause_is_not_given_and_where_to_look() {
        let error = token_answer(&head(401), OPAQUE.as_bytes()).unwrap_err();
        assert_eq!(error.kind(), "oauth");
        let text = error.to_string();
        assert!(text.contains("without naming it"), "{text}");
        assert!(text.contains("System Logs > All"), "{text}");
        assert!(
            text.contains("com.snc.platform.security.oauth.is.active"),
            "{text}"
        );
        assert!(text.contains("Application Registry") && text.contains("Password needs reset"));
    }

    #[test]
    fn other_refusals_keep_the_instance_code() {
        let body = br#"{"error":"unauthorized_client","error_description":"no user"}"#;
        let error = token_answer(&head(401), body).unwrap_err();
        assert!(error.to_string().contains("unauthorized_client (no user)"));
        let error = token_answer(&head(200), br#"{"token_type":"Bearer"}"#).unwrap_err();
        assert!(matches!(error, Error::OAuth { .. }));
        let page = b"<html>Your instance is hibernating</html>";
        let hibernating = Head {
            content_type: "text/html".to_owned(),
            ..head(200)
        };
        assert!(matches!(
            token_answer(&hibernating, page),
            Err(Error::Hibernating)
        ));
    }

    #[test]
    fn tokens_keep_their_text_in_json_but_not_in_debug() {
        let tokens = OAuthTokens {
            access_token: Secret::new("access-1".into()),
            refresh_token: Some(Secret::new("refresh-1".into())),
            expires_at: Utc::now(),
        };
        let debug = format!("{tokens:?} {:?}", MemoryVault::holding(tokens.clone()));
        assert!(
            !debug.contains("access-1") && !debug.contains("refresh-1"),
            "{debug}"
        );
        let json = serde_json::to_string(&tokens).unwrap();
        let back: OAuthTokens = serde_json::from_str(&json).unwrap();
        assert_eq!(back.access_token.expose(), "access-1");
        assert_eq!(back.refresh_token.unwrap().expose(), "refresh-1");
        let without: OAuthTokens =
            serde_json::from_str(r#"{"access_token":"a","expires_at":"2026-01-01T00:00:00Z"}"#)
                .unwrap();
        assert!(without.refresh_token.is_none());
    }

    #[test]
    fn forms_are_url_encoded() {
        assert_eq!(
            form(&[("grant_type", "password"), ("password", "a&b=c d")]),
            "grant_type=password&password=a%26b%3Dc+d"
        );
    }
}
