//! Pages kept while nothing they show can have changed: a rendered page is kept under (the data
//! version, the minute, the path and query, who asked) and served again to the same person until
//! a change to the estate moves the data version (every replica reads it from the database, so a
//! write on one is seen by all on the next request) or the minute turns (pages show "due in 3
//! days" and "overdue": time moves them too). The estate search shows nothing time moves, and is
//! the costliest to render (every matching finding estate-wide): it is kept until the data
//! version moves, whatever the minute. Concurrent requests for a page being rendered wait for that
//! one rendering. Each served copy gets a fresh CSP nonce.
//!
//! Only the heavy estate-wide read pages and the estate search's answer are kept; everything
//! else passes through.
//!
//! A kept answer without a nonce (the JSON answers) is also kept gzip'd, compressed once by the
//! first client that accepts gzip, and sent so to every client that does: the estate search's
//! default answer is some 0.9 MB of JSON at `enterprise`, and sending it was what bounded it under
//! 64 connections.

use super::session::CurrentUser;
use super::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex};
use tokio::sync::OnceCell;

/// Most pages kept at once (per replica), and the largest page kept.
const MAX_PAGES: usize = 512;
const MAX_PAGE_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    version: i64,
    /// The minute it was rendered in; `None` for a page time does not move (`timeless_path`).
    minute: Option<i64>,
    uri: String,
    who: u64,
}

/// A rendered page: its headers, its body cut at each occurrence of the nonce it carries (the
/// nonce left out), and that nonce. Serving a copy sends these parts with a fresh nonce between
/// them, copying nothing: copying and searching a 380 KB scorecard and allocating its copy were a
/// sixth of the server's time under 64 connections (`perf`, session 21).
struct Kept {
    headers: HeaderMap,
    parts: Vec<Bytes>,
    nonce: Option<String>,
    /// The body gzip'd, made once when a client first accepts it (an answer with a nonce changes
    /// with every copy and is not compressed; `None` inside: not worth it).
    gzip: OnceCell<Option<Bytes>>,
}

/// The smallest answer sent gzip'd.
const MIN_GZIP_BYTES: usize = 1024;

/// What one key holds once rendered: the kept page, or `None` when the answer was not one to keep
/// (not a 200 page, or too large): later requests for it then render on their own, at once,
/// instead of waiting in turn on the cell.
type Cell = OnceCell<Option<Kept>>;

#[derive(Default)]
pub struct PageCache {
    pages: Mutex<HashMap<Key, Arc<Cell>>>,
}

impl PageCache {
    /// The cell for `key` (made empty when absent); when full, pages of older versions and of
    /// minutes before `minute` go first.
    fn cell(&self, key: &Key, minute: i64) -> Arc<Cell> {
        let mut pages = self.pages.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(c) = pages.get(key) {
            return c.clone();
        }
        if pages.len() >= MAX_PAGES {
            pages.retain(|k, _| k.version == key.version && k.minute.is_none_or(|m| m == minute));
            if pages.len() >= MAX_PAGES {
                pages.clear();
            }
        }
        pages.entry(key.clone()).or_default().clone()
    }
}

/// The pages kept: the overview, team pages, scorecards, search and image lists, the checklist
/// (five estate searches each), and the estate search's and the checklist's API answers.
fn kept_path(path: &str) -> bool {
    path == "/"
        || path == "/my-teams"
        || path == "/search"
        || path == "/scorecards"
        || path == "/images"
        || path == "/checklist"
        || path == "/api/v1/search"
        || path == "/api/v1/checklist"
        || path.starts_with("/teams/")
        || path.starts_with("/scorecards/")
}

/// The kept pages nothing moves but the data: the estate search (page and API) shows findings,
/// images and workloads, no deadline or age. (An API token is checked when its answer is first
/// rendered; tokens do not expire, and revoking one moves the data version.)
fn timeless_path(path: &str) -> bool {
    path == "/search" || path == "/api/v1/search"
}

/// Who asked, as the answer sees them: the signed-in person (every grant and the name shown),
/// or the API token presented (its holder alone gets the kept answer; a revoked token moves the
/// data version).
fn fingerprint(user: Option<&CurrentUser>, authorization: Option<&HeaderValue>) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    match user.and_then(|u| u.principal.as_ref()) {
        Some(p) => serde_json::to_string(p).unwrap_or_default().hash(&mut h),
        None => "anonymous".hash(&mut h),
    }
    authorization.map(|a| a.as_bytes()).hash(&mut h);
    h.finish()
}

