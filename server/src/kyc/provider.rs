//! Who decides an identity check: a reviewer (the default) or an external identity-verification
//! provider reached over HTTP.
//!
//! ## The provider protocol
//!
//! Start a check: `POST {provider_url}/v1/verifications` with `Authorization: Bearer <key>`
//! and JSON `{"reference", "name", "id_number", "callback_url"}`. The provider answers
//! `202 {"id": "<provider id>"}`, or an error `{"error": {"code", "message"}}`: `400
//! invalid_request`, `401 unauthorized`, `429 rate_limited`, `5xx unavailable`.
//!
//! Report the result: the provider later `POST`s to `callback_url` the JSON `{"id",
//! "reference", "result": "verified" | "rejected", "reason"}` with the header
//! `X-Keepsake-Signature: <hex HMAC-SHA3-256 of the body under the key>`.
//!
//! A provider error never approves anything: the submission stays pending and can be retried.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

use crate::config::{KycConfig, Secret};

/// Header carrying the callback's signature.
pub const SIGNATURE_HEADER: &str = "x-keepsake-signature";
/// Attempts per start request when the provider is unavailable.
const ATTEMPTS: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(10);

/// What the verifier needs to start a check. Holds identity data: never log it.
pub struct VerificationRequest<'a> {
    pub reference: String,
    pub legal_name: &'a str,
    pub id_number: &'a str,
    pub callback_url: String,
}

/// How a started check proceeds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// A reviewer will decide (manual verification).
    Queued,
    /// The provider accepted it and will call back.
    Sent { provider_id: String },
}

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("the verification provider is unavailable: {0}")]
    Unavailable(String),
    #[error("the verification provider refused the request: {code}")]
    Refused { code: String },
}

/// The configured identity verifier.
#[derive(Debug)]
pub enum IdentityVerifier {
    Manual,
    Http(HttpProvider),
}

impl IdentityVerifier {
    pub fn from_config(config: &KycConfig) -> anyhow::Result<Self> {
        Ok(match config {
            KycConfig::Manual => IdentityVerifier::Manual,
            KycConfig::Http { provider_url, key } => {
                IdentityVerifier::Http(HttpProvider::new(provider_url.clone(), key.clone())?)
            }
        })
    }

    /// The name stored with each submission.
    pub fn name(&self) -> &'static str {
        match self {
            IdentityVerifier::Manual => "manual",
            IdentityVerifier::Http(_) => "http",
        }
    }

    pub async fn start(&self, request: VerificationRequest<'_>) -> Result<Started, ProviderError> {
        match self {
            IdentityVerifier::Manual => Ok(Started::Queued),
            IdentityVerifier::Http(provider) => provider.start(request).await,
        }
    }

    /// Checks a callback's signature; always false for manual verification.
    pub fn verify_callback(&self, body: &[u8], signature: &str) -> bool {
        match self {
            IdentityVerifier::Manual => false,
            IdentityVerifier::Http(provider) => {
                crate::crypto::verify_hmac_sha3_hex(provider.key.expose().as_bytes(), body, signature)
            }
        }
    }
}

pub struct HttpProvider {
    client: reqwest::Client,
    base: Url,
    key: Secret,
}

impl std::fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "HttpProvider({})", self.base)
    }
}

#[derive(Deserialize)]
struct Accepted {
    id: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: String,
}

impl HttpProvider {
    pub fn new(base: Url, key: Secret) -> anyhow::Result<Self> {
        let client = reqwest::Client::builder().timeout(TIMEOUT).build()?;
        Ok(Self { client, base, key })
    }

    async fn start(&self, request: VerificationRequest<'_>) -> Result<Started, ProviderError> {
        let url = self
            .base
            .join("v1/verifications")
            .map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        let body = serde_json::json!({
            "reference": request.reference,
            "name": request.legal_name,
            "id_number": request.id_number,
            "callback_url": request.callback_url,
        });
        let mut last = String::new();
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
            }
            let response = match self
                .client
                .post(url.clone())
                .bearer_auth(self.key.expose())
                .json(&body)
                .send()
                .await
            {
                Ok(response) => response,
                Err(e) => {
                    last = if e.is_timeout() {
                        "timed out".to_owned()
                    } else {
                        "connection failed".to_owned()
                    };
                    continue;
                }
            };
            let status = response.status();
            if status.is_success() {
                let accepted: Accepted = response
                    .json()
                    .await
                    .map_err(|_| ProviderError::Unavailable("malformed answer".to_owned()))?;
                return Ok(Started::Sent {
                    provider_id: accepted.id,
                });
            }
            let code = response
                .json::<ErrorBody>()
                .await
                .map(|b| b.error.code)
                .unwrap_or_else(|_| status.as_str().to_owned());
            if status.as_u16() == 429 || status.is_server_error() {
                last = code;
                continue;
            }
            return Err(ProviderError::Refused { code });
        }
        Err(ProviderError::Unavailable(last))
    }
}

/// A provider's callback body.
#[derive(Debug, Deserialize)]
pub struct Callback {
    pub id: String,
    pub reference: String,
    pub result: String,
    #[serde(default)]
    pub reason: Option<String>,
}
