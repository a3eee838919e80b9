//! Compliance: the estate search and the KEV catalogue upload.

#[allow(unused_imports)]
use super::*;
use app::types::{KevCatalogInfo, SearchQuery, SearchResult};

/// `GET /api/v1/search?cve=ID` or `?package=PURL&range=VERS`: affected images, their matches and
/// where they run.
#[utoipa::path(
    get, path = "/api/v1/search", tag = "compliance",
    description = "Every open finding of a vulnerability (`cve`), or of a package (`package`, a purl without version; qualifiers ignored) whose installed version is in `range` (purl `vers`, e.g. `vers:deb/<1.1.1n-0+deb11u4`), by image: `items` and `total` hold the images the caller may see and `running` the workloads the caller may see; `unique_vulnerabilities`, `instances`, `running_images` and `registry_only_images` are estate-wide. Roles: viewer, developer, manager, security, admin.",
    params(("cve" = Option<String>, Query, description = "a vulnerability id"),
        ("package" = Option<String>, Query, description = "pkg:type/namespace/name"),
        ("range" = Option<String>, Query, description = "vers:<scheme>/<constraints>; with package"),
        ("limit" = Option<i64>, Query, description = "items per page, 1..5000 (500)"), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = SearchResult),
        (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "the question is not valid (`field` names cve, package, range or limit)", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "developer", "manager", "security", "admin"])))
)]
pub async fn search(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Json<SearchResult>, ApiError> {
    let q = query_map(raw);
    let query = SearchQuery {
        cve: q.get("cve").cloned(),
        package: q.get("package").cloned(),
        range: q.get("range").cloned(),
        limit: q.contains_key("limit").then(|| int_param(&q, "limit", 500)).transpose()?,
        offset: q.contains_key("offset").then(|| int_param(&q, "offset", 0)).transpose()?,
    };
    Ok(Json(state.service.search(Some(&caller.principal()), &query).await?))
}

/// `POST /api/v1/kev`: the CISA Known Exploited Vulnerabilities catalogue as CISA publishes it;
/// it replaces the previous upload.
#[utoipa::path(
    post, path = "/api/v1/kev", tag = "compliance",
    description = "The CISA KEV catalogue JSON (known_exploited_vulnerabilities.json), replacing the previous upload; KEV findings get the tighter SLA. Roles: security, admin.",
    request_body(content = serde_json::Value, content_type = "application/json", description = "CISA's catalogue as published"),
    responses((status = 201, body = KevCatalogInfo), BadBody, Refused, TooLarge),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn upload_kev(State(state): State<AppState>, caller: Caller, body: Result<Bytes, BytesRejection>) -> Result<Response, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let body = body_bytes(body, state.config.max_body_bytes)?;
    let info = state.service.upload_kev(Some(&caller.principal()), &body).await?;
    tracing::info!(version = %info.version, entries = info.entries, "KEV catalogue uploaded");
    Ok((StatusCode::CREATED, Json(info)).into_response())
}
