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

/// An SQLite database as the store opens it: a pool of connections that read, and one connection
/// every transaction that writes takes (`backend/common.rs`: `begin`). SQLite admits one writer at
/// a time anyway; one connection keeps what it writes in its own page cache, which a commit of
/// another connection would have emptied: a report's new rows go to index pages it has already
/// read (BENCHMARKS.md, session 24). Reads run on the pool, as `&SqliteDb` is an executor of it.
#[derive(Clone, Debug)]
pub struct SqliteDb {
    pub read: sqlx::SqlitePool,
    pub write: sqlx::SqlitePool,
}

/// The writer's page cache: 64 MB (SQLite's default is 2 MB); the readers keep the default. It
/// fills as the writer touches pages, up to this size, whatever the uploads in flight.
pub const SQLITE_WRITER_CACHE_KIB: i64 = 64 * 1024;
/// How long a writer waits for the writer connection: as long as it waited for SQLite's write
/// lock before (the busy timeout), so concurrent reports queue rather than fail.
const WRITER_WAIT: Duration = Duration::from_secs(15);

impl SqliteDb {
    /// Closes the readers' pool and the writer.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }
}

/// A pool used alone (a test's own, a copy being checked): it reads and writes.
impl From<sqlx::SqlitePool> for SqliteDb {
    fn from(pool: sqlx::SqlitePool) -> SqliteDb {
        SqliteDb { read: pool.clone(), write: pool }
    }
}

impl std::ops::Deref for SqliteDb {
    type Target = sqlx::SqlitePool;
    fn deref(&self) -> &sqlx::SqlitePool {
        &self.read
    }
}

impl<'p> sqlx::Executor<'p> for &'_ SqliteDb {
    type Database = sqlx::Sqlite;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> futures_util::stream::BoxStream<
        'e,
        std::result::Result<sqlx::Either<sqlx::sqlite::SqliteQueryResult, sqlx::sqlite::SqliteRow>, sqlx::Error>,
    >
    where
        E: 'q + sqlx::Execute<'q, sqlx::Sqlite>,
    {
        (&self.read).fetch_many(query)
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> futures_util::future::BoxFuture<'e, std::result::Result<Option<sqlx::sqlite::SqliteRow>, sqlx::Error>>
    where
        E: 'q + sqlx::Execute<'q, sqlx::Sqlite>,
    {
        (&self.read).fetch_optional(query)
    }

    fn prepare_with<'e, 'q: 'e>(
        self,
        sql: &'q str,
        parameters: &'e [sqlx::sqlite::SqliteTypeInfo],
    ) -> futures_util::future::BoxFuture<'e, std::result::Result<sqlx::sqlite::SqliteStatement<'q>, sqlx::Error>> {
        (&self.read).prepare_with(sql, parameters)
    }

    fn describe<'e, 'q: 'e>(
        self,
        sql: &'q str,
    ) -> futures_util::future::BoxFuture<'e, std::result::Result<sqlx::Describe<sqlx::Sqlite>, sqlx::Error>> {
        (&self.read).describe(sql)
    }
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
                .pragma("journal_size_limit", WAL_SIZE_LIMIT_BYTES.to_string());
            let read = SqlitePoolOptions::new().max_connections(8).acquire_timeout(acquire_timeout).connect_with(opts.clone()).await?;
            // The writer: one connection kept open (its cache with it), waited for in turn.
            let write = SqlitePoolOptions::new()
                .max_connections(1)
                .acquire_timeout(WRITER_WAIT.max(acquire_timeout))
                .idle_timeout(None)
                .max_lifetime(None)
                .connect_with(opts.pragma("cache_size", (-SQLITE_WRITER_CACHE_KIB).to_string()))
                .await?;
            tokio::spawn(checkpoint_wal(read.clone()));
            Store::Sqlite(SqliteDb { read, write })
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
            Store::Sqlite(p) => sqlx::migrate!("../migrations/sqlite").run(&p.write).await?,
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
        sqlx::query("VACUUM INTO $1").bind(target).execute(&pool.read).await?;
        let copy = SqliteConnectOptions::new().filename(path).read_only(true);
        let mut conn = sqlx::ConnectOptions::connect(&copy).await?;
        let entries: i64 = sqlx::query_scalar("SELECT size FROM ledger_head WHERE id = 1").fetch_one(&mut conn).await?;
        sqlx::Connection::close(conn).await?;
        Ok(entries)
    }
    /// The pool's connections now, and the store calls waiting for one.
    pub fn pool_state(&self) -> PoolState {
        let (size, idle) = match self {
            Store::Sqlite(p) => (p.read.size() + p.write.size(), p.read.num_idle() + p.write.num_idle()),
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
