//! Page cost at scale (issue 12): an estate of 4,000 images and about 130,000 open findings in
//! 40 teams, then the overview's and a team page's store reads, one at a time and 64 at once —
//! against the aggregation those pages used to run (every open finding grouped on each request).
//! Then the same pages over HTTP, as a signed-in manager's browser asks for them (the real router
//! on a loopback port, server-side rendering included): one request at a time, and 64 connections
//! each asking 10 times.
//! Run: `cargo bench -p server --bench pages` (PostgreSQL as in the ingest bench, else skipped).

use drydock::store::capabilities::*;
mod common;

use drydock::store::{sha256_hex, Actor, Store};
use std::time::{Duration, Instant};

const IMAGES: usize = 4000;
const FINDINGS_PER_IMAGE: usize = 33;
const TEAMS: usize = 40;

async fn load(store: &Store) {
    let actor = Actor("bench".into());
    let now = chrono::Utc::now();
    for t in 0..TEAMS {
        let rule = drydock::domain::ownership::RuleSpec::parse(
            app::types::RuleKind::RepositoryPrefix,
            &format!("docker.io/acme/team-{t}"),
            &format!("team-{t}"),
        )
        .unwrap();
        store.add_ownership_rule(&rule, &actor, now).await.unwrap();
    }
    let start = Instant::now();
    for body in common::juice_shop_estate(IMAGES, FINDINGS_PER_IMAGE, TEAMS, "app", 5_000_000) {
        let report = drydock::ingest::parse(&body, None).unwrap();
        store.ingest_report(&report, &sha256_hex(&body), &actor, now).await.unwrap();
    }
    println!("  loaded {IMAGES} images in {:.0} s", start.elapsed().as_secs_f64());
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// One call's median over 10, then 64 concurrent calls: (median, wall, p99, per second).
async fn measure<F, Fut>(f: F) -> (Duration, Duration, Duration, f64)
where
    F: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    let mut single = Vec::new();
    for _ in 0..10 {
        let t = Instant::now();
        f().await;
        single.push(t.elapsed());
    }
    single.sort();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            f().await;
            t.elapsed()
        }));
    }
    let mut each = Vec::new();
    for task in tasks {
        each.push(task.await.unwrap());
    }
    let wall = t.elapsed();
    each.sort();
    (single[5], wall, each[63], 64.0 / wall.as_secs_f64())
}

/// A signed-in session to copy into the PostgreSQL run: PostgreSQL refuses demo sign-in, so the
/// SQLite run signs in as the demo viewer and its session record is stored in the other database.
type SessionRecord = (String, String, i64);

/// The real router on a loopback port over `store`; answers its base URL and a client holding a
/// viewer's session (demo sign-in on SQLite, else `session` copied in).
async fn serve(store: &Store, url: &str, session: Option<&SessionRecord>) -> (String, reqwest::Client, SessionRecord) {
    let demo = session.is_none();
    let config = drydock::config::Config { database_url: url.to_string(), demo, jobs_worker: false, ..Default::default() };
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let addr = listener.local_addr().unwrap();
    let router = drydock::startup::app_with_clock(
        store.clone(),
        std::sync::Arc::new(config),
        addr,
        std::sync::Arc::new(drydock::clock::SystemClock),
    )
    .unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let base = format!("http://{addr}");
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let client = reqwest::Client::builder()
        .cookie_provider(jar.clone())
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(64)
        .build()
        .unwrap();
    let record = match session {
        None => {
            let r = client
                .post(format!("{base}/auth/demo"))
                .header("Origin", &base)
                .form(&[("role", "viewer"), ("return_to", "/")])
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER, "demo sign-in");
            let cookies = reqwest::cookie::CookieStore::cookies(&*jar, &base.parse().unwrap()).unwrap();
            let id = cookies.to_str().unwrap().split(';').find_map(|c| c.trim().strip_prefix("drydock_session=")).unwrap().to_string();
            let stored = store.sessions_load(std::slice::from_ref(&id)).await.unwrap().0.pop().unwrap();
            (id, stored.data, stored.expires_at)
        }
        Some((id, data, expires)) => {
            assert!(store.session_create(id, data, *expires, None).await.unwrap());
            jar.add_cookie_str(&format!("drydock_session={id}"), &base.parse().unwrap());
            (id.clone(), data.clone(), *expires)
        }
    };
    (base, client, record)
}

