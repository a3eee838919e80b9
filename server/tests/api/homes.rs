//! The people's homes on the demo estate: the manager's team cards (`/my-teams`) and the
//! compliance-first overview (`/`) show the API's numbers — each team's score and grade as
//! `/api/v1/scorecards` answers them, overdue items as counted here from `/api/v1/campaigns`.

use super::helpers::*;
use super::signin::{demo_app, demo_sign_in};
use std::collections::BTreeMap;

/// Every opening tag carrying `data-team`, as its attributes (name → value).
fn tagged(html: &str) -> Vec<BTreeMap<String, String>> {
    let mut out = Vec::new();
    for (at, _) in html.match_indices("data-team=\"") {
        let start = html[..at].rfind('<').unwrap();
        let tag = &html[start..at + html[at..].find('>').unwrap()];
        let mut attrs = BTreeMap::new();
        for part in tag.split("\" ") {
            if let Some((k, v)) = part.split_once("=\"") {
                attrs.insert(k.rsplit(' ').next().unwrap().to_string(), v.trim_end_matches('"').to_string());
            }
        }
        out.push(attrs);
    }
    out
}

/// Scores as the pages round them: whole numbers, halves away from zero.
fn rounded(v: &serde_json::Value) -> String {
    v.as_f64().map(|s| (s.round() as i64).to_string()).unwrap_or_default()
}

/// Overdue items per team (`-`: no team), counted from every campaign's items.
async fn overdue_by_team(app: &TestApp, token: &str) -> BTreeMap<String, i64> {
    let campaigns = app.get_json("/api/v1/campaigns?limit=500", token).await;
    let mut out = BTreeMap::new();
    for c in campaigns["items"].as_array().unwrap() {
        for i in c["items"].as_array().unwrap() {
            let team = i["team"].as_str().unwrap_or("-").to_string();
            *out.entry(team).or_insert(0) += i64::from(i["overdue"].as_bool().unwrap());
        }
    }
    out
}

#[tokio::test]
async fn the_manager_home_shows_the_teams_scores_and_late_items_as_the_api_counts_them() {
    let app = demo_app().await;
    let security = app.token("security").await;
    let ranking = app.get_json("/api/v1/scorecards", &security).await;
    let score_of = |team: &str| ranking["teams"].as_array().unwrap().iter().find(|t| t["team"] == team).cloned().unwrap();
    let overdue = overdue_by_team(&app, &security).await;

    // The demo's manager manages payments: one card, and it is theirs.
    let r = demo_sign_in(&app, "manager").await;
    assert_eq!(r.headers()["location"], "/my-teams", "a manager lands on their teams");
    let html = app.client.get(app.url("/my-teams")).send().await.unwrap().text().await.unwrap();
    let cards: Vec<_> = tagged(&html).into_iter().filter(|a| a.get("class").is_some_and(|c| c == "team-card")).collect();
    assert_eq!(cards.len(), 1, "{cards:?}");
    let card = &cards[0];
    assert_eq!(card["data-team"], "payments");
    let api = score_of("payments");
    assert_eq!(card["data-score"], rounded(&api["score"]), "the card's score is the API's");
    assert_eq!(card["data-grade"], api["grade"].as_str().unwrap());
    assert_eq!(card["data-overdue"], overdue.get("payments").copied().unwrap_or(0).to_string());
    assert!(html.contains("in 30 days") && html.contains("role=\"img\""), "the trend is drawn, with its text");
    assert!(html.contains("Due in the next 7 days") && html.contains("Failing most"));

    // The API the card is drawn from answers the same for the manager's own token.
    let manager = app.token_with("mgr", "manager", Some("payments"), Default::default()).await;
    let mine = app.get_json("/api/v1/my-teams", &manager).await;
    assert_eq!(mine["cards"].as_array().unwrap().len(), 1);
    assert_eq!(mine["estate_wide"], false);
    let c = &mine["cards"][0];
    assert_eq!(c["items"]["overdue"].as_i64().unwrap(), overdue.get("payments").copied().unwrap_or(0));
    assert!(c["overdue"].as_array().unwrap().iter().all(|i| i["overdue"] == true && i["team"] == "payments"));
    assert!(c["due_soon"].as_array().unwrap().iter().all(|i| i["overdue"] == false && i["team"] == "payments"));

    // An estate-wide role sees the lowest-scoring teams, worst first, each as the API scores it.
    let viewer = app.get_json("/api/v1/my-teams", &app.token("viewer").await).await;
    assert_eq!(viewer["estate_wide"], true);
    let shown: Vec<f64> = viewer["cards"].as_array().unwrap().iter().map(|c| c["score"].as_f64().unwrap()).collect();
    assert!(!shown.is_empty() && shown.windows(2).all(|w| w[0] <= w[1]), "{shown:?}");
    let mut all: Vec<f64> =
        ranking["teams"].as_array().unwrap().iter().filter(|t| t["team"].is_string()).filter_map(|t| t["score"].as_f64()).collect();
    all.sort_by(f64::total_cmp);
    assert_eq!(shown, all[..shown.len()].to_vec(), "the lowest scores of all");
}

#[tokio::test]
async fn the_overview_ranks_teams_by_the_api_scores_with_their_overdue_items() {
    let app = demo_app().await;
    let security = app.token("security").await;
    let ranking = app.get_json("/api/v1/scorecards", &security).await;
    let overdue = overdue_by_team(&app, &security).await;
    assert!(overdue.values().any(|n| *n > 0), "the demo has overdue items: {overdue:?}");

    demo_sign_in(&app, "viewer").await;
    let html = app.client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    let rows: Vec<_> = tagged(&html).into_iter().filter(|a| a.contains_key("data-overdue")).collect();
    let api_teams = ranking["teams"].as_array().unwrap();
    assert_eq!(rows.len(), api_teams.len(), "every ranked team has a row: {rows:?}");
    for (row, t) in rows.iter().zip(api_teams) {
        let key = t["team"].as_str().unwrap_or("-");
        assert_eq!(row["data-team"], key, "the same order as the API's ranking");
        assert_eq!(row["data-score"], rounded(&t["score"]), "{key}");
        assert_eq!(row["data-overdue"], overdue.get(key).copied().unwrap_or(0).to_string(), "{key}");
    }
    // The estate's headline: the API's numbers, the overdue total the sum of the teams'.
    let o = app.get_json("/api/v1/overview", &security).await;
    assert_eq!(o["items"]["overdue"].as_i64().unwrap(), overdue.values().sum::<i64>());
    let unaccounted = app.get_json("/api/v1/unaccounted", &security).await;
    assert_eq!(o["unaccounted"], unaccounted["total"]);
    assert!(html.contains(&format!("data-score=\"{}\"", rounded(&o["score"]))), "the estate score is shown");
    assert!(html.contains("Next deadlines") && html.contains("Open findings by severity"));
    assert!(!html.contains("(s)"), "counts read as words");
}
