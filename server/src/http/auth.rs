//! Bearer-token authentication for the API. Requests with a token are not cookie-authenticated,
//! so CSRF does not apply to them.

use super::error::ApiError;
use super::AppState;
use crate::store::TokenInfo;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

/// The secret of an `Authorization: Bearer <token>` header value.
pub fn bearer_secret(value: &str) -> Option<&str> {
    value.strip_prefix("Bearer ").or_else(|| value.strip_prefix("bearer ")).map(str::trim).filter(|s| !s.is_empty())
}

/// The authenticated caller of an API route.
pub struct Caller(pub TokenInfo);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| ApiError::unauthorized("missing Authorization: Bearer <token> header"))?;
        let value = header.to_str().map_err(|_| ApiError::unauthorized("the Authorization header is not valid text"))?;
        let secret = bearer_secret(value).ok_or_else(|| ApiError::unauthorized("the Authorization header must be \"Bearer <token>\""))?;
        match state.service.verify_token(secret).await? {
            Some(t) => Ok(Caller(t)),
            None => Err(ApiError::unauthorized("the token is unknown or revoked")),
        }
    }
}

impl Caller {
    /// The token as a principal (an ingest token with its bindings).
    pub fn principal(&self) -> crate::auth::Principal {
        crate::auth::Principal {
            actor: format!("token:{}", self.0.name),
            display: self.0.name.clone(),
            grants: vec![crate::auth::Grant { role: self.0.role, team: self.0.team.clone() }],
            bindings: (self.0.role == crate::domain::Role::Ingest).then(|| self.0.bindings.clone()),
        }
    }

    /// Refuses (as the service words it) unless the RBAC specification allows `action`: for
    /// routes that refuse before reading their body.
    pub fn require(&self, action: crate::auth::Action, team: Option<&str>) -> Result<(), ApiError> {
        crate::service::require(Some(&self.principal()), action, team).map(|_| ()).map_err(ApiError::from)
    }
}
