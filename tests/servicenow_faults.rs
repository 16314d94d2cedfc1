//! The Table API client against loopback mock servers: faults, retries, paging, evidence.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actionplane::servicenow::{Client, Error, Progress, ProgressSink, Secret};
use axum::Router;
use axum::body::Body;
use axum::extract::{Path, Query, Request};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::get;
use base64::Engine as _;
use rstest::rstest;
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

const JSON: &str = "application/json;charset=UTF-8";
const SYS_ID: &str = "3f1c2a9e47d0211004f2c8b2736d43a1";
const PASSWORD: &str = "s3cret-pw";

type Headers = &'static [(&'static str, &'static str)];
const NO_HEADERS: Headers = &[];
const MFA: Headers = &[("X-MFA_TOKEN", "invalid")];
const RETRY_1: Headers = &[("Retry-After", "1")];
const RETRY_25: Headers = &[("Retry-After", "25")];

// Bodies in the shapes of CONTRACT.md section 6, shared with the unit tests of `wire`.
const S5: &str = include_str!("../src/servicenow/samples/s5_unauthorized.json");
const S6: &str = include_str!("../src/servicenow/samples/s6_acl.json");
const S7: &str = include_str!("../src/servicenow/samples/s7_data_policy.json");
const S8: &str = include_str!("../src/servicenow/samples/s8_business_rule.json");
const S9: &str = include_str!("../src/servicenow/samples/s9_rate_limited.json");
const S5_OLD: &str = r#"{"error":{"message":"User Not Authenticated",
    "detail":"Required to provide Auth information"},"status":"failure"}"#;
const NO_RIGHTS: &str = r#"{"error":{"message":"Insufficient rights to query records",
    "detail":"Field(s) present in the query do not have permission to be read"},
    "status":"failure"}"#;
const NOT_FOUND: &str = r#"{"error":{"message":"No Record found",
    "detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#;
const BUSY: &str = r#"{"error":{"message":"Too Many Requests","detail":null},"status":"failure"}"#;
const BROKEN: &str = r#"{"error":{"message":"Unexpected error","detail":""},"status":"failure"}"#;
const UNAVAILABLE: &str = r#"{"error":{"message":"Service Unavailable","detail":null}}"#;
const BAD_TABLE: &str =
    r#"{"error":{"message":"Invalid table foo","detail":null},"status":"failure"}"#;
const TRUNCATED: &str = r#"{"result":{"sys_id":{"display_value":"3f1c"#;

const HIBERNATION_PAGE: &str = "<html><head><title>ServiceNow Developers</title></head><body>\
    <div class=\"instance-hibernating-page\"><h1>Your instance is hibernating</h1>\
    <p>Sign in to the site to wake your instance</p>\
    <a href=\"https://developer.servicenow.com/dev.do#!/home?wu=true\">Wake</a></div>\
    </body></html>";

/// Serves `router` on a fresh loopback port and returns its base URL.
async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind loopback");
    let addr = listener.local_addr().expect("local addr");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

fn client(base: &str) -> Client {
    client_with_timeout(base, Duration::from_secs(5))
}

fn client_with_timeout(base: &str, timeout: Duration) -> Client {
    Client::new(
        base,
        "svc.ticketing",
        Secret::new(PASSWORD.to_owned()),
        timeout,
    )
    .expect("client")
}

fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
    let mut builder = Response::builder().status(status);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder.body(Body::from(body.to_owned())).expect("response")
}

/// A JSON answer with `X-Total-Count` set to the number of rows.
fn list(rows: &Value) -> Response {
    let total = rows.as_array().map_or(0, Vec::len).to_string();
    let body = json!({ "result": rows }).to_string();
    response(
        200,
        &[("content-type", JSON), ("X-Total-Count", &total)],
        &body,
    )
}

/// A server giving the same answer to every request; the counter counts requests.
async fn canned(status: u16, headers: &[(&str, &str)], body: &str) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let headers: Vec<(String, String)> = headers
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    let body = body.to_owned();
    let router = Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        let headers: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let answer = response(status, &headers, &body);
        async move { answer }
    });
    (serve(router).await, count)
}

