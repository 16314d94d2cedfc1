//! The embedded sandbox against the wire contract, over real HTTP on loopback.

use std::net::SocketAddr;
use std::path::PathBuf;

use actionplane::sandbox::{self, Faults, SandboxHandle};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tempfile::TempDir;

const SAMPLE_ID: &str = "95e7741a0379fdc0ada93fa11a4903ca";
const INTEGRATION_ID: &str = "19675299248891a05289d614ce26cd69";
const ITIL_ONLY_ID: &str = "17d90e13fdc08e3f6878134c53cf6dad";
const INTEGRATION: (&str, &str) = (sandbox::INTEGRATION_USER, sandbox::INTEGRATION_PASSWORD);
const ADMIN: (&str, &str) = ("admin", sandbox::ADMIN_PASSWORD);
const ITIL_ONLY: (&str, &str) = (sandbox::ITIL_ONLY_USER, sandbox::ITIL_ONLY_PASSWORD);
const READONLY: (&str, &str) = (sandbox::READONLY_USER, sandbox::READONLY_PASSWORD);

/// A running sandbox with its own state file.
struct Sandbox {
    handle: SandboxHandle,
    state: PathBuf,
    client: reqwest::Client,
    _dir: TempDir,
}

async fn sandbox() -> Sandbox {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = sandbox::state_path_for(&dir.path().join("actionplane.sqlite"));
    let addr: SocketAddr = "127.0.0.1:0".parse().expect("loopback address");
    let handle = sandbox::start(&state, addr, Faults::default())
        .await
        .expect("sandbox starts");
    let client = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("http client");
    Sandbox {
        handle,
        state,
        client,
        _dir: dir,
    }
}

impl Sandbox {
    fn request(
        &self,
        method: Method,
        path: &str,
        user: Option<(&str, &str)>,
    ) -> reqwest::RequestBuilder {
        let url = format!("{}{path}", self.handle.base_url());
        let request = self.client.request(method, url);
        match user {
            Some((name, password)) => request.basic_auth(name, Some(password)),
            None => request,
        }
    }