/// One page's latency over HTTP: the median of 10 requests one after another, then 64 connections
/// asking 10 times each (wall time, p99 of the 640 answers, answers per second).
async fn measure_http(client: &reqwest::Client, url: String) -> (Duration, Duration, Duration, f64) {
    let get = |client: reqwest::Client, url: String| async move {
        let t = Instant::now();
        let r = client.get(&url).send().await.unwrap();
        assert_eq!(r.status(), reqwest::StatusCode::OK, "GET {url}");
        r.bytes().await.unwrap();
        t.elapsed()
    };
    let mut single = Vec::new();
    for _ in 0..10 {
        single.push(get(client.clone(), url.clone()).await);
    }
    single.sort();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..64 {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut each = Vec::new();
            for _ in 0..10 {
                each.push(get(client.clone(), url.clone()).await);
            }
            each
        }));
    }
    let mut each = Vec::new();
    for task in tasks {
        each.extend(task.await.unwrap());
    }
    let wall = t.elapsed();
    each.sort();
    (single[5], wall, each[each.len() * 99 / 100], each.len() as f64 / wall.as_secs_f64())
}

async fn bench(label: &str, store: Store, url: &str, session: Option<&SessionRecord>) -> SessionRecord {
    load(&store).await;
    let open: i64 = match &store {
        Store::Sqlite(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM image_vulnerabilities WHERE resolved_at IS NULL").fetch_one(p).await.unwrap()
        }
        Store::Postgres(p) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM image_vulnerabilities WHERE resolved_at IS NULL").fetch_one(p).await.unwrap()
        }
    };
    println!("{label:<9} {IMAGES} images, {open} open findings, {TEAMS} teams");
    // What the overview used to run on each request: every open finding grouped by team.
    const OLD: &str = "SELECT i.team_id, f.severity, COUNT(*) FROM image_vulnerabilities f JOIN images i ON i.id = f.image_id
                       WHERE f.resolved_at IS NULL GROUP BY i.team_id, f.severity";
    let s = store.clone();
    let old = measure(move || {
        let s = s.clone();
        async move {
            let _: Vec<(Option<i64>, String, i64)> = match &s {
                Store::Sqlite(p) => sqlx::query_as(OLD).fetch_all(p).await.unwrap(),
                Store::Postgres(p) => sqlx::query_as(OLD).fetch_all(p).await.unwrap(),
            };
        }
    })
    .await;
    let s = store.clone();
    let overview = measure(move || {
        let s = s.clone();
        async move {
            s.overview().await.unwrap();
        }
    })
    .await;
    let s = store.clone();
    let team = measure(move || {
        let s = s.clone();
        async move {
            s.team_view(&drydock::domain::TeamName::parse("team-7").unwrap(), 50, 0).await.unwrap().unwrap();
        }
    })
    .await;
    let s = store.clone();
    let scores = measure(move || {
        let s = s.clone();
        async move {
            s.policy_scores().await.unwrap();
        }
    })
    .await;
    for (what, (single, wall, p99, rate)) in [
        ("overview counts, grouping every finding (before)", old),
        ("overview (stored per-image counts)", overview),
        ("team page, 100 images (stored counts)", team),
        ("scorecards (stored scores)", scores),
    ] {
        println!("{label:<9} {what}: one {} · 64 at once: all in {}, p99 {}, {rate:.0}/s", ms(single), ms(wall), ms(p99));
    }
    let t = Instant::now();
    let promotion = drydock::config::Config::default().promotion().unwrap();
    let (results, failing) = drydock::policy::run(&store, &promotion, chrono::Utc::now()).await.unwrap();
    println!("{label:<9} policy evaluation of the whole estate: {} ({results} results, {failing} failing)", ms(t.elapsed()));
    let (base, client, record) = serve(&store, url, session).await;
    for (what, path) in [
        ("page / (estate overview)", "/"),
        ("page /teams/team-7 (100 images)", "/teams/team-7"),
        ("page /scorecards (every team ranked)", "/scorecards"),
        ("page /scorecards/team-7", "/scorecards/team-7"),
    ] {
        let (single, wall, p99, rate) = measure_http(&client, format!("{base}{path}")).await;
        println!("{label:<9} HTTP {what}: one {} · 64 connections x 10: all in {}, p99 {}, {rate:.0}/s", ms(single), ms(wall), ms(p99));
    }
    record
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite_url = format!("sqlite://{}", dir.path().join("pages.db").display());
    let sqlite = Store::connect(&sqlite_url).await.unwrap();
    let session = bench("sqlite", sqlite, &sqlite_url, None).await;
    let admin = std::env::var("DRYDOCK_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    use sqlx::Connection as _;
    match sqlx::PgConnection::connect(&admin).await {
        Ok(mut conn) => {
            let name = format!("drydock_bench_pages_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            let pg = Store::connect(url.as_str()).await.unwrap();
            bench("postgres", pg.clone(), url.as_str(), Some(&session)).await;
            if let Store::Postgres(p) = pg {
                p.close().await;
            }
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
        }
        Err(e) => println!("postgres  skipped: {e}"),
    }
}
