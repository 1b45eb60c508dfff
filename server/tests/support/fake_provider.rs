//! A local stand-in for a commercial identity-verification provider, speaking the protocol
//! documented in `server/src/kyc/provider.rs`, error answers included. It records what it
//! received and can send signed (or forged) callbacks.

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{Value, json};

/// How the provider answers new verification requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// Accepts and at once calls back "verified", the way an automated provider answers in
    /// seconds: possibly before the server has even read the answer to its request.
    Approve,
    /// 503 every time (the server should retry, then give up and keep the submission pending).
    Unavailable,
    /// 400 invalid_request.
    Refuse,
}

#[derive(Default)]
struct Inner {
    mode: Option<Mode>,
    attempts: usize,
    accepted: Vec<Value>,
}

#[derive(Clone)]
pub struct FakeProvider {
    inner: Arc<Mutex<Inner>>,
    pub url: String,
    pub key: String,
}

async fn verifications(State(provider): State<FakeProvider>, headers: HeaderMap, Json(body): Json<Value>) -> Response {
    let error = |status: StatusCode, code: &str| {
        (status, Json(json!({ "error": { "code": code, "message": code } }))).into_response()
    };
    let mut inner = provider.inner.lock().unwrap();
    inner.attempts += 1;
    let authorised = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {}", provider.key));
    if !authorised {
        return error(StatusCode::UNAUTHORIZED, "unauthorized");
    }
    let mode = inner.mode.unwrap_or(Mode::Accept);
    match mode {
        Mode::Unavailable => return error(StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        Mode::Refuse => return error(StatusCode::BAD_REQUEST, "invalid_request"),
        Mode::Accept | Mode::Approve => {}
    }
    for field in ["reference", "name", "id_number", "callback_url"] {
        if !body[field].is_string() {
            return error(StatusCode::BAD_REQUEST, "invalid_request");
        }
    }
    let id = format!("prov-{}", inner.accepted.len() + 1);
    let mut record = body.clone();
    record["id"] = json!(id);
    inner.accepted.push(record);
    if mode == Mode::Approve {
        let (provider, index, key) = (provider.clone(), inner.accepted.len() - 1, provider.key.clone());
        tokio::spawn(async move {
            let answer = provider.call_back(index, "verified", None, &key).await;
            assert_eq!(answer.status(), StatusCode::OK, "the quick answer is taken");
        });
    }
    (StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response()
}

impl FakeProvider {
    pub async fn start(mode: Mode) -> FakeProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let provider = FakeProvider {
            inner: Arc::new(Mutex::new(Inner {
                mode: Some(mode),
                ..Inner::default()
            })),
            url: format!("http://{}/", listener.local_addr().unwrap()),
            key: "fake-provider-shared-secret".to_owned(),
        };
        let app = Router::new()
            .route("/v1/verifications", post(verifications))
            .with_state(provider.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        provider
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner.lock().unwrap().mode = Some(mode);
    }

    /// Requests received so far, accepted or not.
    pub fn attempts(&self) -> usize {
        self.inner.lock().unwrap().attempts
    }

    /// Verification requests accepted so far, each with the `id` the provider gave it.
    pub fn accepted(&self) -> Vec<Value> {
        self.inner.lock().unwrap().accepted.clone()
    }

    /// Reports a result for accepted request `index`, signed with `key` (the real key unless a
    /// test forges one). Returns the server's answer.
    pub async fn call_back(&self, index: usize, result: &str, reason: Option<&str>, key: &str) -> reqwest::Response {
        let request = self.accepted()[index].clone();
        let body = serde_json::to_vec(&json!({
            "id": request["id"],
            "reference": request["reference"],
            "result": result,
            "reason": reason,
        }))
        .unwrap();
        let signature = keepsake::crypto::hmac_sha3_hex(key.as_bytes(), &body);
        reqwest::Client::new()
            .post(request["callback_url"].as_str().unwrap())
            .header("content-type", "application/json")
            .header("x-keepsake-signature", signature)
            .body(body)
            .send()
            .await
            .unwrap()
    }
}