    async fn get(&self, path: &str, user: (&str, &str)) -> (StatusCode, Value) {
        let response = self
            .request(Method::GET, path, Some(user))
            .send()
            .await
            .expect("GET answered");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    async fn patch(&self, sys_id: &str, user: (&str, &str), body: &Value) -> (StatusCode, Value) {
        let path = format!("/api/now/table/incident/{sys_id}");
        let response = self
            .request(Method::PATCH, &path, Some(user))
            .json(body)
            .send()
            .await
            .expect("PATCH answered");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }

    async fn sample(&self, query: &str) -> Value {
        let path = format!("/api/now/table/incident/{SAMPLE_ID}?{query}");
        let (status, body) = self.get(&path, INTEGRATION).await;
        assert_eq!(status, StatusCode::OK);
        body["result"].clone()
    }
}

fn close_request(code: &str) -> Value {
    json!({
        "state": "7",
        "close_code": code,
        "close_notes": "Duplicate of INC0010004; the alert rule fired twice.",
        "work_notes": "Closed via ActionPlane after operator review.",
    })
}

fn error_detail(body: &Value) -> &str {
    body["error"]["detail"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn calls_without_valid_credentials_get_the_401_envelope_and_challenge() {
    let sb = sandbox().await;
    let response = sb
        .request(Method::GET, "/api/now/table/incident", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let challenge = response.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(challenge, "Basic realm=\"Service-now\"");
    assert_eq!(
        response.headers()["content-type"],
        "application/json;charset=UTF-8"
    );
    let body: Value = response.json().await.unwrap();
    let expected = json!({"error": {"message": "User is not authenticated",
        "detail": "Required to provide Auth information"}, "status": "failure"});
    assert_eq!(body, expected);

    sb.handle.set_faults(Faults {
        legacy_401_text: true,
        ..Faults::default()
    });
    let wrong = ("actionplane.integration", "not-the-password");
    let (status, body) = sb.get("/api/now/table/incident", wrong).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "User Not Authenticated");
}

#[tokio::test]
async fn lists_carry_the_total_count_and_the_paging_links() {
    let sb = sandbox().await;
    let path = "/api/now/table/incident?sysparm_fields=number&sysparm_limit=1";
    let response = sb
        .request(Method::GET, path, Some(INTEGRATION))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["x-total-count"], "13");
    assert_eq!(response.headers()["x-is-logged-in"], "true");
    assert_eq!(response.headers()["x-transaction-id"].len(), 12);
    let link = response.headers()["link"].to_str().unwrap().to_owned();
    let rels: Vec<&str> = link.split(',').collect();
    assert_eq!(rels.len(), 4, "{link}");
    assert!(
        rels[0].ends_with("sysparm_offset=0>;rel=\"first\""),
        "{link}"
    );
    assert!(
        rels[1].ends_with("sysparm_offset=-1>;rel=\"prev\""),
        "{link}"
    );
    assert!(
        rels[2].ends_with("sysparm_offset=1>;rel=\"next\""),
        "{link}"
    );
    assert!(
        rels[3].ends_with("sysparm_offset=12>;rel=\"last\""),
        "{link}"
    );
    assert!(
        rels[0].contains("sysparm_fields=number"),
        "links keep the other parameters"
    );
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["result"].as_array().unwrap().len(), 1);
    assert_eq!(body["result"][0], json!({"number": "INC-42"}));

    let path = "/api/now/table/incident?sysparm_offset=12&sysparm_limit=5&sysparm_no_count=true";
    let response = sb
        .request(Method::GET, path, Some(INTEGRATION))
        .send()
        .await
        .unwrap();
    assert!(response.headers().get("x-total-count").is_none());
    let body: Value = response.json().await.unwrap();
    assert_eq!(
        body["result"].as_array().unwrap().len(),
        1,
        "the last page holds one record"
    );
}

#[tokio::test]
async fn encoded_queries_filter_order_and_ignore_invalid_parts() {
    let sb = sandbox().await;
    let query = "active=true^stateIN1,2,3^bogus_field=1^ORDERBYDESCnumber";
    let path = format!("/api/now/table/incident?sysparm_query={query}&sysparm_fields=number,state");
    let (status, body) = sb.get(&path, INTEGRATION).await;
    assert_eq!(status, StatusCode::OK);
    let numbers: Vec<&str> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["number"].as_str().unwrap())
        .collect();
    let expected = [
        "INC0010012",
        "INC0010010",
        "INC0010009",
        "INC0010006",
        "INC0010005",
        "INC0010004",
        "INC0010003",
        "INC-42",
    ];
    assert_eq!(numbers, expected);

    let path = "/api/now/table/incident?sysparm_query=short_descriptionLIKEduplicate^stateNOT IN7,8\
                &sysparm_fields=number";
    let (_, body) = sb.get(path, INTEGRATION).await;
    assert_eq!(body["result"], json!([{"number": "INC-42"}]));

    let path = "/api/now/table/sys_user_has_role\
                ?sysparm_query=user.user_name=actionplane.integration\
                ^role.nameINadmin,itil,itil_admin^ORDERBYrole.name\
                &sysparm_fields=role.name,inherited";
    let (_, body) = sb.get(path, INTEGRATION).await;
    let expected = json!([{"role.name": "itil", "inherited": "false"},
                          {"role.name": "itil_admin", "inherited": "false"}]);
    assert_eq!(body["result"], expected);
}

