//! Opening the store (pools, migrations), its health (ping, schema, pool state) and the SQLite
//! backup: the store's lifecycle, apart from its capabilities.

use super::{backend_postgres, backend_sqlite, Result, Store, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

/// Store calls in progress in this process: those beyond the pool's used connections are
/// waiting for one (`PoolState::waiting`).
static CALLS_IN_PROGRESS: std::sync::atomic::AtomicI64 = std::sync::atomic::AtomicI64::new(0);

/// Counts one store call while it lasts, however it ends.
pub(crate) struct InCall;

impl InCall {
    pub(crate) fn enter() -> InCall {
        CALLS_IN_PROGRESS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        InCall
    }
}

impl Drop for InCall {
    fn drop(&mut self) {
        CALLS_IN_PROGRESS.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

/// The connection pool now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolState {
    pub idle: i64,
    pub used: i64,
    /// Store calls in progress beyond the used connections: waiting for one.
    pub waiting: i64,
}

/// How often SQLite's write-ahead log is copied into the database file, off the requests' path.
/// SQLite's default copies it inside the commit that takes the log past 1,000 pages: at
/// `enterprise` that was every report of a thousand findings or more (Grype's 1,509 write some
/// 1,400 pages), and 16 ms of such an upload's 20 ms commit (BENCHMARKS.md, session 23). In the
/// background a page written by several reports is also copied once.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(250);
/// The log's size at which a commit checkpoints after all (the background fell behind): 64 MB.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16_384;
/// The log file is cut back to this size once checkpointed and restarted.
const WAL_SIZE_LIMIT_BYTES: u64 = 64 * 1024 * 1024;

/// Copies the log's committed pages into the database every `CHECKPOINT_EVERY` until the pool
/// closes. PASSIVE: it waits for no reader and no writer, and copies what no reader still needs;
/// a checkpoint another connection or process is running answers busy and the next tick tries.
async fn checkpoint_wal(pool: sqlx::SqlitePool) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    while !pool.is_closed() {
        tick.tick().await;
        if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)").execute(&pool).await {
            tracing::debug!(error = %e, "the write-ahead log was not checkpointed this time");
        }
    }
}

impl Store {
    /// Opens the database named by `url` (creating a missing SQLite file) and migrates it.
    #[tracing::instrument(level = "debug", skip_all)]
    /// Opens the database for a tool that would rather wait for a connection than fail (the
    /// bench, tests): up to 20 s. `serve` and the commands wait `db_acquire_timeout_seconds`.
    pub async fn connect(url: &str) -> Result<Store> {
        Store::connect_with(url, Duration::from_secs(20)).await
    }

