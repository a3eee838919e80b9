//! Types shared by the server and the browser: what the pages and the JSON API carry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A finding's severity, normalised across scanners.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
    Negligible,
    Unknown,
}

impl Severity {
    /// Every severity, worst first.
    pub const ALL: [Severity; 6] =
        [Severity::Critical, Severity::High, Severity::Medium, Severity::Low, Severity::Negligible, Severity::Unknown];

    /// The lowercase name used in the API, the database and CSS classes.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
            Severity::Negligible => "negligible",
            Severity::Unknown => "unknown",
        }
    }

    /// Sort rank: 0 is the worst.
    pub fn rank(self) -> u8 {
        self as u8
    }

    /// Reads a scanner's severity word; anything unrecognised (or absent) is `Unknown`.
    pub fn from_scanner(s: Option<&str>) -> Severity {
        s.and_then(|s| s.parse().ok()).unwrap_or(Severity::Unknown)
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored severity (rows decode into it): only the words Drydock writes.
impl TryFrom<String> for Severity {
    type Error = String;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Severity::ALL.into_iter().find(|v| v.as_str() == s).ok_or_else(|| format!("{s:?} is not a stored severity"))
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "critical" => Ok(Severity::Critical),
            "high" => Ok(Severity::High),
            "medium" | "moderate" => Ok(Severity::Medium),
            "low" => Ok(Severity::Low),
            "negligible" => Ok(Severity::Negligible),
            "unknown" | "none" | "" => Ok(Severity::Unknown),
            other => Err(format!("unknown severity {other:?}")),
        }
    }
}

/// Open findings counted per severity bucket (the API's `findings` object).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FindingCounts {
    pub critical: i64,
    pub high: i64,
    pub medium: i64,
    pub low: i64,
    pub negligible: i64,
    pub unknown: i64,
}

impl FindingCounts {
    /// Adds `n` findings of severity `s`.
    pub fn add(&mut self, s: Severity, n: i64) {
        *self.bucket_mut(s) += n;
    }

    /// The count of one severity.
    pub fn get(&self, s: Severity) -> i64 {
        match s {
            Severity::Critical => self.critical,
            Severity::High => self.high,
            Severity::Medium => self.medium,
            Severity::Low => self.low,
            Severity::Negligible => self.negligible,
            Severity::Unknown => self.unknown,
        }
    }

    fn bucket_mut(&mut self, s: Severity) -> &mut i64 {
        match s {
            Severity::Critical => &mut self.critical,
            Severity::High => &mut self.high,
            Severity::Medium => &mut self.medium,
            Severity::Low => &mut self.low,
            Severity::Negligible => &mut self.negligible,
            Severity::Unknown => &mut self.unknown,
        }
    }

    /// All findings.
    pub fn total(&self) -> i64 {
        Severity::ALL.iter().map(|s| self.get(*s)).sum()
    }

    /// Sums two count sets.
    pub fn merged(mut self, other: &FindingCounts) -> FindingCounts {
        for s in Severity::ALL {
            self.add(s, other.get(s));
        }
        self
    }

    /// A key that orders "worst first": more criticals, then more highs, ...
    pub fn worst_first_key(&self) -> [i64; 6] {
        Severity::ALL.map(|s| -self.get(s))
    }
}

/// A team with its estate totals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamSummary {
    pub name: String,
    pub display_name: String,
    /// Images (platform manifests; an index is not counted: its platforms are).
    pub images: i64,
    pub findings: FindingCounts,
}

/// The estate overview page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Overview {
    pub images: i64,
    pub unowned_images: i64,
    pub unmatched_reports: i64,
    pub scans: i64,
    pub findings: FindingCounts,
    /// Teams, worst first.
    pub teams: Vec<TeamSummary>,
    /// Findings of images no rule assigns to a team.
    pub unowned_findings: FindingCounts,
}

/// The team page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamView {
    pub team: TeamSummary,
    /// A page of the team's images, worst first.
    pub images: Vec<ImageSummary>,
    /// Where the page starts among the team's images.
    pub offset: i64,
    /// All of the team's images listed (every page).
    pub total: i64,
}

/// A page of a list, as every list endpoint answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
}

/// The answer to `POST /api/v1/scans`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct IngestSummary {
    pub image: Option<String>,
    pub artifact: String,
    pub scanner: String,
    pub findings: FindingCounts,
    /// The report claimed a date more than a day after Drydock received it (kept as evidence,
    /// never trusted for which report is current or how fresh the image's scan is).
    pub future_dated: bool,
}

/// The body of `POST /api/v1/ownership-rules` (checked into a rule by the server).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema), schema(as = NewRule))]
pub struct NewOwnershipRule {
    /// `repository_prefix` (images), `namespace` or `label` (`key=value`, pods). What runs is
    /// owned by a label rule first, then a namespace rule, then its image's owner.
    pub kind: RuleKind,
    pub pattern: String,
    pub team: String,
}

/// How an ownership rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A repository path prefix, matched on whole path segments (owns images).
    RepositoryPrefix,
    /// A Kubernetes namespace (owns what runs in it).
    Namespace,
    /// A pod label `key=value` (owns the pods carrying it).
    Label,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::RepositoryPrefix => "repository_prefix",
            RuleKind::Namespace => "namespace",
            RuleKind::Label => "label",
        }
    }
    pub fn parse(s: &str) -> Option<RuleKind> {
        match s {
            "repository_prefix" => Some(RuleKind::RepositoryPrefix),
            "namespace" => Some(RuleKind::Namespace),
            "label" => Some(RuleKind::Label),
            _ => None,
        }
    }
}

/// An ownership rule: which images belong to which team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OwnershipRule {
    pub id: i64,
    pub kind: RuleKind,
    pub pattern: String,
    pub team: String,
    /// How many images (repository prefix) or live containers (namespace, label) this rule
    /// currently decides the owner of.
    pub images: i64,
    pub created_at: DateTime<Utc>,
    pub created_by: String,
}

mod access;
mod admission;
mod bundle;
mod campaigns;
mod compliance;
mod evidence;
mod forensics;
mod homes;
mod image;
mod registry;
mod runtime;
mod vendor;

pub use access::*;
pub use admission::*;
pub use bundle::*;
pub use campaigns::*;
pub use compliance::*;
pub use evidence::*;
pub use forensics::*;
pub use homes::*;
pub use image::*;
pub use registry::*;
pub use runtime::*;
pub use vendor::*;
