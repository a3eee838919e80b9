// What a current report does to its image's findings (included into each backend module, beside
// `ingest.rs`): its scanner's findings merged, the findings across scanners rebuilt or, for a new
// image, inserted as Drydock grouped them, and the image's row with its open counts.

/// What becomes of an image row's open counts after a report.
enum CountsAfterReport {
    /// The report did not change its findings across scanners.
    Kept,
    /// They were rebuilt in the database: counted there.
    Recounted,
    /// A new image's, grouped from its first report (`grouped_findings`).
    Known(FindingCounts),
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
