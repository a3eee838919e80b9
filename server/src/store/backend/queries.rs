// Read queries for pages and the API. A page is a fixed number of set-based queries, whatever
// the number of rows (no query per image).

fn parse_severity(s: &str) -> Severity {
    s.parse().unwrap_or(Severity::Unknown)
}

fn in_list<'a, T>(qb: &mut QueryBuilder<'a, DB>, items: &'a [T])
where
    &'a T: 'a + sqlx::Encode<'a, DB> + sqlx::Type<DB> + Send,
{
    let mut sep = qb.separated(", ");
    for x in items {
        sep.push_bind(x);
    }
    qb.push(")");
}

/// Builds image summaries for `ids`, returned in the order of `ids`: each part read for a
/// chunk of images at once (no query per image).
async fn summaries(pool: &Pool, ids: &[i64]) -> Result<Vec<ImageRow>> {
    let mut out: Vec<ImageRow> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut by_id = image_rows(pool, chunk).await?;
        add_aliases(pool, chunk, &mut by_id).await?;
        add_platform_links(pool, chunk, &mut by_id).await?;
        add_repositories(pool, chunk, &mut by_id).await?;
        add_open_counts(pool, chunk, &mut by_id).await?;
        add_scanners(pool, chunk, &mut by_id).await?;
        out.extend(chunk.iter().filter_map(|id| by_id.remove(id)));
    }
    Ok(out)
}

/// The images' own columns, by id (aliases, repositories, counts and scans added after).
async fn image_rows(pool: &Pool, chunk: &[i64]) -> Result<HashMap<i64, ImageRow>> {
    let mut by_id: HashMap<i64, ImageRow> = HashMap::with_capacity(chunk.len());
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT i.id, i.digest, i.os, t.name, i.first_seen, i.last_scanned, i.is_index, i.platform, i.media_type,
                i.labels, i.signature, i.signature_detail, i.config_user, i.base_name, i.base_digest
         FROM images i LEFT JOIN teams t ON t.id = i.team_id WHERE i.id IN (",
    );
    in_list(&mut qb, chunk);
    let rows = qb.build().fetch_all(pool).await?;
    for r in rows {
        let id: i64 = r.try_get(0)?;
        let labels: Option<String> = r.try_get(9)?;
        let signature: String = r.try_get(10)?;
        let (digest, os, team, first_seen, last_scanned) = (r.try_get(1)?, r.try_get(2)?, r.try_get(3)?, r.try_get(4)?, r.try_get(5)?);
        by_id.insert(
            id,
            ImageRow {
                digest,
                aliases: vec![],
                repositories: vec![],
                team,
                findings: FindingCounts::default(),
                os,
                first_seen,
                last_scanned,
                scan_state: ScanState::NotScanned,
                scanners: vec![],
                is_index: r.try_get(6)?,
                platform: r.try_get(7)?,
                platforms: vec![],
                media_type: r.try_get(8)?,
                labels: labels.and_then(|l| serde_json::from_str(&l).ok()).unwrap_or_default(),
                signed: SignatureState::parse(&signature),
                signature_detail: r.try_get(11)?,
                user: r.try_get(12)?,
                base_name: r.try_get(13)?,
                base_digest: r.try_get(14)?,
            },
        );
    }
    Ok(by_id)
}

async fn add_aliases(pool: &Pool, chunk: &[i64], by_id: &mut HashMap<i64, ImageRow>) -> Result<()> {
    let mut qb = QueryBuilder::<DB>::new("SELECT image_id, digest, kind FROM image_aliases WHERE image_id IN (");
    in_list(&mut qb, chunk);
    qb.push(" ORDER BY image_id, kind, digest");
    let rows: Vec<(i64, String, String)> = qb.build_query_as().fetch_all(pool).await?;
    for (id, digest, kind) in rows {
        if let (Some(img), Some(kind)) = (by_id.get_mut(&id), AliasKind::parse(&kind)) {
            img.aliases.push(Alias { digest, kind });
        }
    }
    Ok(())
}

