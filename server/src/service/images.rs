//! Images, teams and the overview: read with the caller's team scope, promotion applied here.

use super::{require, views, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::store::capabilities::*;
use crate::store::ImageRow;
use app::types::{ImageDetail, ImageForensics, ImageSummary, ImageView, Overview, OwnershipRule, Page, SecretRow, TeamView};

impl Service {
    /// The image as pages and the API show it: the store's row and its promotion, derived here
    /// (the one place).
    pub(super) fn summary(&self, r: ImageRow) -> ImageSummary {
        let promotion = self.promotion.for_image(&r.labels, &r.repositories);
        ImageSummary {
            digest: r.digest,
            aliases: r.aliases,
            repositories: r.repositories,
            team: r.team,
            findings: r.findings,
            os: r.os,
            first_seen: r.first_seen,
            last_scanned: r.last_scanned,
            scan_state: r.scan_state,
            scanners: r.scanners,
            is_index: r.is_index,
            platform: r.platform,
            platforms: r.platforms,
            media_type: r.media_type,
            labels: r.labels,
            promotion,
            signed: r.signed,
            signature_detail: r.signature_detail,
            user: r.user,
            base_name: r.base_name,
            base_digest: r.base_digest,
        }
    }

    /// An image's details are its team's: the caller must be allowed to see that team's details.
    fn may_see_image(who: &Principal, team: Option<&str>) -> Result<()> {
        if who.can(Action::ReadTeamDetails, team) {
            Ok(())
        } else {
            Err(super::refusal(who, Action::ReadTeamDetails, team))
        }
    }

    #[tracing::instrument(skip_all)]
    pub async fn overview(&self, who: Option<&Principal>) -> Result<Overview> {
        require(who, Action::ReadEstate, None)?;
        Ok(views::overview(self.store.overview().await?))
    }

    /// A page of images (newest first), of the caller's teams for team-scoped roles.
    #[tracing::instrument(skip(self, who))]
    pub async fn images(&self, who: Option<&Principal>, limit: i64, offset: i64) -> Result<Page<ImageSummary>> {
        let p = require(who, Action::ReadEstate, None)?;
        let page = self.store.images(limit.clamp(1, 1000), offset.max(0), p.visible_teams().as_deref()).await?;
        Ok(page.map(|r| self.summary(r)))
    }

    /// A page of the secrets found in images (of the caller's teams and images of no team for
    /// team-scoped roles), worst first: where and what kind, never the secret.
    #[tracing::instrument(skip(self, who))]
    pub async fn secrets(&self, who: Option<&Principal>, limit: Option<i64>, offset: Option<i64>) -> Result<Page<SecretRow>> {
        let p = require(who, Action::ReadEstate, None)?;
        let limit = limit.unwrap_or(500);
        if !(1..=5000).contains(&limit) {
            return Err(Error::invalid("limit", "between 1 and 5000"));
        }
        let offset = offset.unwrap_or(0).max(0);
        let page = self.store.secrets(p.visible_teams().as_deref(), limit, offset).await?;
        Ok(Page { items: views::all(page.items), total: page.total })
    }

    /// One image by any of its digests, with its scans and where it runs.
    #[tracing::instrument(skip(self, who))]
    pub async fn image_detail(&self, who: Option<&Principal>, digest: &crate::domain::Digest) -> Result<ImageDetail> {
        let p = require(who, Action::ReadEstate, None)?;
        let image = self
            .store
            .image_detail(digest, p.visible_teams().as_deref())
            .await?
            .ok_or_else(|| super::Error::NotFound(format!("no image has digest {digest}")))?;
        Self::may_see_image(p, image.image.team.as_deref())?;
        Ok(self.image_detail_view(image))
    }

    /// The image page: the image with its findings and packages.
    #[tracing::instrument(skip(self, who))]
    pub async fn image_view(&self, who: Option<&Principal>, digest: &crate::domain::Digest) -> Result<Option<ImageView>> {
        let p = require(who, Action::ReadEstate, None)?;
        let Some(view) = self.store.image_view(digest, p.visible_teams().as_deref()).await? else { return Ok(None) };
        Self::may_see_image(p, view.image.image.team.as_deref())?;
        Ok(Some(self.image_page_view(view)))
    }

    /// A team's page: the team and `limit` (1..=1000) of its images from `offset`, worst first.
    #[tracing::instrument(skip(self, who))]
    pub async fn team(&self, who: Option<&Principal>, name: &crate::domain::TeamName, limit: i64, offset: i64) -> Result<Option<TeamView>> {
        require(who, Action::ReadEstate, None)?;
        require(who, Action::ReadTeamDetails, Some(name.as_str()))?;
        let offset = offset.max(0);
        Ok(self.store.team_view(name, limit.clamp(1, 1000), offset).await?.map(|v| self.team_view(v, offset)))
    }

    /// Everything recorded about one image.
    #[tracing::instrument(skip(self, who))]
    pub async fn image_forensics(&self, who: Option<&Principal>, digest: &crate::domain::Digest) -> Result<Option<ImageForensics>> {
        let p = require(who, Action::ReadEstate, None)?;
        let Some(f) = self.store.image_forensics(digest, p.visible_teams().as_deref()).await? else { return Ok(None) };
        Self::may_see_image(p, f.image.team.as_deref())?;
        Ok(Some(self.image_forensics_view(f)))
    }

    #[tracing::instrument(skip_all)]
    pub async fn ownership_rules(&self, who: Option<&Principal>) -> Result<Vec<OwnershipRule>> {
        require(who, Action::ReadEstate, None)?;
        Ok(views::all(self.store.ownership_rules().await?))
    }

    /// Adds an ownership rule (admin).
    #[tracing::instrument(skip(self, who))]
    pub async fn add_ownership_rule(&self, who: Option<&Principal>, rule: &crate::domain::ownership::RuleSpec) -> Result<OwnershipRule> {
        let p = require(who, Action::ManageEstateConfig, None)?;
        Ok(self.store.add_ownership_rule(rule, &crate::store::Actor(p.actor.clone()), self.clock.now()).await?.into())
    }
}
