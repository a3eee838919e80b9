//! Cookie-authenticated form handlers for admin pages (CSRF-checked by `session::csrf_guard`).

use super::session::{html_escape, simple_page, CurrentUser};
use super::AppState;
use crate::auth::Action;
use crate::domain::Role;
use crate::store::{Actor, StoreError};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;

const TOKENS: (&str, &str) = ("/admin/tokens", "API tokens");
const ROLES: (&str, &str) = ("/admin/roles", "role mapping");

/// A refusal page with a way back to the admin page the form came from.
fn refuse(back: (&str, &str), status: StatusCode, msg: &str) -> Response {
    let body = format!(
        "<div class=\"notice notice-error\" role=\"alert\"><p>{}</p></div><p><a href=\"{}\">Back to {}</a></p>",
        html_escape(msg),
        back.0,
        back.1
    );
    (status, Html(simple_page("Not done", &body))).into_response()
}

/// The signed-in principal if the RBAC specification allows `action`, else the refusal page
/// (a whole response: the form handlers return it as it is).
#[allow(clippy::result_large_err)]
fn authorise(user: CurrentUser, action: Action, back: (&str, &str), denied: &str) -> Result<crate::auth::Principal, Response> {
    let Some(p) = user.principal else { return Err(refuse(back, StatusCode::UNAUTHORIZED, "Sign in first.")) };
    if p.can(action, None) {
        Ok(p)
    } else {
        Err(refuse(back, StatusCode::FORBIDDEN, denied))
    }
}

/// Maps a store failure of a form to its page; internal causes go to the log only.
fn store_failure(back: (&str, &str), e: StoreError, what: &str) -> Response {
    match e {
        StoreError::Invalid(m) => refuse(back, StatusCode::UNPROCESSABLE_ENTITY, &m),
        StoreError::NotFound(m) => refuse(back, StatusCode::NOT_FOUND, &m),
        StoreError::Forbidden(m) => refuse(back, StatusCode::FORBIDDEN, &m),
        other => {
            tracing::error!(error = %other, "{what} failed");
            refuse(back, StatusCode::INTERNAL_SERVER_ERROR, &format!("The {what} failed; the cause is in the server log."))
        }
    }
}

const NO_TOKENS: &str = "Your role may not manage API tokens (security and admin may).";
const NO_ROLES: &str = "Only admins may change role mappings.";

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    role: String,
    team: Option<String>,
    /// Ingest tokens: clusters they may post for (comma, space or line separated).
    clusters: Option<String>,
    /// Ingest tokens: registries whose notifications they may post.
    registries: Option<String>,
}

/// A comma, space or line separated list field.
fn list_field(v: Option<String>) -> Vec<String> {
    v.unwrap_or_default().split([',', ' ', '\n', '\r']).map(str::trim).filter(|h| !h.is_empty()).map(str::to_string).collect()
}

