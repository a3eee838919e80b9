//! A day's scorecard snapshot as the ledger proves it: the scores per team and policy, every
//! failing subject with its reason and since when, and the policies in force, written as
//! canonical JSON (RFC 8785). Its SHA-256 is the payload of the day's `scorecard.snapshot` ledger
//! entry, so an evidence bundle holding these exact bytes proves its numbers offline.

use super::entry::canonical_json;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The ledger entry kind of a snapshot, and the subject naming its day.
pub const ENTRY_KIND: &str = "scorecard.snapshot";

pub fn entry_subject(day: chrono::NaiveDate) -> String {
    format!("scorecard:{day}")
}

/// One team's counts for one policy (`team` empty: subjects of no team).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Score {
    pub team: String,
    pub policy: String,
    pub judged: i64,
    pub failing: i64,
}

/// A subject failing a policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub team: Option<String>,
    pub policy: String,
    pub subject_kind: String,
    pub subject: String,
    pub reason: String,
    /// RFC 3339 (as ledger entries write times), when it started failing.
    pub since: Option<String>,
}

/// A policy as it was in force: its switch, scope and parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyInForce {
    pub id: String,
    pub enabled: bool,
    pub scope: String,
    pub params: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Document {
    pub day: chrono::NaiveDate,
    pub scores: Vec<Score>,
    pub failing: Vec<Failure>,
    pub policies: Vec<PolicyInForce>,
}

impl Document {
    /// The bytes hashed: canonical JSON.
    pub fn canonical(&self) -> String {
        canonical_json(&serde_json::to_value(self).expect("a snapshot is JSON"))
    }
}

/// Lower-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The payload of the day's ledger entry for a document whose canonical bytes hash to `sha256`.
pub fn entry_payload(doc: &Document, sha256: &str) -> serde_json::Value {
    serde_json::json!({
        "day": doc.day,
        "sha256": sha256,
        "scores": doc.scores.len(),
        "failing": doc.failing.len(),
        "policies": doc.policies.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_bytes_do_not_depend_on_field_order_and_hash_as_sha256() {
        let doc = Document {
            day: "2026-06-30".parse().unwrap(),
            scores: vec![Score { team: "web".into(), policy: "signed".into(), judged: 4, failing: 1 }],
            failing: vec![],
            policies: vec![PolicyInForce {
                id: "signed".into(),
                enabled: true,
                scope: "all".into(),
                params: serde_json::json!({"b": 1, "a": 2}),
            }],
        };
        let text = doc.canonical();
        assert!(
            text.starts_with(
                "{\"day\":\"2026-06-30\",\"failing\":[],\"policies\":[{\"enabled\":true,\"id\":\"signed\",\"params\":{\"a\":2,\"b\":1}"
            ),
            "{text}"
        );
        let back: Document = serde_json::from_str(&text).unwrap();
        assert_eq!(back.canonical(), text);
        // SHA-256("abc"), FIPS 180-2's example.
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
