// Clusters, their nodes, pods and containers as uploaded or collected, the collector's status,
// Kubernetes audit events. What runs is read in `workloads.rs`.

/// The cluster's id; an upload to a name not configured creates an upload-only cluster (audited).
async fn ensure_cluster(tx: &mut Tx<'_>, name: &crate::domain::ClusterName, actor: &Actor, now: DateTime<Utc>) -> Result<i64> {
    let name = name.as_str();
    if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM clusters WHERE name = $1").bind(name).fetch_optional(&mut **tx).await? {
        return Ok(id);
    }
    let id: i64 = sqlx::query_scalar("INSERT INTO clusters (name, created_at, created_by) VALUES ($1, $2, $3) RETURNING id")
        .bind(name)
        .bind(now)
        .bind(&actor.0)
        .fetch_one(&mut **tx)
        .await?;
    append_event(tx, actor, "cluster.created", &format!("cluster:{name}"), serde_json::json!({ "name": name, "upload_only": true }), now).await?;
    Ok(id)
}

/// `None`: no such cluster; `Some(None)`: upload-only; `Some(Some(server))`: collected.
pub async fn cluster_server(pool: &Pool, name: &str) -> Result<Option<Option<String>>> {
    Ok(sqlx::query_scalar("SELECT server FROM clusters WHERE name = $1").bind(name).fetch_optional(pool).await?)
}

/// Stores a pod upload in one transaction: pods upserted by uid (an ended pod that reappears
/// runs again), their labels and containers, and — per the upload's scope — the pods it no
/// longer lists marked ended (never deleted). Returns (pods, containers, ended).
pub async fn store_pods(
    pool: &Pool,
    cluster: &crate::domain::ClusterName,
    upload: &crate::k8s::PodsUpload,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(usize, usize, u64)> {
    let mut tx = begin(pool).await?;
    let cluster_id = ensure_cluster(&mut tx, cluster, actor, now).await?;
    let mut places = namespaces_of(&mut tx, cluster_id, &upload.pods).await?;
    let pod_ids = upsert_pods(&mut tx, cluster_id, &upload.pods, now).await?;
    replace_pod_labels(&mut tx, &upload.pods, &pod_ids).await?;
    set_pod_owners(&mut tx, PodsToOwn::Ids(&pod_ids.values().copied().collect::<Vec<_>>())).await?;
    let containers = upsert_containers(&mut tx, &upload.pods, &pod_ids, now).await?;
    let ended = end_unlisted_pods(&mut tx, cluster_id, &upload.scope, now).await?;
    places.extend(upload.pods.iter().map(|p| p.namespace.clone()));
    places.extend(ended.iter().map(|(ns, _)| ns.clone()));
    refresh_running_workloads(&mut tx, cluster_id, Some(&places.into_iter().collect::<Vec<_>>())).await?;
    sqlx::query("UPDATE clusters SET last_upload = $2 WHERE id = $1").bind(cluster_id).bind(now).execute(&mut *tx).await?;
    let payload = serde_json::json!({
        "scope": upload.scope.label(),
        "pods": upload.pods.len(),
        "containers": containers,
        "ended": ended.iter().map(|(ns, n)| format!("{ns}/{n}")).collect::<Vec<_>>(),
    });
    append_event(&mut tx, actor, "cluster.pods_recorded", &format!("cluster:{cluster}"), payload, now).await?;
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok((upload.pods.len(), containers, ended.len() as u64))
}

/// The namespaces the listed pods were in before this upload (a uid's namespace is overwritten:
/// the read model must leave the old place as well).
async fn namespaces_of(tx: &mut Tx<'_>, cluster_id: i64, pods: &[crate::k8s::PodRecord]) -> Result<std::collections::BTreeSet<String>> {
    let mut out = std::collections::BTreeSet::new();
    for chunk in pods.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT DISTINCT namespace FROM pods WHERE cluster_id = ");
        qb.push_bind(cluster_id).push(" AND uid IN (");
        let mut sep = qb.separated(", ");
        for p in chunk {
            sep.push_bind(&p.uid);
        }
        qb.push(")");
        out.extend(qb.build_query_scalar::<String>().fetch_all(&mut **tx).await?);
    }
    Ok(out)
}

