//! REST handlers under `/api/v1`. Every list answers `{"items": [...], "total": n}`.

use super::answers::{
    AuditRecorded, BadBody, ClusterCreated, ConsistencyProof, ErrorBody, EventsRecorded, InclusionProof, LedgerEntry, NodesStored,
    PodsStored, Refused, TokenOut, TooLarge,
};
use super::auth::Caller;
use super::error::ApiError;
use super::AppState;
use crate::auth::Action;
use crate::ingest::{self, Format};
use crate::store::{sha256_hex, IngestOutcome, NewRule};
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
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the body is larger than the limit of {limit} bytes (setting max_body_bytes)"),
            )
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
        let mut err = ApiError::unprocessable(format!("{what}: {} at {path}", e.inner()));
        err.field = (path != ".").then_some(path);
        err
    })
}

/// A service error about query parameters: a malformed request (400), not an invalid body.
fn in_query(e: crate::service::Error) -> ApiError {
    let mut a = ApiError::from(e);
    if a.status == StatusCode::UNPROCESSABLE_ENTITY {
        a.status = StatusCode::BAD_REQUEST;
    }
    a
}

/// A service error about a JSON body of `what`, its message prefixed the way the API always did
/// (`registry: url: ...`).
fn prefixed(what: &'static str) -> impl Fn(crate::service::Error) -> ApiError {
    move |e| {
        let mut a = ApiError::from(e);
        if a.status == StatusCode::UNPROCESSABLE_ENTITY {
            a.message = format!("{what}: {}", a.message);
        }
        a
    }
}

/// A whole list as every list endpoint answers it: `{"items": [...], "total": n}`.
fn list<T: serde::Serialize>(items: Vec<T>) -> Response {
    let total = items.len() as i64;
    Json(Page { items, total }).into_response()
}

/// `POST /api/v1/scans[?format=trivy]`: a raw scanner report; 201 new, 200 already stored.
#[utoipa::path(
    post, path = "/api/v1/scans", tag = "reports",
    description = "A raw scanner report (Trivy JSON, Grype JSON, CycloneDX JSON; detected, or named by `format`). Roles: ingest, security, admin.",
    params(("format" = Option<String>, Query, description = "trivy, grype or cyclonedx (detected when absent)")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "the report as the scanner wrote it"),
    responses((status = 201, description = "a new report", body = crate::store::IngestSummary), (status = 200, description = "the same bytes were stored before", body = crate::store::IngestSummary), BadBody, Refused, TooLarge, (status = 415, description = "not a known report format", body = ErrorBody)),
    extensions(("x-roles" = json!(["ingest", "security", "admin"])))
)]
#[tracing::instrument(skip_all, fields(token = %caller.0.name))]
pub async fn post_scan(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::SendData, None)?;
    let q = query_map(raw);
    let format = q.get("format").map(|f| Format::from_name(f)).transpose()?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    if body.is_empty() {
        return Err(ApiError::bad_request("the body is empty; send the report's JSON as the request body"));
    }
    let report = ingest::parse(&body, format)?;
    let outcome = state.service.ingest_report(Some(&caller.principal()), &report, &sha256_hex(&body)).await?;
    let status = match outcome {
        IngestOutcome::Created(_) => StatusCode::CREATED,
        IngestOutcome::Duplicate(_) => StatusCode::OK,
    };
    tracing::info!(status = status.as_u16(), artifact = %report.artifact, findings = report.findings.len(), "report received");
    Ok((status, Json(outcome.summary().clone())).into_response())
}

