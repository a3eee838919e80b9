// Shared helpers of the store's SQL (included into each backend module).

#[allow(unused_imports)]
use super::{
    Actor, AuditEvent, ImageRow, IngestOutcome, IngestSummary, Result, StoreError, TableCounts, TokenInfo, WorkloadFilter,
};
#[allow(unused_imports)]
use super::campaign_rows::*;
#[allow(unused_imports)]
use super::policy_rows::*;
use super::batches::batches;
use super::admission::{AdmissionFacts, DecisionCount, ResolvedImage};
use super::evidence::{Attribution, OutdatedLibraryRecord, PodAccessRecord, PushRecord, TeamMessagesRecord, LIBRARY_TYPES};
use super::risk::{RiskFinding, RiskInputs, RiskRecord};
use super::rows::*;
use crate::domain::snapshot::PolicyInForce;
#[allow(unused_imports)]
use app::types::{Alias, AliasKind, FindingCounts, Page, PlatformManifest, RepositoryTags, RuleKind, ScanState, ScannerSeen, Severity, SignatureState};
#[allow(unused_imports)]
use chrono::{DateTime, Utc};
#[allow(unused_imports)]
use sqlx::{QueryBuilder, Row};
#[allow(unused_imports)]
use std::collections::{BTreeMap, HashMap, HashSet};
use crate::domain::campaign::ItemState;

type Pool = sqlx::Pool<DB>;
type Tx<'a> = sqlx::Transaction<'a, DB>;

/// Most rows one multi-row statement carries: well under both backends' bind limits.
const CHUNK: usize = 1000;

/// A transaction that changes the estate: it moves the data version (pages kept for the old
/// version are rendered again), committed or rolled back with the change.
async fn begin(pool: &Pool) -> Result<Tx<'_>> {
    let mut tx = pool.begin_with(BEGIN).await?;
    sqlx::query("UPDATE data_version SET version = version + 1 WHERE id = 1").execute(&mut *tx).await?;
    Ok(tx)
}

/// A transaction of bookkeeping no page shows as estate data (the job queue, sessions, ledger
/// checkpoints): the data version stays.
async fn begin_quiet(pool: &Pool) -> Result<Tx<'_>> {
    Ok(pool.begin_with(BEGIN).await?)
}

/// The data version (see `begin`).
pub async fn data_version(pool: &Pool) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT version FROM data_version WHERE id = 1").fetch_one(pool).await?)
}

