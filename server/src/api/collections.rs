//! Collections over the API: an issuer's own collections with its API key (statistics, the
//! claims with masked holders, a new batch of claim codes), and claiming a token from an app
//! with the signed-in person's session.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde::{Deserialize, Serialize};

use super::PageQuery;
use super::auth::{ApiIssuer, SessionClaim};
use crate::domain::claim_stats::mask_email;
use crate::domain::collection::{ClaimMode, Collection};
use crate::domain::ids::CollectionId;
use crate::domain::page::{self, Cursor, PageSize};
use crate::paths;
use crate::services::collections::claims as claim_list;
use crate::services::{claims, codes, collections};
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};

/// The collection, only if it belongs to the key's issuer (404 otherwise, as for outsiders).
async fn own_collection(state: &AppState, issuer: &ApiIssuer, id: CollectionId) -> AppResult<Collection> {
    Ok(collections::of_issuer(&state.services, issuer.0.id, id).await?)
}

#[derive(Serialize)]
pub struct Stats {
    id: i64,
    title: String,
    status: &'static str,
    claim_mode: &'static str,
    edition_size: u64,
    /// The youngest age that may claim: the platform's minimum, or the collection's if higher.
    minimum_age: u8,
    /// The artwork is labelled AI-generated (declared by the issuer or flagged by a reviewer).
    ai_generated: bool,
    claimed: u64,
    remaining: u64,
    /// Generated and used codes, for a claim-code collection.
    codes: Option<CodeCounts>,
}

#[derive(Serialize)]
pub struct CodeCounts {
    generated: u64,
    used: u64,
}

/// `GET /collections/{id}/stats`
pub async fn stats(
    State(state): State<AppState>,
    issuer: ApiIssuer,
    Path(id): Path<CollectionId>,
) -> AppResult<Json<Stats>> {
    let collection = own_collection(&state, &issuer, id).await?;
    let codes = match collection.terms.claim_mode {
        ClaimMode::ClaimCodes => {
            let (generated, used) = claim_list::code_counts(&state.services, &collection).await?;
            Some(CodeCounts { generated, used })
        }
        ClaimMode::Open | ClaimMode::Allowlist => None,
    };
    Ok(Json(Stats {
        id: collection.id.0,
        status: collection.status.as_str(),
        claim_mode: collection.terms.claim_mode.as_str(),
        edition_size: u64::from(collection.terms.edition_size),
        minimum_age: state.services.minimum_age.with(collection.terms.minimum_age).years(),
        ai_generated: collection.ai_generated(),
        claimed: collection.claimed_count,
        remaining: collection.remaining(),
        title: collection.terms.title,
        codes,
    }))
}

#[derive(Serialize)]
pub struct Claims {
    collection: i64,
    claims: Vec<Claim>,
    /// The cursor of the next page (`?after=`), `null` on the last page.
    next: Option<String>,
}

#[derive(Serialize)]
pub struct Claim {
    serial: u32,
    claimed_at: String,
    /// The holder's address, masked.
    holder: String,
    status: &'static str,
    ledger_index: Option<i64>,
}

/// `GET /collections/{id}/claims`: a page of claims in serial order.
pub async fn claims(
    State(state): State<AppState>,
    issuer: ApiIssuer,
    Path(id): Path<CollectionId>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> AppResult<Json<Claims>> {
    let Query(query) = query.map_err(|_| AppError::BadRequest)?;
    let size = PageSize::parse(query.limit.as_deref())?;
    let after = page::after::<u32>(query.after.as_deref())?;
    let collection = own_collection(&state, &issuer, id).await?;
    let page = claim_list::page(&state.services, collection.id, after, size).await?;
    Ok(Json(Claims {
        collection: collection.id.0,
        next: page.next.map(|serial| serial.encode()),
        claims: page
            .items
            .into_iter()
            .map(|row| Claim {
                serial: row.serial,
                claimed_at: row.claimed_at.to_rfc3339(),
                holder: row.holder.map(|e| mask_email(e.as_str())).unwrap_or_default(),
                status: row.status.as_str(),
                ledger_index: row.ledger_index,
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodesRequest {
    count: u32,
}

#[derive(Serialize)]
pub struct Batch {
    batch: i32,
    codes: Vec<IssuedCode>,
}

#[derive(Serialize)]
pub struct IssuedCode {
    code: String,
    link: String,
}

/// `POST /collections/{id}/codes`: a new batch, in the clear in this answer only.
pub async fn codes(
    State(state): State<AppState>,
    issuer: ApiIssuer,
    Path(id): Path<CollectionId>,
    body: Bytes,
) -> AppResult<Response> {
    let request: CodesRequest = serde_json::from_slice(&body).map_err(|_| AppError::BadRequest)?;
    let collection = own_collection(&state, &issuer, id).await?;
    let (batch, issued) =
        codes::generate_for_api(&state.services, &issuer.0, &collection, request.count, Utc::now()).await?;
    let codes = issued
        .iter()
        .map(|code| IssuedCode {
            code: code.grouped(),
            link: state.services.absolute_url(&paths::redeem(code.as_str())),
        })
        .collect();
    Ok((StatusCode::CREATED, Json(Batch { batch, codes })).into_response())
}

#[derive(Serialize)]
pub struct Claimed {
    token: i64,
    collection: i64,
    serial: u32,
    url: String,
}

/// `POST /collections/{id}/claims`: the claim of a collection's page, for apps, with the
/// session cookie and an `Idempotency-Key` header ([`SessionClaim`]).
pub async fn claim(
    State(state): State<AppState>,
    request: SessionClaim,
    Path(id): Path<CollectionId>,
) -> AppResult<Response> {
    let claimant = request.user.claimant();
    let minted = claims::claim(&state.services, &claimant, id, &request.idempotency_key, None).await?;
    let claimed = Claimed {
        token: minted.token.0,
        collection: minted.collection.0,
        serial: minted.serial,
        url: paths::token(minted.token),
    };
    Ok((StatusCode::CREATED, Json(claimed)).into_response())
}
