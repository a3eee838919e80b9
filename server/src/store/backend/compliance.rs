// Compliance: the KEV catalogue and the estate search's reads.

/// Replaces the KEV catalogue with `catalog` in one transaction, recording the upload and its
/// audit event (version, entries, the body's hash; never the body).
pub async fn replace_kev(
    pool: &Pool,
    catalog: &crate::domain::kev::KevCatalog,
    sha256: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<KevUploadRecord> {
    let mut tx = begin(pool).await?;
    sqlx::query("DELETE FROM kev").execute(&mut *tx).await?;
    for chunk in catalog.entries.chunks(CHUNK / 8) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO kev (cve_id, vendor, product, name, date_added, due_date, known_ransomware) ");
        qb.push_values(chunk, |mut b, e| {
            b.push_bind(&e.cve_id)
                .push_bind(&e.vendor)
                .push_bind(&e.product)
                .push_bind(&e.name)
                .push_bind(e.date_added)
                .push_bind(e.due_date)
                .push_bind(&e.known_ransomware);
        });
        qb.build().execute(&mut *tx).await?;
    }
    let record = KevUploadRecord {
        version: catalog.version.clone(),
        released: catalog.released,
        entries: catalog.entries.len() as i64,
        sha256: sha256.to_string(),
        uploaded_at: now,
        uploaded_by: actor.0.clone(),
    };
    sqlx::query("INSERT INTO kev_uploads (version, released, entries, sha256, uploaded_at, uploaded_by) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(&record.version)
        .bind(record.released)
        .bind(record.entries)
        .bind(&record.sha256)
        .bind(now)
        .bind(&actor.0)
        .execute(&mut *tx)
        .await?;
    append_event(
        &mut tx,
        actor,
        "kev.uploaded",
        "kev:catalogue",
        serde_json::json!({ "version": record.version, "released": record.released, "entries": record.entries, "sha256": sha256 }),
        now,
    )
    .await?;
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(record)
}

/// The latest KEV upload, if any.
pub async fn kev_upload(pool: &Pool) -> Result<Option<KevUploadRecord>> {
    Ok(sqlx::query_as(
        "SELECT version, released, entries, sha256, uploaded_at, uploaded_by FROM kev_uploads ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(pool)
    .await?)
}

/// The installed versions of one package among open findings, each once (what a range is
/// checked against, instead of every finding).
pub async fn package_versions(pool: &Pool, c: &crate::domain::purl::PackageCoordinates) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT installed_version FROM image_vulnerabilities
         WHERE resolved_at IS NULL AND purl_type = $1 AND purl_namespace = $2 AND purl_name = $3",
    )
    .bind(c.ptype())
    .bind(c.namespace())
    .bind(c.name())
    .fetch_all(pool)
    .await?)
}

/// The condition a search's filter puts on the open findings `f`.
fn push_search_filter<'a>(qb: &mut QueryBuilder<'a, DB>, filter: &'a SearchFilter) {
    match filter {
        SearchFilter::Vulnerability(id) => {
            qb.push(" AND f.vulnerability_id = ").push_bind(id.as_str());
        }
        SearchFilter::Package { coordinates: c, versions } => {
            qb.push(" AND f.purl_type = ").push_bind(c.ptype());
            qb.push(" AND f.purl_namespace = ").push_bind(c.namespace());
            qb.push(" AND f.purl_name = ").push_bind(c.name());
            if let Some(v) = versions {
                let (before, after) = JSON_TEXTS;
                qb.push(" AND f.installed_version IN ").push(before);
                qb.push_bind(serde_json::Value::from(v.clone()).to_string()).push(after);
            }
        }
    }
}

/// Every image with open findings the filter matches, with their number, and the distinct
/// vulnerabilities they name: a row an image, not one a finding (a search's counts and order).
pub async fn search_images(pool: &Pool, filter: &SearchFilter) -> Result<SearchImages> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT f.image_id AS image_row, i.digest, t.name AS team, COUNT(*) AS instances
         FROM image_vulnerabilities f JOIN images i ON i.id = f.image_id LEFT JOIN teams t ON t.id = i.team_id
         WHERE f.resolved_at IS NULL",
    );
    push_search_filter(&mut qb, filter);
    qb.push(" GROUP BY f.image_id, i.digest, t.name ORDER BY f.image_id");
    let images = qb.build_query_as().fetch_all(pool).await?;
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(DISTINCT f.vulnerability_id) FROM image_vulnerabilities f WHERE f.resolved_at IS NULL");
    push_search_filter(&mut qb, filter);
    let unique_vulnerabilities = qb.build_query_scalar().fetch_one(pool).await?;
    Ok(SearchImages { images, unique_vulnerabilities })
}

