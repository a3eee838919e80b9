//! The audit ledger: every audit event is an entry of an append-only RFC 6962 Merkle log.
//! Entry bytes are the canonical JSON (RFC 8785) of `{index, time, actor, kind, subject,
//! payload}`; the entry is written in the same transaction as the change it records. Signed
//! checkpoints (C2SP signed-note format, Ed25519) commit to the log's size and root.

pub use crate::domain::entry::{canonical_json, entry_bytes, entry_time, mentioned_digests};
pub use crate::domain::merkle;
use crate::store::capabilities::*;
pub mod remote;
mod stored;
mod witness;

pub use stored::{consistency_proof, current_checkpoint, inclusion_proof, inclusion_proofs, tree_root};
pub use witness::{push_to_witness, push_with_retries, witness_in_background, WITNESS_ATTEMPTS, WITNESS_TIMEOUT};

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use serde_json::Value;
use sha2::Digest as _;
use std::path::{Path, PathBuf};

/// The checkpoint's origin line (C2SP: names the log).
pub const ORIGIN: &str = "drydock.audit.ledger/v1";

/// The checkpoint body: origin, size, base64 root, each on its own line.
pub fn checkpoint_body(size: u64, root: &merkle::Hash) -> String {
    format!("{ORIGIN}\n{size}\n{}\n", base64::engine::general_purpose::STANDARD.encode(root))
}

/// C2SP key ID: the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).
fn key_id(name: &str, key: &VerifyingKey) -> [u8; 4] {
    let mut h = sha2::Sha256::new();
    h.update(name.as_bytes());
    h.update([b'\n', 0x01]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

/// The ledger's signing key.
pub struct LedgerKey {
    key: SigningKey,
}

impl LedgerKey {
    /// Reads a PKCS#8 PEM Ed25519 private key (what `openssl genpkey -algorithm ed25519` writes).
    pub fn load(path: &Path) -> anyhow::Result<LedgerKey> {
        let pem = std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("ledger key {}: {e}", path.display()))?;
        let key = SigningKey::from_pkcs8_pem(&pem)
            .map_err(|e| anyhow::anyhow!("ledger key {}: not a PKCS#8 Ed25519 key: {e}", path.display()))?;
        Ok(LedgerKey { key })
    }

    /// Writes a new key (PKCS#8 PEM, mode 0600); refuses to overwrite.
    pub fn generate(path: &Path) -> anyhow::Result<LedgerKey> {
        anyhow::ensure!(!path.exists(), "{} exists already; refusing to overwrite a ledger key", path.display());
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let pem = key.to_pkcs8_pem(Default::default()).map_err(|e| anyhow::anyhow!("{e}"))?;
        use std::io::Write as _;
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
        opts.open(path)?.write_all(pem.as_bytes())?;
        Ok(LedgerKey { key })
    }

    pub fn public(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key in the C2SP verifier-key form: `<name>+<hex key id>+<base64(0x01 || key)>`.
    pub fn verifier_key(&self) -> String {
        let vk = self.public();
        let mut raw = vec![0x01];
        raw.extend_from_slice(vk.as_bytes());
        format!("{ORIGIN}+{}+{}", hex::encode(key_id(ORIGIN, &vk)), base64::engine::general_purpose::STANDARD.encode(raw))
    }

    /// An Ed25519 signature over `bytes` (an evidence bundle's manifest).
    pub fn sign(&self, bytes: &[u8]) -> [u8; 64] {
        self.key.sign(bytes).to_bytes()
    }

    /// A signed note: the body, a blank line, and `— <name> <base64(key id || signature)>`.
    pub fn sign_checkpoint(&self, size: u64, root: &merkle::Hash) -> String {
        let body = checkpoint_body(size, root);
        let sig = self.key.sign(body.as_bytes());
        let mut blob = key_id(ORIGIN, &self.public()).to_vec();
        blob.extend_from_slice(&sig.to_bytes());
        format!("{body}\n\u{2014} {ORIGIN} {}\n", base64::engine::general_purpose::STANDARD.encode(blob))
    }
}

/// Parses the verifier-key form back into a key.
pub fn parse_verifier_key(s: &str) -> Result<VerifyingKey, String> {
    let parts: Vec<&str> = s.trim().splitn(3, '+').collect();
    let [name, _id, b64] = parts.as_slice() else { return Err("a verifier key is NAME+KEYID+BASE64".into()) };
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|e| format!("verifier key: {e}"))?;
    if raw.len() != 33 || raw[0] != 0x01 {
        return Err("verifier key: not an Ed25519 key".into());
    }
    let key = VerifyingKey::from_bytes(raw[1..].try_into().expect("32 bytes")).map_err(|e| format!("verifier key: {e}"))?;
    if *name != ORIGIN {
        return Err(format!("verifier key: for log {name:?}, not {ORIGIN:?}"));
    }
    Ok(key)
}

/// Checks a signed checkpoint with `key`; returns (size, root) when the signature is good.
pub fn verify_checkpoint(note: &str, key: &VerifyingKey) -> Result<(u64, merkle::Hash), String> {
    let (body, sigs) = note.split_once("\n\n").ok_or("checkpoint: no blank line before the signatures")?;
    let body = format!("{body}\n");
    let lines: Vec<&str> = body.lines().collect();
    if lines.len() < 3 || lines[0] != ORIGIN {
        return Err(format!("checkpoint: the origin line is not {ORIGIN:?}"));
    }
    let size: u64 = lines[1].parse().map_err(|_| "checkpoint: the size line is not a number")?;
    let root: merkle::Hash = base64::engine::general_purpose::STANDARD
        .decode(lines[2])
        .ok()
        .and_then(|r| r.try_into().ok())
        .ok_or("checkpoint: the root line is not a base64 SHA-256 hash")?;
    let want_id = key_id(ORIGIN, key);
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else { continue };
        let Some((name, b64)) = rest.split_once(' ') else { continue };
        if name != ORIGIN {
            continue;
        }
        let blob = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| "checkpoint: a signature is not base64")?;
        if blob.len() != 68 || blob[..4] != want_id {
            continue;
        }
        let sig = ed25519_dalek::Signature::from_slice(&blob[4..]).map_err(|_| "checkpoint: malformed signature")?;
        return key
            .verify(body.as_bytes(), &sig)
            .map(|_| (size, root))
            .map_err(|_| "checkpoint: the signature does not verify".to_string());
    }
    Err("checkpoint: no signature by the ledger key".into())
}

