//! Delivery: SMTP through lettre, or `.eml` files on disk (the embedded default).

use std::path::PathBuf;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::MailConfig;
use crate::store::outbox::QueuedMail;

/// Why a message could not be handed over.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// The receiving server refused the message for good; retrying cannot help.
    pub permanent: bool,
    pub message: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    File(AsyncFileTransport<Tokio1Executor>, PathBuf),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Transport::Smtp(_) => f.write_str("Transport::Smtp"),
            Transport::File(_, dir) => write!(f, "Transport::File({})", dir.display()),
        }
    }
}

impl Transport {
    pub fn from_config(config: &MailConfig, data_dir: &std::path::Path) -> anyhow::Result<Self> {
        match &config.smtp_url {
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.expose())
                    .map_err(|e| anyhow::anyhow!("invalid setting `mail.smtp_url` (KEEPSAKE_SMTP_URL): {e}"))?
                    .timeout(Some(std::time::Duration::from_secs(30)))
                    .build();
                Ok(Transport::Smtp(transport))
            }
            None => {
                let dir = data_dir.join("mail");
                std::fs::create_dir_all(&dir)?;
                Ok(Transport::File(AsyncFileTransport::new(&dir), dir))
            }
        }
    }

    /// Builds the MIME message. The Message-ID is derived from the outbox row, so a copy that
    /// were ever delivered twice would be recognisable as the same message.
    pub fn build(from: &Mailbox, queued: &QueuedMail) -> Result<Message, SendError> {
        let invalid = |e: String| SendError {
            permanent: true,
            message: e,
        };
        let to: Mailbox = queued
            .mail
            .recipient
            .parse()
            .map_err(|e| invalid(format!("bad recipient: {e}")))?;
        let domain = from.email.domain().to_owned();
        Message::builder()
            .from(from.clone())
            .to(to)
            .subject(queued.mail.subject.clone())
            .message_id(Some(format!(
                "<outbox-{}-{}@{domain}>",
                queued.id,
                queued.created_at.timestamp()
            )))
            .multipart(MultiPart::alternative_plain_html(
                queued.mail.text_body.clone(),
                queued.mail.html_body.clone(),
            ))
            .map_err(|e| invalid(e.to_string()))
    }

    pub async fn send(&self, message: Message) -> Result<(), SendError> {
        match self {
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| SendError {
                permanent: e.is_permanent(),
                message: e.to_string(),
            }),
            Transport::File(file, _) => file.send(message).await.map(drop).map_err(|e| SendError {
                permanent: false,
                message: e.to_string(),
            }),
        }
    }
}
