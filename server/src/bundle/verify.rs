//! `drydock evidence verify`: an evidence bundle checked offline — no database, no server, only
//! the bundle and the ledger's public key. The manifest's signature, every file's hash, each
//! included entry's leaf hash and inclusion proof against the signed checkpoint, the checkpoints'
//! signatures and the consistency proof to the latest, that the scorecard numbers are those of
//! the snapshot content the snapshot entry hashed, and that the campaigns' acknowledgements and
//! exceptions are exactly what the included entries record. The first thing that does not hold
//! is named.

use super::{CampaignAt, Consistency, Entries, Manifest, Scorecards, MANIFEST, SIGNATURE};
use crate::domain::merkle::{self, Hash};
use crate::domain::snapshot::{self, sha256_hex, Document};
use base64::Engine as _;
use ed25519_dalek::{Verifier as _, VerifyingKey};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// What a bundle that holds proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub at: chrono::NaiveDate,
    pub teams: Option<Vec<String>>,
    pub files: usize,
    pub entries: usize,
    pub checkpoint_size: u64,
    pub latest_size: u64,
    pub scores: usize,
    pub failing: usize,
    pub campaigns: usize,
    pub exceptions: usize,
}

impl std::fmt::Display for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let teams = self.teams.as_ref().map_or("every team".to_string(), |t| t.join(", "));
        write!(
            f,
            "evidence bundle intact: the compliance state at the end of {} ({teams}); {} files hashed and signed; {} ledger entries \
             included in the signed checkpoint of {} entries, consistent with the latest of {}; {} team and policy scores equal \
             the snapshot entry's content; {} failing subjects; {} campaigns, {} exceptions, each backed by its entries",
            self.at,
            self.files,
            self.entries,
            self.checkpoint_size,
            self.latest_size,
            self.scores,
            self.failing,
            self.campaigns,
            self.exceptions
        )
    }
}

type Files = BTreeMap<String, Vec<u8>>;

fn json<'a, T: serde::Deserialize<'a>>(files: &'a Files, name: &str) -> Result<T, String> {
    let bytes = files.get(name).ok_or_else(|| format!("{name}: missing from the bundle"))?;
    serde_json::from_slice(bytes).map_err(|e| format!("{name}: does not read: {e}"))
}

fn hashes(list: &[String], what: &str) -> Result<Vec<Hash>, String> {
    list.iter()
        .map(|h| hex::decode(h).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| format!("{what}: {h:?} is not a SHA-256 hash")))
        .collect()
}

/// Verifies the bundle `bytes` with the ledger's public `key`.
pub fn verify(bytes: &[u8], key: &VerifyingKey) -> Result<Verified, String> {
    let files = super::unpack(bytes)?;
    let manifest = signed_manifest(&files, key)?;
    let (entries, checkpoint_size, latest_size) = proven_entries(&files, key)?;
    let doc = snapshot_document(&files, &manifest, &entries)?;
    let scores = scorecards_match(&files, &manifest, &doc)?;
    let failing = failing_match(&files, &manifest, &doc)?;
    let (campaigns, exceptions) = campaigns_match(&files, &entries)?;
    Ok(Verified {
        at: manifest.at,
        teams: manifest.teams,
        files: manifest.files.len(),
        entries: entries.len(),
        checkpoint_size,
        latest_size,
        scores,
        failing,
        campaigns,
        exceptions,
    })
}

/// The manifest, once its signature and every file's hash hold (and no file is unlisted).
fn signed_manifest(files: &Files, key: &VerifyingKey) -> Result<Manifest, String> {
    let manifest_bytes = files.get(MANIFEST).ok_or("MANIFEST.json: missing from the bundle")?;
    let sig = files.get(SIGNATURE).ok_or("MANIFEST.sig: missing from the bundle")?;
    let sig = base64::engine::general_purpose::STANDARD
        .decode(String::from_utf8_lossy(sig).trim())
        .ok()
        .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
        .ok_or("MANIFEST.sig: not a base64 Ed25519 signature")?;
    key.verify(manifest_bytes, &sig).map_err(|_| {
        "MANIFEST.sig: the manifest's signature does not verify with this public key (another key, or the manifest was changed)"
    })?;
    let manifest: Manifest = json(files, MANIFEST)?;
    if manifest.format != super::FORMAT {
        return Err(format!("MANIFEST.json: format {:?}, not {:?}", manifest.format, super::FORMAT));
    }
    for f in &manifest.files {
        let bytes = files.get(&f.name).ok_or_else(|| format!("{}: listed in the manifest, missing from the bundle", f.name))?;
        if sha256_hex(bytes) != f.sha256 {
            return Err(format!("{}: its SHA-256 is not the one the signed manifest lists (changed after signing)", f.name));
        }
    }
    let listed: BTreeSet<&str> = manifest.files.iter().map(|f| f.name.as_str()).collect();
    if let Some(extra) = files.keys().find(|n| *n != MANIFEST && *n != SIGNATURE && !listed.contains(n.as_str())) {
        return Err(format!("{extra}: in the bundle but not in the signed manifest"));
    }
    Ok(manifest)
}

