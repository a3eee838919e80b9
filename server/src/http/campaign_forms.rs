//! Cookie-authenticated forms of the campaign pages (CSRF-checked by `session::csrf_guard`): they
//! work without JavaScript, call the service, and send the browser back to the page they came from.

use super::page::failure;
use super::redirect::safe_return;
use super::session::CurrentUser;
use super::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

const CAMPAIGNS: (&str, &str) = ("/campaigns", "the campaigns");
const CONTACTS: (&str, &str) = ("/admin/contacts", "the contacts");

/// An id in a form's path; a word that is no number names nothing.
fn id(raw: &str) -> Option<i64> {
    raw.parse().ok()
}

fn not_found(back: (&str, &str), what: &str) -> Response {
    failure(back, crate::service::Error::NotFound(format!("{what} does not exist")), "request")
}

#[derive(Deserialize)]
pub struct NewCampaignForm {
    title: String,
    /// Vulnerability ids separated by spaces, commas or lines.
    #[serde(default)]
    cves: String,
    #[serde(default)]
    package: String,
    #[serde(default)]
    range: String,
    #[serde(default)]
    deadline: String,
    #[serde(default)]
    scope: String,
}

/// `POST /campaigns` (security, admin): a new campaign from the Campaigns page.
pub async fn create_campaign(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(f): Form<NewCampaignForm>,
) -> Response {
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let req = app::types::NewCampaignRequest {
        title: f.title,
        cves: f.cves.split(|c: char| c.is_whitespace() || c == ',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
        package: text(&f.package),
        range: text(&f.range),
        deadline: text(&f.deadline),
        scope: text(&f.scope),
        ladder: None,
    };
    match state.service.create_campaign(user.principal.as_ref(), &req).await {
        Ok(c) => Redirect::to(&format!("/campaigns/{}", c.id)).into_response(),
        Err(e) => failure(CAMPAIGNS, e, "campaign"),
    }
}

#[derive(Deserialize)]
pub struct DeadlineForm {
    deadline: String,
}

/// `POST /campaigns/{id}/deadline` (security, admin): a new deadline from the campaign's page.
pub async fn change_deadline(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(campaign): Path<String>,
    Form(f): Form<DeadlineForm>,
) -> Response {
    let Some(c) = id(&campaign) else { return not_found(CAMPAIGNS, "that campaign") };
    match state.service.change_deadline(user.principal.as_ref(), c, &f.deadline).await {
        Ok(_) => Redirect::to(&format!("/campaigns/{c}")).into_response(),
        Err(e) => failure(CAMPAIGNS, e, "deadline change"),
    }
}

#[derive(Deserialize)]
pub struct AckForm {
    planned: String,
    #[serde(default)]
    note: String,
    return_to: Option<String>,
}

/// `POST /campaigns/{id}/items/{item}/ack` (that team's developers, admin).
pub async fn acknowledge(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((campaign, item)): Path<(String, String)>,
    Form(f): Form<AckForm>,
) -> Response {
    let (Some(c), Some(i)) = (id(&campaign), id(&item)) else { return not_found(CAMPAIGNS, "that item") };
    let req = app::types::AckRequest { planned: f.planned, note: f.note };
    match state.service.acknowledge(user.principal.as_ref(), c, i, &req).await {
        Ok(_) => Redirect::to(&safe_return(f.return_to.as_deref())).into_response(),
        Err(e) => failure(CAMPAIGNS, e, "acknowledgement"),
    }
}

#[derive(Deserialize)]
pub struct ExceptionForm {
    reason: String,
    until: String,
    return_to: Option<String>,
}

/// `POST /campaigns/{id}/items/{item}/exception` (that team's developers and managers, admin).
pub async fn request_exception(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((campaign, item)): Path<(String, String)>,
    Form(f): Form<ExceptionForm>,
) -> Response {
    let (Some(c), Some(i)) = (id(&campaign), id(&item)) else { return not_found(CAMPAIGNS, "that item") };
    let req = app::types::ExceptionRequest { reason: f.reason, until: f.until };
    match state.service.request_exception(user.principal.as_ref(), c, i, &req).await {
        Ok(_) => Redirect::to(&safe_return(f.return_to.as_deref())).into_response(),
        Err(e) => failure(CAMPAIGNS, e, "exception request"),
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// `approve` or `reject` (the button pressed).
    decision: String,
    #[serde(default)]
    note: String,
    /// The request decided (the form carries the item's waiting request).
    #[serde(default)]
    request_id: String,
    return_to: Option<String>,
}

/// `POST /campaigns/{id}/items/{item}/exception/decision` (security, admin).
pub async fn decide_exception(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path((campaign, item)): Path<(String, String)>,
    Form(f): Form<DecisionForm>,
) -> Response {
    let (Some(c), Some(i)) = (id(&campaign), id(&item)) else { return not_found(CAMPAIGNS, "that item") };
    let approve = match f.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return failure(
                CAMPAIGNS,
                crate::service::Error::invalid("decision", format!("{other:?} is not approve or reject")),
                "decision",
            )
        }
    };
    let request_id = match f.request_id.trim() {
        "" => None,
        n => match n.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                return failure(CAMPAIGNS, crate::service::Error::invalid("request_id", format!("{n:?} is not a number")), "decision")
            }
        },
    };
    let req = app::types::ExceptionDecision { approve, note: f.note, request_id };
    match state.service.decide_exception(user.principal.as_ref(), c, i, &req).await {
        Ok(_) => Redirect::to(&safe_return(f.return_to.as_deref())).into_response(),
        Err(e) => failure(CAMPAIGNS, e, "decision"),
    }
}

#[derive(Deserialize)]
pub struct ContactForm {
    /// A team's name; empty: the global contacts.
    #[serde(default)]
    team: String,
    level: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    webhook: String,
}

/// `POST /admin/contacts` (admin): one more contact of a team (or a global one).
pub async fn add_contact(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<ContactForm>) -> Response {
    let who = user.principal.as_ref();
    let team = Some(f.team.trim()).filter(|t| !t.is_empty());
    let Ok(level) = f.level.trim().parse::<i64>() else {
        return failure(CONTACTS, crate::service::Error::invalid("level", format!("{:?} is not a number", f.level)), "contact");
    };
    let text = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let contact = app::types::Contact { level, email: text(&f.email), webhook: text(&f.webhook) };
    match state.service.add_contact(who, team, &contact).await {
        Ok(_) => Redirect::to("/admin/contacts").into_response(),
        Err(e) => failure(CONTACTS, e, "contact"),
    }
}

#[derive(Deserialize)]
pub struct ClearContactsForm {
    #[serde(default)]
    team: String,
}

/// `POST /admin/contacts/clear` (admin): removes a team's (or the global) contacts.
pub async fn clear_contacts(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(f): Form<ClearContactsForm>,
) -> Response {
    let team = Some(f.team.trim()).filter(|t| !t.is_empty());
    match state.service.put_contacts(user.principal.as_ref(), team, &[]).await {
        Ok(_) => Redirect::to("/admin/contacts").into_response(),
        Err(e) => failure(CONTACTS, e, "change of contacts"),
    }
}
