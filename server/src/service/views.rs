//! The store's rows turned into what pages and the API show: plain rows field by field, and the
//! composed views with the values the application derives (promotion through `summary`, an
//! image's scans named by its digest, a tag's last push, a workload's image history, the estate
//! totals and the worst-first orders).

use super::Service;
use crate::store::{
    AccessRecord, ClusterRecords, EstateTotals, FindingRecord, ImageContents, ImageHistory, ImageRecord, LedgerHeadline, PackageRecord,
    RegistryEventRecord, RegistryRecords, RepositoryRecord, RuleRecord, RunsInRecord, SecretRecord, TeamImages, TeamTotals, TokenRecord,
    UserRecord, WorkloadHistory, WorkloadRecord,
};
use app::types::{
    AccessRow, ApiToken, ClusterOverview, FindingRow, ImageDetail, ImageForensics, ImageView, LedgerRow, NodeRow, Overview, OwnershipRule,
    PackageRow, RegistryEventRow, RegistryOverview, RepositoryInfo, RepositoryView, RunsIn, ScanSummary, SecretRow, TagInfo, TeamSummary,
    TeamView, UserRow, WorkloadForensics, WorkloadImage, WorkloadRow,
};

impl From<WorkloadRecord> for WorkloadRow {
    fn from(r: WorkloadRecord) -> Self {
        WorkloadRow {
            cluster: r.cluster,
            namespace: r.namespace,
            pod: r.pod,
            workload: r.workload,
            container: r.container,
            container_kind: r.container_kind,
            image: r.image,
            image_id: r.image_id,
            digest: r.digest,
            image_digest: r.image_digest,
            team: r.team,
            state: r.state,
            reason: r.reason,
            node: r.node,
            run_as_user: r.run_as_user,
            image_user: r.image_user,
            first_seen: r.first_seen,
            last_seen: r.last_seen,
            ended_at: r.ended_at,
        }
    }
}

impl From<RunsInRecord> for RunsIn {
    fn from(r: RunsInRecord) -> Self {
        RunsIn { cluster: r.cluster, namespace: r.namespace, workload: r.workload, container: r.container, state: r.state, pods: r.pods }
    }
}

impl From<AccessRecord> for AccessRow {
    fn from(r: AccessRecord) -> Self {
        AccessRow {
            time: r.happened_at,
            cluster: r.cluster,
            namespace: r.namespace,
            pod: r.name,
            verb: r.verb,
            subresource: r.subresource,
            user: r.username,
            source_ips: serde_json::from_str(&r.source_ips).unwrap_or_default(),
            code: r.code,
        }
    }
}

impl From<LedgerHeadline> for LedgerRow {
    fn from(r: LedgerHeadline) -> Self {
        LedgerRow { index: r.ledger_index, time: r.time, actor: r.actor, kind: r.kind, subject: r.subject }
    }
}

impl From<RegistryEventRecord> for RegistryEventRow {
    fn from(r: RegistryEventRecord) -> Self {
        let RegistryEventRecord { action, tag, digest, actor, source_addr, happened_at } = r;
        RegistryEventRow { action, tag, digest, actor, source_addr, happened_at }
    }
}

impl From<FindingRecord> for FindingRow {
    fn from(f: FindingRecord) -> Self {
        FindingRow {
            vulnerability: f.vulnerability,
            package: f.package,
            installed: f.installed,
            fixed: f.fixed,
            severity: f.severity,
            package_path: f.package_path,
            title: f.title,
            url: f.url,
            scanner: f.scanner,
            first_seen: f.first_seen,
            resolved_at: f.resolved_at,
        }
    }
}

impl From<PackageRecord> for PackageRow {
    fn from(p: PackageRecord) -> Self {
        PackageRow { pkg_type: p.pkg_type, name: p.name, version: p.version, path: p.path }
    }
}

