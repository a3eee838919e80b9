//! Who may do what: sign-in, the viewer's deployment facts, API tokens, people and role mappings.

use super::*;

/// How people sign in to this deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum SignInMode {
    /// OpenID Connect is configured.
    Oidc,
    /// `--demo`: pick a role on the demo sign-in page.
    Demo,
    /// Neither: the API works with tokens, pages explain what to set.
    None,
}

/// Facts about this deployment and the person viewing it, shown on every page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DeploymentInfo {
    /// Serving the demo estate: pages carry a banner.
    pub demo: bool,
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub sign_in: SignInMode,
    /// Who is signed in (login, name or e-mail), if anyone.
    pub user: Option<String>,
    /// Their roles, e.g. `developer (team-a)`; empty for a person whose groups map to no role.
    pub roles: Vec<String>,
    /// Whom to ask for access.
    pub access_contact: String,
    /// The navigation the viewer's roles may use: (path, label).
    #[serde(default)]
    pub nav: Vec<(String, String)>,
    /// May change the estate's configuration (registries, clusters): the pages offer their forms.
    #[serde(default)]
    pub may_configure: bool,
}

/// An API token as the tokens page lists it (the secret is shown once, at creation, never again).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ApiToken {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub team: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// Ingest tokens: the clusters whose pods, nodes and audit events they may post.
    pub clusters: Vec<String>,
    /// Ingest tokens: the registries whose notifications they may post.
    pub registries: Vec<String>,
}

/// A person who signed in, as the users page lists them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserRow {
    /// `issuer#subject` (or `demo#name`): what identifies the person.
    pub subject: String,
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Live sessions.
    pub sessions: i64,
}

/// A group → role mapping as the role-mapping page lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RoleMapping {
    /// Stored mappings have an id (and can be removed); configured ones do not.
    pub id: Option<i64>,
    pub group: String,
    pub role: String,
    pub team: Option<String>,
    /// "configuration" or who added it when.
    pub source: String,
}