/// Where the key is: `DRYDOCK_LEDGER_KEY`, else (SQLite only) `<database>.ledger.pem` beside the
/// database file, created by whichever command first needs it. PostgreSQL replicas share one
/// configured key: none is generated there.
pub fn key_path(config_key: Option<&str>, database_url: &str) -> anyhow::Result<(PathBuf, bool)> {
    if let Some(k) = config_key {
        return Ok((PathBuf::from(k), false));
    }
    let Some(file) = database_url.strip_prefix("sqlite://") else {
        anyhow::bail!("DRYDOCK_LEDGER_KEY must be set with PostgreSQL: every replica signs with the same key, so none is generated");
    };
    let file = file.split('?').next().unwrap_or(file);
    Ok((PathBuf::from(format!("{file}.ledger.pem")), true))
}

/// Loads the key, generating it beside a SQLite database the first time.
pub fn load_or_create_key(config_key: Option<&str>, database_url: &str) -> anyhow::Result<LedgerKey> {
    let (path, may_create) = key_path(config_key, database_url)?;
    if path.exists() || !may_create {
        return LedgerKey::load(&path);
    }
    tracing::info!(path = %path.display(), "generating the ledger signing key beside the database");
    LedgerKey::generate(&path)
}

/// A portable copy of the ledger: every entry's bytes and every signed checkpoint.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Export {
    pub origin: String,
    pub verifier_key: Option<String>,
    /// Entry bytes, base64, in index order.
    pub entries: Vec<String>,
    pub checkpoints: Vec<String>,
}

/// Checks an export offline: entry `i` must carry index `i`; every checkpoint must verify with
/// `key` and match the tree of its size. Returns (size, root hex) or the first problem.
pub fn verify_export(e: &Export, key: &VerifyingKey) -> Result<(usize, String), String> {
    let mut leaves = Vec::with_capacity(e.entries.len());
    for (i, b64) in e.entries.iter().enumerate() {
        let bytes = base64::engine::general_purpose::STANDARD.decode(b64).map_err(|_| format!("entry {i}: not base64"))?;
        let v: Value = serde_json::from_slice(&bytes).map_err(|_| format!("entry {i}: not JSON"))?;
        if v["index"].as_u64() != Some(i as u64) {
            return Err(format!("entry {i}: carries index {} (missing, inserted or reordered)", v["index"]));
        }
        if canonical_json(&v).as_bytes() != bytes.as_slice() {
            return Err(format!("entry {i}: not canonical JSON (edited)"));
        }
        leaves.push(merkle::leaf_hash(&bytes));
    }
    if e.checkpoints.is_empty() {
        return Err("the export holds no signed checkpoint".into());
    }
    for note in &e.checkpoints {
        let (size, root) = verify_checkpoint(note, key)?;
        if size as usize > leaves.len() {
            return Err(format!("a checkpoint covers {size} entries, the export holds {}", leaves.len()));
        }
        if merkle::root(&leaves[..size as usize]) != root {
            return Err(format!("entries 0..{size} no longer match the signed checkpoint of size {size}"));
        }
    }
    Ok((leaves.len(), hex::encode(merkle::root(&leaves))))
}

