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
        match state.store.verify_token(secret, state.clock.now()).await? {
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
            // Never the team's name: a refusal must not tell a caller what exists elsewhere.
            crate::auth::Action::ReadTeamDetails => "see this team's details".to_string(),
            crate::auth::Action::ReadLedgerEntries => {
                "read raw ledger entries (viewer, security and admin may; checkpoints and proofs are open to every reader)".to_string()
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

    /// May this caller post pods, nodes or audit events for `cluster`? Ingest tokens only for the
    /// clusters they are bound to, and never for one the collector reads from its API server;
    /// security and admin for any. `server` is the cluster's API server (`None` upload-only or new).
    pub fn require_cluster(&self, cluster: &str, server: Option<&str>) -> Result<(), ApiError> {
        self.require(crate::auth::Action::SendData, None)?;
        if self.0.role != crate::domain::Role::Ingest {
            return Ok(());
        }
        if !self.0.bindings.clusters.iter().any(|c| c == cluster) {
            return Err(ApiError::forbidden(format!(
                "this ingest token is not bound to cluster {cluster:?} (drydock token create --role ingest --cluster {cluster})"
            )));
        }
        if server.is_some() {
            return Err(ApiError::forbidden(format!(
                "cluster {cluster:?} is collected from its API server: the collector owns its state, uploads by ingest tokens are refused"
            )));
        }
        Ok(())
    }

    /// May this caller post notifications of `registry`? Ingest tokens only when bound to it.
    pub fn require_registry(&self, registry: &str) -> Result<(), ApiError> {
        self.require(crate::auth::Action::SendData, None)?;
        if self.0.role == crate::domain::Role::Ingest && !self.0.bindings.registries.iter().any(|r| r == registry) {
            return Err(ApiError::forbidden(format!(
                "this ingest token is not bound to registry {registry:?} (drydock token create --role ingest --registry {registry})"
            )));
        }
        Ok(())
    }

    /// The actor recorded for changes this caller makes.
    pub fn actor(&self) -> crate::store::Actor {
        crate::store::Actor::token(&self.0.name)
    }
}