/// A server that fails with the given statuses in turn, then answers 200 with a record.
async fn scripted(failures: Vec<(u16, Headers)>) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let router = Router::new().fallback(move || {
        let n = seen.fetch_add(1, Ordering::SeqCst);
        let answer = match failures.get(n) {
            Some((status, headers)) => {
                let mut headers = headers.to_vec();
                headers.push(("content-type", JSON));
                response(*status, &headers, BUSY)
            }
            None => response(200, &[("content-type", JSON)], &record_body()),
        };
        async move { answer }
    });
    (serve(router).await, count)
}

fn record_body() -> String {
    json!({"result": {
        "sys_id": {"display_value": SYS_ID, "value": SYS_ID},
        "number": {"display_value": "INC0010031", "value": "INC0010031"},
        "state": {"display_value": "Resolved", "value": "6"},
        "sys_mod_count": {"display_value": "4", "value": "4"}
    }})
    .to_string()
}

fn writes() -> Vec<(String, String)> {
    vec![
        ("state".to_owned(), "7".to_owned()),
        ("work_notes".to_owned(), "Closed.".to_owned()),
    ]
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Read,
    Patch,
}

async fn run(op: Op, client: &Client) -> Error {
    match op {
        Op::Read => client.read("incident", SYS_ID).await.expect_err("a fault"),
        Op::Patch => client
            .patch("incident", SYS_ID, &writes())
            .await
            .expect_err("a fault"),
    }
}

