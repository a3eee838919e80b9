// The ledger's reads, its one-time carry-over of older events, and checkpoints.

/// Gives every audit event written before the ledger existed its place in the log, in id order
/// (one transaction; nothing to do once done).
pub async fn ledger_backfill(pool: &Pool) -> Result<u64> {
    let mut tx = begin_quiet(pool).await?;
    let rows: Vec<EventRow> = sqlx::query_as(
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
    for (i, EventRow { id, time, actor, kind, subject, payload }) in rows.into_iter().enumerate() {
        let index = start + i as i64;
        let payload: serde_json::Value = serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload));
        let entry = crate::domain::entry::entry_bytes(index, &crate::domain::entry::entry_time(&time), &actor, &kind, &subject, &payload);
        let leaf = hex::encode(crate::domain::merkle::leaf_hash(entry.as_bytes()));
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

/// Builds the stored subtree hashes and the mention index of a ledger written before they existed
/// (once: a ledger that has them is left alone). O(n), at open only.
pub async fn ledger_index_backfill(pool: &Pool) -> Result<u64> {
    let size = ledger_size(pool).await?;
    let have_nodes: Option<i64> = sqlx::query_scalar("SELECT level FROM ledger_nodes LIMIT 1").fetch_optional(pool).await?;
    let have_mentions: Option<i64> = sqlx::query_scalar("SELECT ledger_index FROM audit_mentions LIMIT 1").fetch_optional(pool).await?;
    if size < 2 || have_nodes.is_some() || have_mentions.is_some() {
        return Ok(0);
    }
    let mut tx = begin_quiet(pool).await?;
    let rows: Vec<(i64, String, String, String)> =
        sqlx::query_as("SELECT ledger_index, leaf_hash, subject, payload FROM audit_events WHERE ledger_index IS NOT NULL ORDER BY ledger_index")
            .fetch_all(&mut *tx)
            .await?;
    let mut level: Vec<crate::domain::merkle::Hash> = Vec::with_capacity(rows.len());
    for (index, leaf, subject, payload) in &rows {
        let h = hex::decode(leaf).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
        let Some(h) = h else { return Err(StoreError::invalid_input(format!("entry {index}: the stored leaf hash is not 32 bytes of hex"))) };
        level.push(h);
        let payload: serde_json::Value = serde_json::from_str(payload).unwrap_or(serde_json::Value::Null);
        insert_mentions(&mut tx, *index, subject, &payload).await?;
    }
    let mut n_level = 0i64;
    let mut written = 0u64;
    while level.len() > 1 {
        n_level += 1;
        let next: Vec<crate::domain::merkle::Hash> =
            level.chunks(2).filter(|p| p.len() == 2).map(|p| crate::domain::merkle::node_hash(&p[0], &p[1])).collect();
        for (i, chunk) in next.chunks(CHUNK).enumerate() {
            let mut qb = QueryBuilder::<DB>::new("INSERT INTO ledger_nodes (level, idx, hash) ");
            qb.push_values(chunk.iter().enumerate(), |mut b, (j, h)| {
                b.push_bind(n_level).push_bind((i * CHUNK + j) as i64).push_bind(hex::encode(h));
            });
            qb.push(" ON CONFLICT (level, idx) DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }
        written += next.len() as u64;
        level = next;
    }
    tx.commit().await?;
    Ok(written)
}

/// The stored nodes asked for (level 0: leaf hashes), in one statement whatever the ledger's size.
pub async fn ledger_nodes(pool: &Pool, keys: &std::collections::BTreeSet<(u32, u64)>) -> Result<HashMap<(u32, u64), [u8; 32]>> {
    let decode = |h: &str| hex::decode(h).ok().and_then(|b| <[u8; 32]>::try_from(b).ok());
    let leaves: Vec<i64> = keys.iter().filter(|(l, _)| *l == 0).map(|(_, i)| *i as i64).collect();
    let inner: Vec<(i64, i64)> = keys.iter().filter(|(l, _)| *l > 0).map(|(l, i)| (i64::from(*l), *i as i64)).collect();
    if leaves.is_empty() && inner.is_empty() {
        return Ok(HashMap::new());
    }
    // One statement for both (a proof is one round trip): the leaves are the entries' own hashes.
    let mut qb = QueryBuilder::<DB>::new("");
    if !leaves.is_empty() {
        qb.push("SELECT CAST(0 AS BIGINT), ledger_index, leaf_hash FROM audit_events WHERE ledger_index IN (");
        in_list(&mut qb, &leaves);
    }
    if !inner.is_empty() {
        if !leaves.is_empty() {
            qb.push(" UNION ALL ");
        }
        qb.push("SELECT level, idx, hash FROM ledger_nodes WHERE ");
        for (n, (l, i)) in inner.iter().enumerate() {
            if n > 0 {
                qb.push(" OR ");
            }
            qb.push("(level = ").push_bind(*l).push(" AND idx = ").push_bind(*i).push(")");
        }
    }
    let rows: Vec<(i64, i64, String)> = qb.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().filter_map(|(l, i, h)| Some(((l as u32, i as u64), decode(&h)?))).collect())
}

/// Keeps the scheduled verification's result (one row: the latest).
pub async fn record_verification(pool: &Pool, size: i64, root: &str, checkpoints_checked: i64, problem: Option<&str>, now: DateTime<Utc>) -> Result<()> {
    sqlx::query(
        "INSERT INTO ledger_verification (id, ran_at, size, root, checkpoints_checked, problem) VALUES (1, $1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET ran_at = excluded.ran_at, size = excluded.size, root = excluded.root,
                                        checkpoints_checked = excluded.checkpoints_checked, problem = excluded.problem",
    )
    .bind(now)
    .bind(size)
    .bind(root)
    .bind(checkpoints_checked)
    .bind(problem)
    .execute(pool)
    .await?;
    Ok(())
}

/// The last scheduled verification.
pub async fn last_verification(pool: &Pool) -> Result<Option<super::LastVerification>> {
    Ok(sqlx::query_as("SELECT ran_at, size, root, checkpoints_checked, problem FROM ledger_verification WHERE id = 1")
        .fetch_optional(pool)
        .await?)
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
                .ok_or_else(|| StoreError::invalid_input(format!("a stored leaf hash is not 32 bytes of hex: {h:?}")))
        })
        .collect()
}

