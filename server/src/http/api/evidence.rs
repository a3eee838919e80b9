//! The lists the checklist's answers link to (`service/evidence.rs`), each `{"items", "total"}`.

use super::*;
use app::types::{CampaignItem, OutdatedLibrary, PodAccess, PushEvent, TeamNotice};

type Paging = (Option<i64>, Option<i64>);

fn paging(q: &HashMap<String, String>) -> Result<Paging, ApiError> {
    let limit = q.contains_key("limit").then(|| int_param(q, "limit", 100)).transpose()?;
    let offset = q.contains_key("offset").then(|| int_param(q, "offset", 0)).transpose()?;
    Ok((limit, offset))
}

/// A `true`/`false` query parameter (absent: false); anything else is 422 naming it.
pub(super) fn flag(q: &HashMap<String, String>, name: &str) -> Result<bool, ApiError> {
    match q.get(name).map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(other) => Err(crate::service::Error::invalid(name, format!("{other:?} is not true or false")).into()),
    }
}

/// `GET /api/v1/pushes`.
#[utoipa::path(
    get, path = "/api/v1/pushes", tag = "forensics",
    description = "Pushes the registries notified Drydock of, newest first: registry, repository, tag, digest, the account that pushed, from where, the image's team. Developers and managers see pushes of their teams' images and of images of no team (or unknown). `limit` 1..1000 (100), `offset`. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<PushEvent>), (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "`field` names limit or offset", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_pushes(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<PushEvent>>, ApiError> {
    let (limit, offset) = paging(&query_map(raw))?;
    Ok(Json(state.service.pushes(Some(&caller.principal()), limit, offset).await?))
}

/// `GET /api/v1/pod-access[?exec=true]`.
#[utoipa::path(
    get, path = "/api/v1/pod-access", tag = "forensics",
    description = "Audited actions on pods from the clusters' Kubernetes audit logs, one per request, newest first: who created, changed, deleted or exec'd, attached or port-forwarded into which pod (reads are left out), from where, with what answer. `exec=true` keeps exec, attach and port-forward. Developers and managers see pods of their teams and of no team (or never recorded). `limit` 1..1000 (100), `offset`. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("exec" = Option<bool>, Query,), ("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<PodAccess>), (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "`field` names exec, limit or offset", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_pod_access(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<PodAccess>>, ApiError> {
    let q = query_map(raw);
    let exec = flag(&q, "exec")?;
    let (limit, offset) = paging(&q)?;
    Ok(Json(state.service.pod_access(Some(&caller.principal()), exec, limit, offset).await?))
}

/// `GET /api/v1/outdated-libraries`.
#[utoipa::path(
    get, path = "/api/v1/outdated-libraries", tag = "compliance",
    description = "Application libraries (npm, PyPI, Maven, Go, Cargo, RubyGems, NuGet, Composer, Hex, Pub, CocoaPods, Swift packages) at a version with an open vulnerability that a later version fixes: package, version, the fixed versions named, vulnerabilities, worst severity, images carrying it; worst and most widespread first. Developers and managers count their teams' images and images of no team. `limit` 1..1000 (100), `offset`. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<OutdatedLibrary>), (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "`field` names limit or offset", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_outdated_libraries(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<OutdatedLibrary>>, ApiError> {
    let (limit, offset) = paging(&query_map(raw))?;
    Ok(Json(state.service.outdated_libraries(Some(&caller.principal()), limit, offset).await?))
}

/// `GET /api/v1/overdue-items`.
#[utoipa::path(
    get, path = "/api/v1/overdue-items", tag = "campaigns",
    description = "Campaign items still outstanding (open, acknowledged, waiting for verification) past their deadline, across campaigns, the longest overdue first. Developers and managers see their teams' items and items of no team. `limit` 1..1000 (100), `offset`. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<CampaignItem>), (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "`field` names limit or offset", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_overdue_items(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<CampaignItem>>, ApiError> {
    let (limit, offset) = paging(&query_map(raw))?;
    Ok(Json(state.service.overdue_items(Some(&caller.principal()), limit, offset).await?))
}

/// `GET /api/v1/team-notices`.
#[utoipa::path(
    get, path = "/api/v1/team-notices", tag = "campaigns",
    description = "How each team with outstanding campaign items is told: its outstanding and overdue items, the escalation-ladder levels its own e-mail or webhook contacts cover (none: only the required-updates page, the inbox and the global contacts), messages sent to it and given up on in the last 30 days, the last sent. `team` null: items of no team. Developers and managers see their teams. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = Page<TeamNotice>), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_team_notices(State(state): State<AppState>, caller: Caller) -> Result<Json<Page<TeamNotice>>, ApiError> {
    Ok(Json(state.service.team_notices(Some(&caller.principal())).await?))
}
