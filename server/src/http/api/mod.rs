//! REST handlers under `/api/v1`, adapters over the service: reading the estate and its
//! configuration here, what comes in (`ingest.rs`) and the ledger's checkpoint, entries and
//! proofs (`ledger.rs`). Every list answers `{"items": [...], "total": n}`.

mod admission;
mod bundle;
mod campaigns;
mod compliance;
mod evidence;
mod ingest;
mod ledger;

pub use admission::*;
pub use bundle::*;
pub use campaigns::*;
pub use compliance::*;
pub use evidence::*;
pub use ingest::*;
pub use ledger::*;

use super::answers::{
    AuditRecorded, BadBody, ClusterCreated, ConsistencyProof, ErrorBody, EventsRecorded, InclusionProof, LedgerEntry, NodesStored,
    PodsStored, Refused, TokenOut, TooLarge,
};
use super::auth::Caller;
use super::error::ApiError;
use super::AppState;
use crate::auth::Action;
use crate::ingest::Format;
use crate::store::{sha256_hex, IngestOutcome};
use app::types::{ImageSummary, Page};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use std::collections::HashMap;

fn query_map(raw: Option<String>) -> HashMap<String, String> {
    url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn int_param(q: &HashMap<String, String>, name: &str, default: i64) -> Result<i64, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| *n >= 0)
            .ok_or_else(|| ApiError::bad_request(format!("query parameter {name} must be a non-negative integer, got {v:?}"))),
    }
}

fn body_bytes(body: Result<Bytes, BytesRejection>, limit: usize) -> Result<Bytes, ApiError> {
    body.map_err(|rej| {
        if rej.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::too_large(format!("the body is larger than the limit of {limit} bytes (setting max_body_bytes)"))
        } else {
            ApiError::bad_request(format!("the body could not be read: {rej}"))
        }
    })
}

/// A JSON body as `T`: 400 when it is not JSON, 422 naming the field that is wrong.
fn json_body<T: serde::de::DeserializeOwned>(state: &AppState, body: Result<Bytes, BytesRejection>, what: &str) -> Result<T, ApiError> {
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let value: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    if let Some(at) = crate::domain::find_nul(&value) {
        return Err(ApiError::unprocessable(format!("{what}: {at}: contains a NUL character")));
    }
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let message = format!("{what}: {} at {path}", e.inner());
        ApiError(crate::service::Error::Invalid { field: (path != ".").then_some(path), message })
    })
}

/// A service error about query parameters: a malformed request (400), not an invalid body.
fn in_query(e: crate::service::Error) -> ApiError {
    ApiError(e.in_query())
}

/// A service error about a JSON body of `what`, its message prefixed the way the API always did
/// (`registry: url: ...`).
fn prefixed(what: &'static str) -> impl Fn(crate::service::Error) -> ApiError {
    move |e| ApiError(e.within(what))
}

/// A whole list as every list endpoint answers it: `{"items": [...], "total": n}`.
fn list<T: serde::Serialize>(items: Vec<T>) -> Response {
    let total = items.len() as i64;
    Json(Page { items, total }).into_response()
}

