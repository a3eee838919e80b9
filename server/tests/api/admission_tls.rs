//! Drydock served over TLS, as the API server calls webhooks: a CA made by the test, the webhook
//! answering over https, and a rotated certificate read again after SIGHUP.

use super::admission::{pod, review, spec};
use drydock::store::capabilities::*;
use reqwest::StatusCode;
use serde_json::Value;

/// A CA named `name` and a certificate for 127.0.0.1 it signed: (CA PEM, certificate PEM, key PEM).
fn issue(name: &str) -> (String, String, String) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, name);
    let ca = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap().signed_by(&key, &ca, &ca_key).unwrap();
    (ca.pem(), cert.pem(), key.serialize_pem())
}

fn trusting(ca: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(ca.as_bytes()).unwrap())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

/// `drydock serve --tls-cert --tls-key`: HTTPS only, the webhook answers over it, and a rotated
/// certificate is served after SIGHUP (cert-manager rewrites the files in place).
#[tokio::test]
async fn the_webhook_is_served_over_tls_and_a_rotated_certificate_is_read_again() {
    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    let (ca1, cert1, key1) = issue("drydock test CA one");
    std::fs::write(&cert_path, cert1).unwrap();
    std::fs::write(&key_path, key1).unwrap();
    let db = super::helpers::TestDb::sqlite().await;
    let port = super::helpers::free_port();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_drydock"))
        .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--database-url", &db.url])
        .args(["--tls-cert", cert_path.to_str().unwrap(), "--tls-key", key_path.to_str().unwrap()])
        .env_remove("DRYDOCK_DATABASE_URL")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("https://127.0.0.1:{port}");
    let up = |ca: String| {
        let base = base.clone();
        async move {
            for _ in 0..200 {
                if trusting(&ca).get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                    return true;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            false
        }
    };
    assert!(up(ca1.clone()).await, "serve came up over https");
    // Plain HTTP gets no answer; a client not trusting the CA is refused.
    assert!(reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await.is_err());
    let (ca2, cert2, key2) = issue("drydock test CA two");
    assert!(trusting(&ca2).get(format!("{base}/healthz")).send().await.is_err());

    let token = db
        .store
        .create_token(
            "kube-apiserver",
            drydock::domain::Role::Admission,
            None,
            &Default::default(),
            &drydock::store::Actor::cli(),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    let body = review("tls-1", "Pod", "shop", pod(spec(&["registry.example/never-seen:1"], None, None)), false);
    let r = trusting(&ca1).post(format!("{base}/api/v1/admission/validate")).bearer_auth(&token).json(&body).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!((v["response"]["uid"].as_str(), v["response"]["allowed"].as_bool()), (Some("tls-1"), Some(true)), "{v}");

    // Rotation: new files, then SIGHUP; new connections get the new certificate.
    std::fs::write(&cert_path, cert2).unwrap();
    std::fs::write(&key_path, key2).unwrap();
    assert!(std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    assert!(up(ca2.clone()).await, "the rotated certificate is served");
    assert!(trusting(&ca1).get(format!("{base}/healthz")).send().await.is_err(), "the old one is not");
    // A broken file keeps the certificate in force.
    std::fs::write(&key_path, "not a key").unwrap();
    assert!(std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(trusting(&ca2).get(format!("{base}/healthz")).send().await.is_ok_and(|r| r.status().is_success()));
    let _ = child.kill();
    let _ = child.wait();
}
