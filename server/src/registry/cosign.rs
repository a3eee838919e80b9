//! cosign signatures: the `sha256-<hex>.sig` artifact's layers carry a simple-signing payload
//! and, in the `dev.cosignproject.cosign/signature` annotation, an ECDSA P-256 / SHA-256
//! signature over the payload bytes. "Verified" means: a trusted key verifies the signature AND
//! the payload names the image's digest.

use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;

pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
pub const SIMPLE_SIGNING_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";

/// A public key signatures are checked with, named by its file.
#[derive(Clone)]
pub struct TrustedKey {
    pub name: String,
    key: VerifyingKey,
}

impl TrustedKey {
    /// A `-----BEGIN PUBLIC KEY-----` ECDSA P-256 key, as `cosign generate-key-pair` writes.
    pub fn from_pem(name: &str, pem: &str) -> Result<TrustedKey, String> {
        let key =
            VerifyingKey::from_public_key_pem(pem.trim()).map_err(|e| format!("{name}: not an ECDSA P-256 public key in PEM: {e}"))?;
        Ok(TrustedKey { name: name.to_string(), key })
    }

    pub fn load(path: &std::path::Path) -> Result<TrustedKey, String> {
        let pem = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        TrustedKey::from_pem(&name, &pem)
    }
}

/// The tag cosign stores an image's signature under.
pub fn signature_tag(digest: &str) -> Option<String> {
    digest.strip_prefix("sha256:").map(|hex| format!("sha256-{hex}.sig"))
}

/// What one signature layer says: the annotation and the payload blob.
pub struct SignedPayload {
    pub signature_b64: String,
    pub payload: Vec<u8>,
}

pub use crate::domain::registry::Verdict;

pub fn verify(image_digest: &str, layers: &[SignedPayload], keys: &[TrustedKey]) -> Verdict {
    if keys.is_empty() {
        return Verdict::Present("no trusted keys are configured".into());
    }
    let mut why = String::from("no signature layer");
    for l in layers {
        let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(l.signature_b64.trim()) else {
            why = "the signature annotation is not base64".into();
            continue;
        };
        let Some(sig) = Signature::from_der(&raw).ok().or_else(|| Signature::from_slice(&raw).ok()) else {
            why = "the signature is not an ECDSA signature".into();
            continue;
        };
        let Some(key) = keys.iter().find(|k| k.key.verify(&l.payload, &sig).is_ok()) else {
            why = "no trusted key verifies the signature".into();
            continue;
        };
        let named: Option<String> = serde_json::from_slice::<serde_json::Value>(&l.payload)
            .ok()
            .and_then(|v| v["critical"]["image"]["docker-manifest-digest"].as_str().map(str::to_string));
        match named {
            Some(d) if d == image_digest => return Verdict::Verified(key.name.clone()),
            Some(d) => why = format!("signed by {} but for another image ({d})", key.name),
            None => why = format!("signed by {} but the payload names no image digest", key.name),
        }
    }
    Verdict::Present(why)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer as _;
    use p256::ecdsa::SigningKey;
    use p256::pkcs8::{EncodePublicKey as _, LineEnding};

    fn payload(digest: &str) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "critical": {"identity": {"docker-reference": "r/x"}, "image": {"docker-manifest-digest": digest},
                         "type": "cosign container image signature"},
            "optional": null
        }))
        .unwrap()
    }

    #[test]
    fn verifies_with_the_right_key_and_digest_only() {
        let sk = SigningKey::random(&mut rand::rngs::OsRng);
        let other = SigningKey::random(&mut rand::rngs::OsRng);
        let pem = |k: &SigningKey| k.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
        let trusted = TrustedKey::from_pem("team.pub", &pem(&sk)).unwrap();
        let stranger = TrustedKey::from_pem("other.pub", &pem(&other)).unwrap();
        let d = "sha256:aaaa";
        let p = payload(d);
        let sig: Signature = sk.sign(&p);
        let layer = SignedPayload { signature_b64: base64::engine::general_purpose::STANDARD.encode(sig.to_der().as_bytes()), payload: p };
        let layers = [layer];
        assert_eq!(verify(d, &layers, std::slice::from_ref(&trusted)), Verdict::Verified("team.pub".into()));
        assert!(matches!(verify(d, &layers, &[stranger]), Verdict::Present(w) if w.contains("no trusted key")));
        assert!(
            matches!(verify("sha256:bbbb", &layers, std::slice::from_ref(&trusted)), Verdict::Present(w) if w.contains("another image"))
        );
        assert!(matches!(verify(d, &layers, &[]), Verdict::Present(_)));
        assert!(TrustedKey::from_pem("x", "not a key").is_err());
    }
}