/// The open findings the filter matches on the given images (a search's page), a thousand
/// images a statement; per image in the order a search lists them.
pub async fn search_matches(pool: &Pool, filter: &SearchFilter, ids: &[i64]) -> Result<Vec<SearchMatchRecord>> {
    let order = match filter {
        SearchFilter::Vulnerability(_) => " ORDER BY i.digest, f.purl_name, f.installed_version",
        SearchFilter::Package { .. } => " ORDER BY i.digest, f.vulnerability_id, f.installed_version",
    };
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT f.image_id AS image_row, i.digest, t.name AS team, f.vulnerability_id AS vulnerability,
                    f.purl_type, f.purl_namespace, f.purl_name, f.installed_version AS installed, f.fixed_version AS fixed, f.epss,
                    f.severity, f.first_seen, (k.cve_id IS NOT NULL) AS kev
             FROM image_vulnerabilities f JOIN images i ON i.id = f.image_id LEFT JOIN teams t ON t.id = i.team_id
             LEFT JOIN kev k ON k.cve_id = f.vulnerability_id
             WHERE f.resolved_at IS NULL",
        );
        push_search_filter(&mut qb, filter);
        qb.push(" AND f.image_id IN (");
        in_list(&mut qb, chunk);
        qb.push(order);
        out.extend(qb.build_query_as::<SearchMatchRecord>().fetch_all(pool).await?);
    }
    Ok(out)
}

const AFFECTED_SELECT: &str = "SELECT f.image_id AS image_row, i.digest, t.name AS team, f.installed_version AS installed, f.severity,
        (k.cve_id IS NOT NULL) AS kev, MAX(f.epss) AS epss, MIN(f.first_seen) AS first_seen
    FROM image_vulnerabilities f JOIN images i ON i.id = f.image_id LEFT JOIN teams t ON t.id = i.team_id
    LEFT JOIN kev k ON k.cve_id = f.vulnerability_id
    WHERE f.resolved_at IS NULL";
const AFFECTED_GROUP: &str = " GROUP BY f.image_id, i.digest, t.name, f.installed_version, f.severity, k.cve_id IS NOT NULL";

/// Open findings of one vulnerability, summed per image (and version, severity, KEV).
pub async fn affected_by_vulnerability(pool: &Pool, id: &str) -> Result<Vec<AffectedRecord>> {
    let mut qb = QueryBuilder::<DB>::new(AFFECTED_SELECT);
    qb.push(" AND f.vulnerability_id = ").push_bind(id).push(AFFECTED_GROUP);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// Open findings of one package, summed per image and installed version (and severity, KEV).
pub async fn affected_by_package(pool: &Pool, c: &crate::domain::purl::PackageCoordinates) -> Result<Vec<AffectedRecord>> {
    let mut qb = QueryBuilder::<DB>::new(AFFECTED_SELECT);
    qb.push(" AND f.purl_type = ").push_bind(c.ptype());
    qb.push(" AND f.purl_namespace = ").push_bind(c.namespace());
    qb.push(" AND f.purl_name = ").push_bind(c.name());
    qb.push(AFFECTED_GROUP);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// The workloads running the given images (an index through its platforms), each (image,
/// cluster, namespace, workload) once: a campaign's items need no more of a container. Read from
/// what runs as kept by the pod and node uploads (`RUNNING_SELECT`): up to a thousand images by
/// their digests, beyond, every running digest once.
pub async fn running_workload_keys(pool: &Pool, ids: &[i64]) -> Result<Vec<(i64, String, String, String)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let runs_as = runs_as(pool, ids).await?;
    let rows: Vec<i64> = runs_as.keys().copied().collect();
    let mut qb = QueryBuilder::<DB>::new("SELECT w.image_row, w.cluster, w.namespace, w.workload FROM (");
    qb.push(RUNNING_SELECT);
    if ids.len() <= CHUNK {
        only_digests_of(&mut qb, "rw.digest", &rows);
    }
    qb.push(") w");
    let found: Vec<(i64, String, String, String)> = qb.build_query_as().fetch_all(pool).await?;
    let mut out = std::collections::BTreeSet::new();
    for (row, cluster, namespace, workload) in found {
        for matched in runs_as.get(&row).into_iter().flatten() {
            out.insert((*matched, cluster.clone(), namespace.clone(), workload.clone()));
        }
    }
    Ok(out.into_iter().collect())
}

/// Repositories and live containers of the given images (an index's platforms count for it):
/// a fixed number of queries per thousand images. `teams` limits the containers (not the
/// repositories) to those teams' and unowned ones. Over a thousand images, the live containers
/// are read in one pass over the estate instead of one pass per thousand (a digest filter does
/// not spare the planner the container → image → team join).
pub async fn matched_images(pool: &Pool, ids: &[i64], teams: Option<&[String]>) -> Result<MatchedImages> {
    let mut out = MatchedImages::default();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT ir.image_id, r.registry || '/' || r.name FROM image_repositories ir JOIN repositories r ON r.id = ir.repository_id
             WHERE ir.image_id IN (",
        );
        in_list(&mut qb, chunk);
        qb.push(" ORDER BY ir.image_id, r.registry, r.name");
        let rows: Vec<(i64, String)> = qb.build_query_as().fetch_all(pool).await?;
        for (id, repo) in rows {
            out.repositories.entry(id).or_default().push(repo);
        }
    }
    if ids.is_empty() {
        return Ok(out);
    }
    let f = WorkloadFilter { visible_teams: teams.map(<[String]>::to_vec), ..Default::default() };
    let runs_as = runs_as(pool, ids).await?;
    if ids.len() > CHUNK {
        for w in live_containers(pool, &f).await? {
            for matched in w.image_row.and_then(|row| runs_as.get(&row)).into_iter().flatten() {
                out.running.push((*matched, w.clone()));
            }
        }
        return Ok(out);
    }
    let rows: Vec<i64> = runs_as.keys().copied().collect();
    let mut qb = QueryBuilder::<DB>::new("SELECT * FROM (");
    qb.push(WORKLOAD_SELECT);
    only_digests_of(&mut qb, "c.digest", &rows);
    qb.push(") w");
    push_workload_filter(&mut qb, &f);
    qb.push(" AND w.state <> 'terminated' AND w.image_row IN (");
    in_list(&mut qb, &rows);
    qb.push(" ORDER BY w.cluster, w.namespace, w.workload, w.container");
    let runs: Vec<WorkloadRecord> = qb.build_query_as().fetch_all(pool).await?;
    for w in runs {
        for matched in w.image_row.and_then(|row| runs_as.get(&row)).into_iter().flatten() {
            out.running.push((*matched, w.clone()));
        }
    }
    Ok(out)
}

