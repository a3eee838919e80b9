// What a report says an image contains (included into each backend module): its package
// inventory and the secrets Trivy found in its files. Written inside the report's transaction.

async fn store_packages(tx: &mut Tx<'_>, image_id: i64, packages: &[crate::ingest::Package]) -> Result<()> {
    let mut seen = HashSet::new();
    let unique: Vec<&crate::ingest::Package> = packages
        .iter()
        .filter(|p| seen.insert((p.package_type.as_str(), p.name.as_str(), p.version.as_str())))
        .collect();
    for chunk in batches(&unique, BATCH) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO packages (pkg_type, name, version, purl) ");
        qb.push_values(chunk, |mut b, p| {
            b.push_bind(&p.package_type).push_bind(&p.name).push_bind(&p.version).push_bind(&p.purl);
        });
        // A known package is written again only to learn its purl.
        qb.push(
            " ON CONFLICT (pkg_type, name, version) DO UPDATE SET purl = excluded.purl
              WHERE packages.purl IS NULL AND excluded.purl IS NOT NULL",
        );
        qb.build().execute(&mut **tx).await?;
    }
    insert_image_packages(tx, image_id, packages).await
}

/// The image's secrets as its newest Trivy report lists them (none: none found); `known`: the
/// image may hold secrets of an earlier report.
async fn replace_secrets(
    tx: &mut Tx<'_>,
    image_id: i64,
    known: bool,
    secrets: &[crate::ingest::SecretFinding],
    now: DateTime<Utc>,
) -> Result<()> {
    if known {
        sqlx::query("DELETE FROM image_secrets WHERE image_id = $1").bind(image_id).execute(&mut **tx).await?;
    }
    for chunk in secrets.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO image_secrets (image_id, target, rule_id, category, severity, title, start_line, end_line, layer_diff_id, reported_at) ",
        );
        qb.push_values(chunk, |mut b, s| {
            b.push_bind(image_id)
                .push_bind(&s.target)
                .push_bind(&s.rule_id)
                .push_bind(&s.category)
                .push_bind(s.severity.as_str())
                .push_bind(&s.title)
                .push_bind(s.start_line)
                .push_bind(s.end_line)
                .push_bind(&s.layer_diff_id)
                .push_bind(now);
        });
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}
