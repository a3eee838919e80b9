//! Trust under hostile input (issue 19): stored text escaped in every title, dates bounded to
//! their windows, one honest exception workflow (no rewriting a waiting request, no approving
//! one's own), caps and a uniform 404. Faults (webhooks, panicking jobs, dead collectors) are in
//! `faults.rs`.

use super::campaigns::{clock_at, own, post_report};
use super::escalation::loopback_hooks;
use super::helpers::{fixture, TestApp, TestDb};
use chrono::{Duration, Utc};
use drydock::domain::Role;
use drydock::store::capabilities::*;
use drydock::store::Actor;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;

on_both_databases!(
    stored_text_is_escaped_in_titles,
    dates_are_bounded_to_their_windows,
    exception_requests_are_never_rewritten_nor_self_approved,
    caps_bidi_and_a_uniform_not_found,
);

const HOSTILE: &str = r#"w</title><meta http-equiv="refresh" content="0;url=https://evil.test/">"#;

/// A signed-in page session for `role` (of `team`) written into the store, as a sign-in would
/// (PostgreSQL refuses demo sign-in); answers the cookie to send.
async fn page_session(app: &TestApp, role: Role, team: Option<&str>, login: &str) -> String {
    let id = tower_sessions::session::Id::default().to_string();
    let now = Utc::now().timestamp();
    let user = drydock::http::session::SessionUser {
        principal: drydock::auth::Principal {
            actor: format!("user:{login}"),
            display: login.into(),
            grants: vec![drydock::auth::Grant { role, team: team.map(|t| drydock::domain::TeamName::parse(t).unwrap()) }],
            bindings: None,
        },
        user: drydock::store::SignedInUser { subject: format!("demo#{login}"), login: Some(login.into()), name: None, email: None },
        groups: vec![],
        signed_in_at: now,
        active_at: now,
        grants_at: now,
        demo: true,
    };
    let data = json!({ "drydock.user": user }).to_string();
    assert!(app.db.store.session_create(&id, &data, now + 3600, Some(&user.user.subject)).await.unwrap());
    format!("drydock_session={id}")
}

