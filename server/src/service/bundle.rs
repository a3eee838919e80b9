//! Evidence bundles (auditor, security, admin): the compliance state at the end of a day, from
//! that day's recorded snapshot and the ledger entries recording what was in force, each proven
//! against a signed checkpoint; every export is itself a ledger entry.

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::bundle::{self, Consistency, Entries, Manifest, ProvenEntry};
use crate::domain::snapshot::{self, Document};
use crate::store::capabilities::*;
use crate::store::{Actor, StoredEntry};
use chrono::{DateTime, NaiveDate, Utc};

/// At most this many teams in one export.
pub const MAX_TEAMS: usize = 100;

/// The entries an export picks by what they record (besides the day's snapshot entry).
const KINDS: [&str; 7] = [
    "policy.updated",
    "campaign.created",
    "campaign.deadline_changed",
    "campaign.item.acknowledged",
    "campaign.item.exception_requested",
    "campaign.item.exception_approved",
    "campaign.item.exception_rejected",
];

/// A bundle made: its bytes and the SHA-256 of its manifest.
pub struct Bundle {
    pub bytes: Vec<u8>,
    pub manifest_sha256: String,
}

impl Service {
    /// The evidence bundle of the end of day `at` for `teams` (none: every team).
    #[tracing::instrument(skip(self, who))]
    pub async fn evidence_bundle(&self, who: Option<&Principal>, at: NaiveDate, teams: Option<Vec<String>>) -> Result<Bundle> {
        let p = require(who, Action::ExportEvidence, None)?;
        let key = self.ledger_key.as_ref().map_err(|e| Error::unavailable(format!("the ledger cannot sign: {e}")))?.clone();
        let now = self.clock.now();
        if at > now.date_naive() {
            return Err(Error::invalid("at", format!("{at} has not ended yet")));
        }
        let teams = self.export_teams(teams).await?;
        let (doc_text, doc, snapshot_entry) = self.recorded_snapshot(at).await?;
        let end =
            at.succ_opt().and_then(|d| d.and_hms_opt(0, 0, 0)).map(|t| t.and_utc()).ok_or_else(|| Error::invalid("at", "out of range"))?;
        let recorded = self.store.ledger_entries_of_kinds(&KINDS, end).await?;
        let campaigns = self.store.campaigns(i64::MAX, 0).await?.0;
        let ids: Vec<i64> = campaigns.iter().filter(|c| c.created_at < end).map(|c| c.id).collect();
        let items = self.store.campaign_items(&ids, None).await?;
        let campaigns = bundle::campaigns_at(&campaigns, &items, &recorded, teams.as_deref(), end);
        let mut chosen = bundle::entries_used(&campaigns);
        chosen.push(snapshot_entry);
        chosen.extend(last_policy_changes(&recorded));
        chosen.sort();
        chosen.dedup();
        let proven = self.prove(&key, &chosen, now).await?;
        let cards = bundle::scorecards(&doc, teams.as_deref(), snapshot_entry);
        let failing = bundle::failing(&doc, teams.as_deref());
        let manifest = Manifest {
            format: bundle::FORMAT.into(),
            at,
            teams: teams.clone(),
            generated_at: crate::domain::entry::entry_time(&now),
            generated_by: p.actor.clone(),
            verifier_key: key.verifier_key(),
            files: vec![],
        };
        let report = bundle::report_html(&manifest, &cards, &failing, &campaigns);
        let mut files = vec![
            ("snapshot.json".to_string(), doc_text.into_bytes()),
            ("scorecards.json".into(), pretty(&cards)),
            ("failing.json".into(), pretty(&failing)),
            ("campaigns.json".into(), pretty(&campaigns)),
        ];
        files.extend(proven);
        files.push(("REPORT.html".into(), report.into_bytes()));
        let (bytes, manifest_sha256) = bundle::pack(files, manifest, &key).map_err(|e| {
            tracing::error!(error = %e, "packing an evidence bundle");
            Error::Internal
        })?;
        let payload = serde_json::json!({"at": at, "teams": teams, "manifest_sha256": manifest_sha256, "entries": chosen.len()});
        self.store.record_evidence_export(payload, &Actor(p.actor.clone()), now).await?;
        Ok(Bundle { bytes, manifest_sha256 })
    }

