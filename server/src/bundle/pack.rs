//! The bundle as a file: the files, their signed manifest, in one gzip'd tar (and back, bounded).

use super::{FileHash, Manifest, MANIFEST, SIGNATURE};
use crate::domain::snapshot::sha256_hex;
use base64::Engine as _;
use std::collections::BTreeMap;
use std::io::Read as _;

/// At most this many files and bytes are read back from a bundle (a bundle is verified by people
/// who did not make it: it is untrusted input).
const MAX_FILES: usize = 64;
const MAX_BYTES: u64 = 1 << 30;

/// The manifest of `files` (their SHA-256 and sizes) filled into `manifest`, signed with `key`,
/// and everything written as a gzip'd tar. Answers the bytes and the manifest's SHA-256.
pub fn pack(files: Vec<(String, Vec<u8>)>, mut manifest: Manifest, key: &crate::ledger::LedgerKey) -> std::io::Result<(Vec<u8>, String)> {
    manifest.files =
        files.iter().map(|(name, bytes)| FileHash { name: name.clone(), sha256: sha256_hex(bytes), bytes: bytes.len() as u64 }).collect();
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(std::io::Error::other)?;
    let signature = base64::engine::general_purpose::STANDARD.encode(key.sign(&manifest_bytes));
    let manifest_hash = sha256_hex(&manifest_bytes);
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    let mtime = chrono::DateTime::parse_from_rfc3339(&manifest.generated_at).map(|t| t.timestamp().max(0) as u64).unwrap_or(0);
    let all = [(MANIFEST.to_string(), manifest_bytes), (SIGNATURE.to_string(), format!("{signature}\n").into_bytes())];
    for (name, bytes) in all.iter().chain(files.iter()) {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(mtime);
        header.set_cksum();
        tar.append_data(&mut header, name, bytes.as_slice())?;
    }
    Ok((tar.into_inner()?.finish()?, manifest_hash))
}

/// The files of a bundle by name; an archive that is not one (not gzip'd tar, nested paths,
/// links, a name twice, too many or too large files) is refused naming why.
pub fn unpack(bytes: &[u8]) -> Result<BTreeMap<String, Vec<u8>>, String> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    let mut files = BTreeMap::new();
    let mut total = 0u64;
    for entry in tar.entries().map_err(|e| format!("not a gzip'd tar: {e}"))? {
        let entry = entry.map_err(|e| format!("not a gzip'd tar: {e}"))?;
        if !entry.header().entry_type().is_file() {
            return Err("the bundle holds something other than plain files".into());
        }
        let name = entry.path().map_err(|e| format!("a file name does not read: {e}"))?.to_string_lossy().into_owned();
        if name.contains('/') || name.starts_with('.') {
            return Err(format!("{name:?}: a bundle's files sit at its top level"));
        }
        total += entry.header().size().unwrap_or(u64::MAX);
        if files.len() >= MAX_FILES || total > MAX_BYTES {
            return Err(format!("more than {MAX_FILES} files or {MAX_BYTES} bytes: not a Drydock bundle"));
        }
        let mut data = Vec::new();
        entry.take(MAX_BYTES).read_to_end(&mut data).map_err(|e| format!("{name}: {e}"))?;
        if files.insert(name.clone(), data).is_some() {
            return Err(format!("{name}: in the bundle twice"));
        }
    }
    Ok(files)
}
