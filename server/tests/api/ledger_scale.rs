//! The ledger off the request path and at scale: a witness that never answers does not hold up a
//! checkpoint request, and proofs and checkpoints read stored tree nodes instead of rehashing
//! every entry.

use super::helpers::{TestApp, TestDb};
use axum::http::StatusCode as AxStatus;
use drydock::store::capabilities::*;
use drydock::store::{Actor, Store};
use reqwest::StatusCode;
use serde_json::json;
use std::sync::{Arc, Mutex};

/// A witness that takes the connection and never answers, until released: a checkpoint request
/// must not wait for it.
#[tokio::test]
async fn the_witness_is_off_the_request_path_and_retried() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let witness = format!("http://127.0.0.1:{}/witness", listener.local_addr().unwrap().port());
    let received: Arc<Mutex<Vec<String>>> = Arc::default();
    let (release_tx, release_rx) = tokio::sync::watch::channel(false);
    {
        let received = received.clone();
        tokio::spawn(async move {
            loop {
                let (mut sock, _) = listener.accept().await.unwrap();
                let (received, mut release) = (received.clone(), release_rx.clone());
                tokio::spawn(async move {
                    let mut buf = vec![0u8; 65536];
                    let n = sock.read(&mut buf).await.unwrap_or(0);
                    received.lock().unwrap().push(String::from_utf8_lossy(&buf[..n]).into_owned());
                    let _ = release.wait_for(|r| *r).await;
                    let _ = sock.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n").await;
                });
            }
        });
    }
    let config = drydock::config::Config { ledger_witness: Some(witness.clone()), ..Default::default() };
    let app = TestApp::start_with(TestDb::sqlite().await, config).await;
    drydock::demo::load_if_empty(&app.db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    let viewer = app.token("viewer").await;
    let r = app.client.get(app.url("/api/v1/ledger/checkpoint")).bearer_auth(&viewer).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "answered while the witness holds its connection unanswered");
    let note = r.text().await.unwrap();
    assert!(!*release_tx.borrow(), "the witness was never released before the answer");
    // (The server's own `ledger.checkpoint` job may push an earlier checkpoint too.)
    let reached = |got: &[String]| got.iter().any(|r| r.starts_with("POST /witness") && r.contains(note.lines().nth(2).unwrap()));
    for _ in 0..100 {
        if reached(&received.lock().unwrap()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let got = received.lock().unwrap().clone();
    assert!(reached(&got), "the checkpoint reached the witness: {got:?}");
    release_tx.send(true).unwrap();

    // Retries: a witness failing twice, then taking it.
    let calls: Arc<Mutex<usize>> = Arc::default();
    let c = calls.clone();
    let flaky = axum::Router::new().fallback(move || {
        let c = c.clone();
        async move {
            let mut n = c.lock().unwrap();
            *n += 1;
            if *n <= 2 {
                AxStatus::INTERNAL_SERVER_ERROR
            } else {
                AxStatus::OK
            }
        }
    });
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/w", l.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(l, flaky).await.unwrap() });
    assert!(drydock::ledger::push_with_retries(&url, &note, 4, std::time::Duration::from_secs(5)).await);
    assert_eq!(*calls.lock().unwrap(), 3);
    // A witness that never answers gives up after its attempts, each bounded by the timeout.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let silent_url = format!("http://{}/w", silent.local_addr().unwrap());
    assert!(!drydock::ledger::push_with_retries(&silent_url, &note, 1, std::time::Duration::from_millis(300)).await);
    drop(silent);
}

async fn ledger_reads_use_stored_nodes(store: &Store) {
    use drydock::ledger::{self, merkle};
    let now = chrono::Utc::now();
    let digest = format!("sha256:{}", "c".repeat(64));
    for i in 0..77 {
        let payload = if i == 40 { json!({ "pushed": format!("app@{digest}") }) } else { json!({ "i": i }) };
        store.record_auth_event(None, &Actor(format!("t{i}")), "test.event", payload, now).await.unwrap();
    }
    let size = store.ledger_size().await.unwrap();
    let leaves = store.ledger_leaves(size).await.unwrap();
    assert_eq!(ledger::tree_root(store, size).await.unwrap(), merkle::root(&leaves));
    for (m, n) in [(0, size), (40, size), (size - 1, size), (5, 33), (31, 32)] {
        assert_eq!(
            ledger::inclusion_proof(store, m, n).await.unwrap(),
            merkle::inclusion_proof(m as usize, &leaves[..n as usize]),
            "{m} in {n}"
        );
    }
    for (m, n) in [(1, size), (32, size), (33, 64), (size, size), (7, 50)] {
        assert_eq!(
            ledger::consistency_proof(store, m, n).await.unwrap(),
            merkle::consistency_proof(m as usize, &leaves[..n as usize]),
            "{m} -> {n}"
        );
    }
    // Reading a proof fetches O(log n) nodes, not the leaves.
    let mut rec = merkle::NodeRecorder::default();
    merkle::inclusion_proof_from(&mut rec, 0, 40, size as u64);
    assert!(rec.0.len() <= 2 * 7 + 2, "{} nodes for a proof in {size}", rec.0.len());
    // The entry mentioning the digest is found by its indexed mention.
    let mentions: i64 = match store {
        Store::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM audit_mentions WHERE subject = $1")
            .bind(format!("image:{digest}"))
            .fetch_one(p)
            .await
            .unwrap(),
        Store::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM audit_mentions WHERE subject = $1")
            .bind(format!("image:{digest}"))
            .fetch_one(p)
            .await
            .unwrap(),
    };
    assert_eq!(mentions, 1);
}

#[tokio::test]
async fn ledger_reads_use_stored_nodes_sqlite() {
    let db = TestDb::sqlite().await;
    ledger_reads_use_stored_nodes(&db.store).await;
    // A ledger written before nodes were stored gets them when opened.
    if let Store::Sqlite(p) = &db.store {
        sqlx::query("DELETE FROM ledger_nodes").execute(p).await.unwrap();
        sqlx::query("DELETE FROM audit_mentions").execute(p).await.unwrap();
    }
    let reopened = Store::connect(&db.url).await.unwrap();
    let size = reopened.ledger_size().await.unwrap();
    let leaves = reopened.ledger_leaves(size).await.unwrap();
    assert_eq!(drydock::ledger::tree_root(&reopened, size).await.unwrap(), drydock::ledger::merkle::root(&leaves));
    assert_eq!(drydock::ledger::inclusion_proof(&reopened, 3, size).await.unwrap(), drydock::ledger::merkle::inclusion_proof(3, &leaves));
}

#[tokio::test]
async fn ledger_reads_use_stored_nodes_postgres() {
    let db = TestDb::postgres().await;
    ledger_reads_use_stored_nodes(&db.store).await;
    db.cleanup().await;
}

on_both_databases!(verification_beside_concurrent_appends_never_fails);

/// Verifying while other writers append: the size and the entries are read in one snapshot, so
/// an entry appended between the reads is never taken for tampering.
async fn verification_beside_concurrent_appends_never_fails(db: TestDb) {
    let store = db.store.clone();
    let writer = {
        let store = store.clone();
        tokio::spawn(async move {
            for i in 0..300 {
                store.record_auth_event(None, &Actor(format!("w{i}")), "test.event", json!({ "i": i }), chrono::Utc::now()).await.unwrap();
            }
        })
    };
    let mut verified = 0;
    while !writer.is_finished() {
        let report = drydock::ledger::verify_store(&store, None).await.unwrap();
        assert_eq!(report.error, None, "verification beside appends (after {verified} clean runs)");
        verified += 1;
    }
    writer.await.unwrap();
    let report = drydock::ledger::verify_store(&store, None).await.unwrap();
    assert_eq!((report.error, report.size), (None, 300));
    println!("{verified} verifications ran beside 300 appends");
    db.cleanup().await;
}
