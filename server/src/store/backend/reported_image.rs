// The image a report is about (included into each backend module, beside `ingest.rs`): found by
// any of its digests or created, its aliases, repositories and tags recorded.

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
