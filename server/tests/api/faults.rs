//! Trust under faults (issue 19): webhooks that cannot reach inside the network, and background
//! work that a panicking job or a dead collector cannot stop.

use super::campaigns::{clock_at, post_report};
use super::escalation::{loopback_hooks, webhook_receiver};
use super::helpers::{TestApp, TestDb};
use super::hostile::{drydock, post};
use chrono::{Duration, Utc};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

on_both_databases!(webhooks_cannot_reach_inside, a_panicking_job_is_one_failed_run, dead_collectors_hold_no_other_job);

/// A resolver stub: names to the addresses the test chose.
struct Names(Vec<(&'static str, std::net::IpAddr)>);

impl drydock::campaigns::Lookup for Names {
    fn lookup(&self, host: String) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<std::net::IpAddr>>> + Send>> {
        let found: Vec<std::net::IpAddr> = self.0.iter().filter(|(n, _)| *n == host).map(|(_, a)| *a).collect();
        Box::pin(async move { Ok(found) })
    }
}

/// Webhooks may not point at link-local, metadata, private or loopback addresses unless the
/// operator lists the network; a name is checked as resolved, and the checked address is the one
/// connected to.
async fn webhooks_cannot_reach_inside(db: TestDb) {
    let (_, clock) = clock_at("2026-12-01T09:00:00Z");
    let app = TestApp::start_on(0, db, loopback_hooks(), clock.clone()).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    for hook in [
        "https://169.254.169.254/latest/meta-data/",
        "https://[fd00:ec2::254]/latest",
        "https://metadata.google.internal/computeMetadata/v1/",
        "https://10.0.0.5/hook",
        "https://192.168.1.10/hook",
        "https://[fe80::1]/hook",
        "http://[::1]:9/hook",
    ] {
        let r = app
            .client
            .put(app.url("/api/v1/contacts"))
            .bearer_auth(&admin)
            .json(&json!([{"level": 1, "webhook": hook}]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{hook}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["field"], "contacts[0].webhook", "{hook}: {e}");
    }
    // Names pass when saved; at delivery each is resolved (here by the stub) and checked.
    let (hook, hooked) = webhook_receiver().await;
    let port = hook.rsplit(':').next().unwrap().split('/').next().unwrap().to_string();
    let contacts = json!([
        {"level": 1, "webhook": "https://metadata-proxy.test/hook"},
        {"level": 1, "webhook": format!("http://localhost:{port}/hook")},
    ]);
    let r = app.client.put(app.url("/api/v1/contacts")).bearer_auth(&admin).json(&contacts).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    post_report(&app, &security, "trivy/debian-buster.json").await;
    let (status, _) =
        post(&app, &security, "/api/v1/campaigns", &json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": "2026-12-01"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let names =
        Arc::new(Names(vec![("metadata-proxy.test", "169.254.169.254".parse().unwrap()), ("localhost", "127.0.0.1".parse().unwrap())]));
    // Without loopback allowed, even localhost is refused as resolved; with it, only it is sent.
    let closed = drydock::campaigns::Notifier::with_lookup(&Default::default(), names.clone()).unwrap();
    let r = drydock::campaigns::pass(&app.db.store, &closed, "test", clock.now()).await.unwrap();
    assert_eq!(r.sent, 0, "{r:?}");
    assert!(hooked.lock().unwrap().is_empty());
    let open = drydock::campaigns::Notifier::with_lookup(&loopback_hooks(), names).unwrap();
    let later = clock.now() + Duration::hours(2);
    drydock::campaigns::pass(&app.db.store, &open, "test", later).await.unwrap();
    assert_eq!(hooked.lock().unwrap().len(), 1, "the loopback hook, allowed, got its message");
    let log = app.get_json("/api/v1/deliveries", &security).await;
    let details: Vec<String> = log
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attempts"].as_array().unwrap().iter().map(|a| a["detail"].as_str().unwrap_or_default().to_string()))
        .collect();
    assert!(details.iter().any(|d| d.contains("169.254.169.254") && d.contains("never reachable")), "{details:?}");
    assert!(details.iter().any(|d| d.contains("127.0.0.1") && d.contains("webhook_allow_networks")), "{details:?}");
    app.db.drop_database().await;
}

/// A job that panics is one failed run: its lease released, the failure in `drydock jobs`, its
/// next run on the backoff; the worker goes on, and the escalation still delivers.
async fn a_panicking_job_is_one_failed_run(db: TestDb) {
    let app = TestApp::start_on(0, db, loopback_hooks(), Arc::new(drydock::clock::SystemClock)).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    let (hook, hooked) = webhook_receiver().await;
    let r =
        app.client.put(app.url("/api/v1/contacts")).bearer_auth(&admin).json(&json!([{"level": 1, "webhook": hook}])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    post_report(&app, &security, "trivy/debian-buster.json").await;
    let today = Utc::now().date_naive().to_string();
    for title in ["healthy", "broken"] {
        let (status, _) =
            post(&app, &security, "/api/v1/campaigns", &json!({"title": title, "cves": ["CVE-2019-18276"], "deadline": today})).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    // The broken campaign's selector no longer reads: its refresh fails, the others go on.
    let broken = app.db.store.campaigns(10, 0).await.unwrap().0.into_iter().find(|c| c.title == "broken").unwrap().id;
    match &app.db.store {
        drydock::store::Store::Sqlite(p) => {
            sqlx::query("UPDATE campaigns SET cves = 'not json' WHERE id = ?").bind(broken).execute(p).await.unwrap();
        }
        drydock::store::Store::Postgres(p) => {
            sqlx::query("UPDATE campaigns SET cves = 'not json' WHERE id = $1").bind(broken).execute(p).await.unwrap();
        }
    }
    let config = drydock::config::Config { job_poll_seconds: 0.1, ..loopback_hooks() };
    let clock: drydock::clock::SharedClock = Arc::new(drydock::clock::SystemClock);
    let jobs = drydock::jobs::Jobs::new(
        app.db.store.clone(),
        drydock::jobs::JobSettings::from_config(&config).unwrap(),
        Default::default(),
        Err("no key in this test".into()),
        clock.clone(),
    );
    jobs.add_kind("test.panic", Arc::new(|_, _| Box::pin(async { panic!("a datum no one expected") })));
    jobs.enqueue("test.panic", "", Utc::now()).await.unwrap();
    jobs.start();
    let mut seen = None;
    for _ in 0..150 {
        let list = app.db.store.jobs().await.unwrap();
        let panicked = list.iter().find(|j| j.kind == "test.panic" && j.last_error.is_some()).cloned();
        let escalated = list.iter().any(|j| j.kind == "campaign.escalate" && j.last_success.is_some());
        if let (Some(p), true, false) = (panicked, escalated, hooked.lock().unwrap().is_empty()) {
            seen = Some(p);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let job = seen.expect("the panicking job failed and the escalation delivered after it");
    assert!(job.last_error.as_deref().unwrap().contains("panicked: a datum no one expected"), "{job:?}");
    assert!(job.locked_by.is_none(), "the lease is released: {job:?}");
    let next = job.run_at;
    assert!(next > Utc::now() + Duration::minutes(4), "the next run follows the backoff: {next}");
    let text = hooked.lock().unwrap()[0]["text"].as_str().unwrap().to_string();
    assert!(text.contains("healthy"), "{text}");
    let out = drydock(&["jobs", "--database-url", &app.db.url]).await;
    let listing = String::from_utf8_lossy(&out.stdout);
    println!("{listing}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(listing.contains("test.panic") && listing.contains("panicked"), "{listing}\n{stderr}");
    let runs = app.db.store.jobs().await.unwrap();
    let escalate = runs.iter().find(|j| j.kind == "campaign.escalate").unwrap();
    assert!(escalate.last_error.is_none(), "a broken campaign does not fail the pass: {escalate:?}");
    // The pass names the campaign it could not refresh, and only that one.
    let notifier = drydock::campaigns::Notifier::from_config(&loopback_hooks()).unwrap();
    let r = drydock::campaigns::pass(&app.db.store, &notifier, "test", Utc::now()).await.unwrap();
    assert_eq!(r.errors.len(), 1, "{r:?}");
    assert!(r.errors[0].starts_with(&format!("campaign {broken}: its selector does not read")), "{r:?}");
    app.db.drop_database().await;
}

/// Sockets that accept and never answer: a registry and a cluster API server.
async fn dead_socket() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    (port, task)
}

/// A registry and a cluster that never answer hold a slot each; the evaluation a report makes due
/// runs within seconds, and the registry's failure says it timed out and what it waited for.
async fn dead_collectors_hold_no_other_job(db: TestDb) {
    let (registry_port, _r) = dead_socket().await;
    let (cluster_port, _c) = dead_socket().await;
    let config = drydock::config::Config { jobs_worker: true, job_poll_seconds: 0.1, ..Default::default() };
    let app = TestApp::start_on(0, db, config, Arc::new(drydock::clock::SystemClock)).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    std::env::set_var("DRYDOCK_TEST_DEAD_TOKEN", "t");
    let (status, e) =
        post(&app, &admin, "/api/v1/registries", &json!({"name": "dead", "url": format!("http://127.0.0.1:{registry_port}")})).await;
    assert!(status.is_success(), "{e}");
    let cluster = json!({"name": "dead", "server": format!("http://127.0.0.1:{cluster_port}"), "token_env": "DRYDOCK_TEST_DEAD_TOKEN"});
    let (status, e) = post(&app, &admin, "/api/v1/clusters", &cluster).await;
    assert!(status.is_success(), "{e}");
    // Both collectors are running (hanging) before the report arrives. They are queued at once,
    // beside the startup runs of every periodic job; under the whole suite on two cores those can
    // take a while, so this waits up to 25 s (the registry's own timeout is 30 s).
    let running = |kind: &'static str| {
        let store = app.db.store.clone();
        async move { store.jobs().await.unwrap().iter().any(|j| j.kind == kind && j.locked_by.is_some()) }
    };
    for _ in 0..250 {
        if running("registry.collect").await && running("cluster.collect").await {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let jobs: Vec<String> = app
        .db
        .store
        .jobs()
        .await
        .unwrap()
        .iter()
        .map(|j| format!("{} locked_by={:?} last_error={:?}", j.kind, j.locked_by, j.last_error))
        .collect();
    assert!(running("registry.collect").await && running("cluster.collect").await, "both collectors hang; the jobs: {jobs:#?}");
    let posted = Utc::now();
    post_report(&app, &security, "trivy/debian-buster.json").await;
    let mut evaluated = None;
    for _ in 0..100 {
        let list = app.db.store.jobs().await.unwrap();
        if let Some(t) = list.iter().find(|j| j.kind == "policy.evaluate").and_then(|j| j.last_success).filter(|t| *t >= posted) {
            evaluated = Some(t);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let t = evaluated.expect("the evaluation ran while the collectors hung");
    assert!(t - posted < Duration::seconds(10), "evaluated {} after the report", t - posted);
    // The registry's own timeout (30 s) ends its run with what it waited for.
    let mut failure = None;
    for _ in 0..450 {
        let list = app.db.store.jobs().await.unwrap();
        if let Some(e) = list.iter().find(|j| j.kind == "registry.collect").and_then(|j| j.last_error.clone()) {
            failure = Some(e);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let failure = failure.expect("the registry collection failed after its timeout");
    assert!(
        failure.contains("timed out after 30 s waiting for an answer from") && failure.contains(&registry_port.to_string()),
        "{failure}"
    );
    app.db.drop_database().await;
}
