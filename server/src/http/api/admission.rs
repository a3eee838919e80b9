//! The admission webhook (`POST /api/v1/admission/validate`) and its settings.

use super::*;
use app::types::AdmissionSettings;
use axum::http::{header, HeaderMap};

/// The `ETag` of a document security edits whole: its version, quoted.
fn etag(version: &str) -> [(header::HeaderName, String); 1] {
    [(header::ETAG, format!("\"{version}\""))]
}

/// The version a PUT's `If-Match` names (none, or `*`: whatever is current). A document changed
/// since that version is refused with 409 and nothing is written.
fn if_match(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else { return Ok(None) };
    let value = value.to_str().map(str::trim).unwrap_or_default();
    if value == "*" {
        return Ok(None);
    }
    match value.strip_prefix('"').and_then(|v| v.strip_suffix('"')) {
        Some(version) if !version.contains('"') => Ok(Some(version.to_string())),
        _ => {
            Err(ApiError::bad_request(format!("If-Match: {value:?} is not one entity tag: send the ETag a GET answered, quotes included")))
        }
    }
}

/// `POST /api/v1/admission/validate[?cluster=NAME]`: the Kubernetes API server's AdmissionReview.
#[utoipa::path(
    post, path = "/api/v1/admission/validate", tag = "admission",
    description = "A validating admission webhook: an admission.k8s.io/v1 AdmissionReview of a Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob in, the AdmissionReview answer out (`response.uid` echoed). Each container's image (by digest, or by a tag Drydock knows) is judged from stored data: campaign items inside their deadline and policies inside their grace are warnings; past them the workload is denied in `enforce` (HTTP-style code 403 in `status`), warned in `warn`; approved exceptions hold until they end; any other kind is allowed with a warning. `cluster` names the cluster for its environment rules. `dryRun` requests are not counted. Roles: admission.",
    params(("cluster" = Option<String>, Query, description = "the cluster the API server belongs to (environment rules)")),
    request_body(content = serde_json::Value, content_type = "application/json", description = "an AdmissionReview"),
    responses((status = 200, description = "the AdmissionReview answer", body = serde_json::Value), BadBody, Refused),
    extensions(("x-roles" = json!(["admission"])))
)]
pub async fn admission_validate(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require(Action::ReviewAdmission, None)?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let review: serde_json::Value =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))?;
    let q = query_map(raw);
    let cluster = q.get("cluster").filter(|c| !c.is_empty());
    let (who, version) = (caller.principal(), caller.0.data_version);
    Ok(Json(state.service.admission_review(Some(&who), version, &review, cluster.map(String::as_str)).await?))
}

/// `GET /api/v1/admission/settings`.
#[utoipa::path(
    get, path = "/api/v1/admission/settings", tag = "admission",
    description = "The admission settings: `default_mode` (off, warn, enforce), `namespaces` and `environments` (name → mode; a namespace's wins over its environment's, which wins over the default), `unknown_images` (allow or deny, in enforce), `policies` (policy id → `{enforce, grace_days}`). The `ETag` header is their version, for a PUT's `If-Match`. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = AdmissionSettings, headers(("ETag" = String, description = "the settings' version"))), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn get_admission_settings(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let (settings, version) = state.service.admission_settings(Some(&caller.principal())).await?;
    Ok((etag(&version), Json(settings)).into_response())
}

/// `PUT /api/v1/admission/settings`: the keys sent replace theirs; the others keep their values.
#[utoipa::path(
    put, path = "/api/v1/admission/settings", tag = "admission",
    description = "Replaces the settings' keys the body sends (the others keep their values: two changes of different keys both hold), recorded in the ledger; an unknown key or value is refused naming it. With `If-Match` (the `ETag` of a GET), settings changed since are refused with 409 and nothing is written. Answers the settings in force and their new `ETag`. Roles: security, admin.",
    params(("If-Match" = Option<String>, Header, description = "the ETag of the settings this change was made over")),
    request_body = AdmissionSettings,
    responses((status = 200, body = AdmissionSettings, headers(("ETag" = String, description = "the settings' new version"))), BadBody, Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn put_admission_settings(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let seen = if_match(&headers)?;
    let patch: serde_json::Value = json_body(&state, body, "settings")?;
    let (settings, version) = state.service.put_admission_settings(Some(&caller.principal()), &patch, seen.as_deref()).await?;
    Ok((etag(&version), Json(settings)).into_response())
}

/// `GET /api/v1/vendor-images`.
#[utoipa::path(
    get, path = "/api/v1/vendor-images", tag = "admission",
    description = "The register of vendor images: `{\"items\": [{\"repository\", \"vendor\", \"owner_team\", \"owner_person\", \"licence\", \"allowed_teams\", \"allowed_namespaces\", \"environments\", \"not_environments\"}], \"total\"}` — who is responsible for each one's updates and where it may run. The `ETag` header is the register's version, for a PUT's `If-Match`. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::VendorImage>, headers(("ETag" = String, description = "the register's version"))), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn get_vendor_images(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    let (page, version) = state.service.vendor_images(Some(&caller.principal())).await?;
    Ok((etag(&version), Json(page)).into_response())
}

/// `PUT /api/v1/vendor-images`: the whole register.
#[utoipa::path(
    put, path = "/api/v1/vendor-images", tag = "admission",
    description = "Replaces the register (a JSON array of entries; `repository` is `registry/name` or a prefix ending in `/*`, exactly one of `owner_team` and `owner_person`); each entry checked before any is saved (422 names `[i].field`), recorded in the ledger with the register before and after; the policy `vendor-images` judges the running containers again and the admission webhook applies it at once. With `If-Match` (the `ETag` of a GET), a register changed since is refused with 409 and nothing is written. Roles: security, admin.",
    params(("If-Match" = Option<String>, Header, description = "the ETag of the register this one replaces")),
    request_body = Vec<app::types::VendorImage>,
    responses((status = 200, body = Page<app::types::VendorImage>, headers(("ETag" = String, description = "the register's new version"))), BadBody, Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn put_vendor_images(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let seen = if_match(&headers)?;
    let entries: Vec<app::types::VendorImage> = json_body(&state, body, "vendor images")?;
    let (page, version) = state.service.put_vendor_images(Some(&caller.principal()), entries, seen.as_deref()).await?;
    Ok((etag(&version), Json(page)).into_response())
}
