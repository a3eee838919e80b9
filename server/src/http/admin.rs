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
