//! Backup and restore on both backends (issue 22): `drydock backup` for SQLite, `pg_dump` and
//! `pg_restore` for PostgreSQL; after a restore the ledger verifies and its signed checkpoints
//! still verify with the same key.

use super::helpers::{fixture_path, TestDb};
use std::path::Path;
use std::process::{Command, Output};

fn drydock(args: &[&str], key: Option<&Path>) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_drydock"));
    c.args(args).env_remove("DRYDOCK_DATABASE_URL").env_remove("DRYDOCK_CONFIG").env_remove("DRYDOCK_LEDGER_KEY").env("RUST_LOG", "warn");
    if let Some(k) = key {
        c.env("DRYDOCK_LEDGER_KEY", k);
    }
    c.output().unwrap()
}

fn ok(out: Output) -> String {
    assert!(out.status.success(), "{}\n{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Some history: two reports, a checkpoint, a third report, a second checkpoint.
fn make_history(url: &str, key: Option<&Path>) {
    let reports = ["trivy/juice-shop-v10.2.0.json", "trivy/debian-buster.json", "grype/defectdojo-busybox-epss.json"];
    for (i, r) in reports.iter().enumerate() {
        ok(drydock(&["ingest", fixture_path(r).to_str().unwrap(), "--database-url", url], key));
        if i >= 1 {
            ok(drydock(&["ledger", "checkpoint", "--database-url", url], key));
        }
    }
}

/// `ledger intact: N entries, root R, C checkpoints verified` with the key found.
fn verified(url: &str, key: Option<&Path>) -> String {
    let out = ok(drydock(&["ledger", "verify", "--database-url", url], key));
    assert!(out.starts_with("ledger intact: "), "{out}");
    assert!(!out.contains("no key found"), "the signatures were checked: {out}");
    assert!(out.contains(" 2 checkpoints verified"), "{out}");
    out
}

#[test]
fn a_sqlite_backup_restores_with_its_ledger_and_key() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let url = format!("sqlite://{}", live.display());
    make_history(&url, None);
    let before = verified(&url, None);

    let copy = dir.path().join("backup.db");
    let said = ok(drydock(&["backup", copy.to_str().unwrap(), "--database-url", &url], None));
    assert!(said.contains("backup.db.ledger.pem"), "the key is copied beside the backup: {said}");
    let again = drydock(&["backup", copy.to_str().unwrap(), "--database-url", &url], None);
    assert!(!again.status.success() && String::from_utf8_lossy(&again.stderr).contains("exists already"));

    // The live database changes afterwards; the restore is the backup's state.
    ok(drydock(&["ingest", fixture_path("trivy/alpine-310.json").to_str().unwrap(), "--database-url", &url], None));
    let restored = dir.path().join("restored.db");
    std::fs::copy(&copy, &restored).unwrap();
    std::fs::copy(dir.path().join("backup.db.ledger.pem"), dir.path().join("restored.db.ledger.pem")).unwrap();
    let after = verified(&format!("sqlite://{}", restored.display()), None);
    assert_eq!(after, before, "the same entries, root and checkpoints");

    let refused = drydock(&["backup", "/tmp/x.db", "--database-url", "postgres://postgres@127.0.0.1:5432/postgres"], None);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("pg_dump"));
}

