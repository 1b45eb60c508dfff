//! CSRF protection for every state-changing request of the web pages.
//!
//! Each visitor holds a random nonce in an HttpOnly cookie; forms carry an HMAC of that nonce
//! and the session id (see `context`). This middleware, a layer of the web pages' routes (the
//! JSON API is not under it), checks every POST, PUT, PATCH and DELETE before any handler
//! runs: the token may come in the `csrf` form field, an `X-CSRF-Token` header, or (for
//! multipart uploads) a `csrf` query parameter. The API's one cookie-authenticated endpoint
//! states its own protection where it applies (`api::auth::SessionClaim`).

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::Method;
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

use super::context::RequestContext;
use super::error::AppError;

/// Forms larger than this are refused before parsing (uploads use multipart, not this path).
const MAX_FORM_BYTES: usize = 256 * 1024;

fn field(pairs: &[u8], name: &str) -> Option<String> {
    url::form_urlencoded::parse(pairs)
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub async fn guard(request: Request, next: Next) -> Response {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(request).await;
    }
    let Some(expected) = request
        .extensions()
        .get::<RequestContext>()
        .map(|c| c.csrf_token.clone())
    else {
        return AppError::CsrfRejected.into_response();
    };
    let (parts, body) = request.into_parts();
    let mut presented = parts
        .headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.query().and_then(|q| field(q.as_bytes(), "csrf")));
    let is_form = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    let body = if is_form {
        let Ok(bytes) = to_bytes(body, MAX_FORM_BYTES).await else {
            return AppError::BadRequest.into_response();
        };
        if presented.is_none() {
            presented = field(&bytes, "csrf");
        }
        Body::from(bytes)
    } else {
        body
    };
    let ok = presented.is_some_and(|p| bool::from(p.as_bytes().ct_eq(expected.as_bytes())));
    if !ok {
        tracing::warn!(path = %super::log_path::loggable(parts.uri.path()), "CSRF token missing or invalid");
        return AppError::CsrfRejected.into_response();
    }
    next.run(Request::from_parts(parts, body)).await
}