/// Rebuilds the read model of what runs (`running_workloads`, migration 0026) for one cluster's
/// `namespaces` (all of them for `None`): each live container's (namespace, workload, digest, node
/// platform, the pod's own owner) once. Called by every write that changes one of them: pods,
/// their containers and owners, nodes.
async fn refresh_running_workloads(tx: &mut Tx<'_>, cluster_id: i64, namespaces: Option<&[String]>) -> Result<()> {
    const INSERT: &str = "INSERT INTO running_workloads (cluster_id, namespace, workload, digest, platform, team_id)
        SELECT DISTINCT p.cluster_id, p.namespace,
               CASE WHEN p.workload_kind IS NULL THEN 'Pod/' || p.name ELSE p.workload_kind || '/' || p.workload_name END,
               c.digest, COALESCE(COALESCE(n.operating_system, 'linux') || '/' || n.architecture, ''), p.rule_team_id
        FROM containers c
        JOIN pods p ON p.id = c.pod_id
        LEFT JOIN nodes n ON n.cluster_id = p.cluster_id AND n.name = p.node
        WHERE p.ended_at IS NULL AND c.state <> 'terminated' AND c.digest IS NOT NULL AND p.cluster_id = ";
    let Some(namespaces) = namespaces else {
        sqlx::query("DELETE FROM running_workloads WHERE cluster_id = $1").bind(cluster_id).execute(&mut **tx).await?;
        QueryBuilder::<DB>::new(INSERT).push_bind(cluster_id).build().execute(&mut **tx).await?;
        return Ok(());
    };
    for chunk in namespaces.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("DELETE FROM running_workloads WHERE cluster_id = ");
        qb.push_bind(cluster_id).push(" AND namespace IN (");
        in_list(&mut qb, chunk);
        qb.build().execute(&mut **tx).await?;
        let mut qb = QueryBuilder::<DB>::new(INSERT);
        qb.push_bind(cluster_id).push(" AND p.namespace IN (");
        in_list(&mut qb, chunk);
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Upserts the pods by uid (an ended pod that reappears runs again); answers uid → id.
async fn upsert_pods(tx: &mut Tx<'_>, cluster_id: i64, pods: &[crate::k8s::PodRecord], now: DateTime<Utc>) -> Result<HashMap<String, i64>> {
    let mut pod_ids: HashMap<String, i64> = HashMap::new();
    for chunk in pods.chunks(CHUNK / 10) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO pods (cluster_id, uid, namespace, name, node, workload_kind, workload_name, phase, first_seen, last_seen) ",
        );
        qb.push_values(chunk, |mut b, p| {
            b.push_bind(cluster_id)
                .push_bind(&p.uid)
                .push_bind(&p.namespace)
                .push_bind(&p.name)
                .push_bind(&p.node)
                .push_bind(p.workload.as_ref().map(|w| w.0.clone()))
                .push_bind(p.workload.as_ref().map(|w| w.1.clone()))
                .push_bind(&p.phase)
                .push_bind(now)
                .push_bind(now);
        });
        qb.push(
            " ON CONFLICT (cluster_id, uid) DO UPDATE SET namespace = excluded.namespace, name = excluded.name, node = excluded.node,
                 workload_kind = excluded.workload_kind, workload_name = excluded.workload_name, phase = excluded.phase,
                 last_seen = excluded.last_seen, ended_at = NULL
              RETURNING uid, id",
        );
        let rows: Vec<(String, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        pod_ids.extend(rows);
    }
    Ok(pod_ids)
}

