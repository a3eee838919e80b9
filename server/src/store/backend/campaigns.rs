// Patch campaigns (included into each backend module): campaigns and items, contacts, the
// escalation's decisions (one per item and level, ever) and the outbox of digest messages.

const ITEM_SELECT: &str = "SELECT it.id, it.campaign_id, c.title AS campaign_title, it.image_id, i.digest, it.team, it.running, it.workloads, it.state, it.severity,
        it.first_seen, it.deadline, it.planned, it.note, it.acknowledged_by, it.acknowledged_at, it.exception_state,
        it.exception_reason, it.exception_until, it.exception_by, it.exception_at, it.exception_request_id, it.decision_note, it.decided_by, it.decided_at,
        it.created_at, it.updated_at, it.closed_at
    FROM campaign_items it JOIN images i ON i.id = it.image_id JOIN campaigns c ON c.id = it.campaign_id";

const CAMPAIGN_SELECT: &str =
    "SELECT id, title, cves, package, range_vers, scope, deadline, ladder, created_at, created_by, refreshed_at FROM campaigns";

/// Writes the items (each database's fastest multi-row insert: `insert_item_rows`) and their
/// workloads; answers (item id, image id) of each item written.
async fn insert_items(tx: &mut Tx<'_>, campaign: i64, items: &[NewCampaignItem], now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    let ids = insert_item_rows(tx, campaign, items, now).await?;
    let by_image: HashMap<i64, i64> = ids.iter().map(|(id, image)| (*image, *id)).collect();
    let workloads: Vec<(i64, &(String, String, String))> =
        items.iter().filter_map(|it| by_image.get(&it.image_id).map(|id| (*id, it))).flat_map(|(id, it)| it.workloads.iter().map(move |w| (id, w))).collect();
    insert_item_workloads(tx, &workloads).await?;
    Ok(ids)
}

/// Creates a campaign and every item in one transaction, with its ledger entry; answers its id
/// and the items as written.
pub async fn create_campaign(
    pool: &Pool,
    c: &NewCampaign,
    items: &[NewCampaignItem],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(i64, Vec<CampaignItemRecord>)> {
    // To the microsecond, as PostgreSQL keeps it: the items answered are the items stored.
    let now = chrono::SubsecRound::trunc_subsecs(now, 6);
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
    Ok((id, created_records(id, &c.title, items, &created, now)))
}

/// The rows `insert_items` wrote, as `campaign_items` reads them, without reading 20,000 rows back.
fn created_records(campaign: i64, title: &str, items: &[NewCampaignItem], created: &[(i64, i64)], now: DateTime<Utc>) -> Vec<CampaignItemRecord> {
    let by_image: HashMap<i64, &NewCampaignItem> = items.iter().map(|it| (it.image_id, it)).collect();
    created.iter().filter_map(|(id, image)| by_image.get(image).map(|it| CampaignItemRecord::opened(*id, campaign, title, it, now))).collect()
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
/// (no team last, on both databases) and deadline.
pub async fn campaign_items(pool: &Pool, campaigns: &[i64], teams: Option<&[String]>) -> Result<Vec<CampaignItemRecord>> {
    let mut out = Vec::new();
    for chunk in campaigns.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(ITEM_SELECT);
        qb.push(" WHERE it.campaign_id IN (");
        in_list(&mut qb, chunk);
        push_items_seen_by(&mut qb, "it.team", teams);
        qb.push(" ORDER BY it.campaign_id, it.team IS NULL, it.team, it.deadline, it.id");
        out.extend(qb.build_query_as::<CampaignItemRecord>().fetch_all(pool).await?);
    }
    Ok(out)
}

/// Items of any campaign in the given states, of `teams` when given (None: every team's, and
/// items of no team), by deadline.
pub async fn items_in_states(pool: &Pool, states: &[crate::domain::campaign::ItemState], teams: Option<&[String]>, limit: i64) -> Result<Vec<CampaignItemRecord>> {
    let mut qb = QueryBuilder::<DB>::new(ITEM_SELECT);
    qb.push(" WHERE it.state IN (");
    in_list(&mut qb, states);
    push_item_teams(&mut qb, "it.team", teams);
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
    // A thousand items a statement: 11,000 parameters, within SQLite's 32,766 and PostgreSQL's 65,535.
    for chunk in items.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT item_id, cluster, namespace, workload FROM campaign_item_workloads WHERE item_id IN (");
        in_list(&mut qb, chunk);
        qb.push(" ORDER BY item_id, cluster, namespace, workload");
        out.extend(qb.build_query_as::<(i64, String, String, String)>().fetch_all(pool).await?);
    }
    Ok(out)
}

/// What a person did to an item (acknowledgement, exception request or decision): the update
/// `set` pushes (after `SET `), guarded by the states it applies to and by `guard` (pushed after
/// the state test, e.g. ` AND exception_state = …`), and its ledger entry, in one transaction.
/// False when the guards held for no row (nothing written).
#[allow(clippy::too_many_arguments)]
async fn item_action(
    pool: &Pool,
    campaign: i64,
    item: i64,
    from_states: &[crate::domain::campaign::ItemState],
    guard: impl for<'q> FnOnce(&mut QueryBuilder<'q, DB>),
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
    guard(&mut qb);
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
        &[ItemState::Open, ItemState::Acknowledged],
        |_| {},
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

/// Records exception request `request_id` on an item not closed nor excepted, when the item's
/// previous request is `request_id - 1` and none waits (a waiting request is never rewritten).
#[allow(clippy::too_many_arguments)]
pub async fn request_exception(
    pool: &Pool,
    campaign: i64,
    item: i64,
    request_id: i64,
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
        &[ItemState::Open, ItemState::Acknowledged, ItemState::PendingVerification],
        move |qb| {
            qb.push(" AND (exception_state IS NULL OR exception_state <> 'requested')");
            qb.push(" AND COALESCE(exception_request_id, 0) = ").push_bind(request_id - 1);
        },
        move |qb| {
            qb.push("exception_state = 'requested', exception_reason = ").push_bind(reason_owned);
            qb.push(", exception_until = ").push_bind(until).push(", exception_by = ").push_bind(who);
            qb.push(", exception_request_id = ").push_bind(request_id);
            qb.push(", exception_at = ").push_bind(now).push(", decision_note = NULL, decided_by = NULL, decided_at = NULL");
        },
        "campaign.item.exception_requested",
        serde_json::json!({ "request_id": request_id, "reason": reason, "until": until }),
        actor,
        now,
    )
    .await
}

