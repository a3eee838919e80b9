//! Scorecards: daily snapshots making a team's trend and its chart, and the scorecard page showing
//! the API's numbers.

use super::helpers::fixture;
use chrono::{Duration, Utc};
use drydock::store::capabilities::*;
use serde_json::Value;
use std::collections::BTreeSet;
use std::process::Command;

/// `drydock snapshot --at DATE` on two days (the real binary, one SQLite file): the team's trend
/// holds both days' scores, and the chart drawn from it parses as SVG with one point per day.
#[tokio::test]
async fn snapshots_make_a_trend_and_its_chart() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/d.db", dir.path().display());
    let store = drydock::store::Store::connect(&url).await.unwrap();
    let actor = drydock::store::Actor::cli();
    let now = Utc::now();
    // Two images of team web: one past the SLA soon, one clean.
    store.upsert_team(&drydock::domain::TeamName::parse("web").unwrap(), "Web", &actor, now).await.unwrap();
    for file in ["trivy/juice-shop-v10.2.0.json", "trivy/alpine-310.json"] {
        let bytes = fixture(file);
        let report = drydock::ingest::parse(&bytes, None).unwrap();
        let d =
            store.ingest_report(&report, &drydock::store::sha256_hex(&bytes), &actor, now).await.unwrap().summary().image.clone().unwrap();
        let r = drydock::domain::ImageRef::parse(&format!("registry.example/web/app-{}:1", &d[7..12])).unwrap();
        store.place_tag(&r, &d, &actor, now).await.unwrap();
    }
    let rule = drydock::domain::ownership::RuleSpec::parse(app::types::RuleKind::RepositoryPrefix, "registry.example/web", "web").unwrap();
    store.add_ownership_rule(&rule, &actor, now).await.unwrap();
    drop(store);
    let run = |day: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_drydock")).args(["snapshot", "--at", day, "--database-url", &url]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    };
    let (d1, d2) = ((now - Duration::days(1)).date_naive(), now.date_naive());
    assert!(run(&d1.to_string()).starts_with(&d1.to_string()));
    // Between the days security stops requiring signatures (both images fail it): the team's
    // score must rise on the second day.
    let store = drydock::store::Store::connect(&url).await.unwrap();
    store.save_policies(&[("signed".into(), false, "all".into(), Value::Null)], &actor, now).await.unwrap();
    drop(store);
    run(&d2.to_string());
    let bad = Command::new(env!("CARGO_BIN_EXE_drydock")).args(["snapshot", "--at", "yesterday", "--database-url", &url]).output().unwrap();
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("not a date"));

    let store = drydock::store::Store::connect(&url).await.unwrap();
    let snaps = store.snapshots(Some("web"), d1).await.unwrap();
    let days: BTreeSet<_> = snaps.iter().map(|s| s.day).collect();
    assert_eq!(days, BTreeSet::from([d1, d2]));
    // The expected daily score: the mean of the policy scores recorded that day.
    let expected = |day| {
        let per: Vec<f64> = snaps
            .iter()
            .filter(|s| s.day == day && s.subjects > 0)
            .map(|s| 100.0 * (s.subjects - s.failing) as f64 / s.subjects as f64)
            .collect();
        per.iter().sum::<f64>() / per.len() as f64
    };
    let points = [(d1, expected(d1)), (d2, expected(d2))];
    let svg = drydock::charts::score_trend_svg(&points, "web: score by day").unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("the chart is well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let circles: Vec<_> = doc.descendants().filter(|n| n.has_tag_name("circle")).collect();
    assert_eq!(circles.len(), 2, "one point per day");
    assert!(points[0].1 < points[1].1, "the second day scores higher: {points:?}");
    // The API's trend is the same series.
    let card_points: Vec<(chrono::NaiveDate, f64)> = {
        let scores = store.policy_scores().await.unwrap();
        let today = drydock::policy::overall(scores.iter().filter(|s| s.team == "web").map(|s| (s.subjects, s.failing))).unwrap();
        vec![(d2, today)]
    };
    assert!((card_points[0].1 - points[1].1).abs() < 1e-9, "today's snapshot is today's score");
    // The higher score sits higher on the chart (a smaller y).
    let y = |n: &roxmltree::Node| n.attribute("cy").unwrap().parse::<f64>().unwrap();
    assert!(y(&circles[1]) < y(&circles[0]), "{points:?}");
    assert!(doc.descendants().all(|n| n.attribute("style").is_none()), "no inline style (CSP)");
}

