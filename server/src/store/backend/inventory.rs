// What the registry collector read: one repository's tags, manifests, image configs and
// signature checks, stored in one transaction; which digests are known already.

/// Of `digests`, those whose image the collector has already read (not fetched again).
pub async fn collected_digests(pool: &Pool, digests: &[String]) -> Result<HashSet<String>> {
    let mut out = HashSet::new();
    for chunk in digests.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT a.digest FROM image_aliases a JOIN images i ON i.id = a.image_id WHERE i.collected_at IS NOT NULL AND a.digest IN (",
        );
        let mut sep = qb.separated(", ");
        for d in chunk {
            sep.push_bind(d);
        }
        qb.push(")");
        let rows: Vec<String> = qb.build_query_scalar().fetch_all(pool).await?;
        out.extend(rows);
    }
    Ok(out)
}

/// digest → (signature manifest last checked, state).
pub async fn signature_refs(pool: &Pool, digests: &[String]) -> Result<HashMap<String, (String, String)>> {
    let mut out = HashMap::new();
    for chunk in digests.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT a.digest, i.signature_ref, i.signature FROM image_aliases a JOIN images i ON i.id = a.image_id
             WHERE i.signature_ref IS NOT NULL AND a.digest IN (",
        );
        let mut sep = qb.separated(", ");
        for d in chunk {
            sep.push_bind(d);
        }
        qb.push(")");
        let rows: Vec<(String, String, String)> = qb.build_query_as().fetch_all(pool).await?;
        out.extend(rows.into_iter().map(|(d, r, s)| (d, (r, s))));
    }
    Ok(out)
}

/// digest → image id for every digest known (aliases and primary digests).
async fn image_ids_for(tx: &mut Tx<'_>, digests: &[&str]) -> Result<HashMap<String, i64>> {
    let mut out = HashMap::new();
    for chunk in digests.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT a.digest, a.image_id FROM image_aliases a WHERE a.digest IN (");
        let mut sep = qb.separated(", ");
        for d in chunk {
            sep.push_bind(*d);
        }
        qb.push(") UNION SELECT i.digest, i.id FROM images i WHERE i.digest IN (");
        let mut sep = qb.separated(", ");
        for d in chunk {
            sep.push_bind(*d);
        }
        qb.push(")");
        let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        out.extend(rows);
    }
    Ok(out)
}

/// A platform manifest the collector read: its digest, media type and config.
type PlatformImage<'a> = (&'a String, &'a String, &'a crate::domain::registry::ImageConfig);

/// Stores what the collector read from one repository, in one transaction: the repository,
/// new images (platform manifests and indexes, with config details and aliases), tags (moved
/// and removed ones too: the listing succeeded), where each image is, signatures, owners, and
/// one audit event when anything changed.
pub async fn store_repository_inventory(
    pool: &Pool,
    registry_id: i64,
    host: &str,
    inv: &crate::domain::registry::RepositoryInventory,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin(pool).await?;
    let repo_id = upsert_repository(&mut tx, registry_id, host, &inv.repository, now).await?;
    let tagged: HashSet<&str> = inv.tags.iter().map(|(_, d)| d.as_str()).collect();
    // Platform manifests first, so an index can link them.
    let mut new_images = store_platform_images(&mut tx, inv, &tagged, now).await?;
    for m in &inv.manifests {
        if let crate::domain::registry::Manifest::Index { digest, media_type, platforms } = m {
            if store_index(&mut tx, digest, media_type, platforms, now).await? {
                new_images.push(digest.clone());
            }
        }
    }
    let (before, tag_rows) = store_tags(&mut tx, repo_id, &inv.tags, now).await?;
    let current: HashSet<&str> = tag_rows.iter().map(|(t, _)| *t).collect();
    let removed: Vec<&String> = before.keys().filter(|t| !current.contains(t.as_str())).collect();
    delete_tags(&mut tx, repo_id, &removed).await?;
    record_presence(&mut tx, repo_id, tag_rows.iter().map(|(_, id)| *id).collect(), now).await?;
    let signature_changes = store_signatures(&mut tx, &inv.signatures).await?;
    recompute_owners(&mut tx, None).await?;

    let added: Vec<serde_json::Value> = inv
        .tags
        .iter()
        .filter(|(t, d)| before.get(t) != Some(d))
        .map(|(t, d)| serde_json::json!({ "tag": t, "digest": d, "previous": before.get(t) }))
        .collect();
    if !added.is_empty() || !removed.is_empty() || !new_images.is_empty() || !signature_changes.is_empty() {
        let payload = serde_json::json!({
            "tags_set": added,
            "tags_removed": removed,
            "new_manifests": new_images,
            "signatures": signature_changes,
        });
        append_event(&mut tx, actor, "registry.repository_changed", &format!("repository:{host}/{}", inv.repository), payload, now).await?;
    }
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

/// The repository's row (created, or marked collected now); answers its id.
async fn upsert_repository(tx: &mut Tx<'_>, registry_id: i64, host: &str, name: &str, now: DateTime<Utc>) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO repositories (registry, name, first_seen, registry_id, collected_at) VALUES ($1, $2, $3, $4, $3)
         ON CONFLICT (registry, name) DO UPDATE SET registry_id = excluded.registry_id, collected_at = excluded.collected_at
         RETURNING id",
    )
    .bind(host)
    .bind(name)
    .bind(now)
    .bind(registry_id)
    .fetch_one(&mut **tx)
    .await?)
}

