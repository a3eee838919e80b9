//! Compliance reads and writes: the KEV catalogue and the estate search (`backend/compliance.rs`).

use super::*;
use chrono::{DateTime, Utc};

store_capability! {
    /// The KEV catalogue and the estate search over stored findings (`backend/compliance.rs`).
    pub trait FindingsStore {
        /// Replaces the KEV catalogue (one transaction, audited).
        fn replace_kev(&self, catalog: &crate::domain::kev::KevCatalog, sha256: &str, actor: &Actor, now: DateTime<Utc>) -> Result<KevUploadRecord>;
        /// The latest KEV upload.
        fn kev_upload(&self) -> Result<Option<KevUploadRecord>>;
        /// The installed versions of one package (coordinates) among open findings, each once.
        fn package_versions(&self, c: &crate::domain::purl::PackageCoordinates) -> Result<Vec<String>>;
        /// Every image with open findings the filter matches, counted, estate-wide.
        fn search_images(&self, filter: &SearchFilter) -> Result<SearchImages>;
        /// The open findings the filter matches on the given images (a search's page).
        fn search_matches(&self, filter: &SearchFilter, ids: &[i64]) -> Result<Vec<SearchMatchRecord>>;
        /// Open findings of one vulnerability id, summed per image (a campaign's affected images).
        fn affected_by_vulnerability(&self, id: &str) -> Result<Vec<AffectedRecord>>;
        /// Open findings of one package, summed per image and installed version.
        fn affected_by_package(&self, c: &crate::domain::purl::PackageCoordinates) -> Result<Vec<AffectedRecord>>;
        /// The workloads running each of the images (an index through its platforms): (image,
        /// cluster, namespace, `Kind/name` or `Pod/name`), each once.
        fn running_workload_keys(&self, ids: &[i64]) -> Result<Vec<(i64, String, String, String)>>;
        /// Repositories and live containers (of `teams` and unowned ones when given) of images.
        fn matched_images(&self, ids: &[i64], teams: Option<&[String]>) -> Result<MatchedImages>;
        /// Which of the images run, with each running workload's team: (image, team), once each.
        fn running_teams(&self, ids: &[i64]) -> Result<Vec<(i64, Option<String>)>>;
    }
}