/// The included entries by index, each checked: canonical, carrying its index, its inclusion
/// proof leading to the signed checkpoint's root; the checkpoint consistent with the latest.
fn proven_entries(files: &Files, key: &VerifyingKey) -> Result<(BTreeMap<u64, Value>, u64, u64), String> {
    let text = |name: &str| files.get(name).map(|b| String::from_utf8_lossy(b).into_owned()).ok_or(format!("{name}: missing"));
    let (size, root) = crate::ledger::verify_checkpoint(&text("checkpoint.txt")?, key).map_err(|e| format!("checkpoint.txt: {e}"))?;
    let (latest, latest_root) =
        crate::ledger::verify_checkpoint(&text("latest-checkpoint.txt")?, key).map_err(|e| format!("latest-checkpoint.txt: {e}"))?;
    let c: Consistency = json(files, "consistency.json")?;
    if (c.from, c.to) != (size, latest)
        || !merkle::verify_consistency(size, latest, &root, &latest_root, &hashes(&c.proof, "consistency.json")?)
    {
        return Err(format!("consistency.json: does not prove the checkpoint of {size} entries is a prefix of the latest of {latest}"));
    }
    let list: Entries = json(files, "entries.json")?;
    if list.checkpoint_size != size {
        return Err(format!("entries.json: proofs against {} entries, the checkpoint signs {size}", list.checkpoint_size));
    }
    let mut out = BTreeMap::new();
    for e in &list.entries {
        let v: Value = serde_json::from_str(&e.entry).map_err(|_| format!("entry {}: not JSON", e.index))?;
        if crate::ledger::canonical_json(&v) != e.entry || v["index"].as_u64() != Some(e.index) {
            return Err(format!("entry {}: not the canonical bytes of an entry carrying that index (edited)", e.index));
        }
        let leaf = merkle::leaf_hash(e.entry.as_bytes());
        if !merkle::verify_inclusion(e.index, size, &leaf, &hashes(&e.proof, "entries.json")?, &root) {
            return Err(format!(
                "entry {} ({}): its inclusion proof does not lead to the signed checkpoint's root (changed, swapped or not in the ledger)",
                e.index, v["kind"]
            ));
        }
        out.insert(e.index, v);
    }
    Ok((out, size, latest))
}

/// The snapshot content, once its hash is the one the day's included snapshot entry holds.
fn snapshot_document(files: &Files, manifest: &Manifest, entries: &BTreeMap<u64, Value>) -> Result<Document, String> {
    let cards: Scorecards = json(files, "scorecards.json")?;
    let entry = entries
        .get(&cards.snapshot_entry)
        .ok_or_else(|| format!("scorecards.json: names snapshot entry {} that entries.json does not prove", cards.snapshot_entry))?;
    let day = manifest.at.to_string();
    if entry["kind"] != snapshot::ENTRY_KIND || entry["payload"]["day"] != day.as_str() || cards.at != manifest.at {
        return Err(format!("entry {}: not the scorecard snapshot of {day}", cards.snapshot_entry));
    }
    let bytes = files.get("snapshot.json").ok_or("snapshot.json: missing")?;
    if entry["payload"]["sha256"] != sha256_hex(bytes).as_str() {
        return Err(format!("snapshot.json: its SHA-256 is not the one snapshot entry {} holds", cards.snapshot_entry));
    }
    json(files, "snapshot.json")
}

/// Every score of the bundle's teams, recomputed from the snapshot's counts, equals the file's.
fn scorecards_match(files: &Files, manifest: &Manifest, doc: &Document) -> Result<usize, String> {
    let cards: Scorecards = json(files, "scorecards.json")?;
    let want = super::scorecards(doc, manifest.teams.as_deref(), cards.snapshot_entry);
    if cards.policies != want.policies {
        return Err("scorecards.json: the policies in force are not the snapshot's".into());
    }
    let shown: BTreeMap<(&str, &str), &super::PolicyCard> =
        cards.teams.iter().flat_map(|t| t.policies.iter().map(move |p| ((t.team.as_str(), p.policy.as_str()), p))).collect();
    for team in &want.teams {
        for p in &team.policies {
            let got = shown
                .get(&(team.team.as_str(), p.policy.as_str()))
                .ok_or_else(|| format!("scorecards.json: team {:?}, policy {}: missing", team.team, p.policy))?;
            if **got != *p {
                return Err(format!(
                    "scorecards.json: team {:?}, policy {}: judged {}, failing {}, score {:?}; the snapshot entry's content gives \
                     judged {}, failing {}, score {:?}",
                    team.team, p.policy, got.judged, got.failing, got.score, p.judged, p.failing, p.score
                ));
            }
        }
        let got = cards.teams.iter().find(|t| t.team == team.team).map(|t| (t.score, t.grade.clone()));
        if got != Some((team.score, team.grade.clone())) {
            return Err(format!("scorecards.json: team {:?}: its score or grade is not the snapshot's", team.team));
        }
    }
    if shown.len() != want.teams.iter().map(|t| t.policies.len()).sum::<usize>() {
        return Err("scorecards.json: holds scores the snapshot entry's content does not".into());
    }
    Ok(shown.len())
}