/// The platform manifests' images: set-based (one lookup, one multi-row insert for the new
/// images, one for their aliases); only images a scanner created before the collector saw them
/// are updated one by one (their rows exist already). Answers the digests of new images.
async fn store_platform_images(
    tx: &mut Tx<'_>,
    inv: &crate::domain::registry::RepositoryInventory,
    tagged: &HashSet<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    use crate::domain::registry::Manifest;
    let mut seen = HashSet::new();
    let images: Vec<PlatformImage> = inv
        .manifests
        .iter()
        .filter_map(|m| match m {
            Manifest::Image { digest, media_type, config } => Some((digest, media_type, config)),
            Manifest::Index { .. } => None,
        })
        .filter(|(d, _, _)| seen.insert(d.as_str()))
        .collect();
    let known = known_platform_images(tx, &images).await?;
    let (existing, fresh): (Vec<&PlatformImage>, Vec<&PlatformImage>) =
        images.iter().partition(|(d, _, c)| known.contains_key(d.as_str()) || known.contains_key(&c.config_digest));
    let new_images: Vec<String> = fresh.iter().map(|(d, _, _)| (*d).clone()).collect();
    let mut ids = insert_platform_images(tx, &fresh, now).await?;
    for image in &existing {
        let id = known.get(image.0.as_str()).or_else(|| known.get(&image.2.config_digest)).copied().expect("partitioned on it");
        update_scanned_image(tx, id, image, now).await?;
        ids.insert(image.0.clone(), id);
    }
    insert_aliases(tx, &images, &ids, tagged).await?;
    Ok(new_images)
}

/// digest (or config digest) → id of the platform images stored already.
async fn known_platform_images(tx: &mut Tx<'_>, images: &[PlatformImage<'_>]) -> Result<HashMap<String, i64>> {
    let mut known = HashMap::new();
    for chunk in images.chunks(CHUNK / 2) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT a.digest, a.image_id FROM image_aliases a JOIN images i ON i.id = a.image_id WHERE NOT i.is_index AND a.digest IN (",
        );
        let mut sep = qb.separated(", ");
        for (d, _, c) in chunk {
            sep.push_bind(d.as_str());
            sep.push_bind(c.config_digest.as_str());
        }
        qb.push(") UNION SELECT digest, id FROM images WHERE NOT is_index AND digest IN (");
        let mut sep = qb.separated(", ");
        for (d, _, _) in chunk {
            sep.push_bind(d.as_str());
        }
        qb.push(")");
        let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        known.extend(rows);
    }
    Ok(known)
}

/// An image config's labels and layer digests as stored (JSON text).
fn config_detail(c: &crate::domain::registry::ImageConfig) -> (String, String) {
    (serde_json::to_string(&c.labels).unwrap_or_default(), serde_json::to_string(&c.diff_ids).unwrap_or_default())
}

/// Inserts images never seen before, in multi-row statements; answers digest → id.
async fn insert_platform_images(tx: &mut Tx<'_>, fresh: &[&PlatformImage<'_>], now: DateTime<Utc>) -> Result<HashMap<String, i64>> {
    let mut ids = HashMap::new();
    for chunk in fresh.chunks(CHUNK / 12) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO images (digest, first_seen, media_type, platform, architecture, created, labels, config_user,
                                 base_name, base_digest, diff_ids, collected_at) ",
        );
        qb.push_values(chunk, |mut b, (digest, media_type, c)| {
            let (labels, diff_ids) = config_detail(c);
            b.push_bind(digest.as_str())
                .push_bind(now)
                .push_bind(media_type.as_str())
                .push_bind(c.platform())
                .push_bind(c.architecture.clone())
                .push_bind(c.created)
                .push_bind(labels)
                .push_bind(c.user.clone())
                .push_bind(c.base_name.clone())
                .push_bind(c.base_digest.clone())
                .push_bind(diff_ids)
                .push_bind(now);
        });
        qb.push(" RETURNING digest, id");
        let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        ids.extend(rows);
    }
    Ok(ids)
}

