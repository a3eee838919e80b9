//! Compliance: the estate search and the KEV catalogue upload.

#[allow(unused_imports)]
use super::*;
use crate::service::policies::FailingWindow;
use app::types::{KevCatalogInfo, SearchQuery, SearchResult};

/// `GET /api/v1/search?cve=ID` or `?package=PURL&range=VERS`: affected images, their matches and
/// where they run.
#[utoipa::path(
    get, path = "/api/v1/search", tag = "compliance",
    description = "Every open finding of a vulnerability (`cve`), or of a package (`package`, a purl without version; qualifiers ignored) whose installed version is in `range` (purl `vers`, e.g. `vers:deb/<1.1.1n-0+deb11u4`), by image: `items` and `total` hold the images the caller may see and `running` the workloads the caller may see; `unique_vulnerabilities`, `instances`, `running_images` and `registry_only_images` are estate-wide. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("cve" = Option<String>, Query, description = "a vulnerability id"),
        ("package" = Option<String>, Query, description = "pkg:type/namespace/name"),
        ("range" = Option<String>, Query, description = "vers:<scheme>/<constraints>; with package"),
        ("limit" = Option<i64>, Query, description = "items per page, 1..5000 (500)"), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = SearchResult),
        (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "the question is not valid (`field` names cve, package, range or limit)", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
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

/// `GET /api/v1/risk`: vulnerabilities ranked by exposure ("fix these first").
#[utoipa::path(
    get, path = "/api/v1/risk", tag = "compliance",
    description = "Vulnerabilities ranked by score, highest first, from the stored ranking (made again within a minute of a change): unique affected images, running instances, containers by environment, KEV, EPSS, severity, teams. `formula` states the score. Viewers, security and admin see the estate; developers and managers their teams; `team` asks for one team (its details' readers). Roles: viewer, auditor, developer, manager, security, admin.",
    params(("team" = Option<String>, Query, description = "one team's ranking"),
        ("limit" = Option<i64>, Query, description = "items per page, 1..1000 (100)"), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = app::types::RiskList),
        (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 404, description = "no such team", body = ErrorBody),
        (status = 422, description = "`field` names team, limit or offset", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn risk(State(state): State<AppState>, caller: Caller, RawQuery(raw): RawQuery) -> Result<Json<app::types::RiskList>, ApiError> {
    let q = query_map(raw);
    let limit = q.contains_key("limit").then(|| int_param(&q, "limit", 100)).transpose()?;
    let offset = q.contains_key("offset").then(|| int_param(&q, "offset", 0)).transpose()?;
    let team = q.get("team").filter(|t| !t.is_empty());
    Ok(Json(state.service.risk(Some(&caller.principal()), team.map(String::as_str), limit, offset).await?))
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

/// `GET /api/v1/policies`.
#[utoipa::path(
    get, path = "/api/v1/policies", tag = "compliance",
    description = "Every policy with its parameters, scope and, from the last evaluation, how many subjects it judges and fails. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = Vec<app::types::PolicyView>), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_policies(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<app::types::PolicyView>>, ApiError> {
    Ok(Json(state.service.policies(Some(&caller.principal())).await?))
}

/// `PUT /api/v1/policies`: `[{"id", "enabled", "scope", "params"}]`; policies not named keep theirs.
#[utoipa::path(
    put, path = "/api/v1/policies", tag = "compliance",
    description = "Saves the policies named (`[{\"id\", \"enabled\", \"scope\", \"params\"}]`; null params: the defaults), each checked before any is saved, each recorded in the ledger; the estate is judged again at once. Answers every policy. Roles: security, admin.",
    request_body = Vec<app::types::PolicyInput>,
    responses((status = 200, body = Vec<app::types::PolicyView>), BadBody, Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn put_policies(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let list: Vec<app::types::PolicyInput> = json_body(&state, body, "policies")?;
    Ok(Json(state.service.save_policies(Some(&caller.principal()), &list).await?).into_response())
}

/// `GET /api/v1/environment-rules`.
#[utoipa::path(
    get, path = "/api/v1/environment-rules", tag = "compliance",
    description = "Environment rules: (cluster, namespace pattern) → environment, production and internet-facing flags. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = Page<app::types::EnvironmentRuleView>), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_environment_rules(State(state): State<AppState>, caller: Caller) -> Result<Response, ApiError> {
    Ok(list(state.service.environment_rules(Some(&caller.principal())).await?))
}

/// `POST /api/v1/environment-rules` (admin).
#[utoipa::path(
    post, path = "/api/v1/environment-rules", tag = "compliance",
    description = "Adds an environment rule `{\"cluster\" (or \"*\"), \"namespace\" (a name or pattern with *), \"environment\", \"production\", \"internet_facing\"}`. Roles: admin.",
    request_body = app::types::NewEnvironmentRule,
    responses((status = 201, body = app::types::EnvironmentRuleView), BadBody, Refused),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn create_environment_rule(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManageEstateConfig, None)?;
    let rule: app::types::NewEnvironmentRule = json_body(&state, body, "environment rule")?;
    let created = state.service.add_environment_rule(Some(&caller.principal()), &rule).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/scorecards`: every team ranked, worst first.
#[utoipa::path(
    get, path = "/api/v1/scorecards", tag = "compliance",
    description = "The managers' overview: every team's score and grade (worst first), subjects judged and failing, last week's score. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = app::types::Scorecards), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn scorecards(State(state): State<AppState>, caller: Caller) -> Result<Json<app::types::Scorecards>, ApiError> {
    Ok(Json(state.service.scorecards(Some(&caller.principal())).await?))
}

/// `GET /api/v1/policy-results`: the subjects behind a policy's counts.
#[utoipa::path(
    get, path = "/api/v1/policy-results", tag = "compliance",
    description = "One policy's results from the last evaluation, failing first (the longest failing first): subject, team, environment, whether it passed, the reason. `failing=true` lists only those failing (their `total` is the policy's failing count for the caller). Developers and managers see their teams' subjects and those of no team. `limit` 1..5000 (500), `offset`. Roles: viewer, auditor, developer, manager, security, admin.",
    params(("policy" = String, Query, description = "a policy id"), ("failing" = Option<bool>, Query,),
        ("limit" = Option<i64>, Query,), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<app::types::PolicyResultRow>), (status = 400, description = "limit or offset is not a number", body = ErrorBody),
        (status = 422, description = "`field` names policy, failing or limit", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn policy_results(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<app::types::PolicyResultRow>>, ApiError> {
    let q = query_map(raw);
    let limit = q.contains_key("limit").then(|| int_param(&q, "limit", 500)).transpose()?;
    let offset = q.contains_key("offset").then(|| int_param(&q, "offset", 0)).transpose()?;
    let failing = match q.get("failing").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(crate::service::Error::invalid("failing", format!("{other:?} is not true or false")).into()),
    };
    let policy = q.get("policy").cloned().unwrap_or_default();
    Ok(Json(state.service.policy_results(Some(&caller.principal()), &policy, failing, limit, offset).await?))
}

/// `GET /api/v1/checklist`: the enterprise Docker checklist answered from the stored estate.
#[utoipa::path(
    get, path = "/api/v1/checklist", tag = "compliance",
    description = "The questions an enterprise asks of its Docker estate, each answered from stored data as the caller may see it: `id` (stable), `section`, `question`, `status` (`ok`, `attention`, or `unknown` with why and what would answer it), `answer`, `figures`, and `evidence` — relative `/api/v1/…` lists whose `total` equals the `count` given. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = app::types::Checklist), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn checklist(State(state): State<AppState>, caller: Caller) -> Result<Json<app::types::Checklist>, ApiError> {
    Ok(Json(state.service.checklist(Some(&caller.principal())).await?))
}

/// `GET /api/v1/overview`: the compliance-first estate overview.
#[utoipa::path(
    get, path = "/api/v1/overview", tag = "compliance",
    description = "The estate overview the home page shows: the estate's score, grade, changes over 7 and 30 days and 30-day trend; teams ranked by score (worst first) with their changes and outstanding and overdue campaign items; campaigns with outstanding items (progress as `/api/v1/campaigns` counts it for the caller); the next deadlines; unaccounted running images; inventory totals. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = app::types::ComplianceOverview), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn overview(State(state): State<AppState>, caller: Caller) -> Result<Json<app::types::ComplianceOverview>, ApiError> {
    Ok(Json(state.service.compliance_overview(Some(&caller.principal())).await?))
}

/// `GET /api/v1/my-teams`: the manager home's cards.
#[utoipa::path(
    get, path = "/api/v1/my-teams", tag = "compliance",
    description = "A card per team of the caller (developers and managers: their teams; estate-wide roles: the six lowest-scoring teams): score, grade, the score 30 days ago and the daily trend, the policies failing most, campaign items by state, the overdue items and those due in the next seven days (at most ten each), exception requests waiting. Roles: viewer, auditor, developer, manager, security, admin.",
    responses((status = 200, body = app::types::MyTeams), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn my_teams(State(state): State<AppState>, caller: Caller) -> Result<Json<app::types::MyTeams>, ApiError> {
    Ok(Json(state.service.my_teams(Some(&caller.principal())).await?))
}

/// `GET /api/v1/teams/{team}/scorecard`: the numbers the team's scorecard page shows.
#[utoipa::path(
    get, path = "/api/v1/teams/{team}/scorecard", tag = "compliance",
    description = "One team's score, grade, per-policy scores, failing subjects with reasons (the longest failing first) and daily trend. Roles: viewer, auditor, security, admin; developers and managers for their teams.",
    params(("team" = String, Path,)),
    responses((status = 200, body = app::types::TeamScorecard), (status = 404, description = "no such team", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn team_scorecard(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
) -> Result<Json<app::types::TeamScorecard>, ApiError> {
    Ok(Json(state.service.team_scorecard(Some(&caller.principal()), &team, FailingWindow::FIRST_500).await?))
}

/// `GET /api/v1/teams/{team}/scorecard.csv?table=policies|failing`: a scorecard table as CSV.
#[utoipa::path(
    get, path = "/api/v1/teams/{team}/scorecard.csv", tag = "compliance",
    description = "A scorecard table as CSV: `table=policies` (default: policy, title, subjects, failing, score, grade) or `table=failing` (policy, subject kind, subject, environment, reason, failing since). Roles: as the scorecard.",
    params(("team" = String, Path,), ("table" = Option<String>, Query, description = "policies or failing")),
    responses((status = 200, description = "CSV", content_type = "text/csv", body = String), (status = 400, description = "an unknown table", body = ErrorBody), (status = 404, description = "no such team", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn team_scorecard_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = query_map(raw);
    let table = q.get("table").map(String::as_str).unwrap_or("policies");
    let card = state.service.team_scorecard(Some(&caller.principal()), &team, FailingWindow::FIRST_500).await?;
    crate::http::exports::scorecard_csv(&card, table).map_err(|e| ApiError(e.in_query()))
}