impl From<SecretRecord> for SecretRow {
    fn from(s: SecretRecord) -> Self {
        SecretRow {
            image: s.digest,
            team: s.team,
            file: s.target,
            rule: s.rule_id,
            category: s.category,
            severity: s.severity.parse().unwrap_or(app::types::Severity::Unknown),
            title: s.title,
            start_line: s.start_line,
            end_line: s.end_line,
            layer: s.layer_diff_id,
            reported_at: s.reported_at,
        }
    }
}

impl From<TokenRecord> for ApiToken {
    fn from(t: TokenRecord) -> Self {
        ApiToken {
            clusters: t.cluster_list(),
            registries: t.registry_list(),
            id: t.id,
            name: t.name,
            role: t.role,
            team: t.team,
            created_at: t.created_at,
            created_by: t.created_by,
            last_used_at: t.last_used_at,
            revoked_at: t.revoked_at,
        }
    }
}

impl From<UserRecord> for UserRow {
    fn from(u: UserRecord) -> Self {
        UserRow {
            subject: u.subject,
            login: u.login,
            name: u.name,
            email: u.email,
            first_seen: u.first_seen,
            last_seen: u.last_seen,
            sessions: u.sessions,
        }
    }
}

impl From<RuleRecord> for OwnershipRule {
    fn from(r: RuleRecord) -> Self {
        OwnershipRule {
            id: r.id,
            kind: r.kind,
            pattern: r.pattern,
            team: r.team,
            images: r.subjects,
            created_at: r.created_at,
            created_by: r.created_by,
        }
    }
}

impl From<TeamTotals> for TeamSummary {
    fn from(t: TeamTotals) -> Self {
        TeamSummary { name: t.name, display_name: t.display_name, images: t.images, findings: t.findings }
    }
}

/// Every element converted.
pub(super) fn all<T, U: From<T>>(rows: Vec<T>) -> Vec<U> {
    rows.into_iter().map(U::from).collect()
}

/// The overview: totals summed over teams and unowned images, teams worst first.
pub(super) fn overview(t: EstateTotals) -> Overview {
    let findings = t.teams.iter().fold(t.unowned_findings, |acc, team| acc.merged(&team.findings));
    let mut teams: Vec<TeamSummary> = all(t.teams);
    teams.sort_by(|a, b| (a.findings.worst_first_key(), &a.name).cmp(&(b.findings.worst_first_key(), &b.name)));
    Overview {
        images: t.images,
        unowned_images: t.unowned_images,
        unmatched_reports: t.unmatched_reports,
        scans: t.scans,
        findings,
        teams,
        unowned_findings: t.unowned_findings,
    }
}

/// Clusters, each with its nodes.
pub(super) fn clusters(r: ClusterRecords) -> Vec<ClusterOverview> {
    r.clusters
        .into_iter()
        .map(|k| ClusterOverview {
            upload_only: k.server.is_none(),
            nodes: r
                .nodes
                .iter()
                .filter(|n| n.cluster_id == k.id)
                .map(|n| NodeRow {
                    name: n.name.clone(),
                    kubelet_version: n.kubelet_version.clone(),
                    container_runtime: n.container_runtime.clone(),
                    kernel: n.kernel.clone(),
                    os_image: n.os_image.clone(),
                    architecture: n.architecture.clone(),
                    last_seen: n.last_seen,
                })
                .collect(),
            name: k.name,
            server: k.server,
            last_attempt: k.last_attempt,
            next_attempt: k.next_attempt,
            last_success: k.last_success,
            last_upload: k.last_upload,
            last_error: k.last_error,
            pods: k.pods,
            containers: k.containers,
        })
        .collect()
}

