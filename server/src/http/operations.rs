//! The operator's endpoints and the layers every request passes: `/healthz` (liveness: the
//! process answers, no database), `/readyz` (the database answers and its schema is current),
//! `/metrics` (Prometheus text; a bearer token when `metrics_token` is set), the request-duration
//! histogram by route template, and the time limit on every route but the uploads.

use super::AppState;
use crate::service::operations::NotReady;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::time::Duration;

/// `GET /healthz`: 200 while the process answers requests (a restart would not help otherwise).
pub async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database answers and holds every migration this build knows;
/// 503 with `Retry-After` otherwise (a load balancer sends no traffic here meanwhile).
pub async fn readyz(State(state): State<AppState>) -> Response {
    let problem = match state.service.readiness().await {
        Ok(()) => return Json(serde_json::json!({ "status": "ready" })).into_response(),
        Err(NotReady::Database) => "the database does not answer",
        Err(NotReady::Schema) => "the database schema is older than this build: run drydock migrate",
    };
    let mut resp =
        (StatusCode::SERVICE_UNAVAILABLE, Json(serde_json::json!({ "status": "unavailable", "error": problem }))).into_response();
    resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::service::RETRY_AFTER_SECONDS));
    resp
}

/// `GET /metrics`: the Prometheus text format. With `metrics_token` set, only with
/// `Authorization: Bearer <token>` (401 otherwise). The gauges read from the database keep their
/// last values when it does not answer; the scrape still succeeds.
pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    // An empty token is no token (the endpoint stays open), never a match for an empty header.
    if let Some(token) = state.config.metrics_token.as_deref().filter(|t| !t.is_empty()) {
        let given = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        // Compared as digests: the time taken says nothing about the token's bytes.
        if given.is_none_or(|g| crate::domain::sha256_hex(g.trim().as_bytes()) != crate::domain::sha256_hex(token.as_bytes())) {
            let mut resp = (StatusCode::UNAUTHORIZED, "metrics need the bearer token set as metrics_token\n").into_response();
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            return resp;
        }
    }
    if let Err(e) = state.service.observe_metrics().await {
        tracing::warn!(error = %e, "metrics: the database gauges keep their last values");
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], crate::metrics::get().render()).into_response()
}

/// Records each request's duration by its route template (`/api/v1/images/{digest}`), method
/// and status. Requests no route matched are `unmatched` (one label, whatever the path).
pub async fn observe(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let method = method_label(request.method());
    let response = next.run(request).await;
    let route = route.as_deref().unwrap_or("unmatched");
    crate::metrics::get().observe_request(route, method, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::PATCH => "PATCH",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// The API routes that receive reports and lists: they may take as long as their body does.
const UPLOADS: &[&str] = &[
    "/api/v1/scans",
    "/api/v1/clusters/{name}/pods",
    "/api/v1/clusters/{name}/nodes",
    "/api/v1/kev",
    "/api/v1/audit/k8s",
    "/api/v1/registries/{name}/events",
];

/// Answers 503 (with `Retry-After`) a request other than an upload still unanswered after
/// `request_timeout_seconds`: a slow page or search does not hold its connection without end.
pub async fn time_limit(State(limit): State<Duration>, request: Request, next: Next) -> Response {
    let upload =
        request.method() == Method::POST && request.extensions().get::<MatchedPath>().is_some_and(|p| UPLOADS.contains(&p.as_str()));
    if upload {
        return next.run(request).await;
    }
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(limit_s = limit.as_secs_f64(), "a request took longer than request_timeout_seconds");
            let mut resp = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(serde_json::json!({ "error": format!("the request took longer than {} s; try again shortly", limit.as_secs()) })),
            )
                .into_response();
            resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(crate::service::RETRY_AFTER_SECONDS));
            resp
        }
    }
}