/// The pods' labels as listed now (the previous ones deleted).
async fn replace_pod_labels(tx: &mut Tx<'_>, pods: &[crate::k8s::PodRecord], pod_ids: &HashMap<String, i64>) -> Result<()> {
    let ids: Vec<i64> = pod_ids.values().copied().collect();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("DELETE FROM pod_labels WHERE pod_id IN (");
        in_list(&mut qb, chunk);
        qb.build().execute(&mut **tx).await?;
    }
    let labels: Vec<(i64, &String, &String)> = pods
        .iter()
        .filter_map(|p| pod_ids.get(&p.uid).map(|id| (*id, p)))
        .flat_map(|(id, p)| p.labels.iter().map(move |(k, v)| (id, k, v)))
        .collect();
    for chunk in labels.chunks(CHUNK / 3) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO pod_labels (pod_id, key, value) ");
        qb.push_values(chunk, |mut b, (id, k, v)| {
            b.push_bind(*id).push_bind(*k).push_bind(*v);
        });
        qb.push(" ON CONFLICT (pod_id, key) DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Upserts every container of the pods; answers how many there were.
async fn upsert_containers(
    tx: &mut Tx<'_>,
    pods: &[crate::k8s::PodRecord],
    pod_ids: &HashMap<String, i64>,
    now: DateTime<Utc>,
) -> Result<usize> {
    let containers: Vec<(i64, &crate::k8s::ContainerRecord)> = pods
        .iter()
        .filter_map(|p| pod_ids.get(&p.uid).map(|id| (*id, p)))
        .flat_map(|(id, p)| p.containers.iter().map(move |c| (id, c)))
        .collect();
    for chunk in containers.chunks(CHUNK / 14) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO containers (pod_id, kind, name, image, image_id, digest, digest_is_bare, run_as_user, run_as_non_root,
                                     state, reason, first_seen, last_seen) ",
        );
        qb.push_values(chunk, |mut b, (id, c)| {
            b.push_bind(*id)
                .push_bind(c.kind)
                .push_bind(&c.name)
                .push_bind(&c.image)
                .push_bind(&c.image_id)
                .push_bind(&c.digest)
                .push_bind(c.digest_is_bare)
                .push_bind(c.run_as_user)
                .push_bind(c.run_as_non_root)
                .push_bind(c.state)
                .push_bind(&c.reason)
                .push_bind(now)
                .push_bind(now);
        });
        qb.push(
            " ON CONFLICT (pod_id, kind, name) DO UPDATE SET image = excluded.image, image_id = excluded.image_id,
                 digest = excluded.digest, digest_is_bare = excluded.digest_is_bare, run_as_user = excluded.run_as_user,
                 run_as_non_root = excluded.run_as_non_root, state = excluded.state, reason = excluded.reason,
                 last_seen = excluded.last_seen",
        );
        qb.build().execute(&mut **tx).await?;
    }
    Ok(containers.len())
}

/// Every pod the upload covers was stamped `now`: the ones it covers but did not list ended
/// (never deleted). Answers their (namespace, name).
async fn end_unlisted_pods(tx: &mut Tx<'_>, cluster_id: i64, scope: &crate::k8s::Scope, now: DateTime<Utc>) -> Result<Vec<(String, String)>> {
    use crate::k8s::Scope;
    Ok(match scope {
        Scope::Cluster => {
            sqlx::query_as(
                "UPDATE pods SET ended_at = $2 WHERE cluster_id = $1 AND ended_at IS NULL AND last_seen < $2
                 RETURNING namespace, name",
            )
            .bind(cluster_id)
            .bind(now)
            .fetch_all(&mut **tx)
            .await?
        }
        Scope::Node(node) => {
            sqlx::query_as(
                "UPDATE pods SET ended_at = $2 WHERE cluster_id = $1 AND node = $3 AND ended_at IS NULL AND last_seen < $2
                 RETURNING namespace, name",
            )
            .bind(cluster_id)
            .bind(now)
            .bind(node)
            .fetch_all(&mut **tx)
            .await?
        }
        Scope::Pods => vec![],
    })
}