/// Completes an image a scanner created before the collector read it: its config details, and
/// the manifest digest as its primary digest when the scanner knew it by its config digest.
async fn update_scanned_image(tx: &mut Tx<'_>, id: i64, (digest, media_type, config): &PlatformImage<'_>, now: DateTime<Utc>) -> Result<()> {
    let (labels, diff_ids) = config_detail(config);
    sqlx::query(
        "UPDATE images SET media_type = $2, platform = $3, architecture = COALESCE(architecture, $4),
             created = COALESCE(created, $5), labels = $6, config_user = $7, base_name = $8, base_digest = $9,
             diff_ids = $10, collected_at = $11
         WHERE id = $1",
    )
    .bind(id)
    .bind(media_type.as_str())
    .bind(config.platform())
    .bind(&config.architecture)
    .bind(config.created)
    .bind(labels)
    .bind(&config.user)
    .bind(&config.base_name)
    .bind(&config.base_digest)
    .bind(diff_ids)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    sqlx::query("UPDATE images SET digest = $2 WHERE id = $1 AND digest = $3 AND NOT EXISTS (SELECT 1 FROM images o WHERE o.digest = $2)")
        .bind(id)
        .bind(digest.as_str())
        .bind(&config.config_digest)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Each platform image's manifest digest (a `repo` alias when tagged, else `platform`) and its
/// config digest as aliases.
async fn insert_aliases(tx: &mut Tx<'_>, images: &[PlatformImage<'_>], ids: &HashMap<String, i64>, tagged: &HashSet<&str>) -> Result<()> {
    let aliases: Vec<(&str, i64, &str)> = images
        .iter()
        .filter_map(|(d, _, c)| ids.get(d.as_str()).map(|id| (d.as_str(), c.config_digest.as_str(), *id)))
        .flat_map(|(d, config, id)| {
            let kind = if tagged.contains(d) { "repo" } else { "platform" };
            [(d, id, kind), (config, id, "config")]
        })
        .collect();
    for chunk in aliases.chunks(CHUNK / 3) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO image_aliases (digest, image_id, kind) ");
        qb.push_values(chunk, |mut b, (d, id, kind)| {
            b.push_bind(*d).push_bind(*id).push_bind(*kind);
        });
        qb.push(" ON CONFLICT (digest) DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Stores an index and links its platform images; true when the index is new.
async fn store_index(tx: &mut Tx<'_>, digest: &str, media_type: &str, platforms: &[(String, String)], now: DateTime<Utc>) -> Result<bool> {
    // A scanner may have named the index digest as an image's digest: it is the index's.
    sqlx::query("DELETE FROM image_aliases WHERE digest = $1 AND image_id IN (SELECT id FROM images WHERE NOT is_index)")
        .bind(digest)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE images SET digest = COALESCE((SELECT a.digest FROM image_aliases a WHERE a.image_id = images.id
                                              ORDER BY a.kind = 'config', a.digest LIMIT 1), digest)
         WHERE digest = $1 AND NOT is_index",
    )
    .bind(digest)
    .execute(&mut **tx)
    .await?;
    let existed: Option<i64> = sqlx::query_scalar("SELECT id FROM images WHERE digest = $1").bind(digest).fetch_optional(&mut **tx).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO images (digest, first_seen, is_index, media_type, collected_at) VALUES ($1, $2, TRUE, $3, $2)
         ON CONFLICT (digest) DO UPDATE SET is_index = TRUE, media_type = excluded.media_type, collected_at = excluded.collected_at
         RETURNING id",
    )
    .bind(digest)
    .bind(now)
    .bind(media_type)
    .fetch_one(&mut **tx)
    .await?;
    sqlx::query("INSERT INTO image_aliases (digest, image_id, kind) VALUES ($1, $2, 'index') ON CONFLICT (digest) DO NOTHING")
        .bind(digest)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    let children: Vec<&str> = platforms.iter().map(|(d, _)| d.as_str()).collect();
    let ids = image_ids_for(tx, &children).await?;
    let rows: Vec<(i64, &str)> = platforms.iter().filter_map(|(d, p)| ids.get(d).map(|c| (*c, p.as_str()))).collect();
    if !rows.is_empty() {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO image_platforms (index_image_id, image_id, platform) ");
        qb.push_values(&rows, |mut b, (child, p)| {
            b.push_bind(id).push_bind(*child).push_bind(*p);
        });
        qb.push(" ON CONFLICT (index_image_id, image_id) DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(existed.is_none())
}

/// Sets the repository's tags as listed now; answers the tags before (tag → digest) and the
/// (tag, image id) rows stored.
async fn store_tags<'a>(
    tx: &mut Tx<'_>,
    repo_id: i64,
    tags: &'a [(String, String)],
    now: DateTime<Utc>,
) -> Result<(HashMap<String, String>, Vec<(&'a str, i64)>)> {
    let before: Vec<(String, String)> =
        sqlx::query_as("SELECT t.tag, i.digest FROM tags t JOIN images i ON i.id = t.image_id WHERE t.repository_id = $1")
            .bind(repo_id)
            .fetch_all(&mut **tx)
            .await?;
    let digests: Vec<&str> = tags.iter().map(|(_, d)| d.as_str()).collect();
    let ids = image_ids_for(tx, &digests).await?;
    let tag_rows: Vec<(&str, i64)> = tags.iter().filter_map(|(t, d)| ids.get(d).map(|id| (t.as_str(), *id))).collect();
    for chunk in tag_rows.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO tags (repository_id, tag, image_id, updated_at) ");
        qb.push_values(chunk, |mut b, (tag, id)| {
            b.push_bind(repo_id).push_bind(*tag).push_bind(*id).push_bind(now);
        });
        qb.push(
            " ON CONFLICT (repository_id, tag) DO UPDATE SET image_id = excluded.image_id,
              updated_at = CASE WHEN tags.image_id = excluded.image_id THEN tags.updated_at ELSE excluded.updated_at END",
        );
        qb.build().execute(&mut **tx).await?;
    }
    Ok((before.into_iter().collect(), tag_rows))
}

/// Deletes tags the listing no longer has.
async fn delete_tags(tx: &mut Tx<'_>, repo_id: i64, removed: &[&String]) -> Result<()> {
    for chunk in removed.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("DELETE FROM tags WHERE repository_id = ");
        qb.push_bind(repo_id).push(" AND tag IN (");
        let mut sep = qb.separated(", ");
        for t in chunk {
            sep.push_bind(t.as_str());
        }
        qb.push(")");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Records where each image is: the tagged images and their platform manifests, seen now.
async fn record_presence(tx: &mut Tx<'_>, repo_id: i64, mut present: Vec<i64>, now: DateTime<Utc>) -> Result<()> {
    if !present.is_empty() {
        let mut qb = QueryBuilder::<DB>::new("SELECT image_id FROM image_platforms WHERE index_image_id IN (");
        in_list(&mut qb, &present);
        let children: Vec<i64> = qb.build_query_scalar().fetch_all(&mut **tx).await?;
        present.extend(children);
    }
    present.sort();
    present.dedup();
    for chunk in present.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO image_repositories (image_id, repository_id, first_seen, last_seen) ");
        qb.push_values(chunk, |mut b, id| {
            b.push_bind(*id).push_bind(repo_id).push_bind(now).push_bind(now);
        });
        qb.push(" ON CONFLICT (image_id, repository_id) DO UPDATE SET last_seen = excluded.last_seen");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Stores each signature check's verdict; answers the changes (for the audit record).
async fn store_signatures(tx: &mut Tx<'_>, signatures: &[crate::domain::registry::SignatureSeen]) -> Result<Vec<serde_json::Value>> {
    let sig_digests: Vec<&str> = signatures.iter().map(|s| s.digest.as_str()).collect();
    let sig_ids = image_ids_for(tx, &sig_digests).await?;
    let mut changes = Vec::new();
    for s in signatures {
        let Some(id) = sig_ids.get(&s.digest) else { continue };
        let (state, detail) = match &s.verdict {
            crate::domain::registry::Verdict::Verified(k) => ("verified", k.clone()),
            crate::domain::registry::Verdict::Present(why) => ("present", why.clone()),
        };
        let changed = sqlx::query(
            "UPDATE images SET signature = $2, signature_detail = $3, signature_ref = $4
             WHERE id = $1 AND (signature <> $2 OR signature_detail IS DISTINCT FROM $3 OR signature_ref IS DISTINCT FROM $4)",
        )
        .bind(id)
        .bind(state)
        .bind(&detail)
        .bind(&s.reference)
        .execute(&mut **tx)
        .await?;
        if changed.rows_affected() > 0 {
            changes.push(serde_json::json!({ "digest": s.digest, "signature": state, "detail": detail }));
        }
    }
    Ok(changes)
}
