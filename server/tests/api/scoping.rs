//! Team scoping on every read path: a developer of one team walks every API route, page and
//! server function and sees no row of another team's; a viewer's walk shows the rows exist.

use super::helpers::TestApp;
use super::signin::{demo_app, demo_sign_in};
use drydock::domain::Role;
use drydock::store::capabilities::*;
use drydock::store::Actor;
use reqwest::StatusCode;

/// Strings only storefront's rows carry: a pod of namespace `shop` (owned by storefront through a
/// namespace rule) running an unowned image, and the person who exec'd into it.
const STOREFRONT_MARKERS: [&str; 5] =
    ["checkout-web-5d8f9c-x2x7q", "Deployment/checkout-web", "mallory@storefront.example", "203.0.113.77", "storefront-sre"];

/// The demo estate plus storefront's namespace `shop` running an unowned image, with an exec into
/// its pod in the Kubernetes audit log. Answers the unowned image's digest.
async fn estate_with_storefront_shop(app: &TestApp) -> String {
    use drydock::domain::ownership::RuleSpec;
    let store = &app.db.store;
    let now = chrono::Utc::now();
    store
        .add_ownership_rule(&RuleSpec::parse(app::types::RuleKind::Namespace, "shop", "storefront").unwrap(), &Actor::cli(), now)
        .await
        .unwrap();
    let unowned =
        store.images(1000, 0, None).await.unwrap().items.into_iter().find(|i| i.team.is_none()).expect("the demo has an unowned image");
    let pod = serde_json::json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {
            "name": "checkout-web-5d8f9c-x2x7q", "namespace": "shop", "uid": "6f1c1c5e-shop-0001",
            "labels": {"app": "checkout-web", "pod-template-hash": "5d8f9c"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "checkout-web-5d8f9c", "uid": "rs-1", "controller": true}]
        },
        "spec": {"nodeName": "node-a", "containers": [{"name": "web", "image": "shop/checkout-web:1.0"}]},
        "status": {"phase": "Running", "containerStatuses": [{
            "name": "web", "image": "shop/checkout-web:1.0", "imageID": format!("docker-pullable://shop/checkout-web@{}", unowned.digest),
            "ready": true, "restartCount": 0, "state": {"running": {"startedAt": "2026-11-01T00:00:00Z"}}
        }]}
    });
    let upload = match drydock::k8s::parse_value(&pod).unwrap() {
        drydock::k8s::Upload::Pods(p) => p,
        drydock::k8s::Upload::Nodes(_) => unreachable!(),
    };
    store.store_pods(&drydock::domain::ClusterName::parse("minikube").unwrap(), &upload, &Actor::cli(), now).await.unwrap();
    let exec = serde_json::json!({
        "kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Metadata", "auditID": "0b7e3a1c-shop-exec",
        "stage": "ResponseStarted", "requestURI": "/api/v1/namespaces/shop/pods/checkout-web-5d8f9c-x2x7q/exec?command=sh",
        "verb": "create", "user": {"username": "mallory@storefront.example", "groups": ["storefront-sre", "system:authenticated"]},
        "sourceIPs": ["203.0.113.77"], "userAgent": "kubectl/v1.35.0",
        "objectRef": {"resource": "pods", "namespace": "shop", "name": "checkout-web-5d8f9c-x2x7q", "apiVersion": "v1", "subresource": "exec"},
        "responseStatus": {"code": 101},
        "requestReceivedTimestamp": "2026-11-02T10:00:00.000000Z", "stageTimestamp": "2026-11-02T10:00:00.100000Z"
    });
    let facts = drydock::k8s::audit::parse(exec.to_string().as_bytes()).unwrap();
    store.record_k8s_audit(&drydock::domain::ClusterName::parse("minikube").unwrap(), &facts, &Actor::cli(), now).await.unwrap();
    unowned.digest
}

