// The escalation's store (included into each backend module): contacts, the decisions taken once
// per item and level, the outbox of digest messages and every attempt to send them.
/// Contacts of one team ('' : the global contacts) replaced in one transaction, audited.
pub async fn replace_contacts(pool: &Pool, team: &str, contacts: &[ContactRecord], actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin(pool).await?;
    sqlx::query("DELETE FROM contacts WHERE team = $1").bind(team).execute(&mut *tx).await?;
    for c in contacts {
        sqlx::query("INSERT INTO contacts (team, level, email, webhook) VALUES ($1, $2, $3, $4)")
            .bind(team)
            .bind(c.level)
            .bind(&c.email)
            .bind(&c.webhook)
            .execute(&mut *tx)
            .await?;
    }
    // Webhook addresses carry their secret in the URL: the ledger keeps their host only.
    let shown: Vec<serde_json::Value> = contacts
        .iter()
        .map(|c| {
            let host = c.webhook.as_deref().and_then(|w| url::Url::parse(w).ok()).and_then(|u| u.host_str().map(str::to_string));
            serde_json::json!({ "level": c.level, "email": c.email, "webhook_host": host })
        })
        .collect();
    let subject = if team.is_empty() { "contacts:global".to_string() } else { format!("team:{team}") };
    append_event(&mut tx, actor, "contacts.replaced", &subject, serde_json::json!({ "contacts": shown }), now).await?;
    tx.commit().await?;
    Ok(())
}

/// Every contact, by team and level.
pub async fn contacts(pool: &Pool) -> Result<Vec<ContactRecord>> {
    Ok(sqlx::query_as("SELECT team, level, email, webhook FROM contacts ORDER BY team, level, id").fetch_all(pool).await?)
}

/// Items not closed, with their campaign's ladder and the levels already delivered.
pub async fn escalation_items(pool: &Pool) -> Result<Vec<EscalationItemRecord>> {
    let sql = format!(
        "SELECT it.id, it.campaign_id, c.title AS campaign_title, c.ladder, it.image_id, i.digest, it.team, it.state, it.deadline,
                it.exception_until, it.exception_state, it.running, it.workloads,
                (SELECT {} FROM deliveries d WHERE d.item_id = it.id) AS delivered
         FROM campaign_items it JOIN campaigns c ON c.id = it.campaign_id JOIN images i ON i.id = it.image_id
         WHERE it.state NOT IN ('fixed', 'retired') ORDER BY it.id",
        LEVEL_LIST
    );
    Ok(sqlx::query_as(&sql).fetch_all(pool).await?)
}

