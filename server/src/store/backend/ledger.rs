// The ledger's reads, its one-time carry-over of older events, and checkpoints.

/// Gives every audit event written before the ledger existed its place in the log, in id order
/// (one transaction; nothing to do once done).
pub async fn ledger_backfill(pool: &Pool) -> Result<u64> {
    let mut tx = begin(pool).await?;
    let rows: Vec<(i64, DateTime<Utc>, String, String, String, String)> = sqlx::query_as(
        "SELECT id, time, actor, kind, subject, payload FROM audit_events WHERE ledger_index IS NULL ORDER BY id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let n = rows.len() as i64;
    if n == 0 {
        return Ok(0);
    }
    let start: i64 = sqlx::query_scalar("UPDATE ledger_head SET size = size + $1 WHERE id = 1 RETURNING size - $1")
        .bind(n)
        .fetch_one(&mut *tx)
        .await?;
    for (i, (id, time, actor, kind, subject, payload)) in rows.into_iter().enumerate() {
        let index = start + i as i64;
        let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload));
        let entry = crate::ledger::entry_bytes(index, &crate::ledger::entry_time(&time), &actor, &kind, &subject, &payload);
        let leaf = hex::encode(crate::ledger::merkle::leaf_hash(entry.as_bytes()));
        sqlx::query("UPDATE audit_events SET ledger_index = $2, entry = $3, leaf_hash = $4 WHERE id = $1")
            .bind(id)
            .bind(index)
            .bind(&entry)
            .bind(&leaf)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(n as u64)
}

pub async fn ledger_size(pool: &Pool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT size FROM ledger_head WHERE id = 1").fetch_one(pool).await?)
}

/// The leaf hashes of entries `0..size`, in order.
pub async fn ledger_leaves(pool: &Pool, size: i64) -> Result<Vec<[u8; 32]>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT leaf_hash FROM audit_events WHERE ledger_index < $1 ORDER BY ledger_index")
        .bind(size)
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|h| {
            hex::decode(h)
                .ok()
                .and_then(|b| <[u8; 32]>::try_from(b).ok())
                .ok_or_else(|| StoreError::Invalid(format!("a stored leaf hash is not 32 bytes of hex: {h:?}")))
        })
        .collect()
}

/// Stored entries with index in `start..end`: (index, entry bytes, leaf hash hex, and the
/// columns the entry was made from: time, actor, kind, subject, payload).
pub async fn ledger_rows(pool: &Pool, start: i64, end: i64) -> Result<Vec<crate::ledger::StoredEntry>> {
    let rows: Vec<(Option<i64>, Option<String>, Option<String>, DateTime<Utc>, String, String, String, String)> = sqlx::query_as(
        "SELECT ledger_index, entry, leaf_hash, time, actor, kind, subject, payload FROM audit_events
         WHERE ledger_index IS NULL OR (ledger_index >= $1 AND ledger_index < $2) ORDER BY ledger_index, id",
    )
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(index, entry, leaf_hash, time, actor, kind, subject, payload)| crate::ledger::StoredEntry {
            index,
            entry,
            leaf_hash,
            time,
            actor,
            kind,
            subject,
            payload,
        })
        .collect())
}

/// Every stored checkpoint, smallest first: (size, note).
pub async fn ledger_checkpoints(pool: &Pool) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as("SELECT size, note FROM ledger_checkpoints ORDER BY size").fetch_all(pool).await?)
}

/// Keeps a signed checkpoint (the first one of a size stays).
pub async fn store_checkpoint(pool: &Pool, size: i64, root_hex: &str, note: &str, now: DateTime<Utc>) -> Result<()> {
    sqlx::query("INSERT INTO ledger_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (size) DO NOTHING")
        .bind(size)
        .bind(root_hex)
        .bind(note)
        .bind(now)
        .execute(pool)
        .await?;
    Ok(())
}
