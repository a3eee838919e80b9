//! The register of vendor images (`GET/PUT /api/v1/vendor-images`): images adopted from vendors,
//! who is responsible for their updates, and where they may be used.

use super::*;

/// One vendor image (or every repository under a prefix) as security registers it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct VendorImage {
    /// `registry/name` (`docker.io/library/nginx`), or a prefix ending in `/*` (`quay.io/vendor/*`).
    pub repository: String,
    pub vendor: String,
    /// The team responsible for its updates (campaign items of it go to this team's ladder)…
    #[serde(default)]
    pub owner_team: Option<String>,
    /// …or a named person (an e-mail address) when no team is.
    #[serde(default)]
    pub owner_person: Option<String>,
    #[serde(default)]
    pub licence: String,
    /// Teams that may run it (empty: any).
    #[serde(default)]
    pub allowed_teams: Vec<String>,
    /// Namespaces it may run in (empty: any).
    #[serde(default)]
    pub allowed_namespaces: Vec<String>,
    /// Environments it must run in (empty: any).
    #[serde(default)]
    pub environments: Vec<String>,
    /// Environments it must not run in.
    #[serde(default)]
    pub not_environments: Vec<String>,
}