/// Indexes and their platform manifests name each other as aliases.
async fn add_platform_links(pool: &Pool, chunk: &[i64], by_id: &mut HashMap<i64, ImageRow>) -> Result<()> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT p.index_image_id, p.image_id, c.digest AS child_digest, x.digest AS index_digest, p.platform FROM image_platforms p
         JOIN images c ON c.id = p.image_id JOIN images x ON x.id = p.index_image_id
         WHERE p.index_image_id IN (",
    );
    in_list(&mut qb, chunk);
    qb.push(" OR p.image_id IN (");
    in_list(&mut qb, chunk);
    qb.push(" ORDER BY p.platform, c.digest");
    let rows: Vec<PlatformLinkRow> = qb.build_query_as().fetch_all(pool).await?;
    for PlatformLinkRow { index_image_id: index_id, image_id: child_id, child_digest, index_digest, platform } in rows {
        if let Some(img) = by_id.get_mut(&index_id) {
            img.platforms.push(PlatformManifest { digest: child_digest.clone(), platform });
            img.aliases.push(Alias { digest: child_digest, kind: AliasKind::Platform });
        }
        if let Some(img) = by_id.get_mut(&child_id) {
            if !img.aliases.iter().any(|a| a.digest == index_digest) {
                img.aliases.push(Alias { digest: index_digest, kind: AliasKind::Index });
            }
        }
    }
    Ok(())
}

/// Where each image is: its repositories with the tags pointing at it.
async fn add_repositories(pool: &Pool, chunk: &[i64], by_id: &mut HashMap<i64, ImageRow>) -> Result<()> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT ir.image_id, r.registry, r.name, tg.tag
         FROM image_repositories ir
         JOIN repositories r ON r.id = ir.repository_id
         LEFT JOIN tags tg ON tg.repository_id = r.id AND tg.image_id = ir.image_id
         WHERE ir.image_id IN (",
    );
    in_list(&mut qb, chunk);
    qb.push(" ORDER BY ir.image_id, r.registry, r.name, tg.tag");
    let rows: Vec<(i64, String, String, Option<String>)> = qb.build_query_as().fetch_all(pool).await?;
    for (id, registry, name, tag) in rows {
        let Some(img) = by_id.get_mut(&id) else { continue };
        let full = format!("{registry}/{name}");
        if img.repositories.last().map(|r| r.repository != full).unwrap_or(true) {
            img.repositories.push(RepositoryTags { repository: full, tags: vec![] });
        }
        if let (Some(t), Some(r)) = (tag, img.repositories.last_mut()) {
            r.tags.push(t);
        }
    }
    Ok(())
}

/// Open counts are kept with each image (not aggregated from its findings here).
async fn add_open_counts(pool: &Pool, chunk: &[i64], by_id: &mut HashMap<i64, ImageRow>) -> Result<()> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT id AS key, open_critical AS critical, open_high AS high, open_medium AS medium, open_low AS low,
                open_negligible AS negligible, open_unknown AS unknown FROM images WHERE id IN (",
    );
    in_list(&mut qb, chunk);
    let rows: Vec<OpenCounts> = qb.build_query_as().fetch_all(pool).await?;
    for r in rows {
        if let Some(img) = r.key.and_then(|k| by_id.get_mut(&k)) {
            img.findings = r.counts();
        }
    }
    Ok(())
}

/// Each scanner that reported on the image, its latest report, and the image's scan state.
async fn add_scanners(pool: &Pool, chunk: &[i64], by_id: &mut HashMap<i64, ImageRow>) -> Result<()> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT image_id, scanner, vulnerability_data, MAX(CASE WHEN scanned_at > received_at THEN received_at ELSE scanned_at END)
         FROM scans WHERE image_id IN (",
    );
    in_list(&mut qb, chunk);
    qb.push(" GROUP BY image_id, scanner, vulnerability_data ORDER BY image_id, scanner, vulnerability_data");
    let rows: Vec<(i64, String, bool, DateTime<Utc>)> = qb.build_query_as().fetch_all(pool).await?;
    for (id, scanner, vulnerability_data, last_report) in rows {
        if let Some(img) = by_id.get_mut(&id) {
            img.scan_state = match (img.scan_state, vulnerability_data) {
                (_, true) | (ScanState::Scanned, _) => ScanState::Scanned,
                _ => ScanState::SbomOnly,
            };
            img.scanners.push(ScannerSeen { scanner, vulnerability_data, last_report });
        }
    }
    Ok(())
}

/// `WHERE` clause limiting images to some teams' plus the unowned ones.
fn push_team_filter<'a>(qb: &mut QueryBuilder<'a, DB>, teams: Option<&'a [String]>) {
    if let Some(teams) = teams {
        qb.push(" WHERE team_id IS NULL");
        if !teams.is_empty() {
            qb.push(" OR team_id IN (SELECT id FROM teams WHERE name IN (");
            let mut sep = qb.separated(", ");
            for t in teams {
                sep.push_bind(t);
            }
            qb.push("))");
        }
    }
}

