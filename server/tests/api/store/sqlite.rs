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

/// Transactions that write take the store's one writer connection, which keeps a 64 MB page cache
/// (its own commits leave it warm); reads run on the readers' pool with SQLite's default cache.
/// Eight reports posted at once queue for the writer and are all stored.
#[tokio::test]
async fn sqlite_writes_on_one_connection_with_its_own_cache() {
    let db = TestDb::sqlite().await;
    let Store::Sqlite(sqlite) = &db.store else { unreachable!("an SQLite store") };
    let writer_cache: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&sqlite.write).await.unwrap();
    let reader_cache: i64 = sqlx::query_scalar("PRAGMA cache_size").fetch_one(&sqlite.read).await.unwrap();
    assert_eq!((writer_cache, reader_cache), (-65_536, -2_000), "64 MB for the writer, SQLite's default for readers");
    let base = juice_shop();
    let reports: Vec<Vec<u8>> = (0..8)
        .map(|k| {
            let mut r: serde_json::Value = serde_json::from_slice(&base).unwrap();
            r["Metadata"]["ImageID"] = serde_json::json!(format!("sha256:{:064x}", k + 1));
            r["Metadata"]["RepoDigests"] = serde_json::json!([format!("registry.example/app{k}@sha256:{:064x}", k + 1)]);
            serde_json::to_vec(&r).unwrap()
        })
        .collect();
    let stored = futures_util::future::join_all(reports.iter().map(|r| ingest_bytes(&db.store, r, Utc::now()))).await;
    assert_eq!(stored.len(), 8);
    let images: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images").fetch_one(sqlite).await.unwrap();
    assert_eq!(images, 8, "every report stored, none refused as locked");
    assert_eq!(sqlite.write.size(), 1, "one writer connection");
    db.cleanup().await;
}
