// The admission webhook's reads and writes (store/admission.rs).

pub async fn admission_settings(pool: &Pool) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT settings FROM admission_settings WHERE id = 1").fetch_optional(pool).await?)
}

pub async fn put_admission_settings(pool: &Pool, settings: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    replace_setting(&mut tx, Setting::Admission, settings, actor, now).await?;
    tx.commit().await?;
    Ok(())
}

/// A table of one row holding a JSON document security edits as a whole.
#[derive(Clone, Copy)]
enum Setting {
    Admission,
    VendorRegister,
}

impl Setting {
    /// (table, column, the ledger entry's kind and subject, what an absent row reads as).
    fn parts(self) -> (&'static str, &'static str, &'static str, &'static str, serde_json::Value) {
        match self {
            Setting::Admission => ("admission_settings", "settings", "admission.settings_changed", "admission", serde_json::Value::Null),
            Setting::VendorRegister => ("vendor_register", "entries", "vendor_images.changed", "vendor-images", serde_json::json!([])),
        }
    }
}

/// Replaces the row of `setting` with `value` and appends a ledger entry holding both the
/// document before and after, in `tx`.
async fn replace_setting(tx: &mut Tx<'_>, setting: Setting, value: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let (table, column, kind, subject, absent) = setting.parts();
    let before: Option<String> =
        sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE id = 1")).fetch_optional(&mut **tx).await?;
    sqlx::query(&format!(
        "INSERT INTO {table} (id, {column}, updated_at, updated_by) VALUES (1, $1, $2, $3)
         ON CONFLICT (id) DO UPDATE SET {column} = excluded.{column}, updated_at = excluded.updated_at, updated_by = excluded.updated_by"
    ))
    .bind(value)
    .bind(now)
    .bind(&actor.0)
    .execute(&mut **tx)
    .await?;
    let parse = |s: Option<&str>| s.and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok()).unwrap_or_else(|| absent.clone());
    let payload = serde_json::json!({ "before": parse(before.as_deref()), "after": parse(Some(value)) });
    append_event(tx, actor, kind, subject, payload, now).await?;
    Ok(())
}

const OPEN_STATES: [ItemState; 4] = [ItemState::Open, ItemState::Acknowledged, ItemState::PendingVerification, ItemState::Excepted];

pub async fn admission_facts(pool: &Pool, digests: &[String], tags: &[(String, String, String)]) -> Result<AdmissionFacts> {
    let mut facts = AdmissionFacts::default();
    // One connection for the four reads: no wait for the pool between them.
    let mut conn = pool.acquire().await?;
    if !digests.is_empty() {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT a.digest AS reference, i.id AS image_id, i.digest FROM image_aliases a JOIN images i ON i.id = a.image_id WHERE a.digest IN (",
        );
        in_list(&mut qb, digests);
        facts.resolved.extend(qb.build_query_as::<ResolvedImage>().fetch_all(&mut *conn).await?);
    }
    if !tags.is_empty() {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT r.registry || '/' || r.name || ':' || t.tag AS reference, i.id AS image_id, i.digest
             FROM tags t JOIN repositories r ON r.id = t.repository_id JOIN images i ON i.id = t.image_id WHERE 1 = 0",
        );
        for (registry, name, tag) in tags {
            qb.push(" OR (r.registry = ").push_bind(registry);
            qb.push(" AND r.name = ").push_bind(name);
            qb.push(" AND t.tag = ").push_bind(tag).push(")");
        }
        facts.resolved.extend(qb.build_query_as::<ResolvedImage>().fetch_all(&mut *conn).await?);
    }
    let mut ids: Vec<i64> = facts.resolved.iter().map(|r| r.image_id).collect();
    if ids.is_empty() {
        return Ok(facts);
    }
    let mut qb = QueryBuilder::<DB>::new("SELECT index_image_id, image_id FROM image_platforms WHERE index_image_id IN (");
    in_list(&mut qb, &ids);
    facts.platforms = qb.build_query_as().fetch_all(&mut *conn).await?;
    ids.extend(facts.platforms.iter().map(|(_, p)| *p));
    ids.sort();
    ids.dedup();
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT it.image_id, it.campaign_id, c.title, c.cves, c.package, it.state, it.deadline, it.planned, it.acknowledged_by,
                it.exception_state, it.exception_until
         FROM campaign_items it JOIN campaigns c ON c.id = it.campaign_id WHERE it.image_id IN (",
    );
    in_list(&mut qb, &ids);
    qb.push(" AND it.state IN (");
    in_list(&mut qb, &OPEN_STATES);
    qb.push(" ORDER BY it.deadline, it.campaign_id");
    facts.items = qb.build_query_as().fetch_all(&mut *conn).await?;
    // The results are sought by subject (digest): joined from images, SQLite's planner would
    // walk every image result (12 ms at 13,500 results, growing with the estate).
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT i.id AS image_id, pr.policy, pr.reason, pr.failing_since FROM policy_results pr JOIN images i ON i.digest = pr.subject
         WHERE pr.subject_kind = 'image' AND pr.passed = ",
    );
    qb.push_bind(false).push(" AND pr.subject IN (SELECT digest FROM images WHERE id IN (");
    in_list(&mut qb, &ids);
    qb.push(") ORDER BY pr.policy");
    facts.failures = qb.build_query_as().fetch_all(&mut *conn).await?;
    Ok(facts)
}

pub async fn record_admission_decisions(
    pool: &Pool,
    counts: &[DecisionCount],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin(pool).await?;
    let rows: Vec<serde_json::Value> = counts
        .iter()
        .map(|c| serde_json::json!({ "namespace": c.namespace, "image": c.image, "decision": c.decision, "count": c.count }))
        .collect();
    let total: i64 = counts.iter().map(|c| c.count).sum();
    let payload = serde_json::json!({ "from": from, "to": to, "decisions": total, "counts": rows });
    append_event(&mut tx, actor, "admission.decisions", "admission", payload, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn vendor_register(pool: &Pool) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT entries FROM vendor_register WHERE id = 1").fetch_optional(pool).await?)
}

pub async fn put_vendor_register(pool: &Pool, entries: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    replace_setting(&mut tx, Setting::VendorRegister, entries, actor, now).await?;
    mark_evaluation_due(&mut tx, now).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn repositories_of(pool: &Pool, ids: &[i64]) -> Result<Vec<(i64, String)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT ir.image_id, r.registry || '/' || r.name FROM image_repositories ir JOIN repositories r ON r.id = ir.repository_id WHERE ir.image_id IN (",
        );
        in_list(&mut qb, chunk);
        out.extend(qb.build_query_as::<(i64, String)>().fetch_all(pool).await?);
    }
    Ok(out)
}
