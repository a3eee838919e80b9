// Sessions (tower-sessions records as JSON) and signed-in people.

/// The sessions of `ids` that exist (id, data, expiry in unix seconds; expired ones too: whoever
/// asked judges expiry by its own clock), with the data version read by the same statement: one
/// statement answers every page request waiting at the time (`http::session_store`), and a page
/// then needs no second round trip to know whether its kept copy is current. The list is padded
/// to a power of two (the last id repeated: `IN` matches a row once): batches of any size are a
/// few statement texts, not one per size crowding the connections' prepared statements.
pub async fn sessions_load(pool: &Pool, ids: &[String]) -> Result<(Vec<super::StoredSession>, i64)> {
    let mut qb = QueryBuilder::<DB>::new("SELECT v.version, s.id, s.data, s.expires_at FROM data_version v LEFT JOIN sessions s ON s.id IN (");
    let mut list = qb.separated(", ");
    match ids.last() {
        Some(last) => {
            for id in ids.iter().chain(std::iter::repeat(last)).take(ids.len().next_power_of_two()) {
                list.push_bind(id);
            }
        }
        None => {
            list.push("NULL");
        }
    }
    qb.push(") WHERE v.id = 1");
    // (version, id, data, expiry): one row with NULLs when no session is found.
    type Row = (i64, Option<String>, Option<String>, Option<i64>);
    let rows: Vec<Row> = qb.build_query_as().fetch_all(pool).await?;
    let version = rows.first().map(|r| r.0).ok_or(StoreError::Db(sqlx::Error::RowNotFound))?;
    let found = rows
        .into_iter()
        .filter_map(|(_, id, data, expires)| Some(super::StoredSession { id: id?, data: data?, expires_at: expires? }))
        .collect();
    Ok((found, version))
}

/// Inserts a new session; `false` when the id is taken (the caller draws another).
pub async fn session_create(pool: &Pool, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<bool> {
    let n = sqlx::query("INSERT INTO sessions (id, data, expires_at, subject) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .bind(subject)
        .execute(pool)
        .await?
        .rows_affected();
    Ok(n == 1)
}

pub async fn session_save(pool: &Pool, id: &str, data: &str, expires_at: i64, subject: Option<&str>) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, data, expires_at, subject) VALUES ($1, $2, $3, $4)
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at, subject = excluded.subject",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .bind(subject)
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn session_delete(pool: &Pool, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM sessions WHERE id = $1").bind(id).execute(pool).await?;
    Ok(())
}

pub async fn session_delete_expired(pool: &Pool, now_unix: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1").bind(now_unix).execute(pool).await?.rows_affected())
}

/// Ends every session of `subject` (recorded); answers how many there were.
pub async fn end_user_sessions(pool: &Pool, subject: &str, actor: &Actor, now: DateTime<Utc>) -> Result<u64> {
    let mut tx = begin_quiet(pool).await?;
    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE subject = $1").bind(subject).fetch_optional(&mut *tx).await?;
    if known.is_none() {
        return Err(StoreError::not_found(format!("nobody with subject {subject:?} has signed in")));
    }
    let n = sqlx::query("DELETE FROM sessions WHERE subject = $1").bind(subject).execute(&mut *tx).await?.rows_affected();
    append_event(&mut tx, actor, "user.sessions_ended", &format!("user:{subject}"), serde_json::json!({ "sessions": n }), now).await?;
    tx.commit().await?;
    Ok(n)
}

/// People who signed in, with their live session counts (newest first).
pub async fn users(pool: &Pool, now_unix: i64) -> Result<Vec<UserRecord>> {
    Ok(sqlx::query_as(
        "SELECT u.subject, u.login, u.name, u.email, u.first_seen, u.last_seen,
                (SELECT COUNT(*) FROM sessions s WHERE s.subject = u.subject AND s.expires_at > $1) AS sessions
         FROM users u ORDER BY u.last_seen DESC LIMIT 1000",
    )
    .bind(now_unix)
    .fetch_all(pool)
    .await?)
}

/// Records an authentication event (sign-in, sign-out, failed sign-in) and, for a sign-in, the
/// person, in one transaction.
pub async fn record_auth_event(
    pool: &Pool,
    user: Option<&super::SignedInUser>,
    actor: &Actor,
    kind: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin_quiet(pool).await?;
    if let Some(u) = user {
        sqlx::query(
            "INSERT INTO users (subject, login, name, email, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5, $5)
             ON CONFLICT (subject) DO UPDATE SET login = excluded.login, name = excluded.name, email = excluded.email,
                                               last_seen = excluded.last_seen",
        )
        .bind(&u.subject)
        .bind(&u.login)
        .bind(&u.name)
        .bind(&u.email)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    let subject = user.map(|u| format!("user:{}", u.subject)).unwrap_or_else(|| "auth".into());
    append_event(&mut tx, actor, kind, &subject, payload, now).await?;
    tx.commit().await?;
    Ok(())
}

/// Group → role mappings an admin stored (config-file mappings are added by the caller).
pub async fn role_mappings(pool: &Pool) -> Result<Vec<(String, String, Option<crate::domain::TeamName>)>> {
    Ok(sqlx::query_as(
        "SELECT m.idp_group, m.role, t.name FROM role_mappings m LEFT JOIN teams t ON t.id = m.team_id ORDER BY m.idp_group, m.role",
    )
    .fetch_all(pool)
    .await?)
}

/// Stored mappings with their ids and who added them when, for the admin page.
pub async fn role_mapping_rows(pool: &Pool) -> Result<Vec<super::RoleMappingRow>> {
    Ok(sqlx::query_as(
        "SELECT m.id, m.idp_group, m.role, t.name AS team, m.created_at, m.created_by
         FROM role_mappings m LEFT JOIN teams t ON t.id = m.team_id ORDER BY m.idp_group, m.role",
    )
    .fetch_all(pool)
    .await?)
}

pub async fn add_role_mapping(
    pool: &Pool,
    mapping: &crate::auth::mapping::GroupMapping,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<()> {
    let mut tx = begin_quiet(pool).await?;
    let team_id = match &mapping.grant.team {
        Some(t) => Some(ensure_team(&mut tx, t, actor, now).await?),
        None => None,
    };
    let inserted = sqlx::query(
        "INSERT INTO role_mappings (idp_group, role, team_id, created_at, created_by) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT DO NOTHING",
    )
    .bind(&mapping.group)
    .bind(mapping.grant.role.as_str())
    .bind(team_id)
    .bind(now)
    .bind(&actor.0)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Err(StoreError::invalid_input(format!("group {:?} already maps to that role and team", mapping.group)));
    }
    append_event(
        &mut tx,
        actor,
        "role_mapping.created",
        &format!("group:{}", mapping.group),
        serde_json::json!({ "group": mapping.group, "role": mapping.grant.role.as_str(), "team": mapping.grant.team }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_role_mapping(pool: &Pool, id: i64, actor: &Actor, now: DateTime<Utc>) -> Result<()> {
    let mut tx = begin_quiet(pool).await?;
    let row: Option<(String, String)> = sqlx::query_as("DELETE FROM role_mappings WHERE id = $1 RETURNING idp_group, role")
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((group, role)) = row else {
        return Err(StoreError::not_found(format!("no role mapping has id {id}")));
    };
    append_event(
        &mut tx,
        actor,
        "role_mapping.deleted",
        &format!("group:{group}"),
        serde_json::json!({ "id": id, "group": group, "role": role }),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