/// `GET /api/v1/images?limit=&offset=`.
#[utoipa::path(
    get, path = "/api/v1/images", tag = "estate",
    description = "Images (newest first). Roles: viewer, developer, manager, security, admin (developers and managers see their teams' images).",
    params(("limit" = Option<i64>, Query, description = "1 to 1000 (100)"), ("offset" = Option<i64>, Query, description = "(0)")),
    responses((status = 200, body = Page<ImageSummary>), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn list_images(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<ImageSummary>>, ApiError> {
    let q = query_map(raw);
    let limit = int_param(&q, "limit", 100)?;
    let offset = int_param(&q, "offset", 0)?;
    Ok(Json(state.service.images(Some(&caller.principal()), limit, offset).await?))
}

/// `GET /api/v1/images/{digest}`: by any of the image's digests.
#[utoipa::path(
    get, path = "/api/v1/images/{digest}", tag = "estate",
    description = "One image by any of its digests (manifest, index or config), with findings, packages, repositories and where it runs. Roles: viewer, security, admin; developers and managers for their teams' images.",
    params(("digest" = String, Path, description = "sha256:…")),
    responses((status = 200, body = app::types::ImageDetail), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused, (status = 404, description = "not found", body = ErrorBody)),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn get_image(
    State(state): State<AppState>,
    caller: Caller,
    Path(digest): Path<String>,
) -> Result<Json<app::types::ImageDetail>, ApiError> {
    crate::domain::Digest::parse(&digest).map_err(ApiError::bad_request)?;
    Ok(Json(state.service.image_detail(Some(&caller.principal()), &digest).await?))
}

/// `GET /api/v1/ownership-rules`.
#[utoipa::path(
    get, path = "/api/v1/ownership-rules", tag = "ownership",
    description = "Ownership rules. Roles: viewer, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::OwnershipRule>), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn list_rules(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.ownership_rules(Some(&caller.principal())).await?))
}

/// `POST /api/v1/ownership-rules` (admin): `{"kind": "repository_prefix", "pattern": "...", "team": "..."}`.
#[utoipa::path(
    post, path = "/api/v1/ownership-rules", tag = "ownership",
    description = "Adds an ownership rule. Roles: admin.",
    request_body = crate::store::NewRule,
    responses((status = 201, body = app::types::OwnershipRule), BadBody, Refused),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn create_rule(State(state): State<AppState>, caller: Caller, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    caller.require(Action::ManageEstateConfig, None)?;
    let rule: NewRule = json_body(&state, body, "ownership rule")?;
    let created = state.service.add_ownership_rule(Some(&caller.principal()), &rule).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/registries`: configured registries with their collection status (no secrets:
/// a password is only ever named by its environment variable).
#[utoipa::path(
    get, path = "/api/v1/registries", tag = "registries",
    description = "Configured registries with their collection status (a password is only named by its environment variable). Roles: viewer, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::RegistryRow>), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn list_registries(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.registries(Some(&caller.principal())).await?))
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

/// `POST /api/v1/registries/{name}/events`: the registry's notification envelope (configure the
/// registry's `notifications.endpoints` with this URL and an ingest token as its Authorization
/// header). Manifest pushes and deletions are recorded in the ledger (each event once) before
/// the answer; a refresh of each repository named follows in the background.
#[utoipa::path(
    post, path = "/api/v1/registries/{name}/events", tag = "registries",
    description = "The registry's notification envelope: pushes and deletions recorded in the ledger, the repositories named refreshed. Roles: ingest tokens bound to this registry, security, admin.",
    params(("name" = String, Path, description = "the registry's name in Drydock")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "the Distribution registry's notification envelope"),
    responses((status = 200, body = EventsRecorded), BadBody, Refused, (status = 404, description = "not found", body = ErrorBody), TooLarge),
    extensions(("x-roles" = json!(["ingest", "security", "admin"])))
)]
pub async fn registry_events(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let who = caller.principal();
    state.service.may_notify(Some(&who), &name)?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let parsed = crate::registry::notify::parse(&body, state.clock.now()).map_err(ApiError::unprocessable)?;
    let new = state.service.registry_events(Some(&who), &name, &parsed.events).await?;
    Ok(Json(EventsRecorded { recorded: new, duplicates: parsed.events.len() - new, ignored: parsed.ignored }).into_response())
}

/// A cluster name from a path or query: the team-name grammar (lowercase, digits, dashes).
fn cluster_name(name: &str) -> Result<(), ApiError> {
    crate::domain::ClusterName::parse(name).map(|_| ()).map_err(|e| ApiError::bad_request(format!("cluster: {e}")))
}

/// May `caller` post for cluster `name`? (Bindings of ingest tokens; collected clusters refused.)
/// Answers whether the cluster existed before.
async fn authorise_cluster(state: &AppState, caller: &Caller, name: &str) -> Result<bool, ApiError> {
    caller.require(Action::SendData, None)?;
    cluster_name(name)?;
    Ok(state.service.may_upload_to(Some(&caller.principal()), name).await?)
}

/// A Kubernetes upload from a caller who may post for `cluster`: 400 not JSON, 422 not a pod or
/// node list. Answers the upload and whether the cluster existed before.
async fn kube_upload(
    state: &AppState,
    caller: &Caller,
    cluster: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<(crate::k8s::Upload, bool), ApiError> {
    let existed = authorise_cluster(state, caller, cluster).await?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let upload = crate::k8s::parse(&body).map_err(|e| match e {
        crate::k8s::UploadError::NotJson(m) => ApiError::bad_request(m),
        crate::k8s::UploadError::Invalid(m) => ApiError::unprocessable(m),
    })?;
    Ok((upload, existed))
}

/// `POST /api/v1/clusters/{name}/pods`: a `PodList` (`kubectl get pods -A -o json`: the
/// cluster's complete state), the kubelet's `/pods` (that node's complete state) or one `Pod`.
/// Answers after the upload is committed: 201 when the cluster was new, else 200.
#[utoipa::path(
    post, path = "/api/v1/clusters/{name}/pods", tag = "runtime",
    description = "A PodList (the cluster's complete state), a kubelet's /pods (that node's complete state) or one Pod. Roles: ingest tokens bound to this cluster, security, admin; refused for a cluster collected from its API server.",
    params(("name" = String, Path, description = "cluster name (created upload-only when new)")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "Kubernetes JSON"),
    responses((status = 200, body = PodsStored), (status = 201, description = "the cluster was new", body = PodsStored), BadBody, Refused, TooLarge),
    extensions(("x-roles" = json!(["ingest", "security", "admin"])))
)]
pub async fn upload_pods(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let upload = match kube_upload(&state, &caller, &name, body).await? {
        (crate::k8s::Upload::Pods(p), _) => p,
        (crate::k8s::Upload::Nodes(_), _) => return Err(ApiError::unprocessable("this is a node list: send it to .../nodes")),
    };
    let (pods, containers, ended, existed) = state.service.upload_pods(Some(&caller.principal()), &name, &upload).await?;
    let status = if existed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(PodsStored { cluster: name, scope: upload.scope.label(), pods, containers, ended })).into_response())
}

/// `POST /api/v1/clusters/{name}/nodes`: a `NodeList` (`kubectl get nodes -o json`).
#[utoipa::path(
    post, path = "/api/v1/clusters/{name}/nodes", tag = "runtime",
    description = "A NodeList (`kubectl get nodes -o json`). Roles: ingest tokens bound to this cluster, security, admin.",
    params(("name" = String, Path, description = "cluster name")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "Kubernetes JSON"),
    responses((status = 200, body = NodesStored), BadBody, Refused, TooLarge),
    extensions(("x-roles" = json!(["ingest", "security", "admin"])))
)]
pub async fn upload_nodes(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let nodes = match kube_upload(&state, &caller, &name, body).await? {
        (crate::k8s::Upload::Nodes(n), _) => n,
        (crate::k8s::Upload::Pods(_), _) => return Err(ApiError::unprocessable("this is a pod list: send it to .../pods")),
    };
    let n = state.service.upload_nodes(Some(&caller.principal()), &name, &nodes).await?;
    Ok(Json(NodesStored { cluster: name, nodes: n }).into_response())
}

/// `POST /api/v1/clusters` (admin): `{"name", "server", "token_env", "ca_pem"}`; 201, and a first
/// collection starts.
#[utoipa::path(
    post, path = "/api/v1/clusters", tag = "runtime",
    description = "Configures a cluster's API server; its first collection is queued. Roles: admin.",
    request_body = crate::collect::cluster::NewCluster,
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
    description = "Clusters with their nodes and live pod and container counts. Roles: viewer, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::ClusterOverview>), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn list_clusters(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.clusters(Some(&caller.principal())).await?))
}

/// `GET /api/v1/workloads?cluster=&namespace=&team=&state=&workload=Kind/name&ended=true&limit=&offset=`.
#[utoipa::path(
    get, path = "/api/v1/workloads", tag = "runtime",
    description = "What runs, by workload and container. Roles: viewer, developer, manager, security, admin (developers and managers see their teams' workloads).",
    params(("cluster" = Option<String>, Query,), ("namespace" = Option<String>, Query,), ("team" = Option<String>, Query,),
        ("state" = Option<String>, Query, description = "running, waiting, terminated or unknown"), ("workload" = Option<String>, Query, description = "Kind/name"),
        ("ended" = Option<bool>, Query, description = "include pods that ended"), ("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<app::types::WorkloadRow>), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
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
    description = "Running images not in any configured registry, from a registry not approved, never scanned, or scanned too long ago. Roles: viewer, developer, manager, security, admin (team-scoped for developers and managers).",
    responses((status = 200, body = Page<app::types::UnaccountedEntry>), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn list_unaccounted(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.unaccounted(Some(&caller.principal())).await?))
}

/// `POST /api/v1/audit/k8s[?cluster=NAME]`: an `EventList` (the API server's audit webhook),
/// one `Event`, or JSON lines; `audit.k8s.io/v1` and `v1beta1`. Facts only are kept, each event
/// once; answers after commit: 201 when any event was new, else 200.
#[utoipa::path(
    post, path = "/api/v1/audit/k8s", tag = "runtime",
    description = "Kubernetes audit events (an EventList, one Event or JSON lines; audit.k8s.io/v1 and v1beta1); each event recorded once. Roles: ingest tokens bound to the cluster, security, admin.",
    params(("cluster" = Option<String>, Query, description = "(default)")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "audit events"),
    responses((status = 200, description = "nothing new", body = AuditRecorded), (status = 201, description = "new events recorded", body = AuditRecorded), BadBody, Refused, TooLarge),
    extensions(("x-roles" = json!(["ingest", "security", "admin"])))
)]
pub async fn k8s_audit(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let q = query_map(raw);
    let cluster = q.get("cluster").cloned().unwrap_or_else(|| "default".into());
    let who = caller.principal();
    caller.require(Action::SendData, None)?;
    cluster_name(&cluster)?;
    state.service.may_send_audit(Some(&who), &cluster)?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let facts = crate::k8s::audit::parse(&body).map_err(ApiError::unprocessable)?;
    let new = state.service.record_audit(Some(&who), &cluster, &facts).await?;
    let status = if new > 0 { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(AuditRecorded { cluster, events: facts.len(), recorded: new })).into_response())
}

/// `GET /api/v1/ledger/checkpoint`: the signed checkpoint covering every committed entry (text/plain).
#[utoipa::path(
    get, path = "/api/v1/ledger/checkpoint", tag = "ledger",
    description = "The signed checkpoint (a signed note) covering every committed entry. Roles: viewer, developer, manager, security, admin.",
    responses((status = 200, description = "the signed note", content_type = "text/plain", body = String), Refused, (status = 503, description = "the ledger has no signing key", body = ErrorBody)),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn ledger_checkpoint(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let note = state.service.checkpoint(Some(&caller.principal())).await?;
    Ok(([(axum::http::header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response())
}

/// `GET /api/v1/ledger/entries?start=S&end=E` (end exclusive, at most 10,000 a call).
#[utoipa::path(
    get, path = "/api/v1/ledger/entries", tag = "ledger",
    description = "Entries start..end (end exclusive, at most 10,000 a call) with their exact bytes; a bare array (outside verifiers read it). Roles: viewer, security, admin.",
    params(("start" = Option<i64>, Query, description = "(0)"), ("end" = Option<i64>, Query, description = "(the log's size)")),
    responses((status = 200, body = Vec<LedgerEntry>), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "security", "admin"])))
)]
pub async fn ledger_entries(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    use base64::Engine as _;
    let q = query_map(raw);
    let start = int_param(&q, "start", 0)?;
    let end = q.contains_key("end").then(|| int_param(&q, "end", 0)).transpose()?;
    let rows = state.service.ledger_entries(Some(&caller.principal()), start, end).await.map_err(in_query)?;
    let items: Vec<LedgerEntry> = rows
        .into_iter()
        .filter_map(|r| {
            let entry = r.entry?;
            Some(LedgerEntry {
                index: r.index?,
                time: crate::ledger::entry_time(&r.time),
                actor: r.actor,
                kind: r.kind,
                subject: r.subject,
                payload: serde_json::from_str::<serde_json::Value>(&r.payload).unwrap_or(serde_json::Value::Null),
                leaf: base64::engine::general_purpose::STANDARD.encode(entry.as_bytes()),
            })
        })
        .collect();
    Ok(Json(items).into_response())
}

fn b64_hashes(h: &[crate::ledger::merkle::Hash]) -> Vec<String> {
    use base64::Engine as _;
    h.iter().map(|x| base64::engine::general_purpose::STANDARD.encode(x)).collect()
}

/// `GET /api/v1/ledger/proof/inclusion?index=I&size=N`.
#[utoipa::path(
    get, path = "/api/v1/ledger/proof/inclusion", tag = "ledger",
    description = "The inclusion proof of entry `index` in the tree of `size` entries. Roles: viewer, developer, manager, security, admin.",
    params(("index" = i64, Query,), ("size" = Option<i64>, Query, description = "(the log's size)")),
    responses((status = 200, body = InclusionProof), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn ledger_inclusion(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q = query_map(raw);
    let index = q.get("index").ok_or_else(|| ApiError::bad_request("index is required"))?;
    let index: i64 = index.parse().ok().filter(|i| *i >= 0).ok_or_else(|| ApiError::bad_request("index must be a non-negative integer"))?;
    let size = q.contains_key("size").then(|| int_param(&q, "size", 0)).transpose()?;
    let (size, proof) = state.service.inclusion_proof(Some(&caller.principal()), index, size).await.map_err(in_query)?;
    Ok(Json(InclusionProof { index, size, hashes: b64_hashes(&proof) }).into_response())
}

/// `GET /api/v1/ledger/proof/consistency?from=M&to=N`.
#[utoipa::path(
    get, path = "/api/v1/ledger/proof/consistency", tag = "ledger",
    description = "The consistency proof from the tree of `from` entries to that of `to`. Roles: viewer, developer, manager, security, admin.",
    params(("from" = i64, Query,), ("to" = Option<i64>, Query, description = "(the log's size)")),
    responses((status = 200, body = ConsistencyProof), (status = 400, description = "a parameter or the body is malformed", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn ledger_consistency(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Response, ApiError> {
    let q = query_map(raw);
    let from = q.get("from").and_then(|v| v.parse::<i64>().ok()).ok_or_else(|| ApiError::bad_request("from must be an integer"))?;
    let to = q.contains_key("to").then(|| int_param(&q, "to", 0)).transpose()?;
    let (to, proof) = state.service.consistency_proof(Some(&caller.principal()), from, to).await.map_err(in_query)?;
    Ok(Json(ConsistencyProof { from, to, hashes: b64_hashes(&proof) }).into_response())
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
