//! Patch campaigns: create and read them, acknowledge items, request and decide exceptions,
//! contacts, the delivery log.

#[allow(unused_imports)]
use super::*;
use app::types::{
    AckRequest, Campaign, CampaignItem, Contact, DeadlineChange, DeliveryMessage, ExceptionDecision, ExceptionRequest, NewCampaignRequest,
    TeamContacts,
};

/// An id in a path: an integer, else it names nothing (404).
fn id_of(what: &str, raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().map_err(|_| ApiError::not_found(format!("{what} {raw} does not exist")))
}

/// `POST /api/v1/campaigns`.
#[utoipa::path(
    post, path = "/api/v1/campaigns", tag = "campaigns",
    description = "Creates a patch campaign: `cves` and/or `package` (a purl without version) with `range` (purl `vers`) select the affected images as the estate search does; each (team, affected image) becomes an item, all in one transaction. `deadline` (YYYY-MM-DD) sets every item's; without it each item's is the later of today and its first sighting plus the SLA days of its worst severity. `ladder` defaults to: level 0 seven days before the deadline, level 1 at it, level 2 seven days after, level 3 fourteen days after. Roles: security, admin.",
    request_body = NewCampaignRequest,
    responses((status = 201, body = Campaign), BadBody, Refused, TooLarge),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn create_campaign(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let req: NewCampaignRequest = json_body(&state, body, "campaign")?;
    let created = state.service.create_campaign(Some(&caller.principal()), &req).await?;
    Ok((StatusCode::CREATED, Json(created)).into_response())
}

/// `GET /api/v1/campaigns`.
#[utoipa::path(
    get, path = "/api/v1/campaigns", tag = "campaigns",
    description = "Campaigns, newest first, each with its items' current states (developers and managers: their teams' items and items of no team). Roles: viewer, auditor, developer, manager, security, admin.",
    params(("limit" = Option<i64>, Query, description = "1..500 (50)"), ("offset" = Option<i64>, Query,)),
    responses((status = 200, body = Page<Campaign>), (status = 400, description = "limit or offset is not a number", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn list_campaigns(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Page<Campaign>>, ApiError> {
    let q = query_map(raw);
    let limit = q.contains_key("limit").then(|| int_param(&q, "limit", 50)).transpose()?;
    let offset = q.contains_key("offset").then(|| int_param(&q, "offset", 0)).transpose()?;
    Ok(Json(state.service.campaigns(Some(&caller.principal()), limit, offset).await.map_err(in_query)?))
}

/// `GET /api/v1/campaigns/{id}`.
#[utoipa::path(
    get, path = "/api/v1/campaigns/{id}", tag = "campaigns",
    description = "One campaign with its items' current states (developers and managers: their teams' items and items of no team). Roles: viewer, auditor, developer, manager, security, admin.",
    params(("id" = i64, Path,)),
    responses((status = 200, body = Campaign), (status = 404, description = "no such campaign", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["viewer", "auditor", "developer", "manager", "security", "admin"])))
)]
pub async fn get_campaign(State(state): State<AppState>, caller: Caller, Path(id): Path<String>) -> Result<Json<Campaign>, ApiError> {
    let id = id_of("campaign", &id)?;
    Ok(Json(state.service.campaign(Some(&caller.principal()), id).await?))
}

