// A campaign's item and workload rows as PostgreSQL takes them fastest (included into the
// PostgreSQL backend only): one statement over arrays, one per column (`UNNEST`), however many
// rows. Multi-row `VALUES` statements of a thousand items spent a quarter of their time parsing
// and binding 11,000 parameters each (BENCHMARKS.md, session 21: PostgreSQL's statement log).

/// Writes `items` of `campaign` (an image already in it is skipped); answers (item id, image id)
/// of each row written.
async fn insert_item_rows(tx: &mut Tx<'_>, campaign: i64, items: &[NewCampaignItem], now: DateTime<Utc>) -> Result<Vec<(i64, i64)>> {
    let image_ids: Vec<i64> = items.iter().map(|it| it.image_id).collect();
    let teams: Vec<Option<&str>> = items.iter().map(|it| it.team.as_deref()).collect();
    let workloads: Vec<i64> = items.iter().map(|it| it.workloads.len() as i64).collect();
    let severities: Vec<&str> = items.iter().map(|it| it.severity.as_str()).collect();
    let first_seen: Vec<DateTime<Utc>> = items.iter().map(|it| it.first_seen).collect();
    let deadlines: Vec<chrono::NaiveDate> = items.iter().map(|it| it.deadline).collect();
    Ok(sqlx::query_as(
        "INSERT INTO campaign_items (campaign_id, image_id, team, running, workloads, state, severity, first_seen, deadline, created_at, updated_at)
         SELECT $1, u.image_id, u.team, u.workloads > 0, u.workloads, $2, u.severity, u.first_seen, u.deadline, $3, $3
         FROM UNNEST($4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::timestamptz[], $9::date[])
              AS u (image_id, team, workloads, severity, first_seen, deadline)
         ON CONFLICT (campaign_id, image_id) DO NOTHING RETURNING id, image_id",
    )
    .bind(campaign)
    .bind(ItemState::Open)
    .bind(now)
    .bind(image_ids)
    .bind(teams)
    .bind(workloads)
    .bind(severities)
    .bind(first_seen)
    .bind(deadlines)
    .fetch_all(&mut **tx)
    .await?)
}

/// Writes (item id, workload) rows; one already there is skipped.
async fn insert_item_workloads(tx: &mut Tx<'_>, rows: &[(i64, &(String, String, String))]) -> Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|(id, _)| *id).collect();
    let clusters: Vec<&str> = rows.iter().map(|(_, (c, _, _))| c.as_str()).collect();
    let namespaces: Vec<&str> = rows.iter().map(|(_, (_, n, _))| n.as_str()).collect();
    let names: Vec<&str> = rows.iter().map(|(_, (_, _, w))| w.as_str()).collect();
    sqlx::query(
        "INSERT INTO campaign_item_workloads (item_id, cluster, namespace, workload)
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[])
         ON CONFLICT DO NOTHING",
    )
    .bind(ids)
    .bind(clusters)
    .bind(namespaces)
    .bind(names)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
