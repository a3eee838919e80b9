// Evidence bundles' ledger reads and the export's entry (store/bundle.rs).

const ENTRY_SELECT: &str = "SELECT ledger_index, entry, leaf_hash, time, actor, kind, subject, payload FROM audit_events";

pub async fn ledger_entries_of_kinds(pool: &Pool, kinds: &[&str], before: DateTime<Utc>) -> Result<Vec<super::StoredEntry>> {
    if kinds.is_empty() {
        return Ok(vec![]);
    }
    let mut qb = QueryBuilder::<DB>::new(ENTRY_SELECT);
    qb.push(" WHERE ledger_index IS NOT NULL AND kind IN (");
    in_list(&mut qb, kinds);
    qb.push(" AND time < ").push_bind(before).push(" ORDER BY ledger_index");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

pub async fn ledger_entries_at(pool: &Pool, indexes: &[u64]) -> Result<Vec<(u64, String)>> {
    let ids: Vec<i64> = indexes.iter().map(|i| *i as i64).collect();
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT ledger_index, entry FROM audit_events WHERE entry IS NOT NULL AND ledger_index IN (");
        in_list(&mut qb, chunk);
        qb.push(" ORDER BY ledger_index");
        out.extend(qb.build_query_as::<(i64, String)>().fetch_all(pool).await?.into_iter().map(|(i, e)| (i as u64, e)));
    }
    Ok(out)
}

pub async fn ledger_entries_of_subject(pool: &Pool, subject: &str) -> Result<Vec<super::StoredEntry>> {
    Ok(sqlx::query_as(&format!("{ENTRY_SELECT} WHERE ledger_index IS NOT NULL AND subject = $1 ORDER BY ledger_index"))
        .bind(subject)
        .fetch_all(pool)
        .await?)
}

pub async fn latest_entries_of_kind(pool: &Pool, kind: &str, limit: i64) -> Result<Vec<super::StoredEntry>> {
    Ok(sqlx::query_as(&format!("{ENTRY_SELECT} WHERE kind = $1 ORDER BY time DESC, id DESC LIMIT $2"))
        .bind(kind)
        .bind(limit)
        .fetch_all(pool)
        .await?)
}

pub async fn snapshot_content_days(pool: &Pool, limit: i64) -> Result<Vec<chrono::NaiveDate>> {
    Ok(sqlx::query_scalar("SELECT day FROM scorecard_documents ORDER BY day DESC LIMIT $1").bind(limit).fetch_all(pool).await?)
}

pub async fn record_evidence_export(pool: &Pool, payload: serde_json::Value, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin_quiet(pool).await?;
    let at = payload["at"].as_str().unwrap_or_default().to_string();
    append_event(&mut tx, actor, "evidence.exported", &format!("evidence:{at}"), payload, now).await?;
    tx.commit().await?;
    Ok(())
}
