//! What the checklist's evidence lists read (`backend/evidence.rs`): pushes the registries
//! notified, audited access to pods, application libraries with a fix available, messages sent
//! per team, and how many images anything attributes to a builder.

use super::*;
use chrono::{DateTime, Utc};

/// A notified push, with the team of the image it pushed when Drydock knows it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PushRecord {
    pub registry: String,
    pub repository: String,
    pub tag: Option<String>,
    pub digest: Option<String>,
    pub actor: Option<String>,
    pub source_addr: Option<String>,
    pub team: Option<String>,
    pub happened_at: DateTime<Utc>,
}

/// An audited action on a pod.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct PodAccessRecord {
    pub cluster: String,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub verb: String,
    pub subresource: Option<String>,
    pub username: Option<String>,
    pub source_ips: String,
    pub code: Option<i64>,
    pub happened_at: DateTime<Utc>,
}

/// One application library at one version with open findings that name a fix.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct OutdatedLibraryRecord {
    pub purl_type: String,
    pub purl_namespace: String,
    pub purl_name: String,
    pub installed_version: String,
    /// Comma-separated distinct fixed versions.
    pub fixed_versions: String,
    pub vulnerabilities: i64,
    /// 0 critical … 5 unknown: the worst of its findings.
    pub worst: i64,
    pub images: i64,
}

/// Messages to one team's e-mail and webhook contacts since a time.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TeamMessagesRecord {
    pub team: Option<String>,
    pub sent: i64,
    pub gave_up: i64,
    pub last_sent: Option<DateTime<Utc>>,
}

/// Images (that a caller may see) and how many a notified push or build labels attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, sqlx::FromRow)]
pub struct Attribution {
    pub images: i64,
    /// Images whose digest a registry notified a push of, naming who pushed.
    pub pushed: i64,
    /// Images whose config labels name their source (`org.opencontainers.image.source`).
    pub labelled: i64,
    /// Images either attributes.
    pub attributed: i64,
}

/// The package types of application libraries (not the operating system's packages).
pub const LIBRARY_TYPES: [&str; 12] =
    ["npm", "pypi", "maven", "golang", "cargo", "gem", "nuget", "composer", "hex", "pub", "cocoapods", "swift"];

store_capability! {
    /// The checklist's evidence (`backend/evidence.rs`). `teams`: a team-scoped caller's teams
    /// (their subjects and those of no team); none: the estate.
    pub trait EvidenceStore {
        /// Notified pushes, newest first, and how many.
        fn pushes(&self, teams: Option<&[String]>, limit: i64, offset: i64) -> Result<Page<PushRecord>>;
        /// Audited actions starting, changing, stopping or entering pods (`exec_only`: exec, attach and
        /// port-forward), newest first, and how many.
        fn pod_access(&self, teams: Option<&[String]>, exec_only: bool, limit: i64, offset: i64) -> Result<Page<PodAccessRecord>>;
        /// Application libraries with a fix available, worst and most widespread first, and how many.
        fn outdated_libraries(&self, teams: Option<&[String]>, limit: i64, offset: i64) -> Result<Page<OutdatedLibraryRecord>>;
        /// How many images carry an application library with a fix available.
        fn images_with_outdated_libraries(&self, teams: Option<&[String]>) -> Result<i64>;
        /// Messages to e-mail and webhook contacts since `since`, per team.
        fn messages_by_team(&self, since: DateTime<Utc>) -> Result<Vec<TeamMessagesRecord>>;
        fn attribution(&self, teams: Option<&[String]>) -> Result<Attribution>;
        /// Images no ownership rule gives a team, newest first, and how many.
        fn unowned_images(&self, limit: i64, offset: i64) -> Result<Page<ImageRow>>;
    }
}
