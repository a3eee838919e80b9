// Campaign progress (included into each backend module): counts per campaign, team and state,
// the overdue and due-soon items and the next deadlines, read by the campaign list and the homes
// without reading every item.

/// Items per (campaign, state) of the given campaigns, with how many of them are past `today`'s
/// deadline (of `teams` and items of no team when given): the campaign list's progress without
/// reading any item.
pub async fn campaign_state_counts(
    pool: &Pool,
    campaigns: &[i64],
    teams: Option<&[String]>,
    today: chrono::NaiveDate,
) -> Result<Vec<(i64, crate::domain::campaign::ItemState, i64, i64)>> {
    let mut out = Vec::new();
    for chunk in campaigns.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("SELECT campaign_id, state, COUNT(*), SUM(CASE WHEN deadline < ");
        qb.push_bind(today).push(" THEN 1 ELSE 0 END) FROM campaign_items WHERE campaign_id IN (");
        in_list(&mut qb, chunk);
        push_items_seen_by(&mut qb, "team", teams);
        qb.push(" GROUP BY campaign_id, state");
        out.extend(qb.build_query_as::<(i64, crate::domain::campaign::ItemState, i64, i64)>().fetch_all(pool).await?);
    }
    Ok(out)
}

pub async fn team_item_counts(
    pool: &Pool,
    teams: Option<&[String]>,
    today: chrono::NaiveDate,
    due_by: chrono::NaiveDate,
) -> Result<Vec<TeamItemCounts>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT team, state, COUNT(*) AS items, SUM(CASE WHEN deadline < ");
    qb.push_bind(today).push(" THEN 1 ELSE 0 END) AS overdue, SUM(CASE WHEN deadline >= ");
    qb.push_bind(today).push(" AND deadline <= ").push_bind(due_by);
    qb.push(" THEN 1 ELSE 0 END) AS due_soon, SUM(CASE WHEN exception_state = 'requested' THEN 1 ELSE 0 END) AS exceptions_requested");
    qb.push(" FROM campaign_items WHERE 1 = 1");
    push_item_teams(&mut qb, "team", teams);
    qb.push(" GROUP BY team, state");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

pub async fn items_due_before(pool: &Pool, teams: Option<&[String]>, before: chrono::NaiveDate, limit: i64) -> Result<Vec<CampaignItemRecord>> {
    let mut qb = QueryBuilder::<DB>::new(ITEM_SELECT);
    qb.push(" WHERE it.state IN (");
    in_list(&mut qb, &OUTSTANDING);
    qb.push(" AND it.deadline < ").push_bind(before);
    push_item_teams(&mut qb, "it.team", teams);
    qb.push(" ORDER BY it.deadline, it.campaign_id, it.id LIMIT ").push_bind(limit);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// Outstanding items past their deadline (of `teams` and of no team when given), the longest
/// overdue first, and how many.
pub async fn overdue_items(
    pool: &Pool,
    teams: Option<&[String]>,
    today: chrono::NaiveDate,
    limit: i64,
    offset: i64,
) -> Result<Page<CampaignItemRecord>> {
    fn filter<'a>(qb: &mut QueryBuilder<'a, DB>, teams: Option<&'a [String]>, today: chrono::NaiveDate) {
        qb.push(" WHERE it.state IN (");
        in_list(qb, &OUTSTANDING);
        qb.push(" AND it.deadline < ").push_bind(today);
        push_items_seen_by(qb, "it.team", teams);
    }
    let mut qb = QueryBuilder::<DB>::new("SELECT COUNT(*) FROM campaign_items it");
    filter(&mut qb, teams, today);
    let total: i64 = qb.build_query_scalar().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<DB>::new(ITEM_SELECT);
    filter(&mut qb, teams, today);
    qb.push(" ORDER BY it.deadline, it.campaign_id, it.id LIMIT ").push_bind(limit).push(" OFFSET ").push_bind(offset);
    Ok(Page { items: qb.build_query_as().fetch_all(pool).await?, total })
}

pub async fn next_deadlines(pool: &Pool, today: chrono::NaiveDate, limit: i64) -> Result<Vec<DeadlineRecord>> {
    let mut qb = QueryBuilder::<DB>::new(
        "SELECT it.campaign_id, c.title, it.deadline, COUNT(*) AS items FROM campaign_items it JOIN campaigns c ON c.id = it.campaign_id WHERE it.state IN (",
    );
    in_list(&mut qb, &OUTSTANDING);
    qb.push(" AND it.deadline >= ").push_bind(today);
    qb.push(" GROUP BY it.campaign_id, c.title, it.deadline ORDER BY it.deadline, it.campaign_id LIMIT ").push_bind(limit);
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// The states of items still to be worked on by the team.
const OUTSTANDING: [ItemState; 3] = [ItemState::Open, ItemState::Acknowledged, ItemState::PendingVerification];
