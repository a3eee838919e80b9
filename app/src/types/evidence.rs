//! Lists the checklist's answers point to (each `{"items", "total"}`): pushes recorded by the
//! registries, audited access to pods, application libraries with a fix available, how each team
//! with outstanding work is told.

use super::*;

/// A push a registry notified Drydock of (`GET /api/v1/pushes`): who pushed which digest where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PushEvent {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    /// The registry's account that pushed (none when the registry did not say).
    pub actor: Option<String>,
    pub source_addr: Option<String>,
    /// The team owning the pushed image, when Drydock knows the image.
    pub team: Option<String>,
    pub happened_at: DateTime<Utc>,
}

/// An audited action on a pod (`GET /api/v1/pod-access`): who created, deleted or exec'd into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PodAccess {
    pub cluster: String,
    pub namespace: Option<String>,
    /// The pod's name.
    pub pod: Option<String>,
    /// The Kubernetes verb (`create`, `delete`, `get`…).
    pub verb: String,
    /// `exec`, `attach`, `portforward`, `log`… (none: the pod itself).
    pub subresource: Option<String>,
    pub username: Option<String>,
    /// Comma-separated addresses the request came from.
    pub source_ips: String,
    /// The HTTP status the API server answered.
    pub code: Option<i64>,
    pub happened_at: DateTime<Utc>,
}

/// An application library (a language package: npm, PyPI, Maven, Go…) at a version with a known
/// vulnerability fixed in a later one (`GET /api/v1/outdated-libraries`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OutdatedLibrary {
    /// The package URL without version (`pkg:npm/lodash`).
    pub package: String,
    pub version: String,
    /// The versions its findings name as their fixes.
    pub fixed_versions: Vec<String>,
    /// Vulnerabilities of that version with a fix.
    pub vulnerabilities: i64,
    pub severity: Severity,
    /// Images carrying it (that the caller may see).
    pub images: i64,
}

/// How one team with outstanding campaign items is told (`GET /api/v1/team-notices`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamNotice {
    /// The team (none: items of no team, which the global contacts hear of).
    pub team: Option<String>,
    /// Items open, acknowledged or waiting for verification.
    pub outstanding: i64,
    pub overdue: i64,
    /// The team's own e-mail or webhook contacts, by ladder level.
    pub contact_levels: Vec<i64>,
    /// Messages (e-mail, webhook) to the team in the last 30 days: sent, and given up on.
    pub sent_30d: i64,
    pub gave_up_30d: i64,
    pub last_sent: Option<DateTime<Utc>>,
}