/// The scheduled verification: verifies the whole ledger and keeps the result for the ledger page
/// (readers never trigger a verification).
pub async fn verify_and_record(
    store: &impl LedgerLog,
    key: Option<&VerifyingKey>,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<VerifyReport, crate::store::StoreError> {
    let report = verify_store(store, key).await?;
    store.record_verification(report.size, &report.root, report.checkpoints_checked as i64, report.error.as_deref(), now).await?;
    if let Some(e) = &report.error {
        tracing::error!(problem = %e, "LEDGER VERIFICATION FAILED");
    }
    Ok(report)
}

/// Entries read and checked at a time.
const VERIFY_BATCH: i64 = 8192;

/// Verifies the whole ledger in the store from one snapshot (entries other writers append
/// meanwhile are not seen): every entry's bytes rebuilt from its fields and hashed (on every
/// core, a batch at a time), the tree grown as they come and each checkpoint's root and signature
/// (with `key`) checked when the tree reaches its size. Memory: a batch and the tree's edge. An
/// edited, deleted, inserted or reordered entry names the first bad index.
pub async fn verify_store(store: &impl LedgerLog, key: Option<&VerifyingKey>) -> Result<VerifyReport, crate::store::StoreError> {
    verify_store_in_batches(store, key, VERIFY_BATCH).await
}

/// `verify_store`, reading `batch` entries at a time.
pub async fn verify_store_in_batches(
    store: &impl LedgerLog,
    key: Option<&VerifyingKey>,
    batch: i64,
) -> Result<VerifyReport, crate::store::StoreError> {
    let mut s = store.ledger_stream(batch.max(1)).await?;
    let mut v = Verifier::new(s.size, std::mem::take(&mut s.checkpoints), key.copied());
    if s.outside > 0 {
        return Ok(v.fail(format!("entry 0: {} audit event(s) not in the log (inserted outside Drydock?)", s.outside)));
    }
    while let Some(batch) = s.batches.recv().await {
        let rows = batch?;
        let start = v.tree.size() as i64;
        let leaves = match tokio::task::spawn_blocking(move || check_batch(start, &rows)).await {
            Ok(leaves) => leaves,
            Err(e) => return Ok(v.fail(format!("entry {start}: checking entries failed: {e}"))),
        };
        if let Some(report) = v.add(leaves) {
            return Ok(report);
        }
    }
    Ok(v.finish(s.beyond))
}

pub use crate::store::StoredEntry;

/// What `verify` found.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VerifyReport {
    pub size: i64,
    pub root: String,
    pub checkpoints_checked: usize,
    /// The first problem, naming the first bad index; None when the ledger is intact.
    pub error: Option<String>,
}

/// Rebuilds each entry's bytes from its stored fields and hashes them: entry `start + i` is the
/// `i`th row. Split over the machine's cores; the answers in row order.
fn check_batch(start: i64, rows: &[StoredEntry]) -> Vec<Result<merkle::Hash, String>> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(8);
    let per = rows.len().div_ceil(threads).max(256);
    std::thread::scope(|scope| {
        let parts: Vec<_> = rows
            .chunks(per)
            .enumerate()
            .map(|(k, chunk)| {
                let first = start + (k * per) as i64;
                scope.spawn(move || {
                    let mut buf = String::new();
                    chunk.iter().enumerate().map(|(i, r)| check_entry(first + i as i64, r, &mut buf)).collect::<Vec<_>>()
                })
            })
            .collect();
        parts.into_iter().flat_map(|p| p.join().unwrap_or_else(|_| vec![Err("entry check panicked".into())])).collect()
    })
}

/// One entry: its place, its bytes against its fields, its leaf hash (`buf`: scratch space).
fn check_entry(expect: i64, r: &StoredEntry, buf: &mut String) -> Result<merkle::Hash, String> {
    let Some(index) = r.index else {
        return Err(format!("entry {expect}: an audit event is not in the log (inserted outside Drydock?)"));
    };
    if index != expect {
        return Err(format!("entry {expect}: missing (the next stored entry is {index})"));
    }
    let Some(entry) = &r.entry else { return Err(format!("entry {index}: no entry bytes")) };
    if !crate::domain::entry::entry_matches(entry, index, &entry_time(&r.time), &r.actor, &r.kind, &r.subject, &r.payload, buf) {
        return Err(format!("entry {index}: its stored fields differ from its entry bytes (edited or moved)"));
    }
    let leaf = merkle::leaf_hash(entry.as_bytes());
    let mut stored = [0u8; 32];
    if r.leaf_hash.as_deref().is_none_or(|h| hex::decode_to_slice(h, &mut stored).is_err() || stored != leaf) {
        return Err(format!("entry {index}: its leaf hash does not match its bytes"));
    }
    Ok(leaf)
}