#[tokio::test]
async fn a_postgres_dump_restores_with_its_ledger_and_key() {
    let db = TestDb::postgres().await;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("ledger.pem");
    ok(drydock(&["ledger", "keygen", key.to_str().unwrap()], None));
    let url = db.url.clone();
    let (key_, url_) = (key.clone(), url.clone());
    tokio::task::spawn_blocking(move || make_history(&url_, Some(&key_))).await.unwrap();
    let before = verified(&url, Some(&key));

    let dump = dir.path().join("drydock.dump");
    let out = Command::new("pg_dump").args(["--format=custom", "--file", dump.to_str().unwrap(), &url]).output().unwrap();
    assert!(out.status.success(), "pg_dump: {}", String::from_utf8_lossy(&out.stderr));
    let restored = TestDb::postgres_empty().await;
    let out = Command::new("pg_restore")
        .args(["--no-owner", "--exit-on-error", "--dbname", &restored.url, dump.to_str().unwrap()])
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_restore: {}", String::from_utf8_lossy(&out.stderr));
    let after = verified(&restored.url, Some(&key));
    assert_eq!(after, before, "the same entries, root and checkpoints");
    // Another key does not verify the restored checkpoints.
    let other = dir.path().join("other.pem");
    ok(drydock(&["ledger", "keygen", other.to_str().unwrap()], None));
    let out = drydock(&["ledger", "verify", "--database-url", &restored.url], Some(&other));
    assert!(!out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    restored.cleanup().await;
    db.cleanup().await;
}

/// The oldest migration the upgrade test applies: 0027 turned each scan's listed findings into a
/// document, and the test writes the release before it (0028 and later follow in the same upgrade).
const FIRST_UPGRADE: &str = "0027_";

/// The migrations of `backend` before `FIRST_UPGRADE`, in a directory of their own: the schema of
/// the release the test upgrades from; and the first migration left to apply.
fn previous_release_migrations(backend: &str) -> (tempfile::TempDir, String) {
    let all = Path::new(env!("CARGO_MANIFEST_DIR")).join("../migrations").join(backend);
    let mut files: Vec<_> = std::fs::read_dir(&all).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let name = |f: &std::path::PathBuf| f.file_name().unwrap().to_string_lossy().into_owned();
    let first = files.iter().position(|f| name(f).starts_with(FIRST_UPGRADE)).expect("the first migration to upgrade through");
    let dir = tempfile::tempdir().unwrap();
    for f in &files[..first] {
        std::fs::copy(f, dir.path().join(f.file_name().unwrap())).unwrap();
    }
    (dir, name(&files[first]))
}

/// A report's listed findings as rows: (vulnerability, package, version, path, severity, fix).
type Listed = Vec<(String, String, String, String, String, Option<String>)>;

const PREVIOUS_RELEASE_REPORTS: [&str; 2] = ["grype/defectdojo-busybox-epss.json", "grype/defectdojo-many_vulns-python36.json"];

/// Data written by the schema before 0027: Grype reports, whose ingest writes only tables that
/// release had (later migrations add the risk ranking's and Trivy secrets'), but for the findings
/// a scan listed, which today's ingest keeps as a document on the scan row (0027):
/// the column is there for the ingest only, and the previous release's row per listed finding
/// (`scan_findings`) is written directly. Answers each report's hash and listed findings.
async fn previous_release_estate(store: &drydock::store::Store) -> Vec<(String, Listed)> {
    use drydock::store::capabilities::*;
    execute(store, "ALTER TABLE scans ADD COLUMN listed_findings TEXT NOT NULL DEFAULT '[]'").await;
    let mut written = Vec::new();
    for r in PREVIOUS_RELEASE_REPORTS {
        let body = std::fs::read(fixture_path(r)).unwrap();
        let report = drydock::ingest::parse(&body, None).unwrap();
        let sha = drydock::store::sha256_hex(&body);
        store.ingest_report(&report, &sha, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
        let listed = listed_by(&report);
        for chunk in listed.chunks(500) {
            let q = |x: &str| format!("'{}'", x.replace('\'', "''"));
            let values: Vec<String> = chunk
                .iter()
                .map(|(v, p, i, path, sev, fix)| {
                    format!("({}, {}, {}, {}, {}, {})", q(v), q(p), q(i), q(path), q(sev), fix.as_deref().map_or("NULL".into(), q))
                })
                .collect();
            execute(
                store,
                &format!(
                    "INSERT INTO scan_findings (scan_id, vulnerability_id, package_name, installed_version, package_path, severity, fixed_version)
                     SELECT s.id, v.* FROM (VALUES {}) v, scans s WHERE s.report_sha256 = '{sha}'",
                    values.join(", ")
                ),
            )
            .await;
        }
        written.push((sha, listed));
    }
    execute(store, "ALTER TABLE scans DROP COLUMN listed_findings").await;
    written
}

/// What a report lists, sorted.
fn listed_by(report: &drydock::ingest::Report) -> Listed {
    let text = |x: &str| x.to_string();
    let mut listed: Listed = report
        .findings
        .iter()
        .map(|f| {
            let (v, p, i, path) = (&f.vulnerability_id, &f.package_name, &f.installed_version, &f.package_path);
            (text(v), text(p), text(i), text(path), text(f.severity.as_str()), f.fixed_version.clone())
        })
        .collect();
    listed.sort();
    listed
}

/// Each scan's listed findings after the upgrade, in the order `Listed` sorts.
async fn listed_after_upgrade(store: &drydock::store::Store) -> Vec<(String, Listed)> {
    const SQL: &str = "SELECT report_sha256, listed_findings FROM scans ORDER BY id";
    let rows: Vec<(String, String)> = match store {
        drydock::store::Store::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        drydock::store::Store::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    };
    rows.into_iter()
        .map(|(sha, doc)| {
            let mut listed: Listed = serde_json::from_str(&doc).unwrap();
            listed.sort();
            (sha, listed)
        })
        .collect()
}

/// Runs `sql`, with the time now as `$1` when it has one.
async fn execute(store: &drydock::store::Store, sql: &str) {
    let now = chrono::Utc::now();
    let timed = sql.contains("$1");
    match store {
        drydock::store::Store::Sqlite(p) => {
            let q = sqlx::query(sql);
            if timed { q.bind(now) } else { q }.execute(p).await.map(|_| ()).unwrap()
        }
        drydock::store::Store::Postgres(p) => {
            let q = sqlx::query(sql);
            if timed { q.bind(now) } else { q }.execute(p).await.map(|_| ()).unwrap()
        }
    }
}

/// Pods and containers as the previous release stores them, written directly: one pod of a
/// ReplicaSet with a running container and a terminated one, and what runs as its pod upload
/// keeps it (the running container's workload).
async fn previous_release_pods(store: &drydock::store::Store) {
    let running = format!("sha256:{}", "a1".repeat(32));
    let ended = format!("sha256:{}", "b2".repeat(32));
    let statements = [
        "INSERT INTO clusters (name, created_at, created_by) VALUES ('prod', $1, 'test')".to_string(),
        "INSERT INTO pods (cluster_id, uid, namespace, name, node, workload_kind, workload_name, phase, first_seen, last_seen)
         SELECT id, 'u1', 'shop', 'web-7d9-x2', 'n1', 'ReplicaSet', 'web-7d9', 'Running', $1, $1 FROM clusters WHERE name = 'prod'"
            .to_string(),
        format!(
            "INSERT INTO containers (pod_id, kind, name, image, image_id, digest, state, first_seen, last_seen)
             SELECT id, 'container', 'web', 'shop/web:1', 'shop/web@{running}', '{running}', 'running', $1, $1 FROM pods WHERE uid = 'u1'"
        ),
        format!(
            "INSERT INTO containers (pod_id, kind, name, image, image_id, digest, state, first_seen, last_seen)
             SELECT id, 'init', 'migrate', 'shop/migrate:1', 'shop/migrate@{ended}', '{ended}', 'terminated', $1, $1 FROM pods WHERE uid = 'u1'"
        ),
        format!(
            "INSERT INTO running_workloads (cluster_id, namespace, workload, digest, platform)
             SELECT id, 'shop', 'ReplicaSet/web-7d9', '{running}', '' FROM clusters WHERE name = 'prod'"
        ),
    ];
    for sql in &statements {
        execute(store, sql).await;
    }
}

/// What runs after the upgrade.
async fn running_after_upgrade(store: &drydock::store::Store) -> Vec<(String, String, String, String)> {
    const SQL: &str = "SELECT namespace, workload, digest, platform FROM running_workloads";
    match store {
        drydock::store::Store::Sqlite(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
        drydock::store::Store::Postgres(p) => sqlx::query_as(SQL).fetch_all(p).await.unwrap(),
    }
}

fn running_before_upgrade() -> Vec<(String, String, String, String)> {
    vec![("shop".into(), "ReplicaSet/web-7d9".into(), format!("sha256:{}", "a1".repeat(32)), String::new())]
}

/// An upgrade from the previous release's schema with data: on SQLite, and on PostgreSQL by two
/// replicas starting together (the migration runs once, under its lock). Afterwards the schema is
/// current, the data is there and the ledger verifies.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upgrade_from_the_previous_schema_keeps_the_data() {
    use drydock::store::capabilities::*;
    use drydock::store::Store;
    // SQLite.
    let file = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", file.path().join("old.db").display());
    let (old, pending) = previous_release_migrations("sqlite");
    let opts: sqlx::sqlite::SqliteConnectOptions = url.parse::<sqlx::sqlite::SqliteConnectOptions>().unwrap().create_if_missing(true);
    let pool = sqlx::SqlitePool::connect_with(opts).await.unwrap();
    sqlx::migrate::Migrator::new(old.path()).await.unwrap().run(&pool).await.unwrap();
    let before = Store::Sqlite(pool.clone());
    let listed = previous_release_estate(&before).await;
    previous_release_pods(&before).await;
    assert!(!before.schema_is_current().await.unwrap(), "{pending} not applied yet");
    let counts = before.table_counts().await.unwrap();
    pool.close().await;
    let upgraded = Store::connect(&url).await.unwrap();
    assert!(upgraded.schema_is_current().await.unwrap());
    assert_eq!(format!("{:?}", upgraded.table_counts().await.unwrap()), format!("{counts:?}"), "the data is as it was");
    assert!(drydock::ledger::verify_store(&upgraded, None).await.unwrap().error.is_none());
    assert_eq!(running_after_upgrade(&upgraded).await, running_before_upgrade(), "what runs is kept");
    assert_eq!(listed_after_upgrade(&upgraded).await, listed, "each scan's listed findings, now its document");
    // Today's ingest writes the same document for a report it receives.
    let body = std::fs::read(fixture_path("trivy/juice-shop-v10.2.0.json")).unwrap();
    let report = drydock::ingest::parse(&body, None).unwrap();
    let sha = drydock::store::sha256_hex(&body);
    upgraded.ingest_report(&report, &sha, &drydock::store::Actor::cli(), chrono::Utc::now()).await.unwrap();
    let mut expected = listed;
    expected.push((sha, listed_by(&report)));
    assert_eq!(listed_after_upgrade(&upgraded).await, expected);

    // PostgreSQL, two replicas at once.
    let db = TestDb::postgres_empty().await;
    let (old, _) = previous_release_migrations("postgres");
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::migrate::Migrator::new(old.path()).await.unwrap().run(&pool).await.unwrap();
    let before = Store::Postgres(pool.clone());
    let listed = previous_release_estate(&before).await;
    previous_release_pods(&before).await;
    let counts = before.table_counts().await.unwrap();
    let (a, b) = tokio::join!(Store::connect(&db.url), Store::connect(&db.url));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert!(a.schema_is_current().await.unwrap() && b.schema_is_current().await.unwrap());
    let applied: Vec<i64> = sqlx::query_scalar("SELECT version FROM _sqlx_migrations ORDER BY version").fetch_all(&pool).await.unwrap();
    let mut unique = applied.clone();
    unique.dedup();
    assert_eq!(applied, unique, "each migration applied once");
    assert_eq!(format!("{:?}", a.table_counts().await.unwrap()), format!("{counts:?}"));
    assert!(drydock::ledger::verify_store(&b, None).await.unwrap().error.is_none());
    assert_eq!(running_after_upgrade(&a).await, running_before_upgrade());
    assert_eq!(listed_after_upgrade(&a).await, listed);
    pool.close().await;
    db.cleanup().await;
}