/// Stores a node list (versions, runtime, kernel, architecture) in one transaction.
pub async fn store_nodes(pool: &Pool, cluster: &crate::domain::ClusterName, nodes: &[crate::k8s::NodeRecord], actor: &Actor, now: DateTime<Utc>) -> Result<usize> {
    let mut tx = begin(pool).await?;
    let cluster_id = ensure_cluster(&mut tx, cluster, actor, now).await?;
    for chunk in nodes.chunks(CHUNK / 10) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO nodes (cluster_id, name, kubelet_version, container_runtime, kernel, os_image, architecture,
                                operating_system, first_seen, last_seen) ",
        );
        qb.push_values(chunk, |mut b, n| {
            b.push_bind(cluster_id)
                .push_bind(&n.name)
                .push_bind(&n.kubelet_version)
                .push_bind(&n.container_runtime)
                .push_bind(&n.kernel)
                .push_bind(&n.os_image)
                .push_bind(&n.architecture)
                .push_bind(&n.operating_system)
                .push_bind(now)
                .push_bind(now);
        });
        qb.push(
            " ON CONFLICT (cluster_id, name) DO UPDATE SET kubelet_version = excluded.kubelet_version,
                 container_runtime = excluded.container_runtime, kernel = excluded.kernel, os_image = excluded.os_image,
                 architecture = excluded.architecture, operating_system = excluded.operating_system, last_seen = excluded.last_seen",
        );
        qb.build().execute(&mut *tx).await?;
    }
    refresh_running_workloads(&mut tx, cluster_id, None).await?;
    append_event(
        &mut tx,
        actor,
        "cluster.nodes_recorded",
        &format!("cluster:{cluster}"),
        serde_json::json!({
            "nodes": nodes.iter().map(|n| serde_json::json!({
                "name": n.name, "kubelet": n.kubelet_version, "runtime": n.container_runtime, "kernel": n.kernel,
                "os_image": n.os_image, "architecture": n.architecture,
            })).collect::<Vec<_>>(),
        }),
        now,
    )
    .await?;
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(nodes.len())
}

/// Clusters with their nodes and live counts.
pub async fn clusters(pool: &Pool) -> Result<ClusterRecords> {
    let clusters: Vec<ClusterRecord> = sqlx::query_as(
        "SELECT k.id, k.name, k.server, k.last_success, k.last_upload, k.last_error,
                (SELECT COUNT(*) FROM pods p WHERE p.cluster_id = k.id AND p.ended_at IS NULL) AS pods,
                (SELECT COUNT(*) FROM containers c JOIN pods p ON p.id = c.pod_id WHERE p.cluster_id = k.id AND p.ended_at IS NULL) AS containers,
                k.last_attempt, k.next_attempt
         FROM clusters k ORDER BY k.name",
    )
    .fetch_all(pool)
    .await?;
    let nodes: Vec<NodeVersions> = sqlx::query_as(
        "SELECT cluster_id, name, kubelet_version, container_runtime, kernel, os_image, architecture, last_seen FROM nodes ORDER BY name",
    )
    .fetch_all(pool)
    .await?;
    Ok(ClusterRecords { clusters, nodes })
}