#[rstest]
#[case::unauthorized(Op::Read, 401, NO_HEADERS, S5, "unauthorized", "check the user name")]
#[case::unauthorized_old_text(Op::Read, 401, NO_HEADERS, S5_OLD, "unauthorized", "password")]
#[case::unauthorized_mfa(Op::Read, 401, MFA, S5, "unauthorized", "MFA one-time password")]
#[case::acl(
    Op::Patch,
    403,
    NO_HEADERS,
    S6,
    "acl-denied",
    "grant the integration user"
)]
#[case::data_policy(
    Op::Patch,
    403,
    NO_HEADERS,
    S7,
    "data-policy",
    "Resolution notes: set them"
)]
#[case::business_rule(
    Op::Patch,
    403,
    NO_HEADERS,
    S8,
    "business-rule",
    "'Block close without CI'"
)]
#[case::no_rights(
    Op::Read,
    403,
    NO_HEADERS,
    NO_RIGHTS,
    "forbidden",
    "give the integration user"
)]
#[case::not_found(
    Op::Read,
    404,
    NO_HEADERS,
    NOT_FOUND,
    "not-found",
    "check the number or sys_id"
)]
#[case::rate_limited(
    Op::Patch,
    429,
    RETRY_1,
    S9,
    "rate-limited",
    "wait 1 s before trying again"
)]
#[case::rate_limited_bare(Op::Patch, 429, NO_HEADERS, BUSY, "rate-limited", "wait a minute")]
#[case::server_error(Op::Read, 500, NO_HEADERS, BROKEN, "server", "try again later")]
#[case::bad_request(
    Op::Read,
    400,
    NO_HEADERS,
    BAD_TABLE,
    "bad-request",
    "Invalid table foo: check"
)]
#[case::truncated(
    Op::Read,
    200,
    NO_HEADERS,
    TRUNCATED,
    "not-json",
    "check that the instance URL"
)]
#[tokio::test]
async fn each_fault_gives_its_error_and_a_next_step(
    #[case] op: Op,
    #[case] status: u16,
    #[case] headers: Headers,
    #[case] body: &str,
    #[case] kind: &str,
    #[case] hint: &str,
) {
    let mut headers = headers.to_vec();
    headers.push(("content-type", JSON));
    let (base, count) = canned(status, &headers, body).await;
    let error = run(op, &client(&base)).await;
    assert_eq!(error.kind(), kind, "{error:?}");
    let message = error.to_string();
    assert!(message.contains(hint), "{message}");
    assert!(!message.contains(PASSWORD));
    // None of these faults is worth sending again.
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn typed_errors_carry_the_parsed_details() {
    let mfa = [("content-type", JSON), MFA[0]];
    let (base, _) = canned(401, &mfa, S5).await;
    let error = run(Op::Read, &client(&base)).await;
    assert!(matches!(error, Error::Unauthorized { mfa: true }));

    let (base, _) = canned(403, &[("content-type", JSON)], S7).await;
    let Error::DataPolicy { fields } = run(Op::Patch, &client(&base)).await else {
        panic!("a data policy error");
    };
    assert_eq!(fields, ["Resolution code", "Resolution notes"]);

    let (base, _) = canned(403, &[("content-type", JSON)], S8).await;
    let error = run(Op::Patch, &client(&base)).await;
    assert!(matches!(&error, Error::BusinessRule { rule } if rule == "Block close without CI"));

    let (base, _) = canned(429, &[("content-type", JSON), RETRY_1[0]], S9).await;
    let error = run(Op::Patch, &client(&base)).await;
    assert!(matches!(
        error,
        Error::RateLimited {
            retry_after: Some(1)
        }
    ));
}

#[tokio::test]
async fn the_hibernation_page_says_to_wake_the_instance() {
    let html = [("content-type", "text/html;charset=UTF-8")];
    let (base, _) = canned(200, &html, HIBERNATION_PAGE).await;
    let error = run(Op::Read, &client(&base)).await;
    assert!(matches!(error, Error::Hibernating));
    let message = error.to_string();
    assert!(message.starts_with("instance is hibernating: wake it from the developer portal"));
}

#[tokio::test]
async fn an_html_page_that_is_not_hibernation_is_not_json() {
    let (base, _) = canned(
        404,
        &[("content-type", "text/html")],
        "<html>Not here</html>",
    )
    .await;
    let error = run(Op::Read, &client(&base)).await;
    assert!(
        matches!(error, Error::NotJson { status: 404, .. }),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_patch_that_gets_503_is_sent_exactly_once() {
    let (base, count) = canned(503, &[("content-type", JSON)], UNAVAILABLE).await;
    let error = run(Op::Patch, &client(&base)).await;
    assert!(matches!(error, Error::Server { status: 503, .. }));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_read_retries_after_429_with_retry_after() {
    let (base, count) = scripted(vec![(429, RETRY_1)]).await;
    let client = client(&base);
    let record = client
        .read("incident", SYS_ID)
        .await
        .expect("read after the retry");
    assert_eq!(record.value("state"), "6");
    assert_eq!(count.load(Ordering::SeqCst), 2);
    let statuses: Vec<Option<u16>> = client.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(429), Some(200)]);
}

#[tokio::test]
async fn a_read_retries_after_503_and_gives_up_after_three_attempts() {
    let (base, count) = scripted(vec![(503, NO_HEADERS)]).await;
    client(&base)
        .read("incident", SYS_ID)
        .await
        .expect("read after the retry");
    assert_eq!(count.load(Ordering::SeqCst), 2);

    let (base, count) = canned(429, &[("content-type", JSON)], BUSY).await;
    let error = run(Op::Read, &client(&base)).await;
    assert!(matches!(error, Error::RateLimited { retry_after: None }));
    assert_eq!(count.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_retry_after_beyond_the_cap_is_reported_at_once() {
    let (base, count) = canned(429, &[("content-type", JSON), ("Retry-After", "1312")], S9).await;
    let error = run(Op::Read, &client(&base)).await;
    assert!(error.to_string().contains("wait 1312 s"));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

/// A server that counts requests and then never answers in time.
async fn slow() -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let router = Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            response(200, &[("content-type", JSON)], &record_body())
        }
    });
    (serve(router).await, count)
}

#[tokio::test]
async fn timeouts_are_retried_for_reads_but_not_for_writes() {
    let (base, count) = slow().await;
    let client = client_with_timeout(&base, Duration::from_millis(200));
    let error = run(Op::Read, &client).await;
    assert!(matches!(error, Error::Timeout));
    assert!(error.to_string().contains("the record is read again"));
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert!(client.request_log().iter().all(|r| r.status.is_none()));

    let (base, count) = slow().await;
    let client = client_with_timeout(&base, Duration::from_millis(200));
    assert!(matches!(run(Op::Patch, &client).await, Error::Timeout));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_closed_port_is_a_connect_error_in_words() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let error = run(Op::Read, &client(&format!("http://127.0.0.1:{port}"))).await;
    let Error::Connect { reason } = &error else {
        panic!("a connect error, got {error:?}")
    };
    assert_eq!(reason, &format!("connection refused by 127.0.0.1:{port}"));
    assert!(error.to_string().contains("check the instance URL"));
}

/// Five journal rows, newest first.
fn journal_rows() -> Vec<Value> {
    (0..5)
        .map(|i| {
            json!({
                "sys_id": format!("j{i}"), "element": "work_notes", "element_id": SYS_ID,
                "name": "incident", "value": format!("note {i}"),
                "sys_created_on": format!("2026-05-04 10:00:0{}", 9 - i),
                "sys_created_by": "svc.ticketing"
            })
        })
        .collect()
}

type Queries = Arc<Mutex<Vec<HashMap<String, String>>>>;

/// A journal server; it honours `sysparm_offset` unless `ignore_offset`.
async fn journal_server(ignore_offset: bool) -> (String, Queries) {
    let queries = Queries::default();
    let seen = queries.clone();
    let handler = move |Query(query): Query<HashMap<String, String>>| {
        seen.lock().expect("lock").push(query.clone());
        let number = |key: &str| query.get(key).and_then(|v| v.parse::<usize>().ok());
        let limit = number("sysparm_limit").unwrap_or(10_000);
        let offset = if ignore_offset {
            0
        } else {
            number("sysparm_offset").unwrap_or(0)
        };
        let page: Vec<Value> = journal_rows()
            .into_iter()
            .skip(offset)
            .take(limit)
            .collect();
        let body = json!({ "result": page }).to_string();
        async move {
            response(
                200,
                &[("content-type", JSON), ("X-Total-Count", "5")],
                &body,
            )
        }
    };
    let router = Router::new().route("/api/now/table/sys_journal_field", get(handler));
    (serve(router).await, queries)
}

#[tokio::test]
async fn paging_follows_x_total_count() {
    let (base, queries) = journal_server(false).await;
    let client = client(&base).with_page_size(2);
    let entries = client
        .journal("incident", SYS_ID, "work_notes")
        .await
        .expect("journal");
    let values: Vec<&str> = entries.iter().map(|e| e.value.as_str()).collect();
    assert_eq!(values, ["note 0", "note 1", "note 2", "note 3", "note 4"]);
    assert_eq!(entries[0].created_on, "2026-05-04 10:00:09");

    let queries = queries.lock().expect("lock");
    let offsets: Vec<&str> = queries
        .iter()
        .map(|q| q["sysparm_offset"].as_str())
        .collect();
    assert_eq!(offsets, ["0", "2", "4"]);
    assert!(queries.iter().all(|q| q["sysparm_limit"] == "2"));
    let expected =
        format!("element_id={SYS_ID}^element=work_notes^ORDERBYDESCsys_created_on^ORDERBYsys_id");
    assert_eq!(queries[0]["sysparm_query"], expected);
}

#[tokio::test]
async fn paging_refuses_a_repeated_page() {
    let (base, queries) = journal_server(true).await;
    let client = client(&base).with_page_size(2);
    let error = client
        .journal("incident", SYS_ID, "work_notes")
        .await
        .expect_err("a repeat");
    assert_eq!(error.kind(), "unexpected");
    assert!(
        error.to_string().contains("repeats rows already read"),
        "{error}"
    );
    assert_eq!(queries.lock().expect("lock").len(), 2);
}

/// A progress sink that keeps every event, in order.
fn recorder() -> (ProgressSink, Arc<Mutex<Vec<Progress>>>) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let kept = events.clone();
    let sink: ProgressSink = Arc::new(move |event| kept.lock().expect("lock").push(event));
    (sink, events)
}