/// Registries, each with its repositories.
pub(super) fn registry_overviews(r: RegistryRecords) -> Vec<RegistryOverview> {
    r.registries
        .into_iter()
        .map(|registry| RegistryOverview {
            repositories: r
                .repositories
                .iter()
                .filter(|c| c.registry_id == registry.id)
                .map(|c| RepositoryInfo {
                    repository: format!("{}/{}", c.registry, c.name),
                    tags: c.tags,
                    images: c.images,
                    collected_at: c.collected_at,
                    last_push: c.last_push,
                    last_push_by: c.last_push_by.clone(),
                })
                .collect(),
            registry,
        })
        .collect()
}

/// A workload's story: each image it ran (first and last seen, containers running it now), in
/// the order first seen.
pub(super) fn workload_forensics(cluster: &str, namespace: &str, workload: &str, h: WorkloadHistory) -> WorkloadForensics {
    let mut images: Vec<WorkloadImage> = Vec::new();
    for r in &h.runs {
        let running = i64::from(r.ended_at.is_none() && r.state == "running");
        match images.iter_mut().find(|i| i.image == r.image && i.digest == r.digest) {
            Some(i) => {
                i.first_seen = i.first_seen.min(r.first_seen);
                i.last_seen = i.last_seen.max(r.last_seen);
                i.running += running;
            }
            None => images.push(WorkloadImage {
                image: r.image.clone(),
                digest: r.digest.clone(),
                image_digest: r.image_digest.clone(),
                first_seen: r.first_seen,
                last_seen: r.last_seen,
                running,
            }),
        }
    }
    WorkloadForensics { cluster: cluster.into(), namespace: namespace.into(), workload: workload.into(), images, access: all(h.access) }
}

impl Service {
    /// An image with its scans (each naming the image's digest) and where it runs.
    pub(super) fn image_detail_view(&self, r: ImageRecord) -> ImageDetail {
        let digest = r.image.digest.clone();
        let scans = r
            .scans
            .into_iter()
            .map(|s| ScanSummary {
                id: s.id,
                scanner: s.scanner,
                artifact: s.artifact,
                image: Some(digest.clone()),
                report_sha256: s.report_sha256,
                scanned_at: s.scanned_at,
                received_at: s.received_at,
                future_dated: s.future_dated,
                findings: s.findings,
            })
            .collect();
        ImageDetail { summary: self.summary(r.image), scans, runs_in: all(r.runs_in) }
    }

    pub(super) fn image_page_view(&self, c: ImageContents) -> ImageView {
        ImageView { image: self.image_detail_view(c.image), findings: all(c.findings), packages: all(c.packages), secrets: all(c.secrets) }
    }

    /// A team and a page of its images, worst first (the store's order).
    pub(super) fn team_view(&self, t: TeamImages, offset: i64) -> TeamView {
        let images = t.images.into_iter().map(|r| self.summary(r)).collect();
        TeamView { team: t.team.into(), images, offset, total: t.total }
    }

    /// Everything recorded about an image, with its source and revision from its labels.
    pub(super) fn image_forensics_view(&self, h: ImageHistory) -> ImageForensics {
        ImageForensics {
            source: h.image.labels.get("org.opencontainers.image.source").cloned(),
            revision: h.image.labels.get("org.opencontainers.image.revision").cloned(),
            image: self.summary(h.image),
            pushes: all(h.pushes),
            runs: all(h.runs),
            access: all(h.access),
            ledger: all(h.ledger),
        }
    }

    /// A repository's tags, each with the latest notified push of that tag.
    pub(super) fn repository_view(&self, r: RepositoryRecord) -> RepositoryView {
        let tags = r
            .tags
            .into_iter()
            .map(|t| {
                let push = r.events.iter().find(|e| e.action == "push" && e.tag.as_deref() == Some(t.tag.as_str()));
                TagInfo {
                    last_push: push.map(|p| p.happened_at),
                    last_push_by: push.and_then(|p| p.actor.clone()),
                    tag: t.tag,
                    image: self.summary(t.image),
                    updated_at: t.updated_at,
                }
            })
            .collect();
        RepositoryView { repository: r.repository, registry: r.registry, tags, events: all(r.events) }
    }
}
