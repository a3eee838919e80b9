//! Evidence bundles on both databases: the compliance state at the end of a day between two
//! other snapshots — scores as the API gave them right after that day's snapshot (not today's),
//! the exception approved that day, not the one requested later — exported by the command line
//! and the API, verified offline by `drydock evidence verify` and by an independent RFC 6962
//! checker in Python; a changed score, a removed exception, swapped entries and another key each
//! fail, naming what.

use super::campaigns::{clock_at, own, post_report};
use super::helpers::{fixture_path, TestApp, TestDb};
use drydock::store::Actor;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::process::Command;

on_both_databases!(a_day_between_two_snapshots_is_proven_offline);

const ORACLE_PYTHON: &str = "/var/tmp/drydock-oracles/bin/python";

fn drydock(args: &[&str], db_url: &str, key: &std::path::Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(args)
        .args(["--database-url", db_url])
        .env("DRYDOCK_LEDGER_KEY", key)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// `drydock evidence verify`: (exit success, what it printed).
fn verify_cli(file: &std::path::Path, public_key: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["evidence", "verify", file.to_str().unwrap(), "--public-key", public_key])
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The Python checker's verdict on a bundle file.
fn oracle(file: &std::path::Path) -> Value {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oracles/rfc6962_bundle.py");
    let vectors = fixture_path("ledger/rfc6962-vectors.json");
    let out = Command::new(ORACLE_PYTHON)
        .args([script, vectors.to_str().unwrap(), file.to_str().unwrap()])
        .output()
        .unwrap_or_else(|e| panic!("{ORACLE_PYTHON} (run .ci/setup.sh --tests): {e}"));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The bundle with `files` changed, its manifest signed again with the ledger's own key (what
/// someone holding the key could do: the inner checks must still catch it).
fn resigned(files: &BTreeMap<String, Vec<u8>>, key: &drydock::ledger::LedgerKey) -> Vec<u8> {
    let manifest: drydock::bundle::Manifest = serde_json::from_slice(&files["MANIFEST.json"]).unwrap();
    let rest: Vec<(String, Vec<u8>)> = manifest.files.iter().map(|f| (f.name.clone(), files[&f.name].clone())).collect();
    drydock::bundle::pack(rest, manifest, key).unwrap().0
}

fn edit_json(files: &mut BTreeMap<String, Vec<u8>>, name: &str, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&files[name]).unwrap();
    f(&mut v);
    files.insert(name.to_string(), serde_json::to_vec_pretty(&v).unwrap());
}

async fn judge_and_snapshot(app: &TestApp, day: &str, at: &str) {
    let at: chrono::DateTime<chrono::Utc> = at.parse().unwrap();
    let promotion = drydock::config::Config::default().promotion().unwrap();
    drydock::policy::run(&app.db.store, &promotion, at).await.unwrap();
    drydock::policy::record_snapshot(&app.db.store, day.parse().unwrap(), &Actor::cli(), at).await.unwrap();
}

async fn set_signed(app: &TestApp, token: &str, enabled: bool) {
    let body = json!([{"id": "signed", "enabled": enabled, "scope": "all", "params": null}]);
    let r = app.client.put(app.url("/api/v1/policies")).bearer_auth(token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{}", r.text().await.unwrap());
}

/// What the test did, to compare the bundle with.
struct Story {
    campaign: i64,
    items: Vec<i64>,
    /// The web team's scorecard as the API gave it right after day 2's snapshot.
    web_card: Value,
    /// Item B as the API showed it once its exception was approved.
    excepted: Value,
}

/// Day 1 (06-28): reports, a snapshot, a campaign, an acknowledgement. Day 2 (06-29): an
/// exception approved, the `signed` policy switched off, the day's snapshot recorded after
/// midnight. Day 4 (07-01): another exception requested, `signed` back on, another snapshot.
async fn three_days(app: &TestApp, manual: &drydock::clock::ManualClock) -> Story {
    let (security, admin) = (app.token("security").await, app.token("admin").await);
    own(app, &admin, "ghcr.io/aquasecurity/trivy-test-images", "web").await;
    own(app, &admin, "docker.io/bkimminich", "shop").await;
    for f in ["centos-7.json", "debian-buster.json", "ubuntu-1804.json", "juice-shop-v10.2.0.json"] {
        post_report(app, &security, &format!("trivy/{f}")).await;
    }
    judge_and_snapshot(app, "2026-06-28", "2026-06-28T09:30:00Z").await;
    let body = json!({"title": "bash", "cves": ["CVE-2019-18276"], "deadline": "2026-07-20"});
    let r = app.client.post(app.url("/api/v1/campaigns")).bearer_auth(&security).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let c: Value = r.json().await.unwrap();
    let campaign = c["id"].as_i64().unwrap();
    let items: Vec<i64> = c["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect();
    assert_eq!(items.len(), 3, "{c}");
    let dev = app.token_with("dev-web", "developer", Some("web"), Default::default()).await;
    let url = |item: i64, what: &str| app.url(&format!("/api/v1/campaigns/{campaign}/items/{item}/{what}"));
    let ack = json!({"planned": "2026-07-10", "note": "rebuild on the new base"});
    assert_eq!(app.client.post(url(items[0], "ack")).bearer_auth(&dev).json(&ack).send().await.unwrap().status(), StatusCode::OK);
    manual.set("2026-06-29T10:00:00Z".parse().unwrap());
    let ask = json!({"reason": "vendor image, fix due in August", "until": "2026-08-31"});
    let r = app.client.post(url(items[1], "exception")).bearer_auth(&dev).json(&ask).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let request_id = r.json::<Value>().await.unwrap()["exception"]["request_id"].clone();
    let decide = json!({"approve": true, "note": "accepted", "request_id": request_id});
    let r = app.client.post(url(items[1], "exception/decision")).bearer_auth(&security).json(&decide).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let excepted: Value = r.json().await.unwrap();
    set_signed(app, &security, false).await;
    manual.set("2026-06-30T00:30:00Z".parse().unwrap());
    judge_and_snapshot(app, "2026-06-29", "2026-06-30T00:30:00Z").await;
    let web_card = app.get_json("/api/v1/teams/web/scorecard", &security).await;
    manual.set("2026-07-01T10:00:00Z".parse().unwrap());
    let ask = json!({"reason": "asked after the day", "until": "2026-09-30"});
    assert_eq!(app.client.post(url(items[2], "exception")).bearer_auth(&dev).json(&ask).send().await.unwrap().status(), StatusCode::OK);
    set_signed(app, &security, true).await;
    judge_and_snapshot(app, "2026-07-01", "2026-07-01T11:00:00Z").await;
    Story { campaign, items, web_card, excepted }
}

/// The bundle says what the API said at the end of 06-29, not what it says now.
fn check_contents(files: &BTreeMap<String, Vec<u8>>, story: &Story, now_card: &Value) {
    let cards: Value = serde_json::from_slice(&files["scorecards.json"]).unwrap();
    let web = cards["teams"].as_array().unwrap().iter().find(|t| t["team"] == "web").unwrap();
    let then: BTreeMap<String, (i64, i64)> = story.web_card["policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["subjects"].as_i64().unwrap() > 0)
        .map(|p| (p["policy"].as_str().unwrap().to_string(), (p["subjects"].as_i64().unwrap(), p["failing"].as_i64().unwrap())))
        .collect();
    let shown: BTreeMap<String, (i64, i64)> = web["policies"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["judged"].as_i64().unwrap() > 0)
        .map(|p| (p["policy"].as_str().unwrap().to_string(), (p["judged"].as_i64().unwrap(), p["failing"].as_i64().unwrap())))
        .collect();
    assert_eq!(shown, then, "the scores of 06-29's snapshot");
    assert_eq!(web["score"].as_f64().map(|s| s.round()), story.web_card["score"].as_f64().map(|s| s.round()));
    assert_eq!(web["grade"], story.web_card["grade"]);
    assert!(!shown.contains_key("signed"), "signed was off that day");
    assert!(now_card["policies"].as_array().unwrap().iter().any(|p| p["policy"] == "signed"), "and is on now: {now_card}");
    let signed = cards["policies"].as_array().unwrap().iter().find(|p| p["id"] == "signed").unwrap();
    assert_eq!(signed["enabled"], false);
    let campaigns: Value = serde_json::from_slice(&files["campaigns.json"]).unwrap();
    let c = campaigns.as_array().unwrap().iter().find(|c| c["id"] == story.campaign).unwrap();
    let item = |id: i64| c["items"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap().clone();
    let (a, b, third) = (item(story.items[0]), item(story.items[1]), item(story.items[2]));
    assert_eq!((a["state"].as_str(), a["acknowledgement"]["planned"].as_str()), (Some("acknowledged"), Some("2026-07-10")));
    let x = &story.excepted["exception"];
    assert_eq!(b["state"], "excepted");
    assert_eq!(
        (
            &b["exception"]["state"],
            &b["exception"]["reason"],
            &b["exception"]["until"],
            &b["exception"]["requested_by"],
            &b["exception"]["decided_by"]
        ),
        (&json!("approved"), &x["reason"], &x["until"], &x["requested_by"], &x["decided_by"])
    );
    assert!(third["exception"].is_null(), "requested on 07-01, after the day: {third}");
    let entries: Value = serde_json::from_slice(&files["entries.json"]).unwrap();
    let kinds: Vec<String> = entries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<Value>(e["entry"].as_str().unwrap()).unwrap()["kind"].as_str().unwrap().to_string())
        .collect();
    for k in ["scorecard.snapshot", "policy.updated", "campaign.created", "campaign.item.acknowledged", "campaign.item.exception_approved"]
    {
        assert!(kinds.iter().any(|x| x == k), "{k} in {kinds:?}");
    }
    let report = String::from_utf8(files["REPORT.html"].clone()).unwrap();
    assert!(report.contains("Compliance at the end of 2026-06-29") && report.contains(x["reason"].as_str().unwrap()));
}

/// Each tampering fails verification, naming what; the honest bundle passes.
fn tampering_fails(good: &[u8], key: &drydock::ledger::LedgerKey, public: &str, dir: &std::path::Path) {
    let files = drydock::bundle::unpack(good).unwrap();
    let write = |name: &str, bytes: &[u8]| {
        let p = dir.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let bump = |v: &mut Value| {
        let p = v["teams"][0]["policies"].as_array_mut().unwrap().iter_mut().find(|p| p["judged"].as_i64().unwrap() > 0).unwrap();
        p["failing"] = json!(p["failing"].as_i64().unwrap() + 1);
    };
    // One byte of a score changed, the manifest left alone.
    let mut changed = files.clone();
    edit_json(&mut changed, "scorecards.json", bump);
    let mut kept = changed.clone();
    kept.insert("MANIFEST.json".into(), files["MANIFEST.json"].clone());
    let (ok, said) = verify_cli(&write("score-unsigned.tgz", &repack_raw(&kept)), public);
    assert!(!ok && said.contains("scorecards.json: its SHA-256 is not the one the signed manifest lists"), "{said}");
    // The same, signed again with the ledger's key: the numbers still are not the snapshot's.
    let (ok, said) = verify_cli(&write("score-resigned.tgz", &resigned(&changed, key)), public);
    assert!(!ok && said.contains("scorecards.json: team") && said.contains("the snapshot entry's content gives"), "{said}");
    // An exception removed from campaigns.json.
    let mut removed = files.clone();
    edit_json(&mut removed, "campaigns.json", |v| {
        for c in v.as_array_mut().unwrap() {
            for i in c["items"].as_array_mut().unwrap() {
                i["exception"] = Value::Null;
            }
        }
    });
    let (ok, said) = verify_cli(&write("removed.tgz", &resigned(&removed, key)), public);
    assert!(!ok && said.contains("campaign.item.exception") && said.contains("campaigns.json does not show (removed)"), "{said}");
    // Two entries swapped (each keeps the other's proof).
    let mut swapped = files.clone();
    edit_json(&mut swapped, "entries.json", |v| {
        let list = v["entries"].as_array_mut().unwrap();
        let (a, b) = (list[0]["entry"].clone(), list[1]["entry"].clone());
        list[0]["entry"] = b;
        list[1]["entry"] = a;
    });
    let path = write("swapped.tgz", &resigned(&swapped, key));
    let (ok, said) = verify_cli(&path, public);
    assert!(!ok && said.contains("not the canonical bytes of an entry carrying that index"), "{said}");
    assert!(!oracle(&path)["first_failure"].is_null(), "the independent checker agrees");
    // Another key.
    let other = drydock::ledger::LedgerKey::generate(&dir.join("other.pem")).unwrap();
    let (ok, said) = verify_cli(&write("good.tgz", good), &other.verifier_key());
    assert!(!ok && said.contains("MANIFEST.sig: the manifest's signature does not verify"), "{said}");
}

/// A bundle's files packed as they are (no new manifest).
fn repack_raw(files: &BTreeMap<String, Vec<u8>>) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (name, bytes) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, bytes.as_slice()).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

async fn a_day_between_two_snapshots_is_proven_offline(db: TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("ledger.pem");
    let key = drydock::ledger::LedgerKey::generate(&key_file).unwrap();
    let public = key.verifier_key();
    let (manual, clock) = clock_at("2026-06-28T09:00:00Z");
    let db_url = db.url.clone();
    let config = drydock::config::Config { jobs_worker: false, ledger_key: Some(key_file.to_str().unwrap().into()), ..Default::default() };
    let app = TestApp::start_on(0, db, config, clock).await;
    let story = three_days(&app, &manual).await;
    // The job runs hourly: content unchanged since the last run is not recorded again.
    judge_and_snapshot(&app, "2026-07-01", "2026-07-01T12:00:00Z").await;
    let recorded =
        drydock::store::capabilities::BundleStore::ledger_entries_of_subject(&app.db.store, "scorecard:2026-07-01").await.unwrap();
    assert_eq!(recorded.len(), 1, "one entry for one content");
    let security = app.token("security").await;
    let now_card = app.get_json("/api/v1/teams/web/scorecard", &security).await;
    // The command line.
    let file = dir.path().join("evidence.tar.gz");
    let out = drydock(&["evidence", "export", "--at", "2026-06-29", file.to_str().unwrap()], &db_url, &key_file);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (ok, said) = verify_cli(&file, &public);
    assert!(ok && said.starts_with("evidence bundle intact: the compliance state at the end of 2026-06-29"), "{said}");
    let bytes = std::fs::read(&file).unwrap();
    check_contents(&drydock::bundle::unpack(&bytes).unwrap(), &story, &now_card);
    let independent = oracle(&file);
    assert_eq!(independent["vectors"], true, "{independent}");
    assert_eq!(independent["entries_verified"], independent["entries"], "{independent}");
    assert_eq!(independent["consistency"], true, "{independent}");
    let out = drydock(&["evidence", "export", "--at", "2026-06-30", dir.path().join("none.tgz").to_str().unwrap()], &db_url, &key_file);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no scorecard snapshot content was recorded for 2026-06-30")
    );
    tampering_fails(&bytes, &key, &public, dir.path());
    api_exports(&app, &key).await;
    app.db.drop_database().await;
}

/// The API: auditors export (one team's too), developers may not, a day without a snapshot is a
/// 404 and a wrong day a 422; every export is a ledger entry with its manifest's hash.
async fn api_exports(app: &TestApp, key: &drydock::ledger::LedgerKey) {
    let auditor = app.token("auditor").await;
    let r = app.client.get(app.url("/api/v1/evidence?at=2026-06-29&team=web")).bearer_auth(&auditor).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.headers()["content-type"], "application/gzip");
    let manifest_sha = r.headers()["x-manifest-sha256"].to_str().unwrap().to_string();
    let bytes = r.bytes().await.unwrap();
    let v = drydock::bundle::verify::verify(&bytes, &key.public()).unwrap();
    assert_eq!(v.teams, Some(vec!["web".to_string()]));
    let cards: Value = serde_json::from_slice(&drydock::bundle::unpack(&bytes).unwrap()["scorecards.json"]).unwrap();
    assert!(cards["teams"].as_array().unwrap().iter().all(|t| t["team"] == "web"), "{cards}");
    let dev = app.token_with("dev-web-2", "developer", Some("web"), Default::default()).await;
    let status =
        |path: &'static str, token: String| async move { app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap().status() };
    assert_eq!(status("/api/v1/evidence?at=2026-06-29", dev).await, StatusCode::FORBIDDEN);
    assert_eq!(status("/api/v1/evidence?at=2026-06-30", auditor.clone()).await, StatusCode::NOT_FOUND);
    let r = app.client.get(app.url("/api/v1/evidence?at=June")).bearer_auth(&auditor).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "at");
    assert_eq!(status("/api/v1/evidence?at=2099-01-01", auditor.clone()).await, StatusCode::BAD_REQUEST);
    assert_eq!(status("/api/v1/evidence?at=2026-06-29&team=nope", auditor.clone()).await, StatusCode::NOT_FOUND);
    let events = drydock::store::capabilities::LedgerLog::audit_events(&app.db.store).await.unwrap();
    let exports: Vec<&drydock::store::AuditEvent> = events.iter().filter(|e| e.kind == "evidence.exported").collect();
    assert_eq!(exports.len(), 2, "the command line's and the API's");
    assert!(
        exports.iter().any(|e| e.payload["manifest_sha256"] == manifest_sha.as_str()
            && e.payload["teams"] == json!(["web"])
            && e.actor.contains("auditor")),
        "{exports:?}"
    );
}
