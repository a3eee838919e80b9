// Daily scorecard snapshots (included into each backend module; store/policy.rs): the day's
// scores for the trends, its content hashed into the ledger for evidence, and the reads of both.

/// Records today's scores as the day's snapshot (taken again the same day, it is replaced) and
/// its content — the scores, the failing subjects, `policies` in force — as canonical JSON whose
/// SHA-256 a `scorecard.snapshot` ledger entry holds (when it differs from the day's recorded
/// content), all in one transaction.
pub async fn take_snapshot(pool: &Pool, day: chrono::NaiveDate, policies: &[PolicyInForce], actor: &Actor, now: DateTime<Utc>) -> Result<u64> {
    use crate::domain::snapshot::{entry_payload, entry_subject, sha256_hex, ENTRY_KIND};
    let mut tx = begin(pool).await?;
    sqlx::query("DELETE FROM scorecard_snapshots WHERE day = $1").bind(day).execute(&mut *tx).await?;
    let n = sqlx::query(
        "INSERT INTO scorecard_snapshots (day, team, policy, subjects, failing) SELECT $1, team, policy, subjects, failing FROM policy_scores",
    )
    .bind(day)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let doc = snapshot_document(&mut tx, day, policies).await?;
    let text = doc.canonical();
    let sha256 = sha256_hex(text.as_bytes());
    let recorded: Option<String> =
        sqlx::query_scalar("SELECT sha256 FROM scorecard_documents WHERE day = $1").bind(day).fetch_optional(&mut *tx).await?;
    // The job runs hourly: the same content is recorded (and entered in the ledger) once.
    if recorded.as_deref() != Some(sha256.as_str()) {
        sqlx::query(
            "INSERT INTO scorecard_documents (day, sha256, document, recorded_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (day) DO UPDATE SET sha256 = excluded.sha256, document = excluded.document, recorded_at = excluded.recorded_at",
        )
        .bind(day)
        .bind(&sha256)
        .bind(&text)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        append_event(&mut tx, actor, ENTRY_KIND, &entry_subject(day), entry_payload(&doc, &sha256), now).await?;
    }
    tx.commit().await?;
    Ok(n)
}

/// A subject failing a policy, as the snapshot reads it.
type FailingRow = (Option<String>, String, String, String, String, Option<DateTime<Utc>>);

/// The snapshot content of the stored scores and results, read in `tx`.
async fn snapshot_document(tx: &mut Tx<'_>, day: chrono::NaiveDate, policies: &[PolicyInForce]) -> Result<crate::domain::snapshot::Document> {
    use crate::domain::snapshot::{Document, Failure, Score};
    let scores: Vec<(String, String, i64, i64)> =
        sqlx::query_as("SELECT team, policy, subjects, failing FROM policy_scores ORDER BY team, policy").fetch_all(&mut **tx).await?;
    let failing: Vec<FailingRow> = sqlx::query_as(
        "SELECT team, policy, subject_kind, subject, reason, failing_since FROM policy_results WHERE passed = $1
         ORDER BY policy, subject_kind, subject",
    )
    .bind(false)
    .fetch_all(&mut **tx)
    .await?;
    Ok(Document {
        day,
        scores: scores.into_iter().map(|(team, policy, judged, failing)| Score { team, policy, judged, failing }).collect(),
        failing: failing
            .into_iter()
            .map(|(team, policy, subject_kind, subject, reason, since)| Failure {
                team,
                policy,
                subject_kind,
                subject,
                reason,
                since: since.as_ref().map(crate::domain::entry::entry_time),
            })
            .collect(),
        policies: policies.to_vec(),
    })
}

/// The content recorded for `day`'s snapshot and its SHA-256, if one was taken.
pub async fn scorecard_document(pool: &Pool, day: chrono::NaiveDate) -> Result<Option<(String, String)>> {
    Ok(sqlx::query_as("SELECT sha256, document FROM scorecard_documents WHERE day = $1").bind(day).fetch_optional(pool).await?)
}

