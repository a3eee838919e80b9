//! The ledger as stored: roots, proofs and signed checkpoints read from the stored subtree hashes
//! (O(log n) of them), never from every leaf.

use super::{merkle, LedgerKey};
use crate::store::capabilities::*;

/// Runs a tree computation over stored nodes: a first pass records which nodes it needs, one read
/// fetches them (O(log n) of them), a second pass computes. Should a node be missing (a ledger
/// whose nodes are not built yet), the leaves are read instead: slower, never wrong.
async fn with_nodes<T>(
    store: &impl LedgerLog,
    size: i64,
    f: impl Fn(&mut dyn FnMut(u32, u64) -> merkle::Hash) -> T,
) -> Result<T, crate::store::StoreError> {
    use merkle::NodeSource as _;
    let mut rec = merkle::NodeRecorder::default();
    f(&mut |l, i| rec.node(l, i));
    let fetched = store.ledger_nodes(&rec.0).await?;
    if rec.0.iter().all(|k| fetched.contains_key(k)) {
        let mut map = merkle::NodeMap(fetched);
        return Ok(f(&mut |l, i| map.node(l, i)));
    }
    tracing::warn!("ledger nodes missing: computing from every leaf");
    let leaves = store.ledger_leaves(size).await?;
    let mut all = std::collections::HashMap::new();
    for (i, l) in leaves.iter().enumerate() {
        all.insert((0, i as u64), *l);
        for (level, idx) in merkle::completed_by(i as u64) {
            let h = merkle::node_hash(&all[&(level - 1, 2 * idx)], &all[&(level - 1, 2 * idx + 1)]);
            all.insert((level, idx), h);
        }
    }
    let mut map = merkle::NodeMap(all);
    Ok(f(&mut |l, i| map.node(l, i)))
}

/// A closure as a `NodeSource`.
struct FnSource<'a>(&'a mut dyn FnMut(u32, u64) -> merkle::Hash);

impl merkle::NodeSource for FnSource<'_> {
    fn node(&mut self, level: u32, idx: u64) -> merkle::Hash {
        (self.0)(level, idx)
    }
}

/// The root of the first `size` entries, from O(log n) stored nodes.
pub async fn tree_root(store: &impl LedgerLog, size: i64) -> Result<merkle::Hash, crate::store::StoreError> {
    with_nodes(store, size, |g| merkle::subtree_root(&mut FnSource(g), 0, size as u64)).await
}

/// The inclusion proof of entry `index` in the tree of `size` entries, from stored nodes.
pub async fn inclusion_proof(store: &impl LedgerLog, index: i64, size: i64) -> Result<Vec<merkle::Hash>, crate::store::StoreError> {
    with_nodes(store, size, |g| merkle::inclusion_proof_from(&mut FnSource(g), 0, index as u64, size as u64)).await
}

/// The inclusion proofs of entries `indexes` in the tree of `size` entries, from one read of
/// the stored nodes they all need.
pub async fn inclusion_proofs(
    store: &impl LedgerLog,
    indexes: &[u64],
    size: i64,
) -> Result<Vec<Vec<merkle::Hash>>, crate::store::StoreError> {
    with_nodes(store, size, |g| indexes.iter().map(|i| merkle::inclusion_proof_from(&mut FnSource(&mut *g), 0, *i, size as u64)).collect())
        .await
}

/// The consistency proof from the tree of `from` entries to that of `to`, from stored nodes.
pub async fn consistency_proof(store: &impl LedgerLog, from: i64, to: i64) -> Result<Vec<merkle::Hash>, crate::store::StoreError> {
    with_nodes(store, to, |g| merkle::consistency_proof_from(&mut FnSource(g), from as u64, to as u64)).await
}

/// The signed checkpoint covering every entry committed before the call: the kept one of the
/// current size, else a new one signed over the root from O(log n) stored nodes and kept.
/// Answers (size, note, whether it is new: a new one is for the witness).
pub async fn current_checkpoint(
    store: &impl LedgerLog,
    key: &LedgerKey,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(i64, String, bool), crate::store::StoreError> {
    let size = store.ledger_size().await?;
    if let Some(note) = store.ledger_checkpoint_at(size).await? {
        return Ok((size, note, false));
    }
    let root = tree_root(store, size).await?;
    let note = key.sign_checkpoint(size as u64, &root);
    store.store_checkpoint(size, &hex::encode(root), &note, now).await?;
    // Another request may have stored this size first: serve what is kept.
    let kept = store.ledger_checkpoint_at(size).await?.unwrap_or(note);
    Ok((size, kept, true))
}
