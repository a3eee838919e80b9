// What runs, read: the container → image → team join, the workloads list, unaccounted images,
// where an image runs.

/// The container → image → team join, written once. The image: the container's digest as an
/// alias (manifest, index or config); an index resolves to the platform manifest of the node's
/// `os/architecture` when the node is known. The team: the pod's own (a pod-label rule, else a
/// namespace rule; stored with the pod), else the image's owner (repository prefix).
const WORKLOAD_SELECT: &str = "
    SELECT k.name AS cluster, p.namespace, p.name AS pod,
           CASE WHEN p.workload_kind IS NULL THEN NULL ELSE p.workload_kind || '/' || p.workload_name END AS workload,
           c.name AS container, c.kind AS container_kind, c.image, c.image_id, c.digest,
           COALESCE(child.digest, img.digest) AS image_digest,
           COALESCE(pt.name, it.name) AS team,
           c.state, c.reason, p.node, c.run_as_user, COALESCE(child.config_user, img.config_user) AS image_user,
           c.first_seen, c.last_seen, p.ended_at,
           COALESCE(child.id, img.id) AS image_row, p.id AS pod_row
    FROM containers c
    JOIN pods p ON p.id = c.pod_id
    JOIN clusters k ON k.id = p.cluster_id
    LEFT JOIN image_aliases a ON a.digest = c.digest
    LEFT JOIN images img ON img.id = a.image_id
    LEFT JOIN nodes n ON n.cluster_id = p.cluster_id AND n.name = p.node
    LEFT JOIN image_platforms ip ON img.is_index AND ip.index_image_id = img.id
                                 AND ip.platform = COALESCE(n.operating_system, 'linux') || '/' || n.architecture
    LEFT JOIN images child ON child.id = ip.image_id
    LEFT JOIN teams pt ON pt.id = p.rule_team_id
    LEFT JOIN teams it ON it.id = COALESCE(child.team_id, img.team_id)";

/// What runs, by image, from the read model the pod and node uploads keep (`running_workloads`,
/// `clusters.rs`): the image each running digest names — an index resolves to the manifest of
/// the node's platform, as in `WORKLOAD_SELECT` — with the cluster, namespace, workload and owning
/// team (the pod's own, else the image's). Only digests some image answers to.
const RUNNING_SELECT: &str = "
    SELECT COALESCE(child.id, img.id) AS image_row, k.name AS cluster, rw.namespace, rw.workload,
           COALESCE(pt.name, it.name) AS team
    FROM running_workloads rw
    JOIN clusters k ON k.id = rw.cluster_id
    JOIN image_aliases a ON a.digest = rw.digest
    JOIN images img ON img.id = a.image_id
    LEFT JOIN image_platforms ip ON img.is_index AND ip.index_image_id = img.id AND ip.platform = rw.platform
    LEFT JOIN images child ON child.id = ip.image_id
    LEFT JOIN teams pt ON pt.id = rw.team_id
    LEFT JOIN teams it ON it.id = COALESCE(child.team_id, img.team_id)";

fn push_workload_filter<'a>(qb: &mut QueryBuilder<'a, DB>, f: &'a WorkloadFilter) {
    qb.push(" WHERE 1 = 1");
    if !f.ended {
        qb.push(" AND w.ended_at IS NULL");
    }
    if let Some(c) = &f.cluster {
        qb.push(" AND w.cluster = ").push_bind(c);
    }
    if let Some(n) = &f.namespace {
        qb.push(" AND w.namespace = ").push_bind(n);
    }
    if let Some(t) = &f.team {
        qb.push(" AND w.team = ").push_bind(t);
    }
    if let Some(s) = &f.state {
        qb.push(" AND w.state = ").push_bind(s);
    }
    if let Some(wl) = &f.workload {
        qb.push(" AND w.workload = ").push_bind(wl);
    }
    if let Some(teams) = &f.visible_teams {
        qb.push(" AND (w.team IS NULL");
        for t in teams {
            qb.push(" OR w.team = ").push_bind(t);
        }
        qb.push(")");
    }
}

/// A page of containers (two queries: the count and the page).
pub async fn workloads(pool: &Pool, f: &WorkloadFilter, limit: i64, offset: i64) -> Result<Page<WorkloadRecord>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM (");
    qb.push(WORKLOAD_SELECT).push(") w");
    push_workload_filter(&mut qb, f);
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<DB>::new("SELECT * FROM (");
    qb.push(WORKLOAD_SELECT).push(") w");
    push_workload_filter(&mut qb, f);
    qb.push(" ORDER BY w.cluster, w.namespace, w.workload, w.pod, w.container_kind, w.container LIMIT ")
        .push_bind(limit)
        .push(" OFFSET ")
        .push_bind(offset);
    let items: Vec<WorkloadRecord> = qb.build_query_as().fetch_all(pool).await?;
    Ok(Page { items, total })
}

