//! The `database.statistics` job: on each database, the demo estate's tables get planner
//! statistics from the periodic job, and a table nothing changed is left alone.

use super::helpers::{run_due_jobs, TestDb};
use drydock::store::capabilities::*;
use drydock::store::Store;
use std::sync::Arc;

on_both_databases!(the_statistics_job_gathers_what_changed);

async fn the_statistics_job_gathers_what_changed(db: TestDb) {
    drydock::demo::load_if_empty(&db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    changes_visible(&db.store).await;
    assert!(!has_statistics(&db.store, "images").await, "no statistics before the job");

    let clock: drydock::clock::SharedClock = Arc::new(drydock::clock::SystemClock);
    let runs = run_due_jobs(&db.store, &clock).await;
    let run = runs.iter().find(|r| r.kind == "database.statistics").expect("the statistics job is periodic and was due");
    let said = run.outcome.as_ref().unwrap_or_else(|e| panic!("the statistics job failed: {e}"));
    assert!(said.contains("images") && said.contains("campaign_items"), "{said}");
    let gathered = ["images", "campaign_items", "image_vulnerabilities", "pods"];
    for table in gathered {
        assert!(has_statistics(&db.store, table).await, "{table} has statistics after the job ({said})");
    }
    // Tables the demo and the jobs never write (nobody signed in, no registry sent a push).
    for table in ["sessions", "users", "registry_events"] {
        assert_eq!(rows(&db.store, table).await, 0, "{table} is empty");
        assert!(!said.split([' ', ',']).any(|t| t == table), "{table} did not change, yet was analysed: {said}");
    }
    if let Store::Sqlite(_) = db.store {
        // The estate's tables did not change since: they are not gathered again (the other jobs
        // of the same pass wrote to some small tables; PostgreSQL's change counts may still be
        // arriving from the connections that loaded the estate, so only SQLite is asked).
        let again = db.store.refresh_statistics().await.unwrap();
        assert!(gathered.iter().all(|t| !again.iter().any(|a| a == t)), "gathered again: {again:?}");
    }
    db.cleanup().await;
}

/// Waits until PostgreSQL's statistics show the demo's writes to `images` and (written last)
/// `campaign_items`: each connection reports its counts within seconds of going idle, and the
/// job reads them. SQLite's `PRAGMA optimize` looks at the tables themselves.
async fn changes_visible(store: &Store) {
    let Store::Postgres(p) = store else { return };
    for _ in 0..60 {
        let changed: i64 =
            sqlx::query_scalar("SELECT MIN(n_mod_since_analyze) FROM pg_stat_user_tables WHERE relname IN ('images', 'campaign_items')")
                .fetch_one(p)
                .await
                .unwrap();
        if changed > 0 {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("PostgreSQL never counted the demo's images and campaign items");
}

async fn rows(store: &Store, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    match store {
        Store::Sqlite(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
        Store::Postgres(p) => sqlx::query_scalar(&sql).fetch_one(p).await.unwrap(),
    }
}

/// Whether the planner has statistics for `table`.
async fn has_statistics(store: &Store, table: &str) -> bool {
    match store {
        Store::Sqlite(p) => {
            let exists: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").fetch_one(p).await.unwrap();
            exists > 0
                && sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = $1").bind(table).fetch_one(p).await.unwrap()
                    > 0
        }
        Store::Postgres(p) => {
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM pg_stats WHERE schemaname = current_schema() AND tablename = $1")
                .bind(table)
                .fetch_one(p)
                .await
                .unwrap()
                > 0
        }
    }
}
