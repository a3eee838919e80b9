//! SQLite's own upkeep, which PostgreSQL does not share.

use super::*;
use crate::helpers::TestDb;

/// SQLite's write-ahead log is copied into the database by the store's background checkpoint,
/// not inside the commits: a connection checkpoints only past 16,384 pages, and a report's pages
/// are copied within a few seconds of its commit with no one else asking. Read from the WAL
/// index in the `-shm` file (its header: `mxFrame` at byte 16, the last frame committed; its
/// checkpoint record: `nBackfill` at byte 96, the last frame copied), written in the machine's
/// byte order.
#[tokio::test]
async fn sqlite_checkpoints_its_log_in_the_background() {
    let db = TestDb::sqlite().await;
    let Store::Sqlite(pool) = &db.store else { unreachable!("an SQLite store") };
    let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint").fetch_one(pool).await.unwrap();
    assert_eq!(pages, 16_384, "a commit does not checkpoint a log under 64 MB");
    ingest_bytes(&db.store, &juice_shop(), Utc::now()).await;
    let shm = std::path::PathBuf::from(db.url.trim_start_matches("sqlite://").to_string() + "-shm");
    let word = |bytes: &[u8], at: usize| u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut seen = Vec::new();
    for _ in 0..100 {
        let index = std::fs::read(&shm).unwrap();
        let (committed, copied) = (word(&index, 16), word(&index, 96));
        seen.push((committed, copied));
        if committed > 0 && copied == committed {
            db.cleanup().await;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the report's frames were not copied into the database within 10 s: (committed, copied) {seen:?}");
}

/// A large report's transaction takes a larger page cache while it holds the write lock (its
/// pages would not fit SQLite's default: Grype's 1,509 findings and 178 packages touch thousands)
/// and gives it back before its commit: afterwards every connection of the pool has its own
/// 2,000 KiB again, and the report's rows are all stored.
#[tokio::test]
async fn a_large_report_gives_its_page_cache_back() {
    let db = TestDb::sqlite().await;
    let Store::Sqlite(pool) = &db.store else { unreachable!("an SQLite store") };
    let bytes = fixture("grype/defectdojo-many_vulns-python36.json");
    let listed = serde_json::from_slice::<Value>(&bytes).unwrap()["matches"].as_array().unwrap().len();
    ingest_bytes(&db.store, &bytes, Utc::now()).await;
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM findings").fetch_one(pool).await.unwrap();
    assert_eq!(stored as usize, listed, "every match of the report is a finding");
    // Every connection the pool may have, the report's among them.
    let mut held = Vec::new();
    for _ in 0..pool.options().get_max_connections() {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let kib: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&mut **conn).await.unwrap();
        assert_eq!(kib, -2000, "a connection's page cache after the report");
    }
    drop(held);
    db.cleanup().await;
}

/// A large report that fails after its transaction widened the page cache gives the cache back
/// too, and leaves nothing of itself: on a pool of one connection (so the report's connection is
/// the one read afterwards), a trigger refuses the report's ledger entry, the last of its writes.
#[tokio::test]
async fn a_large_report_that_fails_gives_its_page_cache_back_and_writes_nothing() {
    let db = TestDb::sqlite().await;
    let opts: sqlx::sqlite::SqliteConnectOptions = db.url.parse().unwrap();
    let pool = sqlx::sqlite::SqlitePoolOptions::new().max_connections(1).connect_with(opts.pragma("cache_size", "-2000")).await.unwrap();
    sqlx::query("CREATE TRIGGER refuse_entries BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'refused by the test'); END")
        .execute(&pool)
        .await
        .unwrap();
    let store = Store::Sqlite(pool.clone());
    let bytes = fixture("grype/defectdojo-many_vulns-python36.json");
    let report = ingest::parse(&bytes, None).unwrap();
    let failed = store.ingest_report(&report, &sha256_hex(&bytes), &actor(), Utc::now()).await;
    assert!(failed.is_err(), "the trigger refuses the report's ledger entry");
    let kib: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&pool).await.unwrap();
    assert_eq!(kib, -2000, "the report's connection after the failure");
    let left: (i64, i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM scans), (SELECT COUNT(*) FROM findings), (SELECT COUNT(*) FROM images)")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, (0, 0, 0), "nothing of the failed report is stored");
    pool.close().await;
    db.cleanup().await;
}