/// The middleware (inside the session layers: it knows who asks).
pub async fn kept(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if req.method() != Method::GET || !kept_path(req.uri().path()) {
        return next.run(req).await;
    }
    // Read with the session when there is one (`session_store::remember_version`).
    let version = match super::session_store::version_seen() {
        Some(v) => v,
        None => match state.service.data_version().await {
            Ok(v) => v,
            Err(_) => return next.run(req).await,
        },
    };
    let minute = state.clock.now().timestamp().div_euclid(60);
    let key = Key {
        version,
        minute: (!timeless_path(req.uri().path())).then_some(minute),
        uri: req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_default(),
        who: fingerprint(req.extensions().get::<CurrentUser>(), req.headers().get(header::AUTHORIZATION)),
    };
    let gzip = accepts_gzip(req.headers());
    let cell = state.pages.cell(&key, minute);
    let mut request = Some((req, next));
    let mut own = None;
    let (slot, answer) = (&mut request, &mut own);
    let kept = cell
        .get_or_init(|| async move {
            let (req, next) = slot.take()?;
            match render(req, next).await {
                Ok(k) => Some(k),
                Err(resp) => {
                    *answer = Some(resp);
                    None
                }
            }
        })
        .await;
    match (kept, own, request) {
        (_, Some(resp), _) => resp,
        (Some(k), None, _) if gzip => match gzipped(k).await {
            Some(body) => serve_gzipped(k, body),
            None => serve(k),
        },
        (Some(k), None, _) => serve(k),
        (None, None, Some((req, next))) => next.run(req).await,
        (None, None, None) => (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response(),
    }
}

/// Renders the page; a 200 HTML page or JSON answer up to `MAX_PAGE_BYTES` is kept, anything else
/// is answered as it is (a larger page streams on, the part read so far first).
async fn render(req: Request, next: Next) -> Result<Kept, Response> {
    use futures_util::StreamExt as _;
    let resp = next.run(req).await;
    let kind = resp.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if resp.status() != StatusCode::OK || !(kind.starts_with("text/html") || kind.starts_with("application/json")) {
        return Err(resp);
    }
    let (parts, body) = resp.into_parts();
    let mut stream = body.into_data_stream();
    let (mut chunks, mut size) = (Vec::new(), 0usize);
    while let Some(chunk) = stream.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "a page could not be read to be kept");
                return Err((StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response());
            }
        };
        size += chunk.len();
        chunks.push(chunk);
        if size > MAX_PAGE_BYTES {
            let head = futures_util::stream::iter(chunks.into_iter().map(Ok::<Bytes, axum::Error>));
            return Err(Response::from_parts(parts, Body::from_stream(head.chain(stream))));
        }
    }
    let body = Bytes::from(chunks.concat());
    let nonce = parts.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()).and_then(nonce_of);
    let pieces = match nonce.as_deref() {
        Some(n) if !n.is_empty() => split_at(&body, n.as_bytes()),
        _ => vec![body],
    };
    let mut headers = parts.headers;
    if pieces.len() == 1 && pieces[0].len() >= MIN_GZIP_BYTES {
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    Ok(Kept { headers, parts: pieces, nonce, gzip: OnceCell::new() })
}

/// Whether the request's `Accept-Encoding` takes gzip: `gzip` named at a weight above 0, else `*`
/// at a weight above 0 (`gzip;q=0, *` refuses it).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    let (mut gzip, mut any) = (None, None);
    for coding in headers.get_all(header::ACCEPT_ENCODING).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')) {
        let mut params = coding.split(';').map(str::trim);
        let name = params.next().unwrap_or_default();
        let weight = params.find_map(|p| p.strip_prefix("q=")).map_or(Some(1.0), |q| q.parse::<f32>().ok());
        let accepted = weight.is_some_and(|q| q > 0.0);
        if name.eq_ignore_ascii_case("gzip") {
            gzip = Some(accepted);
        } else if name == "*" {
            any = Some(accepted);
        }
    }
    gzip.or(any).unwrap_or(false)
}

/// The kept answer gzip'd, compressed by the first asker (off the async threads) and kept; `None`
/// for an answer cut at a nonce or too small to be worth it.
async fn gzipped(kept: &Kept) -> Option<Bytes> {
    let [body] = kept.parts.as_slice() else { return None };
    if body.len() < MIN_GZIP_BYTES {
        return None;
    }
    let body = body.clone();
    kept.gzip
        .get_or_init(|| async move {
            let compressed = tokio::task::spawn_blocking(move || {
                use std::io::Write as _;
                let mut gz = flate2::write::GzEncoder::new(Vec::with_capacity(body.len() / 8), flate2::Compression::default());
                gz.write_all(&body).and_then(|()| gz.finish())
            })
            .await;
            match compressed {
                Ok(Ok(bytes)) => Some(Bytes::from(bytes)),
                _ => None,
            }
        })
        .await
        .clone()
}

