//! The site's files (`/pkg/…`: the stylesheet, the wasm and its loader) served from memory,
//! beside the application's layers: no session, sign-in or request span, no file read per
//! request. A file is read once and again only when its modification time changes (a rebuild
//! under `cargo leptos watch`); `If-None-Match` with the file's ETag answers 304.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};
use std::time::SystemTime;

/// Files larger than this are not kept (none of the site's are).
const MAX_FILE_BYTES: u64 = 32 * 1024 * 1024;

struct Kept {
    body: Bytes,
    modified: SystemTime,
    etag: HeaderValue,
}

pub struct SiteFiles {
    dir: PathBuf,
    files: RwLock<HashMap<String, Arc<Kept>>>,
}

impl SiteFiles {
    pub fn new(dir: PathBuf) -> SiteFiles {
        SiteFiles { dir, files: RwLock::new(HashMap::new()) }
    }

    /// The file `name` (under the directory), read again when it changed on disk.
    fn get(&self, name: &str) -> Option<Arc<Kept>> {
        let path = self.dir.join(name);
        let meta = std::fs::metadata(&path).ok().filter(|m| m.is_file() && m.len() <= MAX_FILE_BYTES)?;
        let modified = meta.modified().ok()?;
        if let Some(k) = self.files.read().unwrap_or_else(|e| e.into_inner()).get(name) {
            if k.modified == modified {
                return Some(k.clone());
            }
        }
        let body = Bytes::from(std::fs::read(&path).ok()?);
        let stamp = modified.duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let etag = HeaderValue::from_str(&format!("\"{:x}-{:x}\"", body.len(), stamp)).ok()?;
        let kept = Arc::new(Kept { body, modified, etag });
        self.files.write().unwrap_or_else(|e| e.into_inner()).insert(name.to_string(), kept.clone());
        Some(kept)
    }
}

/// A relative name of letters, digits, `.`, `_`, `-` and `/` that never climbs (`..`).
fn safe(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('/')
        && name.split('/').all(|s| !s.is_empty() && s != "." && s != "..")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or_default() {
        "css" => "text/css",
        "js" | "mjs" => "text/javascript",
        "wasm" => "application/wasm",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// `GET /pkg/{*file}`.
pub async fn serve(State(files): State<Arc<SiteFiles>>, Path(name): Path<String>, headers: HeaderMap) -> Response {
    if !safe(&name) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(kept) = files.get(&name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    if headers.get(header::IF_NONE_MATCH).is_some_and(|v| v.as_bytes() == kept.etag.as_bytes()) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, kept.etag.clone())]).into_response();
    }
    let mut resp = Response::new(axum::body::Body::from(kept.body.clone()));
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type(&name)));
    h.insert(header::ETAG, kept.etag.clone());
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_climb_or_carry_odd_characters_are_refused() {
        for ok in ["drydock.css", "drydock_bg.wasm", "assets/x-1.js"] {
            assert!(safe(ok), "{ok}");
        }
        for bad in ["", "../secret", "a/../../b", "/etc/passwd", "a//b", "./x", "x%2e", "a\\b", "x y"] {
            assert!(!safe(bad), "{bad}");
        }
    }

    #[test]
    fn a_file_changed_on_disk_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.css"), "one").unwrap();
        let files = SiteFiles::new(dir.path().to_path_buf());
        assert_eq!(&files.get("a.css").unwrap().body[..], b"one");
        std::fs::write(dir.path().join("a.css"), "two!").unwrap();
        let later = SystemTime::now() + std::time::Duration::from_secs(5);
        std::fs::File::options().write(true).open(dir.path().join("a.css")).unwrap().set_modified(later).unwrap();
        assert_eq!(&files.get("a.css").unwrap().body[..], b"two!");
        assert!(files.get("missing.css").is_none());
    }
}