/// Restricts the rows to those whose digest (`column`) names one of `rows`, by its own digest or
/// an index's it is a platform of (an indexed lookup first: the owner of each row, worked out per
/// container, is then worked out only for those).
fn only_digests_of<'a>(qb: &mut QueryBuilder<'a, DB>, column: &str, rows: &'a [i64]) {
    qb.push(format!(" WHERE {column} IN (SELECT a2.digest FROM image_aliases a2 WHERE a2.image_id IN ("));
    in_list(qb, rows);
    qb.push(" OR a2.image_id IN (SELECT ip2.index_image_id FROM image_platforms ip2 WHERE ip2.image_id IN (");
    in_list(qb, rows);
    qb.push("))");
}

/// Image row → the given images it runs as: itself, and the index it is a platform of (any
/// number of images, a query per thousand).
async fn runs_as(pool: &Pool, ids: &[i64]) -> Result<HashMap<i64, Vec<i64>>> {
    let mut runs_as: HashMap<i64, Vec<i64>> = ids.iter().map(|&id| (id, vec![id])).collect();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT image_id, index_image_id FROM image_platforms WHERE index_image_id IN (");
        in_list(&mut qb, chunk);
        let platforms: Vec<(i64, i64)> = qb.build_query_as().fetch_all(pool).await?;
        for (child, index) in platforms {
            runs_as.entry(child).or_default().push(index);
        }
    }
    for v in runs_as.values_mut() {
        v.sort_unstable();
        v.dedup();
    }
    Ok(runs_as)
}

/// Which of the given images run (live containers; an index through its platforms), with the
/// owning team of each workload running them: (image, team), each pair once. What the search
/// orders and counts by before it reads the workloads of the page it answers. Read from what runs
/// as kept by the pod and node uploads (`RUNNING_SELECT`): up to a thousand images by their
/// digests, beyond, every running digest once.
pub async fn running_teams(pool: &Pool, ids: &[i64]) -> Result<Vec<(i64, Option<String>)>> {
    if ids.is_empty() {
        return Ok(vec![]);
    }
    let runs_as = runs_as(pool, ids).await?;
    let rows: Vec<i64> = runs_as.keys().copied().collect();
    let mut qb = QueryBuilder::<DB>::new("SELECT DISTINCT w.image_row, w.team FROM (");
    qb.push(RUNNING_SELECT);
    if ids.len() <= CHUNK {
        only_digests_of(&mut qb, "rw.digest", &rows);
    }
    qb.push(") w");
    let runs: Vec<(i64, Option<String>)> = qb.build_query_as().fetch_all(pool).await?;
    let mut out = std::collections::BTreeSet::new();
    for (row, team) in runs {
        for matched in runs_as.get(&row).into_iter().flatten() {
            out.insert((*matched, team.clone()));
        }
    }
    Ok(out.into_iter().collect())
}
