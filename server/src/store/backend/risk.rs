// The "fix these first" ranking (included into each backend module): its inputs, and the stored
// ranking read by scope through its index.

pub async fn risk_inputs(pool: &Pool) -> Result<RiskInputs> {
    let images = sqlx::query_as("SELECT i.id, t.name FROM images i LEFT JOIN teams t ON t.id = i.team_id ORDER BY i.id").fetch_all(pool).await?;
    let platforms = sqlx::query_as("SELECT image_id, index_image_id FROM image_platforms").fetch_all(pool).await?;
    let runs = live_container_facts(pool).await?;
    let environments = environment_rules(pool).await?;
    Ok(RiskInputs { images, platforms, runs, environments })
}

pub async fn risk_findings(pool: &Pool, ids: &[i64]) -> Result<Vec<RiskFinding>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT f.image_id, f.vulnerability_id AS vulnerability, f.severity, MAX(f.epss) AS epss, (k.cve_id IS NOT NULL) AS kev
             FROM image_vulnerabilities f LEFT JOIN kev k ON k.cve_id = f.vulnerability_id WHERE f.resolved_at IS NULL AND f.image_id IN (",
        );
        in_list(&mut qb, chunk);
        qb.push(" GROUP BY f.image_id, f.vulnerability_id, f.severity, k.cve_id IS NOT NULL");
        out.extend(qb.build_query_as::<RiskFinding>().fetch_all(pool).await?);
    }
    Ok(out)
}

pub async fn replace_risk(pool: &Pool, rows: &[RiskRecord], now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    sqlx::query("DELETE FROM risk_items").execute(&mut *tx).await?;
    for chunk in rows.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO risk_items (scope, vulnerability, score, severity, kev, epss, images, instances, production, other, registry_only, environments, teams) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(&r.scope)
                .push_bind(&r.vulnerability)
                .push_bind(r.score)
                .push_bind(&r.severity)
                .push_bind(r.kev)
                .push_bind(r.epss)
                .push_bind(r.images)
                .push_bind(r.instances)
                .push_bind(r.production)
                .push_bind(r.other)
                .push_bind(r.registry_only)
                .push_bind(&r.environments)
                .push_bind(&r.teams);
        });
        qb.build().execute(&mut *tx).await?;
    }
    // The version this transaction makes (its own change counted): a later run over no other change skips.
    let version: i64 = sqlx::query_scalar("SELECT version FROM data_version WHERE id = 1").fetch_one(&mut *tx).await?;
    sqlx::query("DELETE FROM risk_state").execute(&mut *tx).await?;
    sqlx::query("INSERT INTO risk_state (id, ranked_version, ranked_at) VALUES (1, $1, $2)").bind(version).bind(now).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn risk_ranked(pool: &Pool) -> Result<Option<(i64, DateTime<Utc>)>> {
    Ok(sqlx::query_as("SELECT ranked_version, ranked_at FROM risk_state WHERE id = 1").fetch_optional(pool).await?)
}

const RISK_SELECT: &str = "SELECT scope, vulnerability, score, severity, kev, epss, images, instances, production, other, registry_only, environments, teams FROM risk_items";

pub async fn risk_page(pool: &Pool, scope: &str, limit: i64, offset: i64) -> Result<(Vec<RiskRecord>, i64)> {
    let rows = sqlx::query_as(&format!("{RISK_SELECT} WHERE scope = $1 ORDER BY score DESC, vulnerability LIMIT $2 OFFSET $3"))
        .bind(scope)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    let total = sqlx::query_scalar("SELECT COUNT(*) FROM risk_items WHERE scope = $1").bind(scope).fetch_one(pool).await?;
    Ok((rows, total))
}

pub async fn risk_of_scopes(pool: &Pool, scopes: &[String]) -> Result<Vec<RiskRecord>> {
    if scopes.is_empty() {
        return Ok(vec![]);
    }
    let mut qb = QueryBuilder::<DB>::new(RISK_SELECT);
    qb.push(" WHERE scope IN (");
    in_list(&mut qb, scopes);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}
