//! The client: connection setup, signed one-call transport, read retries, and the request log.

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, Url};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::error::Error;
use super::log::{LoggedRequest, RequestLog};
use super::oauth::{OAuth, TokenVault};
use super::progress::{Progress, ProgressSink};
use super::response::{self, Head};
use super::secret::Secret;

/// How many times a read is sent at most.
const MAX_ATTEMPTS: u32 = 3;
/// The longest wait before a read is sent again; a longer `Retry-After` ends the retries.
const MAX_WAIT: Duration = Duration::from_secs(30);
/// The first wait when the instance gave no `Retry-After`; it doubles per attempt.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
/// Rows per page of list reads.
const PAGE_SIZE: u32 = 100;

/// A Table API client for one instance and one user; cheap to clone.
///
/// Clones share the connection, the credentials and the request log; the page size, the
/// progress sink and the cancellation token belong to each clone, so a screen can give every
/// job its own.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    pub(super) page_size: u32,
    progress: Option<ProgressSink>,
    cancel: Option<CancellationToken>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    base_text: String,
    username: String,
    auth: Auth,
    log: RequestLog,
}

/// How calls are signed.
enum Auth {
    /// The prepared `Authorization` value, marked sensitive so it never prints.
    Basic(HeaderValue),
    /// Bearer tokens from the password grant, renewed as needed.
    OAuth(OAuth),
}

impl fmt::Debug for Auth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Basic(_) => f.write_str("basic"),
            Self::OAuth(oauth) => write!(f, "oauth {oauth:?}"),
        }
    }
}

/// One request as sent: method, URL, optional JSON body, and what a 404 would mean.
pub(super) struct Call {
    pub method: Method,
    pub url: Url,
    pub body: Option<Value>,
    pub what: String,
}

impl Call {
    /// The path and query, as logged and kept as evidence.
    pub fn path(&self) -> String {
        match self.url.query() {
            Some(query) => format!("{}?{query}", self.url.path()),
            None => self.url.path().to_owned(),
        }
    }
}

/// A successful answer: its head and JSON body.
pub(super) struct Reply {
    pub head: Head,
    pub body: Value,
}

/// The status of an answer (when one came) and its head and body.
pub(super) type Fetched = (Option<u16>, Result<(Head, Vec<u8>), Error>);

