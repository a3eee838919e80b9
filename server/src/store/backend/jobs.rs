// Durable jobs (included into each backend module): claimed one at a time with a lease.

/// Inserts each periodic job that is missing (due now); a changed period is taken over. Replicas
/// doing this at once insert each row once: (kind, key) is unique.
pub async fn ensure_periodic_jobs(pool: &Pool, jobs: &[super::jobs::PeriodicJob], now: DateTime<Utc>) -> Result<()> {
    for chunk in jobs.chunks(CHUNK) {
        let mut q = QueryBuilder::<DB>::new("INSERT INTO jobs (kind, key, run_at, period_seconds) ");
        q.push_values(chunk, |mut b, j| {
            b.push_bind(&j.kind).push_bind(&j.key).push_bind(now).push_bind(j.period_seconds);
        });
        q.push(
            " ON CONFLICT (kind, key) DO UPDATE SET period_seconds = excluded.period_seconds
              WHERE jobs.period_seconds IS NULL OR jobs.period_seconds <> excluded.period_seconds",
        );
        q.build().execute(pool).await?;
    }
    Ok(())
}

/// Deletes the periodic jobs of `kind` whose key is not in `keep` (their subject is gone).
pub async fn retire_periodic_jobs(pool: &Pool, kind: &str, keep: &[String]) -> Result<u64> {
    let mut q = QueryBuilder::<DB>::new("DELETE FROM jobs WHERE period_seconds IS NOT NULL AND locked_by IS NULL AND kind = ");
    q.push_bind(kind);
    if !keep.is_empty() {
        q.push(" AND key NOT IN (");
        let mut sep = q.separated(", ");
        for k in keep {
            sep.push_bind(k);
        }
        q.push(")");
    }
    Ok(q.build().execute(pool).await?.rows_affected())
}

/// Makes a job due at `run_at` (or keeps its earlier due time); a one-off job is created when
/// missing. `repeat` more runs follow it, a few seconds apart.
pub async fn enqueue_job(pool: &Pool, kind: &str, key: &str, run_at: DateTime<Utc>, repeat: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO jobs (kind, key, run_at, period_seconds, repeat) VALUES ($1, $2, $3, NULL, $4)
         ON CONFLICT (kind, key) DO UPDATE SET
             run_at = CASE WHEN excluded.run_at < jobs.run_at THEN excluded.run_at ELSE jobs.run_at END,
             repeat = CASE WHEN excluded.repeat > jobs.repeat THEN excluded.repeat ELSE jobs.repeat END",
    )
    .bind(kind)
    .bind(key)
    .bind(run_at)
    .bind(repeat)
    .execute(pool)
    .await?;
    Ok(())
}