/// The tree grown from checked entries, and the checkpoints still to reach.
struct Verifier {
    head: i64,
    checkpoints: std::collections::VecDeque<(i64, String)>,
    /// Sizes of the checkpoints that matched (the last good one names where a change begins).
    matched: Option<i64>,
    checked: usize,
    key: Option<VerifyingKey>,
    tree: merkle::Frontier,
}

impl Verifier {
    fn new(head: i64, checkpoints: Vec<(i64, String)>, key: Option<VerifyingKey>) -> Self {
        Verifier { head, checkpoints: checkpoints.into(), matched: None, checked: 0, key, tree: merkle::Frontier::default() }
    }

    fn fail(&self, msg: String) -> VerifyReport {
        VerifyReport { size: self.head, root: hex::encode(self.tree.root()), checkpoints_checked: self.checked, error: Some(msg) }
    }

    /// Adds checked entries in order; the report of the first problem, if any.
    fn add(&mut self, leaves: Vec<Result<merkle::Hash, String>>) -> Option<VerifyReport> {
        if let Some(r) = self.reached_checkpoints() {
            return Some(r);
        }
        for leaf in leaves {
            match leaf {
                Ok(h) => self.tree.push(h),
                Err(e) => return Some(self.fail(e)),
            }
            if let Some(r) = self.reached_checkpoints() {
                return Some(r);
            }
        }
        None
    }

    /// Checks every checkpoint of the tree's current size: signature, size, root.
    fn reached_checkpoints(&mut self) -> Option<VerifyReport> {
        let size = self.tree.size() as i64;
        while self.checkpoints.front().is_some_and(|(s, _)| *s <= size) {
            let (at, note) = self.checkpoints.pop_front()?;
            if let Some(problem) = self.check_signature(at, &note) {
                return Some(self.fail(problem));
            }
            let body_root = note.lines().nth(2).and_then(|l| base64::engine::general_purpose::STANDARD.decode(l).ok());
            if body_root.as_deref() != Some(&self.tree.root()[..]) {
                // The first entry that changed lies after the largest checkpoint that matched.
                let good = self.matched.unwrap_or(0);
                return Some(self.fail(format!("entry {good}..{at}: the tree no longer matches the signed checkpoint of size {at}")));
            }
            self.matched = Some(at);
            self.checked += 1;
        }
        None
    }

    fn check_signature(&self, at: i64, note: &str) -> Option<String> {
        let k = self.key.as_ref()?;
        match verify_checkpoint(note, k) {
            Ok((s, _)) if s as i64 != at => Some(format!("checkpoint of size {at}: its note says size {s}")),
            Ok(_) => None,
            Err(e) => Some(format!("checkpoint of size {at}: {e}")),
        }
    }