fn lines(events: &Mutex<Vec<Progress>>) -> Vec<String> {
    let events = events.lock().expect("lock");
    events.iter().map(ToString::to_string).collect()
}

#[tokio::test]
async fn each_page_reports_the_rows_loaded_of_the_total() {
    let (base, _) = journal_server(false).await;
    let (sink, events) = recorder();
    let client = client(&base).with_page_size(2).with_progress(sink);
    client
        .journal("incident", SYS_ID, "work_notes")
        .await
        .expect("journal");
    assert_eq!(
        lines(&events),
        [
            "loaded 2 of 5 work_notes entries",
            "loaded 4 of 5 work_notes entries",
            "loaded 5 of 5 work_notes entries",
        ]
    );
}

#[tokio::test]
async fn a_retry_wait_is_announced_before_it_starts() {
    let (base, _) = scripted(vec![(429, RETRY_1)]).await;
    let (sink, events) = recorder();
    client(&base)
        .with_progress(sink)
        .read("incident", SYS_ID)
        .await
        .expect("read after the retry");
    let what = format!("the incident record {SYS_ID}");
    assert_eq!(
        *events.lock().expect("lock"),
        [Progress::Retrying {
            what: what.clone(),
            wait: Duration::from_secs(1),
            attempt: 2,
            of: 3,
            reason: "rate-limited",
        }]
    );
    assert_eq!(
        lines(&events),
        [format!("retrying {what} in 1 s (attempt 2 of 3)")]
    );
}

