// Storing a scanner report: one transaction, set-based statements (never one per finding).

pub async fn ingest_report(
    pool: &Pool,
    report: &crate::ingest::Report,
    report_sha256: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IngestOutcome> {
    match ingest_report_tx(pool, report, report_sha256, actor, now).await {
        // Two identical reports racing: the loser hits the unique hash and answers as a duplicate.
        Err(StoreError::Db(sqlx::Error::Database(e))) if e.is_unique_violation() => {
            match stored_scan_summary(pool, report_sha256).await? {
                Some(s) => Ok(IngestOutcome::Duplicate(s)),
                None => Err(StoreError::Db(sqlx::Error::Database(e))),
            }
        }
        other => other,
    }
}

async fn stored_scan_summary<'e, E>(exec: E, report_sha256: &str) -> Result<Option<IngestSummary>>
where
    E: sqlx::Executor<'e, Database = DB>,
{
    let row = sqlx::query(
        "SELECT i.digest, s.artifact, s.scanner, s.n_critical, s.n_high, s.n_medium, s.n_low, s.n_negligible, s.n_unknown, s.future_dated
         FROM scans s LEFT JOIN images i ON i.id = s.image_id WHERE s.report_sha256 = $1",
    )
    .bind(report_sha256)
    .fetch_optional(exec)
    .await?;
    let Some(r) = row else { return Ok(None) };
    Ok(Some(IngestSummary {
        image: r.try_get(0)?,
        artifact: r.try_get(1)?,
        scanner: r.try_get(2)?,
        findings: counts_at(&r, 3)?,
        future_dated: r.try_get(9)?,
    }))
}

async fn ingest_report_tx(
    pool: &Pool,
    report: &crate::ingest::Report,
    report_sha256: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IngestOutcome> {
    let listed_findings = report.listed_findings_json();
    let mut tx = begin(pool).await?;
    if let Some(s) = stored_scan_summary(&mut *tx, report_sha256).await? {
        return Ok(IngestOutcome::Duplicate(s));
    }
    let widened = widen_page_cache(&mut tx, report.findings.len() + report.packages.len()).await?;
    let stored = store_report(&mut tx, report, report_sha256, &listed_findings, actor, now).await;
    // Back to the connection's own cache before the commit, which writes the transaction's
    // pages whatever the size and then frees those over it; a failure's error comes first.
    let restored = if widened { restore_page_cache(&mut tx).await } else { Ok(()) };
    let summary = stored?;
    restored?;
    tx.commit().await?;
    Ok(IngestOutcome::Created(summary))
}

/// A new report's rows in the caller's transaction: its scan, vulnerabilities, what it says
/// about its image, and its ledger entry.
async fn store_report(
    tx: &mut Tx<'_>,
    report: &crate::ingest::Report,
    report_sha256: &str,
    listed_findings: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<IngestSummary> {
    // The report's own date is evidence only: a scanner's clock (or a forger) may claim any date.
    // Which report is current is decided by when Drydock received it; freshness uses the earlier
    // of the two; a date more than a day ahead of Drydock's clock is flagged.
    let scanned_at = report.scanned_at.unwrap_or(now);
    let future_dated = scanned_at > now + chrono::Duration::days(1);
    let effective = scanned_at.min(now);
    let image = match &report.image {
        Some(identity) => Some(upsert_image(tx, identity, now).await?),
        None => None,
    };
    let image_id = image.as_ref().map(|i| i.id);
    let is_current = match &image {
        Some(i) if !i.new => is_current_report(tx, i.id, report.scanner, now).await?,
        _ => true,
    };
    let scan = NewScan { report, report_sha256, listed_findings, image_id, scanned_at, future_dated, actor, now };
    let scan_id = insert_scan(tx, &scan).await?;
    upsert_vulnerabilities(tx, &report.findings, now).await?;
    if let Some(i) = &image {
        apply_to_image(tx, i, report, scan_id, is_current, effective, now).await?;
    }
    let digest = image.map(|i| i.digest);
    let subject = match &digest {
        Some(d) => format!("image:{d}"),
        None => format!("artifact:{}", report.artifact),
    };
    let counts = report.counts();
    let payload = serde_json::json!({
        "scan_id": scan_id,
        "report_sha256": report_sha256,
        "scanner": report.scanner,
        "format": report.format,
        "artifact": report.artifact,
        "image": digest,
        "scanned_at": scanned_at,
        "future_dated": future_dated,
        "current": is_current,
        "vulnerability_data": report.vulnerability_data,
        "findings": counts,
    });
    append_event(tx, actor, "scan.ingested", &subject, payload, now).await?;
    mark_evaluation_due(tx, now).await?;
    Ok(IngestSummary { image: digest, artifact: report.artifact.clone(), scanner: report.scanner.to_string(), findings: counts, future_dated })
}

/// The report received last is the current one (a report received earlier but dated later
/// cannot freeze the image); one received before the newest — only possible across replicas
/// with skewed clocks — is kept as evidence.
async fn is_current_report(tx: &mut Tx<'_>, image_id: i64, scanner: &str, now: DateTime<Utc>) -> Result<bool> {
    let newest: Option<DateTime<Utc>> = sqlx::query_scalar(
        "SELECT received_at FROM scans WHERE image_id = $1 AND scanner = $2 AND vulnerability_data
         ORDER BY received_at DESC LIMIT 1",
    )
    .bind(image_id)
    .bind(scanner)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(newest.is_none_or(|n| now >= n))
}

/// A scan row about to be written: the report and how it was received.
struct NewScan<'a> {
    report: &'a crate::ingest::Report,
    report_sha256: &'a str,
    /// The findings as listed, the scan's evidence (`Report::listed_findings_json`).
    listed_findings: &'a str,
    image_id: Option<i64>,
    scanned_at: DateTime<Utc>,
    future_dated: bool,
    actor: &'a Actor,
    now: DateTime<Utc>,
}

/// Writes the scan row with its counts; answers its id.
async fn insert_scan(tx: &mut Tx<'_>, s: &NewScan<'_>) -> Result<i64> {
    let counts = s.report.counts();
    Ok(sqlx::query_scalar(
        "INSERT INTO scans (report_sha256, scanner, format, artifact, image_id, unmatched, scanned_at, received_at,
                            received_by, n_critical, n_high, n_medium, n_low, n_negligible, n_unknown, vulnerability_data, future_dated,
                            listed_findings)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
    )
    .bind(s.report_sha256)
    .bind(s.report.scanner)
    .bind(s.report.format)
    .bind(&s.report.artifact)
    .bind(s.image_id)
    .bind(s.image_id.is_none())
    .bind(s.scanned_at)
    .bind(s.now)
    .bind(&s.actor.0)
    .bind(counts.critical)
    .bind(counts.high)
    .bind(counts.medium)
    .bind(counts.low)
    .bind(counts.negligible)
    .bind(counts.unknown)
    .bind(s.report.vulnerability_data)
    .bind(s.future_dated)
    .bind(s.listed_findings)
    .fetch_one(&mut **tx)
    .await?)
}

/// What the report says about its image: packages, findings (merged when the report is the
/// current one; an SBOM without vulnerability data says nothing about findings), the scan's
/// freshness, the image's facts and its owner.
async fn apply_to_image(
    tx: &mut Tx<'_>,
    image: &ReportedImage,
    report: &crate::ingest::Report,
    scan_id: i64,
    is_current: bool,
    effective: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<()> {
    let id = image.id;
    store_packages(tx, id, &report.packages).await?;
    let counts = if report.vulnerability_data && is_current {
        merge_findings(tx, image, report, scan_id, effective, now).await?;
        rebuild_image_vulnerabilities(tx, image, report, now).await?
    } else {
        CountsAfterReport::Kept
    };
    if report.scanner == "trivy" && is_current {
        replace_secrets(tx, id, !image.new, &report.secrets, now).await?;
    }
    let scanned = report.vulnerability_data.then_some(effective);
    update_image_row(tx, id, &report.facts, scanned, counts).await
}

/// What becomes of an image row's open counts after a report.
enum CountsAfterReport {
    /// The report did not change its findings across scanners.
    Kept,
    /// They were rebuilt in the database: counted there.
    Recounted,
    /// A new image's, grouped from its first report (`grouped_findings`).
    Known(FindingCounts),
}

/// The image a report is about, as its transaction found or created it.
struct ReportedImage {
    id: i64,
    /// Its primary digest.
    digest: String,
    /// Created by this report: it has no findings, scans or secrets yet, so nothing of them is
    /// read or removed.
    new: bool,
}

/// Finds the image by any of the report's digests or creates it; records every digest as an
/// alias, and the repositories and tags the report names.
async fn upsert_image(
    tx: &mut Tx<'_>,
    identity: &crate::ingest::ImageIdentity,
    now: DateTime<Utc>,
) -> Result<ReportedImage> {
    let primary = identity
        .primary()
        .ok_or_else(|| StoreError::invalid_input("the report names no image digest"))?
        .to_string();
    let mut aliases: Vec<(String, &'static str)> = identity
        .repo_digests
        .iter()
        .map(|(_, d)| (d.to_string(), AliasKind::Repo.as_str()))
        .collect();
    if let Some(c) = &identity.config_digest {
        aliases.push((c.to_string(), AliasKind::Config.as_str()));
    }
    let mut seen = HashSet::new();
    aliases.retain(|(d, _)| seen.insert(d.clone()));
    lock_digests(tx, &aliases, &primary).await?;
    let image = match image_by_alias(tx, &aliases).await? {
        Some(id) => ReportedImage { id, digest: update_reported_image(tx, id, identity, &primary).await?, new: false },
        None => ReportedImage {
            id: sqlx::query_scalar(
                "INSERT INTO images (digest, os, architecture, created, first_seen) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(&primary)
            .bind(&identity.os)
            .bind(&identity.architecture)
            .bind(identity.created)
            .bind(now)
            .fetch_one(&mut **tx)
            .await?,
            digest: primary,
            new: true,
        },
    };
    let image_id = image.id;
    let mut qb = QueryBuilder::<DB>::new("INSERT INTO image_aliases (digest, image_id, kind) ");
    qb.push_values(&aliases, |mut b, (d, kind)| {
        b.push_bind(d).push_bind(image_id).push_bind(*kind);
    });
    qb.push(" ON CONFLICT (digest) DO NOTHING");
    qb.build().execute(&mut **tx).await?;

    let repos: Vec<crate::domain::Repository> = identity.repo_digests.iter().map(|(r, _)| r.repository.clone()).collect();
    let tags: Vec<(crate::domain::Repository, String)> =
        identity.tags.iter().filter_map(|r| r.tag.clone().map(|t| (r.repository.clone(), t))).collect();
    link_repositories(tx, image_id, &repos, &tags, now).await?;
    Ok(image)
}

/// Concurrent reports of one image: each takes its digests' locks in one global order (no
/// deadlock), so the second finds the row the first created.
async fn lock_digests(tx: &mut Tx<'_>, aliases: &[(String, &'static str)], primary: &str) -> Result<()> {
    if let Some(lock) = KEY_LOCK {
        let mut keys: Vec<&str> = aliases.iter().map(|(d, _)| d.as_str()).chain([primary]).collect();
        keys.sort_unstable();
        keys.dedup();
        for k in keys {
            sqlx::query(lock).bind(format!("image:{k}")).execute(&mut **tx).await?;
        }
    }
    Ok(())
}

/// The image one of these digests already names, if any.
async fn image_by_alias(tx: &mut Tx<'_>, aliases: &[(String, &'static str)]) -> Result<Option<i64>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT image_id FROM image_aliases WHERE digest IN (");
    let mut sep = qb.separated(", ");
    for (d, _) in aliases {
        sep.push_bind(d);
    }
    qb.push(") ORDER BY image_id LIMIT 1");
    Ok(qb.build_query_scalar().fetch_optional(&mut **tx).await?)
}