/// Every live, not terminated container `f` lets through, in one pass over the estate.
async fn live_containers(pool: &Pool, f: &WorkloadFilter) -> Result<Vec<WorkloadRecord>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT * FROM (");
    qb.push(WORKLOAD_SELECT).push(") w");
    push_workload_filter(&mut qb, f);
    qb.push(" AND w.state <> 'terminated' ORDER BY w.cluster, w.namespace, w.workload, w.image");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// Every live, not terminated container, as the policy evaluation judges it: only the columns
/// it needs, in no order (the join computes no other column).
async fn live_container_facts(pool: &Pool) -> Result<Vec<RunFact>> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT w.cluster, w.namespace, w.pod, w.container, w.image, w.team, w.run_as_user, w.image_user, w.image_row FROM (",
    );
    qb.push(WORKLOAD_SELECT).push(") w WHERE w.ended_at IS NULL AND w.state <> 'terminated'");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// Live containers (of `visible_teams` and unowned ones when given) and, per image row they run,
/// whether a configured registry holds it and when it was last scanned. Three queries per
/// thousand images whatever the number of containers.
pub async fn running_facts(pool: &Pool, visible_teams: Option<&[String]>) -> Result<RunningFacts> {
    let f = WorkloadFilter { visible_teams: visible_teams.map(|t| t.to_vec()), ..Default::default() };
    // Counted by place in SQL: a place's containers cross to Drydock as one row (at `enterprise`
    // 100,000 containers, each row a hand-off from SQLite's worker thread, took seconds).
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT w.cluster, w.namespace, w.workload, w.image, w.digest, w.image_row, MIN(w.image_id) AS image_id,
                MIN(w.team) AS team, COUNT(*) AS containers FROM (",
    );
    qb.push(WORKLOAD_SELECT).push(") w");
    push_workload_filter(&mut qb, &f);
    qb.push(
        " AND w.state <> 'terminated' GROUP BY w.cluster, w.namespace, w.workload, w.image, w.digest, w.image_row
         ORDER BY w.cluster, w.namespace, w.workload, w.image, w.digest, w.image_row",
    );
    let runs: Vec<RunningPlace> = qb.build_query_as().fetch_all(pool).await?;
    let mut ids: Vec<i64> = runs.iter().filter_map(|w| w.image_row).collect();
    ids.sort();
    ids.dedup();
    let mut facts = RunningFacts { runs, ..Default::default() };
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT DISTINCT ir.image_id FROM image_repositories ir JOIN repositories r ON r.id = ir.repository_id
             WHERE r.registry_id IS NOT NULL AND ir.image_id IN (",
        );
        in_list(&mut qb, chunk);
        let found: Vec<i64> = qb.build_query_scalar().fetch_all(pool).await?;
        facts.in_registry.extend(found);
        let mut qb = QueryBuilder::<DB>::new("SELECT id, last_scanned FROM images WHERE id IN (");
        in_list(&mut qb, chunk);
        let found: Vec<(i64, Option<DateTime<Utc>>)> = qb.build_query_as().fetch_all(pool).await?;
        facts.last_scanned.extend(found);
    }
    Ok(facts)
}

/// Where an image runs now: its own digests, and an index's platforms for the index.
async fn runs_in(pool: &Pool, image_id: i64, teams: Option<&[String]>) -> Result<Vec<RunsInRecord>> {
    let f = WorkloadFilter { visible_teams: teams.map(<[String]>::to_vec), ..Default::default() };
    let mut qb = QueryBuilder::<DB>::new("SELECT w.cluster, w.namespace, w.workload, w.container, w.state, COUNT(*) AS pods FROM (");
    qb.push(WORKLOAD_SELECT).push(") w");
    push_workload_filter(&mut qb, &f);
    qb.push(" AND (w.image_row = ").push_bind(image_id);
    qb.push(" OR w.image_row IN (SELECT image_id FROM image_platforms WHERE index_image_id = ").push_bind(image_id);
    qb.push(")) GROUP BY w.cluster, w.namespace, w.workload, w.container, w.state ORDER BY w.cluster, w.namespace, w.workload, w.container");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}