impl Client {
    /// A client with basic auth for `base_url` (e.g. `https://dev1.service-now.com`), with a
    /// per-request timeout.
    #[expect(
        clippy::needless_pass_by_value,
        reason = "callers hand the secret over; only the encoded header is kept"
    )]
    pub fn new(
        base_url: &str,
        username: &str,
        password: Secret,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let auth = Auth::Basic(basic_auth(username, &password)?);
        Self::build(base_url, username, auth, timeout)
    }

    /// A client that signs in through the OAuth password grant at `<base>/oauth_token.do` and
    /// sends `Authorization: Bearer` on every call.
    ///
    /// No request is made here. The first call uses the vault's token when it is still good
    /// for a minute, refreshes it otherwise, and asks for a new grant when there is no
    /// refresh token or the refresh is refused; new tokens go back into the vault. A call
    /// answered 401 gets one new token and is sent once more (a 401 means nothing was
    /// applied, so this holds for writes too).
    pub fn new_oauth(
        base_url: &str,
        username: &str,
        password: Secret,
        client_id: &str,
        client_secret: Secret,
        vault: Arc<dyn TokenVault>,
        timeout: Duration,
    ) -> Result<Self, Error> {
        let oauth = OAuth::new(username, password, client_id, client_secret, vault)?;
        Self::build(base_url, username, Auth::OAuth(oauth), timeout)
    }

    fn build(base_url: &str, username: &str, auth: Auth, timeout: Duration) -> Result<Self, Error> {
        let base = parse_base(base_url)?;
        let http = reqwest::Client::builder()
            .timeout(timeout)
            // A redirect usually leads to a login or portal page; report it instead.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("actionplane/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::Connect {
                reason: format!("cannot set up HTTP: {e}"),
            })?;
        let base_text = base.as_str().trim_end_matches('/').to_owned();
        let inner = Inner {
            http,
            base,
            base_text,
            username: username.to_owned(),
            auth,
            log: RequestLog::default(),
        };
        Ok(Self {
            inner: Arc::new(inner),
            page_size: PAGE_SIZE,
            progress: None,
            cancel: None,
        })
    }

    /// The same client reading lists in pages of `rows` (at least 1).
    #[must_use]
    pub fn with_page_size(mut self, rows: u32) -> Self {
        self.page_size = rows.max(1);
        self
    }

    /// The same client reporting [`Progress`] to `sink`: after each page of a paged read, and
    /// before each wait between read attempts.
    #[must_use]
    pub fn with_progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// The same client stopping its work when `token` is cancelled: a read in flight or
    /// waiting to be sent again ends with [`Error::Cancelled`], and so does a write not yet
    /// sent. A write in flight is never cut off, since it may be applied all the same.
    #[must_use]
    pub fn with_cancel(mut self, token: CancellationToken) -> Self {
        self.cancel = Some(token);
        self
    }

    /// The instance root, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.inner.base_text
    }

    /// The user name the client signs in with.
    pub fn username(&self) -> &str {
        &self.inner.username
    }

    /// The calls made so far, oldest first (the last 200); no secrets in it.
    pub fn request_log(&self) -> Vec<LoggedRequest> {
        self.inner.log.snapshot()
    }

    /// `/api/now/table/<table>[/<sys_id>]` with the given query parameters.
    pub(super) fn table_url(
        &self,
        table: &str,
        sys_id: Option<&str>,
        params: &[(&str, &str)],
    ) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments
                .pop_if_empty()
                .extend(["api", "now", "table", table]);
            segments.extend(sys_id);
        }
        if !params.is_empty() {
            url.query_pairs_mut().extend_pairs(params);
        }
        url
    }

    /// `<base>/<name>`, for endpoints outside the Table API.
    pub(super) fn root_url(&self, name: &str) -> Url {
        let mut url = self.inner.base.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(name);
        }
        url
    }

    pub(super) fn http(&self) -> &reqwest::Client {
        &self.inner.http
    }

    /// Records a finished call in the request log.
    pub(super) fn log_call(&self, method: &str, path: &str, status: Option<u16>, took: Duration) {
        self.inner.log.record(method, path, status, took);
    }

    /// Hands an event to the progress sink, if there is one.
    pub(super) fn report(&self, progress: Progress) {
        if let Some(sink) = &self.progress {
            sink(progress);
        }
    }

    /// A GET, sent again on rate limits, gateway errors and timeouts, unless cancelled.
    pub(super) async fn get(&self, url: Url, what: &str) -> Result<Reply, Error> {
        let call = Call {
            method: Method::GET,
            url,
            body: None,
            what: what.to_owned(),
        };
        let mut attempt = 1;
        loop {
            match self.unless_cancelled(self.send_once(&call)).await {
                Err(error) if attempt < MAX_ATTEMPTS && error.is_retryable_read() => {
                    let Some(wait) = backoff(&error, attempt) else {
                        return Err(error);
                    };
                    attempt += 1;
                    let path = call.path();
                    tracing::warn!(path, kind = error.kind(), ?wait, "retrying read");
                    self.report(Progress::Retrying {
                        what: call.what.clone(),
                        wait,
                        attempt,
                        of: MAX_ATTEMPTS,
                        reason: error.kind(),
                    });
                    self.unless_cancelled(async {
                        tokio::time::sleep(wait).await;
                        Ok(())
                    })
                    .await?;
                }
                outcome => return outcome,
            }
        }
    }

    /// `Err(Cancelled)` once the client's token is cancelled.
    pub(super) fn ensure_not_cancelled(&self) -> Result<(), Error> {
        match &self.cancel {
            Some(token) if token.is_cancelled() => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }

    /// Runs `work` unless the client's token is (or becomes) cancelled first.
    async fn unless_cancelled<T>(
        &self,
        work: impl Future<Output = Result<T, Error>>,
    ) -> Result<T, Error> {
        let Some(token) = &self.cancel else {
            return work.await;
        };
        tokio::select! {
            biased;
            () = token.cancelled() => Err(Error::Cancelled),
            outcome = work => outcome,
        }
    }

    /// Sends one request, logs it, and classifies the answer. With OAuth a 401 gets one new
    /// token and one more send: the instance applied nothing, so even a write may go again.
    pub(super) async fn send_once(&self, call: &Call) -> Result<Reply, Error> {
        let signature = self.authorization().await?;
        let outcome = self.send_signed(call, &signature).await;
        let Auth::OAuth(oauth) = &self.inner.auth else {
            return outcome;
        };
        if !matches!(outcome, Err(Error::Unauthorized { .. })) {
            return outcome;
        }
        tracing::info!(path = call.path(), "bearer token refused; renewing it once");
        let renewed = self.renew(oauth, &signature).await?;
        self.send_signed(call, &renewed).await
    }

    /// The `Authorization` value for the next call.
    async fn authorization(&self) -> Result<HeaderValue, Error> {
        match &self.inner.auth {
            Auth::Basic(value) => Ok(value.clone()),
            Auth::OAuth(oauth) => self.bearer(oauth).await,
        }
    }

    async fn send_signed(&self, call: &Call, signature: &HeaderValue) -> Result<Reply, Error> {
        let started = Instant::now();
        let (status, fetched) = self.exchange(self.request(call, signature)).await;
        self.log_call(
            call.method.as_str(),
            &call.path(),
            status,
            started.elapsed(),
        );
        let (head, bytes) = fetched?;
        let body = response::classify(&head, &bytes, &call.what)?;
        Ok(Reply { head, body })
    }

    /// The raw answer; the status is returned apart so a failed body read is still logged.
    pub(super) async fn exchange(&self, request: reqwest::RequestBuilder) -> Fetched {
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return (None, Err(transport_error(&error, &self.inner.base))),
        };
        let head = head_of(response.headers(), response.status().as_u16());
        let status = Some(head.status);
        match response.bytes().await {
            Ok(bytes) => (status, Ok((head, bytes.to_vec()))),
            Err(error) if error.is_timeout() => (status, Err(Error::Timeout)),
            Err(_) => (
                status,
                Err(Error::NotJson {
                    status: head.status,
                    content_type: head.content_type,
                }),
            ),
        }
    }

    fn request(&self, call: &Call, signature: &HeaderValue) -> reqwest::RequestBuilder {
        let builder = self
            .inner
            .http
            .request(call.method.clone(), call.url.clone())
            .header(header::AUTHORIZATION, signature.clone())
            .header(header::ACCEPT, "application/json");
        match &call.body {
            // serde_json writes compact JSON.
            Some(body) => builder
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.to_string()),
            None => builder,
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_text)
            .field("username", &self.inner.username)
            .field("auth", &self.inner.auth)
            .field("password", &"<redacted>")
            .finish_non_exhaustive()
    }
}

