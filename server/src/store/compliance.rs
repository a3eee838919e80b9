//! Compliance reads and writes: the KEV catalogue and the estate search (`backend/compliance.rs`).

use super::*;
use chrono::{DateTime, Utc};

impl Store {
    /// Replaces the KEV catalogue (one transaction, audited).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn replace_kev(
        &self,
        catalog: &crate::domain::kev::KevCatalog,
        sha256: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<KevUploadRecord> {
        dispatch!(self, replace_kev(catalog, sha256, actor, now))
    }

    /// The latest KEV upload.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn kev_upload(&self) -> Result<Option<KevUploadRecord>> {
        dispatch!(self, kev_upload())
    }

    /// Open findings of one vulnerability id, estate-wide.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search_vulnerability(&self, id: &str) -> Result<Vec<SearchMatchRecord>> {
        dispatch!(self, search_vulnerability(id))
    }

    /// Open findings of one package (coordinates), estate-wide.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn search_package(&self, c: &crate::domain::purl::PackageCoordinates) -> Result<Vec<SearchMatchRecord>> {
        dispatch!(self, search_package(c.ptype(), c.namespace(), c.name()))
    }

    /// Repositories and live containers (of `teams` and unowned ones when given) of images.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn matched_images(&self, ids: &[i64], teams: Option<&[String]>) -> Result<MatchedImages> {
        dispatch!(self, matched_images(ids, teams))
    }
}