/// Configures a cluster's API server (an upload-only cluster of that name gains it), audited.
pub async fn add_cluster(pool: &Pool, new: &crate::domain::cluster::NewCluster, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    let existing: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, server FROM clusters WHERE name = $1").bind(new.name.as_str()).fetch_optional(&mut *tx).await?;
    match existing {
        Some((_, Some(_))) => return Err(StoreError::invalid("name", format!("a cluster named {:?} is configured already", new.name.as_str()))),
        Some((id, None)) => {
            sqlx::query("UPDATE clusters SET server = $2, token_env = $3, ca_pem = $4, insecure = $5 WHERE id = $1")
                .bind(id)
                .bind(&new.server)
                .bind(&new.token_env)
                .bind(&new.ca_pem)
                .bind(new.insecure)
                .execute(&mut *tx)
                .await?;
        }
        None => {
            sqlx::query("INSERT INTO clusters (name, server, token_env, ca_pem, insecure, created_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7)")
                .bind(new.name.as_str())
                .bind(&new.server)
                .bind(&new.token_env)
                .bind(&new.ca_pem)
                .bind(new.insecure)
                .bind(now)
                .bind(&actor.0)
                .execute(&mut *tx)
                .await?;
        }
    }
    append_event(
        &mut tx,
        actor,
        "cluster.configured",
        &format!("cluster:{}", new.name),
        serde_json::json!({ "name": new.name, "server": new.server, "token_env": new.token_env, "custom_ca": new.ca_pem.is_some() }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Clusters with an API server (the collector's list).
pub async fn collectable_clusters(pool: &Pool) -> Result<Vec<crate::domain::cluster::ClusterRow>> {
    Ok(sqlx::query_as("SELECT id, name, server, token_env, ca_pem IS NOT NULL AS has_ca FROM clusters WHERE server IS NOT NULL ORDER BY name")
        .fetch_all(pool)
        .await?)
}

pub async fn cluster_ca(pool: &Pool, id: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT ca_pem FROM clusters WHERE id = $1").bind(id).fetch_optional(pool).await?.flatten())
}

/// Records a collection's outcome: success clears the error; failure counts and backs off.
pub async fn record_cluster_run(pool: &Pool, id: i64, outcome: std::result::Result<(), String>, now: DateTime<Utc>) -> Result<()> {
    match outcome {
        Ok(()) => {
            sqlx::query(
                "UPDATE clusters SET last_attempt = $2, last_success = $2, last_error = NULL, failures = 0, next_attempt = NULL WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?;
        }
        Err(e) => {
            let failures: i64 = sqlx::query_scalar("SELECT failures FROM clusters WHERE id = $1").bind(id).fetch_one(pool).await?;
            let backoff = super::backoff(failures);
            sqlx::query("UPDATE clusters SET last_attempt = $2, last_error = $3, failures = failures + 1, next_attempt = $4 WHERE id = $1")
                .bind(id)
                .bind(now)
                .bind(e)
                .bind(now + backoff)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

/// Records audit events of `cluster` (each `(auditID, stage)` once), each also a ledger entry, in
/// one transaction. Returns how many were new.
pub async fn record_k8s_audit(pool: &Pool, cluster: &crate::domain::ClusterName, facts: &[crate::k8s::audit::AuditFact], actor: &Actor, now: DateTime<Utc>) -> Result<usize> {
    let mut tx = begin(pool).await?;
    let mut new = 0;
    for f in facts {
        let inserted = sqlx::query(
            "INSERT INTO k8s_audit (cluster, audit_id, stage, verb, username, groups, impersonated, resource, subresource,
                                    namespace, name, images, source_ips, user_agent, code, decision, happened_at, received_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
             ON CONFLICT (cluster, audit_id, stage) DO NOTHING",
        )
        .bind(cluster)
        .bind(&f.audit_id)
        .bind(&f.stage)
        .bind(&f.verb)
        .bind(&f.username)
        .bind(serde_json::to_string(&f.groups).unwrap_or_default())
        .bind(&f.impersonated)
        .bind(&f.resource)
        .bind(&f.subresource)
        .bind(&f.namespace)
        .bind(&f.name)
        .bind(serde_json::to_string(&f.images).unwrap_or_default())
        .bind(serde_json::to_string(&f.source_ips).unwrap_or_default())
        .bind(&f.user_agent)
        .bind(f.code)
        .bind(&f.decision)
        .bind(f.time)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            continue;
        }
        new += 1;
        let object = [f.namespace.as_deref(), f.resource.as_deref(), f.name.as_deref()].iter().flatten().copied().collect::<Vec<_>>().join("/");
        append_event(
            &mut tx,
            actor,
            "k8s.audit",
            &format!("cluster:{cluster}/{object}"),
            serde_json::to_value(f).unwrap_or_default(),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(new)
}
