// A campaign's item and workload rows as SQLite takes them fastest (included into the SQLite
// backend only): multi-row `VALUES` statements, a thousand items each.

/// Writes `items` of `campaign` (an image already in it is skipped); answers (item id, image id)
/// of each row written.
async fn insert_item_rows(tx: &mut Tx<'_>, campaign: i64, items: &[NewCampaignItem], now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    let mut ids = Vec::with_capacity(items.len());
    // A thousand items a statement: 11,000 parameters, within SQLite's 32,766.
    for chunk in items.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new(
            "INSERT INTO campaign_items (campaign_id, image_id, team, running, workloads, state, severity, first_seen, deadline, created_at, updated_at) ",
        );
        qb.push_values(chunk, |mut b, it| {
            b.push_bind(campaign)
                .push_bind(it.image_id)
                .push_bind(&it.team)
                .push_bind(!it.workloads.is_empty())
                .push_bind(it.workloads.len() as i64)
                .push_bind(ItemState::Open)
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
    Ok(ids)
}

/// Writes (item id, workload) rows; one already there is skipped.
async fn insert_item_workloads(tx: &mut Tx<'_>, rows: &[(i64, &(String, String, String))]) -> Result<()> {
    // Two thousand workloads a statement: 8,000 parameters.
    for chunk in rows.chunks(CHUNK * 2) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO campaign_item_workloads (item_id, cluster, namespace, workload) ");
        qb.push_values(chunk, |mut b, (id, (c, n, w))| {
            b.push_bind(*id).push_bind(c).push_bind(n).push_bind(w);
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}
