//! The audit ledger as readers see it: the signed checkpoint, entries, proofs, the page.

use super::{require, Error, Result, Service};
use crate::auth::{Action, Principal};
use crate::ledger::merkle::Hash;
use crate::store::capabilities::*;
use crate::store::StoredEntry;
use app::types::LedgerStatus;
use std::sync::Arc;

/// At most this many entries a call.
pub const MAX_ENTRIES: i64 = 10_000;

impl Service {
    fn key(&self) -> Result<&Arc<crate::ledger::LedgerKey>> {
        self.ledger_key.as_ref().map_err(|e| Error::unavailable(format!("the ledger cannot sign checkpoints: {e}")))
    }

    /// The signed checkpoint covering every committed entry; a new one goes to the witness.
    #[tracing::instrument(skip_all)]
    pub async fn checkpoint(&self, who: Option<&Principal>) -> Result<String> {
        require(who, Action::ReadEstate, None)?;
        let (_, note, new) = crate::ledger::current_checkpoint(&self.store, self.key()?, self.clock.now()).await?;
        if new {
            crate::ledger::witness_in_background(self.ledger_witness.as_deref(), &note);
        }
        Ok(note)
    }

    /// Entries `start..end` (`end` defaults to the log's size, at most `MAX_ENTRIES` a call).
    #[tracing::instrument(skip(self, who))]
    pub async fn ledger_entries(&self, who: Option<&Principal>, start: i64, end: Option<i64>) -> Result<Vec<StoredEntry>> {
        require(who, Action::ReadLedgerEntries, None)?;
        let size = self.store.ledger_size().await?;
        let end = end.unwrap_or(size).min(size);
        if end < start {
            return Err(Error::invalid("end", format!("({end}) is before start ({start})")));
        }
        if end - start > MAX_ENTRIES {
            return Err(Error::invalid("end", "at most 10,000 entries a call: narrow start..end"));
        }
        Ok(self.store.ledger_rows(start, end).await?)
    }

    /// The inclusion proof of entry `index` in the tree of `size` entries (default: all).
    #[tracing::instrument(skip(self, who))]
    pub async fn inclusion_proof(&self, who: Option<&Principal>, index: i64, size: Option<i64>) -> Result<(i64, Vec<Hash>)> {
        require(who, Action::ReadEstate, None)?;
        let head = self.store.ledger_size().await?;
        let size = size.unwrap_or(head);
        if size > head || index >= size {
            return Err(Error::invalid_input(format!("need index < size <= {head} (the log's size), got index {index}, size {size}")));
        }
        Ok((size, crate::ledger::inclusion_proof(&self.store, index, size).await?))
    }

    /// The consistency proof from the tree of `from` entries to that of `to` (default: all).
    #[tracing::instrument(skip(self, who))]
    pub async fn consistency_proof(&self, who: Option<&Principal>, from: i64, to: Option<i64>) -> Result<(i64, Vec<Hash>)> {
        require(who, Action::ReadEstate, None)?;
        let head = self.store.ledger_size().await?;
        let to = to.unwrap_or(head);
        if from < 1 || from > to || to > head {
            return Err(Error::invalid_input(format!("need 1 <= from <= to <= {head} (the log's size), got from {from}, to {to}")));
        }
        Ok((to, crate::ledger::consistency_proof(&self.store, from, to).await?))
    }

    /// The ledger page: checkpoint, size, the last scheduled verification, newest entries for
    /// estate-wide readers. No page view verifies.
    #[tracing::instrument(skip_all)]
    pub async fn ledger_status(&self, who: Option<&Principal>) -> Result<LedgerStatus> {
        let p = require(who, Action::ReadEstate, None)?;
        let (checkpoint, key) = match &self.ledger_key {
            Ok(k) => {
                let (_, note, new) = crate::ledger::current_checkpoint(&self.store, k, self.clock.now()).await?;
                if new {
                    crate::ledger::witness_in_background(self.ledger_witness.as_deref(), &note);
                }
                (Some(note), Some(k.clone()))
            }
            Err(_) => (None, None),
        };
        let last = self.store.last_verification().await?;
        let size = self.store.ledger_size().await?;
        let root = match &checkpoint {
            Some(note) => note
                .lines()
                .nth(2)
                .and_then(|l| base64::Engine::decode(&base64::engine::general_purpose::STANDARD, l).ok())
                .map(hex::encode)
                .unwrap_or_default(),
            None => last.as_ref().map(|l| l.root.clone()).unwrap_or_default(),
        };
        let entries_visible = p.can(Action::ReadLedgerEntries, None);
        Ok(LedgerStatus {
            size,
            root,
            checkpoint,
            verifier_key: key.map(|k| k.verifier_key()),
            verified_at: last.as_ref().map(|l| l.ran_at),
            verified_size: last.as_ref().map(|l| l.size).unwrap_or(0),
            checkpoints_checked: last.as_ref().map(|l| l.checkpoints_checked as usize).unwrap_or(0),
            problem: last.and_then(|l| l.problem),
            recent: if entries_visible { super::views::all(self.store.ledger_recent(50).await?) } else { vec![] },
            entries_visible,
        })
    }
}