/// Appends one audit event inside the caller's transaction: the change and its record commit
/// together or not at all. The event is the next entry of the ledger: the head row's lock makes
/// indexes dense and ordered; the entry bytes and leaf hash are stored with it.
async fn append_event(
    tx: &mut Tx<'_>,
    actor: &Actor,
    kind: &str,
    subject: &str,
    payload: serde_json::Value,
    now: DateTime<Utc>,
) -> Result<i64> {
    let index: i64 = sqlx::query_scalar("UPDATE ledger_head SET size = size + 1 WHERE id = 1 RETURNING size - 1")
        .fetch_one(&mut **tx)
        .await?;
    let entry = crate::domain::entry::entry_bytes(index, &crate::domain::entry::entry_time(&now), &actor.0, kind, subject, &payload);
    let leaf = hex::encode(crate::domain::merkle::leaf_hash(entry.as_bytes()));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO audit_events (time, actor, kind, subject, payload, ledger_index, entry, leaf_hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(now)
    .bind(&actor.0)
    .bind(kind)
    .bind(subject)
    .bind(payload.to_string())
    .bind(index)
    .bind(&entry)
    .bind(&leaf)
    .fetch_one(&mut **tx)
    .await?;
    // The perfect subtrees this entry completes (amortised: one read, one write per entry).
    let mut right = crate::domain::merkle::leaf_hash(entry.as_bytes());
    for (level, idx) in crate::domain::merkle::completed_by(index as u64) {
        let Some(left) = ledger_node(&mut **tx, level - 1, 2 * idx).await? else {
            // Only a ledger older than stored nodes lacks one: `ledger_index_backfill` builds them.
            break;
        };
        right = crate::domain::merkle::node_hash(&left, &right);
        sqlx::query("INSERT INTO ledger_nodes (level, idx, hash) VALUES ($1, $2, $3) ON CONFLICT (level, idx) DO NOTHING")
            .bind(level as i64)
            .bind(idx as i64)
            .bind(hex::encode(right))
            .execute(&mut **tx)
            .await?;
    }
    insert_mentions(tx, index, subject, &payload).await?;
    Ok(id)
}

/// Image digests an entry's payload names (besides its own subject), indexed for forensics.
async fn insert_mentions(tx: &mut Tx<'_>, index: i64, subject: &str, payload: &serde_json::Value) -> Result<()> {
    let mentions: Vec<String> = crate::domain::entry::mentioned_digests(payload)
        .into_iter()
        .map(|d| format!("image:{d}"))
        .filter(|m| m != subject)
        .collect();
    for chunk in mentions.chunks(CHUNK) {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO audit_mentions (subject, ledger_index) ");
        qb.push_values(chunk, |mut b, m| {
            b.push_bind(m).push_bind(index);
        });
        qb.push(" ON CONFLICT DO NOTHING");
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// One stored node: level 0 is an entry's leaf hash, higher levels are in `ledger_nodes`.
async fn ledger_node<'e, E>(exec: E, level: u32, idx: u64) -> Result<Option<crate::domain::merkle::Hash>>
where
    E: sqlx::Executor<'e, Database = DB>,
{
    let hex_hash: Option<String> = if level == 0 {
        sqlx::query_scalar("SELECT leaf_hash FROM audit_events WHERE ledger_index = $1").bind(idx as i64).fetch_optional(exec).await?
    } else {
        sqlx::query_scalar("SELECT hash FROM ledger_nodes WHERE level = $1 AND idx = $2")
            .bind(level as i64)
            .bind(idx as i64)
            .fetch_optional(exec)
            .await?
    };
    Ok(hex_hash.and_then(|h| hex::decode(h).ok()).and_then(|b| <[u8; 32]>::try_from(b).ok()))
}

pub async fn ping(pool: &Pool) -> Result<()> {
    sqlx::query("SELECT 1").execute(pool).await?;
    Ok(())
}

/// The newest migration applied successfully (0 before any).
pub async fn applied_schema_version(pool: &Pool) -> Result<i64> {
    Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(pool).await?.unwrap_or(0))
}

/// An audit event's columns (its payload as stored, JSON text).
#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    time: DateTime<Utc>,
    actor: String,
    kind: String,
    subject: String,
    payload: String,
}

pub async fn audit_events(pool: &Pool) -> Result<Vec<AuditEvent>> {
    let rows: Vec<EventRow> =
        sqlx::query_as("SELECT id, time, actor, kind, subject, payload FROM audit_events ORDER BY id").fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|EventRow { id, time, actor, kind, subject, payload }| AuditEvent {
            id,
            time,
            actor,
            kind,
            subject,
            payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::String(payload)),
        })
        .collect())
}

pub async fn is_empty(pool: &Pool) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM scans) + (SELECT COUNT(*) FROM teams) + (SELECT COUNT(*) FROM ownership_rules)",
    )
    .fetch_one(pool)
    .await?;
    Ok(n == 0)
}

pub async fn table_counts(pool: &Pool) -> Result<TableCounts> {
    const TABLES: [&str; 14] = [
        "teams", "ownership_rules", "repositories", "images", "image_aliases", "image_repositories", "tags",
        "vulnerabilities", "packages", "image_packages", "scans", "findings", "audit_events", "sessions",
    ];
    let sql = TABLES
        .iter()
        .map(|t| format!("SELECT '{t}', COUNT(*) FROM {t}"))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let mut rows: Vec<(String, i64)> = sqlx::query_as(&sql).fetch_all(pool).await?;
    rows.sort();
    Ok(TableCounts(rows))
}

/// Ensures the team exists; returns its id.
async fn ensure_team(tx: &mut Tx<'_>, name: &crate::domain::TeamName, actor: &Actor, now: DateTime<Utc>) -> Result<i64> {
    if let Some(id) = sqlx::query_scalar::<_, i64>("SELECT id FROM teams WHERE name = $1")
        .bind(name)
        .fetch_optional(&mut **tx)
        .await?
    {
        return Ok(id);
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO teams (name, display_name, created_at) VALUES ($1, $1, $2) RETURNING id",
    )
    .bind(name)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    append_event(tx, actor, "team.created", &format!("team:{name}"), serde_json::json!({ "name": name }), now).await?;
    Ok(id)
}