#[tokio::test]
async fn display_values_come_in_the_contract_shapes() {
    let sb = sandbox().await;
    let fields =
        "sysparm_fields=number,state,priority,assigned_to,closed_by,work_notes,sys_mod_count";
    let raw = sb.sample(fields).await;
    assert_eq!(raw["state"], "2");
    assert_eq!(
        raw["closed_by"], "",
        "an empty reference is an empty string"
    );
    assert_eq!(
        raw["work_notes"], "",
        "journal fields read empty as raw values"
    );
    let link = raw["assigned_to"]["link"].as_str().unwrap();
    assert!(
        link.ends_with("/api/now/table/sys_user/58b17632a541c5ab326e2f3af59503dc"),
        "{link}"
    );

    let all = sb
        .sample(&format!("{fields}&sysparm_display_value=all"))
        .await;
    assert_eq!(
        all["state"],
        json!({"display_value": "In Progress", "value": "2"})
    );
    assert_eq!(
        all["priority"],
        json!({"display_value": "5 - Planning", "value": "5"})
    );
    assert_eq!(all["assigned_to"]["display_value"], "Beth Anglin");
    assert_eq!(
        all["assigned_to"]["value"],
        "58b17632a541c5ab326e2f3af59503dc"
    );
    assert_eq!(
        all["sys_mod_count"],
        json!({"display_value": "3", "value": "3"})
    );
    let journal = all["work_notes"]["display_value"].as_str().unwrap();
    assert!(
        journal.starts_with("2026-05-03 10:02:51 - David Loo (Work notes)\n"),
        "{journal}"
    );
    assert!(
        journal.contains("2026-05-02 08:20:13 - Beth Anglin (Work notes)\n"),
        "{journal}"
    );
    assert_eq!(all["work_notes"]["value"], "");

    let flat = sb
        .sample(&format!(
            "{fields}&sysparm_display_value=true&sysparm_exclude_reference_link=true"
        ))
        .await;
    assert_eq!(flat["assigned_to"], "Beth Anglin");
    assert_eq!(flat["state"], "In Progress");
}

#[tokio::test]
async fn closing_without_close_fields_fails_the_data_policy_and_changes_nothing() {
    let sb = sandbox().await;
    let request = json!({"state": "7", "work_notes": "Trying to close."});
    let (status, body) = sb.patch(SAMPLE_ID, INTEGRATION, &request).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let detail = "Data Policy Exception: \n\tThe following fields are mandatory: \
                  Resolution code, Resolution notes";
    let expected = json!({"error": {"message": "Operation Failed", "detail": detail},
        "status": "failure"});
    assert_eq!(body, expected);
    let after = sb
        .sample("sysparm_display_value=all&sysparm_fields=state,sys_mod_count,work_notes")
        .await;
    assert_eq!(after["state"]["value"], "2");
    assert_eq!(after["sys_mod_count"]["value"], "3");
    let journal = after["work_notes"]["display_value"].as_str().unwrap();
    assert!(
        !journal.contains("Trying to close."),
        "a refused write appends no journal entry"
    );
}

#[tokio::test]
async fn a_full_close_stamps_fields_and_writes_the_journal() {
    let sb = sandbox().await;
    let (status, body) = sb
        .patch(SAMPLE_ID, INTEGRATION, &close_request("Duplicate"))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let closed = &body["result"];
    assert_eq!(closed["state"], "7");
    assert_eq!(closed["incident_state"], "7");
    assert_eq!(closed["active"], "false");
    assert_eq!(closed["sys_mod_count"], "4");
    assert_eq!(closed["sys_updated_by"], sandbox::INTEGRATION_USER);
    assert_eq!(closed["closed_by"]["value"], INTEGRATION_ID);
    assert_eq!(closed["work_notes"], "");
    let closed_at = closed["closed_at"].as_str().unwrap().to_owned();
    assert!(chrono::NaiveDateTime::parse_from_str(&closed_at, "%Y-%m-%d %H:%M:%S").is_ok());
    assert_eq!(closed["resolved_at"], closed_at.as_str());

    let shown = sb
        .sample("sysparm_display_value=true&sysparm_fields=work_notes,close_code")
        .await;
    let journal = shown["work_notes"].as_str().unwrap();
    let newest = format!(
        "{closed_at} - ActionPlane Integration (Work notes)\n\
         Closed via ActionPlane after operator review.\n\n"
    );
    assert!(journal.starts_with(&newest), "{journal}");
    assert_eq!(shown["close_code"], "Duplicate");

    let path = format!(
        "/api/now/table/sys_journal_field?sysparm_query=element_id={SAMPLE_ID}\
         ^element=work_notes^ORDERBYDESCsys_created_on&sysparm_fields=value,sys_created_by"
    );
    let (_, body) = sb.get(&path, INTEGRATION).await;
    let entries = body["result"].as_array().unwrap();
    assert_eq!(entries.len(), 3);
    assert_eq!(
        entries[0]["value"],
        "Closed via ActionPlane after operator review."
    );
    assert_eq!(entries[0]["sys_created_by"], sandbox::INTEGRATION_USER);
}

