//! A fake SMS gateway speaking Alibaba Cloud's `SendSms` (RPC style): it checks each request's
//! HMAC-SHA1 signature with its own canonicalisation (form encoding patched to RFC 3986, as
//! the provider's PHP sample does) and answers as the provider does, refusals included.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Json, Response};
use axum::routing::post;
use axum::{Form, Router};
use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;

pub const KEY_ID: &str = "LTAI-test-key";
pub const KEY_SECRET: &str = "fake-gateway-secret";

/// How the gateway answers the next requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// `500` with `isp.SYSTEM_ERROR`: worth retrying.
    SystemError,
    /// `isv.MOBILE_NUMBER_ILLEGAL`: never worth retrying.
    IllegalNumber,
}

#[derive(Default)]
struct Inner {
    mode: Option<Mode>,
    attempts: usize,
    /// Accepted messages: (number, template, code).
    sent: Vec<(String, String, String)>,
}

#[derive(Clone)]
pub struct FakeGateway {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
}

fn rfc3986(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
        .replace('*', "%2A")
        .replace("%7E", "~")
}

fn expected_signature(params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().filter(|(k, _)| k != "Signature").collect();
    sorted.sort();
    let query = sorted
        .iter()
        .map(|(k, v)| format!("{}={}", rfc3986(k), rfc3986(v)))
        .collect::<Vec<_>>()
        .join("&");
    let to_sign = format!("POST&%2F&{}", rfc3986(&query));
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(format!("{KEY_SECRET}&").as_bytes()).unwrap();
    mac.update(to_sign.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn answer(status: StatusCode, code: &str) -> Response {
    (
        status,
        Json(json!({ "RequestId": "F655A8D5-B967-440B-8683-DAD6FF8DE990", "Code": code, "Message": code })),
    )
        .into_response()
}

async fn send_sms(State(gateway): State<FakeGateway>, Form(params): Form<Vec<(String, String)>>) -> Response {
    let get = |name: &str| params.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    let mut inner = gateway.inner.lock().unwrap();
    inner.attempts += 1;
    if get("AccessKeyId").as_deref() != Some(KEY_ID) {
        return answer(StatusCode::NOT_FOUND, "InvalidAccessKeyId.NotFound");
    }
    if get("Signature") != Some(expected_signature(&params)) {
        return answer(StatusCode::BAD_REQUEST, "SignatureDoesNotMatch");
    }
    if get("Action").as_deref() != Some("SendSms") || get("Version").as_deref() != Some("2017-05-25") {
        return answer(StatusCode::BAD_REQUEST, "InvalidAction.NotFound");
    }
    let template_param: serde_json::Value =
        serde_json::from_str(&get("TemplateParam").unwrap_or_default()).unwrap_or_default();
    let Some(code) = template_param["code"].as_str() else {
        return answer(StatusCode::BAD_REQUEST, "isv.TEMPLATE_MISSING_PARAMETERS");
    };
    match inner.mode.unwrap_or(Mode::Accept) {
        Mode::SystemError => answer(StatusCode::INTERNAL_SERVER_ERROR, "isp.SYSTEM_ERROR"),
        Mode::IllegalNumber => answer(StatusCode::OK, "isv.MOBILE_NUMBER_ILLEGAL"),
        Mode::Accept => {
            let record = (
                get("PhoneNumbers").unwrap_or_default(),
                get("TemplateCode").unwrap_or_default(),
                code.to_owned(),
            );
            inner.sent.push(record);
            let biz = format!("{}^0", inner.sent.len());
            (
                StatusCode::OK,
                Json(json!({ "RequestId": "A1", "Code": "OK", "Message": "OK", "BizId": biz })),
            )
                .into_response()
        }
    }
}

impl FakeGateway {
    pub async fn start(mode: Mode) -> FakeGateway {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let gateway = FakeGateway {
            inner: Arc::new(Mutex::new(Inner {
                mode: Some(mode),
                ..Inner::default()
            })),
            url: format!("http://{}/", listener.local_addr().unwrap()),
        };
        let app = Router::new().route("/", post(send_sms)).with_state(gateway.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        gateway
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = Some(mode);
    }

    pub fn attempts(&self) -> usize {
        self.inner.lock().unwrap().attempts
    }

    /// Messages accepted: (number, template, code).
    pub fn sent(&self) -> Vec<(String, String, String)> {
        self.inner.lock().unwrap().sent.clone()
    }

    /// The settings that point a server at this gateway.
    pub fn settings(&self) -> Vec<(&'static str, String)> {
        vec![
            ("KEEPSAKE_SMS_GATEWAY_URL", self.url.clone()),
            ("KEEPSAKE_SMS_ACCESS_KEY_ID", KEY_ID.to_owned()),
            ("KEEPSAKE_SMS_ACCESS_KEY_SECRET", KEY_SECRET.to_owned()),
        ]
    }
}
