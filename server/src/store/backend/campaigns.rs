// Patch campaigns (included into each backend module): campaigns and items, contacts, the
// escalation's decisions (one per item and level, ever) and the outbox of digest messages.

const ITEM_SELECT: &str = "SELECT it.id, it.campaign_id, c.title AS campaign_title, it.image_id, i.digest, it.team, it.running, it.workloads, it.state, it.severity,
        it.first_seen, it.deadline, it.planned, it.note, it.acknowledged_by, it.acknowledged_at, it.exception_state,
        it.exception_reason, it.exception_until, it.exception_by, it.exception_at, it.decision_note, it.decided_by, it.decided_at,
        it.created_at, it.updated_at, it.closed_at
    FROM campaign_items it JOIN images i ON i.id = it.image_id JOIN campaigns c ON c.id = it.campaign_id";

const CAMPAIGN_SELECT: &str =
    "SELECT id, title, cves, package, range_vers, scope, deadline, ladder, created_at, created_by, refreshed_at FROM campaigns";

async fn insert_items(tx: &mut Tx<'_>, campaign: i64, items: &[NewCampaignItem], now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    let mut ids = Vec::with_capacity(items.len());
    for chunk in items.chunks(CHUNK / 10) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO campaign_items (campaign_id, image_id, team, running, workloads, state, severity, first_seen, deadline, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, it| {
            b.push_bind(campaign)
                .push_bind(it.image_id)
                .push_bind(&it.team)
                .push_bind(!it.workloads.is_empty())
                .push_bind(it.workloads.len() as i64)
                .push_bind("open")
                .push_bind(&it.severity)
                .push_bind(it.first_seen)
                .push_bind(it.deadline)
                .push_bind(now)
                .push_bind(now);
        });
        qb.push(" ON CONFLICT (campaign_id, image_id) DO NOTHING RETURNING id, image_id");
        let rows: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        ids.extend(rows);
    }
    let by_image: HashMap<i64, i64> = ids.iter().map(|(id, image)| (*image, *id)).collect();
    let workloads: Vec<(i64, &(String, String, String))> =
        items.iter().filter_map(|it| by_image.get(&it.image_id).map(|id| (*id, it))).flat_map(|(id, it)| it.workloads.iter().map(move |w| (id, w))).collect();
    insert_item_workloads(tx, &workloads).await?;
    Ok(ids)
}

