//! OpenID Connect sign-in: discovery, Authorization Code flow with PKCE (S256), `state` and
//! `nonce`, the id_token's signature checked against the provider's JWKS (discovery is redone
//! once on an unknown key, as after a provider's key rotation), issuer/audience/expiry checked,
//! and RFC 9207's `iss` parameter checked when the provider sends it.

use base64::Engine as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreIdToken, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, SignatureVerificationError, TokenResponse,
};
use serde::{Deserialize, Serialize};
use std::str::FromStr as _;
use tokio::sync::RwLock;

/// The openidconnect client for the discovered metadata (a macro: its type is long and unnamed).
macro_rules! client {
    ($self:expr, $metadata:expr) => {
        CoreClient::from_provider_metadata(
            $metadata,
            ClientId::new($self.settings.client_id.clone()),
            $self.settings.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri($self.redirect.clone())
    };
}

/// What configures sign-in.
#[derive(Clone)]
pub struct OidcSettings {
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    /// `{public_url}/auth/callback`.
    pub redirect_url: String,
    pub scopes: Vec<String>,
    pub groups_claim: String,
}

/// A sign-in failure. The message is safe to show; it names the check that failed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OidcError(pub String);

fn err(context: &str, e: impl std::fmt::Display) -> OidcError {
    OidcError(format!("{context}: {e}"))
}

/// What a started sign-in keeps in the session until the provider sends the person back.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PendingLogin {
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub return_to: String,
}

/// The person, as the verified id_token describes them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedIdentity {
    pub issuer: String,
    pub subject: String,
    pub login: Option<String>,
    pub name: Option<String>,
    pub email: Option<String>,
    pub groups: Vec<String>,
}

/// The relying party.
pub struct Oidc {
    settings: OidcSettings,
    http: reqwest::Client,
    redirect: RedirectUrl,
    metadata: RwLock<Option<CoreProviderMetadata>>,
    end_session: RwLock<Option<String>>,
}

