//! An OCI Distribution API client: anonymous, Basic and Bearer-token authentication (the
//! `WWW-Authenticate: Bearer realm,service,scope` challenge), a custom CA per registry, the full
//! manifest `Accept` list, and `Link` pagination.
//!
//! Credentials stay with their registry: Basic and bearer tokens are sent only to the registry's
//! own origin; the Basic password goes to a token realm only when the realm is https and on the
//! registry's host or listed for it (`auth_hosts`; Docker Hub's `auth.docker.io` is known), or is
//! plain http on the registry's own host when the registry itself is plain http (loopback or
//! insecure). `Link` pages are followed only within the origin; redirects are followed by hand:
//! within the origin with credentials, elsewhere only for blobs (storage back ends) and without
//! any. Every body is read against a cap, so a hostile registry cannot exhaust memory.

use super::wire::{error_chain, error_code, next_link, param, read_capped, realm_allowed};
pub use super::wire::{MAX_CONFIG_BYTES, MAX_LIST_BYTES, MAX_MANIFEST_BYTES};
use super::RegistryError;
use reqwest::header::{HeaderMap, ACCEPT, WWW_AUTHENTICATE};
use reqwest::{Method, StatusCode};
use std::collections::HashMap;
use std::sync::Mutex;

/// Every manifest type Drydock reads. Without the OCI types the Distribution registry answers
/// 404 for OCI manifests; without any, it converts schema2 to schema1 (another digest).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// Redirects followed for one request.
const MAX_REDIRECTS: usize = 5;

/// What to do with a redirect.
enum Redirect {
    Follow(String),
    Storage(url::Url),
}

/// How the client authenticates.
#[derive(Clone, Default)]
pub struct Credentials {
    pub username: Option<String>,
    /// A password (Basic, or Basic at the token endpoint).
    pub password: Option<String>,
    /// Hosts besides the registry's own whose https token realm may receive the credentials.
    pub auth_hosts: Vec<String>,
}

pub struct RegistryClient {
    base: url::Url,
    /// Talks to the registry's origin (and its token realm); follows no redirect by itself.
    http: reqwest::Client,
    /// Follows a blob's redirect to another host (a storage back end): never any credential.
    anonymous: reqwest::Client,
    creds: Credentials,
    /// Bearer tokens by scope.
    tokens: Mutex<HashMap<String, String>>,
    /// Set once the registry asked for Basic: send it up front from then on.
    basic: Mutex<bool>,
    /// Entries asked per `_catalog` page (the registry may answer fewer, with a `Link` to the next).
    pub page_size: u32,
}

/// How long one request to a registry may take, and its connection.
const REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// A request that got no answer: a timeout says so, with what it waited for.
fn unreachable(what: &str, e: &reqwest::Error) -> RegistryError {
    if e.is_timeout() {
        let limit = if e.is_connect() { CONNECT_TIMEOUT } else { REQUEST_TIMEOUT };
        let stage = if e.is_connect() { "a connection to" } else { "an answer from" };
        return RegistryError::Unreachable(format!("timed out after {} s waiting for {stage} {what}", limit.as_secs()));
    }
    RegistryError::Unreachable(format!("{what}: {}", error_chain(e)))
}

/// A response the caller reads.
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: bytes::Bytes,
}

