//! API token secrets. A token is `ddk_` plus 32 random bytes (base64url); only its SHA-256 is
//! stored, so a database leak does not leak usable tokens.

use base64::Engine as _;
use rand::RngCore as _;

/// A fresh token secret.
pub fn new_token_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("ddk_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes))
}
