//! The checklist on the demo estate: every question has a stable id, a status, an answer; every
//! evidence link is followed and its list's `total` equals the count the checklist gives; the
//! shellshock and outdated-SSL answers count what the estate search finds for the denylist's
//! ranges; a team-scoped role's checklist counts only what it may see.

use super::signin::demo_app;

#[tokio::test]
async fn every_evidence_link_is_a_list_whose_total_is_the_count() {
    let app = demo_app().await;
    drydock::risk::rank(&app.db.store, chrono::Utc::now()).await.unwrap();
    for token in [app.token("security").await, app.token_with("mgr", "manager", Some("payments"), Default::default()).await] {
        let c = app.get_json("/api/v1/checklist", &token).await;
        let items = c["items"].as_array().unwrap();
        assert_eq!(c["total"].as_u64().unwrap() as usize, items.len());
        let ids: Vec<&str> = items.iter().map(|i| i["id"].as_str().unwrap()).collect();
        for id in [
            "shellshock",
            "outdated-ssl",
            "secrets",
            "root",
            "signing",
            "promotion",
            "base-image",
            "runtime-versions",
            "whats-running",
            "unaccounted",
            "after-gone",
            "patch-identify",
            "registry-rbac",
        ] {
            assert!(ids.contains(&id), "{id} is answered: {ids:?}");
        }
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "ids are unique");
        for i in items {
            let status = i["status"].as_str().unwrap();
            assert!(["ok", "attention", "unknown"].contains(&status), "{i}");
            assert!(!i["answer"].as_str().unwrap().is_empty() && !i["answer"].as_str().unwrap().contains("(s)"), "{i}");
            let evidence = i["evidence"].as_array().unwrap();
            if status != "unknown" {
                assert!(!evidence.is_empty(), "an answered question links its evidence: {i}");
            }
            for e in evidence {
                let href = e["href"].as_str().unwrap();
                assert!(href.starts_with("/api/v1/"), "{href}");
                let list = app.get_json(href, &token).await;
                assert_eq!(list["total"], e["count"], "{}: {href}", i["id"]);
                assert!(list["items"].is_array(), "{href}");
            }
        }
        // Attention exactly when something was found.
        for i in items.iter().filter(|i| ["shellshock", "outdated-ssl", "secrets", "unaccounted"].contains(&i["id"].as_str().unwrap())) {
            let found: i64 = i["evidence"].as_array().unwrap().iter().map(|e| e["count"].as_i64().unwrap()).sum();
            assert_eq!(i["status"] == "attention", found > 0, "{i}");
        }
    }
    // The demo's storefront image carries the juice-shop report's real private key.
    let c = app.get_json("/api/v1/checklist", &app.token("security").await).await;
    let secrets = c["items"].as_array().unwrap().iter().find(|i| i["id"] == "secrets").unwrap().clone();
    assert_eq!(secrets["status"], "attention", "{secrets}");

    // The page lists every question with its status; the CSV holds a row per question.
    super::signin::demo_sign_in(&app, "security").await;
    let html = app.client.get(app.url("/checklist")).send().await.unwrap().text().await.unwrap();
    for i in c["items"].as_array().unwrap() {
        let row = format!("id=\"check-{}\" data-status=\"{}\"", i["id"].as_str().unwrap(), i["status"].as_str().unwrap());
        assert!(html.contains(&row), "{row}");
    }
    let r = app.client.get(app.url("/checklist.csv")).send().await.unwrap();
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    let csv = r.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "id,section,question,status,answer,figures,evidence");
    assert_eq!(lines.len(), c["items"].as_array().unwrap().len() + 1);
    assert!(lines.iter().any(|l| l.starts_with("secrets,secrets,") && l.contains(",attention,")), "{csv}");
}