pub async fn images_page(pool: &Pool, limit: i64, offset: i64, teams: Option<&[String]>) -> Result<Page<ImageRow>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM images");
    push_team_filter(&mut qb, teams);
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<DB>::new("SELECT id FROM images");
    push_team_filter(&mut qb, teams);
    qb.push(" ORDER BY id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let ids: Vec<i64> = qb.build_query_scalar().fetch_all(pool).await?;
    Ok(Page { items: summaries(pool, &ids).await?, total })
}

pub async fn image_detail(pool: &Pool, digest: &crate::domain::Digest, teams: Option<&[String]>) -> Result<Option<ImageRecord>> {
    let Some(id) = image_id_by_digest(pool, digest.as_str()).await? else { return Ok(None) };
    image_detail_by_id(pool, id, teams).await
}

async fn image_detail_by_id(pool: &Pool, id: i64, teams: Option<&[String]>) -> Result<Option<ImageRecord>> {
    let Some(image) = summaries(pool, &[id]).await?.pop() else { return Ok(None) };
    let rows = sqlx::query(
        "SELECT id, scanner, artifact, report_sha256, scanned_at, received_at,
                n_critical, n_high, n_medium, n_low, n_negligible, n_unknown, future_dated
         FROM scans WHERE image_id = $1 ORDER BY received_at DESC, id DESC",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let scans = rows
        .into_iter()
        .map(|r| {
            Ok(ScanRecord {
                id: r.try_get(0)?,
                scanner: r.try_get(1)?,
                artifact: r.try_get(2)?,
                report_sha256: r.try_get(3)?,
                scanned_at: r.try_get(4)?,
                received_at: r.try_get(5)?,
                findings: counts_at(&r, 6)?,
                future_dated: r.try_get(12)?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    let runs_in = runs_in(pool, id, teams).await?;
    Ok(Some(ImageRecord { image, scans, runs_in }))
}

/// An index and one of its platform manifests.
#[derive(sqlx::FromRow)]
struct PlatformLinkRow {
    index_image_id: i64,
    image_id: i64,
    child_digest: String,
    index_digest: String,
    platform: String,
}

/// A finding of an image with its vulnerability's title and link.
#[derive(sqlx::FromRow)]
struct FindingDbRow {
    vulnerability: String,
    package: String,
    installed: String,
    fixed: Option<String>,
    severity: String,
    package_path: String,
    title: Option<String>,
    url: Option<String>,
    scanner: String,
    first_seen: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
}

pub async fn image_view(pool: &Pool, digest: &crate::domain::Digest, teams: Option<&[String]>) -> Result<Option<ImageContents>> {
    let Some(id) = image_id_by_digest(pool, digest.as_str()).await? else { return Ok(None) };
    let Some(image) = image_detail_by_id(pool, id, teams).await? else { return Ok(None) };
    let rows: Vec<FindingDbRow> = sqlx::query_as(
        "SELECT f.vulnerability_id AS vulnerability, f.package_name AS package, f.installed_version AS installed,
                f.fixed_version AS fixed, f.severity, f.path_key AS package_path,
                v.title, v.primary_url AS url, f.scanners AS scanner, f.first_seen, f.resolved_at
         FROM image_vulnerabilities f JOIN vulnerabilities v ON v.id = f.vulnerability_id
         WHERE f.image_id = $1",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut findings: Vec<FindingRecord> = rows
        .into_iter()
        .map(|f| FindingRecord {
            severity: parse_severity(&f.severity),
            vulnerability: f.vulnerability,
            package: f.package,
            installed: f.installed,
            fixed: f.fixed,
            package_path: f.package_path,
            title: f.title,
            url: f.url,
            scanner: f.scanner,
            first_seen: f.first_seen,
            resolved_at: f.resolved_at,
        })
        .collect();
    // Open first, worst first, fixable before unfixable, then by id.
    findings.sort_by(|a, b| {
        (a.resolved_at.is_some(), a.severity, a.fixed.is_none(), &a.vulnerability, &a.package)
            .cmp(&(b.resolved_at.is_some(), b.severity, b.fixed.is_none(), &b.vulnerability, &b.package))
    });
    let packages: Vec<PackageRecord> = sqlx::query_as(
        "SELECT p.pkg_type, p.name, p.version, ip.path FROM image_packages ip JOIN packages p ON p.id = ip.package_id
         WHERE ip.image_id = $1 ORDER BY p.name, p.version, p.pkg_type, ip.path",
    )
    .bind(id)
    .fetch_all(pool)
    .await?;
    let mut qb = QueryBuilder::<DB>::new(SECRET_SELECT);
    qb.push(" WHERE s.image_id = ").push_bind(id).push(" ORDER BY s.target, s.start_line, s.rule_id");
    let secrets = qb.build_query_as().fetch_all(pool).await?;
    Ok(Some(ImageContents { image, findings, packages, secrets }))
}

const SECRET_SELECT: &str = "SELECT i.digest, t.name AS team, s.target, s.rule_id, s.category, s.severity, s.title, s.start_line, s.end_line,
        s.layer_diff_id, s.reported_at
    FROM image_secrets s JOIN images i ON i.id = s.image_id LEFT JOIN teams t ON t.id = i.team_id";

/// Secrets found in images (of `teams` and images of no team when given), worst first, and how many.
pub async fn secrets_page(pool: &Pool, teams: Option<&[String]>, limit: i64, offset: i64) -> Result<Page<SecretRecord>> {
    let scope = |qb: &mut QueryBuilder<'_, DB>| {
        if let Some(teams) = teams {
            qb.push(" WHERE (i.team_id IS NULL");
            if !teams.is_empty() {
                qb.push(" OR t.name IN (");
                let mut sep = qb.separated(", ");
                for t in teams {
                    sep.push_bind(t.clone());
                }
                qb.push(")");
            }
            qb.push(")");
        }
    };
    let mut qb = QueryBuilder::<DB>::new(SECRET_SELECT);
    scope(&mut qb);
    qb.push(" ORDER BY CASE s.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END, i.digest, s.target, s.start_line");
    qb.push(" LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let items = qb.build_query_as().fetch_all(pool).await?;
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM image_secrets s JOIN images i ON i.id = s.image_id LEFT JOIN teams t ON t.id = i.team_id");
    scope(&mut qb);
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    Ok(Page { items, total })
}

/// Every registry and the repositories collected from them, with counts and the latest push:
/// two queries whatever the size.
pub async fn registry_overviews(pool: &Pool) -> Result<RegistryRecords> {
    let registries = registries(pool).await?;
    let repositories: Vec<RepositoryCounts> = sqlx::query_as(
        "SELECT r.registry_id, r.registry, r.name,
                (SELECT COUNT(*) FROM tags t WHERE t.repository_id = r.id) AS tags,
                (SELECT COUNT(*) FROM image_repositories ir WHERE ir.repository_id = r.id) AS images,
                r.collected_at, p.happened_at AS last_push, p.actor AS last_push_by
         FROM repositories r
         LEFT JOIN registry_events p ON p.id = (SELECT x.id FROM registry_events x
               WHERE x.registry_id = r.registry_id AND x.repository = r.name AND x.action = 'push'
               ORDER BY x.happened_at DESC, x.id DESC LIMIT 1)
         WHERE r.registry_id IS NOT NULL ORDER BY r.name",
    )
    .fetch_all(pool)
    .await?;
    Ok(RegistryRecords { registries, repositories })
}

/// One repository by `registry-host/name`: its tags with what they point at, and the notified
/// pushes and deletions. `teams` limits the tags to images of those teams (and unowned ones).
pub async fn repository_view(pool: &Pool, full: &str, teams: Option<&[String]>) -> Result<Option<RepositoryRecord>> {
    let row: Option<(i64, String, Option<i64>, Option<String>)> = sqlx::query_as(
        "SELECT r.id, r.name, r.registry_id, g.name FROM repositories r LEFT JOIN registries g ON g.id = r.registry_id
         WHERE r.registry || '/' || r.name = $1",
    )
    .bind(full)
    .fetch_optional(pool)
    .await?;
    let Some((repo_id, name, registry_id, registry)) = row else { return Ok(None) };
    let tags: Vec<(String, i64, DateTime<Utc>)> =
        sqlx::query_as("SELECT tag, image_id, updated_at FROM tags WHERE repository_id = $1 ORDER BY updated_at DESC, tag")
            .bind(repo_id)
            .fetch_all(pool)
            .await?;
    let mut ids: Vec<i64> = tags.iter().map(|(_, id, _)| *id).collect();
    ids.sort();
    ids.dedup();
    let summaries: HashMap<i64, ImageRow> = {
        let list = summaries(pool, &ids).await?;
        ids.iter().copied().zip(list).collect()
    };
    let events: Vec<RegistryEventRecord> = match registry_id {
        Some(rid) => sqlx::query_as(
            "SELECT action, tag, digest, actor, source_addr, happened_at FROM registry_events
             WHERE registry_id = $1 AND repository = $2 ORDER BY happened_at DESC, id DESC LIMIT 200",
        )
        .bind(rid)
        .bind(&name)
        .fetch_all(pool)
        .await?,
        None => vec![],
    };
    let allowed = |s: &ImageRow| match teams {
        None => true,
        Some(ts) => s.team.as_ref().is_none_or(|t| ts.contains(t)),
    };
    let tags = tags
        .into_iter()
        .filter_map(|(tag, id, updated_at)| {
            let image = summaries.get(&id)?.clone();
            if !allowed(&image) {
                return None;
            }
            Some(TagRecord { tag, image, updated_at })
        })
        .collect();
    Ok(Some(RepositoryRecord { repository: full.to_string(), registry, tags, events }))
}

/// Open counts of an image or a team (`key`), as kept with the images.
#[derive(sqlx::FromRow)]
struct OpenCounts {
    key: Option<i64>,
    critical: i64,
    high: i64,
    medium: i64,
    low: i64,
    negligible: i64,
    unknown: i64,
}

impl OpenCounts {
    fn counts(&self) -> FindingCounts {
        FindingCounts { critical: self.critical, high: self.high, medium: self.medium, low: self.low, negligible: self.negligible, unknown: self.unknown }
    }
}

/// Open findings per team (`None`: unowned) and severity.
async fn counts_by_team(pool: &Pool) -> Result<HashMap<Option<i64>, FindingCounts>> {
    // Summed from the counts kept with each image: the cost follows the images, not the findings.
    let rows: Vec<OpenCounts> = sqlx::query_as(
        "SELECT team_id AS key, CAST(SUM(open_critical) AS BIGINT) AS critical, CAST(SUM(open_high) AS BIGINT) AS high,
                CAST(SUM(open_medium) AS BIGINT) AS medium, CAST(SUM(open_low) AS BIGINT) AS low,
                CAST(SUM(open_negligible) AS BIGINT) AS negligible, CAST(SUM(open_unknown) AS BIGINT) AS unknown
         FROM images GROUP BY team_id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.counts())).collect())
}

/// Teams with their image counts and open findings (one team with `only`), unsorted.
async fn team_totals(pool: &Pool, only: Option<&str>) -> Result<Vec<(i64, TeamTotals)>> {
    let rows: Vec<(i64, String, String, i64)> = sqlx::query_as(
        "SELECT t.id, t.name, t.display_name, COUNT(i.id) FROM teams t LEFT JOIN images i ON i.team_id = t.id AND NOT i.is_index
         WHERE $1 IS NULL OR t.name = $1
         GROUP BY t.id, t.name, t.display_name",
    )
    .bind(only)
    .fetch_all(pool)
    .await?;
    let counts = counts_by_team(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(id, name, display_name, images)| {
            let findings = counts.get(&Some(id)).copied().unwrap_or_default();
            (id, TeamTotals { name, display_name, images, findings })
        })
        .collect())
}

/// One team and a page of its images, worst first (most open criticals, then highs, …; digest
/// last): ordered by the counts kept with each image, so a page costs its rows, not the team's.
pub async fn team_view(pool: &Pool, name: &crate::domain::TeamName, limit: i64, offset: i64) -> Result<Option<TeamImages>> {
    let Some((team_id, team)) = team_totals(pool, Some(name)).await?.pop() else { return Ok(None) };
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images WHERE team_id = $1").bind(team_id).fetch_one(pool).await?;
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM images WHERE team_id = $1
         ORDER BY open_critical DESC, open_high DESC, open_medium DESC, open_low DESC, open_negligible DESC, open_unknown DESC, digest
         LIMIT $2 OFFSET $3",
    )
    .bind(team_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(pool)
    .await?;
    let images = summaries(pool, &ids).await?;
    Ok(Some(TeamImages { team, images, total }))
}

pub async fn overview(pool: &Pool) -> Result<EstateTotals> {
    let (images, unowned_images, scans, unmatched_reports): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM images WHERE NOT is_index),
                (SELECT COUNT(*) FROM images WHERE team_id IS NULL AND NOT is_index),
                (SELECT COUNT(*) FROM scans),
                (SELECT COUNT(*) FROM scans WHERE unmatched)",
    )
    .fetch_one(pool)
    .await?;
    let unowned_findings = counts_by_team(pool).await?.get(&None).copied().unwrap_or_default();
    let teams = team_totals(pool, None).await?.into_iter().map(|(_, t)| t).collect();
    Ok(EstateTotals { images, unowned_images, unmatched_reports, scans, unowned_findings, teams })
}