/// What a report adds to a known image: details it lacked, and its manifest digest as primary
/// when the image was first known by its config digest (unless that digest names another image).
/// Answers the image's primary digest.
async fn update_reported_image(tx: &mut Tx<'_>, id: i64, identity: &crate::ingest::ImageIdentity, primary: &str) -> Result<String> {
    if !identity.repo_digests.is_empty() {
        sqlx::query(
            "UPDATE images SET digest = $2
             WHERE id = $1
               AND digest IN (SELECT digest FROM image_aliases WHERE image_id = $1 AND kind = 'config')
               AND NOT EXISTS (SELECT 1 FROM images o WHERE o.digest = $2)
               AND NOT EXISTS (SELECT 1 FROM image_aliases a WHERE a.digest = $2 AND a.image_id <> $1)",
        )
        .bind(id)
        .bind(primary)
        .execute(&mut **tx)
        .await?;
    }
    Ok(sqlx::query_scalar(
        "UPDATE images SET os = COALESCE($2, os), architecture = COALESCE($3, architecture),
                           created = COALESCE($4, created)
         WHERE id = $1 RETURNING digest",
    )
    .bind(id)
    .bind(&identity.os)
    .bind(&identity.architecture)
    .bind(identity.created)
    .fetch_one(&mut **tx)
    .await?)
}