/// Recomputes owners from the repository-prefix rules: the longest matching prefix wins (ties:
/// the older rule). A prefix matches whole path segments of `registry/name` or of `name`.
/// `image` limits the update to one image (looked up by its key: `$1 IS NULL OR id = $1` made
/// SQLite visit every image for each report); `None` recomputes every image in one statement.
async fn recompute_owners(tx: &mut Tx<'_>, image: Option<i64>) -> Result<()> {
    let set_owner = format!("UPDATE images SET (team_id, owner_rule_id) = ({OWNER_BY_REPOSITORY})");
    match image {
        Some(id) => sqlx::query(&format!("{set_owner} WHERE images.id = $1")).bind(id).execute(&mut **tx).await?,
        None => sqlx::query(&set_owner).execute(&mut **tx).await?,
    };
    Ok(())
}

/// The (team, rule) owning the image being updated by the repository-prefix rules, as a subquery
/// of an `UPDATE images` (see `recompute_owners`).
const OWNER_BY_REPOSITORY: &str = "SELECT r.team_id, r.id
            FROM image_repositories ir
            JOIN repositories rp ON rp.id = ir.repository_id
            JOIN ownership_rules r ON r.kind = 'repository_prefix' AND (
                   rp.registry || '/' || rp.name = r.pattern
                OR substr(rp.registry || '/' || rp.name, 1, length(r.pattern) + 1) = r.pattern || '/'
                OR rp.name = r.pattern
                OR substr(rp.name, 1, length(r.pattern) + 1) = r.pattern || '/')
            WHERE ir.image_id = images.id
            ORDER BY length(r.pattern) DESC, r.id
            LIMIT 1";

/// The pods whose stored owner `set_pod_owners` recomputes.
enum PodsToOwn<'a> {
    /// Pods just written.
    Ids(&'a [i64]),
    /// The pods a new rule can match (none for a repository-prefix rule: it owns images).
    MatchedBy(&'a crate::domain::ownership::RuleSpec),
}

/// Stores each pod's owner by the rules that judge the pod itself: a pod-label rule (`key=value`;
/// the older rule first), else a namespace rule. The image's owner is joined when reading.
async fn set_pod_owners(tx: &mut Tx<'_>, pods: PodsToOwn<'_>) -> Result<()> {
    const SET: &str = "UPDATE pods SET rule_team_id = COALESCE(
            (SELECT r.team_id FROM ownership_rules r JOIN pod_labels l ON l.pod_id = pods.id AND r.pattern = l.key || '=' || l.value
             WHERE r.kind = 'label' ORDER BY r.id LIMIT 1),
            (SELECT r.team_id FROM ownership_rules r WHERE r.kind = 'namespace' AND r.pattern = pods.namespace ORDER BY r.id LIMIT 1))";
    match pods {
        PodsToOwn::Ids(ids) => {
            for chunk in ids.chunks(CHUNK) {
                let mut qb = QueryBuilder::<DB>::new(SET);
                qb.push(" WHERE id IN (");
                in_list(&mut qb, chunk);
                qb.build().execute(&mut **tx).await?;
            }
        }
        PodsToOwn::MatchedBy(rule) => {
            let label = match rule.kind() {
                app::types::RuleKind::RepositoryPrefix => return Ok(()),
                app::types::RuleKind::Namespace => false,
                app::types::RuleKind::Label => true,
            };
            let matched = |head: &str| {
                let mut qb = QueryBuilder::<DB>::new(head);
                if label {
                    qb.push(" WHERE id IN (SELECT pod_id FROM pod_labels WHERE key || '=' || value = ").push_bind(rule.pattern()).push(")");
                } else {
                    qb.push(" WHERE namespace = ").push_bind(rule.pattern());
                }
                qb
            };
            matched(SET).build().execute(&mut **tx).await?;
            let places: Vec<(i64, String)> = matched("SELECT DISTINCT cluster_id, namespace FROM pods")
                .push(" AND ended_at IS NULL")
                .build_query_as()
                .fetch_all(&mut **tx)
                .await?;
            let mut by_cluster: BTreeMap<i64, Vec<String>> = BTreeMap::new();
            for (cluster, namespace) in places {
                by_cluster.entry(cluster).or_default().push(namespace);
            }
            for (cluster, namespaces) in by_cluster {
                refresh_running_workloads(tx, cluster, Some(&namespaces)).await?;
            }
        }
    }
    Ok(())
}

