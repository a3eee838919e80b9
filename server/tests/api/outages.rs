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

/// `drydock ingest --server` meets a 503 (a fault injected in front of the real server): it says
/// so, waits the `Retry-After`, sends the same report again and it is stored once.
#[tokio::test]
async fn ingest_tries_a_503_again_after_its_retry_after() {
    use axum::response::IntoResponse;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let app = TestApp::start(TestDb::sqlite().await, 64 << 20).await;
    let security = app.token("security").await;
    let upstream = app.url("/api/v1/scans");
    let seen = std::sync::Arc::new(AtomicUsize::new(0));
    let counted = seen.clone();
    let router = axum::Router::new().route(
        "/api/v1/scans",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
            let (upstream, counted) = (upstream.clone(), counted.clone());
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) == 0 {
                    let busy = serde_json::json!({"error": "the database is not answering; try again shortly"});
                    return (StatusCode::SERVICE_UNAVAILABLE, [("retry-after", "1")], axum::Json(busy)).into_response();
                }
                let auth = headers.get("authorization").cloned().unwrap();
                let r = reqwest::Client::new().post(&upstream).header("authorization", auth).body(body).send().await.unwrap();
                (r.status(), r.bytes().await.unwrap()).into_response()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let file = super::helpers::fixture_path("trivy/debian-buster.json");
    let out = super::hostile::drydock(&["ingest", "--server", &base, "--token", &security, file.to_str().unwrap()]).await;
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stderr.contains(
            "HTTP 503 Service Unavailable: the database is not answering; try again shortly; trying again in 1 s (attempt 2 of 5)"
        ),
        "{stderr}"
    );
    assert!(stdout.contains("stored"), "{stdout}");
    assert_eq!(seen.load(Ordering::SeqCst), 2, "one refused attempt, one stored");
    let images: i64 = match &app.db.store {
        drydock::store::Store::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM images").fetch_one(p).await.unwrap(),
        drydock::store::Store::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM images").fetch_one(p).await.unwrap(),
    };
    assert_eq!(images, 1);
    app.db.drop_database().await;
}

/// A signed-in person's page while the database does not answer: 503 with `Retry-After` and a
/// page saying so — not a sign-in prompt (the session could not be read, not found missing).
#[tokio::test]
async fn a_page_during_an_outage_says_so() {
    let config = drydock::config::Config { demo: true, ..Default::default() };
    let app = TestApp::start_with(TestDb::sqlite().await, config).await;
    let r = super::signin::demo_sign_in(&app, "viewer").await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    match &app.db.store {
        drydock::store::Store::Sqlite(p) => p.close().await,
        drydock::store::Store::Postgres(p) => p.close().await,
    }
    let r = app.client.get(app.url("/teams")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(r.headers().get("retry-after").and_then(|v| v.to_str().ok()), Some("5"));
    let html = r.text().await.unwrap();
    assert!(html.contains("database is not answering"), "{html}");
}
