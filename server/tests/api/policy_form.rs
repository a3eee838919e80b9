//! The Policies page's parameters as typed form fields, without JavaScript.

/// The Policies page edits parameters as typed fields (no JSON), without JavaScript: numbers,
/// switches, a table of denylist rows one removes with a box; a wrong value is refused naming it.
#[tokio::test]
async fn policy_parameters_are_typed_form_fields() {
    use super::signin::{demo_app, demo_sign_in};
    let app = demo_app().await;
    demo_sign_in(&app, "security").await;
    let html = app.client.get(app.url("/policies")).send().await.unwrap().text().await.unwrap();
    assert!(!html.contains("<textarea"), "no JSON text area is left");
    assert!(html.contains(r#"name="p:critical_days" type="number""#), "days are number fields");
    assert!(html.contains(r#"name="p:entries:0:package""#) && html.contains(r#"name="p:entries:0:_remove""#), "denylist rows");
    let token = app.token("security").await;
    let policies = app.get_json("/api/v1/policies", &token).await;
    let denylist = policies.as_array().unwrap().iter().find(|p| p["id"] == "denylisted-packages").unwrap().clone();
    let before = denylist["params"]["entries"].as_array().unwrap().clone();

    // The SLA with critical at 5 days, KEV's tighter deadline off.
    let post = |id: &str, form: Vec<(&str, String)>| {
        app.client.post(app.url(&format!("/admin/policies/{id}"))).header("Origin", &app.base).form(&form).send()
    };
    let sla = |critical: &str| {
        vec![
            ("enabled", "on".to_string()),
            ("scope", "all".to_string()),
            ("t:critical_days", "int".into()),
            ("p:critical_days", critical.to_string()),
            ("t:kev_days", "int".into()),
            ("p:kev_days", String::new()),
            ("t:only_fixable", "bool".into()),
            ("p:only_fixable", "on".into()),
        ]
    };
    let r = post("vulnerability-sla", sla("5")).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let saved = app.get_json("/api/v1/policies", &token).await;
    let p = saved.as_array().unwrap().iter().find(|p| p["id"] == "vulnerability-sla").unwrap().clone();
    assert_eq!(p["params"]["critical_days"], 5);
    assert_eq!(p["params"]["kev_days"], serde_json::Value::Null);
    assert_eq!(p["params"]["high_days"], 30, "a parameter not sent keeps its default");

    // The first denylist row removed, a new one added in a blank row.
    let mut form = vec![("enabled", "on".to_string()), ("scope", "all".to_string()), ("t:entries", "rows".into())];
    let names: Vec<String> =
        (0..before.len() + 1).flat_map(|i| ["label", "package", "range"].map(|c| format!("p:entries:{i}:{c}"))).collect();
    for (i, e) in before.iter().enumerate() {
        for (j, c) in ["label", "package", "range"].iter().enumerate() {
            form.push((names[i * 3 + j].as_str(), e[c].as_str().unwrap().to_string()));
        }
    }
    form.push(("p:entries:0:_remove", "on".into()));
    let n = before.len();
    form.extend([
        (names[n * 3].as_str(), "heartbleed".to_string()),
        (names[n * 3 + 1].as_str(), "pkg:deb/debian/openssl".into()),
        (names[n * 3 + 2].as_str(), "vers:deb/>=1.0.1|<1.0.1g".into()),
    ]);
    let r = post("denylisted-packages", form).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::SEE_OTHER);
    let saved = app.get_json("/api/v1/policies", &token).await;
    let entries = saved.as_array().unwrap().iter().find(|p| p["id"] == "denylisted-packages").unwrap()["params"]["entries"].clone();
    let entries = entries.as_array().unwrap();
    assert_eq!(entries.len(), before.len(), "one removed, one added");
    assert_eq!(entries[..n - 1], before[1..]);
    assert_eq!(entries[n - 1]["label"], "heartbleed");

    // Wrong values are refused naming the field, and nothing is saved.
    let r = post("vulnerability-sla", sla("thirty")).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("params.critical_days"));
    let r = post("vulnerability-sla", sla("-1")).await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("critical_days"));
    let p = app.get_json("/api/v1/policies", &token).await.as_array().unwrap().iter().find(|p| p["id"] == "vulnerability-sla").unwrap()
        ["params"]["critical_days"]
        .clone();
    assert_eq!(p, 5, "the refused changes saved nothing");
}
