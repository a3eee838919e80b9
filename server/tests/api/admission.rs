//! The admission webhook on the demo estate: AdmissionReview requests in the real v1 shape (a Pod
//! with containers, init and ephemeral containers, by digest and by tag; a Deployment; a CronJob)
//! allowed, warned or denied as the stored campaign items, policy results and settings say — the
//! expected answers computed here from the API's own lists; each namespace mode, an approved
//! exception, an unknown image, a dry run, no token, a kind Drydock does not judge; the
//! decisions written to the ledger in one batch when the server stops.

use super::helpers::{TestApp, TestDb};
use super::signin::demo_app;
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

pub(super) fn review(uid: &str, kind: &str, namespace: &str, object: Value, dry_run: bool) -> Value {
    let resource = match kind {
        "Pod" => ("", "pods"),
        "Deployment" => ("apps", "deployments"),
        "CronJob" => ("batch", "cronjobs"),
        _ => ("", "configmaps"),
    };
    json!({
        "apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview",
        "request": {
            "uid": uid, "kind": {"group": resource.0, "version": "v1", "kind": kind},
            "resource": {"group": resource.0, "version": "v1", "resource": resource.1},
            "namespace": namespace, "operation": "CREATE", "userInfo": {"username": "kubernetes-admin", "groups": ["system:masters"]},
            "object": object, "oldObject": null, "dryRun": dry_run, "options": {"apiVersion": "meta.k8s.io/v1", "kind": "CreateOptions"}
        }
    })
}

/// A pod spec with one container per image, plus an init and an ephemeral container when given.
pub(super) fn spec(images: &[&str], init: Option<&str>, ephemeral: Option<&str>) -> Value {
    let containers: Vec<Value> = images.iter().enumerate().map(|(i, im)| json!({"name": format!("c{i}"), "image": im})).collect();
    let mut s = json!({"containers": containers});
    if let Some(im) = init {
        s["initContainers"] = json!([{"name": "init", "image": im}]);
    }
    if let Some(im) = ephemeral {
        s["ephemeralContainers"] = json!([{"name": "debugger", "image": im, "targetContainerName": "c0"}]);
    }
    s
}

pub(super) fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": spec})
}

pub(super) async fn ask(app: &TestApp, token: &str, body: &Value, query: &str) -> Value {
    let r = app.client.post(app.url(&format!("/api/v1/admission/validate{query}"))).bearer_auth(token).json(body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["apiVersion"].as_str(), v["kind"].as_str()), (Some("admission.k8s.io/v1"), Some("AdmissionReview")));
    assert_eq!(v["response"]["uid"], body["request"]["uid"]);
    v["response"].clone()
}

pub(super) async fn settings(app: &TestApp, token: &str, patch: Value) -> Value {
    let r = app.client.put(app.url("/api/v1/admission/settings")).bearer_auth(token).json(&patch).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{patch}");
    r.json().await.unwrap()
}

pub(super) fn warnings(r: &Value) -> Vec<String> {
    r["warnings"].as_array().map(|w| w.iter().map(|s| s.as_str().unwrap().to_string()).collect()).unwrap_or_default()
}

/// The images of items not closed, from every campaign: (overdue, inside their deadline, excepted).
async fn images_by_item_state(app: &TestApp, token: &str) -> (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let list = app.get_json("/api/v1/campaigns?limit=500", token).await;
    let (mut late, mut soon, mut excepted) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    for c in list["items"].as_array().unwrap() {
        for i in c["items"].as_array().unwrap() {
            let image = i["image"].as_str().unwrap().to_string();
            match (i["state"].as_str().unwrap(), i["overdue"].as_bool().unwrap()) {
                ("open" | "acknowledged" | "pending_verification", true) => late.insert(image),
                ("open" | "acknowledged" | "pending_verification", false) => soon.insert(image),
                ("excepted", _) => excepted.insert(image),
                _ => false,
            };
        }
    }
    (late, soon, excepted)
}

