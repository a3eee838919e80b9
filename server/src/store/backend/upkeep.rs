// The database's upkeep (included into each backend module).

/// Runs `ANALYZE` where the statistics are stale, on one connection: `STALE_STATISTICS` lists the
/// statements (`ANALYZE "schema"."table"`, one a table), and `REFRESH_STATISTICS`, when set,
/// does them all at once; answers the tables.
pub async fn refresh_statistics(pool: &Pool) -> Result<Vec<String>> {
    let mut conn = pool.acquire().await?;
    let stale: Vec<String> = sqlx::query_scalar(STALE_STATISTICS).fetch_all(&mut *conn).await?;
    match REFRESH_STATISTICS {
        Some(_) if stale.is_empty() => {}
        Some(all) => {
            sqlx::query(all).execute(&mut *conn).await?;
        }
        None => {
            for statement in &stale {
                sqlx::query(statement).execute(&mut *conn).await?;
            }
        }
    }
    Ok(stale.iter().map(|s| super::upkeep::analyzed_table(s)).collect())
}