/// Decides exception request `request_id` while it waits, by someone other than its requester
/// (`requested_by`, recorded in the ledger entry beside the decider): approved, the item is
/// excepted until the request's date.
#[allow(clippy::too_many_arguments)]
pub async fn decide_exception(
    pool: &Pool,
    campaign: i64,
    item: i64,
    request_id: i64,
    requested_by: &str,
    approve: bool,
    note: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool> {
    let (note_owned, who, requester) = (note.to_string(), actor.0.clone(), requested_by.to_string());
    let decider = actor.0.clone();
    item_action(
        pool,
        campaign,
        item,
        &[ItemState::Open, ItemState::Acknowledged, ItemState::PendingVerification],
        move |qb| {
            qb.push(" AND exception_state = 'requested' AND exception_request_id = ").push_bind(request_id);
            qb.push(" AND exception_by = ").push_bind(requester).push(" AND exception_by <> ").push_bind(decider);
        },
        move |qb| {
            qb.push(if approve { "state = 'excepted', exception_state = 'approved'" } else { "exception_state = 'rejected'" });
            qb.push(", decision_note = ").push_bind(note_owned).push(", decided_by = ").push_bind(who);
            qb.push(", decided_at = ").push_bind(now);
        },
        if approve { "campaign.item.exception_approved" } else { "campaign.item.exception_rejected" },
        serde_json::json!({ "request_id": request_id, "requested_by": requested_by, "decided_by": actor.0, "approve": approve, "note": note }),
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
        let closing = u.state.is_closed();
        let mut qb = QueryBuilder::<DB>::new("UPDATE campaign_items SET state = ");
        qb.push_bind(u.state).push(", running = ").push_bind(u.running).push(", workloads = ").push_bind(u.workloads);
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

/// Every team's name, in order.
pub async fn team_names(pool: &Pool) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT name FROM teams ORDER BY name").fetch_all(pool).await?)
}

/// `AND (team IS NULL OR team IN (…))`: the items `teams` see, their own and those of no team
/// (nothing for every team).
fn push_items_seen_by<'a>(qb: &mut QueryBuilder<'a, DB>, column: &str, teams: Option<&'a [String]>) {
    if let Some(teams) = teams {
        qb.push(format!(" AND ({column} IS NULL"));
        if !teams.is_empty() {
            qb.push(format!(" OR {column} IN ("));
            in_list(qb, teams);
        }
        qb.push(")");
    }
}

/// `AND it.team IN (…)` for `teams` (nothing for every team; no row for none).
fn push_item_teams<'a>(qb: &mut QueryBuilder<'a, DB>, column: &str, teams: Option<&'a [String]>) {
    if let Some(teams) = teams {
        if teams.is_empty() {
            qb.push(" AND 1 = 0");
        } else {
            qb.push(format!(" AND {column} IN ("));
            in_list(qb, teams);
        }
    }
}
