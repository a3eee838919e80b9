//! Tamper detection on a real store: every edit, deletion, insertion or reordering named by its
//! first bad index, verification in batches on both databases, checkpoints and their signatures,
//! atomicity of a change and its entry, and the carry-over of events older than the ledger.

use super::helpers::{fixture, TestDb};
use drydock::ledger::{self, merkle};
use drydock::store::capabilities::*;
use drydock::store::Store;
use serde_json::Value;

/// A SQLite store with the demo estate and a signed checkpoint; returns the store and the key.
async fn demo_ledger() -> (TestDb, ledger::LedgerKey, tempfile::TempDir) {
    let db = TestDb::sqlite().await;
    drydock::demo::load_if_empty(&db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = ledger::LedgerKey::generate(&dir.path().join("ledger.pem")).unwrap();
    ledger::current_checkpoint(&db.store, &key, chrono::Utc::now()).await.unwrap();
    (db, key, dir)
}

pub(super) async fn sql(store: &Store, q: &str) {
    match store {
        Store::Sqlite(p) => {
            sqlx::query(q).execute(p).await.unwrap();
        }
        Store::Postgres(p) => {
            sqlx::query(q).execute(p).await.unwrap();
        }
    }
}

#[tokio::test]
async fn tampering_with_one_entry_names_the_first_bad_index() {
    let (db, key, _dir) = demo_ledger().await;
    let report = ledger::verify_store(&db.store, Some(&key.public())).await.unwrap();
    assert!(report.error.is_none(), "{report:?}");
    assert!(report.size > 20 && report.checkpoints_checked == 1);

    // Each tamper on a fresh copy of the same ledger.
    let cases: [(&str, &str); 6] = [
        ("UPDATE audit_events SET payload = '{\"forged\":true}' WHERE ledger_index = 5", "entry 5:"),
        ("DELETE FROM audit_events WHERE ledger_index = 7", "entry 7: missing"),
        ("UPDATE audit_events SET ledger_index = -1 WHERE ledger_index = 3; UPDATE audit_events SET ledger_index = 3 WHERE ledger_index = 4; UPDATE audit_events SET ledger_index = 4 WHERE ledger_index = -1", "entry 3:"),
        ("INSERT INTO audit_events (time, actor, kind, subject, payload) VALUES ('2026-01-01T00:00:00Z', 'intruder', 'x', 'y', '{}')", "not in the log"),
        ("UPDATE audit_events SET actor = 'someone-else' WHERE ledger_index = 0", "entry 0:"),
        ("INSERT INTO audit_events (time, actor, kind, subject, payload, ledger_index) VALUES ('2026-01-01T00:00:00Z', 'intruder', 'x', 'y', '{}', 100000)", "stored after the log's end"),
    ];
    for (tamper, want) in cases {
        let (db, key, _dir) = demo_ledger().await;
        for stmt in tamper.split("; ") {
            sql(&db.store, stmt).await;
        }
        let r = ledger::verify_store(&db.store, Some(&key.public())).await.unwrap();
        let e = r.error.unwrap_or_else(|| panic!("{tamper}: not detected"));
        assert!(e.contains(want), "{tamper}: {e}");
    }

    // Rewriting an entry consistently (bytes, leaf and fields) still breaks the signed checkpoint.
    let (db, key, _dir) = demo_ledger().await;
    let row = db.store.ledger_rows(2, 3).await.unwrap().pop().unwrap();
    let forged = ledger::entry_bytes(
        2,
        &ledger::entry_time(&row.time),
        "intruder",
        &row.kind,
        &row.subject,
        &serde_json::from_str(&row.payload).unwrap(),
    );
    let leaf = hex::encode(merkle::leaf_hash(forged.as_bytes()));
    let q = format!(
        "UPDATE audit_events SET actor = 'intruder', entry = '{}', leaf_hash = '{leaf}' WHERE ledger_index = 2",
        forged.replace('\'', "''")
    );
    sql(&db.store, &q).await;
    let e = ledger::verify_store(&db.store, Some(&key.public())).await.unwrap().error.expect("detected");
    assert!(e.contains("no longer matches the signed checkpoint"), "{e}");

    // A checkpoint re-signed with another key (someone holding the database, not the key) fails.
    let (db, key, dir) = demo_ledger().await;
    let other = ledger::LedgerKey::generate(&dir.path().join("other.pem")).unwrap();
    let size = db.store.ledger_size().await.unwrap();
    let leaves = db.store.ledger_leaves(size).await.unwrap();
    sql(&db.store, "DELETE FROM ledger_checkpoints").await;
    let forged = other.sign_checkpoint(size as u64, &merkle::root(&leaves));
    db.store.store_checkpoint(size, &hex::encode(merkle::root(&leaves)), &forged, chrono::Utc::now()).await.unwrap();
    let e = ledger::verify_store(&db.store, Some(&key.public())).await.unwrap().error.expect("forgery detected");
    assert!(e.contains("no signature by the ledger key"), "{e}");
}

/// Verification reads the ledger a batch at a time and checks each checkpoint as the tree
/// reaches it: any batch size gives the report of one pass (the root the leaves' tree has, every
/// checkpoint checked), and a change in a later batch names its index.
#[tokio::test]
async fn verification_in_batches_checks_every_checkpoint_sqlite() {
    verification_in_batches_checks_every_checkpoint(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn verification_in_batches_checks_every_checkpoint_postgres() {
    verification_in_batches_checks_every_checkpoint(TestDb::postgres().await).await;
}

async fn verification_in_batches_checks_every_checkpoint(db: TestDb) {
    drydock::demo::load_if_empty(&db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = ledger::LedgerKey::generate(&dir.path().join("ledger.pem")).unwrap();
    ledger::current_checkpoint(&db.store, &key, chrono::Utc::now()).await.unwrap();
    // Microseconds, a float, an escape and a non-ASCII name: the entry spells them canonically.
    let now = chrono::DateTime::parse_from_rfc3339("2026-03-04T05:06:07.089012Z").unwrap().with_timezone(&chrono::Utc);
    for round in 0..3 {
        for i in 0..10 {
            let payload = serde_json::json!({ "round": round, "i": i, "ratio": 2.0, "note": "tab\there, «é»" });
            db.store.record_auth_event(None, &drydock::store::Actor(format!("r{round}")), "test.event", payload, now).await.unwrap();
        }
        ledger::current_checkpoint(&db.store, &key, now).await.unwrap();
    }
    let checkpoints = db.store.ledger_checkpoints().await.unwrap().len();
    assert!(checkpoints >= 4, "{checkpoints} checkpoints");
    let whole = ledger::verify_store(&db.store, Some(&key.public())).await.unwrap();
    assert_eq!((whole.error.as_deref(), whole.checkpoints_checked), (None, checkpoints));
    let leaves = db.store.ledger_leaves(whole.size).await.unwrap();
    assert_eq!(whole.root, hex::encode(merkle::root(&leaves)));
    for batch in [1, 7, 64] {
        let r = ledger::verify_store_in_batches(&db.store, Some(&key.public()), batch).await.unwrap();
        assert_eq!((r.error, r.checkpoints_checked, &r.root, r.size), (None, checkpoints, &whole.root, whole.size), "batch {batch}");
    }
    // The same payload spelled otherwise (spaces, members reordered, 2.0 as 2.00) is the same
    // entry; another value is not.
    let late = whole.size - 5;
    let row = db.store.ledger_rows(late, late + 1).await.unwrap().pop().unwrap();
    let value: Value = serde_json::from_str(&row.payload).unwrap();
    let respelled = format!("{{ \"ratio\": 2.00, \"round\": {}, \"note\": {}, \"i\": {} }}", value["round"], value["note"], value["i"]);
    sql(&db.store, &format!("UPDATE audit_events SET payload = '{respelled}' WHERE ledger_index = {late}")).await;
    let again = ledger::verify_store_in_batches(&db.store, Some(&key.public()), 7).await.unwrap();
    assert_eq!((again.error, again.root), (None, whole.root.clone()));
    for tamper in [
        format!("UPDATE audit_events SET payload = '{{\"forged\":true}}' WHERE ledger_index = {late}"),
        format!("UPDATE audit_events SET payload = '{}' WHERE ledger_index = {late}", row.payload.replace("2.0", "2.5")),
        format!("UPDATE audit_events SET actor = 'r9' WHERE ledger_index = {late}"),
    ] {
        sql(&db.store, &tamper).await;
        let e = ledger::verify_store_in_batches(&db.store, Some(&key.public()), 7).await.unwrap().error.unwrap();
        assert!(e.starts_with(&format!("entry {late}:")), "{tamper}: {e}");
        sql(
            &db.store,
            &format!("UPDATE audit_events SET payload = '{}', actor = '{}' WHERE ledger_index = {late}", row.payload, row.actor),
        )
        .await;
    }
    // The time is part of the entry: a stored time a microsecond off is found.
    let shift = match &db.store {
        Store::Sqlite(_) => format!("UPDATE audit_events SET time = '2026-03-04T05:06:07.089013+00:00' WHERE ledger_index = {late}"),
        Store::Postgres(_) => format!("UPDATE audit_events SET time = time + interval '1 microsecond' WHERE ledger_index = {late}"),
    };
    assert!(ledger::verify_store(&db.store, Some(&key.public())).await.unwrap().error.is_none());
    sql(&db.store, &shift).await;
    let e = ledger::verify_store(&db.store, Some(&key.public())).await.unwrap().error.unwrap();
    assert!(e.starts_with(&format!("entry {late}:")), "{e}");
    db.cleanup().await;
}

/// A new database's ledger is empty; the checkpoint of its empty tree verifies like any other.
#[tokio::test]
async fn an_empty_ledger_and_its_checkpoint_verify() {
    let db = TestDb::sqlite().await;
    let dir = tempfile::tempdir().unwrap();
    let key = ledger::LedgerKey::generate(&dir.path().join("ledger.pem")).unwrap();
    let size = db.store.ledger_size().await.unwrap();
    ledger::current_checkpoint(&db.store, &key, chrono::Utc::now()).await.unwrap();
    let r = ledger::verify_store(&db.store, Some(&key.public())).await.unwrap();
    assert_eq!((r.error, r.size, r.checkpoints_checked), (None, size, 1));
}

#[tokio::test]
async fn a_failed_change_leaves_neither_the_change_nor_its_entry() {
    let db = TestDb::sqlite().await;
    let before = db.store.ledger_size().await.unwrap();
    // Creating a cluster appends its entry, then the pods insert fails: all or nothing.
    sql(&db.store, "CREATE TRIGGER fail_pods BEFORE INSERT ON pods BEGIN SELECT RAISE(ABORT, 'injected failure'); END").await;
    let upload = match drydock::k8s::parse(&fixture("k8s-pods/kubectl-neat-pod1-raw.json")).unwrap() {
        drydock::k8s::Upload::Pods(p) => p,
        _ => unreachable!(),
    };
    let e = db
        .store
        .store_pods(
            &drydock::domain::ClusterName::parse("new-cluster").unwrap(),
            &upload,
            &drydock::store::Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("injected failure"), "{e}");
    assert_eq!(db.store.ledger_size().await.unwrap(), before);
    assert!(db.store.clusters().await.unwrap().clusters.is_empty());
    assert!(db.store.audit_events().await.unwrap().iter().all(|e| e.kind != "cluster.created"));
    assert!(ledger::verify_store(&db.store, None).await.unwrap().error.is_none());
}

#[tokio::test]
async fn events_written_before_the_ledger_are_carried_into_it() {
    let db = TestDb::postgres().await;
    drydock::store::Store::connect(&db.url).await.unwrap();
    db.store
        .ensure_teams(&[drydock::domain::TeamName::parse("a").unwrap()], &drydock::store::Actor::cli(), chrono::Utc::now())
        .await
        .unwrap();
    let size = db.store.ledger_size().await.unwrap();
    // An event as the foundation wrote it: no index, no entry bytes.
    sql(&db.store, "INSERT INTO audit_events (time, actor, kind, subject, payload) VALUES (now(), 'cli', 'team.created', 'team:old', '{\"name\":\"old\"}')").await;
    assert!(ledger::verify_store(&db.store, None).await.unwrap().error.unwrap().contains("not in the log"));
    db.store.migrate().await.unwrap();
    assert_eq!(db.store.ledger_size().await.unwrap(), size + 1);
    let report = ledger::verify_store(&db.store, None).await.unwrap();
    assert!(report.error.is_none(), "{report:?}");
    db.cleanup().await;
}
