//! Who an API request is from: an issuer's API key (`Authorization: Bearer <key>`), or, for
//! claiming from an app, the signed-in person's session.

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;

use crate::domain::issuer::Issuer;
use crate::services::claims::valid_claim_key;
use crate::services::issuers::api_keys::{self, KeyRefused};
use crate::state::AppState;
use crate::web::context::{RequestContext, SessionUser};
use crate::web::error::AppError;

/// The issuer whose API key signed the request. A missing, unknown or revoked key is 401; a
/// key of an issuer that is not active (suspended, revoked) is 403.
pub struct ApiIssuer(pub Issuer);

impl FromRequestParts<AppState> for ApiIssuer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::ApiKeyRequired)?;
        match api_keys::authenticate(&state.services, key, Utc::now()).await? {
            Ok(issuer) => Ok(Self(issuer)),
            Err(KeyRefused::Unknown) => Err(AppError::ApiKeyRequired),
            Err(KeyRefused::IssuerInactive) => Err(AppError::Forbidden),
        }
    }
}

/// A claim sent by an app on behalf of the signed-in person: the session cookie and an
/// `Idempotency-Key` header (16 to 64 characters of `A-Z a-z 0-9 - _`), or 401
/// `claim_request_invalid`.
///
/// This is the one API endpoint a browser's cookie authenticates, and the JSON API is not under
/// the web pages' CSRF check: the required header is what protects it. A browser sends a
/// custom header cross-origin only after a CORS preflight, which this server never grants, so
/// a forged cross-site request cannot carry it.
pub struct SessionClaim {
    pub user: SessionUser,
    pub idempotency_key: String,
}

impl<S: Send + Sync> FromRequestParts<S> for SessionClaim {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let user = parts
            .extensions
            .get::<RequestContext>()
            .and_then(|ctx| ctx.user.clone());
        let key = parts
            .headers
            .get("idempotency-key")
            .and_then(|v| v.to_str().ok())
            .filter(|k| valid_claim_key(k));
        match (user, key) {
            (Some(user), Some(key)) => Ok(SessionClaim {
                user,
                idempotency_key: key.to_owned(),
            }),
            _ => Err(AppError::ClaimApiRequest),
        }
    }
}
