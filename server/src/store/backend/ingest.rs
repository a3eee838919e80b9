// Storing a scanner report: one transaction, set-based statements (never one per finding). The
// image it is about: `reported_image.rs`; what it does to the image's findings: `image_findings.rs`.

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