impl RegistryClient {
    pub fn new(base: &str, creds: Credentials, ca_pem: Option<&str>) -> Result<RegistryClient, RegistryError> {
        let base = url::Url::parse(base.trim_end_matches('/')).map_err(|e| RegistryError::Config(format!("registry URL {base:?}: {e}")))?;
        let builder = || {
            reqwest::Client::builder()
                .timeout(REQUEST_TIMEOUT)
                .connect_timeout(CONNECT_TIMEOUT)
                .user_agent(concat!("drydock/", env!("CARGO_PKG_VERSION")))
        };
        let mut with_ca = builder().redirect(reqwest::redirect::Policy::none());
        if let Some(pem) = ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| RegistryError::Config(format!("the CA bundle is not PEM certificates: {e}")))?
            {
                with_ca = with_ca.add_root_certificate(cert);
            }
        }
        let http = with_ca.build().map_err(|e| RegistryError::Config(e.to_string()))?;
        let anonymous = builder()
            .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
            .build()
            .map_err(|e| RegistryError::Config(e.to_string()))?;
        Ok(RegistryClient { base, http, anonymous, creds, tokens: Mutex::new(HashMap::new()), basic: Mutex::new(false), page_size: 1000 })
    }

    /// Is `url` on the registry's own origin (scheme, host and port)?
    fn same_origin(&self, url: &url::Url) -> bool {
        url.origin() == self.base.origin()
    }

    /// `host[:port]`: how image references name this registry.
    pub fn host(&self) -> String {
        match self.base.port() {
            Some(p) => format!("{}:{p}", self.base.host_str().unwrap_or_default()),
            None => self.base.host_str().unwrap_or_default().to_string(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base.as_str().trim_end_matches('/'))
    }

    /// GETs (or HEADs) `path` (or an absolute URL of the registry's origin, from a `Link`),
    /// answering auth challenges and following redirects within the origin. `scope` is the token
    /// scope the call needs (`repository:NAME:pull`, `registry:catalog:*`); `limit` caps the body.
    pub async fn fetch(
        &self,
        method: Method,
        path_or_url: &str,
        accept: Option<&str>,
        scope: &str,
        limit: usize,
    ) -> Result<Fetched, RegistryError> {
        self.fetch_inner(method, path_or_url, accept, scope, limit, false).await
    }

    async fn fetch_inner(
        &self,
        method: Method,
        path_or_url: &str,
        accept: Option<&str>,
        scope: &str,
        limit: usize,
        blob: bool,
    ) -> Result<Fetched, RegistryError> {
        let mut url = if path_or_url.starts_with("http://") || path_or_url.starts_with("https://") {
            path_or_url.to_string()
        } else {
            self.url(path_or_url)
        };
        let parsed = url::Url::parse(&url).map_err(|e| RegistryError::Garbage(format!("{url}: {e}")))?;
        if !self.same_origin(&parsed) {
            return Err(RegistryError::Garbage(format!(
                "{url} is not on the registry's origin {}: not requested",
                self.base.origin().ascii_serialization()
            )));
        }
        let mut challenged = false;
        let mut redirects = 0;
        loop {
            let mut req = self.http.request(method.clone(), &url);
            if let Some(a) = accept {
                req = req.header(ACCEPT, a);
            }
            let token = self.tokens.lock().unwrap().get(scope).cloned();
            if let Some(t) = token {
                req = req.bearer_auth(t);
            } else if *self.basic.lock().unwrap() {
                req = req.basic_auth(self.creds.username.clone().unwrap_or_default(), self.creds.password.clone());
            }
            let resp = req.send().await.map_err(|e| unreachable(&url, &e))?;
            let status = resp.status();
            let headers = resp.headers().clone();
            if status == StatusCode::UNAUTHORIZED && !challenged {
                challenged = true;
                let challenge = headers.get(WWW_AUTHENTICATE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                self.answer(&challenge, scope).await?;
                continue;
            }
            if status.is_redirection() {
                redirects += 1;
                match self.redirect(&url, &headers, status, redirects, blob)? {
                    Redirect::Follow(next) => {
                        url = next;
                        continue;
                    }
                    Redirect::Storage(next) => return self.fetch_anonymous(method.clone(), next, limit).await,
                }
            }
            let body = read_capped(resp, limit, &url).await?;
            if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
                // The challenge's error (e.g. insufficient_scope) says more than the body's code.
                let detail = headers
                    .get(WWW_AUTHENTICATE)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|c| param(c, "error"))
                    .or_else(|| error_code(&body))
                    .unwrap_or_else(|| status.to_string());
                return Err(RegistryError::Denied(format!("{url}: {detail}")));
            }
            return Ok(Fetched { status, headers, body });
        }
    }

    /// Where a redirect leads: on the registry's origin it is followed with the credentials; a
    /// blob's redirect elsewhere (a storage back end) is fetched without any; anything else is
    /// refused.
    fn redirect(
        &self,
        url: &str,
        headers: &reqwest::header::HeaderMap,
        status: StatusCode,
        redirects: usize,
        blob: bool,
    ) -> Result<Redirect, RegistryError> {
        let location = headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::Garbage(format!("{url}: {status} without a Location")))?;
        let next = url::Url::parse(url)
            .and_then(|u| u.join(location))
            .map_err(|e| RegistryError::Garbage(format!("{url}: redirect to {location:?}: {e}")))?;
        if redirects > MAX_REDIRECTS {
            return Err(RegistryError::Garbage(format!("{url}: more than {MAX_REDIRECTS} redirects")));
        }
        if self.same_origin(&next) {
            return Ok(Redirect::Follow(next.to_string()));
        }
        if !blob {
            return Err(RegistryError::Garbage(format!(
                "{url} redirects to another origin ({}): not followed",
                next.origin().ascii_serialization()
            )));
        }
        Ok(Redirect::Storage(next))
    }

    /// A blob on a storage back end: fetched without any credential.
    async fn fetch_anonymous(&self, method: Method, url: url::Url, limit: usize) -> Result<Fetched, RegistryError> {
        let resp = self.anonymous.request(method, url.clone()).send().await.map_err(|e| unreachable(url.as_str(), &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = read_capped(resp, limit, url.as_str()).await?;
        Ok(Fetched { status, headers, body })
    }

    /// Answers a `WWW-Authenticate` challenge: remembers Basic, or fetches a Bearer token.
    async fn answer(&self, challenge: &str, scope: &str) -> Result<(), RegistryError> {
        let lower = challenge.to_ascii_lowercase();
        if lower.starts_with("basic") {
            if self.creds.username.is_none() {
                return Err(RegistryError::Denied("the registry wants a user name and password (Basic) and none is configured".into()));
            }
            *self.basic.lock().unwrap() = true;
            return Ok(());
        }
        if !lower.starts_with("bearer") {
            return Err(RegistryError::Denied(format!("the registry answered 401 with an unsupported challenge {challenge:?}")));
        }
        let realm =
            param(challenge, "realm").ok_or_else(|| RegistryError::Garbage(format!("Bearer challenge without realm: {challenge:?}")))?;
        let mut url = url::Url::parse(&realm).map_err(|e| RegistryError::Garbage(format!("token realm {realm:?}: {e}")))?;
        realm_allowed(&self.base, &url, &self.creds.auth_hosts).map_err(RegistryError::Config)?;
        {
            let mut q = url.query_pairs_mut();
            if let Some(service) = param(challenge, "service") {
                q.append_pair("service", &service);
            }
            // The scope this call needs (the challenge's own may be narrower or absent).
            q.append_pair("scope", &param(challenge, "scope").unwrap_or_else(|| scope.to_string()));
        }
        let mut req = self.http.get(url.clone());
        if let Some(u) = &self.creds.username {
            req = req.basic_auth(u, self.creds.password.clone());
        }
        let resp = req.send().await.map_err(|e| unreachable(&format!("token endpoint {realm}"), &e))?;
        if !resp.status().is_success() {
            return Err(RegistryError::Denied(format!("the token endpoint {realm} refused: {}", resp.status())));
        }
        let body = read_capped(resp, MAX_LIST_BYTES, &realm).await?;
        let body: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| RegistryError::Garbage(format!("the token endpoint {realm} answered no JSON: {e}")))?;
        let token = body["token"]
            .as_str()
            .or(body["access_token"].as_str())
            .ok_or_else(|| RegistryError::Garbage(format!("the token endpoint {realm} answered no token")))?;
        self.tokens.lock().unwrap().insert(scope.to_string(), token.to_string());
        Ok(())
    }

    /// A GET that must succeed (2xx), else an error naming the registry's error code.
    pub async fn get_ok(&self, path: &str, accept: Option<&str>, scope: &str, limit: usize) -> Result<Fetched, RegistryError> {
        let f = self.fetch(Method::GET, path, accept, scope, limit).await?;
        if !f.status.is_success() {
            return Err(status_error(path, &f));
        }
        Ok(f)
    }

    /// The repositories in `_catalog`, following `Link` pages. `Ok(None)` when the registry has
    /// no catalog (404 / unsupported) — the caller falls back to configured repositories.
    pub async fn catalog(&self) -> Result<Option<Vec<String>>, RegistryError> {
        let mut out = Vec::new();
        let mut next = Some(format!("/v2/_catalog?n={}", self.page_size));
        let mut pages = 0;
        while let Some(path) = next.take() {
            pages += 1;
            if pages > 10_000 {
                return Err(RegistryError::Garbage("_catalog pagination does not end".into()));
            }
            let f = self.fetch(Method::GET, &path, None, "registry:catalog:*", MAX_LIST_BYTES).await?;
            if f.status == StatusCode::NOT_FOUND || f.status == StatusCode::METHOD_NOT_ALLOWED {
                return Ok(None);
            }
            if !f.status.is_success() {
                return Err(status_error("/v2/_catalog", &f));
            }
            let v: serde_json::Value =
                serde_json::from_slice(&f.body).map_err(|e| RegistryError::Garbage(format!("_catalog is not JSON: {e}")))?;
            let repos = v["repositories"].as_array().ok_or_else(|| RegistryError::Garbage("_catalog has no repositories list".into()))?;
            out.extend(repos.iter().filter_map(|r| r.as_str().map(str::to_string)));
            next = next_link(&f.headers).map(|l| self.resolve(&l)).transpose()?;
        }
        Ok(Some(out))
    }

    /// Every tag of `repo` (`tags/list`, following `Link` pages). `Ok(None)`: unknown repository.
    pub async fn tags(&self, repo: &str) -> Result<Option<Vec<String>>, RegistryError> {
        let scope = pull_scope(repo);
        let mut out = Vec::new();
        let mut next = Some(format!("/v2/{repo}/tags/list"));
        while let Some(path) = next.take() {
            let f = self.fetch(Method::GET, &path, None, &scope, MAX_LIST_BYTES).await?;
            if f.status == StatusCode::NOT_FOUND {
                return Ok(None);
            }
            if !f.status.is_success() {
                return Err(status_error(&path, &f));
            }
            let v: serde_json::Value =
                serde_json::from_slice(&f.body).map_err(|e| RegistryError::Garbage(format!("{repo} tags/list is not JSON: {e}")))?;
            out.extend(v["tags"].as_array().into_iter().flatten().filter_map(|t| t.as_str().map(str::to_string)));
            next = next_link(&f.headers).map(|l| self.resolve(&l)).transpose()?;
            if out.len() > 1_000_000 {
                return Err(RegistryError::Garbage(format!("{repo}: more than a million tags")));
            }
        }
        out.sort();
        out.dedup();
        Ok(Some(out))
    }

    /// The digest a tag points at (HEAD with the full Accept list), `None` if the tag is gone.
    pub async fn resolve_tag(&self, repo: &str, tag: &str) -> Result<Option<String>, RegistryError> {
        let path = format!("/v2/{repo}/manifests/{tag}");
        let f = self.fetch(Method::HEAD, &path, Some(MANIFEST_ACCEPT), &pull_scope(repo), MAX_MANIFEST_BYTES).await?;
        if f.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !f.status.is_success() {
            return Err(status_error(&path, &f));
        }
        match f.headers.get("docker-content-digest").and_then(|v| v.to_str().ok()) {
            Some(d) => Ok(Some(d.to_string())),
            // No digest header: GET and hash the bytes.
            None => Ok(Some(self.manifest(repo, tag).await?.0)),
        }
    }

    /// A manifest by tag or digest: (digest, media type, bytes). The digest is the registry's
    /// `Docker-Content-Digest`, checked against the bytes when the reference is a digest.
    pub async fn manifest(&self, repo: &str, reference: &str) -> Result<(String, String, bytes::Bytes), RegistryError> {
        let path = format!("/v2/{repo}/manifests/{reference}");
        let f = self.get_ok(&path, Some(MANIFEST_ACCEPT), &pull_scope(repo), MAX_MANIFEST_BYTES).await?;
        let computed = format!("sha256:{}", crate::domain::sha256_hex(&f.body));
        let digest = f.headers.get("docker-content-digest").and_then(|v| v.to_str().ok()).map(str::to_string).unwrap_or(computed.clone());
        if reference.starts_with("sha256:") && computed != reference {
            return Err(RegistryError::Garbage(format!("{repo}@{reference}: the manifest bytes hash to {computed}")));
        }
        let media_type = f
            .headers
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(';').next().unwrap_or(s).trim().to_string())
            .unwrap_or_default();
        Ok((digest, media_type, f.body))
    }

    /// A blob (at most `limit` bytes), checked against its digest. A redirect to another host
    /// (a storage back end) is followed without credentials.
    pub async fn blob(&self, repo: &str, digest: &str, limit: usize) -> Result<bytes::Bytes, RegistryError> {
        let path = format!("/v2/{repo}/blobs/{digest}");
        let f = self.fetch_inner(Method::GET, &path, None, &pull_scope(repo), limit, true).await?;
        if !f.status.is_success() {
            return Err(status_error(&path, &f));
        }
        let computed = format!("sha256:{}", crate::domain::sha256_hex(&f.body));
        if digest.starts_with("sha256:") && computed != digest {
            return Err(RegistryError::Garbage(format!("{repo} blob {digest}: the bytes hash to {computed}")));
        }
        Ok(f.body)
    }

    /// The OCI referrers of a digest. `Ok(None)`: the registry does not support the API (404).
    pub async fn referrers(&self, repo: &str, digest: &str) -> Result<Option<serde_json::Value>, RegistryError> {
        let path = format!("/v2/{repo}/referrers/{digest}");
        let f = self.fetch(Method::GET, &path, Some("application/vnd.oci.image.index.v1+json"), &pull_scope(repo), MAX_LIST_BYTES).await?;
        if f.status == StatusCode::NOT_FOUND || f.status == StatusCode::METHOD_NOT_ALLOWED || f.status == StatusCode::BAD_REQUEST {
            return Ok(None);
        }
        if !f.status.is_success() {
            return Err(status_error(&path, &f));
        }
        let v = serde_json::from_slice(&f.body).map_err(|e| RegistryError::Garbage(format!("{repo} referrers: {e}")))?;
        Ok(Some(v))
    }

    /// A `Link` target, only within the registry's origin (credentials would follow it).
    fn resolve(&self, link: &str) -> Result<String, RegistryError> {
        let u = self.base.join(link).map_err(|e| RegistryError::Garbage(format!("Link {link:?}: {e}")))?;
        if !self.same_origin(&u) {
            return Err(RegistryError::Garbage(format!(
                "a Link header points to another origin ({}): not followed",
                u.origin().ascii_serialization()
            )));
        }
        Ok(u.to_string())
    }
}

pub fn pull_scope(repo: &str) -> String {
    format!("repository:{repo}:pull")
}

fn status_error(path: &str, f: &Fetched) -> RegistryError {
    let code = error_code(&f.body).unwrap_or_default();
    if f.status.is_server_error() {
        RegistryError::Unreachable(format!("{path}: {} {code}", f.status))
    } else {
        RegistryError::Garbage(format!("{path}: {} {code}", f.status))
    }
}