/// A kept answer sent gzip'd.
fn serve_gzipped(kept: &Kept, body: Bytes) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.headers_mut() = kept.headers.clone();
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp.headers_mut().insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    resp
}

/// The nonce in a CSP (`'nonce-…'`).
fn nonce_of(csp: &str) -> Option<String> {
    let start = csp.find("'nonce-")? + "'nonce-".len();
    let len = csp[start..].find('\'')?;
    Some(csp[start..start + len].to_string())
}

/// A kept page with a fresh nonce in its CSP and scripts.
fn serve(kept: &Kept) -> Response {
    let mut headers = kept.headers.clone();
    let new = match &kept.nonce {
        Some(old) if !old.is_empty() => {
            let new = fresh_nonce(old.len());
            if let Some(csp) = headers.get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok()) {
                if let Ok(v) = HeaderValue::from_str(&csp.replace(old.as_str(), &new)) {
                    headers.insert(header::CONTENT_SECURITY_POLICY, v);
                }
            }
            Bytes::from(new)
        }
        _ => Bytes::new(),
    };
    let mut resp = Response::new(Body::new(Parts::joined(&kept.parts, new)));
    *resp.headers_mut() = headers;
    resp.headers_mut().remove(header::CONTENT_LENGTH);
    resp
}

/// `body` cut at each occurrence of `nonce`, the nonce left out: one part more than occurrences.
fn split_at(body: &Bytes, nonce: &[u8]) -> Vec<Bytes> {
    let mut parts = Vec::new();
    let mut from = 0;
    for at in memchr::memmem::find_iter(body, nonce) {
        parts.push(body.slice(from..at));
        from = at + nonce.len();
    }
    parts.push(body.slice(from..));
    parts
}

/// A body sent as the kept parts with `joint` between each two (shared bytes, nothing copied),
/// its length known up front (so it goes with a `Content-Length`, as the page rendered did).
struct Parts {
    chunks: std::collections::VecDeque<Bytes>,
    remaining: u64,
}

impl Parts {
    fn joined(parts: &[Bytes], joint: Bytes) -> Parts {
        let mut chunks = std::collections::VecDeque::with_capacity(parts.len() * 2);
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                chunks.push_back(joint.clone());
            }
            chunks.push_back(p.clone());
        }
        chunks.retain(|c| !c.is_empty());
        let remaining = chunks.iter().map(|c| c.len() as u64).sum();
        Parts { chunks, remaining }
    }
}