#[tokio::test]
async fn cancelling_a_retry_wait_ends_the_read_at_once() {
    let (base, count) = scripted(vec![(429, RETRY_25)]).await;
    let token = CancellationToken::new();
    let cancel = token.clone();
    // The operator presses cancel as soon as the countdown shows.
    let sink: ProgressSink = Arc::new(move |event| {
        if matches!(event, Progress::Retrying { .. }) {
            cancel.cancel();
        }
    });
    let error = client(&base)
        .with_progress(sink)
        .with_cancel(token)
        .read("incident", SYS_ID)
        .await
        .expect_err("cancelled");
    assert!(matches!(error, Error::Cancelled), "{error:?}");
    assert_eq!(error.kind(), "cancelled");
    let text = error.to_string();
    assert!(text.contains("cancelled by the operator") && text.contains("nothing was written"));
    assert_eq!(count.load(Ordering::SeqCst), 1, "no second attempt");
}

/// Answers with a record, cancelling `token` as each request arrives (the operator pressing
/// cancel while the call is on the wire).
async fn cancelling_server(token: CancellationToken) -> (String, Arc<AtomicUsize>) {
    let count = Arc::new(AtomicUsize::new(0));
    let seen = count.clone();
    let router = Router::new().fallback(move || {
        seen.fetch_add(1, Ordering::SeqCst);
        token.cancel();
        async { response(200, &[("content-type", JSON)], &record_body()) }
    });
    (serve(router).await, count)
}

#[tokio::test]
async fn cancelling_cuts_off_a_read_in_flight_but_never_a_write() {
    let token = CancellationToken::new();
    let (base, count) = cancelling_server(token.clone()).await;
    let reader = client(&base).with_cancel(token);
    let error = reader
        .read("incident", SYS_ID)
        .await
        .expect_err("cancelled");
    assert!(matches!(error, Error::Cancelled), "{error:?}");
    assert_eq!(count.load(Ordering::SeqCst), 1);

    let token = CancellationToken::new();
    let (base, count) = cancelling_server(token.clone()).await;
    let writer = client(&base).with_cancel(token.clone());
    let exchange = writer
        .patch("incident", SYS_ID, &writes())
        .await
        .expect("the write in flight completes");
    assert_eq!(exchange.status, 200);

    // Once cancelled, neither a read nor a write leaves the machine.
    assert!(token.is_cancelled());
    let error = writer
        .patch("incident", SYS_ID, &writes())
        .await
        .expect_err("cancelled");
    assert!(matches!(error, Error::Cancelled));
    assert!(matches!(
        writer.read("incident", SYS_ID).await,
        Err(Error::Cancelled)
    ));
    assert_eq!(count.load(Ordering::SeqCst), 1);
}

