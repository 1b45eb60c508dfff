//! The JSON API for issuers, authenticated with `Authorization: Bearer <API key>`. Errors use
//! the platform's JSON error shape.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use chrono::Utc;
use serde_json::{Value, json};

use super::error::{AppError, AppResult};
use crate::app::AppState;
use crate::crypto;
use crate::store;
use crate::store::issuers::IssuerRecord;

/// The issuer whose API key signed the request. A missing, unknown or revoked key is 401; a
/// key of an issuer that is not active (suspended, revoked) is 403.
pub struct ApiIssuer(pub IssuerRecord);

impl FromRequestParts<AppState> for ApiIssuer {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let key = parts
            .headers
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or(AppError::ApiKeyRequired)?;
        let issuer = store::api_keys::authenticate(&state.db, &crypto::sha3_hex(key.trim().as_bytes()), Utc::now())
            .await?
            .ok_or(AppError::ApiKeyRequired)?;
        let issuer = store::issuers::find(&state.db, issuer)
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