/// The instance root as a URL; `https://` is assumed when no scheme is given.
fn parse_base(text: &str) -> Result<Url, Error> {
    let text = text.trim();
    let with_scheme = if text.contains("://") {
        text.to_owned()
    } else {
        format!("https://{text}")
    };
    // The URL is never echoed: it could hold credentials typed by mistake.
    let bad = |why: &str| Error::Connect {
        reason: format!("the instance URL {why}"),
    };
    let url = Url::parse(&with_scheme).map_err(|e| bad(&format!("is not valid ({e})")))?;
    if !matches!(url.scheme(), "https" | "http") {
        return Err(bad(
            "must start with https:// (or http:// for a local sandbox)",
        ));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host name"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad(
            "must not contain a user or password; enter them separately",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad(
            "must be the instance root, without ?query or #fragment",
        ));
    }
    Ok(url)
}

/// `Basic base64(user:password)`, marked sensitive.
fn basic_auth(username: &str, password: &Secret) -> Result<HeaderValue, Error> {
    if username.is_empty() || username.contains(':') {
        return Err(Error::BadRequest {
            message: "the user name must be set and must not contain ':'".to_owned(),
        });
    }
    let token = base64::engine::general_purpose::STANDARD
        .encode(format!("{username}:{}", password.expose()));
    let mut value =
        HeaderValue::from_str(&format!("Basic {token}")).map_err(|_| Error::BadRequest {
            message: "the credentials cannot be sent in a header".to_owned(),
        })?;
    value.set_sensitive(true);
    Ok(value)
}

/// The head fields that decide how an answer is read.
fn head_of(headers: &HeaderMap, status: u16) -> Head {
    let text = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    Head {
        status,
        content_type: text("content-type").unwrap_or_default().to_owned(),
        retry_after: text("retry-after").and_then(response::retry_after_seconds),
        mfa: text("x-mfa_token").is_some_and(|v| v.eq_ignore_ascii_case("invalid")),
        total_count: text("x-total-count").and_then(|v| v.parse().ok()),
    }
}

