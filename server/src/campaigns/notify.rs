//! Sending escalation messages: e-mail over SMTP (lettre) and Slack-compatible JSON webhooks.

use crate::domain::network::AddressPolicy;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

/// How host names become addresses (the system's resolver; a stub in tests).
pub trait Lookup: Send + Sync {
    fn lookup(&self, host: String) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<IpAddr>>> + Send>>;
}

/// The system's resolver (getaddrinfo through tokio).
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup(&self, host: String) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<Vec<IpAddr>>> + Send>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// The webhook client's resolver: a name's addresses are checked against the policy, and only
/// those allowed are handed to the connector, so the address checked is the address connected to
/// (a name that resolves again to somewhere else between check and connection cannot happen).
struct CheckedResolver {
    policy: Arc<AddressPolicy>,
    lookup: Arc<dyn Lookup>,
}

impl reqwest::dns::Resolve for CheckedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let (policy, lookup, host) = (self.policy.clone(), self.lookup.clone(), name.as_str().to_string());
        Box::pin(async move {
            let addrs = lookup.lookup(host.clone()).await?;
            let mut refused = None;
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|ip| policy.check_ip(*ip).map_err(|e| refused = Some(e)).is_ok())
                .map(|ip| SocketAddr::new(ip, 0))
                .collect();
            if allowed.is_empty() {
                let why = refused.unwrap_or_else(|| "it has no address".into());
                return Err(format!("{host} may not be reached: {why}").into());
            }
            Ok(Box::new(allowed.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Where messages go out; built once from the configuration.
#[derive(Clone)]
pub struct Notifier {
    smtp: Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String>,
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier").field("smtp", &self.smtp.as_ref().map(|_| "configured")).finish()
    }
}

impl Notifier {
    /// From the configuration: `smtp_url` as lettre's `from_url` reads it, `smtp_from` the sender,
    /// credentials when both are set. A missing or wrong SMTP setting is kept as the reason every
    /// e-mail fails (and is retried), not as a startup failure: webhooks and the inbox still work.
    pub fn from_config(c: &crate::config::Config) -> anyhow::Result<Notifier> {
        Notifier::with_lookup(c, Arc::new(SystemLookup))
    }

    /// As `from_config`, resolving webhook hosts with `lookup`.
    pub fn with_lookup(c: &crate::config::Config, lookup: Arc<dyn Lookup>) -> anyhow::Result<Notifier> {
        let policy = Arc::new(c.webhook_policy()?);
        let smtp = (|| {
            let url = c.smtp_url.as_deref().ok_or("no SMTP server is configured (DRYDOCK_SMTP_URL)")?;
            let from = c.smtp_from.as_deref().ok_or("no sender is configured (DRYDOCK_SMTP_FROM)")?;
            let from: Mailbox = from.parse().map_err(|e| format!("DRYDOCK_SMTP_FROM {from:?}: {e}"))?;
            let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                .map_err(|e| format!("DRYDOCK_SMTP_URL {}: {e}", crate::domain::redact_url(url)))?
                .timeout(Some(Duration::from_secs(20)));
            if let (Some(u), Some(p)) = (&c.smtp_username, &c.smtp_password) {
                builder = builder.credentials(Credentials::new(u.clone(), p.clone()));
            }
            Ok::<_, String>((builder.build(), from))
        })();
        if let Err(e) = &smtp {
            tracing::debug!(reason = %e, "escalation e-mail is off");
        }
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .dns_resolver(Arc::new(CheckedResolver { policy: policy.clone(), lookup }))
            .build()?;
        Ok(Notifier { smtp, http, policy })
    }

    /// A webhook URL checked before sending: its literal address (never resolved, so checked
    /// here) or its name (resolved and checked by the client's resolver).
    fn webhook_url(&self, address: &str) -> Result<url::Url, String> {
        let url = url::Url::parse(address).map_err(|e| format!("webhook: {e}"))?;
        let host = url.host().ok_or("webhook: the URL has no host")?;
        self.policy.check_host(&host).map_err(|e| format!("webhook refused: {e}"))?;
        Ok(url)
    }

    /// Sends one message; answers what the receiver said, or why it failed.
    pub async fn send(&self, channel: &str, address: &str, subject: &str, body: &str) -> Result<String, String> {
        match channel {
            "email" => {
                let (transport, from) = self.smtp.as_ref().map_err(Clone::clone)?;
                let to: Mailbox = address.parse().map_err(|e| format!("{address:?} is not an e-mail address: {e}"))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(subject)
                    .body(body.to_string())
                    .map_err(|e| format!("the message could not be built: {e}"))?;
                let answer = transport.send(message).await.map_err(|e| format!("SMTP: {e}"))?;
                Ok(format!("SMTP {}", answer.code()))
            }
            "webhook" => {
                let text = format!("*{subject}*\n{body}");
                let url = self.webhook_url(address)?;
                let r = self
                    .http
                    .post(url)
                    .json(&serde_json::json!({ "text": text }))
                    .send()
                    .await
                    .map_err(|e| format!("webhook: {}", crate::domain::error_chain(&e.without_url())))?;
                if r.status().is_success() {
                    Ok(format!("HTTP {}", r.status().as_u16()))
                } else {
                    Err(format!("webhook answered HTTP {}", r.status().as_u16()))
                }
            }
            "inbox" => Ok("in the inbox".into()),
            other => Err(format!("no such channel: {other}")),
        }
    }
}