/// `GET /api/v1/images?limit=&offset=[&owner=none]`.
#[utoipa::path(
    get, path = "/api/v1/images", tag = "estate",
    description = "Images (newest first); `owner=none` lists those no ownership rule gives a team. Roles: viewer, auditor, developer, manager, security, admin (developers and managers see their teams' images and images of no team).",
    params(("limit" = Option<i64>, Query, description = "1 to 1000 (100)"), ("offset" = Option<i64>, Query, description = "(0)"),
        ("owner" = Option<String>, Query, description = "`none`: only images of no team")),
    responses((status = 200, body = Page<ImageSummary>), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_images(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ImageSummary>>, ApiError> {
    let q = query_map(raw);
    let limit = int_param(&q, "limit", 100)?;
    let offset = int_param(&q, "offset", 0)?;
    match q.get("owner").map(String::as_str) {
        None => Ok(Json(state.service.images(Some(&caller.principal()), limit, offset).await?)),
        Some("none") => Ok(Json(state.service.unowned_images(Some(&caller.principal()), Some(limit), Some(offset)).await?)),
        Some(other) => Err(crate::service::Error::invalid("owner", format!("{other:?}: only none is known")).into()),
    }
}

/// `GET /api/v1/images/{digest}`: by any of the image's digests.
#[utoipa::path(
    get, path = "/api/v1/images/{digest}", tag = "estate",
    description = "One image by any of its digests (manifest, index or config), with findings, packages, repositories and where it runs. Roles: viewer, auditor, security, admin; developers and managers for their teams' images.",
    params(("digest" = String, Path, description = "sha256:…")),
    responses((status = 200, body = app::types::ImageDetail), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused, (status = 404, description = "not found", body = ErrorBody)),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn get_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> Result<Json<app::types::ImageDetail>, ApiError> {
    let digest = crate::domain::Digest::parse(&digest).map_err(ApiError::bad_request)?;
    Ok(Json(state.service.image_detail(Some(&caller.principal()), &digest).await?))
}

/// `GET /api/v1/ownership-rules`.
#[utoipa::path(
    get, path = "/api/v1/ownership-rules", tag = "ownership",
    description = "Ownership rules. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::OwnershipRule>), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.ownership_rules(Some(&caller.principal())).await?))
}

/// `POST /api/v1/ownership-rules` (admin): `{"kind": "repository_prefix", "pattern": "...", "team": "..."}`.
#[utoipa::path(
    post, path = "/api/v1/ownership-rules", tag = "ownership",
    description = "Adds an ownership rule. Roles: admin.",
    request_body = app::types::NewOwnershipRule,
    responses((status = 201, body = app::types::OwnershipRule), BadBody, Refused),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn create_rule(State(state): State<AppState>, caller: Caller, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    caller.require(Action::ManageEstateConfig, None)?;
    let rule: app::types::NewOwnershipRule = json_body(&state, body, "ownership rule")?;
    let rule = crate::domain::ownership::RuleSpec::parse(rule.kind, &rule.pattern, &rule.team).map_err(crate::service::Error::from)?;
    let created = state.service.add_ownership_rule(Some(&caller.principal()), &rule).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/registries`: configured registries with their collection status (no secrets:
/// a password is only ever named by its environment variable).
#[utoipa::path(
    get, path = "/api/v1/registries", tag = "registries",
    description = "Configured registries with their collection status (a password is only named by its environment variable). `anonymous=true` keeps those Drydock reads without credentials, `false` those it reads with them. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("anonymous" = Option<bool>, Query,)),
    responses((status = 200, body = Page<app::types::RegistryRow>), (status = 422, description = "`field` names anonymous", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_registries(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q = query_map(raw);
    let anonymous = q.contains_key("anonymous").then(|| flag(&q, "anonymous")).transpose()?;
    let all = state.service.registries(Some(&caller.principal())).await?;
    Ok(list(all.into_iter().filter(|r| anonymous.is_none_or(|a| r.anonymous() == a)).collect()))
}

/// `POST /api/v1/registries` (admin): `{"name", "url", "username", "password_env", "ca_pem",
/// "insecure", "approved", "repositories"}`; 201 with the registry; its first collection starts.
#[utoipa::path(
    post, path = "/api/v1/registries", tag = "registries",
    description = "Configures a registry; its first collection is queued. Roles: admin.",
    request_body = crate::registry::NewRegistry,
    responses((status = 201, body = app::types::RegistryRow), BadBody, Refused),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn create_registry(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageEstateConfig, None)?;
    let new: crate::domain::registry::NewRegistry = json_body(&state, body, "registry")?;
    let created = state.service.add_registry(Some(&caller.principal()), new).await.map_err(prefixed("registry"))?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `POST /api/v1/clusters` (admin): `{"name", "server", "token_env", "ca_pem"}`; 201, and a first
/// collection starts.
#[utoipa::path(
    post, path = "/api/v1/clusters", tag = "runtime",
    description = "Configures a cluster's API server; its first collection is queued. Roles: admin.",
    request_body = crate::cluster::NewCluster,
    responses((status = 201, body = ClusterCreated), BadBody, Refused),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn create_cluster(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageEstateConfig, None)?;
    let new: crate::domain::cluster::NewCluster = json_body(&state, body, "cluster")?;
    let new = state.service.add_cluster(Some(&caller.principal()), new).await.map_err(prefixed("cluster"))?;
    Ok((StatusCode::CREATED, Json(ClusterCreated { name: new.name.into(), server: new.server, token_env: new.token_env })).into_response())
}

/// `GET /api/v1/clusters`: clusters with their nodes and live pod/container counts.
#[utoipa::path(
    get, path = "/api/v1/clusters", tag = "runtime",
    description = "Clusters with their nodes and live pod and container counts. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::ClusterOverview>), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_clusters(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.clusters(Some(&caller.principal())).await?))
}

/// `GET /api/v1/workloads?cluster=&namespace=&team=&state=&workload=Kind/name&ended=true&limit=&offset=`.
#[utoipa::path(
    get, path = "/api/v1/workloads", tag = "runtime",
    description = "What runs, by workload and container. Roles: viewer, auditor, developer, manager, security, admin (developers and managers see their teams' workloads).",
    params(("cluster" = Option<String>, Query,), ("namespace" = Option<String>, Query,), ("team" = Option<String>, Query,),
        ("state" = Option<String>, Query, description = "running, waiting, terminated or unknown"), ("workload" = Option<String>, Query, description = "Kind/name"),
        ("ended" = Option<bool>, Query, description = "include pods that ended"), ("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<app::types::WorkloadRow>), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_workloads(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<app::types::WorkloadRow>>, ApiError> {
    let q = query_map(raw);
    let limit = int_param(&q, "limit", 100)?;
    let offset = int_param(&q, "offset", 0)?;
    let text = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    let f = crate::store::WorkloadFilter {
        cluster: text("cluster"),
        namespace: text("namespace"),
        team: text("team"),
        state: text("state"),
        workload: text("workload"),
        ended: q.get("ended").is_some_and(|v| v == "true" || v == "1"),
        visible_teams: None,
    };
    Ok(Json(state.service.workloads(Some(&caller.principal()), f, limit, offset).await.map_err(in_query)?))
}

/// `GET /api/v1/unaccounted`: running images not in any configured registry, from a registry not
/// approved, never scanned, or scanned longer ago than `scan_max_age_days`.
#[utoipa::path(
    get, path = "/api/v1/unaccounted", tag = "runtime",
    description = "Running images not in any configured registry, from a registry not approved, never scanned, or scanned too long ago. Roles: viewer, auditor, developer, manager, security, admin (team-scoped for developers and managers).",
    responses((status = 200, body = Page<app::types::UnaccountedEntry>), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_unaccounted(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.unaccounted(Some(&caller.principal())).await?))
}

/// `GET /api/v1/secrets`: secrets found in images (never their text).
#[utoipa::path(
    get, path = "/api/v1/secrets", tag = "estate",
    description = "Secrets the newest Trivy report of each image found in its files, worst first: the image, its team, the file, the rule, category, severity, title, lines and layer — never the secret's text (Trivy's `Code` and `Match` are not read). Developers and managers see their teams' images and images of no team. `limit` 1..5000 (500), `offset`. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<app::types::SecretRow>), (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "`field` names limit", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_secrets(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<app::types::SecretRow>>, ApiError> {
    let q = query_map(raw);
    let limit = q.contains_key("limit").then(|| int_param(&q, "limit", 500)).transpose()?;
    let offset = q.contains_key("offset").then(|| int_param(&q, "offset", 0)).transpose()?;
    Ok(Json(state.service.secrets(Some(&caller.principal()), limit, offset).await.map_err(in_query)?))
}

