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
    /// Every role but `ingest` may read the estate.
    pub fn require_read(&self) -> Result<(), ApiError> {
        if self.0.role.can_read() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("role {} may only send data in, not read", self.0.role.as_str())))
        }
    }

    /// Reports come from ingest tokens, security and admin.
    pub fn require_ingest(&self) -> Result<(), ApiError> {
        if self.0.role.can_ingest() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "role {} may not send reports (ingest, security or admin may)",
                self.0.role.as_str()
            )))
        }
    }

    /// Admin-only changes.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.0.role.is_admin() {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!("role {} may not do this; admin may", self.0.role.as_str())))
        }
    }

    /// The actor recorded for changes this caller makes.
    pub fn actor(&self) -> crate::store::Actor {
        crate::store::Actor::token(&self.0.name)
    }
}
