// Registries, the collector's inventory and the registry's push notifications.

const REGISTRY_COLUMNS: &str = "id, name, url, username, password_env, ca_pem IS NOT NULL, insecure, approved, repositories,
     last_attempt, last_success, last_error, failures, next_attempt, n_repositories, n_tags, n_manifests, auth_hosts";

async fn registry_rows(pool: &Pool, name: Option<&str>) -> Result<Vec<crate::domain::registry::RegistryRow>> {
    let rows = match name {
        Some(n) => sqlx::query(&format!("SELECT {REGISTRY_COLUMNS} FROM registries WHERE name = $1")).bind(n).fetch_all(pool).await?,
        None => sqlx::query(&format!("SELECT {REGISTRY_COLUMNS} FROM registries ORDER BY name")).fetch_all(pool).await?,
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let repositories: String = r.try_get(8)?;
        out.push(crate::domain::registry::RegistryRow {
            id: r.try_get(0)?,
            name: r.try_get(1)?,
            url: r.try_get(2)?,
            username: r.try_get(3)?,
            password_env: r.try_get(4)?,
            has_ca: r.try_get(5)?,
            insecure: r.try_get(6)?,
            approved: r.try_get(7)?,
            repositories: split_lines(&repositories),
            auth_hosts: split_lines(&r.try_get::<String, _>(17)?),
            status: crate::domain::registry::RegistryStatus {
                last_attempt: r.try_get(9)?,
                last_success: r.try_get(10)?,
                last_error: r.try_get(11)?,
                failures: r.try_get(12)?,
                next_attempt: r.try_get(13)?,
                repositories: r.try_get(14)?,
                tags: r.try_get(15)?,
                manifests: r.try_get(16)?,
            },
        });
    }
    Ok(out)
}

pub async fn registries(pool: &Pool) -> Result<Vec<crate::domain::registry::RegistryRow>> {
    registry_rows(pool, None).await
}

pub async fn registry_by_name(pool: &Pool, name: &str) -> Result<Option<crate::domain::registry::RegistryRow>> {
    Ok(registry_rows(pool, Some(name)).await?.pop())
}

pub async fn registry_ca(pool: &Pool, id: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT ca_pem FROM registries WHERE id = $1").bind(id).fetch_optional(pool).await?.flatten())
}