async fn insert_item_workloads(tx: &mut Tx<'_>, rows: &[(i64, &(String, String, String))]) -> Result<()> {
    for chunk in rows.chunks(CHUNK / 4) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO campaign_item_workloads (item_id, cluster, namespace, workload) ");
        qb.push_values(chunk, |mut b, (id, (c, n, w))| {
            b.push_bind(*id).push_bind(c).push_bind(n).push_bind(w);
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Creates a campaign and every item in one transaction, with its ledger entry.
pub async fn create_campaign(pool: &Pool, c: &NewCampaign, items: &[NewCampaignItem], actor: &Actor, now: DateTime<Utc>) -> Result<i64> {
    let mut tx = begin(pool).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO campaigns (title, cves, package, range_vers, deadline, ladder, created_at, created_by, refreshed_at, scope)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $7, $9) RETURNING id",
    )
    .bind(&c.title)
    .bind(serde_json::to_string(&c.cves).unwrap_or_default())
    .bind(&c.package)
    .bind(&c.range)
    .bind(c.deadline)
    .bind(c.ladder.to_string())
    .bind(now)
    .bind(&actor.0)
    .bind(&c.scope)
    .fetch_one(&mut *tx)
    .await?;
    let created = insert_items(&mut tx, id, items, now).await?;
    append_event(
        &mut tx,
        actor,
        "campaign.created",
        &format!("campaign:{id}"),
        serde_json::json!({
            "title": c.title, "cves": c.cves, "package": c.package, "range": c.range, "scope": c.scope, "deadline": c.deadline,
            "ladder": c.ladder, "items": created.len(),
        }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Moves a campaign's deadline, and that of every item not closed, with its ledger entry.
pub async fn change_deadline(pool: &Pool, id: i64, deadline: chrono::NaiveDate, actor: &Actor, now: DateTime<Utc>) -> Result<bool> {
    let mut tx = begin(pool).await?;
    let before: Option<Option<chrono::NaiveDate>> =
        sqlx::query_scalar("SELECT deadline FROM campaigns WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    let Some(before) = before else {
        tx.rollback().await?;
        return Ok(false);
    };
    sqlx::query("UPDATE campaigns SET deadline = $2 WHERE id = $1").bind(id).bind(deadline).execute(&mut *tx).await?;
    let items = sqlx::query("UPDATE campaign_items SET deadline = $2, updated_at = $3 WHERE campaign_id = $1 AND state NOT IN ('fixed', 'retired')")
        .bind(id)
        .bind(deadline)
        .bind(now)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    append_event(
        &mut tx,
        actor,
        "campaign.deadline_changed",
        &format!("campaign:{id}"),
        serde_json::json!({ "from": before, "to": deadline, "items": items }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Every campaign, newest first, with its item count.
pub async fn campaigns(pool: &Pool, limit: i64, offset: i64) -> Result<(Vec<CampaignRecord>, i64)> {
    let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaigns").fetch_one(pool).await?;
    let mut qb = QueryBuilder::<DB>::new(CAMPAIGN_SELECT);
    qb.push(" ORDER BY id DESC LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    Ok((qb.build_query_as().fetch_all(pool).await?, total))
}

pub async fn campaign(pool: &Pool, id: i64) -> Result<Option<CampaignRecord>> {
    let mut qb = QueryBuilder::<DB>::new(CAMPAIGN_SELECT);
    qb.push(" WHERE id = ").push_bind(id);
    Ok(qb.build_query_as().fetch_optional(pool).await?)
}

/// Items of the given campaigns (of `teams` and items of no team when given), by campaign, team
/// and deadline.
pub async fn campaign_items(pool: &Pool, campaigns: &[i64], teams: Option<&[String]>) -> Result<Vec<CampaignItemRecord>> {
    let mut out = Vec::new();
    for chunk in campaigns.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(ITEM_SELECT);
        qb.push(" WHERE it.campaign_id IN (");
        in_list(&mut qb, chunk);
        if let Some(teams) = teams {
            qb.push(" AND (it.team IS NULL");
            if !teams.is_empty() {
                qb.push(" OR it.team IN (");
                in_list(&mut qb, teams);
            }
            qb.push(")");
        }
        qb.push(" ORDER BY it.campaign_id, it.team, it.deadline, it.id");
        out.extend(qb.build_query_as::<CampaignItemRecord>().fetch_all(pool).await?);
    }
    Ok(out)
}

/// Items of any campaign in the given states, of `teams` when given (None: every team's, and
/// items of no team), by deadline.
pub async fn items_in_states(pool: &Pool, states: &[&str], teams: Option<&[String]>, limit: i64) -> Result<Vec<CampaignItemRecord>> {
    let mut qb = QueryBuilder::<DB>::new(ITEM_SELECT);
    qb.push(" WHERE it.state IN (");
    in_list(&mut qb, states);
    if let Some(teams) = teams {
        if teams.is_empty() {
            qb.push(" AND 1 = 0");
        } else {
            qb.push(" AND it.team IN (");
            in_list(&mut qb, teams);
        }
    }
    qb.push(" ORDER BY it.deadline, it.campaign_id, it.id LIMIT ").push_bind(limit);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

pub async fn campaign_item(pool: &Pool, campaign: i64, item: i64) -> Result<Option<CampaignItemRecord>> {
    let mut qb = QueryBuilder::<DB>::new(ITEM_SELECT);
    qb.push(" WHERE it.campaign_id = ").push_bind(campaign).push(" AND it.id = ").push_bind(item);
    Ok(qb.build_query_as().fetch_optional(pool).await?)
}

/// Workloads each item follows.
pub async fn item_workloads(pool: &Pool, items: &[i64]) -> Result<Vec<(i64, String, String, String)>> {
    let mut out = Vec::new();
    for chunk in items.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT item_id, cluster, namespace, workload FROM campaign_item_workloads WHERE item_id IN (");
        in_list(&mut qb, chunk);
        qb.push(" ORDER BY item_id, cluster, namespace, workload");
        out.extend(qb.build_query_as::<(i64, String, String, String)>().fetch_all(pool).await?);
    }
    Ok(out)
}

/// What a person did to an item (acknowledgement, exception request or decision): the update
/// `set` pushes (after `SET `), guarded by the states it applies to, and its ledger entry, in one
/// transaction. False when the item was in none of `from_states` (nothing written).
#[allow(clippy::too_many_arguments)]
async fn item_action(
    pool: &Pool,
    campaign: i64,
    item: i64,
    from_states: &[&str],
    from_exception: Option<&str>,
    set: impl for<'q> FnOnce(&mut QueryBuilder<'q, DB>),
    event: &str,
    payload: serde_json::Value,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = begin(pool).await?;
    let mut qb = QueryBuilder::<DB>::new("UPDATE campaign_items SET ");
    set(&mut qb);
    qb.push(", updated_at = ").push_bind(now);
    qb.push(" WHERE campaign_id = ").push_bind(campaign).push(" AND id = ").push_bind(item);
    qb.push(" AND state IN (");
    in_list(&mut qb, from_states);
    if let Some(e) = from_exception {
        qb.push(" AND exception_state = ").push_bind(e.to_string());
    }
    let n = qb.build().execute(&mut *tx).await?.rows_affected();
    if n == 0 {
        tx.rollback().await?;
        return Ok(false);
    }
    append_event(&mut tx, actor, event, &format!("campaign:{campaign}/item:{item}"), payload, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Acknowledges an item (open or acknowledged: a new plan replaces the old).
pub async fn acknowledge_item(
    pool: &Pool,
    campaign: i64,
    item: i64,
    planned: chrono::NaiveDate,
    note: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (note_owned, who) = (note.to_string(), actor.0.clone());
    item_action(
        pool,
        campaign,
        item,
        &["open", "acknowledged"],
        None,
        move |qb| {
            qb.push("state = 'acknowledged', planned = ").push_bind(planned);
            qb.push(", note = ").push_bind(note_owned).push(", acknowledged_by = ").push_bind(who);
            qb.push(", acknowledged_at = ").push_bind(now);
        },
        "campaign.item.acknowledged",
        serde_json::json!({ "planned": planned, "note": note }),
        actor,
        now,
    )
    .await
}

/// Records a risk exception request on an item not closed nor already excepted.
pub async fn request_exception(
    pool: &Pool,
    campaign: i64,
    item: i64,
    reason: &str,
    until: chrono::NaiveDate,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (reason_owned, who) = (reason.to_string(), actor.0.clone());
    item_action(
        pool,
        campaign,
        item,
        &["open", "acknowledged", "pending_verification"],
        None,
        move |qb| {
            qb.push("exception_state = 'requested', exception_reason = ").push_bind(reason_owned);
            qb.push(", exception_until = ").push_bind(until).push(", exception_by = ").push_bind(who);
            qb.push(", exception_at = ").push_bind(now).push(", decision_note = NULL, decided_by = NULL, decided_at = NULL");
        },
        "campaign.item.exception_requested",
        serde_json::json!({ "reason": reason, "until": until }),
        actor,
        now,
    )
    .await
}

/// Decides a requested exception: approved, the item is excepted until the request's date.
pub async fn decide_exception(pool: &Pool, campaign: i64, item: i64, approve: bool, note: &str, actor: &Actor, now: DateTime<Utc>) -> Result<bool> {
    let (note_owned, who) = (note.to_string(), actor.0.clone());
    item_action(
        pool,
        campaign,
        item,
        &["open", "acknowledged", "pending_verification"],
        Some("requested"),
        move |qb| {
            qb.push(if approve { "state = 'excepted', exception_state = 'approved'" } else { "exception_state = 'rejected'" });
            qb.push(", decision_note = ").push_bind(note_owned).push(", decided_by = ").push_bind(who);
            qb.push(", decided_at = ").push_bind(now);
        },
        if approve { "campaign.item.exception_approved" } else { "campaign.item.exception_rejected" },
        serde_json::json!({ "approve": approve, "note": note }),
        actor,
        now,
    )
    .await
}

/// Items joined by a refresh (images found affected later) and updates of existing items (state,
/// running, workloads seen), with one ledger entry per campaign that changed, in one transaction.
pub async fn apply_campaign_refresh(
    pool: &Pool,
    campaign: i64,
    joined: &[NewCampaignItem],
    updates: &[ItemUpdate],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(usize, usize)> {
    let mut tx = begin(pool).await?;
    let created = insert_items(&mut tx, campaign, joined, now).await?;
    let mut closed = Vec::new();
    let mut changed = Vec::new();
    for u in updates {
        let closing = u.state == "fixed" || u.state == "retired";
        let mut qb = QueryBuilder::<DB>::new("UPDATE campaign_items SET state = ");
        qb.push_bind(&u.state).push(", running = ").push_bind(u.running).push(", workloads = ").push_bind(u.workloads);
        qb.push(", updated_at = ").push_bind(now);
        if closing {
            qb.push(", closed_at = ").push_bind(now);
        }
        if u.exception_expired {
            qb.push(", exception_state = 'expired'");
        }
        qb.push(" WHERE id = ").push_bind(u.id).push(" AND campaign_id = ").push_bind(campaign);
        qb.push(" AND state NOT IN ('fixed', 'retired')");
        let n = qb.build().execute(&mut *tx).await?.rows_affected();
        if n == 1 {
            changed.push(serde_json::json!({ "item": u.id, "state": u.state, "running": u.running, "workloads": u.workloads }));
            if closing {
                closed.push(u.id);
            }
        }
    }
    let new_workloads: Vec<(i64, &(String, String, String))> = updates.iter().flat_map(|u| u.new_workloads.iter().map(move |w| (u.id, w))).collect();
    insert_item_workloads(&mut tx, &new_workloads).await?;
    sqlx::query("UPDATE campaigns SET refreshed_at = $2 WHERE id = $1").bind(campaign).bind(now).execute(&mut *tx).await?;
    if !created.is_empty() || !changed.is_empty() {
        append_event(
            &mut tx,
            actor,
            "campaign.refreshed",
            &format!("campaign:{campaign}"),
            serde_json::json!({ "joined": created.iter().map(|(id, _)| id).collect::<Vec<_>>(), "changed": changed, "closed": closed }),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok((created.len(), changed.len()))
}

/// Live containers of the clusters named, keyed by workload (a bare pod: `Pod/<name>`), with
/// the image row each runs and whether that image was scanned.
pub async fn followed_containers(pool: &Pool, clusters: &[String]) -> Result<Vec<FollowedContainer>> {
    let mut out = Vec::new();
    for chunk in clusters.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT w.cluster, w.namespace, COALESCE(w.workload, 'Pod/' || w.pod) AS workload, w.image_row,
                (w.image_row IS NOT NULL AND (SELECT s.last_scanned FROM images s WHERE s.id = w.image_row) IS NOT NULL) AS scanned
             FROM (");
        qb.push(WORKLOAD_SELECT);
        qb.push(") w WHERE w.ended_at IS NULL AND w.state <> 'terminated' AND w.cluster IN (");
        in_list(&mut qb, chunk);
        out.extend(qb.build_query_as::<FollowedContainer>().fetch_all(pool).await?);
    }
    Ok(out)
}

/// Platform images of each index among `ids` (an index is affected through its platforms).
pub async fn platforms_of(pool: &Pool, ids: &[i64]) -> Result<Vec<(i64, i64)>> {
    let mut out = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT index_image_id, image_id FROM image_platforms WHERE index_image_id IN (");
        in_list(&mut qb, chunk);
        out.extend(qb.build_query_as::<(i64, i64)>().fetch_all(pool).await?);
    }
    Ok(out)
}

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
        "SELECT it.id, it.campaign_id, c.title AS campaign_title, c.ladder, i.digest, it.team, it.state, it.deadline,
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

/// Every team's name, in order.
pub async fn team_names(pool: &Pool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM teams ORDER BY name").fetch_all(pool).await?)
}
