//! Test databases (a fresh SQLite file or a fresh PostgreSQL database per test) and the real app
//! started on port 0.

use drydock::config::Config;
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
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .expect("PostgreSQL must run on 127.0.0.1:5432 (the README's test command starts it)");
        sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        let url = url.to_string();
        let store = Store::connect(&url).await.expect("open postgres");
        TestDb { store, url, _dir: None, pg_name: Some(name) }
    }

    /// Drops the PostgreSQL database (SQLite files go with the temp dir).
    pub async fn cleanup(self) {
        if let (Store::Postgres(pool), Some(name)) = (&self.store, &self.pg_name) {
            use sqlx::Connection as _;
            pool.close().await;
            if let Ok(mut conn) = sqlx::PgConnection::connect(&postgres_admin_url()).await {
                let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut conn).await;
            }
        }
    }
}

/// The runtime test servers run on (the tests' own runtimes only drive their clients).
fn server_runtime() -> &'static tokio::runtime::Runtime {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
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
    _render_lock: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl TestApp {
    pub async fn start(db: TestDb, max_body_bytes: usize) -> TestApp {
        let config = Config { database_url: db.url.clone(), max_body_bytes, ..Config::default() };
        TestApp::start_with(db, config).await
    }

    /// With a given configuration (its database URL is replaced by the test database's).
    pub async fn start_with(db: TestDb, config: Config) -> TestApp {
        let config = Config { database_url: db.url.clone(), ..config };
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let router = drydock::startup::app(db.store.clone(), Arc::new(config), addr).unwrap();
        // Every test server runs on one shared runtime: Leptos keeps process-wide state, and
        // rendering pages from several short-lived per-test runtimes at once can hang.
        server_runtime().spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, router).await.unwrap()
        });
        let client = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        TestApp { base: format!("http://{addr}"), db, client, _render_lock: None }
    }

    /// Holds the page-rendering lock for the app's lifetime. Several test routers rendering
    /// Leptos pages at once in one process can stall (one router per process in production does
    /// not: 300 concurrent page loads against the release server all answered), so tests that
    /// render pages take turns.
    pub async fn rendering_pages(mut self) -> TestApp {
        static LOCK: std::sync::OnceLock<Arc<tokio::sync::Mutex<()>>> = std::sync::OnceLock::new();
        let lock = LOCK.get_or_init(|| Arc::new(tokio::sync::Mutex::new(()))).clone();
        self._render_lock = Some(lock.lock_owned().await);
        self
    }

    pub async fn token(&self, role: &str) -> String {
        self.db
            .store
            .create_token(&format!("test-{role}"), role.parse().unwrap(), None, &drydock::store::Actor::cli(), chrono::Utc::now())
            .await
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}
