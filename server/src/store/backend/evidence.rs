// The checklist's evidence lists (store/evidence.rs). Each list is two queries: its count and a page.

/// ` AND (i.team_id IS NULL OR i.team_id IN (teams' ids))` for a team-scoped caller.
fn push_image_scope<'a>(qb: &mut QueryBuilder<'a, DB>, alias: &str, teams: Option<&'a [String]>) {
    if let Some(teams) = teams {
        qb.push(format!(" AND ({alias}.team_id IS NULL"));
        if !teams.is_empty() {
            qb.push(format!(" OR {alias}.team_id IN (SELECT id FROM teams WHERE name IN ("));
            in_list(qb, teams);
            qb.push(")");
        }
        qb.push(")");
    }
}

const PUSH_FROM: &str = " FROM registry_events e JOIN registries g ON g.id = e.registry_id
    LEFT JOIN image_aliases al ON al.digest = e.digest LEFT JOIN images i ON i.id = al.image_id
    LEFT JOIN teams t ON t.id = i.team_id WHERE e.action = 'push'";

pub async fn pushes(pool: &Pool, teams: Option<&[String]>, limit: i64, offset: i64) -> Result<Page<PushRecord>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*)");
    qb.push(PUSH_FROM);
    push_image_scope(&mut qb, "i", teams);
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT g.name AS registry, e.repository, e.tag, e.digest, e.actor, e.source_addr, t.name AS team, e.happened_at",
    );
    qb.push(PUSH_FROM);
    push_image_scope(&mut qb, "i", teams);
    qb.push(" ORDER BY e.happened_at DESC, e.id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    Ok(Page { items: qb.build_query_as().fetch_all(pool).await?, total })
}

/// Audited pod actions that start, change or stop a pod or enter its containers (exec, attach,
/// port-forward; reads are left out), one row per request (its first recorded stage); a
/// team-scoped caller's are those on pods of its teams, of no team, or never recorded.
fn push_pod_access_from<'a>(qb: &mut QueryBuilder<'a, DB>, teams: Option<&'a [String]>, exec_only: bool) {
    qb.push(
        " FROM k8s_audit a WHERE a.resource = 'pods'
          AND a.id IN (SELECT MIN(x.id) FROM k8s_audit x WHERE x.resource = 'pods' GROUP BY x.cluster, x.audit_id)",
    );
    if exec_only {
        qb.push(" AND a.subresource IN ('exec', 'attach', 'portforward')");
    } else {
        qb.push(
            " AND (a.subresource IN ('exec', 'attach', 'portforward')
                   OR (a.subresource IS NULL AND a.verb IN ('create', 'update', 'patch', 'delete', 'deletecollection')))",
        );
    }
    if let Some(teams) = teams {
        // The pods a team may see are found once (an uncorrelated IN), not per audit row.
        const SAME_POD: &str = "SELECT 1 FROM pods p JOIN clusters k ON k.id = p.cluster_id
                                WHERE k.name = a.cluster AND p.namespace = a.namespace AND p.name = a.name";
        qb.push(format!(" AND (NOT EXISTS ({SAME_POD}) OR EXISTS ({SAME_POD} AND p.id IN (SELECT w.pod_row FROM ("));
        qb.push(WORKLOAD_SELECT);
        qb.push(") w WHERE w.team IS NULL");
        if !teams.is_empty() {
            qb.push(" OR w.team IN (");
            in_list(qb, teams);
        }
        qb.push(")))");
    }
}

pub async fn pod_access(pool: &Pool, teams: Option<&[String]>, exec_only: bool, limit: i64, offset: i64) -> Result<Page<PodAccessRecord>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*)");
    push_pod_access_from(&mut qb, teams, exec_only);
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT a.cluster, a.namespace, a.name, a.verb, a.subresource, a.username, a.source_ips, a.code, a.happened_at",
    );
    push_pod_access_from(&mut qb, teams, exec_only);
    qb.push(" ORDER BY a.happened_at DESC, a.id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    Ok(Page { items: qb.build_query_as().fetch_all(pool).await?, total })
}

