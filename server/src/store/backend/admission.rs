// The admission webhook's reads and writes (store/admission.rs).

pub async fn admission_settings(pool: &Pool) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT settings FROM admission_settings WHERE id = 1").fetch_optional(pool).await?)
}

pub async fn put_admission_settings(pool: &Pool, settings: &str, seen: Option<&str>, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    replace_setting(&mut tx, Setting::Admission, settings, seen, actor, now).await?;
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
/// document before and after, in `tx`. With `seen` (the `document_version` the editor was
/// shown), a document changed since is refused (409) and nothing is written: `tx` began by
/// moving the data version, so writers take turns and the read is current.
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
    if seen.is_some_and(|seen| super::document_version(before.as_deref()) != seen) {
        return Err(StoreError::Refused(app::error::Error::Conflict(
            "someone changed it since you loaded it: load it again (the page, or a GET for its ETag) and redo your change".into(),
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

/// One row of the facts statement: a reference resolved (with one of its platform images when
/// it is an index), an open campaign item or a failing image policy, told apart by `part`.
#[derive(sqlx::FromRow)]
struct FactRow {
    part: String,
    image_id: i64,
    reference: Option<String>,
    digest: Option<String>,
    platform: Option<i64>,
    campaign_id: Option<i64>,
    title: Option<String>,
    cves: Option<String>,
    package: Option<String>,
    state: Option<ItemState>,
    deadline: Option<chrono::NaiveDate>,
    planned: Option<chrono::NaiveDate>,
    acknowledged_by: Option<String>,
    exception_state: Option<String>,
    exception_until: Option<chrono::NaiveDate>,
    policy: Option<String>,
    reason: Option<String>,
    failing_since: Option<DateTime<Utc>>,
}

/// One round trip whatever the Pod: one statement resolves every reference (digests and tags)
/// with each index's platforms, and reads the open campaign items and the failing image results
/// of those images (under ingest, each further round trip is another wait for a core). The
/// first branch's typed NULL lets PostgreSQL match the branches' column types.
pub async fn admission_facts(pool: &Pool, digests: &[String], tags: &[(String, String, String)]) -> Result<AdmissionFacts> {
    if digests.is_empty() && tags.is_empty() {
        return Ok(AdmissionFacts::default());
    }
    let mut qb = QueryBuilder::<DB>::new(
        "WITH x AS (
           SELECT a.digest AS reference, i.id AS image_id, i.digest FROM image_aliases a JOIN images i ON i.id = a.image_id WHERE ",
    );
    if digests.is_empty() {
        qb.push("1 = 0");
    } else {
        qb.push("a.digest IN (");
        in_list(&mut qb, digests);
    }
    // One branch a tag, each sought through the repository's and the tag's unique indexes (an OR
    // of the tags in one branch has SQLite scan every tag).
    for (registry, name, tag) in tags {
        qb.push(
            " UNION ALL SELECT r.registry || '/' || r.name || ':' || t.tag, i.id, i.digest
              FROM repositories r JOIN tags t ON t.repository_id = r.id JOIN images i ON i.id = t.image_id WHERE r.registry = ",
        );
        qb.push_bind(registry).push(" AND r.name = ").push_bind(name).push(" AND t.tag = ").push_bind(tag);
    }
    // The results are sought by subject (digest): joined from images, SQLite's planner would walk
    // every image result (12 ms at 13,500 results, growing with the estate).
    qb.push(
        "), ids AS (SELECT image_id AS id FROM x UNION SELECT p.image_id FROM x JOIN image_platforms p ON p.index_image_id = x.image_id)
         SELECT 'ref' AS part, x.image_id, x.reference, x.digest, p.image_id AS platform, NULL AS campaign_id, NULL AS title,
                NULL AS cves, NULL AS package, NULL AS state, NULL AS deadline, NULL AS planned, NULL AS acknowledged_by,
                NULL AS exception_state, NULL AS exception_until, NULL AS policy, NULL AS reason,
                CAST(NULL AS TIMESTAMPTZ) AS failing_since
         FROM x LEFT JOIN image_platforms p ON p.index_image_id = x.image_id
         UNION ALL
         SELECT 'item', it.image_id, NULL, NULL, NULL, it.campaign_id, c.title, c.cves, c.package, it.state, it.deadline, it.planned,
                it.acknowledged_by, it.exception_state, it.exception_until, NULL, NULL, NULL
         FROM campaign_items it JOIN campaigns c ON c.id = it.campaign_id WHERE it.image_id IN (SELECT id FROM ids) AND it.state IN (",
    );
    in_list(&mut qb, &OPEN_STATES);
    qb.push(
        " UNION ALL
         SELECT 'failure', i.id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, pr.policy, pr.reason, pr.failing_since
         FROM policy_results pr JOIN images i ON i.digest = pr.subject
         WHERE pr.subject_kind = 'image' AND pr.passed = ",
    );
    qb.push_bind(false).push(" AND pr.subject IN (SELECT digest FROM images WHERE id IN (SELECT id FROM ids))");
    let rows: Vec<FactRow> = qb.build_query_as().fetch_all(pool).await?;
    Ok(facts_of(rows))
}

/// The facts of the statement's rows: references once each, platforms, items by deadline then
/// campaign, failures by policy.
fn facts_of(rows: Vec<FactRow>) -> AdmissionFacts {
    let mut facts = AdmissionFacts::default();
    for r in rows {
        match (r.part.as_str(), r.state, r.deadline, r.policy) {
            ("item", Some(state), Some(deadline), _) => facts.items.push(crate::store::AdmissionItem {
                image_id: r.image_id,
                campaign_id: r.campaign_id.unwrap_or_default(),
                title: r.title.unwrap_or_default(),
                cves: r.cves.unwrap_or_default(),
                package: r.package,
                state,
                deadline,
                planned: r.planned,
                acknowledged_by: r.acknowledged_by,
                exception_state: r.exception_state,
                exception_until: r.exception_until,
            }),
            ("failure", _, _, Some(policy)) => facts.failures.push(crate::store::AdmissionFailure {
                image_id: r.image_id,
                policy,
                reason: r.reason.unwrap_or_default(),
                failing_since: r.failing_since,
            }),
            _ => {
                if let Some(platform) = r.platform {
                    facts.platforms.push((r.image_id, platform));
                }
                let resolved =
                    ResolvedImage { reference: r.reference.unwrap_or_default(), image_id: r.image_id, digest: r.digest.unwrap_or_default() };
                if !facts.resolved.contains(&resolved) {
                    facts.resolved.push(resolved);
                }
            }
        }
    }
    facts.platforms.sort();
    facts.platforms.dedup();
    facts.items.sort_by_key(|it| (it.deadline, it.campaign_id));
    facts.failures.sort_by(|a, b| a.policy.cmp(&b.policy));
    facts
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