/// The report's vulnerabilities: new ones added, known ones updated where the report says
/// something new (`updated_at`: when their details last changed).
async fn upsert_vulnerabilities(tx: &mut Tx<'_>, findings: &[crate::ingest::Finding], now: DateTime<Utc>) -> Result<()> {
    // One row per id (a statement may not touch a row twice); keep the first description.
    let mut seen = HashSet::new();
    let vulns: Vec<&crate::ingest::Finding> =
        findings.iter().filter(|f| seen.insert(f.vulnerability_id.as_str())).collect();
    for chunk in batches(&vulns, BATCH) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO vulnerabilities (id, severity, title, primary_url, cvss_score, published, updated_at) ",
        );
        qb.push_values(chunk, |mut b, f| {
            b.push_bind(&f.vulnerability_id)
                .push_bind(f.severity.as_str())
                .push_bind(&f.title)
                .push_bind(&f.url)
                .push_bind(f.cvss_score)
                .push_bind(f.published)
                .push_bind(now);
        });
        // A row the report changes nothing in is left as it is: rewriting every known
        // vulnerability of every report wrote a page per row, wherever its id sorts.
        qb.push(
            " ON CONFLICT (id) DO UPDATE SET severity = excluded.severity,
                title = COALESCE(excluded.title, vulnerabilities.title),
                primary_url = COALESCE(excluded.primary_url, vulnerabilities.primary_url),
                cvss_score = COALESCE(excluded.cvss_score, vulnerabilities.cvss_score),
                published = COALESCE(excluded.published, vulnerabilities.published),
                updated_at = excluded.updated_at
              WHERE vulnerabilities.severity <> excluded.severity
                 OR (excluded.title IS NOT NULL AND excluded.title IS DISTINCT FROM vulnerabilities.title)
                 OR (excluded.primary_url IS NOT NULL AND excluded.primary_url IS DISTINCT FROM vulnerabilities.primary_url)
                 OR (excluded.cvss_score IS NOT NULL AND excluded.cvss_score IS DISTINCT FROM vulnerabilities.cvss_score)
                 OR (excluded.published IS NOT NULL AND excluded.published IS DISTINCT FROM vulnerabilities.published)",
        );
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// A finding the image already has, reported again (`upsert_findings`): reopened if it was
/// resolved, and updated with what the report says now. A new image has none, so its findings are
/// inserted without it: PostgreSQL's speculative insertion for `ON CONFLICT` costs each row.
const FINDING_REPORTED_AGAIN: &str = "
         ON CONFLICT (image_id, scanner, vulnerability_id, package_name, installed_version, package_path)
         DO UPDATE SET severity = excluded.severity, fixed_version = excluded.fixed_version,
                       purl = COALESCE(excluded.purl, findings.purl), last_seen = excluded.last_seen,
                       purl_type = excluded.purl_type, purl_namespace = excluded.purl_namespace,
                       purl_name = excluded.purl_name, epss = COALESCE(excluded.epss, findings.epss),
                       resolved_at = NULL, last_scan_id = excluded.last_scan_id";