fn failing_match(files: &Files, manifest: &Manifest, doc: &Document) -> Result<usize, String> {
    let got: Vec<snapshot::Failure> = json(files, "failing.json")?;
    let want = super::failing(doc, manifest.teams.as_deref());
    if got != want {
        return Err(format!(
            "failing.json: {} subjects; the snapshot entry's content holds {} (added, removed or changed)",
            got.len(),
            want.len()
        ));
    }
    Ok(got.len())
}

/// Each campaign, acknowledgement and exception points at an included entry recording the same
/// facts, and every included exception or acknowledgement entry is shown. Answers (campaigns, exceptions).
fn campaigns_match(files: &Files, entries: &BTreeMap<u64, Value>) -> Result<(usize, usize), String> {
    let campaigns: Vec<CampaignAt> = json(files, "campaigns.json")?;
    let mut shown: BTreeSet<u64> = BTreeSet::new();
    let mut exceptions = 0;
    for c in &campaigns {
        let subject = format!("campaign:{}", c.id);
        for i in &c.entries {
            let e = entries.get(i).ok_or_else(|| format!("campaigns.json: campaign {} names entry {i} that is not proven", c.id))?;
            if e["subject"] != subject.as_str() {
                return Err(format!("entry {i}: records {}, not campaign {}", e["subject"], c.id));
            }
            shown.insert(*i);
        }
        for it in &c.items {
            let subject = format!("campaign:{}/item:{}", c.id, it.id);
            if let Some(a) = &it.acknowledgement {
                let e = entry_of(entries, a.entry, &subject, "campaign.item.acknowledged")?;
                if e["payload"]["planned"].as_str() != a.planned.as_deref() || e["actor"] != a.by.as_str() {
                    return Err(format!("campaigns.json: item {}: the acknowledgement is not what entry {} records", it.id, a.entry));
                }
                shown.insert(a.entry);
            }
            if let Some(x) = &it.exception {
                exception_matches(entries, &subject, it.id, x)?;
                shown.insert(x.requested_entry);
                shown.extend(x.decided_entry);
                exceptions += 1;
            }
        }
    }
    if let Some((i, e)) = entries.iter().find(|(i, e)| e["kind"].as_str().is_some_and(|k| k.starts_with("campaign.")) && !shown.contains(i))
    {
        return Err(format!("entry {i} records {} of {} that campaigns.json does not show (removed)", e["kind"], e["subject"]));
    }
    Ok((campaigns.len(), exceptions))
}

fn entry_of<'a>(entries: &'a BTreeMap<u64, Value>, i: u64, subject: &str, kind: &str) -> Result<&'a Value, String> {
    let e = entries.get(&i).ok_or_else(|| format!("campaigns.json: {subject} names entry {i} that is not proven"))?;
    if e["subject"] != subject || e["kind"] != kind {
        return Err(format!("entry {i}: records {} of {}, not {kind} of {subject}", e["kind"], e["subject"]));
    }
    Ok(e)
}

fn exception_matches(entries: &BTreeMap<u64, Value>, subject: &str, item: i64, x: &super::Exception) -> Result<(), String> {
    let asked = entry_of(entries, x.requested_entry, subject, "campaign.item.exception_requested")?;
    let p = &asked["payload"];
    if p["reason"] != x.reason.as_str() || p["until"].as_str() != x.until.as_deref() || asked["actor"] != x.requested_by.as_str() {
        return Err(format!("campaigns.json: item {item}: the exception request is not what entry {} records", x.requested_entry));
    }
    let decision = match x.decided_entry {
        None => {
            return if x.state == "requested" {
                Ok(())
            } else {
                Err(format!("campaigns.json: item {item}: {} without its decision", x.state))
            }
        }
        Some(i) => {
            let kind = if x.state == "approved" { "campaign.item.exception_approved" } else { "campaign.item.exception_rejected" };
            entry_of(entries, i, subject, kind)?
        }
    };
    if decision["payload"]["request_id"] != p["request_id"] || decision["actor"].as_str() != x.decided_by.as_deref() {
        return Err(format!("campaigns.json: item {item}: the decision is not what entry {:?} records", x.decided_entry));
    }
    Ok(())
}
