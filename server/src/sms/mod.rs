//! Outgoing text messages (codes for log-in and for adding a number), and how they leave:
//! through an SMS gateway over HTTP, or as JSON files under `<data_dir>/sms` (the embedded
//! default, as mail has `.eml` files). Message bodies are the gateway's templates; the file
//! transport writes the text a phone would show, in the recipient's language.

mod gateway;

use std::path::{Path, PathBuf};

use serde_json::json;

pub use gateway::Gateway;

use crate::config::SmsConfig;
use crate::domain::phone::{CODE_LIFETIME, CodePurpose, PhoneNumber};
use crate::i18n::Locale;

/// Why a message could not be handed over.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct SendError {
    /// The gateway refused it for good (a bad number, a template problem); retrying cannot help.
    pub permanent: bool,
    pub message: String,
}

/// One code to text.
#[derive(Debug)]
pub struct Sms<'a> {
    pub id: i64,
    pub to: &'a PhoneNumber,
    pub purpose: CodePurpose,
    pub code: &'a str,
    pub locale: Locale,
}

/// Where texts go.
#[derive(Debug, Clone)]
pub struct SmsTransport {
    sign_name: String,
    template_log_in: String,
    template_add_phone: String,
    route: Route,
}

#[derive(Debug, Clone)]
enum Route {
    Gateway(Gateway),
    Files(PathBuf),
}

impl SmsTransport {
    pub fn from_config(config: &SmsConfig, data_dir: &Path) -> anyhow::Result<Self> {
        let route = match &config.gateway {
            Some(gateway) => Route::Gateway(Gateway::new(gateway)?),
            None => {
                let dir = data_dir.join("sms");
                std::fs::create_dir_all(&dir)?;
                Route::Files(dir)
            }
        };
        Ok(Self {
            sign_name: config.sign_name.clone(),
            template_log_in: config.template_log_in.clone(),
            template_add_phone: config.template_add_phone.clone(),
            route,
        })
    }

    fn template(&self, purpose: CodePurpose) -> &str {
        match purpose {
            CodePurpose::LogIn => &self.template_log_in,
            CodePurpose::AddPhone => &self.template_add_phone,
        }
    }

    /// The text as a phone shows it.
    pub fn text(&self, sms: &Sms<'_>) -> String {
        let key = match sms.purpose {
            CodePurpose::LogIn => "sms.log_in",
            CodePurpose::AddPhone => "sms.add_phone",
        };
        let minutes = CODE_LIFETIME.num_minutes().to_string();
        sms.locale.tf(
            key,
            &[("sign", &self.sign_name), ("code", sms.code), ("minutes", &minutes)],
        )
    }

    /// Sends `sms`; answers the gateway's id for it (the file's name for files).
    pub async fn send(&self, sms: &Sms<'_>) -> Result<String, SendError> {
        let template = self.template(sms.purpose);
        match &self.route {
            Route::Gateway(gateway) => gateway.send(sms, &self.sign_name, template).await,
            Route::Files(dir) => {
                let name = format!("{}-{}.json", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"), sms.id);
                let body = json!({
                    "to": sms.to.as_str(),
                    "sign_name": self.sign_name,
                    "template": template,
                    "params": { "code": sms.code },
                    "text": self.text(sms),
                });
                let bytes = serde_json::to_vec_pretty(&body).map_err(|e| SendError {
                    permanent: true,
                    message: e.to_string(),
                })?;
                tokio::fs::write(dir.join(&name), bytes).await.map_err(|e| SendError {
                    permanent: false,
                    message: format!("cannot write the message file: {e}"),
                })?;
                Ok(name)
            }
        }
    }
}
