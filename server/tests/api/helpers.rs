//! Test databases (a fresh SQLite file or a fresh PostgreSQL database per test) and the real app
//! started on port 0.

use drydock::config::Config;
use drydock::store::capabilities::*;
use drydock::store::Store;
use std::path::PathBuf;
use std::sync::Arc;

/// The PostgreSQL server tests create their databases on.
pub fn postgres_admin_url() -> String {
    std::env::var("DRYDOCK_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A fresh, migrated database; `cleanup` removes it.
pub struct TestDb {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("drydock.db").display());
        let store = Store::connect(&url).await.expect("open sqlite");
        TestDb { store, url, _dir: Some(dir), pg_name: None }
    }

    pub async fn postgres() -> TestDb {
        use sqlx::Connection as _;
        let admin = postgres_admin_url();
        let name = format!("drydock_t_{}", hex_id());
        let mut conn =
            sqlx::PgConnection::connect(&admin).await.expect("PostgreSQL must run on 127.0.0.1:5432 (the README's test command starts it)");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        let url = url.to_string();
        let store = Store::connect(&url).await.expect("open postgres");
        TestDb { store, url, _dir: None, pg_name: Some(name) }
    }

    /// A database the test runs itself (its own PostgreSQL server), migrated; nothing is removed.
    pub async fn at(url: &str) -> TestDb {
        let store = Store::connect(url).await.expect("open the test's own database");
        TestDb { store, url: url.to_string(), _dir: None, pg_name: None }
    }

    /// A fresh PostgreSQL database with nothing in it, not even the schema (a restore's target).
    pub async fn postgres_empty() -> TestDb {
        use sqlx::Connection as _;
        let name = format!("drydock_t_{}", hex_id());
        let mut conn = sqlx::PgConnection::connect(&postgres_admin_url()).await.expect("PostgreSQL on 127.0.0.1:5432");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
        url.set_path(&name);
        let url = url.to_string();
        let store = Store::Postgres(sqlx::PgPool::connect_lazy(&url).unwrap());
        TestDb { store, url, _dir: None, pg_name: Some(name) }
    }

    /// A second handle on the same database (another replica's), which removes nothing when it
    /// goes: the original keeps the file and the cleanup.
    pub fn shared(&self) -> TestDb {
        TestDb { store: self.store.clone(), url: self.url.clone(), _dir: None, pg_name: None }
    }

    /// Drops the PostgreSQL database (SQLite files go with the temp dir).
    pub async fn cleanup(self) {
        self.drop_database().await;
    }

    /// As `cleanup`, for a database an app still holds (the app must not use it afterwards).
    pub async fn drop_database(&self) {
        if let (Store::Postgres(pool), Some(name)) = (&self.store, &self.pg_name) {
            use sqlx::Connection as _;
            pool.close().await;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
    }
}

/// A client keeping cookies, not following redirects; a stalled request fails the test.
pub fn test_client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(20))
        .build()
        .unwrap()
}

impl TestApp {
    /// The real `drydock serve` binary as its own process on `db`'s SQLite file (which the test
    /// keeps open too: a second process on the file is supported). Page-rendering tests use this:
    /// several in-process test routers rendering Leptos pages at once can stall, while the
    /// binary serves concurrent page loads fine (300 concurrent loads measured).
    pub async fn process(db: TestDb, args: &[&str], env: &[(&str, &str)]) -> TestApp {
        TestApp::process_at(free_port(), db, args, env).await
    }