/// Walks every read route, page and server function as `developer(payments)` and asserts that no
/// row of storefront's comes back; a viewer's walk over the same routes shows the rows exist.
#[tokio::test]
async fn a_team_scoped_role_sees_no_row_of_another_team_anywhere() {
    let app = demo_app().await;
    let digest = estate_with_storefront_shop(&app).await;
    let dev_token = app
        .db
        .store
        .create_token(
            "dev-payments",
            Role::Developer,
            Some(&drydock::domain::TeamName::parse("payments").unwrap()),
            &Default::default(),
            &Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let viewer_token =
        app.db.store.create_token("viewer", Role::Viewer, None, &Default::default(), &Actor::cli(), chrono::Utc::now()).await.unwrap();
    let size = app.db.store.ledger_size().await.unwrap();
    // The policies judge the estate with the shop pod in it (as the server's job would), so the
    // scorecards hold storefront's failing container; a CVE of the unowned image it runs.
    // The server's own evaluation may have started before the shop pod was stored and finish
    // after this one: judge again until the stored results hold the shop container.
    for _ in 0..50 {
        drydock::policy::run(&app.db.store, &drydock::config::Config::default().promotion().unwrap(), chrono::Utc::now()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let failing = app.db.store.policy_results_page("non-root", true, None, 5000, 0).await;
        if failing.is_ok_and(|p| p.items.iter().any(|r| r.subject.contains("checkout-web-5d8f9c-x2x7q"))) {
            break;
        }
    }
    let cve = app.db.store.image_view(&crate::helpers::digest(&digest), None).await.unwrap().unwrap().findings[0].vulnerability.clone();
    let workload = "cluster=minikube&namespace=shop&workload=Deployment%2Fcheckout-web";
    let api: Vec<String> = vec![
        "/api/v1/images?limit=1000".into(),
        format!("/api/v1/images/{digest}"),
        "/api/v1/workloads?limit=1000".into(),
        "/api/v1/workloads?namespace=shop".into(),
        "/api/v1/workloads?ended=true&limit=1000".into(),
        "/api/v1/unaccounted".into(),
        "/api/v1/secrets".into(),
        "/api/v1/pushes".into(),
        "/api/v1/pod-access".into(),
        "/api/v1/pod-access?exec=true".into(),
        "/api/v1/outdated-libraries?limit=1000".into(),
        "/api/v1/overdue-items?limit=1000".into(),
        "/api/v1/team-notices".into(),
        "/api/v1/images?owner=none&limit=1000".into(),
        "/api/v1/checklist".into(),
        "/api/v1/policy-results?policy=non-root&limit=5000".into(),
        "/api/v1/risk".into(),
        "/api/v1/my-teams".into(),
        "/api/v1/clusters".into(),
        "/api/v1/registries".into(),
        "/api/v1/ownership-rules".into(),
        format!("/api/v1/ledger/entries?start=0&end={size}"),
        "/api/v1/ledger/checkpoint".into(),
        format!("/api/v1/ledger/proof/inclusion?index=0&size={size}"),
        format!("/api/v1/ledger/proof/consistency?from=1&to={size}"),
        format!("/api/v1/search?cve={cve}"),
        "/api/v1/scorecards".into(),
        "/api/v1/teams/-/scorecard".into(),
        "/api/v1/teams/storefront/scorecard".into(),
        "/api/v1/teams/storefront/scorecard.csv?table=failing".into(),
        "/api/v1/policies".into(),
        "/api/v1/environment-rules".into(),
    ];
    let pages: Vec<String> = vec![
        "/".into(),
        "/teams".into(),
        "/images".into(),
        format!("/images/{digest}"),
        format!("/forensics/image/{digest}"),
        format!("/forensics/workload?{workload}"),
        "/workloads".into(),
        "/workloads?namespace=shop".into(),
        "/unaccounted".into(),
        "/clusters".into(),
        "/registries".into(),
        "/ledger".into(),
        "/teams/storefront".into(),
        "/teams/payments".into(),
        "/admin/ownership".into(),
        "/repository?name=registry.demo.internal/payments/api".into(),
        format!("/search?cve={cve}"),
        "/scorecards".into(),
        "/scorecards/-".into(),
        "/scorecards/storefront".into(),
        "/scorecards/storefront/export.csv?table=failing".into(),
        "/scorecards/-/export.csv?table=failing".into(),
        "/policies".into(),
    ];
    let fns: Vec<(&str, String)> = vec![
        ("/api/image", format!("digest={digest}")),
        ("/api/image-forensics", format!("digest={digest}")),
        ("/api/workload-forensics", workload.to_string()),
        ("/api/workloads", "query[cluster]=&query[namespace]=shop&query[team]=&query[state]=&query[limit]=1000&query[offset]=0".into()),
        ("/api/unaccounted", String::new()),
        ("/api/ledger", String::new()),
        ("/api/overview", String::new()),
        ("/api/team", "name=storefront".into()),
        ("/api/images", "limit=1000&offset=0".into()),
        ("/api/ownership-rules", String::new()),
        ("/api/registries", String::new()),
        ("/api/clusters", String::new()),
        ("/api/repository", "name=registry.demo.internal/payments/api".into()),
        ("/api/deployment", String::new()),
        ("/api/search", format!("query[cve]={cve}")),
        ("/api/scorecards", String::new()),
        ("/api/team-scorecard", "team=storefront".into()),
        ("/api/team-scorecard", "team=-".into()),
        ("/api/policies", String::new()),
    ];
    // (what, status, leaked markers) for one principal's walk.
    async fn walk(
        app: &TestApp,
        token: &str,
        api: &[String],
        pages: &[String],
        fns: &[(&str, String)],
    ) -> Vec<(String, StatusCode, Vec<&'static str>)> {
        let mut out = Vec::new();
        let found = |body: &str| STOREFRONT_MARKERS.iter().copied().filter(|m| body.contains(m)).collect::<Vec<_>>();
        for path in api {
            let r = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            out.push((format!("GET  {path}"), status, found(&body)));
        }
        for path in pages {
            let r = app.client.get(app.url(path)).send().await.unwrap();
            let status = r.status();
            let body = r.text().await.unwrap();
            if status == StatusCode::FORBIDDEN {
                assert!(!body.contains("storefront"), "a 403 must not name another team: {path}");
            }
            out.push((format!("page {path}"), status, found(&body)));
        }
        for (path, body) in fns {
            let r = app
                .client
                .post(app.url(path))
                .header("Origin", &app.base)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .body(body.clone())
                .send()
                .await
                .unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            if status == StatusCode::FORBIDDEN {
                assert!(!text.contains("storefront"), "a 403 must not name another team: {path} {body}");
            }
            out.push((format!("fn   {path} {body}"), status, found(&text)));
        }
        out
    }
    assert_eq!(demo_sign_in(&app, "viewer").await.status(), StatusCode::SEE_OTHER);
    let seen_by_viewer = walk(&app, &viewer_token, &api, &pages, &fns).await;
    app.client.post(app.url("/auth/logout")).header("Origin", &app.base).send().await.unwrap();
    assert_eq!(demo_sign_in(&app, "developer").await.status(), StatusCode::SEE_OTHER);
    let seen_by_dev = walk(&app, &dev_token, &api, &pages, &fns).await;
    let mut report = String::from("\nscoping walk as developer(payments) (status, storefront rows leaked)      viewer for comparison\n");
    for ((what, status, leaked), (_, vstatus, vfound)) in seen_by_dev.iter().zip(&seen_by_viewer) {
        assert!(!status.is_server_error(), "{what}: {status}");
        report.push_str(&format!(
            "{what:<90} {} {:<3}   viewer {} sees {}\n",
            status.as_u16(),
            leaked.len(),
            vstatus.as_u16(),
            vfound.len()
        ));
    }
    println!("{report}");
    let leaks: Vec<_> = seen_by_dev.iter().filter(|(_, _, l)| !l.is_empty()).collect();
    assert!(leaks.is_empty(), "storefront rows reached developer(payments): {leaks:#?}");
    // The markers are really there for an estate-wide reader: the walk could have found them.
    let viewer_saw: usize = seen_by_viewer.iter().map(|(_, _, f)| f.len()).sum();
    assert!(viewer_saw >= 12, "a viewer sees storefront's shop rows on several routes: {seen_by_viewer:#?}");
    // Among them the new read paths: the search's running workloads and storefront's scorecard.
    for what in [
        format!("GET  /api/v1/search?cve={cve}"),
        "GET  /api/v1/teams/storefront/scorecard".to_string(),
        "page /scorecards/storefront/export.csv?table=failing".to_string(),
    ] {
        let (_, _, f) = seen_by_viewer.iter().find(|(w, _, _)| *w == what).unwrap();
        assert!(!f.is_empty(), "a viewer sees storefront's rows on {what}");
    }
    // What the developer may see of it: the unowned image itself, without the shop pods.
    let image: serde_json::Value = app.get_json(&format!("/api/v1/images/{digest}"), &dev_token).await;
    assert_eq!(image["digest"], digest.as_str());
    assert!(image["runs_in"].as_array().unwrap().iter().all(|r| r["namespace"] != "shop"));
    // Raw ledger entries: 403 for team-scoped roles, checkpoints and proofs open.
    let r = app.client.get(app.url("/api/v1/ledger/entries")).bearer_auth(&dev_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app.client.get(app.url("/api/v1/ledger/checkpoint")).bearer_auth(&dev_token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