/// The report becomes the image's current state for its scanner: its findings are upserted by
/// identity (reopened if they had been resolved), and open findings it no longer lists are
/// resolved at the report's scan time. A new finding is first seen when Drydock received the
/// report (`received_at`); the report's own time is kept as evidence (`first_reported`).
async fn merge_findings(
    tx: &mut Tx<'_>,
    image: &ReportedImage,
    report: &crate::ingest::Report,
    scan_id: i64,
    scanned_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Result<()> {
    upsert_findings(tx, image, report, scan_id, scanned_at, received_at).await?;
    if image.new {
        return Ok(());
    }
    sqlx::query(
        "UPDATE findings SET resolved_at = $4
         WHERE image_id = $1 AND scanner = $2 AND resolved_at IS NULL AND last_scan_id <> $3",
    )
    .bind(image.id)
    .bind(report.scanner)
    .bind(scan_id)
    .bind(scanned_at)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Rebuilds an image's findings across scanners: one per (vulnerability, package coordinates,
/// version, path for language packages), open while any scanner's current report lists it, with
/// the worst severity among those that do, the earliest first sighting and the scanners naming it.
/// A new image's are its first report's, grouped in Drydock and inserted (first seen when the
/// report was received, as its findings); a known image's are rebuilt from its stored findings by
/// one statement pair, text compared by its bytes (`BYTE_ORDER`) as Drydock compares it.
/// In the ingest's transaction; the image's open counts follow with its row (`update_image_row`).
async fn rebuild_image_vulnerabilities(
    tx: &mut Tx<'_>,
    image: &ReportedImage,
    report: &crate::ingest::Report,
    received_at: DateTime<Utc>,
) -> Result<CountsAfterReport> {
    let image_id = image.id;
    if image.new {
        let (rows, counts) = super::grouped_findings::group(&report.findings);
        insert_grouped_findings(tx, image_id, &rows, report.scanner, received_at).await?;
        return Ok(CountsAfterReport::Known(counts));
    }
    sqlx::query("DELETE FROM image_vulnerabilities WHERE image_id = $1").bind(image_id).execute(&mut **tx).await?;
    // Severity rank 0 (critical) .. 5 (unknown); +10 for resolved rows so open ones decide.
    let sql = format!(
        "INSERT INTO image_vulnerabilities (image_id, vulnerability_id, purl_type, purl_namespace, purl_name, package_name,
                                            installed_version, path_key, severity, fixed_version, epss, scanners, first_seen, resolved_at)
         SELECT f.image_id, f.vulnerability_id, f.purl_type, f.purl_namespace, f.purl_name, MIN(f.package_name{BYTE_ORDER}), f.installed_version, f.path_key,
                CASE MIN(f.rank) % 10 WHEN 0 THEN 'critical' WHEN 1 THEN 'high' WHEN 2 THEN 'medium' WHEN 3 THEN 'low'
                     WHEN 4 THEN 'negligible' ELSE 'unknown' END,
                MAX(f.fixed_version{BYTE_ORDER}), MAX(f.epss), {SCANNER_LIST}, MIN(f.first_seen),
                CASE WHEN MIN(f.rank) < 10 THEN NULL ELSE MAX(f.resolved_at) END
         FROM (SELECT x.*, CASE WHEN x.purl_type IN ('deb', 'rpm', 'apk') THEN '' ELSE LTRIM(x.package_path, '/') END AS path_key,
                      CASE x.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3
                                      WHEN 'negligible' THEN 4 ELSE 5 END + CASE WHEN x.resolved_at IS NULL THEN 0 ELSE 10 END AS rank
               FROM findings x WHERE x.image_id = $1) f
         GROUP BY f.image_id, f.vulnerability_id, f.purl_type, f.purl_namespace, f.purl_name, f.installed_version, f.path_key"
    );
    sqlx::query(&sql).bind(image_id).execute(&mut **tx).await?;
    Ok(CountsAfterReport::Recounted)
}

/// The image's row after a report, by one statement: what the report says about the image itself
/// (the OS family and end of life: the latest report decides; config facts the registry did not
/// give: the registry's own read wins), when it was last scanned (`scanned`: a report with
/// vulnerability data, at its effective time), its open counts when its findings were rebuilt
/// (what lists, team pages and the overview read), and its owner by the repository rules.
async fn update_image_row(
    tx: &mut Tx<'_>,
    image_id: i64,
    facts: &crate::ingest::ImageFacts,
    scanned: Option<DateTime<Utc>>,
    counts: CountsAfterReport,
) -> Result<()> {
    let labels = (!facts.labels.is_empty()).then(|| serde_json::to_string(&facts.labels).unwrap_or_default());
    let diff_ids = (!facts.diff_ids.is_empty()).then(|| serde_json::to_string(&facts.diff_ids).unwrap_or_default());
    let mut sql = String::from(
        "UPDATE images SET os_family = COALESCE($2, os_family), eosl = COALESCE($3, eosl),
                config_user = COALESCE(config_user, $4), labels = COALESCE(labels, $5), diff_ids = COALESCE(diff_ids, $6),",
    );
    let mut next = 7;
    if scanned.is_some() {
        sql.push_str(" last_scanned = CASE WHEN last_scanned IS NULL OR last_scanned < $7 THEN $7 ELSE last_scanned END,");
        next += 1;
    }
    for sev in Severity::ALL.map(Severity::as_str) {
        match counts {
            CountsAfterReport::Kept => {}
            CountsAfterReport::Recounted => sql.push_str(&format!(
                " open_{sev} = (SELECT COUNT(*) FROM image_vulnerabilities v WHERE v.image_id = $1 AND v.resolved_at IS NULL AND v.severity = '{sev}'),"
            )),
            CountsAfterReport::Known(_) => {
                sql.push_str(&format!(" open_{sev} = ${next},"));
                next += 1;
            }
        }
    }
    sql.push_str(&format!(" (team_id, owner_rule_id) = ({OWNER_BY_REPOSITORY}) WHERE id = $1"));
    let mut query = sqlx::query(&sql).bind(image_id).bind(&facts.os_family).bind(facts.eosl).bind(&facts.user).bind(labels).bind(diff_ids);
    if let Some(t) = scanned {
        query = query.bind(t);
    }
    if let CountsAfterReport::Known(c) = counts {
        for sev in Severity::ALL {
            query = query.bind(c.get(sev));
        }
    }
    query.execute(&mut **tx).await?;
    Ok(())
}