/// A server whose incident list holds `matches` rows for any number.
async fn numbers(matches: usize) -> String {
    let handler = move |Query(query): Query<HashMap<String, String>>| {
        let limit: usize = query["sysparm_limit"].parse().expect("an explicit limit");
        let rows: Vec<Value> = (0..matches.min(limit))
            .map(|i| {
                let id = format!("id{i}");
                json!({"sys_id": {"display_value": id, "value": id},
                       "number": {"display_value": "INC0010031", "value": "INC0010031"}})
            })
            .collect();
        let total = matches.to_string();
        let body = json!({ "result": rows }).to_string();
        async move {
            response(
                200,
                &[("content-type", JSON), ("X-Total-Count", &total)],
                &body,
            )
        }
    };
    serve(Router::new().route("/api/now/table/incident", get(handler))).await
}

#[tokio::test]
async fn find_by_number_needs_exactly_one_match() {
    let one = client(&numbers(1).await);
    assert_eq!(
        one.find_by_number("incident", "INC0010031")
            .await
            .expect("one")
            .sys_id(),
        "id0"
    );

    let many = client(&numbers(3).await);
    let error = many
        .find_by_number("incident", "INC0010031")
        .await
        .expect_err("ambiguous");
    assert!(matches!(&error, Error::Ambiguous { number, count: 3 } if number == "INC0010031"));
    assert!(error.to_string().contains("by its sys_id"));

    let none = client(&numbers(0).await);
    let error = none
        .find_by_number("incident", "INC0010031")
        .await
        .expect_err("missing");
    assert!(matches!(error, Error::NotFound { .. }));
}

/// What the recording server saw: headers, path with query, and body of each request.
type Seen = Arc<Mutex<Vec<(HeaderMap, String, String)>>>;

/// Answers list reads with one user-like row and everything else with a record.
async fn recording_server() -> (String, Seen) {
    let seen = Seen::default();
    let sink = seen.clone();
    let router = Router::new().fallback(move |request: Request| {
        let sink = sink.clone();
        async move {
            let (parts, body) = request.into_parts();
            let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
            let text = String::from_utf8(bytes.to_vec()).expect("utf-8");
            // `/api/now/table/<table>` without a sys_id is a list read.
            let is_list = parts.method == Method::GET && parts.uri.path().matches('/').count() == 4;
            sink.lock()
                .expect("lock")
                .push((parts.headers, parts.uri.to_string(), text));
            if is_list {
                list(&json!([{"sys_id": SYS_ID, "user_name": "svc.ticketing", "name": "Svc"}]))
            } else {
                response(200, &[("content-type", JSON)], &record_body())
            }
        }
    });
    (serve(router).await, seen)
}

#[tokio::test]
async fn a_patch_sends_basic_auth_and_compact_json_and_keeps_evidence_without_secrets() {
    let (base, seen) = recording_server().await;
    let client = client(&base);
    let exchange = client
        .patch("incident", SYS_ID, &writes())
        .await
        .expect("patch");
    let expected_body = json!({"state": "7", "work_notes": "Closed."});

    let seen = seen.lock().expect("lock");
    let (headers, uri, body) = &seen[0];
    let token =
        base64::engine::general_purpose::STANDARD.encode(format!("svc.ticketing:{PASSWORD}"));
    assert_eq!(headers["authorization"], format!("Basic {token}").as_str());
    assert_eq!(headers["accept"], "application/json");
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers.get("cookie").is_none());
    assert_eq!(
        serde_json::from_str::<Value>(body).expect("json"),
        expected_body
    );
    assert!(!body.contains(": "), "compact JSON: {body}");
    assert_eq!(&exchange.path, uri);

    assert_eq!((exchange.method.as_str(), exchange.status), ("PATCH", 200));
    assert_eq!(exchange.request, expected_body);
    assert_eq!(
        (
            exchange.record.value("state"),
            exchange.record.display("state")
        ),
        ("6", "Resolved")
    );
    let evidence = serde_json::to_string(&exchange).expect("serialise");
    let log = format!("{:?}", client.request_log());
    for text in [evidence, log] {
        assert!(!text.contains(PASSWORD) && !text.contains(&token));
    }
    assert_eq!(client.request_log()[0].method, "PATCH");
}

