//! The admission webhook: settings (security), and each AdmissionReview judged from stored facts
//! only — a few indexed reads, no registry call, no scan, no evaluation; decisions kept per data
//! version and minute (`admission/cache.rs`). Decisions are counted in
//! memory and written to the ledger in batches (`flush_admission_decisions`), never one entry a
//! request; a dry run counts nothing.

use super::{require, Error, Result, Service};
use crate::admission::cache::{Context, Key};
use crate::admission::{containers, parse_review, response, Container, Decision, Judge, Lookup};
use crate::auth::{Action, Principal};
use crate::domain::admission::{merged, mode_for};
use crate::store::capabilities::*;
use crate::store::{Actor, DecisionCount};
use app::types::AdmissionSettings;
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// (namespace, image, decision) → how many times.
type Counts = BTreeMap<(String, String, String), i64>;

/// Decisions counted since the last batch was written, and since when.
#[derive(Debug, Default)]
pub struct DecisionTally {
    inner: Mutex<(Option<DateTime<Utc>>, Counts)>,
}

impl DecisionTally {
    fn count(&self, namespace: &str, images: &[String], decision: &str, now: DateTime<Utc>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        g.0.get_or_insert(now);
        for image in images {
            *g.1.entry((namespace.to_string(), image.clone(), decision.to_string())).or_default() += 1;
        }
    }
    fn take(&self) -> Option<(DateTime<Utc>, Vec<DecisionCount>)> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let since = g.0.take()?;
        let counts = std::mem::take(&mut g.1)
            .into_iter()
            .map(|((namespace, image, decision), count)| DecisionCount { namespace, image, decision, count })
            .collect();
        Some((since, counts))
    }
}

impl Service {
    /// The saved settings (or the defaults) with their version, the API's `ETag`.
    pub async fn admission_settings(&self, who: Option<&Principal>) -> Result<(AdmissionSettings, String)> {
        require(who, Action::ReadEstate, None)?;
        self.versioned_admission_settings().await
    }

    async fn stored_admission_settings(&self) -> Result<AdmissionSettings> {
        Ok(self.versioned_admission_settings().await?.0)
    }

    /// The settings as stored, with their `document_version`.
    async fn versioned_admission_settings(&self) -> Result<(AdmissionSettings, String)> {
        let stored = self.store.admission_settings().await?;
        let version = crate::store::document_version(stored.as_deref());
        let settings = match stored {
            None => AdmissionSettings::default(),
            Some(s) => serde_json::from_str(&s).map_err(|e| {
                tracing::error!(error = %e, "the stored admission settings do not read");
                Error::Internal
            })?,
        };
        Ok((settings, version))
    }

    /// The Admission page: the settings, the policies that may be enforced, whether the viewer may edit.
    pub async fn admission_page(&self, who: Option<&Principal>) -> Result<app::types::AdmissionPage> {
        let p = require(who, Action::ReadEstate, None)?;
        let policies = crate::domain::admission::enforceable().into_iter().map(|(id, t)| (id.to_string(), t.to_string())).collect();
        // The versions are the stored texts' hashes, as the store checks them when a form comes back.
        let stored = self.store.vendor_register().await?;
        let vendor = crate::policy::read_vendor_register(stored.as_deref()).entries().to_vec();
        let (settings, settings_version) = self.versioned_admission_settings().await?;
        Ok(app::types::AdmissionPage {
            settings,
            settings_version,
            policies,
            may_edit: p.can(Action::ManagePolicies, None),
            vendor_version: crate::store::document_version(stored.as_deref()),
            vendor,
        })
    }

    /// Replaces the keys `patch` sends (security); answers the settings now in force with their
    /// version. With `seen` (the version the editor was shown: the page's form, an API `If-Match`),
    /// settings changed since are a conflict. Without it the patch applies over the settings
    /// current when it is written: a change landing between the read and the write (the store
    /// refuses the write) is read again, so two patches of different keys both hold.
    #[tracing::instrument(skip(self, who, patch))]
    pub async fn put_admission_settings(
        &self,
        who: Option<&Principal>,
        patch: &Value,
        seen: Option<&str>,
    ) -> Result<(AdmissionSettings, String)> {
        let p = require(who, Action::ManagePolicies, None)?;
        for _ in 0..5 {
            let (current, version) = self.versioned_admission_settings().await?;
            // What is wrong with the patch is told before whether it is stale.
            let next = merged(&current, patch)?;
            if seen.is_some_and(|seen| seen != version) {
                return Err(Error::Conflict(
                    "the admission settings changed since you loaded them: load them again and redo your change".into(),
                ));
            }
            let text = serde_json::to_string(&next).map_err(|_| Error::Internal)?;
            match self.store.put_admission_settings(&text, Some(&version), &Actor(p.actor.clone()), self.clock.now()).await {
                Ok(()) => return Ok((next, crate::store::document_version(Some(&text)))),
                Err(crate::store::StoreError::Refused(Error::Conflict(_))) if seen.is_none() => continue,
                Err(e) => return Err(e.into()),
            }
        }
        Err(Error::Conflict("the admission settings kept changing while this change was written: send it again".into()))
    }

