// Policies: their settings, environment rules, the evaluation's inputs and stored results,
// per-team scores (the daily snapshots are in snapshots.rs).

/// Makes the policy evaluation due now: every writer whose change can alter a result calls this in
/// its own transaction (the database-side queue the evaluation job drains).
pub async fn mark_evaluation_due(tx: &mut Tx<'_>, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("UPDATE jobs SET run_at = $1 WHERE kind = 'policy.evaluate' AND key = '' AND run_at > $1")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

pub async fn policies(pool: &Pool) -> Result<Vec<PolicyRecord>> {
    Ok(sqlx::query_as("SELECT id, enabled, scope, params, updated_at, updated_by FROM policies ORDER BY id").fetch_all(pool).await?)
}

/// Saves policies (each validated by the caller), audited one event per policy with its settings.
pub async fn save_policies(pool: &Pool, list: &[(String, bool, String, serde_json::Value)], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    for (id, enabled, scope, params) in list {
        sqlx::query(
            "INSERT INTO policies (id, enabled, scope, params, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (id) DO UPDATE SET enabled = excluded.enabled, scope = excluded.scope, params = excluded.params,
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
        )
        .bind(id)
        .bind(enabled)
        .bind(scope)
        .bind(params.to_string())
        .bind(now)
        .bind(&actor.0)
        .execute(&mut *tx)
        .await?;
        append_event(
            &mut tx,
            actor,
            "policy.updated",
            &format!("policy:{id}"),
            serde_json::json!({ "id": id, "enabled": enabled, "scope": scope, "params": params }),
            now,
        )
        .await?;
    }
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn environment_rules(pool: &Pool) -> Result<Vec<EnvironmentRule>> {
    Ok(sqlx::query_as(
        "SELECT id, cluster, namespace, environment, production, internet_facing, created_at, created_by FROM environment_rules
         ORDER BY cluster, namespace",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn add_environment_rule(pool: &Pool, r: &EnvironmentRule, actor: &Actor, now: DateTime<Utc>) -> Result<EnvironmentRule> {
    let mut tx = begin(pool).await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO environment_rules (cluster, namespace, environment, production, internet_facing, created_at, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (cluster, namespace) DO NOTHING RETURNING id",
    )
    .bind(&r.cluster)
    .bind(&r.namespace)
    .bind(&r.environment)
    .bind(r.production)
    .bind(r.internet_facing)
    .bind(now)
    .bind(&actor.0)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(id) = id else {
        return Err(StoreError::invalid("namespace", format!("a rule for cluster {:?} and namespace {:?} exists already", r.cluster, r.namespace)));
    };
    append_event(
        &mut tx,
        actor,
        "environment_rule.created",
        &format!("environment_rule:{id}"),
        serde_json::json!({ "id": id, "cluster": r.cluster, "namespace": r.namespace, "environment": r.environment,
                            "production": r.production, "internet_facing": r.internet_facing }),
        now,
    )
    .await?;
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(EnvironmentRule { id, created_at: now, created_by: actor.0.clone(), ..r.clone() })
}

/// What one evaluation reads besides each image's findings and packages (`evaluation_facts`, a
/// chunk of images at a time): every platform image with its facts, live containers, nodes,
/// environment rules. A fixed number of queries per thousand images.
pub async fn evaluation_inputs(pool: &Pool) -> Result<EvaluationInputs> {
    let rows: Vec<(i64, Option<bool>, Option<String>)> =
        sqlx::query_as("SELECT id, eosl, diff_ids FROM images WHERE NOT is_index ORDER BY id").fetch_all(pool).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let mut images = Vec::with_capacity(ids.len());
    for (chunk, facts) in ids.chunks(CHUNK).zip(rows.chunks(CHUNK)) {
        let list = summaries(pool, chunk).await?;
        for ((id, eosl, diff_ids), row) in facts.iter().zip(list) {
            let diff_ids = diff_ids.as_deref().and_then(|d| serde_json::from_str(d).ok()).unwrap_or_default();
            images.push(PolicyImage { id: *id, row, eosl: *eosl, diff_ids });
        }
    }
    let runs = live_container_facts(pool).await?;
    let nodes: Vec<(String, NodeVersions)> = {
        let c = clusters(pool).await?;
        let names: HashMap<i64, String> = c.clusters.iter().map(|k| (k.id, k.name.clone())).collect();
        c.nodes.into_iter().filter_map(|n| names.get(&n.cluster_id).map(|k| (k.clone(), n))).collect()
    };
    let environments = environment_rules(pool).await?;
    Ok(EvaluationInputs { images, runs, nodes, environments })
}

/// The open findings that may be overdue (with `overdue`: first seen before their severity's
/// cutoff) and the wanted packages of the given images (at most a chunk of them: the evaluation
/// holds one chunk's at a time). Findings within their deadline and packages no denylist entry
/// can name are never read.
pub async fn evaluation_facts(pool: &Pool, ids: &[i64], overdue: Option<&OverdueCutoffs>, packages: &PackagesWanted) -> Result<ImageFacts> {
    let mut out = ImageFacts::default();
    for chunk in ids.chunks(CHUNK) {
        if let Some(o) = overdue {
            let mut qb = QueryBuilder::<DB>::new(
                "SELECT f.image_id, f.vulnerability_id AS vulnerability, f.purl_name AS package, f.installed_version AS installed, f.severity,
                        f.fixed_version AS fixed, f.epss, (k.cve_id IS NOT NULL) AS kev, f.first_seen
                 FROM image_vulnerabilities f LEFT JOIN kev k ON k.cve_id = f.vulnerability_id WHERE f.resolved_at IS NULL AND f.image_id IN (",
            );
            in_list(&mut qb, chunk);
            push_may_be_overdue(&mut qb, o);
            if o.only_fixable {
                qb.push(" AND f.fixed_version IS NOT NULL");
            }
            out.vulns.extend(qb.build_query_as::<OpenVulnRecord>().fetch_all(pool).await?);
        }
        if *packages != PackagesWanted::None {
            let mut qb = QueryBuilder::<DB>::new(
                "SELECT ip.image_id, p.pkg_type, p.name, p.version, p.purl, i.os_family
                 FROM image_packages ip JOIN packages p ON p.id = ip.package_id JOIN images i ON i.id = ip.image_id WHERE ip.image_id IN (",
            );
            in_list(&mut qb, chunk);
            if let PackagesWanted::Matching(patterns) = packages {
                // The distinct packages are matched once per statement, not once per image.
                qb.push(" AND ip.package_id IN (SELECT id FROM packages WHERE purl LIKE '%!%%' ESCAPE '!'");
                for pattern in patterns {
                    qb.push(" OR lower(name) LIKE ").push_bind(pattern).push(" OR lower(purl) LIKE ").push_bind(pattern);
                }
                qb.push(")");
            }
            out.packages.extend(qb.build_query_as::<PackageFact>().fetch_all(pool).await?);
        }
    }
    Ok(out)
}

/// ` AND (…)`: a finding of a severity with a deadline, first seen before its severity's cutoff,
/// or before the KEV or EPSS cutoff when those apply to it.
fn push_may_be_overdue<'a>(qb: &mut QueryBuilder<'a, DB>, o: &'a OverdueCutoffs) {
    let latest = o.before.iter().map(|(_, t)| *t).chain(o.kev_before).chain(o.epss_before.map(|(_, t)| t)).max();
    let Some(latest) = latest.filter(|_| !o.before.is_empty()) else {
        qb.push(" AND 1 = 0");
        return;
    };
    // Implied by what follows; the index holds it, so most findings are passed over there.
    qb.push(" AND f.first_seen < ").push_bind(latest);
    qb.push(" AND (1 = 0");
    for (severity, before) in &o.before {
        qb.push(" OR (f.severity = ").push_bind(severity.as_str()).push(" AND f.first_seen < ").push_bind(*before).push(")");
    }
    if o.kev_before.is_some() || o.epss_before.is_some() {
        qb.push(" OR (f.severity IN (");
        let mut sep = qb.separated(", ");
        for (severity, _) in &o.before {
            sep.push_bind(severity.as_str());
        }
        qb.push(") AND (1 = 0");
        if let Some(before) = o.kev_before {
            qb.push(" OR (k.cve_id IS NOT NULL AND f.first_seen < ").push_bind(before).push(")");
        }
        if let Some((threshold, before)) = o.epss_before {
            qb.push(" OR (f.epss >= ").push_bind(threshold).push(" AND f.first_seen < ").push_bind(before).push(")");
        }
        qb.push("))");
    }
    qb.push(")");
}

/// Stores an evaluation made at `now` in one transaction: the results whose stored copy differs
/// (or is missing) written, the results no longer judged deleted, the others left as they are
/// (an evaluation usually changes a few hundred of hundreds of thousands); the scores replaced.
/// A failing result that does not say since when keeps the stored start of its failure, else
/// fails since `now`. Answers how many results were written and deleted.
pub async fn replace_policy_results(
    pool: &Pool,
    results: &[PolicyResultRecord],
    scores: &[PolicyScoreRecord],
    now: DateTime<Utc>,
) -> Result<(u64, u64)> {
    let mut tx = begin(pool).await?;
    let (changed, gone) = result_changes(&mut tx, results, now).await?;
    for chunk in gone.chunks(CHUNK / 3) {
        let mut qb = QueryBuilder::<DB>::new("DELETE FROM policy_results WHERE (policy, subject_kind, subject) IN (");
        qb.push_values(chunk, |mut b, (p, k, s)| {
            b.push_bind(p).push_bind(k).push_bind(s);
        });
        qb.push(")");
        qb.build().execute(&mut *tx).await?;
    }
    for chunk in changed.chunks(CHUNK / 8) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO policy_results (policy, subject_kind, subject, team, environment, passed, reason, failing_since) ",
        );
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(&r.policy)
                .push_bind(&r.subject_kind)
                .push_bind(&r.subject)
                .push_bind(&r.team)
                .push_bind(&r.environment)
                .push_bind(r.passed)
                .push_bind(&r.reason)
                .push_bind(r.failing_since);
        });
        qb.push(
            " ON CONFLICT (policy, subject_kind, subject) DO UPDATE SET team = excluded.team, environment = excluded.environment,
                 passed = excluded.passed, reason = excluded.reason, failing_since = excluded.failing_since",
        );
        qb.build().execute(&mut *tx).await?;
    }
    sqlx::query("DELETE FROM policy_scores").execute(&mut *tx).await?;
    for chunk in scores.chunks(CHUNK / 5) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO policy_scores (team, policy, subjects, failing, evaluated_at) ");
        qb.push_values(chunk, |mut b, s| {
            b.push_bind(&s.team).push_bind(&s.policy).push_bind(s.subjects).push_bind(s.failing).push_bind(s.evaluated_at);
        });
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok((changed.len() as u64, gone.len() as u64))
}

type ResultKey = (String, String, String);

/// The results, as they are to be stored, that differ from (or are missing in) the stored ones,
/// and the stored keys no longer among them: one pass over the stored rows, compared as they
/// stream in (which also tells since when a result failing before has been failing).
async fn result_changes(tx: &mut Tx<'_>, results: &[PolicyResultRecord], now: DateTime<Utc>) -> Result<(Vec<PolicyResultRecord>, Vec<ResultKey>)> {
    use futures_util::TryStreamExt;
    let index: HashMap<(&str, &str, &str), usize> =
        results.iter().enumerate().map(|(i, r)| ((r.policy.as_str(), r.subject_kind.as_str(), r.subject.as_str()), i)).collect();
    let mut since: Vec<Option<DateTime<Utc>>> = results.iter().map(|r| (!r.passed).then(|| r.failing_since.unwrap_or(now))).collect();
    let mut same = vec![false; results.len()];
    let mut gone = Vec::new();
    let mut rows = sqlx::query_as::<_, PolicyResultRecord>(
        "SELECT policy, subject_kind, subject, team, environment, passed, reason, failing_since FROM policy_results",
    )
    .fetch(&mut **tx);
    while let Some(old) = rows.try_next().await? {
        let found = index.get(&(old.policy.as_str(), old.subject_kind.as_str(), old.subject.as_str())).copied();
        match found {
            Some(i) => {
                let new = &results[i];
                if !new.passed && new.failing_since.is_none() && !old.passed {
                    since[i] = old.failing_since.or(since[i]);
                }
                same[i] = same_result(new, since[i], &old);
            }
            None => gone.push((old.policy, old.subject_kind, old.subject)),
        }
    }
    let changed = results
        .iter()
        .zip(since)
        .zip(same)
        .filter(|(_, same)| !same)
        .map(|((r, failing_since), _)| PolicyResultRecord { failing_since, ..r.clone() })
        .collect();
    Ok((changed, gone))
}

/// Equal as stored (failing since `since`): times compared to the microsecond (PostgreSQL's precision).
fn same_result(new: &PolicyResultRecord, since: Option<DateTime<Utc>>, old: &PolicyResultRecord) -> bool {
    let micros = |t: Option<DateTime<Utc>>| t.map(|t| t.timestamp_micros());
    new.team == old.team
        && new.environment == old.environment
        && new.passed == old.passed
        && new.reason == old.reason
        && micros(since) == micros(old.failing_since)
}

pub async fn policy_scores(pool: &Pool) -> Result<Vec<PolicyScoreRecord>> {
    Ok(sqlx::query_as("SELECT team, policy, subjects, failing, evaluated_at FROM policy_scores ORDER BY team, policy").fetch_all(pool).await?)
}

/// One policy's results (only the failing with `failing`; of `teams` and subjects of no team when
/// given), failing first, the longest failing first, and how many.
pub async fn policy_results_page(
    pool: &Pool,
    policy: &str,
    failing: bool,
    teams: Option<&[String]>,
    limit: i64,
    offset: i64,
) -> Result<app::types::Page<PolicyResultRecord>> {
    let filter = |qb: &mut QueryBuilder<'_, DB>| {
        qb.push(" WHERE policy = ").push_bind(policy.to_string());
        if failing {
            qb.push(" AND NOT passed");
        }
        if let Some(teams) = teams {
            qb.push(" AND (team IS NULL");
            if !teams.is_empty() {
                qb.push(" OR team IN (");
                let mut sep = qb.separated(", ");
                for t in teams {
                    sep.push_bind(t.clone());
                }
                qb.push(")");
            }
            qb.push(")");
        }
    };
    let mut qb = QueryBuilder::<DB>::new("SELECT policy, subject_kind, subject, team, environment, passed, reason, failing_since FROM policy_results");
    filter(&mut qb);
    qb.push(" ORDER BY passed, failing_since, subject_kind, subject LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    let items = qb.build_query_as().fetch_all(pool).await?;
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM policy_results");
    filter(&mut qb);
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    Ok(app::types::Page { items, total })
}

/// Failing results of a team ('' for none) and, when given, one policy; worst (oldest) first.
pub async fn failing_results(pool: &Pool, team: &str, policy: Option<&str>, limit: i64, offset: i64) -> Result<Vec<PolicyResultRecord>> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT policy, subject_kind, subject, team, environment, passed, reason, failing_since FROM policy_results WHERE NOT passed AND ",
    );
    // Both forms use the (team, policy, passed) index; '' is the subjects of no team.
    if team.is_empty() {
        qb.push("team IS NULL");
    } else {
        qb.push("team = ").push_bind(team);
    }
    if let Some(p) = policy {
        qb.push(" AND policy = ").push_bind(p);
    }
    qb.push(" ORDER BY failing_since, policy, subject LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}