/// `PUT /api/v1/campaigns/{id}/deadline`.
#[utoipa::path(
    put, path = "/api/v1/campaigns/{id}/deadline", tag = "campaigns",
    description = "Moves the campaign's deadline and that of every item not yet fixed or retired (levels already delivered are not sent again); recorded in the ledger. Roles: security, admin.",
    params(("id" = i64, Path,)),
    request_body = DeadlineChange,
    responses((status = 200, body = Campaign), (status = 404, description = "no such campaign", body = ErrorBody), BadBody, Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn change_deadline(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<Campaign>, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let id = id_of("campaign", &id)?;
    let req: DeadlineChange = json_body(&state, body, "deadline")?;
    Ok(Json(state.service.change_deadline(Some(&caller.principal()), id, &req.deadline).await?))
}

/// `POST /api/v1/campaigns/{id}/items/{item}/ack`.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/items/{item}/ack", tag = "campaigns",
    description = "Acknowledges an open (or acknowledged) item with the date the team plans to run the fix and a note. Acknowledging stops the reminders before the deadline, not the levels at and after it. Roles: developer of the item's team, admin.",
    params(("id" = i64, Path,), ("item" = i64, Path,)),
    request_body = AckRequest,
    responses((status = 200, body = CampaignItem), (status = 404, description = "no such campaign or item", body = ErrorBody),
        (status = 409, description = "the item is not open", body = ErrorBody), BadBody, Refused),
    extensions(("x-roles" = json!(["developer", "admin"])))
)]
pub async fn ack_item(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CampaignItem>, ApiError> {
    let (id, item) = (id_of("campaign", &id)?, id_of("item", &item)?);
    let req: AckRequest = json_body(&state, body, "acknowledgement")?;
    Ok(Json(state.service.acknowledge(Some(&caller.principal()), id, item, &req).await?))
}

/// `POST /api/v1/campaigns/{id}/items/{item}/exception`.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/items/{item}/exception", tag = "campaigns",
    description = "Requests a risk exception for an item: a reason and its last day (`until`, YYYY-MM-DD, after today and at most a year ahead). The request gets a number (`exception.request_id`); while it waits for a decision no other request replaces it (409). Security decides it; approved, the item's ladder stops until `until` has passed, then it reopens. An item of another team is answered as a missing one (404). Roles: developer or manager of the item's team, admin.",
    params(("id" = i64, Path,), ("item" = i64, Path,)),
    request_body = ExceptionRequest,
    responses((status = 200, body = CampaignItem), (status = 404, description = "no such campaign or item", body = ErrorBody),
        (status = 409, description = "the item is closed or excepted, or a request waits for a decision", body = ErrorBody), BadBody, Refused),
    extensions(("x-roles" = json!(["developer", "manager", "admin"])))
)]
pub async fn request_exception(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CampaignItem>, ApiError> {
    let (id, item) = (id_of("campaign", &id)?, id_of("item", &item)?);
    let req: ExceptionRequest = json_body(&state, body, "exception")?;
    Ok(Json(state.service.request_exception(Some(&caller.principal()), id, item, &req).await?))
}

/// `POST /api/v1/campaigns/{id}/items/{item}/exception/decision`.
#[utoipa::path(
    post, path = "/api/v1/campaigns/{id}/items/{item}/exception/decision", tag = "campaigns",
    description = "Approves or rejects the exception request waiting on an item, with a note. The body names the request decided (`request_id`, the item's `exception.request_id` as read; missing: 422); another request waiting now is 409. The person who requested an exception never decides it (403, whatever their role). The ledger entry names the requester and the decider. Roles: security, admin.",
    params(("id" = i64, Path,), ("item" = i64, Path,)),
    request_body = ExceptionDecision,
    responses((status = 200, body = CampaignItem), (status = 404, description = "no such campaign or item", body = ErrorBody),
        (status = 409, description = "no request is waiting, or another request than `request_id` waits", body = ErrorBody), BadBody, Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn decide_exception(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, item)): Path<(String, String)>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<CampaignItem>, ApiError> {
    caller.require(Action::ManagePolicies, None)?;
    let (id, item) = (id_of("campaign", &id)?, id_of("item", &item)?);
    let req: ExceptionDecision = json_body(&state, body, "decision")?;
    Ok(Json(state.service.decide_exception(Some(&caller.principal()), id, item, &req).await?))
}

/// `GET /api/v1/contacts`: every team's contacts and the global ones.
#[utoipa::path(
    get, path = "/api/v1/contacts", tag = "campaigns",
    description = "Escalation contacts per team (`team` null: the global contacts, who hear every team's messages of their level and those of items of no team). A webhook shows its origin only (its URL is a secret). Roles: security, admin.",
    responses((status = 200, body = Vec<TeamContacts>), Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn list_contacts(State(state): State<AppState>, caller: Caller) -> Result<Json<Vec<TeamContacts>>, ApiError> {
    Ok(Json(state.service.contacts(Some(&caller.principal())).await?))
}

/// `PUT /api/v1/contacts`: the global contacts.
#[utoipa::path(
    put, path = "/api/v1/contacts", tag = "campaigns",
    description = "Replaces the global contacts: `[{\"level\": 0, \"email\": \"…\", \"webhook\": \"https://…\"}]`, each with an e-mail address, a webhook or both; contacts of level N receive level-N messages of every team and of items of no team. Roles: admin.",
    request_body = Vec<Contact>,
    responses((status = 200, body = TeamContacts), BadBody, Refused),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn put_global_contacts(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<TeamContacts>, ApiError> {
    caller.require(Action::ManageEstateConfig, None)?;
    let list: Vec<Contact> = json_body(&state, body, "contacts")?;
    Ok(Json(state.service.put_contacts(Some(&caller.principal()), None, &list).await?))
}

/// `PUT /api/v1/teams/{team}/contacts`.
#[utoipa::path(
    put, path = "/api/v1/teams/{team}/contacts", tag = "campaigns",
    description = "Replaces a team's contacts: `[{\"level\": 0, \"email\": \"…\", \"webhook\": \"https://…\"}]`; contacts of level N receive that team's level-N messages. Roles: admin.",
    params(("team" = String, Path,)),
    request_body = Vec<Contact>,
    responses((status = 200, body = TeamContacts), (status = 404, description = "no such team", body = ErrorBody), BadBody, Refused),
    extensions(("x-roles" = json!(["admin"])))
)]
pub async fn put_team_contacts(
    State(state): State<AppState>,
    caller: Caller,
    Path(team): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<TeamContacts>, ApiError> {
    caller.require(Action::ManageEstateConfig, None)?;
    let list: Vec<Contact> = json_body(&state, body, "contacts")?;
    Ok(Json(state.service.put_contacts(Some(&caller.principal()), Some(&team), &list).await?))
}

/// `GET /api/v1/deliveries`: the delivery log.
#[utoipa::path(
    get, path = "/api/v1/deliveries", tag = "campaigns",
    description = "The newest escalation messages (e-mail, webhook, inbox), each with its status and every attempt to send it; a webhook shows its host only. Roles: security, admin.",
    params(("limit" = Option<i64>, Query, description = "1..2000 (200)")),
    responses((status = 200, body = Vec<DeliveryMessage>), (status = 400, description = "limit is not a number", body = ErrorBody), Refused),
    extensions(("x-roles" = json!(["security", "admin"])))
)]
pub async fn list_deliveries(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<Vec<DeliveryMessage>>, ApiError> {
    let q = query_map(raw);
    let limit = q.contains_key("limit").then(|| int_param(&q, "limit", 200)).transpose()?;
    Ok(Json(state.service.delivery_log(Some(&caller.principal()), limit).await?))
}
