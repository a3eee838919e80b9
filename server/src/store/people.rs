//! People and their sessions, tokens, role mappings (`backend/sessions.rs`, `backend/admin.rs`).

#[allow(unused_imports)]
use super::*;
#[allow(unused_imports)]
use super::{backend_postgres, backend_sqlite};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};

/// A person as the identity provider describes them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedInUser {
    /// `issuer#sub`: stable across renames.
    pub subject: String,
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
}

impl Store {
    /// A live session's data and expiry (unix seconds).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_load(&self, id: &str, now_unix: i64) -> Result<Option<(String, i64)>> {
        dispatch!(self, session_load(id, now_unix))
    }
    /// Inserts a session unless the id exists.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_create(&self, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<bool> {
        dispatch!(self, session_create(id, data, expires_at, subject))
    }
    /// Upserts a session.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_save(&self, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<()> {
        dispatch!(self, session_save(id, data, expires_at, subject))
    }
    /// Deletes a session.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_delete(&self, id: &str) -> Result<()> {
        dispatch!(self, session_delete(id))
    }
    /// Deletes expired sessions; returns how many.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn session_delete_expired(&self, now_unix: i64) -> Result<u64> {
        dispatch!(self, session_delete_expired(now_unix))
    }
    /// Records a sign-in, sign-out or failed sign-in (and the person, on sign-in).
    /// Ends every session of a person (admin); how many there were.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn end_user_sessions(&self, subject: &str, actor: &Actor, now: DateTime<Utc>) -> Result<u64> {
        dispatch!(self, end_user_sessions(subject, actor, now))
    }

    /// People who signed in, with live session counts.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn users(&self, now_unix: i64) -> Result<Vec<UserRecord>> {
        dispatch!(self, users(now_unix))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn record_auth_event(
        &self,
        user: Option<&SignedInUser>,
        actor: &Actor,
        kind: &str,
        payload: serde_json::Value,
        now: DateTime<Utc>,
    ) -> Result<()> {
        dispatch!(self, record_auth_event(user, actor, kind, payload, now))
    }
    /// Stored mappings with ids (the admin page).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn role_mapping_rows(&self) -> Result<Vec<RoleMappingRow>> {
        dispatch!(self, role_mapping_rows())
    }
    /// Stores a group → role mapping (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_role_mapping(&self, m: &crate::auth::mapping::GroupMapping, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, add_role_mapping(m, actor, now))
    }
    /// Deletes a stored mapping (audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn delete_role_mapping(&self, id: i64, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
        dispatch!(self, delete_role_mapping(id, actor, now))
    }
    /// Stored group → role mappings: (group, role, team).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn role_mappings(&self) -> Result<Vec<(String, String, Option<String>)>> {
        dispatch!(self, role_mappings())
    }
}
