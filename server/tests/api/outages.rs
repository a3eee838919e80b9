//! Outages answered honestly (issue 22): a database that cannot answer now is `503` with
//! `Retry-After` and a message saying so, never `500`; the same request is taken once it answers.

use super::helpers::{fixture, TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::Value;
use sqlx::Connection;

/// Another process holds SQLite's write lock past the busy timeout: the upload is refused with
/// 503 and `Retry-After` (the report is not wrong, nothing of it is written), and the same upload
/// is taken once the lock is released.
#[tokio::test]
async fn sqlite_busy_is_503_with_retry_after() {
    let db = TestDb::sqlite().await;
    let url = db.url.clone();
    let app = TestApp::start(db, 64 << 20).await;
    let security = app.token("security").await;
    let body = fixture("trivy/debian-buster.json");
    let mut blocker = sqlx::SqliteConnection::connect(&url).await.unwrap();
    sqlx::query("BEGIN IMMEDIATE").execute(&mut blocker).await.unwrap();
    let r = app.client.post(app.url("/api/v1/scans")).bearer_auth(&security).body(body.clone()).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    let e: Value = r.json().await.unwrap();
    assert!(e["error"].as_str().is_some_and(|m| m.contains("database is not answering")), "{e}");
    sqlx::query("ROLLBACK").execute(&mut blocker).await.unwrap();
    let images: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM images").fetch_one(&mut blocker).await.unwrap();
    assert_eq!(images, 0, "nothing of the refused upload is written");
    let r = app.client.post(app.url("/api/v1/scans")).bearer_auth(&security).body(body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    blocker.close().await.unwrap();
    app.db.drop_database().await;
}
