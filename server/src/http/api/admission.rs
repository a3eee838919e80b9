//! The admission webhook (`POST /api/v1/admission/validate`) and its settings.

use super::*;
use app::types::AdmissionSettings;

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
    description = "The admission settings: `default_mode` (off, warn, enforce), `namespaces` and `environments` (name → mode; a namespace's wins over its environment's, which wins over the default), `unknown_images` (allow or deny, in enforce), `policies` (policy id → `{enforce, grace_days}`). Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = AdmissionSettings), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn get_admission_settings(State(state): State<AppState>, caller: Caller) -> Result<Json<AdmissionSettings>, ApiError> {
    Ok(Json(state.service.admission_settings(Some(&caller.principal())).await?))
}

/// `PUT /api/v1/admission/settings`: the keys sent replace theirs; the others keep their values.
#[utoipa::path(
    put, path = "/api/v1/admission/settings", tag = "admission",
    description = "Replaces the settings' keys the body sends (the others keep their values), recorded in the ledger; an unknown key or value is refused naming it. Answers the settings in force. Roles: security, admin.",
    request_body = AdmissionSettings,
    responses((status = 200, body = AdmissionSettings), BadBody, Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn put_admission_settings(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<AdmissionSettings>, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let patch: serde_json::Value = json_body(&state, body, "settings")?;
    Ok(Json(state.service.put_admission_settings(Some(&caller.principal()), &patch).await?))
}

/// `GET /api/v1/vendor-images`.
#[utoipa::path(
    get, path = "/api/v1/vendor-images", tag = "admission",
    description = "The register of vendor images: `{\"items\": [{\"repository\", \"vendor\", \"owner_team\", \"owner_person\", \"licence\", \"allowed_teams\", \"allowed_namespaces\", \"environments\", \"not_environments\"}], \"total\"}` — who is responsible for each one's updates and where it may run. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::VendorImage>), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn get_vendor_images(State(state): State<AppState>, caller: Caller) -> Result<Json<Page<app::types::VendorImage>>, ApiError> {
    Ok(Json(state.service.vendor_images(Some(&caller.principal())).await?))
}

/// `PUT /api/v1/vendor-images`: the whole register.
#[utoipa::path(
    put, path = "/api/v1/vendor-images", tag = "admission",
    description = "Replaces the register (a JSON array of entries; `repository` is `registry/name` or a prefix ending in `/*`, exactly one of `owner_team` and `owner_person`); each entry checked before any is saved (422 names `[i].field`), recorded in the ledger with the register before and after; the policy `vendor-images` judges the running containers again and the admission webhook applies it at once. Roles: security, admin.",
    request_body = Vec<app::types::VendorImage>,
    responses((status = 200, body = Page<app::types::VendorImage>), BadBody, Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn put_vendor_images(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Page<app::types::VendorImage>>, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let entries: Vec<app::types::VendorImage> = json_body(&state, body, "vendor images")?;
    Ok(Json(state.service.put_vendor_images(Some(&caller.principal()), entries, None).await?))
}