/// `GET /api/v1/tokens`: security sees ingest tokens, admin every token; each with its bindings,
/// never its secret.
#[utoipa::path(
    get, path = "/api/v1/tokens", tag = "access",
    description = "API tokens with their bindings, never their secrets: security sees ingest tokens, admin every token. Roles: security, admin.",
    responses((status = 200, body = Page<TokenOut>), Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn list_tokens(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let items: Vec<TokenOut> = state
        .service
        .tokens(Some(&caller.principal()))
        .await?
        .into_iter()
        .map(|t| TokenOut {
            id: t.id,
            name: t.name,
            role: t.role,
            team: t.team,
            clusters: t.clusters,
            registries: t.registries,
            created_at: t.created_at,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        })
        .collect();
    Ok(list(items))
}

/// `DELETE /api/v1/users/{subject}/sessions` (admin): ends every session of a person (the subject
/// percent-encoded, as the users page shows it); 204, or 404 when nobody with it signed in.
#[utoipa::path(
    delete, path = "/api/v1/users/{subject}/sessions", tag = "access",
    description = "Ends every session of a person (signed out everywhere at once). Roles: admin.",
    params(("subject" = String, Path, description = "the person's subject, percent-encoded")),
    responses((status = 204, description = "ended"), Refused, (status = 404, description = "not found", body = ErrorBody)),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn end_user_sessions(State(state): State<AppState>, caller: Caller, Path(subject): Path<String>) -> Result<Response, ApiError> {
    state.service.end_user_sessions(Some(&caller.principal()), &subject).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Unknown API paths answer JSON, not the HTML 404 page.
pub async fn not_found() -> ApiError {
    ApiError::not_found("no such API endpoint")
}
