//! The server under measure: the real router over the given database on a loopback port, a
//! security token for uploads and a signed-in viewer's session for pages.

use drydock::store::capabilities::*;
use drydock::store::{Actor, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Bench {
    pub backend: &'static str,
    pub store: Store,
    pub base: String,
    /// For the API: `Authorization: Bearer` of a security token.
    pub api: reqwest::Client,
    /// For pages: a signed-in viewer's session cookie.
    pub pages: reqwest::Client,
    pub ledger_key: drydock::ledger::LedgerKey,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

/// The built site if it is there, else a stand-in holding the stylesheet as `/pkg/drydock.css`
/// (the static file the pages are compared with).
pub fn site_root(given: &str) -> anyhow::Result<PathBuf> {
    let given = PathBuf::from(given);
    if given.join("pkg/drydock.css").is_file() {
        return Ok(given);
    }
    let stand_in = std::env::temp_dir().join(format!("drydock-bench-site-{}", std::process::id()));
    std::fs::create_dir_all(stand_in.join("pkg"))?;
    let css = include_bytes!("../../../../style/main.css");
    std::fs::write(stand_in.join("pkg/drydock.css"), css)?;
    eprintln!("no built site at {}: serving the stylesheet from {}", given.display(), stand_in.display());
    Ok(stand_in)
}

impl Bench {
    pub async fn start(estate: &drydock::generator::Estate, url: &str, site: &Path) -> anyhow::Result<Bench> {
        let store = Store::connect(url).await?;
        if !store.is_empty().await? {
            anyhow::bail!("{url} already holds an estate: drydock-bench needs a new database (it loads its own)");
        }
        let dir = tempfile::tempdir()?;
        let key_path = dir.path().join("ledger.pem");
        let ledger_key = drydock::ledger::LedgerKey::generate(&key_path)?;
        let config = drydock::config::Config {
            database_url: url.to_string(),
            jobs_worker: false,
            site_root: site.display().to_string(),
            ledger_key: Some(key_path.display().to_string()),
            max_body_bytes: 256 * 1024 * 1024,
            ..Default::default()
        };
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let limits = config.connection_limits()?;
        let router = drydock::startup::app(store.clone(), Arc::new(config), addr)?;
        // The connections held as `drydock serve` holds them (timeouts, the cap).
        let server = tokio::spawn(async move {
            drydock::http::connections::serve(listener, router, limits, None, std::future::pending()).await;
        });
        let backend = if url.starts_with("sqlite:") { "sqlite" } else { "postgres" };
        let base = format!("http://{addr}");
        let api = client(&base, Some(&security_token(&store).await?), None)?;
        let pages = client(&base, None, Some(&viewer_session(&store).await?))?;
        owners(&store, estate).await?;
        Ok(Bench { backend, store, base, api, pages, ledger_key, server, _dir: dir })
    }

    pub async fn stop(self) {
        self.server.abort();
        match self.store {
            Store::Sqlite(p) => p.close().await,
            Store::Postgres(p) => p.close().await,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }
}

fn client(base: &str, token: Option<&str>, session: Option<&str>) -> anyhow::Result<reqwest::Client> {
    let mut headers = reqwest::header::HeaderMap::new();
    if let Some(t) = token {
        headers.insert(reqwest::header::AUTHORIZATION, format!("Bearer {t}").parse()?);
    }
    if let Some(s) = session {
        headers.insert(reqwest::header::COOKIE, format!("drydock_session={s}").parse()?);
    }
    headers.insert(reqwest::header::ORIGIN, base.parse()?);
    Ok(reqwest::Client::builder()
        .default_headers(headers)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(128)
        // Below the server's keep-alive wait (`header_read_timeout_seconds`, 10 s): a pooled
        // connection the server is closing as idle is never picked for a request (that race
        // answered one request in ~50,000 with a closed connection, counted as an error).
        .pool_idle_timeout(std::time::Duration::from_secs(5))
        .timeout(std::time::Duration::from_secs(600))
        .build()?)
}

async fn security_token(store: &Store) -> anyhow::Result<String> {
    let role = drydock::domain::Role::Security;
    Ok(store.create_token("bench", role, None, &Default::default(), &Actor("bench".into()), chrono::Utc::now()).await?)
}

/// A session of an estate-wide viewer, stored as a sign-in would store it.
async fn viewer_session(store: &Store) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let principal = drydock::auth::Principal {
        actor: "bench:viewer".into(),
        display: "bench-viewer".into(),
        grants: vec![drydock::auth::Grant { role: drydock::domain::Role::Viewer, team: None }],
        bindings: None,
    };
    let user = drydock::http::session::SessionUser {
        principal,
        user: drydock::store::SignedInUser {
            subject: "demo#bench-viewer".into(),
            login: Some("bench-viewer".into()),
            name: None,
            email: None,
        },
        groups: vec![],
        signed_in_at: now,
        active_at: now,
        grants_at: now,
        demo: true,
    };
    let id = tower_sessions::session::Id::default().to_string();
    let data = serde_json::json!({ "drydock.user": user }).to_string();
    store.session_create(&id, &data, now + 24 * 3600, Some("demo#bench-viewer")).await?;
    Ok(id)
}

/// Each team owns its repositories (in both registries), and production clusters are production.
async fn owners(store: &Store, estate: &drydock::generator::Estate) -> anyhow::Result<()> {
    let (actor, now) = (Actor("bench".into()), chrono::Utc::now());
    for team in &estate.teams {
        for host in [drydock::generator::Estate::REGISTRY, drydock::generator::Estate::MIRROR] {
            let rule =
                drydock::domain::ownership::RuleSpec::parse(app::types::RuleKind::RepositoryPrefix, &format!("{host}/{team}/"), team)?;
            store.add_ownership_rule(&rule, &actor, now).await?;
        }
    }
    let rule = drydock::store::EnvironmentRule {
        id: 0,
        cluster: "*".into(),
        namespace: "*-prod".into(),
        environment: "production".into(),
        production: true,
        internet_facing: false,
        created_at: now,
        created_by: actor.0.clone(),
    };
    store.add_environment_rule(&rule, &actor, now).await?;
    Ok(())
}