#[tokio::test]
async fn an_itil_only_user_may_resolve_but_not_close() {
    let sb = sandbox().await;
    let (status, body) = sb
        .patch(SAMPLE_ID, ITIL_ONLY, &close_request("Duplicate"))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let expected = json!({"error": {"message": "Operation Failed",
        "detail": "ACL Exception Update Failed due to security constraints"}, "status": "failure"});
    assert_eq!(body, expected);

    let mut resolve = close_request("Duplicate");
    resolve["state"] = json!("6");
    let (status, body) = sb.patch(SAMPLE_ID, ITIL_ONLY, &resolve).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["state"], "6");
    assert_eq!(body["result"]["active"], "true");
    assert_eq!(body["result"]["resolved_by"]["value"], ITIL_ONLY_ID);
}

#[tokio::test]
async fn a_read_only_user_cannot_write_and_sees_no_build_properties() {
    let sb = sandbox().await;
    let (status, body) = sb.patch(SAMPLE_ID, READONLY, &json!({"impact": "2"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        error_detail(&body),
        "ACL Exception Update Failed due to security constraints"
    );

    let path = "/api/now/table/sys_properties\
                ?sysparm_query=nameINglide.buildtag,glide.war,glide.buildname\
                &sysparm_fields=name,value";
    let (status, body) = sb.get(path, READONLY).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"result": []}));
    let (_, body) = sb.get(path, INTEGRATION).await;
    let names: Vec<&str> = body["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["glide.buildtag", "glide.war", "glide.buildname"]);
}

#[tokio::test]
async fn an_unknown_close_code_is_dropped_and_then_fails_the_data_policy() {
    let sb = sandbox().await;
    let old_code = close_request("Solved (Permanently)");
    let (status, body) = sb.patch(SAMPLE_ID, INTEGRATION, &old_code).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(
        error_detail(&body),
        "Data Policy Exception: \n\tThe following fields are mandatory: Resolution code"
    );

    sb.handle.set_faults(Faults {
        legacy_close_codes: true,
        ..Faults::default()
    });
    let path = "/api/now/table/sys_choice?sysparm_query=name=incident^element=close_code\
                ^inactive=false^language=en^ORDERBYsequence&sysparm_fields=value";
    let (_, body) = sb.get(path, INTEGRATION).await;
    assert_eq!(
        body["result"].as_array().unwrap().len(),
        7,
        "the old set is the active one"
    );
    let (status, body) = sb.patch(SAMPLE_ID, INTEGRATION, &old_code).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["result"]["close_code"], "Solved (Permanently)");
}