/// Snapshots of one team ('' for none; every team with None) from `since` on, oldest first.
pub async fn snapshots(pool: &Pool, team: Option<&str>, since: chrono::NaiveDate) -> Result<Vec<SnapshotRecord>> {
    let mut qb = QueryBuilder::<DB>::new("SELECT day, team, policy, subjects, failing FROM scorecard_snapshots WHERE day >= ");
    qb.push_bind(since);
    if let Some(t) = team {
        qb.push(" AND team = ").push_bind(t);
    }
    qb.push(" ORDER BY day, team, policy");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// The snapshots of `teams` from `since` on.
pub async fn snapshots_of_teams(pool: &Pool, teams: &[String], since: chrono::NaiveDate) -> Result<Vec<SnapshotRecord>> {
    if teams.is_empty() {
        return Ok(vec![]);
    }
    let mut qb = QueryBuilder::<DB>::new("SELECT day, team, policy, subjects, failing FROM scorecard_snapshots WHERE day >= ");
    qb.push_bind(since).push(" AND team IN (");
    let mut sep = qb.separated(", ");
    for t in teams {
        sep.push_bind(t);
    }
    qb.push(") ORDER BY day, team, policy");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// Every team's snapshots of `days`.
pub async fn snapshots_of_days(pool: &Pool, days: &[chrono::NaiveDate]) -> Result<Vec<SnapshotRecord>> {
    if days.is_empty() {
        return Ok(vec![]);
    }
    let mut qb = QueryBuilder::<DB>::new("SELECT day, team, policy, subjects, failing FROM scorecard_snapshots WHERE day IN (");
    let mut sep = qb.separated(", ");
    for d in days {
        sep.push_bind(*d);
    }
    qb.push(") ORDER BY day, team, policy");
    Ok(qb.build_query_as().fetch_all(pool).await?)
}

/// Per day and policy from `since` on, the counts of every team summed (one row per day and policy).
pub async fn estate_snapshots(pool: &Pool, since: chrono::NaiveDate) -> Result<Vec<SnapshotRecord>> {
    Ok(sqlx::query_as(
        "SELECT day, '' AS team, policy, CAST(SUM(subjects) AS BIGINT) AS subjects, CAST(SUM(failing) AS BIGINT) AS failing \
         FROM scorecard_snapshots WHERE day >= $1 GROUP BY day, policy ORDER BY day, policy",
    )
    .bind(since)
    .fetch_all(pool)
    .await?)
}

/// The demo's reconstructed history: for each of the `days` days before `today`, today's scores
/// with more failures the further back (never more than the subjects), in one transaction.
pub async fn backfill_demo_snapshots(pool: &Pool, today: chrono::NaiveDate, days: i64) -> Result<()> {
    let scores = policy_scores(pool).await?;
    let mut rows: Vec<(chrono::NaiveDate, &str, &str, i64, i64)> = Vec::new();
    for back in 1..=days {
        let day = today - chrono::Duration::days(back);
        for s in &scores {
            let extra = (s.subjects - s.failing) * back / (days * 2);
            rows.push((day, s.team.as_str(), s.policy.as_str(), s.subjects, (s.failing + extra).min(s.subjects)));
        }
    }
    let mut tx = begin(pool).await?;
    for chunk in rows.chunks(CHUNK / 5) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO scorecard_snapshots (day, team, policy, subjects, failing) ");
        qb.push_values(chunk, |mut b, r| {
            b.push_bind(r.0).push_bind(r.1).push_bind(r.2).push_bind(r.3).push_bind(r.4);
        });
        qb.push(" ON CONFLICT (day, team, policy) DO NOTHING");
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn team_exists(pool: &Pool, name: &str) -> Result<bool> {
    Ok(sqlx::query_scalar::<_, i64>("SELECT id FROM teams WHERE name = $1").bind(name).fetch_optional(pool).await?.is_some())
}
