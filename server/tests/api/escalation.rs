//! The escalation: the ladder walked by moving time (`drydock escalate --once --at`) with mail
//! received by a real SMTP server (aiosmtpd) and a webhook receiver, exactly-once delivery with
//! two replicas, and items of no team routed to the global contacts.

use super::campaigns::{clock_at, images, own, post_report};
use super::helpers::{free_port, TestApp, TestDb};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

on_both_databases!(later_images_join_and_unowned_go_to_global_contacts);

const ORACLE_PYTHON: &str = "/var/tmp/drydock-oracles/bin/python";

/// A real SMTP server (aiosmtpd) on loopback writing what it accepts to a file.
pub(super) struct SmtpSink {
    port: u16,
    out: std::path::PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl SmtpSink {
    pub(super) fn start(fail_first: usize) -> SmtpSink {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("mail.jsonl");
        let port = free_port();
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/support/smtp_sink.py");
        let mut child = Command::new(ORACLE_PYTHON)
            .args([script, &port.to_string(), out.to_str().unwrap(), &fail_first.to_string()])
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{ORACLE_PYTHON} (run .ci/setup.sh --tests): {e}"));
        let mut line = String::new();
        std::io::BufRead::read_line(&mut std::io::BufReader::new(child.stdout.take().unwrap()), &mut line).unwrap();
        assert_eq!(line.trim(), "ready", "the SMTP sink did not start");
        SmtpSink { port, out, child, _dir: dir }
    }

    pub(super) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every message received: (recipients, the raw message).
    pub(super) fn received(&self) -> Vec<(Vec<String>, String)> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (
                    v["to"].as_array().unwrap().iter().map(|t| t.as_str().unwrap().to_string()).collect(),
                    v["data"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A webhook receiver on loopback keeping every JSON body posted to it.
pub(super) async fn webhook_receiver() -> (String, Arc<Mutex<Vec<Value>>>) {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let keep = got.clone();
    let router = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |axum::Json(v): axum::Json<Value>| {
            let keep = keep.clone();
            async move {
                keep.lock().unwrap().push(v);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    (format!("http://{addr}/hook"), got)
}

/// The tests' configuration: no background jobs, webhooks allowed to loopback (where the
/// receivers listen; an operator lists such networks in `webhook_allow_networks`).
pub(super) fn loopback_hooks() -> drydock::config::Config {
    drydock::config::Config { jobs_worker: false, webhook_allow_networks: vec!["127.0.0.0/8".into()], ..Default::default() }
}

/// `drydock escalate --once --at` in its own process, off the test's runtime thread (the
/// webhook receiver must keep answering meanwhile).
pub(super) async fn escalate(db_url: &str, smtp: &str, at: DateTime<Utc>) -> String {
    let (db_url, smtp) = (db_url.to_string(), smtp.to_string());
    tokio::task::spawn_blocking(move || escalate_at(&db_url, &smtp, at)).await.unwrap()
}

fn escalate_at(db_url: &str, smtp: &str, at: DateTime<Utc>) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["escalate", "--once", "--at", &at.to_rfc3339(), "--database-url", db_url])
        .env_remove("DRYDOCK_DATABASE_URL")
        .env("DRYDOCK_SMTP_URL", smtp)
        .env("DRYDOCK_SMTP_FROM", "Drydock <drydock@corp.example>")
        .env("DRYDOCK_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    assert!(out.status.success(), "escalate --once --at {at}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Who received how many messages, and which item ids each message listed.
pub(super) fn mail_to(sink: &SmtpSink, who: &str) -> Vec<BTreeSet<i64>> {
    sink.received()
        .into_iter()
        .filter(|(to, _)| to.iter().any(|t| t == who))
        .map(|(_, data)| {
            let body = data.replace("=\r\n", "").replace("=\n", "");
            body.match_indices("item #")
                .map(|(at, _)| body[at + 6..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>().parse().unwrap())
                .collect()
        })
        .collect()
}

/// The ladder walked by moving time: reminder, deadline, after; acknowledging stops only the
/// reminder; an approved exception holds the ladder until it expires; each (item, level) once.
#[tokio::test]
async fn the_ladder_walks_with_time() {
    let sink = SmtpSink::start(1);
    let (hook, hooked) = webhook_receiver().await;
    let (_manual, clock) = clock_at("2026-12-01T09:00:00Z");
    let db = TestDb::sqlite().await;
    let db_url = db.url.clone();
    let app = TestApp::start_on(0, db, loopback_hooks(), clock.clone()).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    own(&app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    for f in ["centos-7.json", "debian-buster.json", "ubuntu-1804.json"] {
        post_report(&app, &security, &format!("trivy/{f}")).await;
    }
    let contacts = json!([
        {"level": 0, "email": "dev@web.example"},
        {"level": 1, "email": "lead@web.example", "webhook": hook},
        {"level": 2, "email": "manager@web.example"},
    ]);
    let r = app.client.put(app.url("/api/v1/teams/web/contacts")).bearer_auth(&admin).json(&contacts).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    let r = app
        .client
        .put(app.url("/api/v1/contacts"))
        .bearer_auth(&admin)
        .json(&json!([{"level": 3, "email": "ciso@corp.example"}]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    // Contacts are checked: a level, an address or a webhook, https (or loopback).
    for bad in [
        json!([{"level": 0}]),
        json!([{"level": 12, "email": "a@b.example"}]),
        json!([{"level": 0, "email": "not mail"}]),
        json!([{"level": 0, "webhook": "http://hooks.example.com/x"}]),
    ] {
        let r = app.client.put(app.url("/api/v1/teams/web/contacts")).bearer_auth(&admin).json(&bad).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    }
    assert_eq!(
        app.client.put(app.url("/api/v1/teams/nope/contacts")).bearer_auth(&admin).json(&json!([])).send().await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let listed = app.get_json("/api/v1/contacts", &security).await;
    assert!(!listed.to_string().contains("/hook"), "a webhook's URL is a secret: {listed}");

    let deadline: NaiveDate = "2026-12-20".parse().unwrap();
    let r = app
        .client
        .post(app.url("/api/v1/campaigns"))
        .bearer_auth(&security)
        .json(&json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": deadline.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_i64().unwrap();
    let items: Vec<i64> = c["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(items.len(), 3, "{c}");
    let (i1, i2, i3) = (items[0], items[1], items[2]);

    // A developer of web acknowledges i2; to a developer of another team the item does not exist.
    let dev = app.token_with("dev-web", "developer", Some("web"), Default::default()).await;
    let other = app.token_with("dev-pay", "developer", Some("payments"), Default::default()).await;
    let ack = json!({"planned": "2026-12-18", "note": "rebuild on the new base"});
    let url = |item: i64, what: &str| app.url(&format!("/api/v1/campaigns/{id}/items/{item}/{what}"));
    assert_eq!(app.client.post(url(i2, "ack")).bearer_auth(&other).json(&ack).send().await.unwrap().status(), StatusCode::NOT_FOUND);
    assert_eq!(app.client.post(url(i2, "ack")).bearer_auth(&security).json(&ack).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    let r = app.client.post(url(i2, "ack")).bearer_auth(&dev).json(&ack).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let acked: Value = r.json().await.unwrap();
    assert_eq!((acked["state"].clone(), acked["planned"].clone()), (json!("acknowledged"), json!("2026-12-18")));
    // i3: an exception until ten days after the deadline, requested by the team, approved by security.
    let until = (deadline + Duration::days(10)).to_string();
    let r = app
        .client
        .post(url(i3, "exception"))
        .bearer_auth(&dev)
        .json(&json!({"reason": "vendor image, fix due in January", "until": until}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let request_id = r.json::<Value>().await.unwrap()["exception"]["request_id"].as_i64().unwrap();
    let decide = json!({"approve": true, "note": "accepted until the vendor ships", "request_id": request_id});
    assert_eq!(
        app.client.post(url(i3, "exception/decision")).bearer_auth(&dev).json(&decide).send().await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let r = app.client.post(url(i3, "exception/decision")).bearer_auth(&security).json(&decide).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.json::<Value>().await.unwrap()["state"], "excepted");
    assert_eq!(
        app.client.post(url(i3, "exception/decision")).bearer_auth(&security).json(&decide).send().await.unwrap().status(),
        StatusCode::CONFLICT
    );

    let at = |d: NaiveDate, days: i64| (d + Duration::days(days)).and_hms_opt(9, 0, 0).unwrap().and_utc();
    let smtp = sink.url();
    // A day in: nothing is due.
    escalate(&db_url, &smtp, at("2026-12-02".parse().unwrap(), 0)).await;
    assert!(sink.received().is_empty());
    // A week before the deadline: the reminder to the team, for the open item only.
    escalate(&db_url, &smtp, at(deadline, -7)).await;
    assert_eq!(mail_to(&sink, "dev@web.example"), vec![BTreeSet::from([i1])]);
    // The deadline: the team lead hears of both not-excepted items in one message, and the webhook.
    escalate(&db_url, &smtp, at(deadline, 0)).await;
    assert_eq!(mail_to(&sink, "lead@web.example"), vec![BTreeSet::from([i1, i2])]);
    // A week after: the manager.
    escalate(&db_url, &smtp, at(deadline, 7)).await;
    assert_eq!(mail_to(&sink, "manager@web.example"), vec![BTreeSet::from([i1, i2])]);
    // The exception has expired: i3 reopens and its missed levels (not the reminder) fire.
    escalate(&db_url, &smtp, at(deadline, 11)).await;
    assert_eq!(mail_to(&sink, "lead@web.example"), vec![BTreeSet::from([i1, i2]), BTreeSet::from([i3])]);
    assert_eq!(mail_to(&sink, "manager@web.example"), vec![BTreeSet::from([i1, i2]), BTreeSet::from([i3])]);
    assert_eq!(mail_to(&sink, "dev@web.example").len(), 1, "no late reminder");
    // Two weeks after: the CISO (a global contact) hears of all three, once, however often it runs.
    escalate(&db_url, &smtp, at(deadline, 14)).await;
    escalate(&db_url, &smtp, at(deadline, 15)).await;
    assert_eq!(mail_to(&sink, "ciso@corp.example"), vec![BTreeSet::from([i1, i2, i3])]);
    assert_eq!(sink.received().len(), 6, "dev 1, lead 2, manager 2, CISO 1");
    // Each message names its recipient and the items' campaign in its subject and body.
    let (_, first) = &sink.received()[0];
    assert!(first.contains("To: dev@web.example") && first.contains("Subject: Drydock: 1 patch item needs action (web)"), "{first}");
    assert!(first.contains("campaign #") && first.contains("bash") && first.contains("deadline 2026-12-20"), "{first}");
    // The webhook got the two level-1 digests as Slack-compatible JSON.
    let hooks = hooked.lock().unwrap().clone();
    assert_eq!(hooks.len(), 2, "{hooks:?}");
    assert!(hooks.iter().all(|h| h["text"].as_str().unwrap().contains("patch item")));
    // The sink refused the first message once (451): the log shows the retry, and nothing was lost.
    let log = app.get_json("/api/v1/deliveries", &security).await;
    let retried: Vec<&Value> = log.as_array().unwrap().iter().filter(|m| m["attempts"].as_array().unwrap().len() > 1).collect();
    assert_eq!(retried.len(), 1, "{log}");
    let outcomes: Vec<&str> = retried[0]["attempts"].as_array().unwrap().iter().map(|a| a["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["retry", "sent"]);
    assert!(retried[0]["attempts"][0]["detail"].as_str().unwrap().contains("451"));
    assert!(log.as_array().unwrap().iter().all(|m| m["status"] == "sent"));
    assert!(
        log.as_array().unwrap().iter().filter(|m| m["channel"] == "webhook").all(|m| !m["recipient"].as_str().unwrap().contains("/hook")),
        "a webhook's URL is a secret"
    );
    // The delivery log is security's; developers are refused.
    assert_eq!(app.client.get(app.url("/api/v1/deliveries")).bearer_auth(&dev).send().await.unwrap().status(), StatusCode::FORBIDDEN);
    // Escalations and deliveries are in the ledger.
    let entries = app.get_json("/api/v1/ledger/entries", &security).await;
    let kinds: BTreeSet<&str> = entries.as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
    for k in [
        "campaign.created",
        "campaign.item.acknowledged",
        "campaign.item.exception_requested",
        "campaign.item.exception_approved",
        "campaign.escalated",
        "campaign.delivered",
        "contacts.replaced",
    ] {
        assert!(kinds.contains(k), "no {k} in the ledger: {kinds:?}");
    }
    app.db.drop_database().await;
}

/// Two `serve` processes and two `escalate --once` runs on one PostgreSQL deliver each (item,
/// level) once.
#[tokio::test]
async fn two_replicas_deliver_each_level_once() {
    let sink = SmtpSink::start(0);
    let (hook, hooked) = webhook_receiver().await;
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("ledger.pem");
    drydock::ledger::LedgerKey::generate(&key).unwrap();
    // The data first, through an in-process app on the database (it runs no jobs).
    let app = TestApp::start_with(TestDb::postgres().await, loopback_hooks()).await;
    let db_url = app.db.url.clone();
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    own(&app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    for f in ["centos-7.json", "debian-buster.json", "ubuntu-1804.json"] {
        post_report(&app, &security, &format!("trivy/{f}")).await;
    }
    let contacts = json!([{"level": 1, "email": "lead@web.example", "webhook": hook}]);
    let r = app.client.put(app.url("/api/v1/teams/web/contacts")).bearer_auth(&admin).json(&contacts).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let today = Utc::now().date_naive().to_string();
    let body = json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": today});
    let r = app.client.post(app.url("/api/v1/campaigns")).bearer_auth(&security).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let items = r.json::<Value>().await.unwrap()["items"].as_array().unwrap().len();
    assert_eq!(items, 3);
    // Two replicas and two command-line passes, all at once: the deadline's level is due now.
    let serve = || {
        Command::new(env!("CARGO_BIN_EXE_drydock"))
            .args(["serve", "--addr", "127.0.0.1:0", "--database-url", &db_url])
            .env_remove("DRYDOCK_DATABASE_URL")
            .env("DRYDOCK_SMTP_URL", sink.url())
            .env("DRYDOCK_SMTP_FROM", "drydock@corp.example")
            .env("DRYDOCK_LEDGER_KEY", key.to_str().unwrap())
            .env("DRYDOCK_JOB_POLL_SECONDS", "0.2")
            .env("DRYDOCK_WEBHOOK_ALLOW_NETWORKS", "[\"127.0.0.0/8\"]")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut replicas = [serve(), serve()];
    let smtp = sink.url();
    let (c1, c2) = tokio::join!(escalate(&db_url, &smtp, Utc::now()), escalate(&db_url, &smtp, Utc::now()));
    println!("{c1}{c2}");
    // Wait until a replica has run its pass too.
    let mut replica_ran = false;
    for _ in 0..150 {
        let jobs = app.db.store.jobs().await.unwrap();
        if jobs.iter().any(|j| j.kind == "campaign.escalate" && j.last_success.is_some()) {
            replica_ran = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    for r in &mut replicas {
        let _ = r.kill();
        let _ = r.wait();
    }
    assert!(replica_ran, "no replica ran campaign.escalate");
    let lead = mail_to(&sink, "lead@web.example");
    assert_eq!(lead.len(), 1, "one digest, once: {lead:?}");
    assert_eq!(lead[0].len(), items);
    assert_eq!(hooked.lock().unwrap().len(), 1);
    app.db.drop_database().await;
}

/// Images found affected after the campaign started join it at the next pass; items of no team
/// escalate to the global contacts.
async fn later_images_join_and_unowned_go_to_global_contacts(db: TestDb) {
    let (_, clock) = clock_at("2026-12-01T09:00:00Z");
    let app = TestApp::start_on(0, db, loopback_hooks(), clock.clone()).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    let (hook, hooked) = webhook_receiver().await;
    let r =
        app.client.put(app.url("/api/v1/contacts")).bearer_auth(&admin).json(&json!([{"level": 1, "webhook": hook}])).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    post_report(&app, &security, "trivy/centos-7.json").await;
    let body = json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": "2026-12-10"});
    let r = app.client.post(app.url("/api/v1/campaigns")).bearer_auth(&security).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let id = c["id"].as_i64().unwrap();
    assert_eq!(c["items"].as_array().unwrap().len(), 1);
    // Two more affected images are reported; the next pass takes them in.
    for f in ["debian-buster.json", "ubuntu-1804.json"] {
        post_report(&app, &security, &format!("trivy/{f}")).await;
    }
    let notifier = drydock::campaigns::Notifier::from_config(&loopback_hooks()).unwrap();
    let r = drydock::campaigns::pass(&app.db.store, &notifier, "test", clock.now()).await.unwrap();
    assert_eq!(r.joined, 2, "{r:?}");
    let search = app.get_json("/api/v1/search?cve=CVE-2019-18276", &security).await;
    let now = app.get_json(&format!("/api/v1/campaigns/{id}"), &security).await;
    assert_eq!(images(&now["items"]), images(&search["items"]));
    assert!(now["items"].as_array().unwrap().iter().all(|i| i["team"].is_null() && i["deadline"] == "2026-12-10"), "{now}");
    // At the deadline the global level-1 contact hears of all three (no team owns them), once.
    let at: DateTime<Utc> = "2026-12-10T09:00:00Z".parse().unwrap();
    tokio::task::yield_now().await;
    let r = drydock::campaigns::pass(&app.db.store, &notifier, "test", at).await.unwrap();
    assert_eq!((r.escalations, r.sent), (3, 1), "{r:?}");
    drydock::campaigns::pass(&app.db.store, &notifier, "test", at + Duration::hours(1)).await.unwrap();
    let hooks = hooked.lock().unwrap().clone();
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    let text = hooks[0]["text"].as_str().unwrap();
    for i in now["items"].as_array().unwrap() {
        assert!(text.contains(&format!("item #{}", i["id"])), "{text}");
    }
    assert!(text.contains("(no team)"));
    app.db.drop_database().await;
}
