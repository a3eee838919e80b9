// Tokens, teams, ownership rules and tag placement.

pub async fn create_token(
    pool: &Pool,
    name: &str,
    role: crate::domain::Role,
    team: Option<&crate::domain::TeamName>,
    bindings: &super::TokenBindings,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<String> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 || name.chars().any(char::is_control) {
        return Err(StoreError::invalid("name", "a token name is 1-100 characters, no control characters"));
    }
    bindings.validate().map_err(StoreError::invalid_input)?;
    if role != crate::domain::Role::Ingest && (!bindings.clusters.is_empty() || !bindings.registries.is_empty()) {
        return Err(StoreError::invalid_input("clusters/registries: only ingest tokens are bound to clusters and registries"));
    }
    let secret = crate::auth::new_token_secret();
    let mut tx = begin(pool).await?;
    let team_id = match team {
        Some(t) => Some(ensure_team(&mut tx, t, actor, now).await?),
        None => None,
    };
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (name, role, team_id, token_sha256, created_at, created_by, clusters, registries)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(name)
    .bind(role.as_str())
    .bind(team_id)
    .bind(super::sha256_hex(secret.as_bytes()))
    .bind(now)
    .bind(&actor.0)
    .bind(bindings.clusters.join("\n"))
    .bind(bindings.registries.join("\n"))
    .fetch_one(&mut *tx)
    .await?;
    append_event(
        &mut tx,
        actor,
        "token.created",
        &format!("token:{id}"),
        serde_json::json!({ "id": id, "name": name, "role": role.as_str(), "team": team,
                            "clusters": bindings.clusters, "registries": bindings.registries }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(secret)
}

/// A live token as `verify_token` reads it.
#[derive(sqlx::FromRow)]
struct LiveTokenRow {
    id: Option<i64>,
    name: Option<String>,
    role: Option<String>,
    team: Option<crate::domain::TeamName>,
    clusters: Option<String>,
    registries: Option<String>,
    last_used_at: Option<DateTime<Utc>>,
    version: i64,
}

/// The live token whose secret is `secret`, with the data version read by the same statement
/// (the webhook then needs no second round trip to know whether its kept decisions are current).
pub async fn verify_token(pool: &Pool, secret: &str, now: DateTime<Utc>) -> Result<Option<TokenInfo>> {
    let row: LiveTokenRow = sqlx::query_as(
        "SELECT k.id, k.name, k.role, t.name AS team, k.clusters, k.registries, k.last_used_at, v.version FROM data_version v
         LEFT JOIN api_tokens k ON k.token_sha256 = $1 AND k.revoked_at IS NULL LEFT JOIN teams t ON t.id = k.team_id WHERE v.id = 1",
    )
    .bind(super::sha256_hex(secret.as_bytes()))
    .fetch_one(pool)
    .await?;
    let LiveTokenRow { id: Some(id), name: Some(name), role: Some(role), team, clusters, registries, last_used_at, version } = row else {
        return Ok(None);
    };
    // "Last used" is kept to the minute: no write per request. The check is made here, not in the
    // UPDATE's WHERE: on SQLite an UPDATE takes the write lock even when it changes no row, so a
    // request would wait behind every report being stored (the admission webhook's p99 did).
    let stale = now - chrono::Duration::seconds(60);
    if last_used_at.is_none_or(|t| t < stale) {
        sqlx::query("UPDATE api_tokens SET last_used_at = $2 WHERE id = $1 AND (last_used_at IS NULL OR last_used_at < $3)")
            .bind(id)
            .bind(now)
            .bind(stale)
            .execute(pool)
            .await?;
    }
    let role = role.parse().map_err(StoreError::invalid_input)?;
    let bindings = super::TokenBindings {
        clusters: split_lines(&clusters.unwrap_or_default()),
        registries: split_lines(&registries.unwrap_or_default()),
    };
    Ok(Some(TokenInfo { id, name, role, team, bindings, data_version: version }))
}

pub async fn upsert_team(pool: &Pool, name: &crate::domain::TeamName, display_name: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    ensure_team(&mut tx, name, actor, now).await?;
    let changed = sqlx::query("UPDATE teams SET display_name = $2 WHERE name = $1 AND display_name <> $2")
        .bind(name)
        .bind(display_name)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed > 0 {
        append_event(
            &mut tx,
            actor,
            "team.renamed",
            &format!("team:{name}"),
            serde_json::json!({ "name": name, "display_name": display_name }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn add_ownership_rule(pool: &Pool, rule: &crate::domain::ownership::RuleSpec, actor: &Actor, now: DateTime<Utc>) -> Result<RuleRecord> {
    let (kind, pattern, team) = (rule.kind(), rule.pattern(), rule.team());
    let mut tx = begin(pool).await?;
    let team_id = ensure_team(&mut tx, team, actor, now).await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO ownership_rules (kind, pattern, team_id, created_at, created_by) VALUES ($5, $1, $2, $3, $4)
         ON CONFLICT (kind, pattern) DO NOTHING RETURNING id",
    )
    .bind(pattern)
    .bind(team_id)
    .bind(now)
    .bind(&actor.0)
    .bind(kind.as_str())
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Err(StoreError::invalid_input(format!("a {} rule for pattern {pattern:?} already exists", kind.as_str())));
    };
    recompute_owners(&mut tx, None).await?;
    set_pod_owners(&mut tx, PodsToOwn::MatchedBy(rule)).await?;
    let images: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images WHERE owner_rule_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    append_event(
        &mut tx,
        actor,
        "ownership_rule.created",
        &format!("ownership_rule:{id}"),
        serde_json::json!({ "id": id, "kind": kind.as_str(), "pattern": pattern, "team": team, "images": images }),
        now,
    )
    .await?;
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(RuleRecord {
        id,
        kind,
        pattern: pattern.to_string(),
        team: team.to_string(),
        subjects: images,
        created_at: now,
        created_by: actor.0.clone(),
    })
}

/// An ownership rule with how many subjects it decides.
#[derive(sqlx::FromRow)]
struct RuleRow {
    id: i64,
    kind: String,
    pattern: String,
    team: String,
    created_at: DateTime<Utc>,
    created_by: String,
    images: i64,
}

pub async fn ownership_rules(pool: &Pool) -> Result<Vec<RuleRecord>> {
    let rows: Vec<RuleRow> = sqlx::query_as(
        "SELECT r.id, r.kind, r.pattern, t.name AS team, r.created_at, r.created_by,
                CASE r.kind
                  WHEN 'repository_prefix' THEN (SELECT COUNT(*) FROM images i WHERE i.owner_rule_id = r.id)
                  WHEN 'namespace' THEN (SELECT COUNT(*) FROM containers c JOIN pods p ON p.id = c.pod_id
                                         WHERE p.ended_at IS NULL AND p.namespace = r.pattern)
                  ELSE (SELECT COUNT(*) FROM containers c JOIN pods p ON p.id = c.pod_id
                        JOIN pod_labels l ON l.pod_id = p.id AND l.key || '=' || l.value = r.pattern
                        WHERE p.ended_at IS NULL)
                END AS images
         FROM ownership_rules r JOIN teams t ON t.id = r.team_id
         ORDER BY r.kind DESC, r.pattern",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|RuleRow { id, kind, pattern, team, created_at, created_by, images }| RuleRecord {
            id,
            kind: RuleKind::parse(&kind).unwrap_or(RuleKind::RepositoryPrefix),
            pattern,
            team,
            subjects: images,
            created_at,
            created_by,
        })
        .collect())
}

pub async fn place_tag(
    pool: &Pool,
    reference: &crate::domain::ImageRef,
    digest: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin(pool).await?;
    let image_id = image_id_by_digest(&mut *tx, digest)
        .await?
        .ok_or_else(|| StoreError::not_found(format!("no image has digest {digest}")))?;
    let repo = reference.repository.clone();
    let tags: Vec<(crate::domain::Repository, String)> =
        reference.tag.iter().map(|t| (repo.clone(), t.clone())).collect();
    link_repositories(&mut tx, image_id, std::slice::from_ref(&repo), &tags, now).await?;
    recompute_owners(&mut tx, Some(image_id)).await?;
    append_event(
        &mut tx,
        actor,
        "tag.placed",
        &format!("repository:{}", repo.full()),
        serde_json::json!({ "repository": repo.full(), "tag": reference.tag, "digest": digest }),
        now,
    )
    .await?;
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn list_tokens(pool: &Pool) -> Result<Vec<TokenRecord>> {
    Ok(sqlx::query_as(
        "SELECT k.id, k.name, k.role, t.name AS team, k.created_at, k.created_by, k.last_used_at, k.revoked_at, k.clusters, k.registries
         FROM api_tokens k LEFT JOIN teams t ON t.id = k.team_id ORDER BY k.revoked_at IS NOT NULL, k.id DESC",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn revoke_token(
    pool: &Pool,
    id: i64,
    may_revoke: &(dyn Fn(crate::domain::Role) -> bool + Sync),
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin(pool).await?;
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM api_tokens WHERE id = $1 AND revoked_at IS NULL")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some(role) = role else {
        return Err(StoreError::not_found(format!("no live token has id {id}")));
    };
    let role: crate::domain::Role = role.parse().map_err(StoreError::invalid_input)?;
    if !may_revoke(role) {
        return Err(StoreError::forbidden(format!("your role may not revoke a token of role {}", role.as_str())));
    }
    let name: Option<String> = sqlx::query_scalar(
        "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL RETURNING name",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(name) = name else {
        return Err(StoreError::not_found(format!("no live token has id {id}")));
    };
    append_event(&mut tx, actor, "token.revoked", &format!("token:{id}"), serde_json::json!({ "id": id, "name": name }), now).await?;
    tx.commit().await?;
    Ok(())
}

/// Creates the teams that configuration names (group mappings), leaving existing ones alone.
pub async fn ensure_teams(pool: &Pool, names: &[crate::domain::TeamName], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    for n in names {
        ensure_team(&mut tx, n, actor, now).await?;
    }
    tx.commit().await?;
    Ok(())
}