/// Finds an image id by any of its digests.
async fn image_id_by_digest<'e, E>(exec: E, digest: &str) -> Result<Option<i64>>
where
    E: sqlx::Executor<'e, Database = DB>,
{
    Ok(sqlx::query_scalar(
        "SELECT image_id FROM image_aliases WHERE digest = $1 UNION SELECT id FROM images WHERE digest = $1",
    )
    .bind(digest)
    .fetch_optional(exec)
    .await?)
}

/// Upserts repositories and returns their ids keyed by (registry, name).
async fn ensure_repositories(
    tx: &mut Tx<'_>,
    repos: &[crate::domain::Repository],
    now: DateTime<Utc>,
) -> Result<HashMap<(String, String), i64>> {
    let mut out = HashMap::new();
    if repos.is_empty() {
        return Ok(out);
    }
    let mut qb = QueryBuilder::<DB>::new("INSERT INTO repositories (registry, name, first_seen) ");
    qb.push_values(repos, |mut b, r| {
        b.push_bind(&r.registry).push_bind(&r.name).push_bind(now);
    });
    qb.push(" ON CONFLICT (registry, name) DO NOTHING");
    qb.build().execute(&mut **tx).await?;
    // Each repository by its key (an expression over both columns would read every repository),
    // a few hundred a statement: SQLite nests each `OR` one level deeper, and refuses past 1,000.
    for chunk in repos.chunks(CHUNK / 4) {
        let mut qb = QueryBuilder::<DB>::new("SELECT id, registry, name FROM repositories WHERE ");
        for (i, r) in chunk.iter().enumerate() {
            qb.push(if i == 0 { "(registry = " } else { " OR (registry = " });
            qb.push_bind(&r.registry).push(" AND name = ").push_bind(&r.name).push(")");
        }
        let rows: Vec<(i64, String, String)> = qb.build_query_as().fetch_all(&mut **tx).await?;
        for (id, registry, name) in rows {
            out.insert((registry, name), id);
        }
    }
    Ok(out)
}

/// Points tags at an image and records the image as present in those repositories.
async fn link_repositories(
    tx: &mut Tx<'_>,
    image_id: i64,
    repos: &[crate::domain::Repository],
    tags: &[(crate::domain::Repository, String)],
    now: DateTime<Utc>,
) -> Result<()> {
    let mut all: Vec<crate::domain::Repository> = repos.to_vec();
    all.extend(tags.iter().map(|(r, _)| r.clone()));
    all.sort();
    all.dedup();
    let ids = ensure_repositories(tx, &all, now).await?;
    if ids.is_empty() {
        return Ok(());
    }
    let mut qb = QueryBuilder::<DB>::new("INSERT INTO image_repositories (image_id, repository_id, first_seen, last_seen) ");
    qb.push_values(ids.values(), |mut b, id| {
        b.push_bind(image_id).push_bind(*id).push_bind(now).push_bind(now);
    });
    qb.push(" ON CONFLICT (image_id, repository_id) DO UPDATE SET last_seen = excluded.last_seen");
    qb.build().execute(&mut **tx).await?;
    let mut tag_rows: Vec<(i64, &str)> = tags
        .iter()
        .filter_map(|(r, t)| ids.get(&(r.registry.clone(), r.name.clone())).map(|id| (*id, t.as_str())))
        .collect();
    tag_rows.sort();
    tag_rows.dedup();
    if !tag_rows.is_empty() {
        let mut qb = QueryBuilder::<DB>::new("INSERT INTO tags (repository_id, tag, image_id, updated_at) ");
        qb.push_values(&tag_rows, |mut b, (repo, tag)| {
            b.push_bind(*repo).push_bind(*tag).push_bind(image_id).push_bind(now);
        });
        qb.push(
            " ON CONFLICT (repository_id, tag) DO UPDATE SET image_id = excluded.image_id, updated_at = excluded.updated_at",
        );
        qb.build().execute(&mut **tx).await?;
    }
    Ok(())
}

/// Six severity counts stored side by side (critical … unknown) starting at column `i`.
fn counts_at(r: &<DB as sqlx::Database>::Row, i: usize) -> Result<FindingCounts> {
    Ok(FindingCounts {
        critical: r.try_get(i)?,
        high: r.try_get(i + 1)?,
        medium: r.try_get(i + 2)?,
        low: r.try_get(i + 3)?,
        negligible: r.try_get(i + 4)?,
        unknown: r.try_get(i + 5)?,
    })
}

