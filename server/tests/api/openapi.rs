//! The OpenAPI document: every router route is in it (with roles, responses and the error shape),
//! every reference resolves, and API answers in the other tests are validated against it
//! (`check`): a status the document does not list, or a body that does not match its schema,
//! fails the test that received it.

use super::helpers::{TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// The document, as the server generates it.
pub fn spec() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::from_str(&drydock::http::openapi::document().to_json().unwrap()).unwrap())
}

/// The documented path template `path` (query stripped) matches, and its operation for `method`.
pub fn operation(method: &str, path: &str) -> Option<(String, &'static Value)> {
    let path = path.split('?').next().unwrap_or(path);
    let want: Vec<&str> = path.split('/').collect();
    for (template, item) in spec()["paths"].as_object()? {
        let have: Vec<&str> = template.split('/').collect();
        let fits = have.len() == want.len()
            && have.iter().zip(&want).all(|(t, w)| (t.starts_with('{') && t.ends_with('}') && !w.is_empty()) || t == w);
        if fits {
            return item.get(method.to_ascii_lowercase()).map(|op| (template.clone(), op));
        }
    }
    None
}

/// Fails unless the answer is one the document describes: a listed status and, for JSON, a body
/// valid against that response's schema.
pub fn check(method: &str, path: &str, status: StatusCode, content_type: &str, body: &[u8]) {
    let (template, op) = operation(method, path).unwrap_or_else(|| panic!("{method} {path} is not in the OpenAPI document"));
    let response = op["responses"]
        .get(status.as_str())
        .unwrap_or_else(|| panic!("{method} {template}: status {status} is not documented (body {})", String::from_utf8_lossy(body)));
    let Some(content) = response.get("content") else {
        assert!(body.is_empty(), "{method} {template} {status}: documented without a body, got {}", String::from_utf8_lossy(body));
        return;
    };
    if !content_type.starts_with("application/json") {
        assert!(
            content.as_object().unwrap().keys().any(|k| content_type.starts_with(k.as_str())),
            "{method} {template} {status}: {content_type} is not documented"
        );
        return;
    }
    let schema = &content["application/json"]["schema"];
    let value: Value = serde_json::from_slice(body).unwrap_or_else(|e| panic!("{method} {path} {status}: not JSON: {e}"));
    // The response schema with the document's components beside it, so `#/components/...` resolves.
    let root = serde_json::json!({ "$schema": "https://json-schema.org/draft/2020-12/schema", "allOf": [schema], "components": spec()["components"] });
    let validator =
        jsonschema::validator_for(&root).unwrap_or_else(|e| panic!("{method} {template} {status}: the schema does not compile: {e}"));
    let errors: Vec<String> = validator.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path)).take(5).collect();
    assert!(errors.is_empty(), "{method} {path} {status}: the body does not match the document: {errors:#?}");
}

/// Sends `req`, checks the answer against the document, and returns the status and body.
pub async fn checked(method: &str, path: &str, req: reqwest::RequestBuilder) -> (StatusCode, Vec<u8>) {
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let ct = resp.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = resp.bytes().await.unwrap().to_vec();
    check(method, path, status, &ct, &body);
    (status, body)
}

/// As `checked`, answering JSON.
pub async fn checked_json(method: &str, path: &str, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let (status, body) = checked(method, path, req).await;
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("$ref") {
                out.insert(r.clone());
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_lists_every_route_with_its_roles_and_schemas() {
    let app = TestApp::start(TestDb::sqlite().await, 1_000_000).await;
    // Served without a token, and the same as generated.
    let served: Value = app.client.get(app.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(&served, spec());
    assert!(served["openapi"].as_str().unwrap().starts_with("3."));

    let router: BTreeSet<(String, String)> = drydock::http::api_routes().routes.into_iter().map(|(m, p)| (m.to_string(), p)).collect();
    let mut documented = BTreeSet::new();
    for (path, item) in served["paths"].as_object().unwrap() {
        for (method, _) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone()));
        }
    }
    let missing: Vec<_> = router.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&router).collect();
    println!("router: {} routes; document: {} operations", router.len(), documented.len());
    assert!(missing.is_empty(), "routes missing from the document: {missing:?}");
    assert!(extra.is_empty(), "operations the router does not serve: {extra:?}");

    for (method, path) in &router {
        let op = &served["paths"][path][method];
        let roles = op["x-roles"].as_array().unwrap_or_else(|| panic!("{method} {path}: no x-roles"));
        assert!(!roles.is_empty(), "{method} {path}: x-roles is empty");
        assert!(op["description"].as_str().unwrap().contains("Roles:"), "{method} {path}: the description names the roles");
        let responses = op["responses"].as_object().unwrap();
        assert!(responses.keys().any(|s| s.starts_with('2')), "{method} {path}: no success response");
        if path != "/api/v1/openapi.json" {
            // Every authenticated operation documents 401 and 403 with the one error shape.
            for s in ["401", "403"] {
                assert_eq!(
                    op["responses"][s]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/ErrorBody",
                    "{method} {path} {s}"
                );
            }
            assert!(op.get("security").is_none(), "{method} {path}: takes the document's bearer token");
        }
    }
    assert_eq!(served["security"], serde_json::json!([{"bearer": []}]), "a bearer token for every operation");
    assert_eq!(served["paths"]["/api/v1/openapi.json"]["get"]["security"], serde_json::json!([{}]), "but this document");
    assert_eq!(served["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    // Every reference resolves to a schema in the document.
    let mut all = BTreeSet::new();
    refs(&served, &mut all);
    for r in &all {
        let name = r.strip_prefix("#/components/schemas/").unwrap_or_else(|| panic!("{r} points outside the document"));
        assert!(served["components"]["schemas"].get(name).is_some(), "{r} does not resolve");
    }
    println!("{} schemas referenced, all resolve", all.len());

    // An invalid body names its field in the error, as the document says.
    let admin = app.token("admin").await;
    let req = app
        .client
        .post(app.url("/api/v1/registries"))
        .bearer_auth(&admin)
        .json(&serde_json::json!({"name": "a b", "url": "http://127.0.0.1:9"}));
    let (status, body) = checked_json("POST", "/api/v1/registries", req).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["field"], "name", "{body}");
    assert!(body["error"].as_str().unwrap().starts_with("registry: registry name \"a b\" must be"), "{body}");
    // A field the checks after parsing refuse is named the same way.
    let req =
        app.client.post(app.url("/api/v1/registries")).bearer_auth(&admin).json(&serde_json::json!({"name": "hub", "url": "ftp://x"}));
    let (status, body) = checked_json("POST", "/api/v1/registries", req).await;
    assert_eq!((status, &body["field"]), (StatusCode::UNPROCESSABLE_ENTITY, &serde_json::json!("url")), "{body}");

    // A wrong answer fails the check (the validation is not vacuous).
    let images_ok = serde_json::json!({"items": [], "total": 0}).to_string();
    check("GET", "/api/v1/images", StatusCode::OK, "application/json", images_ok.as_bytes());
    let bad = serde_json::json!({"items": [{"digest": 5}], "total": "many"}).to_string();
    assert!(std::panic::catch_unwind(|| check("GET", "/api/v1/images", StatusCode::OK, "application/json", bad.as_bytes())).is_err());
    assert!(std::panic::catch_unwind(|| check("GET", "/api/v1/images", StatusCode::IM_A_TEAPOT, "application/json", b"{}")).is_err());
}
