//! "Fix these first" on the demo estate: the ranking `GET /api/v1/risk` answers is recomputed here
//! from the estate search's answers (affected images, where they run, severity, KEV, EPSS), the
//! environment rules and the formula as the README states it; team-scoped roles see their team's.

use super::signin::demo_app;
use serde_json::Value;
use std::collections::BTreeMap;

/// `*`-patterns as the environment rules use them.
fn glob(pattern: &str, s: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == s,
        Some((head, tail)) => {
            s.len() >= head.len() && s.starts_with(head) && (0..=s.len() - head.len()).any(|i| glob(tail, &s[head.len() + i..]))
        }
    }
}

/// The environment rule of a namespace: its own cluster's rules first, then `*`'s.
fn environment<'a>(rules: &'a [Value], cluster: &str, namespace: &str) -> Option<&'a Value> {
    let matching = |c: &str| rules.iter().find(move |r| r["cluster"] == c && glob(r["namespace"].as_str().unwrap(), namespace));
    matching(cluster).or_else(|| matching("*"))
}

/// The README's formula: S × T × E.
fn expected(vulnerability: &str, search: &Value, rules: &[Value]) -> (f64, BTreeMap<String, i64>) {
    let matches: Vec<&Value> = search["items"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|i| i["matches"].as_array().unwrap())
        .filter(|m| m["vulnerability"] == vulnerability)
        .collect();
    let rank = |s: &str| ["critical", "high", "medium", "low", "negligible", "unknown"].iter().position(|x| *x == s).unwrap();
    let worst = matches.iter().map(|m| m["severity"].as_str().unwrap()).min_by_key(|s| rank(s)).unwrap();
    let s = match worst {
        "critical" => 10.0,
        "high" => 7.0,
        "medium" => 4.0,
        "low" => 1.0,
        _ => 0.5,
    };
    let kev = matches.iter().any(|m| m["kev"] == true);
    let epss = matches.iter().filter_map(|m| m["epss"].as_f64()).fold(0.0f64, f64::max).clamp(0.0, 1.0);
    let t = 1.0 + 9.0 * if kev { 1.0 } else { epss };
    let (mut e, mut places) = (0.0, BTreeMap::new());
    for image in search["items"].as_array().unwrap() {
        let running = image["running"].as_array().unwrap();
        if running.is_empty() {
            e += 0.2;
            *places.entry("registry-only".to_string()).or_insert(0) += 1;
        }
        for w in running {
            let n = w["containers"].as_i64().unwrap();
            let env = environment(rules, w["cluster"].as_str().unwrap(), w["namespace"].as_str().unwrap());
            e += n as f64 * if env.is_some_and(|r| r["production"] == true) { 3.0 } else { 1.0 };
            let name = env.map(|r| r["environment"].as_str().unwrap().to_string()).unwrap_or_else(|| "none".into());
            *places.entry(name).or_insert(0) += n;
        }
    }
    ((s * t * e * 100.0).round() / 100.0, places)
}

#[tokio::test]
async fn the_ranking_is_the_formula_over_the_searchs_answers_highest_first() {
    let app = demo_app().await;
    let security = app.token("security").await;
    // The ranking job, run now (the server's runs within a minute of a change; running it here
    // twice over the same data is harmless).
    let stored = drydock::risk::rank(&app.db.store, chrono::Utc::now()).await.unwrap();
    assert!(stored.is_some_and(|n| n > 0), "{stored:?}");
    assert_eq!(drydock::risk::rank(&app.db.store, chrono::Utc::now()).await.unwrap(), None, "nothing changed: nothing to do");

    let risk = app.get_json("/api/v1/risk?limit=1000", &security).await;
    let items = risk["items"].as_array().unwrap();
    assert_eq!(risk["total"].as_u64().unwrap() as usize, items.len());
    assert!(risk["formula"].as_str().unwrap().contains("S × T × E"));
    let rules = app.get_json("/api/v1/environment-rules", &security).await["items"].as_array().unwrap().clone();
    let mut recomputed = Vec::new();
    for it in items {
        let v = it["vulnerability"].as_str().unwrap();
        let search = app.get_json(&format!("/api/v1/search?cve={v}&limit=5000"), &security).await;
        let (score, places) = expected(v, &search, &rules);
        assert_eq!(it["score"].as_f64().unwrap(), score, "{v}");
        assert_eq!(it["images"], search["total"], "{v}");
        let instances: i64 = search["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|i| i["running"].as_array().unwrap())
            .map(|w| w["containers"].as_i64().unwrap())
            .sum();
        assert_eq!(it["instances"].as_i64().unwrap(), instances, "{v}");
        let shown: BTreeMap<String, i64> = serde_json::from_value(it["environments"].clone()).unwrap();
        assert_eq!(shown, places, "{v}");
        recomputed.push((score, v.to_string()));
    }
    recomputed.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    let order: Vec<&str> = items.iter().map(|i| i["vulnerability"].as_str().unwrap()).collect();
    assert_eq!(order, recomputed.iter().map(|(_, v)| v.as_str()).collect::<Vec<_>>(), "highest score first");
    // Production counts: the top vulnerability runs somewhere in the demo's production.
    assert!(items[0]["environments"]["production"].as_i64().unwrap_or(0) > 0, "{}", items[0]);

    // A team's people see their team's ranking, and may not ask for another team's.
    let manager = app.token_with("mgr", "manager", Some("payments"), Default::default()).await;
    let mine = app.get_json("/api/v1/risk", &manager).await;
    assert_eq!(mine["teams"], serde_json::json!(["payments"]));
    assert!(!mine["items"].as_array().unwrap().is_empty());
    assert!(mine["items"].as_array().unwrap().iter().all(|i| i["teams"] == serde_json::json!(["payments"])), "{mine}");
    let r = app.client.get(app.url("/api/v1/risk?team=storefront")).bearer_auth(&manager).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::FORBIDDEN);
    let r = app.client.get(app.url("/api/v1/risk?limit=0")).bearer_auth(&security).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let r = app.client.get(app.url("/api/v1/risk?team=no-such-team")).bearer_auth(&security).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::NOT_FOUND);
}