#[tokio::test]
async fn a_closed_incident_cannot_be_reopened() {
    let sb = sandbox().await;
    let (status, _) = sb
        .patch(SAMPLE_ID, INTEGRATION, &close_request("Duplicate"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = sb.patch(SAMPLE_ID, ADMIN, &json!({"state": "2"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let detail = error_detail(&body);
    assert!(
        detail.starts_with(
            "Operation against file 'incident' was aborted by Business Rule \
                            'Prevent reopen of closed incident^"
        ),
        "{detail}"
    );
    assert!(
        detail.ends_with("Business Rule Stack:Prevent reopen of closed incident"),
        "{detail}"
    );
    assert_eq!(sb.sample("sysparm_fields=state").await["state"], "7");
}

#[tokio::test]
async fn reset_restores_the_sample_story() {
    let sb = sandbox().await;
    let (status, _) = sb
        .patch(SAMPLE_ID, INTEGRATION, &close_request("Duplicate"))
        .await;
    assert_eq!(status, StatusCode::OK);
    sandbox::reset(&sb.state).expect("reset works while the server runs");
    let fields =
        "sysparm_display_value=all&sysparm_fields=number,state,close_code,sys_mod_count,work_notes";
    let restored = sb.sample(fields).await;
    assert_eq!(restored["number"]["value"], "INC-42");
    assert_eq!(restored["state"]["value"], "2");
    assert_eq!(restored["close_code"]["value"], "");
    assert_eq!(restored["sys_mod_count"]["value"], "3");
    let journal = restored["work_notes"]["display_value"].as_str().unwrap();
    assert_eq!(journal.matches("(Work notes)").count(), 2, "{journal}");

    let (status, _) = sb
        .patch(SAMPLE_ID, INTEGRATION, &json!({"impact": "2"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let response = sb
        .request(Method::POST, "/actionplane/sandbox/reset", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(sb.sample("sysparm_fields=impact").await["impact"], "3");
}

#[tokio::test]
async fn hibernation_answers_html_with_200_until_switched_off() {
    let sb = sandbox().await;
    let on = json!({"hibernating": true});
    let response = sb
        .request(Method::PUT, "/actionplane/sandbox/faults", None)
        .json(&on)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert!(sb.handle.faults().hibernating);

    let response = sb
        .request(Method::GET, "/api/now/table/incident", Some(INTEGRATION))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.unwrap();
    let marker = "<div class=\"instance-hibernating-page\"><h1>Your instance is hibernating</h1>";
    assert!(
        page.starts_with("<!DOCTYPE html>") && page.contains(marker),
        "{page}"
    );

    let off = json!({});
    sb.request(Method::PUT, "/actionplane/sandbox/faults", None)
        .json(&off)
        .send()
        .await
        .unwrap();
    let (status, _) = sb
        .get("/api/now/table/incident?sysparm_limit=1", INTEGRATION)
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn rate_limiting_answers_429_with_retry_after() {
    let sb = sandbox().await;
    sb.handle.set_faults(Faults {
        rate_limited: true,
        ..Faults::default()
    });
    let response = sb
        .request(Method::GET, "/api/now/table/incident", Some(INTEGRATION))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["retry-after"], "2");
    assert_eq!(response.headers()["x-ratelimit-limit"], "500");
    assert!(response.headers().contains_key("x-ratelimit-reset"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["message"], "Rate limit exceeded");

    sb.handle.set_faults(Faults {
        server_error: true,
        ..Faults::default()
    });
    let (status, body) = sb.get("/api/now/table/incident", INTEGRATION).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(body["status"], "failure");
}

#[tokio::test]
async fn unknown_tables_and_records_get_the_contract_errors() {
    let sb = sandbox().await;
    let (status, body) = sb.get("/api/now/table/foo", INTEGRATION).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"error": {"message": "Invalid table foo", "detail": null}, "status": "failure"})
    );

    let (status, body) = sb
        .get(
            "/api/now/v2/table/incident/00000000000000000000000000000000",
            INTEGRATION,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let detail = "Record doesn't exist or ACL restricts the record retrieval";
    let expected = json!({"error": {"message": "No Record found", "detail": detail},
        "status": "failure"});
    assert_eq!(body, expected);
}

/// The S10 refusal, byte for byte.
const TOKEN_REFUSED: &str = r#"{"error_description":"access_denied","error":"server_error"}"#;

fn password_form(password: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "password"),
            ("client_id", sandbox::OAUTH_CLIENT_ID),
            ("client_secret", sandbox::OAUTH_CLIENT_SECRET),
            ("username", sandbox::INTEGRATION_USER),
            ("password", password),
        ])
        .finish()
}

fn refresh_form(refresh_token: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("grant_type", "refresh_token"),
            ("client_id", sandbox::OAUTH_CLIENT_ID),
            ("client_secret", sandbox::OAUTH_CLIENT_SECRET),
            ("refresh_token", refresh_token),
        ])
        .finish()
}

impl Sandbox {
    /// `POST /oauth_token.do` with a form; the status and the body as text.
    async fn token(&self, form: String) -> (StatusCode, String) {
        let response = self
            .request(Method::POST, "/oauth_token.do", None)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("accept", "application/json")
            .body(form)
            .send()
            .await
            .expect("token endpoint answered");
        let status = response.status();
        assert_eq!(
            response.headers()["content-type"],
            "application/json;charset=UTF-8"
        );
        (status, response.text().await.expect("body"))
    }

    async fn bearer_get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        let response = self
            .request(Method::GET, path, None)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET answered");
        let status = response.status();
        (status, response.json().await.expect("JSON body"))
    }
}

#[tokio::test]
async fn the_token_endpoint_grants_and_refreshes_in_the_s10_shape() {
    let sb = sandbox().await;
    let (status, text) = sb.token(password_form(sandbox::INTEGRATION_PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    let keys = [
        "\"access_token\"",
        "\"refresh_token\"",
        "\"scope\"",
        "\"token_type\"",
        "\"expires_in\"",
    ];
    let positions: Vec<usize> = keys.iter().map(|k| text.find(k).expect(k)).collect();
    assert!(positions.is_sorted(), "keys in the S10 order: {text}");
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(body["scope"], "useraccount");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 1799);
    let access = body["access_token"].as_str().unwrap().to_owned();
    let refresh = body["refresh_token"].as_str().unwrap().to_owned();

    let path = format!("/api/now/table/incident/{SAMPLE_ID}?sysparm_fields=number");
    let (status, record) = sb.bearer_get(&path, &access).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(record["result"]["number"], "INC-42");

    let (status, text) = sb.token(refresh_form(&refresh)).await;
    assert_eq!(status, StatusCode::OK);
    let renewed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(renewed["refresh_token"], refresh.as_str());
    assert_ne!(renewed["access_token"], access.as_str());

    // An expired bearer token gets the plain 401 of CONTRACT 1.3.
    sb.handle.expire_oauth_tokens();
    let (status, body) = sb.bearer_get(&path, &access).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["message"], "User is not authenticated");
    assert_eq!(body["status"], "failure");
    let counted = sb.handle.stats();
    assert_eq!((counted.password_grants, counted.refresh_grants), (1, 1));
    assert_eq!((counted.bearer_calls, counted.refused_bearer_calls), (1, 1));
}

#[tokio::test]
async fn every_refused_token_request_gets_the_same_opaque_401() {
    let sb = sandbox().await;
    let wrong_password = password_form("not-the-password");
    let other_grant = "grant_type=client_credentials&client_id=actionplane-sandbox-client\
                       &client_secret=sandbox-oauth-Secr3t%21"
        .to_owned();
    let wrong_scope = format!(
        "{}&scope=admin",
        password_form(sandbox::INTEGRATION_PASSWORD)
    );
    for form in [
        wrong_password,
        other_grant,
        wrong_scope,
        refresh_form("unknown"),
    ] {
        let (status, text) = sb.token(form.clone()).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{form}");
        assert_eq!(text, TOKEN_REFUSED, "{form}");
    }

    // With the grant switched off even good credentials are refused the same way.
    sb.handle.set_faults(Faults {
        oauth_disabled: true,
        ..Faults::default()
    });
    let (status, text) = sb.token(password_form(sandbox::INTEGRATION_PASSWORD)).await;
    assert_eq!(
        (status, text.as_str()),
        (StatusCode::UNAUTHORIZED, TOKEN_REFUSED)
    );
    assert_eq!(sb.handle.stats().refused_token_requests, 5);

    sb.handle.set_faults(Faults {
        oauth_token_seconds: 2,
        ..Faults::default()
    });
    let (status, text) = sb.token(password_form(sandbox::INTEGRATION_PASSWORD)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(text.ends_with("\"expires_in\":2}"), "{text}");
}

#[tokio::test]
async fn fault_switches_from_before_oauth_still_parse() {
    let old = r#"{"hibernating":false,"rate_limited":false,"slow_ms":0,"server_error":false,
        "deny_close":true,"legacy_close_codes":false,"legacy_401_text":false}"#;
    let faults: Faults = serde_json::from_str(old).expect("older JSON parses");
    assert!(faults.deny_close && !faults.oauth_disabled);
    assert_eq!(faults.oauth_token_seconds, 0);

    let sb = sandbox().await;
    let response = sb
        .request(Method::PUT, "/actionplane/sandbox/faults", None)
        .header("content-type", "application/json")
        .body(old)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let shown: Value = response.json().await.unwrap();
    assert_eq!(shown["oauth_disabled"], false);
    assert_eq!(shown["oauth_token_seconds"], 0);
}

#[tokio::test]
async fn the_registry_entry_is_for_admins_and_never_shows_the_secret() {
    let sb = sandbox().await;
    let (status, body) = sb.get("/api/now/table/oauth_entity", INTEGRATION).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["result"], json!([]));
    let (_, body) = sb.get("/api/now/table/oauth_entity", ADMIN).await;
    let entry = &body["result"][0];
    assert_eq!(entry["client_id"], sandbox::OAUTH_CLIENT_ID);
    assert_eq!(entry["active"], "true");
    assert!(!body.to_string().contains(sandbox::OAUTH_CLIENT_SECRET));
}

#[tokio::test]
async fn dictionary_overrides_make_inherited_fields_mandatory_on_incident() {
    let sb = sandbox().await;
    let path = "/api/now/table/sys_dictionary_override?sysparm_query=name=incident\
                ^elementINshort_description,state^ORDERBYelement";
    let (status, body) = sb.get(path, INTEGRATION).await;
    assert_eq!(status, StatusCode::OK);
    let rows = body["result"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    let short = &rows[0];
    assert_eq!(short["element"], "short_description");
    assert_eq!(short["base_table"], "task");
    assert_eq!(
        (&short["mandatory"], &short["mandatory_override"]),
        (&json!("true"), &json!("true"))
    );
    assert_eq!(rows[1]["element"], "state");
    assert_eq!(rows[1]["default_value_override"], "true");

    // The client applies only the flags whose override is switched on.
    let client = actionplane::servicenow::Client::new(
        &sb.handle.base_url(),
        INTEGRATION.0,
        actionplane::servicenow::Secret::new(INTEGRATION.1.to_owned()),
        std::time::Duration::from_secs(10),
    )
    .unwrap();
    let fields = ["short_description", "state", "close_code"].map(str::to_owned);
    let metadata = client.sync_metadata("incident", &fields).await.unwrap();
    let entry = |name: &str| metadata.field(name).unwrap().entry.clone();
    assert_eq!(entry("short_description").defined_on, "task");
    assert!(entry("short_description").mandatory);
    assert!(!entry("state").read_only && !entry("state").mandatory);
    assert!(!entry("close_code").mandatory);
}

#[test]
fn the_state_file_sits_next_to_the_app_database() {
    let app_db = std::path::Path::new("/var/lib/actionplane/actionplane.sqlite");
    let expected = std::path::Path::new("/var/lib/actionplane/actionplane.sandbox.sqlite");
    assert_eq!(sandbox::state_path_for(app_db), expected);
}
