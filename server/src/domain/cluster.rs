//! A cluster as configured: what an admin sends (checked) and the row the store keeps.

use crate::domain::FieldError;
use serde::Deserialize;

/// A configured cluster, as stored (the token is named by its environment variable).
#[derive(Debug, Clone, serde::Serialize, Deserialize, PartialEq, Eq, sqlx::FromRow)]
pub struct ClusterRow {
    pub id: i64,
    pub name: crate::domain::ClusterName,
    pub server: Option<String>,
    pub token_env: Option<String>,
    pub has_ca: bool,
}

/// What an admin sends to configure a cluster.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct NewCluster {
    #[schema(value_type = String)]
    pub name: crate::domain::ClusterName,
    pub server: String,
    pub token_env: String,
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// Allow plain http:// to a non-loopback API server.
    #[serde(default)]
    pub insecure: bool,
}

impl NewCluster {
    /// Checks the fields; the message names the wrong one.
    pub fn validate(&mut self) -> Result<(), FieldError> {
        let url = url::Url::parse(self.server.trim()).map_err(|e| FieldError::new("server", format!("{e}")))?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            return Err(FieldError::new("server", "the API server's https:// URL"));
        }
        crate::domain::check_secret_url(&url, self.insecure, "server")?;
        self.server = url.as_str().trim_end_matches('/').to_string();
        if self.token_env.is_empty() || !self.token_env.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(FieldError::new("token_env", "the NAME of the environment variable holding the bearer token"));
        }
        if let Some(pem) = &self.ca_pem {
            if pem_certificates(pem).is_empty() {
                return Err(FieldError::new("ca_pem", "no PEM certificate in it"));
            }
        }
        Ok(())
    }
}

/// The DER bytes of each `CERTIFICATE` block of a PEM bundle.
pub fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut cur: Option<String> = None;
    for line in pem.lines().map(str::trim) {
        match line {
            "-----BEGIN CERTIFICATE-----" => cur = Some(String::new()),
            "-----END CERTIFICATE-----" => {
                if let Some(b) = cur.take().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()) {
                    out.push(b);
                }
            }
            l => {
                if let Some(b) = cur.as_mut() {
                    b.push_str(l);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_validation_names_the_field() {
        let mut ok = NewCluster {
            name: crate::domain::ClusterName::parse("prod").unwrap(),
            server: "https://10.0.0.1:6443/".into(),
            token_env: "PROD_TOKEN".into(),
            ca_pem: None,
            insecure: false,
        };
        ok.validate().unwrap();
        assert_eq!(ok.server, "https://10.0.0.1:6443");
        let mut bad = NewCluster { token_env: "a b".into(), ..ok.clone() };
        assert!(bad.validate().unwrap_err().to_string().starts_with("token_env"));
        let mut creds = NewCluster { server: "https://admin:s3cret@10.0.0.1:6443".into(), ..ok.clone() };
        assert!(creds.validate().unwrap_err().to_string().starts_with("server: no credentials"));
        let mut bad = NewCluster { server: "ftp://x".into(), ..ok.clone() };
        assert!(bad.validate().unwrap_err().to_string().starts_with("server"));
        let mut bad = NewCluster { ca_pem: Some("junk".into()), ..ok.clone() };
        assert!(bad.validate().unwrap_err().to_string().starts_with("ca_pem"));
        // The bearer token never travels in clear to another host unless the operator says so.
        let mut clear = NewCluster { server: "http://10.0.0.1:6443".into(), ..ok.clone() };
        assert!(clear.validate().unwrap_err().to_string().contains("plain http"), "http to another host is refused");
        clear.insecure = true;
        clear.validate().unwrap();
        let mut local = NewCluster { server: "http://127.0.0.1:8001".into(), ..ok };
        local.validate().unwrap();
    }
}
