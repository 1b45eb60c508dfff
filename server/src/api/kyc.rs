//! `POST /kyc/callback`: the identity provider reports a result. The body must carry a valid
//! signature (`X-Keepsake-Signature`, HMAC-SHA3-256 of the body); only the pending submission
//! the provider was asked about is decided.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use chrono::Utc;
use serde::Serialize;

use crate::kyc::provider::SIGNATURE_HEADER;
use crate::services::identity;
use crate::state::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};

#[derive(Serialize)]
pub struct Decided {
    status: &'static str,
}

pub async fn callback(
    State(state): State<AppState>,
    ctx: RequestContext,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<Json<Decided>> {
    let signature = headers
        .get(SIGNATURE_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or(AppError::BadSignature)?;
    let decided =
        identity::decide_by_provider(&state.services, &body, signature, ctx.request_id.clone(), Utc::now()).await?;
    Ok(Json(Decided {
        status: decided.as_str(),
    }))
}