    /// Opens the database; a request that waits `acquire_timeout` for a connection fails as an
    /// outage (503), so requests fail fast while the database is down and recover with it.
    pub async fn connect_with(url: &str, acquire_timeout: Duration) -> Result<Store> {
        let store = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // PostgreSQL's own plan caching (custom plans, then a generic one when it costs no
            // more). Sessions 13-19 forced a custom plan for every statement, because a generic
            // plan made while a table was small was kept as it grew on a database never analysed;
            // the `database.statistics` job now analyses changed tables every 5 minutes (which
            // invalidates the cached plans), and planning each statement again cost 0.6-1 ms of
            // every admission request and page (BENCHMARKS.md, session 20).
            let opts = PgConnectOptions::from_str(url)?;
            let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(acquire_timeout).connect_with(opts).await?;
            Store::Postgres(pool)
        } else if url.starts_with("sqlite:") {
            let opts = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(15))
                // A commit copies the log into the database only past WAL_AUTOCHECKPOINT_PAGES;
                // `checkpoint_wal` does it in the background well before.
                .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
                .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string())
                .pragma("cache_size", format!("-{}", super::PAGE_CACHE_KIB));
            // A pooled connection is handed out without a ping first: a SQLite connection is a
            // file handle and a worker thread, not a socket that can go stale, and each ping is a
            // round trip to that thread (55–65 µs measured, BENCHMARKS.md session 33), paid by
            // every acquire of every request.
            let pool = SqlitePoolOptions::new()
                .max_connections(8)
                .acquire_timeout(acquire_timeout)
                .test_before_acquire(false)
                .connect_with(opts)
                .await?;
            tokio::spawn(checkpoint_wal(pool.clone()));
            Store::Sqlite(pool)
        } else {
            return Err(StoreError::invalid_input(format!(
                "unsupported database URL {:?}: use sqlite://FILE or postgres://...",
                crate::domain::redact_url(url)
            )));
        };
        store.migrate().await?;
        Ok(store)
    }
    /// Applies pending migrations (PostgreSQL: under sqlx's advisory lock, so replicas may race).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn migrate(&self) -> Result<()> {
        match self {
            Store::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(p).await?,
            Store::Postgres(p) => sqlx::migrate!("../migrations/postgres").run(p).await?,
        }
        // Events written before the ledger existed join the log once, in id order.
        let carried = dispatch!(self, ledger_backfill())?;
        if carried > 0 {
            tracing::info!(entries = carried, "older audit events carried into the ledger");
        }
        // A ledger from before stored subtree hashes and mentions gets them once.
        let nodes = dispatch!(self, ledger_index_backfill())?;
        if nodes > 0 {
            tracing::info!(nodes, "ledger subtree hashes built for entries written before they were stored");
        }
        Ok(())
    }
    /// Answers when the database does.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<()> {
        dispatch!(self, ping())
    }
    /// The data version: moved by every transaction that changes the estate (`backend/common.rs`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn data_version(&self) -> Result<i64> {
        dispatch!(self, data_version())
    }
    /// True when every migration this build knows is applied (a newer replica may have applied
    /// more: that schema is still current for this one).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn schema_is_current(&self) -> Result<bool> {
        let newest = match self {
            Store::Sqlite(_) => sqlx::migrate!("../migrations/sqlite").iter().map(|m| m.version).max(),
            Store::Postgres(_) => sqlx::migrate!("../migrations/postgres").iter().map(|m| m.version).max(),
        };
        Ok(dispatch!(self, applied_schema_version())? >= newest.unwrap_or(0))
    }
    /// Writes a consistent copy of the SQLite database to `path` (`VACUUM INTO`: one read
    /// transaction, writers go on) and answers the ledger entries the copy holds. PostgreSQL is
    /// refused: `pg_dump` is its backup.
    pub async fn backup_into(&self, path: &std::path::Path) -> Result<i64> {
        let Store::Sqlite(pool) = self else {
            return Err(StoreError::invalid_input("a PostgreSQL database is backed up with pg_dump, not drydock backup"));
        };
        let target = path.to_str().ok_or_else(|| StoreError::invalid("file", "the path is not UTF-8"))?;
        sqlx::query("VACUUM INTO $1").bind(target).execute(pool).await?;
        let copy = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = sqlx::ConnectOptions::connect(&copy).await?;
        let entries: i64 = sqlx::query_scalar("SELECT size FROM ledger_head WHERE id = 1").fetch_one(&mut conn).await?;
        sqlx::Connection::close(conn).await?;
        Ok(entries)
    }
    /// The pool's connections now, and the store calls waiting for one.
    pub fn pool_state(&self) -> PoolState {
        let (size, idle) = match self {
            Store::Sqlite(p) => (p.size(), p.num_idle()),
            Store::Postgres(p) => (p.size(), p.num_idle()),
        };
        let used = i64::from(size) - idle as i64;
        let calls = CALLS_IN_PROGRESS.load(std::sync::atomic::Ordering::Relaxed);
        PoolState { idle: idle as i64, used: used.max(0), waiting: (calls - used).max(0) }
    }
    /// Which backend this is (`sqlite` or `postgres`).
    pub fn backend(&self) -> &'static str {
        match self {
            Store::Sqlite(_) => "sqlite",
            Store::Postgres(_) => "postgres",
        }
    }
}
