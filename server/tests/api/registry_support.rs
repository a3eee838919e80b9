//! A real Distribution registry (Debian `docker-registry`) on loopback, images built offline as
//! OCI layouts and pushed with `skopeo`, cosign-style signatures pushed through the registry API
//! (as cosign does), and the small token endpoint Bearer-token auth needs.

use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use sha2::Digest as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

pub fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(bytes)))
}

/// How the registry authenticates.
pub enum Auth {
    Anonymous,
    /// Anonymous over TLS with this certificate and key (PEM).
    Tls {
        cert_pem: String,
        key_pem: String,
    },
    Basic {
        user: String,
        password: String,
    },
    Token {
        realm: String,
        cert_pem: String,
    },
}

/// A running registry; killed when dropped.
pub struct Registry {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Registry {
    /// Starts `docker-registry serve` on 127.0.0.1 with `storage` as its root directory (several
    /// registries may share one: they then serve the same content), optionally notifying `notify`
    /// (URL, bearer token).
    pub async fn start(storage: &Path, auth: Auth, notify: Option<(&str, &str)>) -> Registry {
        Registry::start_at(super::helpers::free_port(), storage, auth, notify).await
    }

    /// As `start`, on a given port (when Drydock must know the URL first).
    pub async fn start_at(port: u16, storage: &Path, auth: Auth, notify: Option<(&str, &str)>) -> Registry {
        assert!(
            Path::new("/usr/bin/docker-registry").exists(),
            "docker-registry is missing: run .ci/setup.sh --tests (the README's test command does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let mut tls_yaml = String::new();
        let auth_yaml = match &auth {
            Auth::Anonymous => String::new(),
            Auth::Tls { cert_pem, key_pem } => {
                let (c, k) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
                std::fs::write(&c, cert_pem).unwrap();
                std::fs::write(&k, key_pem).unwrap();
                tls_yaml = format!("  tls:\n    certificate: {}\n    key: {}\n", c.display(), k.display());
                String::new()
            }
            Auth::Basic { user, password } => {
                let out = Command::new("htpasswd").args(["-Bbn", user, password]).output().expect("htpasswd (apache2-utils)");
                assert!(out.status.success());
                let file = dir.path().join("htpasswd");
                std::fs::write(&file, out.stdout).unwrap();
                format!("auth:\n  htpasswd:\n    realm: drydock-test\n    path: {}\n", file.display())
            }
            Auth::Token { realm, cert_pem } => {
                let file = dir.path().join("root.pem");
                std::fs::write(&file, cert_pem).unwrap();
                format!(
                    "auth:\n  token:\n    realm: {realm}\n    service: registry.test\n    issuer: drydock-test-issuer\n    rootcertbundle: {}\n",
                    file.display()
                )
            }
        };
        let notify_yaml = match notify {
            None => String::new(),
            Some((url, token)) => format!(
                "notifications:\n  endpoints:\n    - name: drydock\n      url: {url}\n      headers:\n        Authorization: [\"Bearer {token}\"]\n      timeout: 2s\n      threshold: 3\n      backoff: 1s\n"
            ),
        };
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: drydock-test-secret\n{tls_yaml}{auth_yaml}{notify_yaml}",
            storage.display()
        );
        let cfg = dir.path().join("config.yml");
        std::fs::write(&cfg, config).unwrap();
        // The access log (one line per request) goes to stdout: kept, so tests can count requests.
        let access = std::fs::File::create(dir.path().join("access.log")).unwrap();
        let child =
            Command::new("docker-registry").arg("serve").arg(&cfg).stdout(Stdio::from(access)).stderr(Stdio::null()).spawn().unwrap();
        let tls = matches!(auth, Auth::Tls { .. });
        let reg = Registry { child, port, dir };
        let http = reqwest::Client::builder().danger_accept_invalid_certs(true).build().unwrap();
        let probe = if tls { format!("https://127.0.0.1:{port}/v2/") } else { format!("{}/v2/", reg.url()) };
        for _ in 0..200 {
            if let Ok(r) = http.get(&probe).send().await {
                if r.status().is_success() || r.status() == reqwest::StatusCode::UNAUTHORIZED {
                    return reg;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("docker-registry did not come up on port {port}");
    }

    /// How many requests so far had a request line containing `needle` (e.g. `GET /v2/_catalog`).
    pub fn requests(&self, needle: &str) -> usize {
        std::fs::read_to_string(self.dir.path().join("access.log")).unwrap_or_default().lines().filter(|l| l.contains(needle)).count()
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

/// One platform of a test image.
pub struct Platform {
    pub arch: &'static str,
    pub labels: Vec<(&'static str, &'static str)>,
    pub user: &'static str,
}

/// An OCI image layout on disk, built byte-reproducibly.
pub struct Layout {
    pub dir: tempfile::TempDir,
    /// The top-level manifest (or index) digest, as written.
    pub digest: String,
    /// Platform manifest digests with their platform (one entry for a single image).
    pub manifests: Vec<(String, String)>,
    /// Config digests, in the order of `manifests`.
    pub configs: Vec<String>,
}

fn write_blob(dir: &Path, bytes: &[u8]) -> String {
    let d = sha256(bytes);
    let path = dir.join("blobs/sha256").join(d.trim_start_matches("sha256:"));
    std::fs::write(path, bytes).unwrap();
    d
}

/// A gzip tar layer holding `/etc/os-release` (fixed mtimes, gzip mtime 0: same bytes every time).
fn layer(distinct: &str) -> (Vec<u8>, String) {
    let mut tar = tar::Builder::new(Vec::new());
    let content = format!("ID=alpine\nVERSION_ID=3.20.0\nPRETTY_NAME=\"Drydock test {distinct}\"\n");
    let mut h = tar::Header::new_gnu();
    h.set_size(content.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    tar.append_data(&mut h, "etc/os-release", content.as_bytes()).unwrap();
    let raw = tar.into_inner().unwrap();
    let diff_id = sha256(&raw);
    let mut gz = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::default());
    gz.write_all(&raw).unwrap();
    (gz.finish().unwrap(), diff_id)
}

/// Builds an OCI layout with `platforms` (two or more make an index) tagged `tag`.
pub fn build_image(name: &str, tag: &str, platforms: &[Platform]) -> Layout {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("blobs/sha256")).unwrap();
    std::fs::write(dir.path().join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let mut manifests = Vec::new();
    let mut configs = Vec::new();
    let mut descriptors = Vec::new();
    for p in platforms {
        let (gz, diff_id) = layer(&format!("{name} {tag} {}", p.arch));
        let layer_digest = write_blob(dir.path(), &gz);
        let labels: serde_json::Map<String, serde_json::Value> = p.labels.iter().map(|(k, v)| (k.to_string(), (*v).into())).collect();
        let config = serde_json::json!({
            "created": "2026-11-01T10:00:00Z",
            "architecture": p.arch,
            "os": "linux",
            "config": {"User": p.user, "Labels": labels, "Env": ["PATH=/usr/bin"]},
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
        });
        let config_bytes = serde_json::to_vec(&config).unwrap();
        let config_digest = write_blob(dir.path(), &config_bytes);
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config_bytes.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer_digest, "size": gz.len()}],
            "annotations": {"org.opencontainers.image.base.name": "docker.io/library/alpine:3.20"},
        });
        let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
        let manifest_digest = write_blob(dir.path(), &manifest_bytes);
        descriptors.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_bytes.len(),
            "platform": {"os": "linux", "architecture": p.arch},
        }));
        manifests.push((manifest_digest, format!("linux/{}", p.arch)));
        configs.push(config_digest);
    }
    let (top, top_type, size) = if platforms.len() == 1 {
        let d = descriptors[0].clone();
        (d["digest"].as_str().unwrap().to_string(), "application/vnd.oci.image.manifest.v1+json", d["size"].as_u64().unwrap())
    } else {
        let index = serde_json::json!({
            "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": descriptors,
        });
        let bytes = serde_json::to_vec(&index).unwrap();
        let d = write_blob(dir.path(), &bytes);
        (d, "application/vnd.oci.image.index.v1+json", bytes.len() as u64)
    };
    let index_json = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": top_type, "digest": top, "size": size,
                       "annotations": {"org.opencontainers.image.ref.name": tag}}],
    });
    std::fs::write(dir.path().join("index.json"), serde_json::to_vec(&index_json).unwrap()).unwrap();
    Layout { dir, digest: top, manifests, configs }
}

