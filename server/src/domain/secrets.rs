//! URLs that will carry a secret: loopback, and the https rule for anything else.

use super::FieldError;

/// Is this URL's host a loopback address (`127.0.0.0/8`, `::1`, `localhost`)?
pub fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(a)) => a.is_loopback(),
        Some(url::Host::Ipv6(a)) => a.is_loopback(),
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Checks a server URL that will receive a secret: https, or plain http only to loopback or when
/// the operator said `insecure`. The message names `field`.
pub fn check_secret_url(url: &url::Url, insecure: bool, field: &str) -> Result<(), FieldError> {
    // Credentials in the URL would be stored, shown, logged and recorded in the ledger with it.
    if !url.username().is_empty() || url.password().is_some() {
        return Err(FieldError::new(field, "no credentials in the URL (name the user and the variable holding the secret instead)"));
    }
    match url.scheme() {
        "https" => Ok(()),
        "http" if is_loopback(url) || insecure => Ok(()),
        "http" => Err(FieldError::new(
            field,
            "plain http:// is allowed only for loopback or with insecure (the credential would travel in clear)",
        )),
        other => Err(FieldError::new(field, format!("scheme {other:?} is not http or https"))),
    }
}
