//! Patch campaigns at scale (issue 13): 10,000 affected images of 50 teams, then a campaign
//! created over all of them (the selector answered, the items and their workloads written in
//! one transaction) and escalation passes over its 10,000 items (refresh, decide, queue).
//! Run: `cargo bench -p server --bench campaigns` (PostgreSQL as in the other benches, else skipped).

use drydock::store::capabilities::*;
mod common;

use drydock::store::{sha256_hex, Actor, NewCampaign, Store};
use std::time::Instant;

const IMAGES: usize = 10_000;
const TEAMS: usize = 50;
const FINDINGS_PER_IMAGE: usize = 3;

async fn bench(label: &str, store: Store) {
    let actor = Actor("bench".into());
    let now = chrono::Utc::now();
    for t in 0..TEAMS {
        let rule = drydock::domain::ownership::RuleSpec::parse(
            app::types::RuleKind::RepositoryPrefix,
            &format!("docker.io/acme/team-{t}"),
            &format!("team-{t}"),
        )
        .unwrap();
        store.add_ownership_rule(&rule, &actor, now).await.unwrap();
    }
    let bodies = common::juice_shop_estate(IMAGES, FINDINGS_PER_IMAGE, TEAMS, "svc", 7_000_000);
    // The CVE every image has: the first finding of the cut report.
    let first: serde_json::Value = serde_json::from_slice(&bodies[0]).unwrap();
    let cve = first["Results"].as_array().unwrap().iter().find_map(|r| r["Vulnerabilities"].as_array().and_then(|l| l.first())).unwrap()
        ["VulnerabilityID"]
        .as_str()
        .unwrap()
        .to_string();
    let t = Instant::now();
    for body in &bodies {
        let report = drydock::ingest::parse(body, None).unwrap();
        store.ingest_report(&report, &sha256_hex(body), &actor, now).await.unwrap();
    }
    println!("{label:<9} loaded {IMAGES} images in {:.0} s; campaign on {cve}", t.elapsed().as_secs_f64());

    // What POST /api/v1/campaigns does past authorisation and input checks.
    let t = Instant::now();
    let selector = drydock::domain::campaign::Selector::parse(std::slice::from_ref(&cve), None, None).unwrap();
    let affected = drydock::campaigns::affected(&store, &selector).await.unwrap();
    let t_select = t.elapsed();
    let sla = drydock::campaigns::sla_params(&store).await.unwrap();
    let items = drydock::campaigns::new_items(&store, &affected, &drydock::domain::policy::Scope::All, None, now, &sla).await.unwrap();
    let t_items = t.elapsed();
    let campaign = NewCampaign {
        title: format!("bench {cve}"),
        cves: vec![cve.clone()],
        package: None,
        range: None,
        scope: "all".into(),
        deadline: None,
        ladder: serde_json::to_value(drydock::domain::campaign::Ladder::default_ladder().levels()).unwrap(),
    };
    let (id, _) = store.create_campaign(&campaign, &items, &actor, now).await.unwrap();
    let t_all = t.elapsed();
    let n = store.campaign_items(&[id], None).await.unwrap().len();
    println!(
        "{label:<9} campaign over {n} affected images: {:.2} s (selector {:.2} s, items and deadlines {:.2} s, one transaction {:.2} s)",
        t_all.as_secs_f64(),
        t_select.as_secs_f64(),
        (t_items - t_select).as_secs_f64(),
        (t_all - t_items).as_secs_f64()
    );
    let t = Instant::now();
    let read = store.campaign_items(&[id], None).await.unwrap();
    println!("{label:<9} reading its {} items: {:.0} ms", read.len(), t.elapsed().as_secs_f64() * 1000.0);

    let notifier = drydock::campaigns::Notifier::from_config(&Default::default()).unwrap();
    for (what, at) in [
        ("at creation (critical: a 7-day SLA, so the reminder is due at once)", now),
        ("400 days on (levels 1, 2 and 3 due for every item)", now + chrono::Duration::days(400)),
        ("again at the same time (nothing left to decide)", now + chrono::Duration::days(400)),
    ] {
        let t = Instant::now();
        let r = drydock::campaigns::pass(&store, &notifier, "bench", at).await.unwrap();
        println!(
            "{label:<9} escalation pass, {what}: {:.2} s ({} escalations, {} messages)",
            t.elapsed().as_secs_f64(),
            r.escalations,
            r.messages
        );
    }
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Store::connect(&format!("sqlite://{}", dir.path().join("campaigns.db").display())).await.unwrap();
    bench("sqlite", sqlite).await;
    let admin = std::env::var("DRYDOCK_TEST_POSTGRES").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    use sqlx::Connection as _;
    match sqlx::PgConnection::connect(&admin).await {
        Ok(mut conn) => {
            let name = format!("drydock_bench_campaigns_{}", std::process::id());
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
            let mut url = url::Url::parse(&admin).unwrap();
            url.set_path(&name);
            let pg = Store::connect(url.as_str()).await.unwrap();
            bench("postgres", pg.clone()).await;
            if let Store::Postgres(p) = pg {
                p.close().await;
            }
            sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)")).execute(&mut conn).await.unwrap();
        }
        Err(e) => println!("postgres  skipped: {e}"),
    }
}