    /// As `process`, on a given port (when another program must know the URL first).
    pub async fn process_at(port: u16, db: TestDb, args: &[&str], env: &[(&str, &str)]) -> TestApp {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"));
        cmd.args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--database-url", &db.url])
            .args(args)
            .env_remove("DRYDOCK_DATABASE_URL")
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd.spawn().unwrap();
        let base = format!("http://127.0.0.1:{port}");
        let client = test_client();
        let mut up = false;
        for _ in 0..200 {
            if client.get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        let app = TestApp { base, db, client, process: Some(child) };
        assert!(up, "drydock serve did not come up");
        app
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn hex_id() -> String {
    use rand::RngCore as _;
    let mut b = [0u8; 8];
    rand::thread_rng().fill_bytes(&mut b);
    hex::encode(b)
}

/// A fixture file from `server/fixtures/`.
pub fn fixture(rel: &str) -> Vec<u8> {
    std::fs::read(fixture_path(rel)).unwrap_or_else(|e| panic!("fixture {rel}: {e}"))
}

pub fn fixture_path(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(rel)
}

/// Every Trivy fixture's file name.
pub fn trivy_fixtures() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(fixture_path("trivy"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    assert!(names.len() >= 10, "expected the 10 Trivy fixtures, found {names:?}");
    names
}

/// The real application on 127.0.0.1:0.
pub struct TestApp {
    pub base: String,
    pub db: TestDb,
    pub client: reqwest::Client,
    process: Option<std::process::Child>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(mut p) = self.process.take() {
            let _ = p.kill();
            let _ = p.wait();
        }
    }
}

impl TestApp {
    /// Waits up to `within` for the server process to exit by itself: its exit status, or None
    /// when it still runs (it is then killed as the app is dropped).
    pub fn wait_exit(&mut self, within: std::time::Duration) -> Option<std::process::ExitStatus> {
        let p = self.process.as_mut()?;
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = p.try_wait() {
                self.process = None;
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        None
    }

    /// The server process's id, when it runs as its own process.
    pub fn pid(&self) -> Option<u32> {
        self.process.as_ref().map(|p| p.id())
    }

    pub async fn start(db: TestDb, max_body_bytes: usize) -> TestApp {
        let config = Config { database_url: db.url.clone(), max_body_bytes, ..Config::default() };
        TestApp::start_with(db, config).await
    }

    /// As `start`, without the background worker: its jobs (the day's snapshot entered in the
    /// ledger among them) would write beside the requests whose writes a test counts.
    pub async fn start_quiet(db: TestDb, max_body_bytes: usize) -> TestApp {
        let config = Config { database_url: db.url.clone(), max_body_bytes, jobs_worker: false, ..Config::default() };
        TestApp::start_with(db, config).await
    }

    /// With a given configuration (its database URL is replaced by the test database's).
    pub async fn start_with(db: TestDb, config: Config) -> TestApp {
        TestApp::start_on(0, db, config, Arc::new(drydock::clock::SystemClock)).await
    }

    /// In process on `port` (0: any), with `config` and `clock`.
    pub async fn start_on(port: u16, db: TestDb, config: Config, clock: drydock::clock::SharedClock) -> TestApp {
        let config = Config { database_url: db.url.clone(), ..config };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = drydock::startup::app_with_clock(db.store.clone(), Arc::new(config), addr, clock).unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
        TestApp { base: format!("http://{addr}"), db, client: test_client(), process: None }
    }

    pub async fn token(&self, role: &str) -> String {
        self.token_with(&format!("test-{role}"), role, None, Default::default()).await
    }

    /// An ingest token bound to these clusters and registries (least privilege: it may post pods,
    /// nodes and audit events only for them, notifications only of them).
    pub async fn ingest_for(&self, clusters: &[&str], registries: &[&str]) -> String {
        let b = drydock::store::TokenBindings {
            clusters: clusters.iter().map(|c| c.to_string()).collect(),
            registries: registries.iter().map(|r| r.to_string()).collect(),
        };
        let name = format!("ingest-{}", clusters.iter().chain(registries).copied().collect::<Vec<_>>().join("-"));
        self.token_with(&name, "ingest", None, b).await
    }

    /// A token of `role` (for `team`) with `bindings`.
    pub async fn token_with(&self, name: &str, role: &str, team: Option<&str>, bindings: drydock::store::TokenBindings) -> String {
        self.db
            .store
            .create_token(
                name,
                role.parse().unwrap(),
                team.map(|t| drydock::domain::TeamName::parse(t).unwrap()).as_ref(),
                &bindings,
                &drydock::store::Actor::cli(),
                chrono::Utc::now(),
            )
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `GET path` with `token`: the answer is checked against the OpenAPI document and must be 200.
    pub async fn get_json(&self, path: &str, token: &str) -> serde_json::Value {
        let (status, body) = super::openapi::checked_json("GET", path, self.client.get(self.url(path)).bearer_auth(token)).await;
        assert_eq!(status, reqwest::StatusCode::OK, "GET {path}: {body}");
        body
    }
}

/// Runs every job due at `clock`'s time in this task (tests whose app has `jobs_worker` off, so
/// nothing runs behind their back); answers the purge run's outcome when one ran.
pub async fn run_due_jobs(store: &Store, clock: &drydock::clock::SharedClock) -> Vec<drydock::jobs::RunReport> {
    let config = Config::default();
    let jobs = drydock::jobs::Jobs::new(
        store.clone(),
        drydock::jobs::JobSettings::from_config(&config).unwrap(),
        Default::default(),
        Err("no key in this test".into()),
        clock.clone(),
    );
    jobs.run_pending(clock.now()).await.unwrap()
}

/// Whether `runs` include a successful `session.purge`.
pub fn purged(runs: &[drydock::jobs::RunReport]) -> bool {
    runs.iter().any(|r| r.kind == "session.purge" && r.outcome.is_ok())
}

/// A digest the test knows is well formed (the store takes checked digests).
pub fn digest(s: &str) -> drydock::domain::Digest {
    drydock::domain::Digest::parse(s).unwrap()
}
