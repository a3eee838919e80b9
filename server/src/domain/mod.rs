//! Domain values that can only be built valid: images (`image`: digests, references, the
//! distribution grammar), names (`names`), roles and token bindings (`access`), URLs that carry a
//! secret (`secrets`); a registry's and a cluster's configuration and what their collectors read
//! (`registry`, `cluster`), campaigns, policies, dates, text. Re-exported here, so callers write
//! `crate::domain::Digest`. Nothing here imports the store or anything above it.

pub mod admission;
pub mod campaign;
pub mod cluster;
pub mod dates;
pub mod entry;
pub mod kev;
pub mod merkle;
pub mod network;
pub mod ownership;
pub mod policy;
pub mod purl;
pub mod registry;
pub mod risk;
pub mod snapshot;
pub mod text;
pub mod vendor;
pub mod version;

mod access;
mod image;
mod names;
mod secrets;

pub use access::{Role, TokenBindings};
pub use image::{validate_repository_name, validate_tag, Digest, ImageRef, Repository};
pub use names::{ClusterName, RegistryName, TeamName};
pub use secrets::{check_secret_url, is_loopback};

pub use text::{check_len, free_text, is_bidi_control, FieldError};

/// A database URL with any password replaced, safe for logs.
pub fn redact_url(u: &str) -> String {
    match url::Url::parse(u) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => u.to_string(),
    }
}

/// SHA-256 of `bytes`, lowercase hex (report identity, digests checked against their bytes).
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    hex::encode(sha2::Sha256::digest(bytes))
}

/// The first string (or member name) of a JSON document holding a NUL character, as a path like
/// `items[3].metadata.name`. PostgreSQL cannot store NUL in text, SQLite can: such input is
/// refused the same way on both (422 naming the field), before anything is written.
pub fn find_nul(v: &serde_json::Value) -> Option<String> {
    fn walk(v: &serde_json::Value, path: &mut String) -> bool {
        match v {
            serde_json::Value::String(s) => s.contains('\0'),
            serde_json::Value::Array(a) => a.iter().enumerate().any(|(i, x)| {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                let found = walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            serde_json::Value::Object(o) => o.iter().any(|(k, x)| {
                let len = path.len();
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(&k.replace('\0', "\\0"));
                let found = k.contains('\0') || walk(x, path);
                if !found {
                    path.truncate(len);
                }
                found
            }),
            _ => false,
        }
    }
    let mut path = String::new();
    walk(v, &mut path).then(|| if path.is_empty() { "the body".to_string() } else { path })
}

/// An error with its causes, `outer: cause: cause` (HTTP clients' own text hides why a connection
/// was not made).
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// `n` random bytes from the operating system, as lowercase hex.
pub fn random_hex(n: usize) -> String {
    use rand::RngCore as _;
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    hex::encode(bytes)
}
