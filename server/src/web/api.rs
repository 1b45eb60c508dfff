//! The JSON API for issuers, authenticated with `Authorization: Bearer <API key>`. Errors use
//! the platform's JSON error shape.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, State};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use serde_json::{Value, json};

use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::identity::{Decision, record_decision};
use crate::crypto;
use crate::domain::identity::IdentityStatus;
use crate::domain::ids::UserId;
use crate::domain::issuer::Issuer;
use crate::kyc::provider::{Callback, SIGNATURE_HEADER};
use crate::state::AppState;
use crate::store;

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
        let issuer =
            store::api_keys::authenticate(&state.services.db, &crypto::sha3_hex(key.trim().as_bytes()), Utc::now())
                .await?
                .ok_or(AppError::ApiKeyRequired)?;
        let issuer = store::issuers::find(&state.services.db, issuer)
            .await?
            .ok_or(AppError::ApiKeyRequired)?;
        if !issuer.status.is_active() {
            return Err(AppError::Forbidden);
        }
        Ok(Self(issuer))
    }
}

/// `GET /api/v1/issuer`: the issuer the key belongs to.
pub async fn issuer(State(_state): State<AppState>, ApiIssuer(issuer): ApiIssuer) -> AppResult<Json<Value>> {
    Ok(Json(json!({
        "id": issuer.id.0,
        "legal_name": issuer.legal_name,
        "credit_code": issuer.credit_code,
        "icp_filing": issuer.icp_filing,
        "blockchain_filing": issuer.blockchain_filing,
        "status": issuer.status.as_str(),
    })))
}

/// `POST /api/v1/kyc/callback`: the identity provider reports a result. The body must carry a
/// valid signature; only the pending submission the provider was asked about is decided.
pub async fn kyc_callback(
    State(state): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Value>> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(AppError::BadSignature)?;
    if !state.services.verifier.verify_callback(&body, signature) {
        tracing::warn!("identity callback with a bad signature refused");
        return Err(AppError::BadSignature);
    }
    let callback: Callback = serde_json::from_slice(&body).map_err(|_| AppError::BadRequest)?;
    // The reference is the one the request carried: `identity-{user}-{version}`.
    let (applicant, version) = callback
        .reference
        .strip_prefix("identity-")
        .and_then(|rest| rest.split_once('-'))
        .and_then(|(user, version)| Some((UserId(user.parse().ok()?), version.parse::<i32>().ok()?)))
        .ok_or(AppError::BadRequest)?;
    let decided = match callback.result.as_str() {
        "verified" => IdentityStatus::Pending.approve(),
        "rejected" => IdentityStatus::Pending.reject(
            callback
                .reason
                .as_deref()
                .filter(|r| !r.trim().is_empty())
                .unwrap_or("not confirmed by the identity verification service"),
        ),
        _ => return Err(AppError::BadRequest),
    }
    .map_err(|_| AppError::BadRequest)?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    if !store::identities::decide_by_provider(&txn, applicant, version, &callback.id, &decided, now).await? {
        return Err(AppError::ReviewConflict);
    }
    let decision = Decision {
        applicant,
        reviewer: None,
        to: &decided,
        request_id: ctx.request_id.clone(),
    };
    record_decision(&state, &txn, decision, now).await?;
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    tracing::info!(%applicant, result = decided.as_str(), "identity decided by the provider");
    Ok(Json(json!({ "status": decided.as_str() })))
}