#[tokio::test]
async fn every_read_sends_an_explicit_limit() {
    let (base, seen) = recording_server().await;
    let client = client(&base);
    client
        .find_by_number("incident", "INC0010031")
        .await
        .expect("find");
    client.read("incident", SYS_ID).await.expect("read");
    client
        .journal("incident", SYS_ID, "work_notes")
        .await
        .expect("journal");
    client.validate().await.expect("validate");
    let seen = seen.lock().expect("lock");
    assert_eq!(seen.len(), 6);
    assert!(
        seen.iter()
            .all(|(_, uri, _)| uri.contains("sysparm_limit=")),
        "{seen:?}"
    );
}

fn dictionary_row(id: &str, table: &str, element: &str, label: &str, kind: &str) -> Value {
    json!({
        "sys_id": id, "name": table, "element": element, "column_label": label,
        "internal_type": {"link": "https://x/api/now/table/sys_glide_object?name=t", "value": kind},
        "max_length": "40", "mandatory": "false", "read_only": "false", "active": "true",
        "reference": ""
    })
}

fn choice_row(id: &str, table: &str, element: &str, value: &str, sequence: &str) -> Value {
    json!({
        "sys_id": id, "name": table, "element": element, "value": value, "label": value,
        "sequence": sequence, "inactive": "false", "language": "en"
    })
}

fn override_row(id: &str, element: &str, flags: &[(&str, &str)]) -> Value {
    let mut row = json!({
        "sys_id": id, "name": "incident", "base_table": "task", "element": element,
        "mandatory": "false", "mandatory_override": "false",
        "read_only": "false", "read_only_override": "false"
    });
    for (flag, value) in flags {
        row[*flag] = json!(value);
    }
    row
}

/// Metadata rows in the shapes of S3/S4, with a parent `close_code` the child overrides, and
/// dictionary overrides on incident.
fn metadata_rows(table: &str, query: &str) -> Value {
    match (table, query) {
        ("sys_db_object", "name=incident") => {
            json!([{"name": "incident", "super_class": "t1", "super_class.name": "task"}])
        }
        ("sys_db_object", _) => json!([{"name": "task", "super_class": ""}]),
        ("sys_dictionary", _) => json!([
            dictionary_row("d1", "task", "state", "State", "integer"),
            dictionary_row("d2", "task", "work_notes", "Work notes", "journal_input"),
            dictionary_row("d3", "incident", "close_code", "Resolution code", "string"),
            dictionary_row("d4", "task", "close_code", "Close code", "string"),
        ]),
        ("sys_dictionary_override", _) => json!([
            override_row(
                "o1",
                "state",
                &[("mandatory", "true"), ("mandatory_override", "true")]
            ),
            // A flag left set after its override was switched off does not count.
            override_row("o2", "work_notes", &[("read_only", "true")]),
        ]),
        _ => json!([
            choice_row("c1", "task", "state", "1", "1"),
            choice_row("c2", "task", "state", "7", "7"),
            choice_row("c3", "incident", "close_code", "Solution provided", "80"),
            choice_row("c4", "incident", "close_code", "Duplicate", "10"),
            choice_row("c5", "task", "close_code", "Solved (Permanently)", "1"),
        ]),
    }
}

/// A metadata server that records `(table, sysparm_query)` of each call; its override table
/// answers 403 unless `overrides_readable`.
async fn metadata_server(overrides_readable: bool) -> (String, Arc<Mutex<Vec<(String, String)>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = seen.clone();
    let handler = move |Path(table): Path<String>, Query(query): Query<HashMap<String, String>>| {
        let filter = query["sysparm_query"].clone();
        sink.lock()
            .expect("lock")
            .push((table.clone(), filter.clone()));
        async move {
            if table == "sys_dictionary_override" && !overrides_readable {
                return response(403, &[("content-type", JSON)], NO_RIGHTS);
            }
            list(&metadata_rows(&table, &filter))
        }
    };
    let router = Router::new().route("/api/now/table/{table}", get(handler));
    (serve(router).await, seen)
}