/// The demo estate judged at start: the team's scorecard page shows the API's numbers, and its
/// trend (30 reconstructed days and today) is drawn.
#[tokio::test]
async fn scorecard_page_numbers_equal_the_api() {
    let app = super::signin::demo_app().await;
    let token = app.token("viewer").await;
    let api = app.get_json("/api/v1/teams/payments/scorecard", &token).await;
    assert!(api["trend"].as_array().unwrap().len() >= 31, "30 days of history and today");
    assert!(api["score"].is_number() && !api["policies"].as_array().unwrap().is_empty());
    assert!(
        api["failing"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["policy"] == "non-root" && f["subject"].as_str().unwrap().starts_with("demo-synthetic/payments-prod/fraud-scoring")),
        "the synthetic fraud-scoring pods set no user: {}",
        api["failing"]
    );
    super::signin::demo_sign_in(&app, "viewer").await;
    let html = app.client.get(app.url("/scorecards/payments")).send().await.unwrap().text().await.unwrap();
    let at = html.find("id=\"team-score\"").unwrap_or_else(|| panic!("no score on the page: {html}"));
    let shown = &html[at..at + 80];
    assert!(shown.contains(&format!(">{:.0}<", api["score"].as_f64().unwrap())), "the page's score is the API's: {shown}");
    let at = html.find("id=\"team-grade\"").unwrap();
    assert!(html[at..at + 80].contains(&format!(">{}<", api["grade"].as_str().unwrap())), "{}", &html[at..at + 80]);
    for p in api["policies"].as_array().unwrap() {
        let row = format!("<th scope=\"row\">{}</th><td class=\"num\">{}</td>", p["title"].as_str().unwrap(), p["subjects"]);
        assert!(html.contains(&row), "{row}");
    }
    assert!(html.contains("<svg") && html.contains("days recorded"), "the trend chart and its text alternative");
    let ranking = app.get_json("/api/v1/scorecards", &token).await;
    assert!(ranking["teams"].as_array().unwrap().iter().any(|t| t["team"] == "payments" && t["score"] == api["score"]));
    let csv = app.client.get(app.url("/scorecards/payments/export.csv?table=failing")).send().await.unwrap();
    assert_eq!(csv.headers()["content-type"], "text/csv; charset=utf-8");
    assert_eq!(csv.text().await.unwrap().lines().count(), api["failing"].as_array().unwrap().len() + 1);
    failing_subjects_page_through(&app, &api).await;
}

/// The page lists a page's worth of failing subjects, of one policy (`?policy=`) or all, from
/// `?offset=` on, in the API's order, and says how many fail in all (the policy's stored count).
async fn failing_subjects_page_through(app: &super::helpers::TestApp, api: &serde_json::Value) {
    let failing = api["failing"].as_array().unwrap();
    let subjects = |html: &str| -> Vec<String> {
        let table = &html[html.find("id=\"failing-subjects\"").unwrap()..];
        let table = &table[..table.find("</table>").unwrap()];
        table
            .split("<td class=\"subject\">")
            .skip(1)
            .map(|cell| cell.split("title=\"").nth(1).unwrap().split('"').next().unwrap().to_string())
            .collect()
    };
    let policy = api["policies"].as_array().unwrap().iter().max_by_key(|p| p["failing"].as_i64()).unwrap();
    let (id, total) = (policy["policy"].as_str().unwrap(), policy["failing"].as_i64().unwrap());
    assert!(total >= 2, "a policy with two failing subjects to page through: {policy}");
    let of_policy: Vec<String> = failing.iter().filter(|f| f["policy"] == id).map(|f| f["subject"].as_str().unwrap().to_string()).collect();
    let get = |q: String| async move {
        app.client.get(app.url(&format!("/scorecards/payments?{q}"))).send().await.unwrap().text().await.unwrap()
    };
    let html = get(format!("policy={id}")).await;
    assert_eq!(subjects(&html), of_policy.iter().take(50).cloned().collect::<Vec<_>>(), "one policy's subjects, in the API's order");
    assert!(html.contains(&format!("Showing 1–{} of {total}", total.min(50))), "the pager counts the policy's failing subjects");
    let html = get(format!("policy={id}&offset=1")).await;
    assert_eq!(subjects(&html), of_policy.iter().skip(1).take(50).cloned().collect::<Vec<_>>(), "from the second on");
    assert!(html.contains("rel=\"prev\""), "a way back to the first page");
    let html = get("offset=-5".into()).await;
    let all: Vec<String> = failing.iter().take(50).map(|f| f["subject"].as_str().unwrap().to_string()).collect();
    assert_eq!(subjects(&html), all, "a negative offset is the first page");
    let html = get("policy=no-such".into()).await;
    assert!(
        html.contains("is not a policy") && !html.contains("id=\"failing-subjects\""),
        "an unknown policy is refused, not shown as passing"
    );
}