#[tokio::test]
async fn admission_answers_from_the_stored_estate_sqlite() {
    admission_answers_from_the_stored_estate(demo_app().await).await;
}

/// The same on PostgreSQL (`--demo` is for SQLite only: the demo estate is loaded by the test):
/// the facts are one statement whose branches PostgreSQL types itself.
#[tokio::test]
async fn admission_answers_from_the_stored_estate_postgres() {
    let db = TestDb::postgres().await;
    drydock::demo::load_if_empty(&db.store, &drydock::config::Config::default().promotion().unwrap()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("ledger.pem");
    drydock::ledger::LedgerKey::generate(&key).unwrap();
    admission_answers_from_the_stored_estate(TestApp::process(db, &[], &[("DRYDOCK_LEDGER_KEY", key.to_str().unwrap())]).await).await;
}

async fn admission_answers_from_the_stored_estate(mut app: TestApp) {
    let security = app.token("security").await;
    let admission = app.token("admission").await;
    let (late, soon, _) = images_by_item_state(&app, &security).await;
    let sla: BTreeSet<String> = app.get_json("/api/v1/policy-results?policy=vulnerability-sla&failing=true&limit=5000", &security).await
        ["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["subject"].as_str().unwrap().to_string())
        .collect();
    let images: Vec<String> = app.get_json("/api/v1/images?limit=1000", &security).await["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["digest"].as_str().unwrap().to_string())
        .collect();
    // An overdue item's image that a tag names (the demo places tags in its registry's repositories).
    let mut tagged_late = None;
    for d in &late {
        let detail = app.get_json(&format!("/api/v1/images/{d}"), &security).await;
        if let Some(t) = detail["repositories"].as_array().unwrap().iter().find(|r| !r["tags"].as_array().unwrap().is_empty()) {
            tagged_late = Some((d.clone(), format!("{}:{}", t["repository"].as_str().unwrap(), t["tags"][0].as_str().unwrap())));
            break;
        }
    }
    let (late_image, tagged) = tagged_late.expect("an overdue item's image has a tag");
    let soon_image = soon.iter().find(|d| !late.contains(*d) && !sla.contains(*d)).expect("an image only inside its deadlines").clone();
    let clean =
        images.iter().find(|d| !late.contains(*d) && !soon.contains(*d) && !sla.contains(*d)).expect("an image with nothing due").clone();
    let repo = |d: &str| format!("registry.example/app@{d}");

    // No token: 401; a reading role: 403.
    let body = review("u-0", "Pod", "shop", pod(spec(&[&repo(&clean)], None, None)), false);
    let r = app.client.post(app.url("/api/v1/admission/validate")).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let r = app.client.post(app.url("/api/v1/admission/validate")).bearer_auth(&security).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // Default (warn): nothing due → allowed without a word; inside a deadline → a warning naming
    // the deadline; past one → allowed with a warning that enforce would deny it.
    let r = ask(&app, &admission, &body, "").await;
    assert_eq!((r["allowed"].as_bool(), r.get("warnings")), (Some(true), None), "{r}");
    let r = ask(&app, &admission, &review("u-1", "Pod", "shop", pod(spec(&[&repo(&soon_image)], None, None)), false), "").await;
    assert_eq!(r["allowed"], true);
    assert!(warnings(&r).iter().any(|w| w.contains(" by ") && w.contains(&soon_image[..19])), "{r}");
    let r = ask(&app, &admission, &review("u-2", "Pod", "shop", pod(spec(&[&repo(&late_image)], None, None)), false), "").await;
    assert_eq!(r["allowed"], true);
    assert!(warnings(&r).iter().any(|w| w.starts_with("would be denied in enforce mode") && w.contains("the deadline has passed")), "{r}");

    // Enforce in namespace shop: past the deadline is denied (403 in status), in an init or an
    // ephemeral container too, and in a Deployment's and a CronJob's template; other namespaces keep warn.
    let s = settings(&app, &security, json!({"namespaces": {"shop": "enforce"}})).await;
    assert_eq!((s["default_mode"].as_str(), s["namespaces"]["shop"].as_str()), (Some("warn"), Some("enforce")));
    for (uid, kind, object) in [
        ("u-3", "Pod", pod(spec(&[&repo(&clean)], None, Some(&repo(&late_image))))),
        ("u-4", "Pod", pod(spec(&[&repo(&clean)], Some(&repo(&late_image)), None))),
        (
            "u-5",
            "Deployment",
            json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
            "spec": {"replicas": 2, "template": {"metadata": {"labels": {"app": "web"}}, "spec": spec(&[&repo(&late_image)], None, None)}}}),
        ),
        (
            "u-6",
            "CronJob",
            json!({"apiVersion": "batch/v1", "kind": "CronJob", "metadata": {"name": "nightly"},
            "spec": {"schedule": "0 1 * * *", "jobTemplate": {"spec": {"template": {"spec": spec(&[&repo(&late_image)], None, None)}}}}}),
        ),
    ] {
        let r = ask(&app, &admission, &review(uid, kind, "shop", object, false), "").await;
        assert_eq!(r["allowed"], false, "{uid}: {r}");
        assert_eq!(r["status"]["code"], 403);
        let message = r["status"]["message"].as_str().unwrap();
        assert!(message.contains("the deadline has passed") && message.contains(&late_image[..19]), "{message}");
    }
    let r = ask(&app, &admission, &review("u-7", "Pod", "web", pod(spec(&[&repo(&late_image)], None, None)), false), "").await;
    assert_eq!(r["allowed"], true, "namespace web keeps the default warn");
    let r = ask(&app, &admission, &review("u-8", "Pod", "shop", pod(spec(&[&repo(&soon_image)], None, None)), false), "").await;
    assert_eq!(r["allowed"], true, "inside the deadline is allowed in enforce too: {r}");

    // By tag: a tag Drydock knows resolves to its image.
    let r = ask(&app, &admission, &review("u-9", "Pod", "shop", pod(spec(&[&tagged], None, None)), false), "").await;
    assert_eq!(r["allowed"], false, "{tagged}: {r}");
    // A Pod of 300 containers by tag (Kubernetes sets no limit): answered, judged on the first 256.
    let (repository, _) = tagged.rsplit_once(':').unwrap();
    let many: Vec<String> = std::iter::once(tagged.clone()).chain((1..300).map(|k| format!("{repository}:bulk-{k}"))).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = ask(&app, &admission, &review("u-9b", "Pod", "shop", pod(spec(&many, None, None)), false), "").await;
    assert_eq!(r["allowed"], false, "{r}");

    // An image never seen: a warning; in enforce with unknown_images deny, denied.
    let unknown = "registry.example/never-seen:1.0";
    let r = ask(&app, &admission, &review("u-10", "Pod", "shop", pod(spec(&[unknown], None, None)), false), "").await;
    assert_eq!(r["allowed"], true);
    assert!(warnings(&r)[0].contains("never seen"), "{r}");
    settings(&app, &security, json!({"unknown_images": "deny"})).await;
    let r = ask(&app, &admission, &review("u-11", "Pod", "shop", pod(spec(&[unknown], None, None)), false), "").await;
    assert_eq!(r["allowed"], false);

    // A policy enforced at admission: inside its grace a warning, after it a denial; off: nothing.
    let unsigned = images.iter().find(|d| *d == &clean).unwrap();
    settings(&app, &security, json!({"policies": {"signed": {"enforce": true, "grace_days": 30}}})).await;
    let r = ask(&app, &admission, &review("u-12", "Pod", "shop", pod(spec(&[&repo(unsigned)], None, None)), false), "").await;
    assert_eq!(r["allowed"], true);
    assert!(warnings(&r).iter().any(|w| w.contains("signed") && w.contains("enforced from")), "{r}");
    settings(&app, &security, json!({"policies": {"signed": {"enforce": true, "grace_days": 0}}})).await;
    let r = ask(&app, &admission, &review("u-13", "Pod", "shop", pod(spec(&[&repo(unsigned)], None, None)), false), "").await;
    assert_eq!(r["allowed"], false, "{r}");
    settings(&app, &security, json!({"namespaces": {"shop": "off"}})).await;
    let r = ask(&app, &admission, &review("u-14", "Pod", "shop", pod(spec(&[&repo(&late_image), unknown], None, None)), false), "").await;
    assert_eq!((r["allowed"].as_bool(), r.get("warnings")), (Some(true), None), "off judges nothing: {r}");
    settings(&app, &security, json!({"namespaces": {"shop": "enforce"}, "policies": {}, "unknown_images": "allow"})).await;

    // An approved exception holds until it ends: an overdue item of a team on an image with no
    // other overdue item and no SLA failure; before the exception it is denied, after it allowed.
    let list = app.get_json("/api/v1/campaigns?limit=500", &security).await;
    let all_items: Vec<(i64, Value)> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["items"].as_array().unwrap().iter().map(move |i| (c["id"].as_i64().unwrap(), i.clone())))
        .collect();
    let late_on = |image: &str| all_items.iter().filter(|(_, i)| i["image"] == image && i["overdue"] == true).count();
    let (campaign, item) = all_items
        .iter()
        .find(|(_, i)| {
            i["overdue"] == true
                && i["team"].is_string()
                && i["exception"].is_null()
                && late_on(i["image"].as_str().unwrap()) == 1
                && !sla.contains(i["image"].as_str().unwrap())
        })
        .cloned()
        .expect("an overdue item of a team, alone on its image");
    let image = item["image"].as_str().unwrap().to_string();
    let before = ask(&app, &admission, &review("u-15a", "Pod", "shop", pod(spec(&[&repo(&image)], None, None)), false), "").await;
    assert_eq!(before["allowed"], false, "{before}");
    let dev = app.token_with("dev-x", "developer", item["team"].as_str(), Default::default()).await;
    let base = format!("/api/v1/campaigns/{campaign}/items/{}", item["id"]);
    let until = (chrono::Utc::now().date_naive() + chrono::Duration::days(20)).to_string();
    let exception = json!({"reason": "vendor fix due", "until": until});
    let r = app.client.post(app.url(&format!("{base}/exception"))).bearer_auth(&dev).json(&exception).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let request_id = r.json::<Value>().await.unwrap()["exception"]["request_id"].as_i64().unwrap();
    let decide = json!({"approve": true, "note": "ok", "request_id": request_id});
    let r = app.client.post(app.url(&format!("{base}/exception/decision"))).bearer_auth(&security).json(&decide).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = ask(&app, &admission, &review("u-15", "Pod", "shop", pod(spec(&[&repo(&image)], None, None)), false), "").await;
    assert_eq!(r["allowed"], true, "{r}");
    assert!(warnings(&r).iter().any(|w| w.contains(&format!("excepted until {until}"))), "{r}");

    // A kind Drydock does not judge: allowed with a warning, never an error.
    let cm = review("u-16", "ConfigMap", "shop", json!({"apiVersion": "v1", "kind": "ConfigMap", "data": {"a": "b"}}), false);
    let r = ask(&app, &admission, &cm, "").await;
    assert_eq!(r["allowed"], true);
    assert!(warnings(&r)[0].contains("ConfigMap"), "{r}");
    // Not an AdmissionReview: 422 saying so; not JSON: 400.
    let validate = app.url("/api/v1/admission/validate");
    let r = app.client.post(&validate).bearer_auth(&admission).json(&json!({"kind": "Pod"})).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("AdmissionReview"));
    let r = app.client.post(&validate).bearer_auth(&admission).body("{").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    // Settings refused naming the key; only security and admin may change them.
    let r = app
        .client
        .put(app.url("/api/v1/admission/settings"))
        .bearer_auth(&security)
        .json(&json!({"default_mode": "block"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "default_mode");
    let viewer = app.token("viewer").await;
    let r = app
        .client
        .put(app.url("/api/v1/admission/settings"))
        .bearer_auth(&viewer)
        .json(&json!({"default_mode": "off"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);

    // A dry run is answered and not counted; the batch written when the server stops counts the rest.
    let dry = review("u-17", "Pod", "dry", pod(spec(&[&repo(&clean)], None, None)), true);
    assert_eq!(ask(&app, &admission, &dry, "").await["allowed"], true);
    let pid = app.pid().unwrap();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    assert!(app.wait_exit(std::time::Duration::from_secs(30)).is_some());
    let events = app.db.store.audit_events().await.unwrap();
    let batches: Vec<&Value> = events.iter().filter(|e| e.kind == "admission.decisions").map(|e| &e.payload).collect();
    let decisions: i64 = batches.iter().map(|b| b["decisions"].as_i64().unwrap()).sum();
    let rows: Vec<&Value> = batches.iter().flat_map(|b| b["counts"].as_array().unwrap()).collect();
    assert!(rows.iter().all(|r| r["namespace"] != "dry"), "a dry run is not counted");
    assert!(rows.iter().any(|r| r["decision"] == "denied" && r["namespace"] == "shop"));
    // Each image of each judged request once: u-1 to u-15 and u-15a (u-0 was refused, u-16 judged nothing).
    assert!(decisions >= 16, "{decisions} over {batches:?}");
    assert!(events.iter().filter(|e| e.kind == "admission.settings_changed").count() >= 5);
    app.db.drop_database().await;
}

/// The Admission page shows the settings in force to readers and a plain form to security; the
/// form's fields become the settings (no JavaScript needed), a wrong line is refused naming it.
#[tokio::test]
async fn security_sets_admission_with_a_plain_form() {
    let app = demo_app().await;
    super::signin::demo_sign_in(&app, "security").await;
    let html = app.client.get(app.url("/admission")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("action=\"/admin/admission\"") && html.contains("name=\"enforce:signed\""), "{html}");
    assert!(!html.contains("enforce:non-root"), "container policies are not judged at admission");
    let form = &html[html.find("action=\"/admin/admission\"").unwrap()..];
    let at = form.find("name=\"seen\" value=\"").unwrap() + "name=\"seen\" value=\"".len();
    let seen = form[at..at + 64].to_string();
    let form = [
        ("seen", seen.as_str()),
        ("default_mode", "warn"),
        ("namespaces", "shop=enforce\r\ncanary=off"),
        ("environments", "prod=enforce"),
        ("unknown_images", "deny"),
        ("enforce:signed", "on"),
        ("grace:signed", "14"),
        ("grace:os-end-of-life", "3"),
    ];
    let r = app.client.post(app.url("/admin/admission")).header("Origin", app.url("")).form(&form).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let security = app.token("security").await;
    let s = app.get_json("/api/v1/admission/settings", &security).await;
    assert_eq!(
        s,
        json!({"default_mode": "warn", "namespaces": {"canary": "off", "shop": "enforce"}, "environments": {"prod": "enforce"},
            "unknown_images": "deny", "policies": {"signed": {"enforce": true, "grace_days": 14}, "os-end-of-life": {"enforce": false, "grace_days": 3}}})
    );
    let r =
        app.client.post(app.url("/admin/admission")).header("Origin", app.url("")).form(&[("namespaces", "shop")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("is not NAME=mode"));
    let r = app
        .client
        .post(app.url("/admin/admission"))
        .header("Origin", app.url(""))
        .form(&[("namespaces", "Shop=enforce"), ("seen", seen.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A viewer reads the settings without the form.
    super::signin::demo_sign_in(&app, "viewer").await;
    let html = app.client.get(app.url("/admission")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("shop=enforce") && !html.contains("action=\"/admin/admission\""), "{html}");
}