    /// Answers one AdmissionReview (`cluster`: the webhook's `?cluster=`, for environment rules)
    /// against the estate at data `version` (read with the caller's token, in the same statement).
    /// No read when the estate has not changed since the same Pod was last asked; otherwise the
    /// context (once per data version) and the images' facts.
    #[tracing::instrument(skip_all)]
    pub async fn admission_review(&self, who: Option<&Principal>, version: i64, body: &Value, cluster: Option<&str>) -> Result<Value> {
        require(who, Action::ReviewAdmission, None)?;
        let req = parse_review(body).map_err(Error::invalid_input)?;
        let Some(list) = containers(&req.kind, &req.object) else {
            let words = format!("Drydock judges Pods and pod templates; this {} was allowed without a look", req.kind);
            let d = crate::admission::Decision { warnings: vec![words], denials: vec![] };
            return Ok(response(&req.uid, &d));
        };
        let now = self.clock.now();
        let minute = now.timestamp().div_euclid(60);
        let key = Key::new(&req.namespace, cluster, &list);
        let d = match self.admission_cache.decision(version, minute, &key) {
            Some(d) => d,
            None => {
                let d = self.admission_decision(version, &req.namespace, cluster, &list, now).await?;
                self.admission_cache.keep(version, minute, key, &d);
                d
            }
        };
        if !req.dry_run {
            let mut images: Vec<String> = list.iter().map(|c| c.image.clone()).collect();
            images.sort();
            images.dedup();
            self.admission_tally.count(&req.namespace, &images, d.outcome(), now);
        }
        Ok(response(&req.uid, &d))
    }

    /// The settings, environment rules and vendor register in force at data `version`, read at
    /// once (three connections) and kept for that version.
    async fn load_admission_context(&self, version: i64) -> Result<Arc<Context>> {
        let settings = self.stored_admission_settings();
        let rules = async { Ok::<_, Error>(self.store.environment_rules().await?) };
        let vendor = async { Ok::<_, Error>(crate::policy::vendor_register(&self.store).await?) };
        let (settings, rules, vendor) = tokio::try_join!(settings, rules, vendor)?;
        let context = Arc::new(Context { settings, rules, vendor });
        self.admission_cache.keep_context(version, context.clone());
        Ok(context)
    }

    /// Judges `list` in `namespace` from the stored facts of its images.
    async fn admission_decision(
        &self,
        version: i64,
        namespace: &str,
        cluster: Option<&str>,
        list: &[Container],
        now: DateTime<Utc>,
    ) -> Result<Decision> {
        // Only the containers judged are looked up (a statement of at most that many tags), each image once.
        let lookups: Vec<Lookup> = list.iter().take(crate::admission::MAX_CONTAINERS).filter_map(|c| Lookup::of(&c.image)).collect();
        let mut digests: Vec<String> =
            lookups.iter().filter_map(|l| if let Lookup::Digest(d) = l { Some(d.clone()) } else { None }).collect();
        let mut tags: Vec<(String, String, String)> =
            lookups.into_iter().filter_map(|l| if let Lookup::Tag(r, n, t) = l { Some((r, n, t)) } else { None }).collect();
        digests.sort();
        digests.dedup();
        tags.sort();
        tags.dedup();
        let facts = async { Ok::<_, Error>(self.store.admission_facts(&digests, &tags).await?) };
        // The context is read again after each change of the data (an upload too): then its reads
        // and the facts' go at once, one round trip instead of two (the facts are wasted only
        // where the mode is off).
        let (ctx, facts) = match self.admission_cache.context(version) {
            Some(ctx) => (ctx, None),
            None => {
                let (ctx, facts) = tokio::try_join!(self.load_admission_context(version), facts)?;
                (ctx, Some(facts))
            }
        };
        let environment = cluster.and_then(|c| crate::policy::environment_of(&ctx.rules, c, namespace)).map(|r| r.environment.as_str());
        let mode = mode_for(&ctx.settings, namespace, environment);
        if mode == app::types::AdmissionMode::Off {
            return Ok(Decision::default());
        }
        let facts = match facts {
            Some(f) => f,
            None => self.store.admission_facts(&digests, &tags).await?,
        };
        let judge = Judge { settings: &ctx.settings, mode, now, vendor: &ctx.vendor, namespace, environment };
        Ok(judge.decide(list, &facts))
    }

    /// Writes the decisions counted since the last batch as one ledger entry; answers how many
    /// (namespace, image, decision) rows it held.
    pub async fn flush_admission_decisions(&self) -> Result<usize> {
        let Some((since, counts)) = self.admission_tally.take() else { return Ok(0) };
        let now = self.clock.now();
        if let Err(e) = self.store.record_admission_decisions(&counts, since, now, &Actor("admission".into()), now).await {
            // Put them back: the next batch carries them.
            for c in &counts {
                let mut g = self.admission_tally.inner.lock().unwrap_or_else(|p| p.into_inner());
                g.0 = Some(g.0.map_or(since, |s| s.min(since)));
                *g.1.entry((c.namespace.clone(), c.image.clone(), c.decision.clone())).or_default() += c.count;
            }
            return Err(e.into());
        }
        Ok(counts.len())
    }
}
