//! Bearer-token authentication for the API. Requests with a token are not cookie-authenticated,
//! so CSRF does not apply to them.

use super::error::ApiError;
use super::AppState;
use crate::store::TokenInfo;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The authenticated caller of an API route.
pub struct Caller(pub TokenInfo);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token> header"))?;
        let value = header
            .to_str()
            .map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
        let secret = value
            .strip_prefix("Bearer ")
            .or_else(|| value.strip_prefix("bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| ApiError::unauthorized("the Authorization header must be \"Bearer <token>\""))?;
        match state.store.verify_token(secret, chrono::Utc::now()).await? {
            Some(t) => Ok(Caller(t)),
            None => Err(ApiError::unauthorized("the token is unknown or revoked")),
        }
    }
}

impl Caller {
    /// Refuses with 403, naming the role, unless the RBAC specification allows `action`.
    pub fn require(&self, action: crate::auth::Action, team: Option<&str>) -> Result<(), ApiError> {
        if self.principal().can(action, team) {
            return Ok(());
        }
        let role = self.0.role.as_str();
        let what = match action {
            crate::auth::Action::SendData => "send reports (ingest, security or admin may)".to_string(),
            crate::auth::Action::ReadEstate => "read; it may only send data in".to_string(),
            crate::auth::Action::ReadTeamDetails => {
                format!("see the details of team {}", team.unwrap_or("?"))
            }
            other => format!("do this ({other:?})"),
        };
        Err(ApiError::forbidden(format!("role {role} may not {what}")))
    }

    /// The token as a principal.
    pub fn principal(&self) -> crate::auth::Principal {
        crate::auth::Principal {
            actor: format!("token:{}", self.0.name),
            display: self.0.name.clone(),
            grants: vec![crate::auth::Grant { role: self.0.role, team: self.0.team.clone() }],
        }
    }

    /// The actor recorded for changes this caller makes.
    pub fn actor(&self) -> crate::store::Actor {
        crate::store::Actor::token(&self.0.name)
    }
}
