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

fn refuse(status: StatusCode, msg: &str) -> Response {
    (status, Html(simple_page("Not done", &format!("<div class=\"notice notice-error\" role=\"alert\"><p>{}</p></div><p><a href=\"/admin/tokens\">Back to API tokens</a></p>", html_escape(msg))))).into_response()
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
    role: String,
    team: Option<String>,
}

/// `POST /admin/tokens`: security creates ingest tokens, admin any role. The secret is shown once.
pub async fn create_token(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<NewToken>) -> Response {
    let Some(p) = user.principal else { return refuse(StatusCode::UNAUTHORIZED, "Sign in first.") };
    if !p.can(Action::ManageTokens, None) {
        return refuse(StatusCode::FORBIDDEN, "Your role may not manage API tokens (security and admin may).");
    }
    let role: Role = match f.role.parse() {
        Ok(r) => r,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, &e),
    };
    if role != Role::Ingest && !p.can(Action::ManageRoleMappings, None) {
        return refuse(StatusCode::FORBIDDEN, "Security may create ingest tokens only; ask an admin for other roles.");
    }
    let team = f.team.as_deref().map(str::trim).filter(|t| !t.is_empty());
    match state.store.create_token(&f.name, role, team, &Actor(p.actor.clone()), chrono::Utc::now()).await {
        Ok(secret) => Html(simple_page(
            "Token created",
            &format!(
                "<p>Copy the token now: it is shown only this once and Drydock keeps only its hash.</p><p><code id=\"new-token\">{}</code></p><p><a href=\"/admin/tokens\">Back to API tokens</a></p>",
                html_escape(&secret)
            ),
        ))
        .into_response(),
        Err(StoreError::Invalid(m)) => refuse(StatusCode::UNPROCESSABLE_ENTITY, &m),
        Err(e) => {
            tracing::error!(error = %e, "token creation failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "The token could not be created; the cause is in the server log.")
        }
    }
}

/// `POST /admin/tokens/{id}/revoke`.
pub async fn revoke_token(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<i64>) -> Response {
    let Some(p) = user.principal else { return refuse(StatusCode::UNAUTHORIZED, "Sign in first.") };
    if !p.can(Action::ManageTokens, None) {
        return refuse(StatusCode::FORBIDDEN, "Your role may not manage API tokens (security and admin may).");
    }
    match state.store.revoke_token(id, &Actor(p.actor.clone()), chrono::Utc::now()).await {
        Ok(()) => Redirect::to("/admin/tokens").into_response(),
        Err(StoreError::NotFound(m)) => refuse(StatusCode::NOT_FOUND, &m),
        Err(e) => {
            tracing::error!(error = %e, "token revocation failed");
            refuse(StatusCode::INTERNAL_SERVER_ERROR, "The token could not be revoked; the cause is in the server log.")
        }
    }
}

#[derive(Deserialize)]
pub struct NewMapping {
    group: String,
    role: String,
    team: Option<String>,
}

fn back_to_roles(status: StatusCode, msg: &str) -> Response {
    (status, Html(simple_page("Not done", &format!("<div class=\"notice notice-error\" role=\"alert\"><p>{}</p></div><p><a href=\"/admin/roles\">Back to role mapping</a></p>", html_escape(msg))))).into_response()
}

/// `POST /admin/roles` (admin): maps an identity-provider group to a role (and team).
pub async fn add_role_mapping(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Form(f): Form<NewMapping>) -> Response {
    let Some(p) = user.principal else { return back_to_roles(StatusCode::UNAUTHORIZED, "Sign in first.") };
    if !p.can(Action::ManageRoleMappings, None) {
        return back_to_roles(StatusCode::FORBIDDEN, "Only admins may change role mappings.");
    }
    let spec = match f.team.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => format!("{}={}:{t}", f.group.trim(), f.role.trim()),
        None => format!("{}={}", f.group.trim(), f.role.trim()),
    };
    let mapping = match crate::auth::mapping::parse(&spec) {
        Ok(mut m) if m.len() == 1 && !f.group.contains([',', '=']) => m.remove(0),
        Ok(_) => return back_to_roles(StatusCode::UNPROCESSABLE_ENTITY, "A group name may not contain ',' or '='."),
        Err(e) => return back_to_roles(StatusCode::UNPROCESSABLE_ENTITY, &e),
    };
    match state.store.add_role_mapping(&mapping, &Actor(p.actor.clone()), chrono::Utc::now()).await {
        Ok(()) => Redirect::to("/admin/roles").into_response(),
        Err(StoreError::Invalid(m)) => back_to_roles(StatusCode::UNPROCESSABLE_ENTITY, &m),
        Err(e) => {
            tracing::error!(error = %e, "role mapping failed");
            back_to_roles(StatusCode::INTERNAL_SERVER_ERROR, "The mapping could not be saved; the cause is in the server log.")
        }
    }
}

/// `POST /admin/roles/{id}/delete` (admin).
pub async fn delete_role_mapping(State(state): State<AppState>, Extension(user): Extension<CurrentUser>, Path(id): Path<i64>) -> Response {
    let Some(p) = user.principal else { return back_to_roles(StatusCode::UNAUTHORIZED, "Sign in first.") };
    if !p.can(Action::ManageRoleMappings, None) {
        return back_to_roles(StatusCode::FORBIDDEN, "Only admins may change role mappings.");
    }
    match state.store.delete_role_mapping(id, &Actor(p.actor.clone()), chrono::Utc::now()).await {
        Ok(()) => Redirect::to("/admin/roles").into_response(),
        Err(StoreError::NotFound(m)) => back_to_roles(StatusCode::NOT_FOUND, &m),
        Err(e) => {
            tracing::error!(error = %e, "role mapping deletion failed");
            back_to_roles(StatusCode::INTERNAL_SERVER_ERROR, "The mapping could not be removed; the cause is in the server log.")
        }
    }
}
