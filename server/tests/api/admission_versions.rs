//! A change of the admission settings or of the vendor register names the version it was made
//! over: the API's `ETag` and `If-Match`, the page's forms; a stale one is 409 with nothing
//! written, and settings patches of different keys sent at once all hold.

use super::helpers::{TestApp, TestDb};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_databases!(settings_and_register_changes_name_the_version_they_saw);

fn tag_of(r: &reqwest::Response) -> String {
    let tag = r.headers().get("etag").expect("an ETag").to_str().unwrap().to_string();
    assert!(tag.len() == 66 && tag.starts_with('"') && tag.ends_with('"'), "{tag}");
    tag
}

async fn put(app: &TestApp, token: &str, path: &str, if_match: Option<&str>, body: &Value) -> reqwest::Response {
    let mut req = app.client.put(app.url(path)).bearer_auth(token).json(body);
    if let Some(tag) = if_match {
        req = req.header("If-Match", tag);
    }
    req.send().await.unwrap()
}

async fn get(app: &TestApp, token: &str, path: &str) -> (String, Value) {
    let r = app.client.get(app.url(path)).bearer_auth(token).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let tag = tag_of(&r);
    (tag, r.json().await.unwrap())
}

async fn settings_and_register_changes_name_the_version_they_saw(db: TestDb) {
    let app = TestApp::start(db, 1 << 20).await;
    let security = app.token("security").await;
    let path = "/api/v1/admission/settings";
    let (first, before) = get(&app, &security, path).await;

    let r = put(&app, &security, path, Some(&first), &json!({"default_mode": "enforce"})).await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = tag_of(&r);
    assert_ne!(second, first);
    let (now, settings) = get(&app, &security, path).await;
    assert_eq!((now.as_str(), settings["default_mode"].as_str()), (second.as_str(), Some("enforce")));

    // Over the first version again: refused, nothing written.
    let r = put(&app, &security, path, Some(&first), &json!({"unknown_images": "deny"})).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("load them again"));
    let (now, settings) = get(&app, &security, path).await;
    assert_eq!(now, second);
    assert_eq!(settings["unknown_images"], before["unknown_images"]);
    // A weak or unquoted tag is not a version: 400, naming the header.
    for bad in ["W/\"abc\"", "abc", "\"a\", \"b\""] {
        let r = put(&app, &security, path, Some(bad), &json!({"unknown_images": "deny"})).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
        assert!(r.text().await.unwrap().contains("If-Match"));
    }
    assert_eq!(get(&app, &security, path).await.0, second);

    // Without If-Match, patches of different keys sent at once all hold (each applies over the
    // settings current when it is written), round after round.
    for round in 0..4 {
        let mode = ["off", "warn"][round % 2];
        let unknown = ["deny", "allow"][round % 2];
        let patches = [
            json!({"default_mode": mode}),
            json!({"unknown_images": unknown}),
            json!({"namespaces": {format!("ns-{round}"): "enforce"}}),
            json!({"environments": {format!("env-{round}"): "off"}}),
            json!({"policies": {"signed": {"enforce": true, "grace_days": round}}}),
        ];
        let answers = futures_util::future::join_all(patches.iter().map(|p| put(&app, &security, path, None, p))).await;
        assert!(answers.iter().all(|r| r.status() == StatusCode::OK), "round {round}");
        let (_, s) = get(&app, &security, path).await;
        let want = json!({"default_mode": mode, "unknown_images": unknown,
            "namespaces": {format!("ns-{round}"): "enforce"}, "environments": {format!("env-{round}"): "off"},
            "policies": {"signed": {"enforce": true, "grace_days": round}}});
        assert_eq!(s, want, "round {round}: a patch was lost");
    }

    // The vendor register likewise.
    let path = "/api/v1/vendor-images";
    let (first, register) = get(&app, &security, path).await;
    assert_eq!(register["total"], 0);
    let entry = |repo: &str| json!([{"repository": repo, "vendor": "F5", "owner_team": "platform"}]);
    let r = put(&app, &security, path, Some(&first), &entry("docker.io/library/nginx")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let second = tag_of(&r);
    assert_eq!(get(&app, &security, path).await.0, second);
    let r = put(&app, &security, path, Some(&first), &entry("docker.io/library/redis")).await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (now, register) = get(&app, &security, path).await;
    assert_eq!((now, register["items"][0]["repository"].as_str()), (second.clone(), Some("docker.io/library/nginx")));
    let r = put(&app, &security, path, Some("*"), &entry("docker.io/library/redis")).await;
    assert_eq!(r.status(), StatusCode::OK, "* matches whatever is current");
    app.db.drop_database().await;
}

/// The Admission page's settings form carries the version it shows: a form of older settings is
/// refused (409) and the settings stay as they were.
#[tokio::test]
async fn the_settings_form_names_the_version_it_showed() {
    let app = super::signin::demo_app().await;
    super::signin::demo_sign_in(&app, "security").await;
    let seen_on = |html: &str| {
        let form = &html[html.find("action=\"/admin/admission\"").expect("the settings' form")..];
        let at = form.find("name=\"seen\" value=\"").expect("the form names the settings' version") + "name=\"seen\" value=\"".len();
        form[at..at + 64].to_string()
    };
    let html = app.client.get(app.url("/admission")).send().await.unwrap().text().await.unwrap();
    let seen = seen_on(&html);
    let post = |seen: String, mode: &'static str| {
        let form = vec![("default_mode", mode.to_string()), ("unknown_images", "allow".into()), ("seen", seen)];
        app.client.post(app.url("/admin/admission")).header("Origin", app.url("")).form(&form).send()
    };
    assert_eq!(post(seen.clone(), "enforce").await.unwrap().status(), StatusCode::SEE_OTHER);
    let r = post(seen, "off").await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("load them again"));
    let security = app.token("security").await;
    assert_eq!(app.get_json("/api/v1/admission/settings", &security).await["default_mode"], "enforce");
    let r =
        app.client.post(app.url("/admin/admission")).header("Origin", app.url("")).form(&[("default_mode", "off")]).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "a form without the version it showed");
    assert_eq!(app.get_json("/api/v1/admission/settings", &security).await["default_mode"], "enforce");
}
