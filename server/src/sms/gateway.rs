//! An SMS gateway spoken as Alibaba Cloud's SMS API speaks (`SendSms`, RPC style): a form
//! POST whose parameters are signed with HMAC-SHA1 over their canonical form, answering JSON
//! with a `Code` that is `OK` or names the refusal. Codes from the provider's side (`isp.*`),
//! throttling and an empty balance are worth retrying; the rest (a bad number, a template or
//! signature problem, a wrong key) are not.

use std::time::Duration;

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;

use super::{SendError, Sms};
use crate::config::{Secret, SmsGateway};

/// The parameters sent on every request, besides the message's own.
const VERSION: &str = "2017-05-25";

/// A configured gateway.
#[derive(Debug, Clone)]
pub struct Gateway {
    http: reqwest::Client,
    url: url::Url,
    access_key_id: String,
    secret: Secret,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Answer {
    code: String,
    #[serde(default)]
    biz_id: String,
}

/// RFC 3986 percent-encoding as the signature canonicalises: unreserved characters stay,
/// everything else is `%XX` in upper case (a space is `%20`).
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// The signature of `params` (without `Signature`) for a request by `method`, under `secret`.
pub fn signature(method: &str, params: &[(String, String)], secret: &str) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("{method}&{}&{}", percent_encode("/"), percent_encode(&canonical));
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(format!("{secret}&").as_bytes()).expect("HMAC takes any key length");
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether a refusal code is worth retrying.
fn transient(code: &str) -> bool {
    code.starts_with("isp.")
        || code.starts_with("Throttling")
        || code == "ServiceUnavailable"
        || code == "isv.AMOUNT_NOT_ENOUGH"
}

impl Gateway {
    pub fn new(config: &SmsGateway) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(15)).build()?;
        Ok(Self {
            http,
            url: config.url.clone(),
            access_key_id: config.access_key_id.clone(),
            secret: config.access_key_secret.clone(),
        })
    }

    /// Sends one templated message; answers the gateway's id for it.
    pub async fn send(&self, sms: &Sms<'_>, sign_name: &str, template: &str) -> Result<String, SendError> {
        let mut params: Vec<(String, String)> = [
            ("AccessKeyId", self.access_key_id.as_str()),
            ("Action", "SendSms"),
            ("Format", "JSON"),
            ("PhoneNumbers", sms.to.for_gateway()),
            ("RegionId", "cn-hangzhou"),
            ("SignName", sign_name),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", template),
            ("Version", VERSION),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        params.push(("SignatureNonce".to_owned(), uuid::Uuid::new_v4().to_string()));
        params.push((
            "Timestamp".to_owned(),
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        ));
        params.push((
            "TemplateParam".to_owned(),
            serde_json::json!({ "code": sms.code }).to_string(),
        ));
        params.push(("OutId".to_owned(), sms.id.to_string()));
        let signed = signature("POST", &params, self.secret.expose());
        params.push(("Signature".to_owned(), signed));

        let response = self
            .http
            .post(self.url.clone())
            .form(&params)
            .send()
            .await
            .map_err(|e| SendError {
                permanent: false,
                message: format!("the SMS gateway did not answer: {}", e.without_url()),
            })?;
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        let answer: Option<Answer> = serde_json::from_str(&body).ok();
        match answer {
            Some(answer) if answer.code == "OK" => Ok(answer.biz_id),
            Some(answer) => Err(SendError {
                permanent: !transient(&answer.code),
                // The gateway's own message may repeat the number; the code says enough.
                message: format!("the SMS gateway refused the message: {}", answer.code),
            }),
            None => Err(SendError {
                permanent: false,
                message: format!("the SMS gateway answered {status} without a result"),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_follows_the_published_example() {
        // Alibaba Cloud's SendSms signature example (SignatureVersion 1.0, a GET, key
        // "testSecret"), whose signed URL the SMS documentation prints.
        let params: Vec<(String, String)> = [
            ("AccessKeyId", "testId"),
            ("Action", "SendSms"),
            ("Format", "XML"),
            ("OutId", "123"),
            ("PhoneNumbers", "15300000001"),
            ("RegionId", "cn-hangzhou"),
            ("SignName", "阿里云短信测试专用"),
            ("SignatureMethod", "HMAC-SHA1"),
            ("SignatureNonce", "45e25e9b-0a6f-4070-8c85-2956eda1b466"),
            ("SignatureVersion", "1.0"),
            ("TemplateCode", "SMS_71390007"),
            ("TemplateParam", "{\"customer\":\"test\"}"),
            ("Timestamp", "2017-07-12T02:42:19Z"),
            ("Version", "2017-05-25"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(signature("GET", &params, "testSecret"), "zJDF+Lrzhj/ThnlvIToysFRq6t4=");
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved_characters() {
        assert_eq!(percent_encode("a b*~/中"), "a%20b%2A~%2F%E4%B8%AD");
    }

    #[test]
    fn provider_side_refusals_are_retried_and_the_rest_are_not() {
        for code in ["isp.SYSTEM_ERROR", "Throttling.User", "isv.AMOUNT_NOT_ENOUGH"] {
            assert!(transient(code), "{code}");
        }
        for code in [
            "isv.MOBILE_NUMBER_ILLEGAL",
            "isv.BUSINESS_LIMIT_CONTROL",
            "SignatureDoesNotMatch",
        ] {
            assert!(!transient(code), "{code}");
        }
    }
}
