//! The vendor image register on the demo estate: where a vendor image may run, the policy
//! `vendor-images` and the admission webhook applying the same rule.

use super::admission::{ask, pod, review, settings, spec};
use super::campaigns::clock_at;
use super::escalation::{escalate, loopback_hooks, mail_to, SmtpSink};
use super::helpers::{fixture, TestApp, TestDb};
use super::signin::demo_app;
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

on_both_databases!(vendor_items_escalate_to_their_owners);

/// `registry/name` of an image reference as Docker resolves it (computed here, not by Drydock).
fn repository(image: &str) -> String {
    let no_digest = image.split('@').next().unwrap();
    let last = no_digest.rfind('/').map_or(0, |i| i + 1);
    let path = match no_digest[last..].rfind(':') {
        Some(i) => &no_digest[..last + i],
        None => no_digest,
    };
    match path.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => format!("{host}/{rest}"),
        _ if path.contains('/') => format!("docker.io/{path}"),
        _ => format!("docker.io/library/{path}"),
    }
}

/// The vendor register on the demo estate: the repository most containers run, allowed in one of
/// its namespaces only; the policy `vendor-images` fails exactly the other live containers running
/// it (computed here from the workload list), and admission denies it elsewhere in enforce.
#[tokio::test]
async fn vendor_images_run_only_where_registered() {
    let app = demo_app().await;
    let security = app.token("security").await;
    let rows = app.get_json("/api/v1/workloads?limit=1000", &security).await["items"].as_array().unwrap().clone();
    let live: Vec<&Value> = rows.iter().filter(|r| r["state"] != "terminated").collect();
    let mut by_repo: std::collections::BTreeMap<String, Vec<&Value>> = Default::default();
    for r in &live {
        by_repo.entry(repository(r["image"].as_str().unwrap())).or_default().push(r);
    }
    let (repo, runs) = by_repo.into_iter().max_by_key(|(_, v)| v.len()).unwrap();
    let allowed = runs[0]["namespace"].as_str().unwrap().to_string();
    let expected: BTreeSet<String> = runs
        .iter()
        .filter(|r| r["namespace"] != allowed.as_str())
        .map(|r| {
            format!(
                "{}/{}/{}/{}",
                r["cluster"].as_str().unwrap(),
                r["namespace"].as_str().unwrap(),
                r["pod"].as_str().unwrap(),
                r["container"].as_str().unwrap()
            )
        })
        .collect();
    let judged: BTreeSet<String> = runs
        .iter()
        .map(|r| {
            format!(
                "{}/{}/{}/{}",
                r["cluster"].as_str().unwrap(),
                r["namespace"].as_str().unwrap(),
                r["pod"].as_str().unwrap(),
                r["container"].as_str().unwrap()
            )
        })
        .collect();
    let register = json!([{"repository": repo, "vendor": "Acme", "owner_team": "platform", "licence": "commercial, support until 2027",
        "allowed_namespaces": [allowed]}]);
    let r = app.client.put(app.url("/api/v1/vendor-images")).bearer_auth(&security).json(&register).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = r.json().await.unwrap();
    assert_eq!((saved["total"].as_i64(), saved["items"][0]["repository"].as_str()), (Some(1), Some(repo.as_str())));
    // The policies judge the estate with the register in it (as the nudged job would, without
    // waiting for it on a busy machine).
    // (again, should the server's own evaluation, begun before the change, finish after this one)
    let mut results = Value::Null;
    for _ in 0..50 {
        drydock::policy::run(&app.db.store, &drydock::config::Config::default().promotion().unwrap(), chrono::Utc::now()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        results = app.get_json("/api/v1/policy-results?policy=vendor-images&limit=5000", &security).await;
        if results["total"].as_i64().unwrap_or(0) > 0 {
            break;
        }
    }
    let subjects = |failing: bool| -> BTreeSet<String> {
        results["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["passed"] == !failing)
            .map(|r| r["subject"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        subjects(true).union(&subjects(false)).cloned().collect::<BTreeSet<_>>(),
        judged,
        "every container of the repository is judged"
    );
    assert_eq!(subjects(true), expected);
    assert!(results["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["passed"] == false)
        .all(|r| r["reason"].as_str().unwrap().contains("may not run it")));

    // Admission applies the same rule: elsewhere denied in enforce, in its namespace allowed.
    let admission = app.token("admission").await;
    settings(&app, &security, json!({"default_mode": "enforce"})).await;
    let image = runs[0]["image"].as_str().unwrap();
    let elsewhere = ask(&app, &admission, &review("v-1", "Pod", "not-allowed-here", pod(spec(&[image], None, None)), false), "").await;
    assert_eq!(elsewhere["allowed"], false, "{elsewhere}");
    assert!(elsewhere["status"]["message"].as_str().unwrap().contains("namespace not-allowed-here may not run it"));
    let home = ask(&app, &admission, &review("v-2", "Pod", &allowed, pod(spec(&[image], None, None)), false), "").await;
    assert!(!home["status"]["message"].as_str().unwrap_or("").contains("may not run it"), "{home}");

    // A bad entry is refused naming it; the register is a ledger entry; readers may read, not write.
    let bad = json!([{"repository": repo, "vendor": "Acme"}]);
    let r = app.client.put(app.url("/api/v1/vendor-images")).bearer_auth(&security).json(&bad).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "[0].owner_team");
    let viewer = app.token("viewer").await;
    assert_eq!(app.get_json("/api/v1/vendor-images", &viewer).await["total"], 1);
    let r = app.client.put(app.url("/api/v1/vendor-images")).bearer_auth(&viewer).json(&register).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let events = app.db.store.audit_events().await.unwrap();
    assert_eq!(events.iter().filter(|e| e.kind == "vendor_images.changed").count(), 1);
    // A vendor image's campaign items go to its owner's ladder (team platform), not its repository's
    // team: an image a demo campaign (by CVE) found in a team's repository, registered, then a new
    // campaign for the same CVEs.
    let campaigns = app.get_json("/api/v1/campaigns?limit=500", &security).await;
    let images = app.get_json("/api/v1/images?limit=1000", &security).await;
    let (cves, scanned_digest, scanned_repo) = campaigns["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| !c["cves"].as_array().unwrap().is_empty())
        .flat_map(|c| c["items"].as_array().unwrap().iter().map(move |i| (c["cves"].clone(), i.clone())))
        .find_map(|(cves, i)| {
            let image = images["items"].as_array().unwrap().iter().find(|m| m["digest"] == i["image"])?;
            let repo = image["repositories"].as_array()?.first()?["repository"].as_str()?.to_string();
            (i["team"].is_string() && i["team"] != "platform").then(|| (cves, i["image"].as_str().unwrap().to_string(), repo))
        })
        .expect("a campaign item of a team's image in a repository");
    let both = json!([register[0], {"repository": scanned_repo, "vendor": "Initech", "owner_team": "platform"}]);
    let r = app.client.put(app.url("/api/v1/vendor-images")).bearer_auth(&security).json(&both).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let until = (chrono::Utc::now().date_naive() + chrono::Duration::days(30)).to_string();
    let campaign = json!({"title": "vendor routing", "cves": cves, "deadline": until});
    let r = app.client.post(app.url("/api/v1/campaigns")).bearer_auth(&security).json(&campaign).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let item =
        created["items"].as_array().unwrap().iter().find(|i| i["image"] == scanned_digest.as_str()).expect("the image's item").clone();
    assert_eq!(item["team"], "platform", "{item}");

    // The Admission page lists the register; the checklist counts it and the containers outside it.
    super::signin::demo_sign_in(&app, "viewer").await;
    let html = app.client.get(app.url("/admission")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains(&format!("<code>{repo}</code>")) && html.contains("team platform"), "{html}");
    let c = app.get_json("/api/v1/checklist", &security).await;
    let item = c["items"].as_array().unwrap().iter().find(|i| i["id"] == "vendor-owner").unwrap().clone();
    assert_eq!(item["figures"]["registered_vendor_images"], 2);
    assert_eq!(item["figures"]["containers_outside_their_places"].as_u64().unwrap() as usize, expected.len());
}

/// A campaign's items of registered vendor images go to their owners: the owning team's ladder,
/// or (no team) the named person, who is written to at every level beside the global contacts.
async fn vendor_items_escalate_to_their_owners(db: TestDb) {
    let sink = SmtpSink::start(0);
    let (_manual, clock) = clock_at("2026-12-01T09:00:00Z");
    let db_url = db.url.clone();
    let app = TestApp::start_on(0, db, loopback_hooks(), clock.clone()).await;
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    // Three images with bash's CVE-2019-18276; two are also pushed as vendors' repositories.
    let (actor, now) = (drydock::store::Actor::cli(), clock.now());
    let mut digests = Vec::new();
    for (file, vendor_tag) in [
        ("trivy/centos-7.json", Some("vendor.example/acme/agent:7")),
        ("trivy/debian-buster.json", Some("vendor.example/globex/proxy:10")),
        ("trivy/ubuntu-1804.json", None),
    ] {
        let bytes = fixture(file);
        let report = drydock::ingest::parse(&bytes, None).unwrap();
        let stored = app.db.store.ingest_report(&report, &drydock::store::sha256_hex(&bytes), &actor, now).await.unwrap();
        let digest = stored.summary().image.clone().unwrap();
        if let Some(tag) = vendor_tag {
            app.db.store.place_tag(&drydock::domain::ImageRef::parse(tag).unwrap(), &digest, &actor, now).await.unwrap();
        }
        digests.push(digest);
    }
    app.db.store.upsert_team(&drydock::domain::TeamName::parse("platform").unwrap(), "Platform", &actor, now).await.unwrap();
    let register = json!([
        {"repository": "vendor.example/acme/agent", "vendor": "Acme", "owner_person": "agent-owner@acme-admin.example"},
        {"repository": "vendor.example/globex/*", "vendor": "Globex", "owner_team": "platform"},
    ]);
    let r = app.client.put(app.url("/api/v1/vendor-images")).bearer_auth(&security).json(&register).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
    for (path, contacts) in [
        ("/api/v1/teams/platform/contacts", json!([{"level": 1, "email": "lead@platform.example"}])),
        ("/api/v1/contacts", json!([{"level": 1, "email": "security@corp.example"}])),
    ] {
        let r = app.client.put(app.url(path)).bearer_auth(&admin).json(&contacts).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}: {}", r.text().await.unwrap());
    }
    let body = json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": "2026-12-10"});
    let r = app.client.post(app.url("/api/v1/campaigns")).bearer_auth(&security).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let item_of = |digest: &str| {
        let it = c["items"].as_array().unwrap().iter().find(|i| i["image"] == digest).unwrap_or_else(|| panic!("{digest}: {c}"));
        (it["id"].as_i64().unwrap(), it["team"].as_str().map(str::to_string))
    };
    let (agent, proxy, plain) = (item_of(&digests[0]), item_of(&digests[1]), item_of(&digests[2]));
    assert_eq!((agent.1.as_deref(), proxy.1.as_deref(), plain.1.as_deref()), (None, Some("platform"), None));
    // At the deadline (level 1): the person hears of the agent alone, the platform lead of the
    // proxy alone, the global contact of all three.
    let at: chrono::DateTime<chrono::Utc> = "2026-12-10T09:00:00Z".parse().unwrap();
    escalate(&db_url, &sink.url(), at).await;
    let only = |ids: &[i64]| vec![ids.iter().copied().collect::<BTreeSet<i64>>()];
    assert_eq!(mail_to(&sink, "agent-owner@acme-admin.example"), only(&[agent.0]));
    assert_eq!(mail_to(&sink, "lead@platform.example"), only(&[proxy.0]));
    assert_eq!(mail_to(&sink, "security@corp.example"), only(&[agent.0, proxy.0, plain.0]));
    let mail = sink.received().into_iter().find(|(to, _)| to.iter().any(|t| t.starts_with("agent-owner"))).unwrap().1;
    assert!(mail.replace("=\r\n", "").contains("vendor image owner agent-owner@acme-admin.example"), "{mail}");
    app.db.drop_database().await;
}

/// Security edits the register on the Admission page as a table of plain fields: rows become
/// entries (owner a team or an e-mail address), a ticked row is removed, a blank one ignored; a
/// row without an owner is refused naming the field, and nothing is saved.
#[tokio::test]
async fn security_edits_the_register_with_a_plain_form() {
    let app = demo_app().await;
    super::signin::demo_sign_in(&app, "security").await;
    let html = app.client.get(app.url("/admission")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("action=\"/admin/vendor-images\"") && html.contains("name=\"v:0:repository\""), "{html}");
    // The form carries the version of the register it shows; a form of an older one is refused.
    let seen_on = |html: &str| {
        let form = &html[html.find("action=\"/admin/vendor-images\"").expect("the register's form")..];
        let at = form.find("name=\"seen\" value=\"").expect("the form names the register's version") + "name=\"seen\" value=\"".len();
        form[at..at + 64].to_string()
    };
    let first = seen_on(&html);
    let post = |seen: String, mut form: Vec<(&'static str, &'static str)>| {
        form.retain(|(k, _)| *k != "seen");
        let mut form: Vec<(&str, String)> = form.into_iter().map(|(k, v)| (k, v.to_string())).collect();
        form.push(("seen", seen));
        app.client.post(app.url("/admin/vendor-images")).header("Origin", app.url("")).form(&form).send()
    };
    let page_seen = || async { seen_on(&app.client.get(app.url("/admission")).send().await.unwrap().text().await.unwrap()) };
    let r = post(
        first.clone(),
        vec![
            ("v:0:repository", "nginx"),
            ("v:0:vendor", "F5"),
            ("v:0:owner", "platform"),
            ("v:0:not_environments", "dmz"),
            ("v:1:repository", "quay.io/acme/*"),
            ("v:1:vendor", "Acme"),
            ("v:1:owner", "ops@acme.example"),
            ("v:1:allowed_namespaces", "monitoring, kube-ops"),
            ("v:2:repository", ""),
            ("v:2:vendor", ""),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let security = app.token("security").await;
    let saved = app.get_json("/api/v1/vendor-images", &security).await;
    let got: Vec<(String, Value, Value)> = saved["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["repository"].as_str().unwrap().to_string(), e["owner_team"].clone(), e["owner_person"].clone()))
        .collect();
    assert_eq!(
        got,
        vec![(repository("nginx"), json!("platform"), Value::Null), ("quay.io/acme/*".to_string(), Value::Null, json!("ops@acme.example")),]
    );
    assert_eq!(saved["items"][1]["allowed_namespaces"], json!(["monitoring", "kube-ops"]));
    // The same form sent again (its register has changed since): 409, the register as it was.
    let r = post(first.clone(), vec![("v:0:repository", "nginx"), ("v:0:vendor", "F5"), ("v:0:owner", "platform")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("load it again"));
    assert_eq!(app.get_json("/api/v1/vendor-images", &security).await["total"], 2);
    let r = app
        .client
        .post(app.url("/admin/vendor-images"))
        .header("Origin", app.url(""))
        .form(&[("v:0:repository", "nginx")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a form without the version it showed");
    // A row without an owner: refused naming it, the register as it was.
    let r = post(page_seen().await, vec![("v:0:repository", "nginx"), ("v:0:vendor", "F5")]).await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("owner_team"));
    assert_eq!(app.get_json("/api/v1/vendor-images", &security).await["total"], 2);
    // Removing a row.
    let r =
        post(page_seen().await, vec![("v:0:repository", "nginx"), ("v:0:vendor", "F5"), ("v:0:owner", "platform"), ("v:0:remove", "on")])
            .await
            .unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.get_json("/api/v1/vendor-images", &security).await["total"], 0);
}