/// Claims the job due first whose lease is free or ran out, for `worker` until `until`; an earlier
/// run whose lease ran out is marked abandoned; the new run is recorded. One transaction: on
/// PostgreSQL the row is locked with SKIP LOCKED (claimers never wait on each other), on SQLite
/// `BEGIN IMMEDIATE` serialises claimers.
pub async fn claim_job(
    pool: &Pool,
    worker: &str,
    claim: &str,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Option<super::jobs::ClaimedJob>> {
    let mut tx = begin_quiet(pool).await?;
    let sql = format!(
        "UPDATE jobs SET locked_by = $1, claim = $2, locked_until = $4, last_started = $3
         WHERE id = (SELECT id FROM jobs WHERE run_at <= $3 AND (locked_until IS NULL OR locked_until < $3)
                     ORDER BY run_at, id LIMIT 1{SKIP_LOCKED})
         RETURNING id, kind, key, run_at, period_seconds, repeat, attempts"
    );
    let row: Option<super::jobs::JobClaimRow> =
        sqlx::query_as(&sql).bind(worker).bind(claim).bind(now).bind(until).fetch_optional(&mut *tx).await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(None);
    };
    sqlx::query("UPDATE job_runs SET outcome = 'abandoned', finished_at = $2, error = 'its lease ran out before it finished' WHERE job_id = $1 AND outcome = 'running'")
        .bind(row.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let run_id: i64 = sqlx::query_scalar(
        "INSERT INTO job_runs (job_id, kind, key, worker, due_at, started_at, outcome) VALUES ($1, $2, $3, $4, $5, $6, 'running') RETURNING id",
    )
    .bind(row.id)
    .bind(&row.kind)
    .bind(&row.key)
    .bind(worker)
    .bind(row.run_at)
    .bind(now)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(Some(super::jobs::ClaimedJob { row, run_id, claim: claim.to_string() }))
}

/// Extends a held lease; false when the claim is no longer this worker's.
pub async fn extend_job_lease(pool: &Pool, id: i64, claim: &str, until: DateTime<Utc>) -> Result<bool> {
    let n = sqlx::query("UPDATE jobs SET locked_until = $3 WHERE id = $1 AND claim = $2").bind(id).bind(claim).bind(until).execute(pool).await?;
    Ok(n.rows_affected() == 1)
}

/// Records how a claimed run ended and what happens next (`next`: the next due time and the
/// remaining repeats, or None to delete a finished one-off job). A run whose claim was taken
/// over meanwhile records its outcome but leaves the job to its new holder.
pub async fn finish_job(
    pool: &Pool,
    job: &super::jobs::ClaimedJob,
    outcome: std::result::Result<(), &str>,
    next: Option<(DateTime<Utc>, i64)>,
    now: DateTime<Utc>,
) -> Result<bool> {
    let mut tx = begin_quiet(pool).await?;
    sqlx::query("UPDATE job_runs SET outcome = $2, error = $3, finished_at = $4 WHERE id = $1")
        .bind(job.run_id)
        .bind(if outcome.is_ok() { "ok" } else { "failed" })
        .bind(outcome.err())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let held = match (next, outcome) {
        (None, _) => sqlx::query("DELETE FROM jobs WHERE id = $1 AND claim = $2").bind(job.row.id).bind(&job.claim).execute(&mut *tx).await?,
        (Some((at, repeat)), Ok(())) => {
            sqlx::query(
                "UPDATE jobs SET run_at = $3, repeat = $4, attempts = 0, last_success = $5,
                        locked_by = NULL, claim = NULL, locked_until = NULL
                 WHERE id = $1 AND claim = $2",
            )
            .bind(job.row.id)
            .bind(&job.claim)
            .bind(at)
            .bind(repeat)
            .bind(now)
            .execute(&mut *tx)
            .await?
        }
        (Some((at, repeat)), Err(e)) => {
            sqlx::query(
                "UPDATE jobs SET run_at = $3, repeat = $4, attempts = attempts + 1, last_failure = $5, last_error = $6,
                        locked_by = NULL, claim = NULL, locked_until = NULL
                 WHERE id = $1 AND claim = $2",
            )
            .bind(job.row.id)
            .bind(&job.claim)
            .bind(at)
            .bind(repeat)
            .bind(now)
            .bind(e)
            .execute(&mut *tx)
            .await?
        }
    };
    tx.commit().await?;
    Ok(held.rows_affected() == 1)
}

/// Hands a claimed job back unfinished (its process is shutting down): the run is recorded as
/// interrupted and the job is due again at once for any worker, its failures in a row unchanged.
pub async fn release_job(pool: &Pool, job: &super::jobs::ClaimedJob, now: DateTime<Utc>) -> Result<bool> {
    let mut tx = begin_quiet(pool).await?;
    sqlx::query("UPDATE job_runs SET outcome = 'interrupted', error = 'its process shut down before it finished', finished_at = $2 WHERE id = $1")
        .bind(job.run_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let held = sqlx::query("UPDATE jobs SET locked_by = NULL, claim = NULL, locked_until = NULL WHERE id = $1 AND claim = $2")
        .bind(job.row.id)
        .bind(&job.claim)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(held.rows_affected() == 1)
}

/// How many jobs are due at `now` and not held by a live lease, and the earliest due time among them.
pub async fn job_backlog(pool: &Pool, now: DateTime<Utc>) -> Result<(i64, Option<DateTime<Utc>>)> {
    Ok(sqlx::query_as("SELECT COUNT(*), MIN(run_at) FROM jobs WHERE run_at <= $1 AND (locked_until IS NULL OR locked_until < $1)")
        .bind(now)
        .fetch_one(pool)
        .await?)
}

/// Every job, due first.
pub async fn jobs(pool: &Pool) -> Result<Vec<super::jobs::JobRow>> {
    Ok(sqlx::query_as(
        "SELECT kind, key, run_at, period_seconds, attempts, locked_by, locked_until, last_started, last_success, last_failure, last_error
         FROM jobs ORDER BY kind, key",
    )
    .fetch_all(pool)
    .await?)
}

/// The most recent runs, newest first.
pub async fn job_runs(pool: &Pool, limit: i64) -> Result<Vec<super::jobs::JobRunRow>> {
    Ok(sqlx::query_as(
        "SELECT id, kind, key, worker, due_at, started_at, finished_at, outcome, error FROM job_runs ORDER BY started_at DESC, id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// Deletes runs that started before `before`.
pub async fn prune_job_runs(pool: &Pool, before: DateTime<Utc>) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM job_runs WHERE started_at < $1 AND outcome <> 'running'").bind(before).execute(pool).await?.rows_affected())
}