/// Stored entries with index in `start..end`: (index, entry bytes, leaf hash hex, and the
/// columns the entry was made from: time, actor, kind, subject, payload).
pub async fn ledger_rows(pool: &Pool, start: i64, end: i64) -> Result<Vec<super::StoredEntry>> {
    Ok(sqlx::query_as(
        "SELECT ledger_index, entry, leaf_hash, time, actor, kind, subject, payload FROM audit_events
         WHERE ledger_index IS NULL OR (ledger_index >= $1 AND ledger_index < $2) ORDER BY ledger_index, id",
    )
    .bind(start)
    .bind(end)
    .fetch_all(pool)
    .await?)
}

/// The log's size, every stored entry and every checkpoint, read in one snapshot: entries other
/// writers append meanwhile are not seen, so the size and the entries always agree unless the
/// store itself was changed.
pub async fn ledger_snapshot(pool: &Pool) -> Result<LedgerSnapshot> {
    let mut tx = pool.begin().await?;
    if let Some(set) = READ_SNAPSHOT {
        sqlx::query(set).execute(&mut *tx).await?;
    }
    let size: i64 = sqlx::query_scalar("SELECT size FROM ledger_head WHERE id = 1").fetch_one(&mut *tx).await?;
    let entries = sqlx::query_as(
        "SELECT ledger_index, entry, leaf_hash, time, actor, kind, subject, payload FROM audit_events ORDER BY ledger_index, id",
    )
    .fetch_all(&mut *tx)
    .await?;
    let checkpoints = sqlx::query_as("SELECT size, note FROM ledger_checkpoints ORDER BY size").fetch_all(&mut *tx).await?;
    tx.rollback().await?;
    Ok(LedgerSnapshot { size, entries, checkpoints })
}

/// The ledger read from one snapshot, a batch of entries at a time: the log's size, its
/// checkpoints and the events outside it now, then entries `0..size` in order from a task that
/// holds the snapshot until the last batch is taken (memory: two batches, whatever the size).
pub async fn ledger_stream(pool: &Pool, batch: i64) -> Result<LedgerStream> {
    let mut tx = pool.begin().await?;
    if let Some(set) = READ_SNAPSHOT {
        sqlx::query(set).execute(&mut *tx).await?;
    }
    let size: i64 = sqlx::query_scalar("SELECT size FROM ledger_head WHERE id = 1").fetch_one(&mut *tx).await?;
    let checkpoints = sqlx::query_as("SELECT size, note FROM ledger_checkpoints ORDER BY size").fetch_all(&mut *tx).await?;
    let outside: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE ledger_index IS NULL OR ledger_index < 0")
        .fetch_one(&mut *tx)
        .await?;
    let beyond: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE ledger_index >= $1").bind(size).fetch_one(&mut *tx).await?;
    let (send, batches) = tokio::sync::mpsc::channel(2);
    tokio::spawn(async move {
        let mut start = 0;
        while start < size {
            let end = start.saturating_add(batch).min(size);
            let rows = ledger_batch(&mut tx, start, end).await;
            let failed = rows.is_err();
            if send.send(rows).await.is_err() || failed {
                break;
            }
            start = end;
        }
        let _ = tx.rollback().await;
    });
    Ok(LedgerStream { size, checkpoints, outside, beyond, batches })
}

