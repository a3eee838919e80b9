// A report's per-finding and per-package rows as PostgreSQL takes them fastest (included into the
// PostgreSQL backend only): one statement over arrays, one per column (`UNNEST`), however many
// rows — its text is the same for every report, so it is parsed once per connection. Multi-row
// `VALUES` statements of a thousand findings and 19,000 parameters spent a quarter of their time
// parsing and binding (BENCHMARKS.md, session 21: PostgreSQL's statement log).

/// The report's findings upserted by identity into the image's findings for its scanner: a new one
/// first seen at `received_at`, a known one reopened and updated with what the report says now
/// (`FINDING_REPORTED_AGAIN`; a new image's are only inserted).
/// A report's findings are distinct by identity (the parser merges repeats), as one statement needs.
async fn upsert_findings(
    tx: &mut Tx<'_>,
    image: &ReportedImage,
    report: &crate::ingest::Report,
    scan_id: i64,
    scanned_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
) -> Result<()> {
    let f = &report.findings;
    let text = |pick: fn(&crate::ingest::Finding) -> &str| f.iter().map(pick).collect::<Vec<&str>>();
    let optional = |pick: fn(&crate::ingest::Finding) -> Option<&str>| f.iter().map(pick).collect::<Vec<Option<&str>>>();
    let sql = format!(
        "INSERT INTO findings (image_id, scanner, vulnerability_id, package_name, installed_version, package_path,
                               package_type, purl, severity, fixed_version, first_seen, last_seen, resolved_at, last_scan_id,
                               purl_type, purl_namespace, purl_name, epss, first_reported)
         SELECT $1, $2, u.vulnerability_id, u.package_name, u.installed_version, u.package_path, u.package_type, u.purl,
                u.severity, u.fixed_version, $3, $4, NULL, $5, u.purl_type, u.purl_namespace, u.purl_name, u.epss, $4
         FROM UNNEST($6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
                     $14::text[], $15::text[], $16::text[], $17::float8[])
              AS u (vulnerability_id, package_name, installed_version, package_path, package_type, purl, severity,
                    fixed_version, purl_type, purl_namespace, purl_name, epss){}",
        if image.new { "" } else { FINDING_REPORTED_AGAIN }
    );
    sqlx::query(&sql)
        .bind(image.id)
        .bind(report.scanner)
        .bind(received_at)
        .bind(scanned_at)
        .bind(scan_id)
        .bind(text(|f| &f.vulnerability_id))
        .bind(text(|f| &f.package_name))
        .bind(text(|f| &f.installed_version))
        .bind(text(|f| &f.package_path))
        .bind(text(|f| &f.package_type))
        .bind(optional(|f| f.purl.as_deref()))
        .bind(text(|f| f.severity.as_str()))
        .bind(optional(|f| f.fixed_version.as_deref()))
        .bind(text(|f| f.coordinates.ptype()))
        .bind(text(|f| f.coordinates.namespace()))
        .bind(text(|f| f.coordinates.name()))
        .bind(f.iter().map(|f| f.epss).collect::<Vec<Option<f64>>>())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// A new image's findings across scanners (`grouped_findings`), each named by `scanner` alone,
/// first seen at `first_seen`.
async fn insert_grouped_findings<'a>(
    tx: &mut Tx<'_>,
    image_id: i64,
    rows: &[super::grouped_findings::GroupedFinding<'a>],
    scanner: &str,
    first_seen: DateTime<Utc>,
) -> Result<()> {
    let text = |pick: fn(&super::grouped_findings::GroupedFinding<'a>) -> &'a str| rows.iter().map(pick).collect::<Vec<&str>>();
    sqlx::query(
        "INSERT INTO image_vulnerabilities (image_id, vulnerability_id, purl_type, purl_namespace, purl_name, package_name,
                                            installed_version, path_key, severity, fixed_version, epss, scanners, first_seen, resolved_at)
         SELECT $1, u.vulnerability_id, u.purl_type, u.purl_namespace, u.purl_name, u.package_name, u.installed_version,
                u.path_key, u.severity, u.fixed_version, u.epss, $2, $3, NULL
         FROM UNNEST($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[],
                     $12::text[], $13::float8[])
              AS u (vulnerability_id, purl_type, purl_namespace, purl_name, package_name, installed_version, path_key,
                    severity, fixed_version, epss)",
    )
    .bind(image_id)
    .bind(scanner)
    .bind(first_seen)
    .bind(text(|r| r.vulnerability_id))
    .bind(text(|r| r.purl_type))
    .bind(text(|r| r.purl_namespace))
    .bind(text(|r| r.purl_name))
    .bind(text(|r| r.package_name))
    .bind(text(|r| r.installed_version))
    .bind(text(|r| r.path_key))
    .bind(text(|r| r.severity.as_str()))
    .bind(rows.iter().map(|r| r.fixed_version).collect::<Vec<Option<&str>>>())
    .bind(rows.iter().map(|r| r.epss).collect::<Vec<Option<f64>>>())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The image's packages at their paths (each package already stored); a row already there is kept.
async fn insert_image_packages(tx: &mut Tx<'_>, image_id: i64, packages: &[crate::ingest::Package]) -> Result<()> {
    let column = |pick: fn(&crate::ingest::Package) -> &str| packages.iter().map(pick).collect::<Vec<&str>>();
    sqlx::query(
        "INSERT INTO image_packages (image_id, package_id, path)
         SELECT $1, p.id, u.path
         FROM UNNEST($2::text[], $3::text[], $4::text[], $5::text[]) AS u (pkg_type, name, version, path)
         JOIN packages p ON p.pkg_type = u.pkg_type AND p.name = u.name AND p.version = u.version
         ON CONFLICT (image_id, package_id, path) DO NOTHING",
    )
    .bind(image_id)
    .bind(column(|p| &p.package_type))
    .bind(column(|p| &p.name))
    .bind(column(|p| &p.version))
    .bind(column(|p| &p.path))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// PostgreSQL's buffers are the server's to size: a report's transaction takes none of its own.
async fn widen_page_cache(_tx: &mut Tx<'_>, _rows: usize) -> Result<bool> {
    Ok(false)
}

/// Nothing was widened (`widen_page_cache`).
async fn restore_page_cache(_tx: &mut Tx<'_>) -> Result<()> {
    Ok(())
}