fn synced_fields() -> Vec<String> {
    ["state", "close_code", "work_notes", "u_missing"]
        .map(str::to_owned)
        .to_vec()
}

#[tokio::test]
async fn sync_metadata_walks_the_hierarchy_and_the_child_wins() {
    let (base, seen) = metadata_server(true).await;
    let (sink, events) = recorder();
    let metadata = client(&base)
        .with_progress(sink)
        .sync_metadata("incident", &synced_fields())
        .await
        .expect("sync");
    assert_eq!(metadata.hierarchy, ["incident", "task"]);
    assert_eq!(metadata.missing, ["u_missing"]);

    let close_code = metadata.field("close_code").expect("close_code");
    assert_eq!(close_code.entry.defined_on, "incident");
    assert_eq!(close_code.entry.label, "Resolution code");
    let values: Vec<&str> = close_code
        .choices
        .iter()
        .map(|c| c.value.as_str())
        .collect();
    assert_eq!(values, ["Duplicate", "Solution provided"]);

    let state = metadata.field("state").expect("state");
    assert_eq!(state.entry.defined_on, "task");
    assert_eq!(state.choice_label("7"), Some("7"));
    let work_notes = &metadata.field("work_notes").expect("work_notes").entry;
    assert!(work_notes.is_journal());
    assert_eq!(metadata.synced_at.len(), "2026-05-04 09:12:44".len());

    // Overrides are read for the inherited fields on the child table only.
    assert!(
        state.entry.mandatory,
        "incident's override makes state mandatory"
    );
    assert!(
        !work_notes.read_only,
        "a flag without its override switch is ignored"
    );
    let seen = seen.lock().expect("lock");
    let (_, filter) = seen
        .iter()
        .find(|(table, _)| table == "sys_dictionary_override")
        .expect("overrides read");
    assert_eq!(
        filter,
        "name=incident^elementINstate,work_notes^ORDERBYsys_id"
    );
    assert_eq!(
        lines(&events),
        [
            "loaded 4 of 4 dictionary entries of incident, task",
            "loaded 2 of 2 dictionary overrides of incident",
            "loaded 5 of 5 choices of incident, task",
        ]
    );
}

#[tokio::test]
async fn an_unreadable_override_table_does_not_fail_the_sync() {
    let (base, _) = metadata_server(false).await;
    let metadata = client(&base)
        .sync_metadata("incident", &synced_fields())
        .await
        .expect("sync despite the 403");
    let state = metadata.field("state").expect("state");
    assert!(!state.entry.mandatory, "the dictionary's own flag stays");
    assert_eq!(metadata.fields.len(), 3);
}

#[tokio::test]
async fn validate_reports_user_roles_and_an_unreadable_build() {
    let handler = |Path(table): Path<String>| async move {
        let rows = match table.as_str() {
            "sys_user" => json!([{
                "sys_id": "u1", "user_name": "svc.ticketing", "name": "Ticketing Service",
                "active": "true", "locked_out": "false", "web_service_access_only": "true"
            }]),
            "sys_user_has_role" => json!([
                {"sys_id": "r1", "role.name": "itil_admin", "inherited": "false"},
                {"sys_id": "r2", "role.name": "itil", "inherited": "false"},
                {"sys_id": "r3", "role.name": "itil", "inherited": "true"}
            ]),
            _ => json!([]),
        };
        list(&rows)
    };
    let base = serve(Router::new().route("/api/now/table/{table}", get(handler))).await;
    let report = client(&base).validate().await.expect("validate");
    assert_eq!(report.user_display_name, "Ticketing Service");
    assert_eq!(report.roles, ["itil", "itil_admin"]);
    assert!(report.web_service_only && report.active && !report.locked_out);
    assert_eq!(report.build, None);
    assert!(report.can_close());
    assert_eq!(report.instance, base);
}
