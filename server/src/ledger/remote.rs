//! Verifying a running Drydock through its API (`drydock ledger verify --server`): the served
//! checkpoint, every served entry recomputed into the tree, and the server's own inclusion and
//! consistency proofs checked against the signed checkpoint.

use super::{merkle, Export, VerifyingKey, ORIGIN};
use anyhow::Context as _;
use base64::Engine as _;

/// What the verification of a served ledger found.
pub enum RemoteVerdict {
    /// No key was given: the served entries checked against the served checkpoint's size and
    /// root only (its signature cannot be trusted without the key).
    Unsigned { size: usize, consistent: bool },
    /// The entries match the signed checkpoint; the server's proofs, each (its sizes, verified).
    Intact { entries: usize, root: String, inclusion: Option<(u64, bool)>, consistency: Option<(u64, u64, bool)> },
    /// The served entries do not match the signed checkpoint.
    Tampered(String),
}

/// A running Drydock's ledger API, as a token holder reads it.
struct Served {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl Served {
    async fn get(&self, path: &str) -> anyhow::Result<reqwest::Response> {
        Ok(self.client.get(format!("{}{path}", self.base)).bearer_auth(&self.token).send().await?)
    }

    /// The signed checkpoint of the server's head.
    async fn checkpoint(&self) -> anyhow::Result<String> {
        let resp = self.get("/api/v1/ledger/checkpoint").await?;
        anyhow::ensure!(resp.status().is_success(), "checkpoint: HTTP {}", resp.status());
        Ok(resp.text().await?)
    }

    /// The whole log, 10,000 entries a call, as the server serves it (base64 leaves).
    async fn entries(&self) -> anyhow::Result<Vec<String>> {
        let mut entries = Vec::new();
        loop {
            let start = entries.len();
            let page: Vec<serde_json::Value> =
                self.get(&format!("/api/v1/ledger/entries?start={start}&end={}", start + 10_000)).await?.error_for_status()?.json().await?;
            if page.is_empty() {
                return Ok(entries);
            }
            entries.extend(page.into_iter().map(|e| e["leaf"].as_str().unwrap_or_default().to_string()));
        }
    }

    /// A proof's hashes as the server answers them.
    async fn proof(&self, path: &str) -> anyhow::Result<Vec<merkle::Hash>> {
        let p: serde_json::Value = self.get(path).await?.json().await?;
        Ok(p["hashes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|h| h.as_str())
            .filter_map(|h| base64::engine::general_purpose::STANDARD.decode(h).ok())
            .filter_map(|b| b.try_into().ok())
            .collect())
    }
}

fn leaves(entries: &[String]) -> Vec<merkle::Hash> {
    entries.iter().filter_map(|e| base64::engine::general_purpose::STANDARD.decode(e).ok()).map(|b| merkle::leaf_hash(&b)).collect()
}

/// Verifies the ledger served at `base` (with `key`, the checkpoint's signature and the
/// server's proofs too).
pub async fn verify(base: &str, token: &str, key: Option<&VerifyingKey>) -> anyhow::Result<RemoteVerdict> {
    let served = Served { client: reqwest::Client::new(), base: base.trim_end_matches('/').to_string(), token: token.to_string() };
    let note = served.checkpoint().await?;
    let entries = served.entries().await?;
    let Some(key) = key else { return unsigned(&note, &entries) };
    let export = Export { origin: ORIGIN.into(), verifier_key: None, entries, checkpoints: vec![note.clone()] };
    let (n, root) = match super::verify_export(&export, key) {
        Ok(v) => v,
        Err(e) => return Ok(RemoteVerdict::Tampered(e)),
    };
    let (size, signed_root) = super::verify_checkpoint(&note, key).map_err(anyhow::Error::msg)?;
    let leaves = leaves(&export.entries);
    let (mut inclusion, mut consistency) = (None, None);
    if size > 0 {
        let hashes = served.proof(&format!("/api/v1/ledger/proof/inclusion?index=0&size={size}")).await?;
        inclusion = Some((size, merkle::verify_inclusion(0, size, &leaves[0], &hashes, &signed_root)));
    }
    // A failed inclusion proof is the answer; the consistency proof is asked only after a good one.
    if size > 1 && inclusion.is_none_or(|(_, ok)| ok) {
        let from = size / 2;
        let hashes = served.proof(&format!("/api/v1/ledger/proof/consistency?from={from}&to={size}")).await?;
        let old_root = merkle::root(&leaves[..from as usize]);
        consistency = Some((from, size, merkle::verify_consistency(from, size, &old_root, &signed_root, &hashes)));
    }
    Ok(RemoteVerdict::Intact { entries: n, root, inclusion, consistency })
}

/// Without a key: the served entries against the served checkpoint's size and root.
fn unsigned(note: &str, entries: &[String]) -> anyhow::Result<RemoteVerdict> {
    let size: usize = note.lines().nth(1).and_then(|l| l.parse().ok()).context("checkpoint: no size line")?;
    let root =
        note.lines().nth(2).and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok()).context("checkpoint: no root line")?;
    let leaves = leaves(entries);
    anyhow::ensure!(leaves.len() >= size, "the server serves {} entries, its checkpoint covers {size}", leaves.len());
    Ok(RemoteVerdict::Unsigned { size, consistent: merkle::root(&leaves[..size])[..] == root[..] })
}
