// A report's per-finding and per-package rows as SQLite takes them (included into the SQLite
// backend only): multi-row statements in `batches` of up to `BATCH` rows (PostgreSQL's twin
// takes arrays: `report_rows_postgres.rs`); and the page cache a large report's transaction takes.

/// The report's findings upserted by identity into the image's findings for its scanner: a new one
/// first seen at `received_at`, a known one reopened and updated with what the report says now
/// (`FINDING_REPORTED_AGAIN`; a new image's are only inserted).
async fn upsert_findings(
    tx: &mut Tx<'_>,
    image: &ReportedImage,
    report: &crate::ingest::Report,
    scan_id: i64,
    scanned_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Result<()> {
    for chunk in batches(&report.findings, BATCH) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO findings (image_id, scanner, vulnerability_id, package_name, installed_version, package_path,
                                   package_type, purl, severity, fixed_version, first_seen, last_seen, resolved_at, last_scan_id,
                                   purl_type, purl_namespace, purl_name, epss, first_reported) ",
        );
        qb.push_values(chunk, |mut b, f| {
            b.push_bind(image.id)
                .push_bind(report.scanner)
                .push_bind(&f.vulnerability_id)
                .push_bind(&f.package_name)
                .push_bind(&f.installed_version)
                .push_bind(&f.package_path)
                .push_bind(&f.package_type)
                .push_bind(&f.purl)
                .push_bind(f.severity.as_str())
                .push_bind(&f.fixed_version)
                .push_bind(received_at)
                .push_bind(scanned_at)
                .push_bind(None::<DateTime<Utc>>)
                .push_bind(scan_id)
                .push_bind(f.coordinates.ptype())
                .push_bind(f.coordinates.namespace())
                .push_bind(f.coordinates.name())
                .push_bind(f.epss)
                .push_bind(scanned_at);
        });
        if !image.new {
            qb.push(FINDING_REPORTED_AGAIN);
        }
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// A new image's findings across scanners (`grouped_findings`), each named by `scanner` alone,
/// first seen at `first_seen`.
async fn insert_grouped_findings(
    tx: &mut Tx<'_>,
    image_id: i64,
    rows: &[super::grouped_findings::GroupedFinding<'_>],
    scanner: &str,
    first_seen: DateTime<Utc>,
) -> Result<()> {
    for chunk in batches(rows, BATCH) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO image_vulnerabilities (image_id, vulnerability_id, purl_type, purl_namespace, purl_name, package_name,
                                                installed_version, path_key, severity, fixed_version, epss, scanners, first_seen) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(image_id)
                .push_bind(r.vulnerability_id)
                .push_bind(r.purl_type)
                .push_bind(r.purl_namespace)
                .push_bind(r.purl_name)
                .push_bind(r.package_name)
                .push_bind(r.installed_version)
                .push_bind(r.path_key)
                .push_bind(r.severity.as_str())
                .push_bind(r.fixed_version)
                .push_bind(r.epss)
                .push_bind(scanner)
                .push_bind(first_seen);
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// The image's packages at their paths (each package already stored); a row already there is kept.
async fn insert_image_packages(tx: &mut Tx<'_>, image_id: i64, packages: &[crate::ingest::Package]) -> Result<()> {
    for chunk in batches(packages, BATCH) {
        // VALUES columns are named column1.., column4.
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO image_packages (image_id, package_id, path) SELECT ");
        qb.push_bind(image_id);
        qb.push(", p.id, v.column4 FROM (");
        qb.push_values(chunk, |mut b, p| {
            b.push_bind(&p.package_type).push_bind(&p.name).push_bind(&p.version).push_bind(&p.path);
        });
        qb.push(
            ") v JOIN packages p ON p.pkg_type = v.column1 AND p.name = v.column2 AND p.version = v.column3
             WHERE true ON CONFLICT (image_id, package_id, path) DO NOTHING",
        );
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// A large report's transaction takes a page cache that holds the pages it touches
/// (`super::report_page_cache_kib`): only the write lock's holder runs it. Answers whether it did.
async fn widen_page_cache(tx: &mut Tx<'_>, rows: usize) -> Result<bool> {
    let Some(kib) = super::report_page_cache_kib(rows) else { return Ok(false) };
    sqlx::query(&format!("PRAGMA cache_size = -{kib}")).execute(&mut **tx).await?;
    Ok(true)
}

/// The connection's own page cache again (`super::PAGE_CACHE_KIB`).
async fn restore_page_cache(tx: &mut Tx<'_>) -> Result<()> {
    sqlx::query(&format!("PRAGMA cache_size = -{}", super::PAGE_CACHE_KIB)).execute(&mut **tx).await?;
    Ok(())
}
