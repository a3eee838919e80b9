//! The pages under load: 64 connections asking for one path as fast as they are answered, for a
//! fixed time, each path in turn, from the same server in the same run — a static file and
//! `/healthz` first, as the floor every page is compared with. Every request says what a browser
//! says it accepts (`Accept-Encoding`); the bodies are read as sent, not decompressed.

use crate::measures::{ms, quantile, round3, urlencode};
use crate::server::Bench;
use drydock::generator::Estate;
use serde_json::{json, Map, Value};
use std::time::{Duration, Instant};

const CONNECTIONS: usize = 64;

/// Chromium's `Accept-Encoding`.
const ACCEPTS: &str = "gzip, deflate, br, zstd";

/// What one path did under load.
struct Load {
    p50: Duration,
    p99: Duration,
    rate: f64,
    /// Answers that were not 200 (a 5xx or a 503 would be one), and failed requests.
    errors: usize,
}

pub async fn pages(bench: &Bench, estate: &Estate, f: &mut Map<String, Value>, each: Duration) -> anyhow::Result<()> {
    let team = largest_team(estate);
    let cve = f["search_cve"].as_str().unwrap_or_default().to_string();
    let paths = [
        ("static", "/pkg/drydock.css".to_string(), false),
        ("healthz", "/healthz".to_string(), false),
        ("overview", "/".to_string(), false),
        ("team", format!("/teams/{team}"), false),
        ("scorecard", format!("/scorecards/{team}"), false),
        ("search", format!("/search?cve={}", urlencode(&cve)), false),
        ("search_api", format!("/api/v1/search?cve={}", urlencode(&cve)), true),
    ];
    f.insert("page_team".into(), json!(team));
    let mut static_p99 = None;
    for (name, path, api) in paths {
        let client = if api { bench.api.clone() } else { bench.pages.clone() };
        // The first request renders what the load then asks for again (timed on its own).
        let t = Instant::now();
        let first = client.get(bench.url(&path)).header(reqwest::header::ACCEPT_ENCODING, ACCEPTS).send().await?;
        anyhow::ensure!(first.status() == reqwest::StatusCode::OK, "{path}: {}", first.status());
        first.bytes().await?;
        f.insert(format!("{name}_first_ms"), json!(ms(t.elapsed())));
        let l = load(&client, &bench.url(&path), each).await;
        f.insert(format!("{name}_ms_p50"), json!(ms(l.p50)));
        f.insert(format!("{name}_ms_p99"), json!(ms(l.p99)));
        f.insert(format!("{name}_rps"), json!(l.rate.round()));
        f.insert(format!("{name}_errors"), json!(l.errors));
        match static_p99 {
            None => static_p99 = Some(l.p99),
            Some(s) => {
                f.insert(format!("{name}_p99_ratio_to_static"), json!(round3(l.p99.as_secs_f64() / s.as_secs_f64().max(1e-6))));
            }
        }
        eprintln!("  {name:<10} {path}: p50 {:.1} ms, p99 {:.1} ms, {:.0}/s, {} errors", ms(l.p50), ms(l.p99), l.rate, l.errors);
    }
    Ok(())
}

/// The team with the most images (its pages are the heaviest).
fn largest_team(estate: &Estate) -> String {
    let mut sizes = std::collections::BTreeMap::<&str, usize>::new();
    for i in 0..estate.preset.images {
        *sizes.entry(estate.team_of(i)).or_default() += 1;
    }
    sizes.into_iter().max_by_key(|(t, n)| (*n, std::cmp::Reverse(*t))).map(|(t, _)| t.to_string()).unwrap_or_default()
}

/// `CONNECTIONS` tasks asking for `url` until `each` has passed; every answer counts.
async fn load(client: &reqwest::Client, url: &str, each: Duration) -> Load {
    let start = Instant::now();
    let end = start + each;
    let mut tasks = Vec::new();
    for _ in 0..CONNECTIONS {
        let (client, url) = (client.clone(), url.to_string());
        tasks.push(tokio::spawn(async move {
            let (mut times, mut errors) = (Vec::new(), 0usize);
            loop {
                let t = Instant::now();
                if t >= end {
                    break;
                }
                let ok = match client.get(&url).header(reqwest::header::ACCEPT_ENCODING, ACCEPTS).send().await {
                    Ok(r) => r.status() == reqwest::StatusCode::OK && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                times.push(t.elapsed());
                errors += usize::from(!ok);
            }
            (times, errors)
        }));
    }
    let (mut times, mut errors) = (Vec::new(), 0);
    for task in tasks {
        if let Ok((t, e)) = task.await {
            times.extend(t);
            errors += e;
        }
    }
    times.sort();
    let elapsed = start.elapsed().as_secs_f64();
    Load { p50: quantile(&times, 0.5), p99: quantile(&times, 0.99), rate: times.len() as f64 / elapsed, errors }
}
