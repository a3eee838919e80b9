//! RFC 6962 Merkle tree hashing (§2.1), for any tree size: leaf = SHA-256(0x00 || entry),
//! node = SHA-256(0x01 || left || right), the tree split at the largest power of two smaller
//! than its size. Inclusion (§2.1.1) and consistency (§2.1.2) proofs, built and verified.
//! Pure functions over leaf hashes; the ledger keeps the leaf hashes.

use sha2::{Digest as _, Sha256};

pub type Hash = [u8; 32];

pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly smaller than `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]): the root of the tree over `leaves` (the empty tree hashes the empty string).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            // Bottom-up, level by level: O(n) hashes, no recursion depth issue for large trees.
            let _ = n;
            let mut level: Vec<Hash> = leaves.to_vec();
            // RFC 6962's split-at-power-of-two tree equals pairing left to right and carrying an
            // odd last node up unchanged.
            while level.len() > 1 {
                let mut next = Vec::with_capacity(level.len().div_ceil(2));
                for pair in level.chunks(2) {
                    next.push(if pair.len() == 2 { node_hash(&pair[0], &pair[1]) } else { pair[0] });
                }
                level = next;
            }
            level[0]
        }
    }
}

/// A tree grown a leaf at a time, keeping only its right edge: the roots of its perfect
/// subtrees, largest first (at most log2(n) hashes). `root` is MTH of the leaves pushed so far,
/// so the root at every checkpoint of a growing log costs O(log n), not a pass over the leaves.
#[derive(Debug, Clone, Default)]
pub struct Frontier {
    /// (height, hash) of each perfect subtree on the right edge, tallest first.
    edge: Vec<(u32, Hash)>,
    size: u64,
}

impl Frontier {
    pub fn push(&mut self, leaf: Hash) {
        let (mut height, mut hash) = (0, leaf);
        while let Some(&(h, left)) = self.edge.last() {
            if h != height {
                break;
            }
            self.edge.pop();
            hash = node_hash(&left, &hash);
            height += 1;
        }
        self.edge.push((height, hash));
        self.size += 1;
    }

    /// Leaves pushed so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// MTH of the leaves pushed so far: the edge folded from the right (RFC 6962's split at the
    /// largest power of two is exactly that).
    pub fn root(&self) -> Hash {
        match self.edge.split_last() {
            None => Sha256::digest([]).into(),
            Some((&(_, last), rest)) => rest.iter().rev().fold(last, |right, (_, left)| node_hash(left, &right)),
        }
    }
}

/// PATH(m, D[n]): the inclusion proof of leaf `m` in the tree over `leaves`.
pub fn inclusion_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return vec![];
    }
    let k = split(n);
    if m < k {
        let mut p = inclusion_proof(m, &leaves[..k]);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = inclusion_proof(m - k, &leaves[k..]);
        p.push(root(&leaves[..k]));
        p
    }
}

/// PROOF(m, D[n]): the consistency proof between the tree of the first `m` leaves and all of them.
pub fn consistency_proof(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    if m == 0 || m >= leaves.len() {
        return vec![];
    }
    subproof(m, leaves, true)
}

fn subproof(m: usize, leaves: &[Hash], b: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if b { vec![] } else { vec![root(leaves)] };
    }
    let k = split(n);
    if m <= k {
        let mut p = subproof(m, &leaves[..k], b);
        p.push(root(&leaves[k..]));
        p
    } else {
        let mut p = subproof(m - k, &leaves[k..], false);
        p.push(root(&leaves[..k]));
        p
    }
}

/// Where the hashes of perfect subtrees come from: the subtree of `2^level` leaves starting at leaf
/// `idx * 2^level` (level 0: the leaf itself). The ledger stores them as entries are appended, so
/// a root or proof needs O(log n) of them, never every leaf.
pub trait NodeSource {
    fn node(&mut self, level: u32, idx: u64) -> Hash;
}

/// Records which nodes a computation asks for (answering zeros): the first pass of a two-pass
/// read, so the store fetches them all in one query.
#[derive(Default)]
pub struct NodeRecorder(pub std::collections::BTreeSet<(u32, u64)>);

impl NodeSource for NodeRecorder {
    fn node(&mut self, level: u32, idx: u64) -> Hash {
        self.0.insert((level, idx));
        [0; 32]
    }
}

/// Nodes fetched beforehand (a missing one answers zeros, which no proof then verifies against).
pub struct NodeMap(pub std::collections::HashMap<(u32, u64), Hash>);

impl NodeSource for NodeMap {
    fn node(&mut self, level: u32, idx: u64) -> Hash {
        self.0.get(&(level, idx)).copied().unwrap_or([0; 32])
    }
}

/// MTH of the `size` leaves starting at `start` (a subtree of the RFC 6962 recursion, so its
/// power-of-two parts are aligned).
pub fn subtree_root<S: NodeSource>(s: &mut S, start: u64, size: u64) -> Hash {
    match size {
        0 => Sha256::digest([]).into(),
        n if n.is_power_of_two() && start.is_multiple_of(n) => s.node(n.trailing_zeros(), start / n),
        n => {
            let k = split(n as usize) as u64;
            let left = subtree_root(s, start, k);
            let right = subtree_root(s, start + k, n - k);
            node_hash(&left, &right)
        }
    }
}

/// PATH(m, D[start..start+n]) from stored nodes.
pub fn inclusion_proof_from<S: NodeSource>(s: &mut S, start: u64, m: u64, n: u64) -> Vec<Hash> {
    if n <= 1 {
        return vec![];
    }
    let k = split(n as usize) as u64;
    if m < k {
        let mut p = inclusion_proof_from(s, start, m, k);
        p.push(subtree_root(s, start + k, n - k));
        p
    } else {
        let mut p = inclusion_proof_from(s, start + k, m - k, n - k);
        p.push(subtree_root(s, start, k));
        p
    }
}

/// PROOF(m, D[n]) from stored nodes.
pub fn consistency_proof_from<S: NodeSource>(s: &mut S, m: u64, n: u64) -> Vec<Hash> {
    if m == 0 || m >= n {
        return vec![];
    }
    subproof_from(s, 0, m, n, true)
}

fn subproof_from<S: NodeSource>(s: &mut S, start: u64, m: u64, n: u64, b: bool) -> Vec<Hash> {
    if m == n {
        return if b { vec![] } else { vec![subtree_root(s, start, n)] };
    }
    let k = split(n as usize) as u64;
    if m <= k {
        let mut p = subproof_from(s, start, m, k, b);
        p.push(subtree_root(s, start + k, n - k));
        p
    } else {
        let mut p = subproof_from(s, start + k, m - k, n - k, false);
        p.push(subtree_root(s, start, k));
        p
    }
}

/// The perfect subtrees completed by appending leaf `index` (level ≥ 1, bottom up): for each,
/// (level, idx, the left sibling's node (level - 1, 2 idx)); the right one is the node just made.
pub fn completed_by(index: u64) -> Vec<(u32, u64)> {
    let mut out = Vec::new();
    let mut level = 1;
    while (index + 1).is_multiple_of(1u64 << level) {
        out.push((level, (index + 1) / (1u64 << level) - 1));
        level += 1;
    }
    out
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// Verifies a consistency proof between (size1, root1) and (size2, root2) (RFC 9162 §2.1.4.2).
pub fn verify_consistency(size1: u64, size2: u64, root1: &Hash, root2: &Hash, proof: &[Hash]) -> bool {
    if size1 > size2 {
        return false;
    }
    if size1 == size2 {
        return proof.is_empty() && root1 == root2;
    }
    if size1 == 0 {
        return proof.is_empty();
    }
    if proof.is_empty() {
        return false;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if size1.is_power_of_two() {
        path.insert(0, *root1);
    }
    let (mut f_n, mut s_n) = (size1 - 1, size2 - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (path[0], path[0]);
    for c in &path[1..] {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    fr == *root1 && sr == *root2 && s_n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frontier_has_the_rfc_root_at_every_size() {
        let leaves: Vec<Hash> = (0..70u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut f = Frontier::default();
        assert_eq!(f.root(), mth(&[]));
        for (n, leaf) in leaves.iter().enumerate() {
            f.push(*leaf);
            assert_eq!(f.size(), n as u64 + 1);
            assert_eq!(f.root(), mth(&leaves[..=n]), "size {}", n + 1);
        }
    }

    /// The RFC's recursive definition, written out, to check the bottom-up `root` against.
    fn mth(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => Sha256::digest([]).into(),
            1 => leaves[0],
            n => {
                let k = split(n);
                node_hash(&mth(&leaves[..k]), &mth(&leaves[k..]))
            }
        }
    }

    #[test]
    fn bottom_up_root_equals_the_recursive_definition_and_proofs_verify_up_to_70_leaves() {
        let leaves: Vec<Hash> = (0..70u32).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        for n in 0..=leaves.len() {
            let r = root(&leaves[..n]);
            assert_eq!(r, mth(&leaves[..n]), "size {n}");
            for m in 0..n {
                let p = inclusion_proof(m, &leaves[..n]);
                assert!(verify_inclusion(m as u64, n as u64, &leaves[m], &p, &r), "inclusion {m} in {n}");
                assert!(!verify_inclusion(m as u64, n as u64, &leaf_hash(b"other"), &p, &r));
            }
            for m in 1..=n {
                let p = consistency_proof(m, &leaves[..n]);
                assert!(verify_consistency(m as u64, n as u64, &root(&leaves[..m]), &r, &p), "consistency {m} → {n}");
                if m < n {
                    assert!(!verify_consistency(m as u64, n as u64, &leaf_hash(b"x"), &r, &p));
                }
            }
        }
    }

    #[test]
    fn stored_nodes_give_the_same_roots_and_proofs_as_the_leaves() {
        use std::collections::HashMap;
        for n in 1u64..=70 {
            let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(format!("entry {i}").as_bytes())).collect();
            // The nodes as the ledger stores them while appending.
            let mut nodes: HashMap<(u32, u64), Hash> = HashMap::new();
            for (i, l) in leaves.iter().enumerate() {
                nodes.insert((0, i as u64), *l);
                for (level, idx) in completed_by(i as u64) {
                    let h = node_hash(&nodes[&(level - 1, 2 * idx)], &nodes[&(level - 1, 2 * idx + 1)]);
                    nodes.insert((level, idx), h);
                }
            }
            let mut src = NodeMap(nodes);
            assert_eq!(subtree_root(&mut src, 0, n), root(&leaves), "root of {n}");
            for m in 0..n {
                assert_eq!(inclusion_proof_from(&mut src, 0, m, n), inclusion_proof(m as usize, &leaves), "inclusion {m} of {n}");
                let mut rec = NodeRecorder::default();
                inclusion_proof_from(&mut rec, 0, m, n);
                assert!(rec.0.len() <= 2 * 64, "O(log n) nodes");
            }
            for m in 1..=n {
                assert_eq!(consistency_proof_from(&mut src, m, n), consistency_proof(m as usize, &leaves), "consistency {m} -> {n}");
            }
        }
    }
}
