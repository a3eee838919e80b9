//! The admission webhook on the demo estate: AdmissionReview requests in the real v1 shape (a Pod
//! with containers, init and ephemeral containers, by digest and by tag; a Deployment; a CronJob)
//! allowed, warned or denied as the stored campaign items, policy results and settings say — the
//! expected answers computed here from the API's own lists; each namespace mode, an approved
//! exception, an unknown image, a dry run, no token, a kind Drydock does not judge; the
//! decisions written to the ledger in one batch when the server stops.

use super::helpers::TestApp;
use super::signin::demo_app;
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

fn review(uid: &str, kind: &str, namespace: &str, object: Value, dry_run: bool) -> Value {
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
fn spec(images: &[&str], init: Option<&str>, ephemeral: Option<&str>) -> Value {
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

fn pod(spec: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "web-1", "namespace": "shop"}, "spec": spec})
}

async fn ask(app: &TestApp, token: &str, body: &Value, query: &str) -> Value {
    let r = app.client.post(app.url(&format!("/api/v1/admission/validate{query}"))).bearer_auth(token).json(body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["apiVersion"].as_str(), v["kind"].as_str()), (Some("admission.k8s.io/v1"), Some("AdmissionReview")));
    assert_eq!(v["response"]["uid"], body["request"]["uid"]);
    v["response"].clone()
}

async fn settings(app: &TestApp, token: &str, patch: Value) -> Value {
    let r = app.client.put(app.url("/api/v1/admission/settings")).bearer_auth(token).json(&patch).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK, "{patch}");
    r.json().await.unwrap()
}

fn warnings(r: &Value) -> Vec<String> {
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
async fn admission_answers_from_the_stored_estate() {
    let mut app = demo_app().await;
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
}

/// A CA named `name` and a certificate for 127.0.0.1 it signed: (CA PEM, certificate PEM, key PEM).
fn issue(name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, name);
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

fn trusting(ca: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// `drydock serve --tls-cert --tls-key`: HTTPS only, the webhook answers over it, and a rotated
/// certificate is served after SIGHUP (cert-manager rewrites the files in place).
#[tokio::test]
async fn the_webhook_is_served_over_tls_and_a_rotated_certificate_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let (ca1, cert1, key1) = issue("drydock test CA one");
    std::fs::write(&cert_path, cert1).unwrap();
    std::fs::write(&key_path, key1).unwrap();
    let db = super::helpers::TestDb::sqlite().await;
    let port = super::helpers::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--database-url", &db.url])
        .args(["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()])
        .env_remove("DRYDOCK_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("https://127.0.0.1:{port}");
    let up = |ca: String| {
        let base = base.clone();
        async move {
            for _ in 0..200 {
                if trusting(&ca).get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            false
        }
    };
    assert!(up(ca1.clone()).await, "serve came up over https");
    // Plain HTTP gets no answer; a client not trusting the CA is refused.
    assert!(reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err());
    let (ca2, cert2, key2) = issue("drydock test CA two");
    assert!(trusting(&ca2).get(format!("{base}/healthz")).send().await.is_err());

    let token = db
        .store
        .create_token(
            "kube-apiserver",
            drydock::domain::Role::Admission,
            None,
            &Default::default(),
            &drydock::store::Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let body = review("tls-1", "Pod", "shop", pod(spec(&["registry.example/never-seen:1"], None, None)), false);
    let r = trusting(&ca1).post(format!("{base}/api/v1/admission/validate")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["response"]["uid"].as_str(), v["response"]["allowed"].as_bool()), (Some("tls-1"), Some(true)), "{v}");

    // Rotation: new files, then SIGHUP; new connections get the new certificate.
    std::fs::write(&cert_path, cert2).unwrap();
    std::fs::write(&key_path, key2).unwrap();
    assert!(std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    assert!(up(ca2.clone()).await, "the rotated certificate is served");
    assert!(trusting(&ca1).get(format!("{base}/healthz")).send().await.is_err(), "the old one is not");
    // A broken file keeps the certificate in force.
    std::fs::write(&key_path, "not a key").unwrap();
    assert!(std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(trusting(&ca2).get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()));
    let _ = child.kill();
    let _ = child.wait();
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
    let form = [
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
        .form(&[("namespaces", "Shop=enforce")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // A viewer reads the settings without the form.
    super::signin::demo_sign_in(&app, "viewer").await;
    let html = app.client.get(app.url("/admission")).send().await.unwrap().text().await.unwrap();
    assert!(html.contains("shop=enforce") && !html.contains("action=\"/admin/admission\""), "{html}");
}

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
