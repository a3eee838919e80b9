//! The store suite: every test runs on SQLite and on PostgreSQL (`on_both_backends!`), one file
//! per capability: reports stored (`ingest`), who owns and who may (`access`), what pages and the
//! evaluation read and write (`results`), and SQLite's own upkeep (`sqlite`).

use super::helpers::fixture;
use chrono::{DateTime, Utc};
use drydock::ingest;
use drydock::store::capabilities::*;
use drydock::store::{sha256_hex, Actor, IngestOutcome, Store};
use serde_json::Value;

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        $(
            mod $name {
                #[tokio::test]
                async fn sqlite() {
                    let db = super::TestDb::sqlite().await;
                    super::$name(&db.store).await;
                    db.cleanup().await;
                }
                #[tokio::test]
                async fn postgres() {
                    let db = super::TestDb::postgres().await;
                    super::$name(&db.store).await;
                    db.cleanup().await;
                }
            }
        )*
    };
}

mod access;
mod ingest_reports;
mod results;
mod sqlite;

fn actor() -> Actor {
    Actor("test".into())
}

async fn ingest_bytes(store: &Store, bytes: &[u8], now: DateTime<Utc>) -> IngestOutcome {
    let report = ingest::parse(bytes, None).unwrap();
    store.ingest_report(&report, &sha256_hex(bytes), &actor(), now).await.unwrap()
}

fn juice_shop() -> Vec<u8> {
    fixture("trivy/juice-shop-v10.2.0.json")
}

/// Juice Shop with the report time set and the first `drop` OS findings removed.
fn juice_shop_variant(created_at: &str, drop: usize) -> (Vec<u8>, Vec<String>) {
    let mut v: Value = serde_json::from_slice(&juice_shop()).unwrap();
    v["CreatedAt"] = Value::String(created_at.into());
    let vulns = v["Results"][0]["Vulnerabilities"].as_array_mut().unwrap();
    let removed: Vec<String> = vulns.drain(..drop).map(|x| x["VulnerabilityID"].as_str().unwrap().to_string()).collect();
    (serde_json::to_vec(&v).unwrap(), removed)
}
