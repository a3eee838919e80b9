//! What comes in: scanner reports, registry notifications, pod and node lists, Kubernetes audit
//! events. Each is authorised (with the ingest token's bindings) before its body is read.

use super::*;
use crate::domain::ClusterName;

/// `POST /api/v1/scans[?format=trivy]`: a raw scanner report; 201 new, 200 already stored.
#[utoipa::path(
    post, path = "/api/v1/scans", tag = "reports",
    description = "A raw scanner report (Trivy JSON, Grype JSON, CycloneDX JSON; detected, or named by `format`). Roles: ingest, security, admin.",
    params(("format" = Option<String>, Query, description = "trivy, grype or cyclonedx (detected when absent)")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "the report as the scanner wrote it"),
    responses((status = 201, description = "a new report", body = app::types::IngestSummary), (status = 200, description = "the same bytes were stored before", body = app::types::IngestSummary), BadBody, Refused, TooLarge, (status = 415, description = "not a known report format", body = ErrorBody)),
    extensions(("x-roles" = json!(["ingest", "security", "admin"])))
)]
#[tracing::instrument(skip_all, fields(token = %caller.0.name))]
pub async fn post_scan(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let mut format = "unknown";
    let answer = receive_scan(&state, &caller, raw, body, &mut format).await;
    let outcome = match &answer {
        Ok((StatusCode::CREATED, _)) => "created",
        Ok(_) => "duplicate",
        Err(ApiError(e)) if e.status() == 503 => "unavailable",
        Err(ApiError(e)) if e.status() >= 500 => "failed",
        Err(_) => "rejected",
    };
    crate::metrics::get().ingest_reports.with_label_values(&[format, outcome]).inc();
    answer.map(IntoResponse::into_response)
}

/// Reads, parses and stores one report; `format` is set once the body is known to be one.
async fn receive_scan(
    state: &AppState,
    caller: &Caller,
    raw: Option<String>,
    body: Result<Bytes, BytesRejection>,
    format: &mut &'static str,
) -> Result<(StatusCode, Json<app::types::IngestSummary>), ApiError> {
    caller.require(Action::SendData, None)?;
    let q = query_map(raw);
    let wanted = q.get("format").map(|f| Format::from_name(f)).transpose()?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    crate::metrics::get().ingest_bytes.inc_by(body.len() as u64);
    if body.is_empty() {
        return Err(ApiError::bad_request("the body is empty; send the report's JSON as the request body"));
    }
    let (report, sha) = read_report(body, wanted).await?;
    // As the `format` parameter names it: trivy, grype, cyclonedx.
    *format = report.format.trim_end_matches("-json");
    let outcome = state.service.ingest_report(Some(&caller.principal()), &report, &sha).await?;
    let status = match outcome {
        IngestOutcome::Created(_) => StatusCode::CREATED,
        IngestOutcome::Duplicate(_) => StatusCode::OK,
    };
    tracing::info!(status = status.as_u16(), artifact = %report.artifact, findings = report.findings.len(), "report received");
    Ok((status, Json(outcome.summary().clone())))
}

/// A body from which the report is hashed on a thread of its own while it is parsed: 1 MiB
/// (Grype's 1,509 findings are 3.8 MB, some 2 ms of hashing).
const HASH_BESIDE_BYTES: usize = 1 << 20;

/// The report a body holds, and the body's SHA-256. Parsing and hashing are CPU work of up to
/// seconds: off the async workers, so the requests beside it (the admission webhook, pages) are
/// not held up behind it. Below `HASH_BESIDE_BYTES` one thread does both: a second costs more
/// than it saves beside a client on the same cores.
async fn read_report(body: Bytes, wanted: Option<Format>) -> Result<(crate::ingest::Report, String), ApiError> {
    let internal = |_| ApiError(crate::service::Error::Internal);
    if body.len() < HASH_BESIDE_BYTES {
        let (report, sha) =
            tokio::task::spawn_blocking(move || (crate::ingest::parse(&body, wanted), sha256_hex(&body))).await.map_err(internal)?;
        return Ok((report?, sha));
    }
    let hashed = tokio::task::spawn_blocking({
        let body = body.clone();
        move || sha256_hex(&body)
    });
    let report = tokio::task::spawn_blocking(move || crate::ingest::parse(&body, wanted)).await.map_err(internal)??;
    Ok((report, hashed.await.map_err(internal)?))
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

/// A cluster name from a path or query, parsed once here: the team-name grammar (lowercase,
/// digits, dashes); the service and the store take the parsed name.
fn cluster_name(name: &str) -> Result<ClusterName, ApiError> {
    ClusterName::parse(name)
        .map_err(|e| ApiError(crate::service::Error::Malformed { field: Some("cluster".into()), message: format!("cluster: {e}") }))
}

/// May `caller` post for cluster `name`? (Bindings of ingest tokens; collected clusters refused.)
/// Answers the parsed name and whether the cluster existed before.
async fn authorise_cluster(state: &AppState, caller: &Caller, name: &str) -> Result<(ClusterName, bool), ApiError> {
    caller.require(Action::SendData, None)?;
    let cluster = cluster_name(name)?;
    let existed = state.service.may_upload_to(Some(&caller.principal()), &cluster).await?;
    Ok((cluster, existed))
}

/// A Kubernetes upload from a caller who may post for `cluster`: 400 not JSON, 422 not a pod or
/// node list. Answers the upload, the cluster's parsed name and whether it existed before.
async fn kube_upload(
    state: &AppState,
    caller: &Caller,
    cluster: &str,
    body: Result<Bytes, BytesRejection>,
) -> Result<(crate::k8s::Upload, ClusterName, bool), ApiError> {
    let (cluster, existed) = authorise_cluster(state, caller, cluster).await?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let upload = crate::k8s::parse(&body).map_err(|e| match e {
        crate::k8s::UploadError::NotJson(m) => ApiError::bad_request(m),
        crate::k8s::UploadError::Invalid(m) => ApiError::unprocessable(m),
    })?;
    Ok((upload, cluster, existed))
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
    let (upload, cluster) = match kube_upload(&state, &caller, &name, body).await? {
        (crate::k8s::Upload::Pods(p), cluster, _) => (p, cluster),
        (crate::k8s::Upload::Nodes(_), ..) => return Err(ApiError::unprocessable("this is a node list: send it to .../nodes")),
    };
    let (pods, containers, ended, existed) = state.service.upload_pods(Some(&caller.principal()), &cluster, &upload).await?;
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
    let (nodes, cluster) = match kube_upload(&state, &caller, &name, body).await? {
        (crate::k8s::Upload::Nodes(n), cluster, _) => (n, cluster),
        (crate::k8s::Upload::Pods(_), ..) => return Err(ApiError::unprocessable("this is a pod list: send it to .../pods")),
    };
    let n = state.service.upload_nodes(Some(&caller.principal()), &cluster, &nodes).await?;
    Ok(Json(NodesStored { cluster: name, nodes: n }).into_response())
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
    let parsed = cluster_name(&cluster)?;
    state.service.may_send_audit(Some(&who), &parsed)?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let facts = crate::k8s::audit::parse(&body).map_err(ApiError::unprocessable)?;
    let new = state.service.record_audit(Some(&who), &parsed, &facts).await?;
    let status = if new > 0 { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(AuditRecorded { cluster, events: facts.len(), recorded: new })).into_response())
}