async fn page(app: &TestApp, cookie: &str, path: &str) -> (StatusCode, String) {
    let r = app.client.get(app.url(path)).header("Cookie", cookie).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

/// The text of the document's `<title>`.
fn title_of(html: &str) -> &str {
    let start = html.find("<title>").expect("a <title>") + "<title>".len();
    &html[start..start + html[start..].find("</title>").unwrap()]
}

fn assert_inert(html: &str, path: &str) {
    assert!(!html.contains("<meta http-equiv=\"refresh\""), "{path}: the stored text became markup");
    let title = title_of(html);
    assert!(title.contains("&lt;/title&gt;&lt;meta http-equiv=&quot;refresh&quot;"), "{path}: <title>{title}</title>");
}

/// A pod name posted by an ingest token of its cluster and a campaign title reach `<title>` (and
/// the workloads page's links) escaped.
async fn stored_text_is_escaped_in_titles(db: TestDb) {
    let app = TestApp::process(db, &[], &[("DRYDOCK_JOBS_WORKER", "false")]).await;
    let security = app.db.store.create_token("sec", Role::Security, None, &Default::default(), &Actor::cli(), Utc::now()).await.unwrap();
    let bindings = drydock::store::TokenBindings { clusters: vec!["edge".into()], registries: vec![] };
    let ingest = app.db.store.create_token("edge", Role::Ingest, None, &bindings, &Actor::cli(), Utc::now()).await.unwrap();
    post_report(&app, &security, "trivy/debian-buster.json").await;
    let digest = app.db.store.images(10, 0, None).await.unwrap().items[0].digest.clone();
    let pod = json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": HOSTILE, "namespace": "web", "uid": "u-hostile-1"},
        "spec": {"nodeName": "node-a", "containers": [{"name": "app", "image": "debian:buster"}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "app", "image": "debian:buster", "imageID": format!("docker-pullable://debian@{digest}"),
            "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-11-01T00:00:00Z"}}
        }]}
    });
    let r = app.client.post(app.url("/api/v1/clusters/edge/pods")).bearer_auth(&ingest).json(&pod).send().await.unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
    let body = json!({"title": HOSTILE, "cves": ["CVE-2019-18276"], "deadline": Utc::now().date_naive().to_string()});
    let r = app.client.post(app.url("/api/v1/campaigns")).bearer_auth(&security).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED, "{}", r.text().await.unwrap());
    let id = r.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    let cookie = page_session(&app, Role::Security, None, "sec-person").await;
    let workload = app::format::query_value(&format!("Pod/{HOSTILE}"));
    for path in [format!("/campaigns/{id}"), format!("/forensics/workload?cluster=edge&namespace=web&workload={workload}")] {
        let (status, html) = page(&app, &cookie, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_inert(&html, &path);
    }
    // A report naming its artifact with the same text: refused, or its image page escapes it.
    let mut report: Value = serde_json::from_slice(&fixture("trivy/alpine-310.json")).unwrap();
    report["ArtifactName"] = json!(HOSTILE);
    report["Metadata"]["RepoTags"] = json!([HOSTILE]);
    report["Metadata"]["RepoDigests"] = json!([]);
    let r = app.client.post(app.url("/api/v1/scans")).bearer_auth(&security).json(&report).send().await.unwrap();
    if r.status().is_success() {
        let hostile = r.json::<Value>().await.unwrap()["image"].as_str().unwrap().to_string();
        let path = format!("/images/{hostile}");
        let (status, html) = page(&app, &cookie, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_inert(&html, &path);
    } else {
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Pages that show the same text in their body and links: escaped there too.
    for path in ["/workloads", "/campaigns", "/updates"] {
        let (status, html) = page(&app, &cookie, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(!html.contains("<meta http-equiv=\"refresh\""), "{path}: the stored text became markup");
    }
    app.db.drop_database().await;
}

pub(super) async fn post(app: &TestApp, token: &str, path: &str, body: &Value) -> (StatusCode, Value) {
    let r = app.client.post(app.url(path)).bearer_auth(token).json(body).send().await.unwrap();
    let status = r.status();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The `drydock` command, off the test's runtime thread: the in-process app and its jobs keep
/// running meanwhile (a job holding SQLite's write lock on a blocked runtime would stall it).
pub(super) async fn drydock(args: &[&str]) -> std::process::Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_drydock")).args(args).env_remove("DRYDOCK_DATABASE_URL").output().unwrap()
    })
    .await
    .unwrap()
}

/// Every date a person or a command line enters has its window; 422 (or a CLI error) names it.
async fn dates_are_bounded_to_their_windows(db: TestDb) {
    let (_, clock) = clock_at("2026-12-02T09:00:00Z");
    let app = TestApp::start_on(0, db, loopback_hooks(), clock.clone()).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    own(&app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    post_report(&app, &security, "trivy/debian-buster.json").await;
    let campaign = |deadline: &str| json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": deadline});
    for bad in ["+262142-12-31", "-262143-01-01", "1999-12-31", "2036-12-03", "2026-02-30"] {
        let (status, e) = post(&app, &security, "/api/v1/campaigns", &campaign(bad)).await;
        assert_eq!((status, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("deadline")), "{bad}: {e}");
    }
    // A deadline in the past is allowed: its items are overdue at once.
    let (status, c) = post(&app, &security, "/api/v1/campaigns", &campaign("2001-01-01")).await;
    assert_eq!(status, StatusCode::CREATED, "{c}");
    assert!(c["items"].as_array().unwrap().iter().all(|i| i["overdue"] == true), "{c}");
    let id = c["id"].as_i64().unwrap();
    let item = c["items"][0]["id"].as_i64().unwrap();
    for (deadline, ok) in [("+262142-12-31", false), ("2036-12-02", true), ("2000-01-01", true)] {
        let r = app
            .client
            .put(app.url(&format!("/api/v1/campaigns/{id}/deadline")))
            .bearer_auth(&security)
            .json(&json!({ "deadline": deadline }))
            .send()
            .await
            .unwrap();
        let expect = if ok { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
        assert_eq!(r.status(), expect, "PUT deadline {deadline}");
    }
    // The campaign page and the escalation still work at the window's far end.
    let dev = app.token_with("dev-web", "developer", Some("web"), Default::default()).await;
    let base = format!("/api/v1/campaigns/{id}/items/{item}");
    for (planned, ok) in
        [("-262143-01-01", false), ("2026-12-01", false), ("2028-12-03", false), ("2026-12-02", true), ("2028-12-02", true)]
    {
        let (status, e) = post(&app, &dev, &format!("{base}/ack"), &json!({"planned": planned, "note": ""})).await;
        match ok {
            true => assert_eq!(status, StatusCode::OK, "planned {planned}: {e}"),
            false => assert_eq!((status, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("planned")), "{planned}: {e}"),
        }
    }
    for until in ["2026-12-02", "2027-12-03", "+262142-12-31"] {
        let (status, e) = post(&app, &dev, &format!("{base}/exception"), &json!({"reason": "vendor", "until": until})).await;
        assert_eq!((status, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("until")), "{until}: {e}");
    }
    let notifier = drydock::campaigns::Notifier::from_config(&loopback_hooks()).unwrap();
    let r = drydock::campaigns::pass(&app.db.store, &notifier, "test", clock.now()).await.unwrap();
    assert!(r.errors.is_empty(), "{r:?}");
    // The command line: --at from 2000-01-01 to ten years ahead.
    for args in [
        vec!["snapshot", "--at", "1999-12-31"],
        vec!["snapshot", "--at", "+262142-12-31"],
        vec!["escalate", "--once", "--at", "+262142-12-31T00:00:00Z"],
        vec!["escalate", "--once", "--at", "2999-01-01T00:00:00Z"],
        vec!["jobs", "--run-pending", "--at", "1970-01-01T00:00:00Z"],
    ] {
        let out = drydock(&[args.as_slice(), &["--database-url", &app.db.url]].concat()).await;
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && out.status.code() != Some(101), "{args:?}: {stderr}");
        assert!(stderr.contains("--at"), "{args:?}: {stderr}");
    }
    let out = drydock(&["snapshot", "--at", "2026-12-01", "--database-url", &app.db.url]).await;
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    app.db.drop_database().await;
}

/// A request that waits is never rewritten (409); a decision names the request it decides; whoever
/// requested never decides (403, before anything else); the ledger names both people. Through the
/// API and the forms.
async fn exception_requests_are_never_rewritten_nor_self_approved(db: TestDb) {
    let app = TestApp::process(db, &[], &[("DRYDOCK_JOBS_WORKER", "false")]).await;
    let store = &app.db.store;
    let tok = |name: &'static str, role: Role, team: Option<&'static str>| async move {
        store
            .create_token(
                name,
                role,
                team.map(|t| drydock::domain::TeamName::parse(t).unwrap()).as_ref(),
                &Default::default(),
                &Actor::cli(),
                Utc::now(),
            )
            .await
            .unwrap()
    };
    let (security, admin) = (tok("sec", Role::Security, None).await, tok("adm", Role::Admin, None).await);
    let (dev, manager) = (tok("dev-web", Role::Developer, Some("web")).await, tok("mgr-web", Role::Manager, Some("web")).await);
    own(&app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    for f in ["debian-buster.json", "ubuntu-1804.json"] {
        post_report(&app, &security, &format!("trivy/{f}")).await;
    }
    let deadline = (Utc::now() + Duration::days(10)).date_naive().to_string();
    let (status, c) =
        post(&app, &security, "/api/v1/campaigns", &json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": deadline})).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = c["id"].as_i64().unwrap();
    let items: Vec<i64> = c["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(items.len(), 2);
    let base = |item: i64| format!("/api/v1/campaigns/{id}/items/{item}");
    let month = (Utc::now() + Duration::days(30)).date_naive().to_string();
    let year = (Utc::now() + Duration::days(360)).date_naive().to_string();

    // The developer asks for a month: request 1. The manager's year over it is 409, unchanged.
    let (status, it) = post(&app, &dev, &format!("{}/exception", base(items[0])), &json!({"reason": "a month", "until": month})).await;
    assert_eq!(status, StatusCode::OK, "{it}");
    assert_eq!((it["exception"]["request_id"].as_i64(), it["exception"]["state"].as_str()), (Some(1), Some("requested")));
    let (status, e) = post(&app, &manager, &format!("{}/exception", base(items[0])), &json!({"reason": "a year", "until": year})).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    let now = app.get_json(&format!("/api/v1/campaigns/{id}"), &security).await;
    let waiting = now["items"].as_array().unwrap().iter().find(|i| i["id"] == items[0]).unwrap()["exception"].clone();
    assert_eq!((waiting["until"].as_str(), waiting["reason"].as_str()), (Some(month.as_str()), Some("a month")), "{waiting}");
    // A decision without the request it decides is 422 naming request_id; naming another is 409.
    let decision = |request_id: Option<i64>| json!({"approve": true, "note": "ok", "request_id": request_id});
    let (status, e) = post(&app, &security, &format!("{}/exception/decision", base(items[0])), &json!({"approve": true})).await;
    assert_eq!((status, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("request_id")), "{e}");
    let (status, _) = post(&app, &security, &format!("{}/exception/decision", base(items[0])), &decision(Some(2))).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, it) = post(&app, &security, &format!("{}/exception/decision", base(items[0])), &decision(Some(1))).await;
    assert_eq!((status, it["state"].as_str(), it["exception"]["until"].as_str()), (StatusCode::OK, Some("excepted"), Some(month.as_str())));
    let (status, _) = post(&app, &security, &format!("{}/exception/decision", base(items[0])), &decision(Some(1))).await;
    assert_eq!(status, StatusCode::CONFLICT, "decided once");

    // The admin asks on the second item and may not decide it, whatever the body (403 first).
    let (status, _) = post(&app, &admin, &format!("{}/exception", base(items[1])), &json!({"reason": "mine", "until": month})).await;
    assert_eq!(status, StatusCode::OK);
    for body in [json!({"approve": true}), decision(Some(1)), decision(Some(7))] {
        let (status, e) = post(&app, &admin, &format!("{}/exception/decision", base(items[1])), &body).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{body}: {e}");
    }
    let (status, _) =
        post(&app, &security, &format!("{}/exception/decision", base(items[1])), &json!({"approve": false, "request_id": 1})).await;
    assert_eq!(status, StatusCode::OK, "security rejects the admin's request");
    // The forms obey the same rules: a second request over a waiting one 409, one's own refused.
    let admin_cookie = page_session(&app, Role::Admin, None, "ada").await;
    let form = |path: String, fields: Vec<(&'static str, String)>, cookie: String| {
        let app = &app;
        async move {
            app.client
                .post(app.url(&path))
                .header("Cookie", cookie)
                .header("Origin", &app.base)
                .form(&fields)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    let page_base = format!("/campaigns/{id}/items/{}", items[1]);
    let ask = vec![("reason", "mine, by the form".to_string()), ("until", month.clone()), ("return_to", "/updates".to_string())];
    assert_eq!(form(format!("{page_base}/exception"), ask.clone(), admin_cookie.clone()).await, StatusCode::SEE_OTHER);
    let second = page_session(&app, Role::Admin, None, "bob").await;
    let decide = vec![("decision", "approve".to_string()), ("note", String::new()), ("request_id", "2".to_string())];
    assert_eq!(form(format!("{page_base}/exception"), ask, second.clone()).await, StatusCode::CONFLICT, "request 2 waits");
    assert_eq!(form(format!("{page_base}/exception/decision"), decide.clone(), admin_cookie).await, StatusCode::FORBIDDEN);
    let stale = vec![("decision", "approve".to_string()), ("request_id", "1".to_string())];
    assert_eq!(form(format!("{page_base}/exception/decision"), stale, second.clone()).await, StatusCode::CONFLICT);
    assert_eq!(form(format!("{page_base}/exception/decision"), decide, second).await, StatusCode::SEE_OTHER);
    // The ledger names both people of each decision.
    let entries = app.get_json("/api/v1/ledger/entries", &security).await;
    let approvals: Vec<&Value> = entries.as_array().unwrap().iter().filter(|e| e["kind"] == "campaign.item.exception_approved").collect();
    assert_eq!(approvals.len(), 2, "{approvals:?}");
    let text = serde_json::to_string(&approvals).unwrap();
    assert!(text.contains("token:dev-web") && text.contains("token:sec"), "{text}");
    assert!(text.contains("user:ada") && text.contains("user:bob"), "{text}");
    app.db.drop_database().await;
}

/// KEV text fields and `vers` ranges are capped; bidirectional controls are refused in what a
/// person writes; an item of another team is answered exactly as a missing one.
async fn caps_bidi_and_a_uniform_not_found(db: TestDb) {
    let app = TestApp::start_on(0, db, loopback_hooks(), Arc::new(drydock::clock::SystemClock)).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    let mut kev: Value = serde_json::from_slice(&fixture("kev/known_exploited_vulnerabilities.json")).unwrap();
    kev["vulnerabilities"][3]["vulnerabilityName"] = json!("x".repeat(2 * 1024 * 1024));
    let r = app.client.post(app.url("/api/v1/kev")).bearer_auth(&security).json(&kev).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["field"], "vulnerabilities[3].vulnerabilityName", "{e}");
    let range = format!("vers:deb/{}", (0..65).map(|i| format!("!=1.0.{i}")).collect::<Vec<_>>().join("|"));
    let (status, e) =
        post(&app, &security, "/api/v1/campaigns", &json!({"title": "many", "package": "pkg:deb/debian/bash", "range": range})).await;
    assert_eq!((status, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("range")), "{e}");
    let q = format!("/api/v1/search?package=pkg:deb/debian/bash&range={}", app::format::query_value(&range));
    let r = app.client.get(app.url(&q)).bearer_auth(&security).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "range");
    for title in ["invoice\u{202E}fdp.exe", "a\u{2066}b\u{2069}"] {
        let (status, e) = post(&app, &security, "/api/v1/campaigns", &json!({"title": title, "cves": ["CVE-2019-18276"]})).await;
        assert_eq!((status, e["field"].as_str()), (StatusCode::UNPROCESSABLE_ENTITY, Some("title")), "{e}");
    }
    // An item of web's, asked for by a developer of payments, and a missing item: the same 404.
    own(&app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    post_report(&app, &security, "trivy/debian-buster.json").await;
    let (status, c) = post(&app, &security, "/api/v1/campaigns", &json!({"title": "bash", "cves": ["CVE-2019-18276"]})).await;
    assert_eq!(status, StatusCode::CREATED);
    let (id, item) = (c["id"].as_i64().unwrap(), c["items"][0]["id"].as_i64().unwrap());
    let payments = app.token_with("dev-pay", "developer", Some("payments"), Default::default()).await;
    let planned = (Utc::now() + Duration::days(5)).date_naive().to_string();
    let ack = json!({"planned": planned, "note": "\u{202E}"});
    let mut answers = Vec::new();
    for it in [item, item + 1000] {
        for what in ["ack", "exception"] {
            let body = if what == "ack" { ack.clone() } else { json!({"reason": "x", "until": planned}) };
            let (status, e) = post(&app, &payments, &format!("/api/v1/campaigns/{id}/items/{it}/{what}"), &body).await;
            answers.push((status, e["error"].as_str().unwrap_or_default().replace(&format!("item {it}"), "item N")));
        }
    }
    assert!(answers.iter().all(|a| a == &answers[0]) && answers[0].0 == StatusCode::NOT_FOUND, "{answers:?}");
    app.db.drop_database().await;
}
