//! What the admission webhook reads and writes (`backend/admission.rs`): its settings, the stored
//! facts about the images a workload names, and its decisions counted in batches.

use super::*;
use crate::domain::campaign::ItemState;
use chrono::{DateTime, NaiveDate, Utc};

/// An image a reference resolves to: the digest or `registry/name:tag` asked for, the image row.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ResolvedImage {
    pub reference: String,
    pub image_id: i64,
    pub digest: String,
}

/// A campaign item not closed on an image, with its campaign's title and vulnerabilities.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdmissionItem {
    pub image_id: i64,
    pub campaign_id: i64,
    pub title: String,
    /// JSON array of vulnerability ids.
    pub cves: String,
    pub package: Option<String>,
    pub state: ItemState,
    pub deadline: NaiveDate,
    pub planned: Option<NaiveDate>,
    pub acknowledged_by: Option<String>,
    pub exception_state: Option<String>,
    pub exception_until: Option<NaiveDate>,
}

/// A policy an image fails now.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AdmissionFailure {
    pub image_id: i64,
    pub policy: String,
    pub reason: String,
    pub failing_since: Option<DateTime<Utc>>,
}

/// The stored facts about the images of one admission request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdmissionFacts {
    pub resolved: Vec<ResolvedImage>,
    /// (index image, platform image) for the indexes resolved: their platforms' facts count too.
    pub platforms: Vec<(i64, i64)>,
    pub items: Vec<AdmissionItem>,
    pub failures: Vec<AdmissionFailure>,
}

/// Decisions of one kind over a batch: how many, for which namespace and image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionCount {
    pub namespace: String,
    pub image: String,
    /// allowed, warned or denied.
    pub decision: String,
    pub count: i64,
}

store_capability! {
    /// The admission webhook's reads and writes (`backend/admission.rs`).
    pub trait AdmissionStore {
        /// The settings security saved (JSON), if any.
        fn admission_settings(&self) -> Result<Option<String>>;
        /// Saves the settings (audited with the previous and new values); with `seen` (the
        /// `document_version` read), settings changed since are refused (409) and nothing is written.
        fn put_admission_settings(&self, settings: &str, seen: Option<&str>, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// The images `digests` and `tags` ((registry, repository, tag)) name, with their
        /// outstanding campaign items and failing image policies: one statement.
        fn admission_facts(&self, digests: &[String], tags: &[(String, String, String)]) -> Result<AdmissionFacts>;
        /// One ledger entry for a batch of decisions between `from` and `to`.
        fn record_admission_decisions(&self, counts: &[DecisionCount], from: DateTime<Utc>, to: DateTime<Utc>, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
    }
}

store_capability! {
    /// The vendor image register (`backend/admission.rs`).
    pub trait VendorStore {
        /// The register as saved (JSON array), if ever.
        fn vendor_register(&self) -> Result<Option<String>>;
        /// Replaces the register (audited with the entries before and after); the estate is judged
        /// again. With `seen`, a register changed since is refused (409) and nothing is written.
        fn put_vendor_register(&self, entries: &str, seen: Option<&str>, actor: &Actor, now: DateTime<Utc>) -> Result<()>;
        /// (image, `registry/name`) of every repository holding these images (a thousand a query).
        fn repositories_of(&self, ids: &[i64]) -> Result<Vec<(i64, String)>>;
    }
}
