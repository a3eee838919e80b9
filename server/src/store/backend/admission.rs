// The admission webhook's reads and writes (store/admission.rs).

pub async fn admission_settings(pool: &Pool) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT settings FROM admission_settings WHERE id = 1").fetch_optional(pool).await?)
}

pub async fn put_admission_settings(pool: &Pool, settings: &str, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    replace_setting(&mut tx, Setting::Admission, settings, None, actor, now).await?;
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
/// document before and after, in `tx`. With `seen` (the SHA-256 of the document the editor was
/// shown; an absent row reads as `[]`), a document changed since is refused (409) and nothing is
/// written: `tx` began by moving the data version, so writers take turns and the read is current.
async fn replace_setting(
    tx: &mut Tx<'_>,
    setting: Setting,
    value: &str,
    seen: Option<&str>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let (table, column, kind, subject, absent) = setting.parts();
    let before: Option<String> =
        sqlx::query_scalar(&format!("SELECT {column} FROM {table} WHERE id = 1")).fetch_optional(&mut **tx).await?;
    if seen.is_some_and(|seen| super::sha256_hex(before.as_deref().unwrap_or("[]").as_bytes()) != seen) {
        return Err(StoreError::Refused(app::error::Error::Conflict(
            "someone changed it since you loaded the page: load the page again and redo your change".into(),
        )));
    }
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

/// A reference resolved, with one of its platform images when it is an index.
#[derive(sqlx::FromRow)]
struct ResolvedRow {
    reference: String,
    image_id: i64,
    digest: String,
    platform: Option<i64>,
}

/// Three round trips whatever the Pod: one statement resolves every reference (digests and tags)
/// with each index's platforms, then the items and the failing results are read at once on two
/// connections (the request waits for the slower, not the sum).
pub async fn admission_facts(pool: &Pool, digests: &[String], tags: &[(String, String, String)]) -> Result<AdmissionFacts> {
    let mut facts = AdmissionFacts::default();
    if digests.is_empty() && tags.is_empty() {
        return Ok(facts);
    }
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT x.reference, x.image_id, x.digest, p.image_id AS platform FROM (
           SELECT a.digest AS reference, i.id AS image_id, i.digest FROM image_aliases a JOIN images i ON i.id = a.image_id WHERE ",
    );
    if digests.is_empty() {
        qb.push("1 = 0");
    } else {
        qb.push("a.digest IN (");
        in_list(&mut qb, digests);
    }
    qb.push(
        " UNION ALL SELECT r.registry || '/' || r.name || ':' || t.tag, i.id, i.digest
          FROM tags t JOIN repositories r ON r.id = t.repository_id JOIN images i ON i.id = t.image_id WHERE 1 = 0",
    );
    for (registry, name, tag) in tags {
        qb.push(" OR (r.registry = ").push_bind(registry);
        qb.push(" AND r.name = ").push_bind(name);
        qb.push(" AND t.tag = ").push_bind(tag).push(")");
    }
    qb.push(") x LEFT JOIN image_platforms p ON p.index_image_id = x.image_id");
    let rows: Vec<ResolvedRow> = qb.build_query_as().fetch_all(pool).await?;
    let mut ids = Vec::with_capacity(rows.len() * 2);
    for r in rows {
        ids.push(r.image_id);
        if let Some(platform) = r.platform {
            ids.push(platform);
            facts.platforms.push((r.image_id, platform));
        }
        let resolved = ResolvedImage { reference: r.reference, image_id: r.image_id, digest: r.digest };
        if !facts.resolved.contains(&resolved) {
            facts.resolved.push(resolved);
        }
    }
    facts.platforms.sort();
    facts.platforms.dedup();
    ids.sort();
    ids.dedup();
    if ids.is_empty() {
        return Ok(facts);
    }
    (facts.items, facts.failures) = tokio::try_join!(open_items(pool, &ids), failing_image_results(pool, &ids))?;
    Ok(facts)
}

/// The campaign items not closed on the images `ids`.
async fn open_items(pool: &Pool, ids: &[i64]) -> Result<Vec<crate::store::AdmissionItem>> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT it.image_id, it.campaign_id, c.title, c.cves, c.package, it.state, it.deadline, it.planned, it.acknowledged_by,
                it.exception_state, it.exception_until
         FROM campaign_items it JOIN campaigns c ON c.id = it.campaign_id WHERE it.image_id IN (",
    );
    in_list(&mut qb, ids);
    qb.push(" AND it.state IN (");
    in_list(&mut qb, &OPEN_STATES);
    qb.push(" ORDER BY it.deadline, it.campaign_id");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// The image policies the images `ids` fail.
async fn failing_image_results(pool: &Pool, ids: &[i64]) -> Result<Vec<crate::store::AdmissionFailure>> {
    // The results are sought by subject (digest): joined from images, SQLite's planner would
    // walk every image result (12 ms at 13,500 results, growing with the estate).
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT i.id AS image_id, pr.policy, pr.reason, pr.failing_since FROM policy_results pr JOIN images i ON i.digest = pr.subject
         WHERE pr.subject_kind = 'image' AND pr.passed = ",
    );
    qb.push_bind(false).push(" AND pr.subject IN (SELECT digest FROM images WHERE id IN (");
    in_list(&mut qb, ids);
    qb.push(") ORDER BY pr.policy");
    Ok(qb.build_query_as().fetch_all(pool).await?)
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

pub async fn put_vendor_register(pool: &Pool, entries: &str, seen: Option<&str>, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    replace_setting(&mut tx, Setting::VendorRegister, entries, seen, actor, now).await?;
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