/// The wait before the next attempt, or `None` when the instance asks for longer than we wait.
fn backoff(error: &Error, attempt: u32) -> Option<Duration> {
    if let Error::RateLimited {
        retry_after: Some(seconds),
    } = error
    {
        let wait = Duration::from_secs(*seconds);
        return (wait <= MAX_WAIT).then_some(wait);
    }
    Some((FIRST_BACKOFF * 2u32.saturating_pow(attempt - 1)).min(MAX_WAIT))
}

/// A failure before any answer, in words: timeout, name resolution, refusal, TLS.
fn transport_error(error: &reqwest::Error, base: &Url) -> Error {
    if error.is_timeout() {
        return Error::Timeout;
    }
    let host = base.host_str().unwrap_or("the instance");
    let port = base.port_or_known_default().unwrap_or(443);
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    let mut innermost = error.to_string();
    while let Some(current) = source {
        if let Some(reason) = known_cause(current, host, port) {
            return reason;
        }
        innermost = current.to_string();
        source = current.source();
    }
    Error::Connect { reason: innermost }
}

fn known_cause(error: &(dyn std::error::Error + 'static), host: &str, port: u16) -> Option<Error> {
    let connect = |reason: String| Some(Error::Connect { reason });
    if let Some(io) = error.downcast_ref::<std::io::Error>() {
        match io.kind() {
            std::io::ErrorKind::ConnectionRefused => {
                return connect(format!("connection refused by {host}:{port}"));
            }
            std::io::ErrorKind::TimedOut => return Some(Error::Timeout),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted => {
                return connect(format!("the connection to {host} was closed"));
            }
            _ => {}
        }
    }
    let text = error.to_string().to_ascii_lowercase();
    if text.contains("dns error") || text.contains("failed to lookup address") {
        return connect(format!("cannot resolve {host}"));
    }
    if text.contains("certificate") || text.contains("handshake") || text.contains("tls") {
        return connect(format!("the TLS handshake with {host} failed ({error})"));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Result<Client, Error> {
        Client::new(
            base,
            "svc",
            Secret::new("pw".into()),
            Duration::from_secs(5),
        )
    }

    #[test]
    fn base_urls_are_normalised_and_credentials_refused() {
        assert_eq!(
            client("dev1.service-now.com/").unwrap().base_url(),
            "https://dev1.service-now.com"
        );
        assert_eq!(
            client("http://127.0.0.1:8080").unwrap().base_url(),
            "http://127.0.0.1:8080"
        );
        let error = client("https://svc:hunter2@dev1.service-now.com").unwrap_err();
        assert!(matches!(error, Error::Connect { .. }));
        assert!(!error.to_string().contains("hunter2"));
        assert!(client("ftp://dev1.service-now.com").is_err());
        assert!(client("https://dev1.service-now.com/?x=1").is_err());
    }

    #[test]
    fn table_urls_keep_a_path_prefix_and_encode_the_query() {
        let client = client("https://proxy.example/sn/").unwrap();
        let url = client.table_url(
            "incident",
            Some("abc"),
            &[("sysparm_query", "number=INC1^active=true")],
        );
        assert_eq!(url.path(), "/sn/api/now/table/incident/abc");
        assert_eq!(
            url.query(),
            Some("sysparm_query=number%3DINC1%5Eactive%3Dtrue")
        );
    }

    #[test]
    fn the_password_stays_out_of_debug_output() {
        let client = Client::new(
            "dev1.service-now.com",
            "svc",
            Secret::new("hunter2".into()),
            Duration::from_secs(1),
        )
        .unwrap();
        let debug = format!("{client:?}");
        assert!(debug.contains("svc") && !debug.contains("hunter2"));
        let Auth::Basic(header) = &client.inner.auth else {
            panic!("basic auth expected")
        };
        assert!(!format!("{header:?}").contains("Basic"));
    }

    #[test]
    fn backoff_honours_retry_after_up_to_the_cap() {
        assert_eq!(
            backoff(
                &Error::RateLimited {
                    retry_after: Some(1)
                },
                1
            ),
            Some(Duration::from_secs(1))
        );
        assert_eq!(
            backoff(
                &Error::RateLimited {
                    retry_after: Some(1312)
                },
                1
            ),
            None
        );
        assert_eq!(
            backoff(&Error::Timeout, 2),
            Some(Duration::from_millis(500))
        );
    }
}