/// `skopeo copy` of a layout to `registry/repo:tag`; `v2s2` converts to a Docker schema2
/// manifest, `all` pushes an index with every platform.
pub fn push(layout: &Layout, tag: &str, dest: &str, v2s2: bool, creds: Option<&str>) {
    let mut cmd = Command::new("skopeo");
    cmd.args(["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "--all"]);
    if v2s2 {
        cmd.args(["--format", "v2s2"]);
    }
    if let Some(c) = creds {
        cmd.args(["--dest-creds", c]);
    }
    cmd.arg(format!("oci:{}:{tag}", layout.dir.path().display())).arg(format!("docker://{dest}"));
    let out = cmd.output().expect("skopeo must be installed (.ci/setup.sh --tests)");
    assert!(out.status.success(), "skopeo copy to {dest}: {}", String::from_utf8_lossy(&out.stderr));
}

/// The digest a tag points at, read from the registry directly (HEAD with the full Accept list).
pub async fn registry_digest(base: &str, repo: &str, tag: &str) -> String {
    let r = reqwest::Client::new()
        .head(format!("{base}/v2/{repo}/manifests/{tag}"))
        .header("Accept", drydock::registry::client::MANIFEST_ACCEPT)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "HEAD {repo}:{tag}: {}", r.status());
    r.headers()["docker-content-digest"].to_str().unwrap().to_string()
}

/// Uploads a blob (monolithic: POST then PUT with the digest).
async fn upload_blob(http: &reqwest::Client, base: &str, repo: &str, bytes: &[u8]) -> String {
    let digest = sha256(bytes);
    let r = http.post(format!("{base}/v2/{repo}/blobs/uploads/")).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::ACCEPTED, "start upload");
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let mut url = url::Url::parse(base).unwrap().join(&loc).unwrap();
    url.query_pairs_mut().append_pair("digest", &digest);
    let r = http.put(url).header("Content-Type", "application/octet-stream").body(bytes.to_vec()).send().await.unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED, "finish upload");
    digest
}

