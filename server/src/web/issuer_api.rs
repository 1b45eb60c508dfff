//! The issuer API for collections (API key): statistics, the claims with masked holders, and
//! claim-code batches. Each route answers only for the key's own issuer's collections.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use chrono::Utc;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::ApiIssuer;
use super::claim_codes::{codes_allowed, new_batch};
use super::collections::claim_rows;
use super::error::{AppError, AppResult};
use crate::domain::claim_code::MAX_CODES_PER_BATCH;
use crate::domain::collection::ClaimMode;
use crate::domain::collection::Collection;
use crate::domain::ids::CollectionId;
use crate::state::AppState;
use crate::store;

/// The collection, only if it belongs to the key's issuer (404 otherwise, as for outsiders).
async fn own_collection(state: &AppState, issuer: &ApiIssuer, id: i64) -> AppResult<Collection> {
    store::collections::find(&state.services.db, CollectionId(id))
        .await?
        .filter(|c| c.issuer == issuer.0.id)
        .ok_or(AppError::NotFound)
}

/// `GET /api/v1/collections/{id}/stats`
pub async fn stats(State(state): State<AppState>, issuer: ApiIssuer, Path(id): Path<i64>) -> AppResult<Json<Value>> {
    let record = own_collection(&state, &issuer, id).await?;
    let codes = match record.terms.claim_mode {
        ClaimMode::ClaimCodes => {
            let (generated, used) = store::claim_codes::counts(&state.services.db, record.id).await?;
            json!({ "generated": generated, "used": used })
        }
        ClaimMode::Open | ClaimMode::Allowlist => Value::Null,
    };
    let edition = u64::from(record.terms.edition_size);
    Ok(Json(json!({
        "id": record.id.0,
        "title": record.terms.title,
        "status": record.status.as_str(),
        "claim_mode": record.terms.claim_mode.as_str(),
        "edition_size": edition,
        "claimed": record.claimed_count,
        "remaining": edition.saturating_sub(record.claimed_count),
        "codes": codes,
    })))
}

/// `GET /api/v1/collections/{id}/claims`
pub async fn claims(State(state): State<AppState>, issuer: ApiIssuer, Path(id): Path<i64>) -> AppResult<Json<Value>> {
    let record = own_collection(&state, &issuer, id).await?;
    let claims: Vec<Value> = claim_rows(&state, record.id)
        .await?
        .into_iter()
        .map(|row| {
            json!({
                "serial": row.serial,
                "claimed_at": row.claimed_at.to_rfc3339(),
                "holder": row.holder,
                "status": row.status,
                "ledger_index": row.ledger_index,
            })
        })
        .collect();
    Ok(Json(json!({ "collection": record.id.0, "claims": claims })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodesRequest {
    count: u32,
}

/// `POST /api/v1/collections/{id}/codes`: a new batch, in the clear in this answer only.
pub async fn codes(
    State(state): State<AppState>,
    issuer: ApiIssuer,
    Path(id): Path<i64>,
    body: Bytes,
) -> AppResult<Response> {
    let request: CodesRequest = serde_json::from_slice(&body).map_err(|_| AppError::BadRequest)?;
    let record = own_collection(&state, &issuer, id).await?;
    if record.terms.claim_mode != ClaimMode::ClaimCodes || !codes_allowed(&record) {
        return Err(AppError::CollectionStateConflict);
    }
    if !(1..=MAX_CODES_PER_BATCH).contains(&request.count) {
        return Err(AppError::BadRequest);
    }
    let txn = store::begin(&state.services.db).await?;
    let (batch, codes) = new_batch(&txn, &record, request.count, None, None, Utc::now()).await?;
    txn.commit().await?;
    let codes: Vec<Value> = codes
        .iter()
        .map(|code| {
            json!({
                "code": code.grouped(),
                "link": state.services.absolute_url(&format!("/c/{}", code.as_str())),
            })
        })
        .collect();
    Ok((StatusCode::CREATED, Json(json!({ "batch": batch, "codes": codes }))).into_response())
}