    /// After the last batch: every entry of the log present, none stored after it, and no
    /// checkpoint beyond what remains.
    fn finish(mut self, beyond: i64) -> VerifyReport {
        if let Some(r) = self.reached_checkpoints() {
            return r;
        }
        let n = self.tree.size() as i64;
        if n != self.head {
            return self.fail(format!("entry {n}: the log's size is {} but {n} entries are stored", self.head));
        }
        if beyond > 0 {
            return self.fail(format!("entry {n}: {beyond} entries are stored after the log's end (size {n})"));
        }
        if let Some((at, note)) = self.checkpoints.pop_front() {
            if let Some(problem) = self.check_signature(at, &note) {
                return self.fail(problem);
            }
            return self.fail(format!("entry {n}: a checkpoint covers {at} entries, only {n} remain"));
        }
        VerifyReport { size: self.head, root: hex::encode(self.tree.root()), checkpoints_checked: self.checked, error: None }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_members_and_escapes_like_jcs() {
        let v = serde_json::json!({"b": [1, "x\n\u{1}"], "a": {"d": true, "c": null}, "€": 2.5, "é": 10.0});
        assert_eq!(canonical_json(&v), "{\"a\":{\"c\":null,\"d\":true},\"b\":[1,\"x\\n\\u0001\"],\"é\":10,\"€\":2.5}");
    }

    #[test]
    fn entry_times_are_spelled_as_chrono_spells_them() {
        use chrono::TimeZone as _;
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let secs = (seed % 253_402_300_799) as i64; // 1970 to the end of 9999
            let nanos = (seed >> 20) as u32 % 1_000_000_000;
            let t = chrono::Utc.timestamp_opt(secs, if seed.is_multiple_of(3) { nanos / 1000 * 1000 } else { nanos }).unwrap();
            assert_eq!(entry_time(&t), t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
        }
        let t = chrono::Utc.with_ymd_and_hms(2026, 1, 2, 3, 4, 5).unwrap();
        assert_eq!(entry_time(&t), "2026-01-02T03:04:05.000000Z");
    }

    #[test]
    fn an_entry_matches_its_fields_and_nothing_else() {
        use crate::domain::entry::entry_matches;
        let mut buf = String::new();
        let payloads = [
            serde_json::json!({"b": [1, "x\n\u{1}"], "a": {"d": true, "c": null}, "é": 10.0, "f": 2.5}),
            serde_json::json!("just text"),
            serde_json::json!([]),
        ];
        for p in &payloads {
            let entry = entry_bytes(7, "2026-01-02T03:04:05.000006Z", "al\"ice", "k.ind", "image:x", p);
            // As Drydock stores the payload (serde's spelling), and respelled.
            for stored in [p.to_string(), serde_json::to_string_pretty(p).unwrap()] {
                assert!(
                    entry_matches(&entry, 7, "2026-01-02T03:04:05.000006Z", "al\"ice", "k.ind", "image:x", &stored, &mut buf),
                    "{stored}"
                );
            }
            let other = |f: &dyn Fn(&mut [String; 5])| {
                let mut v = ["2026-01-02T03:04:05.000006Z".to_string(), "al\"ice".into(), "k.ind".into(), "image:x".into(), p.to_string()];
                f(&mut v);
                entry_matches(&entry, 7, &v[0], &v[1], &v[2], &v[3], &v[4], &mut String::new())
            };
            assert!(!other(&|v| v[0] = "2026-01-02T03:04:05.000007Z".into()));
            assert!(!other(&|v| v[1] = "alice".into()));
            assert!(!other(&|v| v[2] = "k.inD".into()));
            assert!(!other(&|v| v[3] = "image:y".into()));
            assert!(!other(&|v| v[4] = "{\"forged\":true}".into()));
            assert!(!entry_matches(&entry, 8, "2026-01-02T03:04:05.000006Z", "al\"ice", "k.ind", "image:x", &p.to_string(), &mut buf));
            // The entry itself respelled (whitespace, members reordered) is not the entry.
            let reordered = entry.replacen("{\"actor\":\"al\\\"ice\",", "{", 1).replacen('}', ",\"actor\":\"al\\\"ice\"}", 1);
            let spaced = entry.replacen(",\"kind\"", ", \"kind\"", 1);
            for bad in [reordered, spaced] {
                assert_ne!(bad, entry);
                assert!(
                    !entry_matches(&bad, 7, "2026-01-02T03:04:05.000006Z", "al\"ice", "k.ind", "image:x", &p.to_string(), &mut buf),
                    "{bad}"
                );
            }
        }
        // A stored payload that is not JSON is the string it spells, as `entry_bytes` takes it.
        let entry = entry_bytes(1, "t", "a", "k", "s", &serde_json::json!("not json {"));
        assert!(entry_matches(&entry, 1, "t", "a", "k", "s", "not json {", &mut buf));
    }

    #[test]
    fn checkpoints_sign_and_verify_and_forgeries_fail() {
        let dir = tempfile::tempdir().unwrap();
        let key = LedgerKey::generate(&dir.path().join("k.pem")).unwrap();
        assert!(LedgerKey::generate(&dir.path().join("k.pem")).is_err(), "never overwrites");
        let again = LedgerKey::load(&dir.path().join("k.pem")).unwrap();
        assert_eq!(again.public(), key.public());
        let root = merkle::leaf_hash(b"x");
        let note = key.sign_checkpoint(7, &root);
        assert!(note.starts_with(&format!("{ORIGIN}\n7\n")));
        let vk = parse_verifier_key(&key.verifier_key()).unwrap();
        assert_eq!(verify_checkpoint(&note, &vk).unwrap(), (7, root));
        let forged = note.replacen("\n7\n", "\n8\n", 1);
        assert!(verify_checkpoint(&forged, &vk).unwrap_err().contains("does not verify"));
        let other = LedgerKey::generate(&dir.path().join("o.pem")).unwrap();
        assert!(verify_checkpoint(&note, &other.public()).is_err());
    }
}