/// Signs `digest` the way `cosign sign --key` does: a simple-signing payload naming the digest,
/// an ECDSA P-256 signature over it in the layer's annotation, pushed as `sha256-<hex>.sig`.
pub async fn cosign_sign(base: &str, repo: &str, digest: &str, key: &SigningKey) {
    let http = reqwest::Client::new();
    let payload = serde_json::to_vec(&serde_json::json!({
        "critical": {
            "identity": {"docker-reference": format!("{}/{repo}", base.trim_start_matches("http://"))},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature"
        },
        "optional": null
    }))
    .unwrap();
    let sig: Signature = key.sign(&payload);
    let sig_b64 = base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes());
    let payload_digest = upload_blob(&http, base, repo, &payload).await;
    let config = br#"{"architecture":"","os":"","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_digest = upload_blob(&http, base, repo, config).await;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{
            "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
            "digest": payload_digest, "size": payload.len(),
            "annotations": {"dev.cosignproject.cosign/signature": sig_b64}
        }]
    });
    let tag = format!("sha256-{}.sig", digest.trim_start_matches("sha256:"));
    let r = http
        .put(format!("{base}/v2/{repo}/manifests/{tag}"))
        .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        .body(serde_json::to_vec(&manifest).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::CREATED, "push signature: {}", r.text().await.unwrap());
}

/// A P-256 public key as PEM in a file (what `cosign generate-key-pair` writes as cosign.pub).
pub fn write_public_key(dir: &Path, name: &str, key: &SigningKey) -> PathBuf {
    use p256::pkcs8::{EncodePublicKey as _, LineEnding};
    let path = dir.join(name);
    std::fs::write(&path, key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap()).unwrap();
    path
}

/// The token endpoint of Bearer-token auth: ES256 JWTs with the signing certificate in `x5c`,
/// granting what is asked — or, when `only` is set, pull on that one repository whatever is asked.
pub struct TokenServer {
    pub realm: String,
    pub cert_pem: String,
}

pub async fn token_server(only: Option<&'static str>) -> TokenServer {
    use axum::extract::Query;
    use std::collections::HashMap;
    let key_pair = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["drydock-test-token".to_string()]).unwrap().self_signed(&key_pair).unwrap();
    let cert_der = base64::engine::general_purpose::STANDARD.encode(cert.der());
    let signing = SigningKey::from_pkcs8_der(&key_pair.serialize_der()).unwrap();
    let handler = move |Query(q): Query<HashMap<String, String>>| {
        let signing = signing.clone();
        let cert_der = cert_der.clone();
        async move {
            let access: Vec<serde_json::Value> = match (q.get("scope"), only) {
                (_, Some(repo)) => vec![serde_json::json!({"type": "repository", "name": repo, "actions": ["pull"]})],
                (Some(scope), None) => {
                    let parts: Vec<&str> = scope.split(':').collect();
                    vec![serde_json::json!({"type": parts[0], "name": parts[1], "actions": parts[2].split(',').collect::<Vec<_>>()})]
                }
                (None, None) => vec![],
            };
            let now = chrono::Utc::now().timestamp();
            let header = serde_json::json!({"typ": "JWT", "alg": "ES256", "x5c": [cert_der]});
            let claims = serde_json::json!({
                "iss": "drydock-test-issuer", "sub": "collector", "aud": q.get("service").cloned().unwrap_or_default(),
                "exp": now + 300, "nbf": now - 10, "iat": now, "jti": format!("{now}-{}", rand::random::<u64>()),
                "access": access,
            });
            let b64 = |v: &serde_json::Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap());
            let input = format!("{}.{}", b64(&header), b64(&claims));
            let sig: Signature = signing.sign(input.as_bytes());
            let token = format!("{input}.{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sig.to_bytes()));
            axum::Json(serde_json::json!({"token": token, "access_token": token, "expires_in": 300}))
        }
    };
    let app = axum::Router::new().route("/token", axum::routing::get(handler));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TokenServer { realm: format!("http://{addr}/token"), cert_pem: cert.pem() }
}

use p256::pkcs8::DecodePrivateKey as _;

/// A self-signed certificate for 127.0.0.1 (cert PEM, key PEM).
pub fn loopback_certificate() -> (String, String) {
    let key = rcgen::KeyPair::generate().unwrap();
    let cert = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// An anonymous, approved registry configuration (validated).
pub fn new_registry(name: &str, url: &str) -> drydock::registry::NewRegistry {
    let mut r = drydock::registry::NewRegistry {
        name: drydock::domain::RegistryName::parse(name).unwrap(),
        url: url.into(),
        username: None,
        password_env: None,
        ca_pem: None,
        insecure: false,
        auth_hosts: vec![],
        approved: true,
        repositories: vec![],
    };
    r.validate().unwrap();
    r
}