    /// The evidence page: the last 90 days with recorded snapshot content, the teams, the key, the last 20 exports.
    pub async fn evidence_page(&self, who: Option<&Principal>) -> Result<app::types::EvidencePage> {
        require(who, Action::ExportEvidence, None)?;
        let exports = self
            .store
            .latest_entries_of_kind("evidence.exported", 20)
            .await?
            .into_iter()
            .map(|e| {
                let p: serde_json::Value = serde_json::from_str(&e.payload).unwrap_or_default();
                let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
                app::types::EvidenceExport {
                    at: text("at"),
                    teams: p["teams"]
                        .as_array()
                        .map(|t| t.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                        .unwrap_or_default(),
                    by: e.actor,
                    when: e.time,
                    manifest_sha256: text("manifest_sha256"),
                }
            })
            .collect();
        Ok(app::types::EvidencePage {
            days: self.store.snapshot_content_days(90).await?,
            teams: self.store.team_names().await?,
            verifier_key: self.ledger_key.as_ref().ok().map(|k| k.verifier_key()),
            exports,
        })
    }

    /// The teams asked for, each existing (none asked: every team).
    async fn export_teams(&self, teams: Option<Vec<String>>) -> Result<Option<Vec<String>>> {
        let Some(mut teams) = teams.filter(|t| !t.is_empty()) else { return Ok(None) };
        if teams.len() > MAX_TEAMS {
            return Err(Error::invalid("team", format!("at most {MAX_TEAMS} teams, not {}", teams.len())));
        }
        teams.sort();
        teams.dedup();
        for t in &teams {
            crate::domain::TeamName::parse(t).map_err(|m| Error::invalid("team", m))?;
            if !self.store.team_exists(t).await? {
                return Err(Error::NotFound(format!("no team {t:?}")));
            }
        }
        Ok(Some(teams))
    }

    /// Day `at`'s recorded snapshot content, parsed, and the latest ledger entry holding its hash.
    async fn recorded_snapshot(&self, at: NaiveDate) -> Result<(String, Document, u64)> {
        let (sha256, text) = self
            .store
            .scorecard_document(at)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no scorecard snapshot content was recorded for {at}")))?;
        let entries = self.store.ledger_entries_of_subject(&snapshot::entry_subject(at)).await?;
        let entry = entries
            .iter()
            .rev()
            .find(|e| e.kind == snapshot::ENTRY_KIND && payload_sha256(e).as_deref() == Some(sha256.as_str()))
            .and_then(|e| e.index);
        let (Some(index), true) = (entry, snapshot::sha256_hex(text.as_bytes()) == sha256) else {
            tracing::error!(day = %at, "THE STORED SNAPSHOT CONTENT DOES NOT MATCH ITS LEDGER ENTRY: run drydock ledger verify");
            return Err(Error::Internal);
        };
        let doc: Document = serde_json::from_str(&text).map_err(|e| {
            tracing::error!(day = %at, error = %e, "the stored snapshot content does not read");
            Error::Internal
        })?;
        Ok((text, doc, index as u64))
    }

    /// entries.json (each of `chosen` with its proof against the first signed checkpoint holding
    /// them all), that checkpoint, the latest (signed now if needed) and the consistency proof.
    async fn prove(&self, key: &crate::ledger::LedgerKey, chosen: &[u64], now: DateTime<Utc>) -> Result<Vec<(String, Vec<u8>)>> {
        let (latest, latest_note, _) = crate::ledger::current_checkpoint(&self.store, key, now).await?;
        let need = chosen.last().map_or(1, |i| *i as i64 + 1);
        let (size, note) = self
            .store
            .ledger_checkpoints()
            .await?
            .into_iter()
            .find(|(s, _)| *s >= need && *s <= latest)
            .unwrap_or((latest, latest_note.clone()));
        let rows = self.store.ledger_entries_at(chosen).await?;
        if rows.len() != chosen.len() {
            tracing::error!("ledger entries named by the estate are missing from the ledger: run drydock ledger verify");
            return Err(Error::Internal);
        }
        let proofs = crate::ledger::inclusion_proofs(&self.store, chosen, size).await?;
        let mut entries = Vec::with_capacity(chosen.len());
        for ((index, entry), proof) in rows.into_iter().zip(proofs) {
            entries.push(ProvenEntry { index, entry, proof: proof.iter().map(hex::encode).collect() });
        }
        let consistency = crate::ledger::consistency_proof(&self.store, size, latest).await?;
        let consistency = Consistency { from: size as u64, to: latest as u64, proof: consistency.iter().map(hex::encode).collect() };
        Ok(vec![
            ("entries.json".into(), pretty(&Entries { checkpoint_size: size as u64, entries })),
            ("checkpoint.txt".into(), note.into_bytes()),
            ("latest-checkpoint.txt".into(), latest_note.into_bytes()),
            ("consistency.json".into(), pretty(&consistency)),
        ])
    }
}

fn payload_sha256(e: &StoredEntry) -> Option<String> {
    serde_json::from_str::<serde_json::Value>(&e.payload).ok()?["sha256"].as_str().map(str::to_string)
}

/// The last `policy.updated` entry of each policy among `recorded` (what was in force).
fn last_policy_changes(recorded: &[StoredEntry]) -> Vec<u64> {
    let mut last: std::collections::BTreeMap<&str, u64> = Default::default();
    for e in recorded.iter().filter(|e| e.kind == "policy.updated") {
        if let Some(i) = e.index {
            last.insert(e.subject.as_str(), i as u64);
        }
    }
    last.into_values().collect()
}

fn pretty<T: serde::Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("bundle files are JSON")
}