pub async fn add_registry(
    pool: &Pool,
    new: &crate::domain::registry::NewRegistry,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<crate::domain::registry::RegistryRow> {
    let mut tx = begin(pool).await?;
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM registries WHERE name = $1").bind(new.name.as_str()).fetch_optional(&mut *tx).await?;
    if exists.is_some() {
        return Err(StoreError::Invalid(format!("name: a registry named {:?} exists already", new.name.as_str())));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO registries (name, url, username, password_env, ca_pem, insecure, approved, repositories, created_at, created_by, auth_hosts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(new.name.as_str())
    .bind(&new.url)
    .bind(&new.username)
    .bind(&new.password_env)
    .bind(&new.ca_pem)
    .bind(new.insecure)
    .bind(new.approved)
    .bind(new.repositories.join("\n"))
    .bind(now)
    .bind(&actor.0)
    .bind(new.auth_hosts.join("\n"))
    .fetch_one(&mut *tx)
    .await?;
    append_event(
        &mut tx,
        actor,
        "registry.added",
        &format!("registry:{}", new.name),
        serde_json::json!({
            "id": id, "name": new.name, "url": new.url, "username": new.username, "password_env": new.password_env,
            "custom_ca": new.ca_pem.is_some(), "insecure": new.insecure, "approved": new.approved,
            "repositories": new.repositories, "auth_hosts": new.auth_hosts,
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(registry_rows(pool, Some(new.name.as_str())).await?.pop().expect("just inserted"))
}

pub async fn set_registry_approved(pool: &Pool, name: &str, approved: bool, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    let n = sqlx::query("UPDATE registries SET approved = $2 WHERE name = $1").bind(name).bind(approved).execute(&mut *tx).await?;
    if n.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no registry is named {name:?}")));
    }
    append_event(&mut tx, actor, "registry.approval_changed", &format!("registry:{name}"), serde_json::json!({ "approved": approved }), now)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Records a run's outcome: success resets the back-off; failure doubles it (5 minutes to 6 hours).
pub async fn record_registry_run(
    pool: &Pool,
    id: i64,
    outcome: std::result::Result<(), String>,
    counts: Option<(usize, usize)>,
    partial: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin(pool).await?;
    match outcome {
        Ok(()) => {
            sqlx::query(
                "UPDATE registries SET last_attempt = $2, last_success = $2, last_error = NULL, failures = 0, next_attempt = NULL
                 WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
        }
        Err(e) => {
            let failures: i64 = sqlx::query_scalar("SELECT failures FROM registries WHERE id = $1").bind(id).fetch_one(&mut *tx).await?;
            let backoff = super::backoff(failures);
            sqlx::query("UPDATE registries SET last_attempt = $2, last_error = $3, failures = failures + 1, next_attempt = $4 WHERE id = $1")
                .bind(id)
                .bind(now)
                .bind(e)
                .bind(now + backoff)
                .execute(&mut *tx)
                .await?;
        }
    }
    if let (Some((repos, tags)), false) = (counts, partial) {
        sqlx::query(
            "UPDATE registries SET n_repositories = $2, n_tags = $3,
                 n_manifests = (SELECT COUNT(DISTINCT ir.image_id) FROM image_repositories ir
                                JOIN repositories r ON r.id = ir.repository_id WHERE r.registry_id = $1)
             WHERE id = $1",
        )
        .bind(id)
        .bind(repos as i64)
        .bind(tags as i64)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

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
    use crate::domain::registry::Manifest;
    let mut tx = begin(pool).await?;
    let repo_id: i64 = sqlx::query_scalar(
        "INSERT INTO repositories (registry, name, first_seen, registry_id, collected_at) VALUES ($1, $2, $3, $4, $3)
         ON CONFLICT (registry, name) DO UPDATE SET registry_id = excluded.registry_id, collected_at = excluded.collected_at
         RETURNING id",
    )
    .bind(host)
    .bind(&inv.repository)
    .bind(now)
    .bind(registry_id)
    .fetch_one(&mut *tx)
    .await?;

    let tagged: HashSet<&str> = inv.tags.iter().map(|(_, d)| d.as_str()).collect();
    // Platform manifests first, so an index can link them. Set-based: one lookup, one multi-row
    // insert for the new images, one for their aliases; only images a scanner created before the
    // collector saw them are updated one by one (their rows exist already).
    let mut seen = HashSet::new();
    let images: Vec<(&String, &String, &crate::domain::registry::ImageConfig)> = inv
        .manifests
        .iter()
        .filter_map(|m| match m {
            Manifest::Image { digest, media_type, config } => Some((digest, media_type, config)),
            Manifest::Index { .. } => None,
        })
        .filter(|(d, _, _)| seen.insert(d.as_str()))
        .collect();
    let mut known: HashMap<String, i64> = HashMap::new();
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
        let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
        known.extend(rows);
    }
    let detail = |c: &crate::domain::registry::ImageConfig| {
        (serde_json::to_string(&c.labels).unwrap_or_default(), serde_json::to_string(&c.diff_ids).unwrap_or_default())
    };
    let (existing, fresh): (Vec<_>, Vec<_>) =
        images.iter().partition(|(d, _, c)| known.contains_key(d.as_str()) || known.contains_key(&c.config_digest));
    let mut new_images: Vec<String> = fresh.iter().map(|(d, _, _)| (*d).clone()).collect();
    let mut ids: HashMap<String, i64> = HashMap::new();
    for chunk in fresh.chunks(CHUNK / 12) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO images (digest, first_seen, media_type, platform, architecture, created, labels, config_user,
                                 base_name, base_digest, diff_ids, collected_at) ",
        );
        qb.push_values(chunk, |mut b, (digest, media_type, c)| {
            let (labels, diff_ids) = detail(c);
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
        let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut *tx).await?;
        ids.extend(rows);
    }
    for (digest, media_type, config) in &existing {
        let id = known.get(digest.as_str()).or_else(|| known.get(&config.config_digest)).copied().expect("partitioned on it");
        let (labels, diff_ids) = detail(config);
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
        .execute(&mut *tx)
        .await?;
        // An image a scanner first knew by its config digest takes the manifest digest as primary.
        sqlx::query("UPDATE images SET digest = $2 WHERE id = $1 AND digest = $3 AND NOT EXISTS (SELECT 1 FROM images o WHERE o.digest = $2)")
            .bind(id)
            .bind(digest.as_str())
            .bind(&config.config_digest)
            .execute(&mut *tx)
            .await?;
        ids.insert((*digest).clone(), id);
    }
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
        qb.build().execute(&mut *tx).await?;
    }
    for m in &inv.manifests {
        let Manifest::Index { digest, media_type, platforms } = m else { continue };
        // A scanner may have named the index digest as an image's digest: it is the index's.
        sqlx::query(
            "DELETE FROM image_aliases WHERE digest = $1 AND image_id IN (SELECT id FROM images WHERE NOT is_index)",
        )
        .bind(digest)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "UPDATE images SET digest = COALESCE((SELECT a.digest FROM image_aliases a WHERE a.image_id = images.id
                                                  ORDER BY a.kind = 'config', a.digest LIMIT 1), digest)
             WHERE digest = $1 AND NOT is_index",
        )
        .bind(digest)
        .execute(&mut *tx)
        .await?;
        let existed: Option<i64> = sqlx::query_scalar("SELECT id FROM images WHERE digest = $1").bind(digest).fetch_optional(&mut *tx).await?;
        if existed.is_none() {
            new_images.push(digest.clone());
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO images (digest, first_seen, is_index, media_type, collected_at) VALUES ($1, $2, TRUE, $3, $2)
             ON CONFLICT (digest) DO UPDATE SET is_index = TRUE, media_type = excluded.media_type, collected_at = excluded.collected_at
             RETURNING id",
        )
        .bind(digest)
        .bind(now)
        .bind(media_type)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query("INSERT INTO image_aliases (digest, image_id, kind) VALUES ($1, $2, 'index') ON CONFLICT (digest) DO NOTHING")
            .bind(digest)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let children: Vec<&str> = platforms.iter().map(|(d, _)| d.as_str()).collect();
        let ids = image_ids_for(&mut tx, &children).await?;
        let rows: Vec<(i64, &str)> = platforms.iter().filter_map(|(d, p)| ids.get(d).map(|c| (*c, p.as_str()))).collect();
        if !rows.is_empty() {
            let mut qb = QueryBuilder::<DB>::new("INSERT INTO image_platforms (index_image_id, image_id, platform) ");
            qb.push_values(&rows, |mut b, (child, p)| {
                b.push_bind(id).push_bind(*child).push_bind(*p);
            });
            qb.push(" ON CONFLICT (index_image_id, image_id) DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
    }

    // Tags: as listed now. Before/after for the audit record.
    let before: Vec<(String, String)> = sqlx::query_as(
        "SELECT t.tag, i.digest FROM tags t JOIN images i ON i.id = t.image_id WHERE t.repository_id = $1",
    )
    .bind(repo_id)
    .fetch_all(&mut *tx)
    .await?;
    let before: HashMap<String, String> = before.into_iter().collect();
    let digests: Vec<&str> = inv.tags.iter().map(|(_, d)| d.as_str()).collect();
    let ids = image_ids_for(&mut tx, &digests).await?;
    let tag_rows: Vec<(&str, i64)> = inv.tags.iter().filter_map(|(t, d)| ids.get(d).map(|id| (t.as_str(), *id))).collect();
    for chunk in tag_rows.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO tags (repository_id, tag, image_id, updated_at) ");
        qb.push_values(chunk, |mut b, (tag, id)| {
            b.push_bind(repo_id).push_bind(*tag).push_bind(*id).push_bind(now);
        });
        qb.push(
            " ON CONFLICT (repository_id, tag) DO UPDATE SET image_id = excluded.image_id,
              updated_at = CASE WHEN tags.image_id = excluded.image_id THEN tags.updated_at ELSE excluded.updated_at END",
        );
        qb.build().execute(&mut *tx).await?;
    }
    let current: HashSet<&str> = tag_rows.iter().map(|(t, _)| *t).collect();
    let removed: Vec<&String> = before.keys().filter(|t| !current.contains(t.as_str())).collect();
    for chunk in removed.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("DELETE FROM tags WHERE repository_id = ");
        qb.push_bind(repo_id).push(" AND tag IN (");
        let mut sep = qb.separated(", ");
        for t in chunk {
            sep.push_bind(t.as_str());
        }
        qb.push(")");
        qb.build().execute(&mut *tx).await?;
    }
    // Where each image is: tagged images and their platform manifests.
    let mut present: Vec<i64> = tag_rows.iter().map(|(_, id)| *id).collect();
    if !present.is_empty() {
        let mut qb = QueryBuilder::<DB>::new("SELECT image_id FROM image_platforms WHERE index_image_id IN (");
        in_list(&mut qb, &present);
        let children: Vec<i64> = qb.build_query_scalar().fetch_all(&mut *tx).await?;
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
        qb.build().execute(&mut *tx).await?;
    }

    // Signatures.
    let sig_digests: Vec<&str> = inv.signatures.iter().map(|s| s.digest.as_str()).collect();
    let sig_ids = image_ids_for(&mut tx, &sig_digests).await?;
    let mut signature_changes = Vec::new();
    for s in &inv.signatures {
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
        .execute(&mut *tx)
        .await?;
        if changed.rows_affected() > 0 {
            signature_changes.push(serde_json::json!({ "digest": s.digest, "signature": state, "detail": detail }));
        }
    }
    recompute_owners(&mut tx, None).await?;

    let added: Vec<serde_json::Value> = inv
        .tags
        .iter()
        .filter(|(t, d)| before.get(t) != Some(d))
        .map(|(t, d)| serde_json::json!({ "tag": t, "digest": d, "previous": before.get(t) }))
        .collect();
    if !added.is_empty() || !removed.is_empty() || !new_images.is_empty() || !signature_changes.is_empty() {
        append_event(
            &mut tx,
            actor,
            "registry.repository_changed",
            &format!("repository:{host}/{}", inv.repository),
            serde_json::json!({
                "tags_set": added,
                "tags_removed": removed,
                "new_manifests": new_images,
                "signatures": signature_changes,
            }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Records a registry's notified pushes and deletions (each once, by event id) in the ledger.
/// Returns the repositories touched (to refresh) and how many events were new.
pub async fn record_registry_events(
    pool: &Pool,
    registry_id: i64,
    registry: &str,
    events: &[crate::domain::registry::RegistryEvent],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Vec<String>, usize)> {
    let mut tx = begin(pool).await?;
    let mut repos = Vec::new();
    let mut new = 0;
    for e in events {
        let inserted = sqlx::query(
            "INSERT INTO registry_events (registry_id, event_id, action, repository, tag, digest, actor, source_addr, user_agent,
                                          happened_at, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (registry_id, event_id) DO NOTHING",
        )
        .bind(registry_id)
        .bind(&e.id)
        .bind(&e.action)
        .bind(&e.repository)
        .bind(&e.tag)
        .bind(&e.digest)
        .bind(&e.actor)
        .bind(&e.source_addr)
        .bind(&e.user_agent)
        .bind(e.happened_at)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            continue;
        }
        new += 1;
        append_event(
            &mut tx,
            actor,
            &format!("registry.{}", e.action),
            &format!("repository:{registry}/{}", e.repository),
            serde_json::json!({
                "event_id": e.id, "registry": registry, "repository": e.repository, "tag": e.tag, "digest": e.digest,
                "registry_user": e.actor, "source_addr": e.source_addr, "user_agent": e.user_agent, "at": e.happened_at,
            }),
            now,
        )
        .await?;
        if !repos.contains(&e.repository) {
            repos.push(e.repository.clone());
        }
    }
    tx.commit().await?;
    Ok((repos, new))
}
