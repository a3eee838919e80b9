//! HTTPS serving: the certificate and key files read into a rustls configuration, read again on
//! SIGHUP and when either file changes (cert-manager rotates them in place); a reload that fails
//! keeps the configuration in force and says why.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, SystemTime};

/// How often the files' modification times are looked at.
const POLL: Duration = Duration::from_secs(5);

/// The certificate files and the configuration read from them last.
pub struct Certificates {
    cert: PathBuf,
    key: PathBuf,
    current: RwLock<Arc<ServerConfig>>,
}

fn read(cert: &Path, key: &Path) -> anyhow::Result<Arc<ServerConfig>> {
    use anyhow::Context;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("tls_cert {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("tls_cert {}: not PEM certificates", cert.display()))?;
    if chain.is_empty() {
        anyhow::bail!("tls_cert {}: holds no certificate", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("tls_key {}: no PEM private key", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .context("tls_cert and tls_key do not make a certificate and its key")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn modified(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

impl Certificates {
    /// Reads the files (an error names the file and what is wrong with it).
    pub fn load(cert: &str, key: &str) -> anyhow::Result<Arc<Certificates>> {
        let (cert, key) = (PathBuf::from(cert), PathBuf::from(key));
        let config = read(&cert, &key)?;
        Ok(Arc::new(Certificates { cert, key, current: RwLock::new(config) }))
    }

    /// The acceptor for the next connection.
    pub fn acceptor(&self) -> tokio_rustls::TlsAcceptor {
        tokio_rustls::TlsAcceptor::from(self.current.read().unwrap_or_else(|p| p.into_inner()).clone())
    }

    /// Reads the files again; the configuration in force stays when they do not read.
    pub fn reload(&self) -> anyhow::Result<()> {
        let config = read(&self.cert, &self.key)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = config;
        Ok(())
    }

    /// Reloads on SIGHUP and when either file's modification time changes, until dropped.
    pub fn watch(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = self.clone();
        tokio::spawn(async move {
            #[cfg(unix)]
            let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
            let mut seen = (modified(&me.cert), modified(&me.key));
            loop {
                #[cfg(unix)]
                let hangup = async {
                    match hup.as_mut() {
                        Some(s) => {
                            s.recv().await;
                        }
                        None => std::future::pending::<()>().await,
                    }
                };
                #[cfg(not(unix))]
                let hangup = std::future::pending::<()>();
                let why = tokio::select! {
                    () = hangup => "SIGHUP",
                    () = tokio::time::sleep(POLL) => {
                        let now = (modified(&me.cert), modified(&me.key));
                        if now == seen { continue; }
                        seen = now;
                        "the files changed"
                    }
                };
                match me.reload() {
                    Ok(()) => tracing::info!(why, "TLS certificate read again"),
                    Err(e) => tracing::warn!(why, error = %e, "the TLS certificate could not be read again; the previous one stays"),
                }
            }
        })
    }
}
