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

/// A stored session as `sessions_load` reads it: its data and expiry (unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredSession {
    pub id: String,
    pub data: String,
    pub expires_at: i64,
}

store_capability! {
    /// Browser sessions (`backend/sessions.rs`): the session layer's rows.
    pub trait SessionStore {
        /// The sessions of `ids` that exist, expired ones too (the caller judges expiry by its
        /// clock), and the data version read with them.
        fn sessions_load(&self, ids: &[String]) -> Result<(Vec<StoredSession>, i64)>;
        /// Inserts a session unless the id exists.
        fn session_create(&self, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<bool>;
        /// Upserts a session.
        fn session_save(&self, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<()>;
        /// Deletes a session.
        fn session_delete(&self, id: &str) -> Result<()>;
        /// Deletes expired sessions; returns how many.
        fn session_delete_expired(&self, now_unix: i64) -> Result<u64>;
    }
}

store_capability! {
    /// API tokens, people who signed in, group → role mappings and sign-in events (`backend/admin.rs`, `backend/sessions.rs`).
    pub trait IdentityStore {
        /// Creates an API token; returns the secret (shown once, stored only as a hash).
        fn create_token(&self, name: &str, role: crate::domain::Role, team: Option<&crate::domain::TeamName>, bindings: &TokenBindings, actor: &Actor, now: DateTime<Utc>) -> Result<String>;
        /// Finds a live token by its secret and notes its use.
        fn verify_token(&self, secret: &str, now: DateTime<Utc>) -> Result<Option<TokenInfo>>;
        /// Every API token (never the secrets).
        fn list_tokens(&self) -> Result<Vec<TokenRecord>>;
        /// Revokes a token whose role `may_revoke` allows (else `Forbidden`, nothing changed).
        fn revoke_token(&self, id: i64, may_revoke: &(dyn Fn(crate::domain::Role) -> bool + Sync), actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Records a sign-in, sign-out or failed sign-in (and the person, on sign-in).
        /// Ends every session of a person (admin); how many there were.
        fn end_user_sessions(&self, subject: &str, actor: &Actor, now: DateTime<Utc>) -> Result<u64>;
        /// People who signed in, with live session counts.
        fn users(&self, now_unix: i64) -> Result<Vec<UserRecord>>;
        fn record_auth_event(&self, user: Option<&SignedInUser>, actor: &Actor, kind: &str, payload: serde_json::Value, now: DateTime<Utc>) -> Result<()>;
        /// Stored mappings with ids (the admin page).
        fn role_mapping_rows(&self) -> Result<Vec<RoleMappingRow>>;
        /// Stores a group → role mapping (audited).
        fn add_role_mapping(&self, m: &crate::auth::mapping::GroupMapping, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Deletes a stored mapping (audited).
        fn delete_role_mapping(&self, id: i64, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// Stored group → role mappings: (group, role, team).
        fn role_mappings(&self) -> Result<Vec<(String, String, Option<crate::domain::TeamName>)>>;
    }
}
