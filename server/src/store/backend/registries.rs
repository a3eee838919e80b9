// Registries as configured, their collection status and their push notifications. What the
// collector read is stored in `inventory.rs`.

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
        return Err(StoreError::invalid("name", format!("a registry named {:?} exists already", new.name.as_str())));
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
        return Err(StoreError::not_found(format!("no registry is named {name:?}")));
    }
    append_event(&mut tx, actor, "registry.approval_changed", &format!("registry:{name}"), serde_json::json!({ "approved": approved }), now)
        .await?;
    mark_evaluation_due(&mut tx, now).await?;
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
