//! The "fix these first" ranking: what it reads and the stored ranking (`backend/risk.rs`).

use super::*;
use chrono::{DateTime, Utc};

/// A vulnerability in one image as the ranking reads it (one row per severity and KEV listing;
/// the ranking keeps the worst).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RiskFinding {
    pub image_id: i64,
    pub vulnerability: String,
    #[sqlx(try_from = "String")]
    pub severity: app::types::Severity,
    pub epss: Option<f64>,
    pub kev: bool,
}

/// What the ranking reads besides the findings: every image with its team, the platforms of each
/// index, the live containers and the environment rules.
#[derive(Debug, Clone, Default)]
pub struct RiskInputs {
    pub images: Vec<(i64, Option<String>)>,
    /// (platform image, its index).
    pub platforms: Vec<(i64, i64)>,
    pub runs: Vec<RunFact>,
    pub environments: Vec<EnvironmentRule>,
}

/// One ranked vulnerability of one scope (`*` the estate, a team's name, '' no team).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RiskRecord {
    pub scope: String,
    pub vulnerability: String,
    pub score: f64,
    pub severity: String,
    pub kev: bool,
    pub epss: Option<f64>,
    pub images: i64,
    pub instances: i64,
    pub production: i64,
    pub other: i64,
    pub registry_only: i64,
    /// JSON: environment → running containers, `registry-only` → images running nowhere.
    pub environments: String,
    /// JSON: the teams owning affected images.
    pub teams: String,
}

store_capability! {
    /// The stored risk ranking (`backend/risk.rs`).
    pub trait RiskStore {
        fn risk_inputs(&self) -> Result<RiskInputs>;
        /// The open findings of some images (a thousand a query).
        fn risk_findings(&self, ids: &[i64]) -> Result<Vec<RiskFinding>>;
        /// Replaces the ranking in one transaction, recording the data version it reflects.
        fn replace_risk(&self, rows: &[RiskRecord], now: DateTime<Utc>) -> Result<()>;
        /// The data version the stored ranking reflects and when it was made (none: never).
        fn risk_ranked(&self) -> Result<Option<(i64, DateTime<Utc>)>>;
        /// The top of one scope by score, and how many it holds.
        fn risk_page(&self, scope: &str, limit: i64, offset: i64) -> Result<(Vec<RiskRecord>, i64)>;
        /// Every ranked vulnerability of some scopes (each scope holds a bounded number).
        fn risk_of_scopes(&self, scopes: &[String]) -> Result<Vec<RiskRecord>>;
    }
}