/// Entries `start..end` in index order, as rows, or (`LEDGER_BATCH`) as one row: the batch
/// concatenated in the database, each field prefixed by its length (nothing escaped), split here
/// into the same rows.
async fn ledger_batch(tx: &mut Tx<'_>, start: i64, end: i64) -> Result<Vec<super::StoredEntry>> {
    let Some(batch) = LEDGER_BATCH else {
        return Ok(sqlx::query_as(
            "SELECT ledger_index, entry, leaf_hash, time, actor, kind, subject, payload FROM audit_events
             WHERE ledger_index >= $1 AND ledger_index < $2 ORDER BY ledger_index",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&mut **tx)
        .await?);
    };
    let text: Option<String> = sqlx::query_scalar(batch).bind(start).bind(end).fetch_one(&mut **tx).await?;
    let decode = |what: String| crate::store::StoreError::Db(sqlx::Error::Decode(format!("ledger batch from {start}: {what}").into()));
    let mut fields = LengthPrefixed(text.as_deref().unwrap_or(""));
    let mut out = Vec::with_capacity((end - start).max(0) as usize);
    while !fields.0.is_empty() {
        let mut next = || fields.next().map_err(|e| decode(e.into()));
        let index = next()?.and_then(|i| i.parse().ok());
        let (entry, leaf_hash) = (next()?.map(str::to_string), next()?.map(str::to_string));
        let time = next()?.unwrap_or_default();
        let time = stored_time(time).ok_or_else(|| decode(format!("entry {index:?}: unreadable time {time:?}")))?;
        let mut text = || next().map(|f| f.unwrap_or_default().to_string());
        let (actor, kind, subject, payload) = (text()?, text()?, text()?, text()?);
        out.push(super::StoredEntry { index, entry, leaf_hash, time, actor, kind, subject, payload });
    }
    out.sort_by_key(|e| e.index);
    Ok(out)
}

/// Fields written as `BYTES:TEXT`, or `-` for NULL, one after another.
struct LengthPrefixed<'a>(&'a str);

impl<'a> LengthPrefixed<'a> {
    fn next(&mut self) -> std::result::Result<Option<&'a str>, &'static str> {
        if let Some(rest) = self.0.strip_prefix('-') {
            self.0 = rest;
            return Ok(None);
        }
        let (len, rest) = self.0.split_once(':').ok_or("a field without its length")?;
        let len: usize = len.parse().map_err(|_| "a field's length is not a number")?;
        if !rest.is_char_boundary(len) {
            return Err("a field's length runs past the text");
        }
        let (field, rest) = rest.split_at(len);
        self.0 = rest;
        Ok(Some(field))
    }
}

/// A time column as text (RFC 3339, or SQLite's `YYYY-MM-DD HH:MM:SS.f` without an offset, UTC).
fn stored_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|t| t.with_timezone(&Utc)).ok().or_else(|| {
        chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc())
    })
}

/// Every stored checkpoint, smallest first: (size, note).
pub async fn ledger_checkpoints(pool: &Pool) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as("SELECT size, note FROM ledger_checkpoints ORDER BY size").fetch_all(pool).await?)
}

/// The signed checkpoint of one size, if one was kept.
pub async fn ledger_checkpoint_at(pool: &Pool, size: i64) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT note FROM ledger_checkpoints WHERE size = $1").bind(size).fetch_optional(pool).await?)
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