fn push_outdated_from<'a>(qb: &mut QueryBuilder<'a, DB>, teams: Option<&'a [String]>) {
    qb.push(
        " FROM image_vulnerabilities iv JOIN images i ON i.id = iv.image_id
          WHERE iv.resolved_at IS NULL AND iv.fixed_version IS NOT NULL AND iv.fixed_version <> '' AND iv.purl_type IN (",
    );
    in_list(qb, &LIBRARY_TYPES);
    push_image_scope(qb, "i", teams);
}

pub async fn outdated_libraries(pool: &Pool, teams: Option<&[String]>, limit: i64, offset: i64) -> Result<Page<OutdatedLibraryRecord>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM (SELECT 1");
    push_outdated_from(&mut qb, teams);
    qb.push(" GROUP BY iv.purl_type, iv.purl_namespace, iv.purl_name, iv.installed_version) g");
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<DB>::new("SELECT iv.purl_type, iv.purl_namespace, iv.purl_name, iv.installed_version, ");
    qb.push(FIXED_LIST);
    qb.push(
        " AS fixed_versions, COUNT(DISTINCT iv.vulnerability_id) AS vulnerabilities,
          CAST(MIN(CASE iv.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 WHEN 'low' THEN 3 WHEN 'negligible' THEN 4 ELSE 5 END) AS BIGINT) AS worst,
          COUNT(DISTINCT iv.image_id) AS images",
    );
    push_outdated_from(&mut qb, teams);
    qb.push(" GROUP BY iv.purl_type, iv.purl_namespace, iv.purl_name, iv.installed_version");
    qb.push(" ORDER BY worst, images DESC, iv.purl_type, iv.purl_namespace, iv.purl_name, iv.installed_version LIMIT ");
    qb.push_bind(limit).push(" OFFSET ").push_bind(offset);
    Ok(Page { items: qb.build_query_as().fetch_all(pool).await?, total })
}

pub async fn images_with_outdated_libraries(pool: &Pool, teams: Option<&[String]>) -> Result<i64> {
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(DISTINCT iv.image_id)");
    push_outdated_from(&mut qb, teams);
    Ok(qb.build_query_scalar().fetch_one(pool).await?)
}

pub async fn messages_by_team(pool: &Pool, since: DateTime<Utc>) -> Result<Vec<TeamMessagesRecord>> {
    Ok(sqlx::query_as(
        "SELECT team, SUM(CASE WHEN sent_at IS NOT NULL THEN 1 ELSE 0 END) AS sent,
                SUM(CASE WHEN gave_up_at IS NOT NULL THEN 1 ELSE 0 END) AS gave_up, MAX(sent_at) AS last_sent
         FROM outbox WHERE channel IN ('email', 'webhook') AND created_at >= $1 GROUP BY team",
    )
    .bind(since)
    .fetch_all(pool)
    .await?)
}

pub async fn attribution(pool: &Pool, teams: Option<&[String]>) -> Result<Attribution> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT COUNT(*) AS images, COALESCE(SUM(pushed), 0) AS pushed, COALESCE(SUM(labelled), 0) AS labelled,
                COALESCE(SUM(CASE WHEN pushed = 1 OR labelled = 1 THEN 1 ELSE 0 END), 0) AS attributed
         FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM image_aliases al JOIN registry_events e ON e.digest = al.digest
                          WHERE al.image_id = i.id AND e.action = 'push' AND e.actor IS NOT NULL) THEN 1 ELSE 0 END AS pushed,
                      CASE WHEN i.labels LIKE '%\"org.opencontainers.image.source\"%' THEN 1 ELSE 0 END AS labelled
               FROM images i WHERE 1 = 1",
    );
    push_image_scope(&mut qb, "i", teams);
    qb.push(") a");
    Ok(qb.build_query_as().fetch_one(pool).await?)
}

pub async fn unowned_images(pool: &Pool, limit: i64, offset: i64) -> Result<Page<ImageRow>> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images WHERE team_id IS NULL").fetch_one(pool).await?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM images WHERE team_id IS NULL ORDER BY id DESC LIMIT $1 OFFSET $2")
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await?;
    Ok(Page { items: summaries(pool, &ids).await?, total })
}
