//! Sending escalation messages: e-mail over SMTP (lettre) and Slack-compatible JSON webhooks.

use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;

/// Where messages go out; built once from the configuration.
#[derive(Clone)]
pub struct Notifier {
    smtp: Result<(AsyncSmtpTransport<Tokio1Executor>, Mailbox), String>,
    http: reqwest::Client,
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
    pub fn from_config(c: &crate::config::Config) -> Notifier {
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
            .build()
            .expect("a plain HTTP client builds");
        Notifier { smtp, http }
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
                let r = self
                    .http
                    .post(address)
                    .json(&serde_json::json!({ "text": text }))
                    .send()
                    .await
                    .map_err(|e| format!("webhook: {}", e.without_url()))?;
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