/// Everything recorded about one image (by any of its digests): pushes, runs, exec/attach into
/// the pods that ran it, and ledger entries naming it. A fixed number of queries.
pub async fn image_forensics(pool: &Pool, digest: &crate::domain::Digest, teams: Option<&[String]>) -> Result<Option<ImageHistory>> {
    let Some(id) = image_id_by_digest(pool, digest.as_str()).await? else { return Ok(None) };
    let Some(image) = summaries(pool, &[id]).await?.pop() else { return Ok(None) };
    let digests: Vec<String> = image.aliases.iter().map(|a| a.digest.clone()).chain([image.digest.clone()]).collect();
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT action, tag, digest, actor, source_addr, happened_at FROM registry_events WHERE digest IN (",
    );
    let mut sep = qb.separated(", ");
    for d in &digests {
        sep.push_bind(d);
    }
    qb.push(") ORDER BY happened_at");
    let pushes: Vec<RegistryEventRecord> = qb.build_query_as().fetch_all(pool).await?;
    let f = WorkloadFilter { ended: true, visible_teams: teams.map(<[String]>::to_vec), ..Default::default() };
    let mut qb = QueryBuilder::<DB>::new("SELECT * FROM (");
    qb.push(WORKLOAD_SELECT).push(") w");
    push_workload_filter(&mut qb, &f);
    qb.push(" AND (w.image_row = ").push_bind(id);
    qb.push(" OR w.image_row IN (SELECT image_id FROM image_platforms WHERE index_image_id = ").push_bind(id);
    qb.push(")) ORDER BY w.first_seen");
    let runs: Vec<WorkloadRecord> = qb.build_query_as().fetch_all(pool).await?;
    // Exec/attach (and every other audited action) on the pods that ran it.
    let mut access = Vec::new();
    if !runs.is_empty() {
        let mut qb = QueryBuilder::<DB>::new(
            "SELECT happened_at, cluster, namespace, name, verb, subresource, username, source_ips, code FROM k8s_audit
             WHERE resource = 'pods' AND (",
        );
        for (i, r) in runs.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("(cluster = ").push_bind(r.cluster.clone());
            qb.push(" AND namespace = ").push_bind(r.namespace.clone());
            qb.push(" AND name = ").push_bind(r.pod.clone()).push(")");
        }
        qb.push(") ORDER BY happened_at");
        access = qb.build_query_as().fetch_all(pool).await?;
    }
    // Ledger entries about any of its digests, found through indexes (the subject, and for
    // estate-wide readers the entries whose payload mentions it), never a scan of payloads.
    let subjects: Vec<String> = digests.iter().map(|d| format!("image:{d}")).collect();
    let mut qb = QueryBuilder::<DB>::new("SELECT ledger_index, time, actor, kind, subject FROM audit_events WHERE ledger_index IS NOT NULL AND (subject IN (");
    in_list(&mut qb, &subjects);
    if teams.is_none() {
        qb.push(" OR ledger_index IN (SELECT ledger_index FROM audit_mentions WHERE subject IN (");
        in_list(&mut qb, &subjects);
        qb.push(")");
    }
    qb.push(") ORDER BY ledger_index");
    let ledger: Vec<LedgerHeadline> = qb.build_query_as().fetch_all(pool).await?;
    Ok(Some(ImageHistory { image, pushes, runs, access, ledger }))
}

/// The newest `n` ledger entries, newest first.
pub async fn ledger_recent(pool: &Pool, n: i64) -> Result<Vec<LedgerHeadline>> {
    Ok(sqlx::query_as(
        "SELECT ledger_index, time, actor, kind, subject FROM audit_events WHERE ledger_index IS NOT NULL ORDER BY ledger_index DESC LIMIT $1",
    )
    .bind(n)
    .fetch_all(pool)
    .await?)
}

/// A workload's images over time and the people who touched it (its pods, or the object).
pub async fn workload_forensics(pool: &Pool, cluster: &str, namespace: &str, workload: &str) -> Result<Option<WorkloadHistory>> {
    let f = WorkloadFilter {
        cluster: Some(cluster.into()),
        namespace: Some(namespace.into()),
        workload: Some(workload.into()),
        ended: true,
        ..Default::default()
    };
    let mut qb = QueryBuilder::<DB>::new("SELECT * FROM (");
    qb.push(WORKLOAD_SELECT).push(") w");
    push_workload_filter(&mut qb, &f);
    qb.push(" ORDER BY w.first_seen");
    let runs: Vec<WorkloadRecord> = qb.build_query_as().fetch_all(pool).await?;
    if runs.is_empty() {
        return Ok(None);
    }
    let mut pods: Vec<&str> = runs.iter().map(|r| r.pod.as_str()).collect();
    pods.sort();
    pods.dedup();
    let object = workload.split_once('/').map(|(_, n)| n).unwrap_or(workload);
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT happened_at, cluster, namespace, name, verb, subresource, username, source_ips, code FROM k8s_audit WHERE cluster = ",
    );
    qb.push_bind(cluster).push(" AND namespace = ").push_bind(namespace);
    qb.push(" AND ((resource = 'pods' AND name IN (");
    let mut sep = qb.separated(", ");
    for p in &pods {
        sep.push_bind(*p);
    }
    qb.push(")) OR (resource <> 'pods' AND name = ").push_bind(object).push(")) ORDER BY happened_at");
    let access: Vec<AccessRecord> = qb.build_query_as().fetch_all(pool).await?;
    Ok(Some(WorkloadHistory { runs, access }))
}