impl http_body::Body for Parts {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let next = self.chunks.pop_front();
        if let Some(c) = &next {
            self.remaining -= c.len() as u64;
        }
        std::task::Poll::Ready(next.map(|c| Ok(http_body::Frame::data(c))))
    }

    fn is_end_stream(&self) -> bool {
        self.chunks.is_empty()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// A nonce of `len` characters from the same alphabet as Leptos's (base64).
fn fresh_nonce(len: usize) -> String {
    use base64::Engine as _;
    use rand::RngCore as _;
    let mut bytes = vec![0u8; len];
    rand::thread_rng().fill_bytes(&mut bytes);
    let mut s = base64::engine::general_purpose::STANDARD_NO_PAD.encode(bytes).replace(['+', '/'], "A");
    s.truncate(len);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The body a `Parts` sends, frame by frame, and the length it announced first.
    async fn sent(parts: Parts) -> (Vec<u8>, u64) {
        use http_body_util::BodyExt as _;
        let announced = http_body::Body::size_hint(&parts).exact().unwrap();
        (parts.collect().await.unwrap().to_bytes().to_vec(), announced)
    }

    #[tokio::test]
    async fn the_nonce_is_read_from_the_csp_and_replaced_everywhere() {
        let csp = "default-src 'self'; script-src 'self' 'nonce-abc123XYZ'; style-src 'self'";
        assert_eq!(nonce_of(csp).as_deref(), Some("abc123XYZ"));
        let body = Bytes::from_static(b"<script nonce=\"abc123XYZ\">1</script><script nonce=\"abc123XYZ\">2</script>");
        let (out, announced) = sent(Parts::joined(&split_at(&body, b"abc123XYZ"), Bytes::from_static(b"zzzzzzzzz"))).await;
        let expected = b"<script nonce=\"zzzzzzzzz\">1</script><script nonce=\"zzzzzzzzz\">2</script>";
        assert_eq!((out.as_slice(), announced), (&expected[..], expected.len() as u64));
        // At either end, and a body without it, pass whole.
        let edges = Bytes::from_static(b"abc123XYZ middle abc123XYZ");
        let (out, _) = sent(Parts::joined(&split_at(&edges, b"abc123XYZ"), Bytes::from_static(b"123456789"))).await;
        assert_eq!(out, b"123456789 middle 123456789".to_vec());
        let plain = Bytes::from_static(b"no nonce here");
        assert_eq!(sent(Parts::joined(&split_at(&plain, b"abc123XYZ"), Bytes::new())).await.0, plain.to_vec());
        let (a, b) = (fresh_nonce(22), fresh_nonce(22));
        assert_eq!(a.len(), 22);
        assert_ne!(a, b);
    }

    #[test]
    fn the_search_outlives_the_minute_but_not_the_data_version() {
        assert!(timeless_path("/search") && timeless_path("/api/v1/search"));
        for p in ["/", "/teams/payments", "/scorecards/payments", "/images", "/checklist", "/api/v1/checklist"] {
            assert!(!timeless_path(p), "{p}: shows deadlines or ages");
        }
        let key = |version, minute, uri: &str| Key { version, minute, uri: uri.to_string(), who: 0 };
        let cache = PageCache::default();
        let search = cache.cell(&key(7, None, "/search?cve=X"), 100);
        for i in 1..MAX_PAGES {
            cache.cell(&key(7, Some(100), &format!("/teams/t{i}")), 100);
        }
        // Full: a page of the next minute clears the last minute's pages; the search stays (the
        // same cell, whose rendering later requests share).
        cache.cell(&key(7, Some(101), "/"), 101);
        assert!(Arc::ptr_eq(&search, &cache.cell(&key(7, None, "/search?cve=X"), 101)));
        assert_eq!(cache.pages.lock().unwrap().len(), 2);
        // A new data version clears it when the cache fills again.
        for i in 2..MAX_PAGES {
            cache.cell(&key(7, Some(101), &format!("/teams/t{i}")), 101);
        }
        cache.cell(&key(8, Some(101), "/"), 101);
        let pages = cache.pages.lock().unwrap();
        assert!(!pages.contains_key(&key(7, None, "/search?cve=X")));
        assert_eq!(pages.len(), 1);
    }

    #[test]
    fn gzip_is_sent_to_whoever_accepts_it() {
        let asks = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            accepts_gzip(&h)
        };
        for yes in ["gzip", "gzip, deflate, br", "br;q=1.0, GZIP;q=0.5", "*", "identity, *;q=0.1", "deflate, gzip;q=1"] {
            assert!(asks(yes), "{yes}");
        }
        for no in ["identity", "br, deflate", "gzip;q=0", "gzip; q=0.0, br", "x-gzip-not", "gzip;q=0, *", "*;q=0", "gzip;q=nonsense"] {
            assert!(!asks(no), "{no}");
        }
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[tokio::test]
    async fn a_kept_answer_is_gzipped_once_and_decompresses_to_itself() {
        use std::io::Read as _;
        let json = Bytes::from(
            serde_json::to_vec(&(0..2000).map(|i| serde_json::json!({"image": i, "matches": []})).collect::<Vec<_>>()).unwrap(),
        );
        let kept = Kept { headers: HeaderMap::new(), parts: vec![json.clone()], nonce: None, gzip: OnceCell::new() };
        let gz = gzipped(&kept).await.expect("a JSON answer is compressed");
        assert!(gz.len() * 10 < json.len(), "{} of {} bytes", gz.len(), json.len());
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, json.to_vec());
        assert_eq!(gzipped(&kept).await.unwrap().as_ptr(), gz.as_ptr(), "kept, not compressed again");
        // Cut at a nonce, or small: sent as it is.
        let html =
            Kept { headers: HeaderMap::new(), parts: vec![json.clone(), json.clone()], nonce: Some("n".into()), gzip: OnceCell::new() };
        assert!(gzipped(&html).await.is_none());
        let small = Kept { headers: HeaderMap::new(), parts: vec![Bytes::from_static(b"{}")], nonce: None, gzip: OnceCell::new() };
        assert!(gzipped(&small).await.is_none());
    }

    #[test]
    fn only_the_estate_read_pages_are_kept() {
        for p in [
            "/",
            "/teams/payments",
            "/scorecards",
            "/scorecards/payments",
            "/search",
            "/images",
            "/api/v1/search",
            "/checklist",
            "/api/v1/checklist",
        ] {
            assert!(kept_path(p), "{p}");
        }
        for p in ["/admin", "/campaigns", "/my-updates", "/api/v1/images", "/ledger", "/auth/login"] {
            assert!(!kept_path(p), "{p}");
        }
    }
}