/// Records the escalation decisions of one run and their messages in one transaction: each
/// (item, level) not decided before is taken by this run (the unique index decides between
/// replicas); `compose` builds the messages from the pairs this run took; each message gets a
/// ledger entry. Answers the pairs taken and the messages queued.
pub async fn record_escalation<F>(pool: &Pool, run: &str, due: &[(i64, i64)], compose: F, actor: &Actor, now: DateTime<Utc>) -> Result<(usize, usize)>
where
    F: FnOnce(&[(i64, i64)]) -> Vec<NewMessage>,
{
    let mut tx = begin(pool).await?;
    for chunk in due.chunks(CHUNK / 4) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO deliveries (item_id, level, decided_at, run) ");
        qb.push_values(chunk, |mut b, (item, level)| {
            b.push_bind(*item).push_bind(*level).push_bind(now).push_bind(run);
        });
        qb.push(" ON CONFLICT (item_id, level) DO NOTHING");
        qb.build().execute(&mut *tx).await?;
    }
    let taken: Vec<(i64, i64, i64)> =
        sqlx::query_as("SELECT id, item_id, level FROM deliveries WHERE run = $1 ORDER BY item_id, level").bind(run).fetch_all(&mut *tx).await?;
    let pairs: Vec<(i64, i64)> = taken.iter().map(|(_, i, l)| (*i, *l)).collect();
    let delivery: HashMap<(i64, i64), i64> = taken.iter().map(|(d, i, l)| ((*i, *l), *d)).collect();
    let messages = compose(&pairs);
    for m in &messages {
        let sent = (m.channel == "inbox").then_some(now);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO outbox (channel, address, team, level, subject, body, created_at, next_attempt, sent_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8) RETURNING id",
        )
        .bind(&m.channel)
        .bind(&m.address)
        .bind(&m.team)
        .bind(m.level)
        .bind(&m.subject)
        .bind(&m.body)
        .bind(now)
        .bind(sent)
        .fetch_one(&mut *tx)
        .await?;
        let links: Vec<i64> = m.items.iter().filter_map(|p| delivery.get(p).copied()).collect();
        for chunk in links.chunks(CHUNK / 2) {
            let mut qb = QueryBuilder::<DB>::new("INSERT INTO outbox_items (message_id, delivery_id) ");
            qb.push_values(chunk, |mut b, d| {
                b.push_bind(id).push_bind(*d);
            });
            qb.build().execute(&mut *tx).await?;
        }
        let recipient = match m.channel.as_str() {
            "webhook" => format!("webhook #{}", &crate::domain::sha256_hex(m.address.as_bytes())[..12]),
            _ => m.address.clone(),
        };
        append_event(
            &mut tx,
            actor,
            "campaign.escalated",
            &format!("message:{id}"),
            serde_json::json!({
                "channel": m.channel, "recipient": recipient, "team": m.team, "level": m.level,
                "items": m.items.iter().map(|(i, _)| i).collect::<Vec<_>>(),
            }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok((pairs.len(), messages.len()))
}

/// Claims up to `limit` messages due for sending (not sent, not given up, due, not held by a live
/// claim) for `worker` until `until`.
pub async fn claim_messages(pool: &Pool, worker: &str, now: DateTime<Utc>, until: DateTime<Utc>, limit: i64) -> Result<Vec<MessageRecord>> {
    let mut tx = begin(pool).await?;
    let sql = format!(
        "SELECT id FROM outbox WHERE sent_at IS NULL AND gave_up_at IS NULL AND next_attempt <= $1
           AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT $2{SKIP_LOCKED}"
    );
    let ids: Vec<i64> = sqlx::query_scalar(&sql).bind(now).bind(limit).fetch_all(&mut *tx).await?;
    if ids.is_empty() {
        tx.rollback().await?;
        return Ok(vec![]);
    }
    let mut qb = QueryBuilder::<DB>::new("UPDATE outbox SET claimed_by = ");
    qb.push_bind(worker).push(", claimed_until = ").push_bind(until).push(" WHERE id IN (");
    in_list(&mut qb, &ids);
    qb.build().execute(&mut *tx).await?;
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT id, channel, address, team, level, subject, body, created_at, next_attempt, attempts, sent_at, gave_up_at, last_error FROM outbox WHERE id IN (",
    );
    in_list(&mut qb, &ids);
    qb.push(" ORDER BY id");
    let rows = qb.build_query_as().fetch_all(&mut *tx).await?;
    tx.commit().await?;
    Ok(rows)
}

/// Records one attempt to send a claimed message: sent (with its ledger entry), to retry at
/// `retry_at`, or given up (`retry_at` None after a failure). False when the claim was lost.
pub async fn record_attempt(
    pool: &Pool,
    id: i64,
    worker: &str,
    outcome: std::result::Result<&str, (&str, Option<DateTime<Utc>>)>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = begin(pool).await?;
    let (kind, detail) = match &outcome {
        Ok(d) => ("sent", d.to_string()),
        Err((e, Some(_))) => ("retry", e.to_string()),
        Err((e, None)) => ("gave_up", e.to_string()),
    };
    let n = match &outcome {
        Ok(_) => sqlx::query(
            "UPDATE outbox SET sent_at = $3, attempts = attempts + 1, claimed_by = NULL, claimed_until = NULL
             WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL",
        )
        .bind(id)
        .bind(worker)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        // A retry keeps the claim: at once within this pass (the claim's lease holds), or later
        // (the claim holds until then, when any worker may take it). Giving up lets it go.
        Err((e, Some(retry))) => sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $3, next_attempt = $4,
                    claimed_until = CASE WHEN $4 > $5 THEN $4 ELSE claimed_until END
             WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL",
        )
        .bind(id)
        .bind(worker)
        .bind(*e)
        .bind(*retry)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
        Err((e, None)) => sqlx::query(
            "UPDATE outbox SET attempts = attempts + 1, last_error = $3, gave_up_at = $4, claimed_by = NULL, claimed_until = NULL
             WHERE id = $1 AND claimed_by = $2 AND sent_at IS NULL",
        )
        .bind(id)
        .bind(worker)
        .bind(*e)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected(),
    };
    if n == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    sqlx::query("INSERT INTO delivery_attempts (message_id, at, worker, outcome, detail) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(now)
        .bind(worker)
        .bind(kind)
        .bind(&detail)
        .execute(&mut *tx)
        .await?;
    if kind != "retry" {
        append_event(
            &mut tx,
            &Actor("system:escalation".into()),
            if kind == "sent" { "campaign.delivered" } else { "campaign.delivery_failed" },
            &format!("message:{id}"),
            serde_json::json!({ "detail": detail }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// The newest messages (of `channel` when given; of `teams` when given, and global ones when
/// `global`), each with its attempts.
pub async fn messages(
    pool: &Pool,
    channel: Option<&str>,
    teams: Option<&[String]>,
    global: bool,
    limit: i64,
) -> Result<Vec<(MessageRecord, Vec<DeliveryAttemptRecord>)>> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT id, channel, address, team, level, subject, body, created_at, next_attempt, attempts, sent_at, gave_up_at, last_error FROM outbox WHERE 1 = 1",
    );
    if let Some(c) = channel {
        qb.push(" AND channel = ").push_bind(c);
    }
    if let Some(teams) = teams {
        qb.push(" AND (");
        qb.push(if global { "team IS NULL" } else { "1 = 0" });
        if !teams.is_empty() {
            qb.push(" OR team IN (");
            in_list(&mut qb, teams);
        }
        qb.push(")");
    }
    qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit);
    let rows: Vec<MessageRecord> = qb.build_query_as().fetch_all(pool).await?;
    let ids: Vec<i64> = rows.iter().map(|m| m.id).collect();
    let mut attempts: HashMap<i64, Vec<DeliveryAttemptRecord>> = HashMap::new();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT message_id, at, worker, outcome, detail FROM delivery_attempts WHERE message_id IN (");
        in_list(&mut qb, chunk);
        qb.push(" ORDER BY at, id");
        for a in qb.build_query_as::<DeliveryAttemptRecord>().fetch_all(pool).await? {
            attempts.entry(a.message_id).or_default().push(a);
        }
    }
    Ok(rows.into_iter().map(|m| {
        let a = attempts.remove(&m.id).unwrap_or_default();
        (m, a)
    }).collect())
}
