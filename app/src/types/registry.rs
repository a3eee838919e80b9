//! Registries, repositories, tags and the pushes a registry notified.

use super::*;

/// A configured registry, as stored (never a secret: a password is named by its variable).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistryRow {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub username: Option<String>,
    /// The environment variable holding the password or token.
    pub password_env: Option<String>,
    pub has_ca: bool,
    pub insecure: bool,
    /// On the approved list.
    pub approved: bool,
    /// Repositories read where the registry has no catalog.
    pub repositories: Vec<String>,
    /// Hosts besides the registry's own whose https token realm may receive its credentials.
    #[serde(default)]
    pub auth_hosts: Vec<String>,
    pub status: RegistryStatus,
}

impl RegistryRow {
    /// Drydock reads it without credentials (no user name, no password variable).
    pub fn anonymous(&self) -> bool {
        self.username.is_none() && self.password_env.is_none()
    }
}

/// The collector's last results for a registry.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistryStatus {
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
    /// Failed runs in a row (the back-off grows with it).
    pub failures: i64,
    pub next_attempt: Option<DateTime<Utc>>,
    pub repositories: i64,
    pub tags: i64,
    pub manifests: i64,
}

/// A registry with its repositories (the Registries page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistryOverview {
    pub registry: RegistryRow,
    pub repositories: Vec<RepositoryInfo>,
}

/// One repository in a list.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RepositoryInfo {
    /// `registry-host/name`.
    pub repository: String,
    pub tags: i64,
    pub images: i64,
    pub collected_at: Option<DateTime<Utc>>,
    pub last_push: Option<DateTime<Utc>>,
    pub last_push_by: Option<String>,
}

/// A repository's tags (the Repository page).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RepositoryView {
    pub repository: String,
    /// The configured registry it was collected from.
    pub registry: Option<String>,
    pub tags: Vec<TagInfo>,
    /// Pushes and deletions the registry notified, newest first.
    pub events: Vec<RegistryEventRow>,
}

/// A tag and what it points at.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TagInfo {
    pub tag: String,
    pub image: ImageSummary,
    pub updated_at: DateTime<Utc>,
    pub last_push: Option<DateTime<Utc>>,
    pub last_push_by: Option<String>,
}

/// A push or deletion the registry notified.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RegistryEventRow {
    pub action: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub actor: Option<String>,
    pub source_addr: Option<String>,
    pub happened_at: DateTime<Utc>,
}