impl Oidc {
    /// A client for `settings`; discovery happens on first use (the provider may start later).
    pub fn new(settings: OidcSettings) -> anyhow::Result<Oidc> {
        // Never follow redirects from the provider's back channel (SSRF, token leaks).
        let http =
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).timeout(std::time::Duration::from_secs(15)).build()?;
        let redirect = RedirectUrl::new(settings.redirect_url.clone())
            .map_err(|e| anyhow::anyhow!("DRYDOCK_PUBLIC_URL gives an invalid callback URL: {e}"))?;
        Ok(Oidc { settings, http, redirect, metadata: RwLock::new(None), end_session: RwLock::new(None) })
    }

    /// The configured issuer.
    pub fn issuer(&self) -> &str {
        &self.settings.issuer
    }

    async fn metadata(&self, refresh: bool) -> Result<CoreProviderMetadata, OidcError> {
        if !refresh {
            if let Some(m) = self.metadata.read().await.clone() {
                return Ok(m);
            }
        }
        let issuer = IssuerUrl::new(self.settings.issuer.clone()).map_err(|e| err("the OIDC issuer URL is invalid", e))?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| err("the identity provider's discovery document could not be read", e))?;
        // end_session_endpoint is not in the core metadata type; read it from the same document.
        let doc_url = format!("{}/.well-known/openid-configuration", self.settings.issuer.trim_end_matches('/'));
        if let Ok(resp) = self.http.get(&doc_url).send().await {
            if let Ok(doc) = resp.json::<serde_json::Value>().await {
                *self.end_session.write().await = doc["end_session_endpoint"].as_str().map(str::to_string);
            }
        }
        *self.metadata.write().await = Some(m.clone());
        Ok(m)
    }

    /// Starts a sign-in: the provider URL to redirect to, and what to keep in the session.
    pub async fn begin(&self, return_to: &str) -> Result<(String, PendingLogin), OidcError> {
        let client = client!(self, self.metadata(false).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client.authorize_url(CoreAuthenticationFlow::AuthorizationCode, CsrfToken::new_random, Nonce::new_random);
        for s in &self.settings.scopes {
            if s != "openid" {
                req = req.add_scope(Scope::new(s.clone()));
            }
        }
        let (url, state, nonce) = req.set_pkce_challenge(challenge).url();
        Ok((
            url.to_string(),
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                return_to: return_to.to_string(),
            },
        ))
    }

    /// Finishes a sign-in from the callback's parameters.
    pub async fn complete(
        &self,
        pending: &PendingLogin,
        code: &str,
        state: &str,
        iss: Option<&str>,
    ) -> Result<VerifiedIdentity, OidcError> {
        if !constant_time_eq(state.as_bytes(), pending.state.as_bytes()) {
            return Err(OidcError("the sign-in response's state does not match this browser's sign-in".into()));
        }
        if let Some(iss) = iss {
            if iss.trim_end_matches('/') != self.settings.issuer.trim_end_matches('/') {
                return Err(OidcError(format!("the sign-in response came from issuer {iss:?}, not the configured one")));
            }
        }
        let metadata = self.metadata(false).await?;
        let client = client!(self, metadata);
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| err("the provider has no token endpoint", e))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| err("the provider refused the authorization code", e))?;
        let id_token = token.id_token().ok_or_else(|| OidcError("the provider returned no id_token".into()))?;
        self.verify_id_token(&id_token.to_string(), &pending.nonce).await
    }

    /// Checks an id_token (compact JWS) as the callback does: signature against the provider's
    /// JWKS (rediscovered once on an unknown key), issuer, audience, expiry and `nonce`; then
    /// reads the person and their groups from it.
    pub async fn verify_id_token(&self, raw: &str, nonce: &str) -> Result<VerifiedIdentity, OidcError> {
        let id_token = CoreIdToken::from_str(raw).map_err(|e| err("the id_token is not a valid JWT", e))?;
        let nonce = Nonce::new(nonce.to_string());
        let client = client!(self, self.metadata(false).await?);
        let claims = match id_token.claims(&client.id_token_verifier(), &nonce) {
            Ok(c) => c.clone(),
            // Unknown signing key (the Display text does not say so: match the variant): the
            // provider may have rotated its keys; rediscover once.
            Err(ClaimsVerificationError::SignatureVerification(SignatureVerificationError::NoMatchingKey)) => {
                let client = client!(self, self.metadata(true).await?);
                let verifier = client.id_token_verifier();
                let claims = id_token.claims(&verifier, &nonce).map_err(|e| err("the id_token is not valid", e))?.clone();
                claims
            }
            Err(e) => return Err(err("the id_token is not valid", e)),
        };
        // The signature is verified above; the groups claim is read from the same token's payload.
        let groups = raw
            .split('.')
            .nth(1)
            .and_then(|p| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(p.trim_end_matches('=')).ok())
            .and_then(|b: Vec<u8>| serde_json::from_slice::<serde_json::Value>(&b).ok())
            .map(|v| groups_from(&v[self.settings.groups_claim.as_str()]))
            .unwrap_or_default();
        Ok(VerifiedIdentity {
            issuer: claims.issuer().to_string(),
            subject: claims.subject().to_string(),
            login: claims.preferred_username().map(|u| u.to_string()),
            name: claims.name().and_then(|n| n.get(None)).map(|n| n.to_string()),
            email: claims.email().map(|e| e.to_string()),
            groups,
        })
    }

    /// Where to send the browser after a local sign-out, if the provider supports it.
    pub async fn end_session_url(&self, post_logout: &str) -> Option<String> {
        let end = self.end_session.read().await.clone()?;
        let mut url = url::Url::parse(&end).ok()?;
        url.query_pairs_mut().append_pair("client_id", &self.settings.client_id).append_pair("post_logout_redirect_uri", post_logout);
        Some(url.to_string())
    }
}

fn groups_from(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::Array(a) => a.iter().filter_map(|g| g.as_str().map(str::to_string)).collect(),
        serde_json::Value::String(s) => s.split([',', ' ']).filter(|g| !g.is_empty()).map(str::to_string).collect(),
        _ => vec![],
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