/// `POST /admin/tokens`: security creates ingest tokens, admin any role. The secret is shown once.
pub async fn create_token(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<NewToken>) -> Response {
    let p = match authorise(user, Action::ManageTokens, TOKENS, NO_TOKENS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let role: Role = match f.role.parse() {
        Ok(r) => r,
        Err(e) => return refuse(TOKENS, StatusCode::BAD_REQUEST, &e),
    };
    if !crate::auth::rbac::may_manage_token_role(&p.grants, role) {
        return refuse(TOKENS, StatusCode::FORBIDDEN, "Security may create ingest tokens only; ask an admin for other roles.");
    }
    let team = f.team.as_deref().map(str::trim).filter(|t| !t.is_empty());
    let bindings = crate::store::TokenBindings { clusters: list_field(f.clusters), registries: list_field(f.registries) };
    match state.store.create_token(&f.name, role, team, &bindings, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(secret) => Html(simple_page(
            "Token created",
            &format!(
                "<p>Copy the token now: it is shown only this once and Drydock keeps only its hash.</p><p><code id=\"new-token\">{}</code></p><p><a href=\"/admin/tokens\">Back to API tokens</a></p>",
                html_escape(&secret)
            ),
        ))
        .into_response(),
        Err(e) => store_failure(TOKENS, e, "token creation"),
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke_token(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<i64>) -> Response {
    let p = match authorise(user, Action::ManageTokens, TOKENS, NO_TOKENS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let may_revoke = |role: Role| crate::auth::rbac::may_manage_token_role(&p.grants, role);
    match state.store.revoke_token(id, &may_revoke, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(()) => Redirect::to(TOKENS.0).into_response(),
        Err(e) => store_failure(TOKENS, e, "token revocation"),
    }
}

#[derive(Deserialize)]
pub struct NewMapping {
    group: String,
    role: String,
    team: Option<String>,
}

/// `POST /admin/roles` (admin): maps an identity-provider group to a role (and team).
pub async fn add_role_mapping(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(f): Form<NewMapping>,
) -> Response {
    let p = match authorise(user, Action::ManageRoleMappings, ROLES, NO_ROLES) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let spec = match f.team.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!("{}={}:{t}", f.group.trim(), f.role.trim()),
        None => format!("{}={}", f.group.trim(), f.role.trim()),
    };
    let mapping = match crate::auth::mapping::parse(&spec) {
        Ok(mut m) if m.len() == 1 && !f.group.contains([',', '=']) => m.remove(0),
        Ok(_) => return refuse(ROLES, StatusCode::UNPROCESSABLE_ENTITY, "A group name may not contain ',' or '='."),
        Err(e) => return refuse(ROLES, StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    match state.store.add_role_mapping(&mapping, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(()) => Redirect::to(ROLES.0).into_response(),
        Err(e) => store_failure(ROLES, e, "role mapping"),
    }
}

/// `POST /admin/roles/{id}/delete` (admin).
pub async fn delete_role_mapping(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<i64>) -> Response {
    let p = match authorise(user, Action::ManageRoleMappings, ROLES, NO_ROLES) {
        Ok(p) => p,
        Err(r) => return r,
    };
    match state.store.delete_role_mapping(id, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(()) => Redirect::to(ROLES.0).into_response(),
        Err(e) => store_failure(ROLES, e, "role mapping removal"),
    }
}

const USERS: (&str, &str) = ("/admin/users", "users");

#[derive(Deserialize)]
pub struct EndSessionsForm {
    subject: String,
}

/// `POST /admin/users/end-sessions` (admin): signs a person out everywhere.
pub async fn end_user_sessions(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Form(f): Form<EndSessionsForm>,
) -> Response {
    let p = match authorise(user, Action::ManageRoleMappings, USERS, "Only admins may end other people's sessions.") {
        Ok(p) => p,
        Err(r) => return r,
    };
    match state.store.end_user_sessions(&f.subject, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(_) => Redirect::to(USERS.0).into_response(),
        Err(e) => store_failure(USERS, e, "ending the sessions"),
    }
}

const REGISTRIES: (&str, &str) = ("/registries", "registries");
const NO_REGISTRIES: &str = "Only admins may configure registries.";

#[derive(Deserialize)]
pub struct RegistryForm {
    name: String,
    url: String,
    username: Option<String>,
    password_env: Option<String>,
    ca_pem: Option<String>,
    insecure: Option<String>,
    /// Token-realm hosts that may receive the credentials (comma, space or line separated).
    auth_hosts: Option<String>,
    approved: Option<String>,
    /// One repository per line.
    repositories: Option<String>,
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
}

/// `POST /admin/registries` (admin): adds a registry; its first collection starts at once.
pub async fn add_registry(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<RegistryForm>) -> Response {
    let p = match authorise(user, Action::ManageEstateConfig, REGISTRIES, NO_REGISTRIES) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut new = crate::registry::NewRegistry {
        name: f.name,
        url: f.url,
        username: non_empty(f.username),
        password_env: non_empty(f.password_env),
        ca_pem: non_empty(f.ca_pem),
        insecure: f.insecure.is_some(),
        auth_hosts: f
            .auth_hosts
            .unwrap_or_default()
            .split([',', ' ', '\n'])
            .map(str::trim)
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .collect(),
        approved: f.approved.is_some(),
        repositories: f.repositories.unwrap_or_default().lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_string).collect(),
    };
    if let Err(e) = new.validate() {
        return refuse(REGISTRIES, StatusCode::UNPROCESSABLE_ENTITY, &format!("The registry was not added: {e}"));
    }
    match state.store.add_registry(&new, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(r) => {
            if let Err(e) = state.jobs.collect_registry_soon(&r.name).await {
                tracing::warn!(registry = %r.name, error = %e, "the first collection could not be queued (the schedule will run it)");
            }
            Redirect::to(REGISTRIES.0).into_response()
        }
        Err(e) => store_failure(REGISTRIES, e, "registry change"),
    }
}

#[derive(Deserialize)]
pub struct ApprovalForm {
    approved: String,
}

/// `POST /admin/registries/{name}/approval` (admin): puts a registry on or off the approved list.
pub async fn set_registry_approval(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(name): Path<String>,
    Form(f): Form<ApprovalForm>,
) -> Response {
    let p = match authorise(user, Action::ManageEstateConfig, REGISTRIES, NO_REGISTRIES) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let approved = match f.approved.as_str() {
        "1" | "true" => true,
        "0" | "false" => false,
        other => return refuse(REGISTRIES, StatusCode::BAD_REQUEST, &format!("approved must be 1 or 0, not {other:?}")),
    };
    match state.store.set_registry_approved(&name, approved, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(()) => Redirect::to(REGISTRIES.0).into_response(),
        Err(e) => store_failure(REGISTRIES, e, "registry change"),
    }
}

const CLUSTERS: (&str, &str) = ("/clusters", "clusters");
const NO_CLUSTERS: &str = "Only admins may configure clusters.";

#[derive(Deserialize)]
pub struct ClusterForm {
    name: String,
    server: String,
    token_env: String,
    ca_pem: Option<String>,
    insecure: Option<String>,
}

/// `POST /admin/clusters` (admin): configures a cluster's API server; a first collection starts.
pub async fn add_cluster(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<ClusterForm>) -> Response {
    let p = match authorise(user, Action::ManageEstateConfig, CLUSTERS, NO_CLUSTERS) {
        Ok(p) => p,
        Err(r) => return r,
    };
    let mut new = crate::k8s::collect::NewCluster {
        name: f.name,
        server: f.server,
        token_env: f.token_env,
        ca_pem: non_empty(f.ca_pem),
        insecure: f.insecure.is_some(),
    };
    if let Err(e) = new.validate() {
        return refuse(CLUSTERS, StatusCode::UNPROCESSABLE_ENTITY, &format!("The cluster was not added: {e}"));
    }
    match state.store.add_cluster(&new, &Actor(p.actor.clone()), state.clock.now()).await {
        Ok(()) => {
            if let Err(e) = state.jobs.collect_cluster_soon(&new.name).await {
                tracing::warn!(cluster = %new.name, error = %e, "the first collection could not be queued (the schedule will run it)");
            }
            Redirect::to(CLUSTERS.0).into_response()
        }
        Err(e) => store_failure(CLUSTERS, e, "cluster change"),
    }
}
