//! The public log over JSON and text: the latest checkpoint and the one of any size a batch
//! ended at, the verifier keys, entries, receipts, proofs and the anchors on a chain.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::PageQuery;
use crate::domain::page::{self, Cursor, PageSize};
use crate::ledger::receipt::{self, Receipt, ReceiptEntry};
use crate::services::ledger::log;
use crate::state::AppState;
use crate::web::error::{AppError, AppResult};

fn text(body: String) -> Response {
    ([(CONTENT_TYPE, "text/plain; charset=utf-8")], body).into_response()
}

/// `GET /ledger/checkpoint`: the latest signed checkpoint, as a signed note.
pub async fn checkpoint(State(state): State<AppState>) -> AppResult<Response> {
    let latest = log::latest_checkpoint(&state.services)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(text(latest.note))
}

/// `GET /ledger/checkpoints/{size}`: the checkpoint signed when the log reached `size` (one
/// per batch), for monitors that follow the log; it never changes, so caches keep it.
pub async fn checkpoint_at(State(state): State<AppState>, Path(size): Path<u64>) -> AppResult<Response> {
    let checkpoint = log::checkpoint_at(&state.services, size)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok((
        [
            (CONTENT_TYPE, "text/plain; charset=utf-8"),
            (CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        checkpoint.note,
    )
        .into_response())
}

/// `GET /ledger/key`: the key that signs checkpoints now.
pub async fn verifier_key(State(state): State<AppState>) -> Response {
    text(format!("{}\n", state.services.checkpoint_signer.verifier_key()))
}

#[derive(Serialize)]
pub struct VerifierKeys {
    current: String,
    retired: Vec<RetiredKey>,
}

#[derive(Serialize)]
pub struct RetiredKey {
    verifier_key: String,
    retired_at: String,
}

/// `GET /ledger/keys`: the key that signs checkpoints now and every key that signed them
/// before a rotation, so that receipts signed long ago keep verifying.
pub async fn verifier_keys(State(state): State<AppState>) -> AppResult<Json<VerifierKeys>> {
    let retired = log::retired_keys(&state.services).await?;
    Ok(Json(VerifierKeys {
        current: state.services.checkpoint_signer.verifier_key(),
        retired: retired
            .into_iter()
            .map(|key| RetiredKey {
                verifier_key: key.verifier_key,
                retired_at: key.retired_at.to_rfc3339(),
            })
            .collect(),
    }))
}

/// `GET /ledger/entries/{index}`
pub async fn entry(State(state): State<AppState>, Path(index): Path<u64>) -> AppResult<Json<ReceiptEntry>> {
    let entry = log::entry(&state.services, index).await?.ok_or(AppError::NotFound)?;
    Ok(Json(entry))
}

/// `GET /ledger/entries/{index}/receipt`: a receipt for any entry against the latest
/// checkpoint.
pub async fn entry_receipt(State(state): State<AppState>, Path(index): Path<u64>) -> AppResult<Json<Receipt>> {
    let receipt = log::receipt_at(&state.services, index)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(receipt))
}

#[derive(Serialize)]
pub struct Anchors {
    anchors: Vec<AnchorView>,
    next: Option<String>,
}

#[derive(Serialize)]
pub struct AnchorView {
    tree_size: u64,
    chain_id: u64,
    transaction: String,
    block_number: Option<u64>,
    sent_at: String,
    included_at: Option<String>,
}

/// `GET /ledger/anchors`: the transactions that anchored checkpoints on the chain and were
/// included, the latest first.
pub async fn anchors(
    State(state): State<AppState>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> AppResult<Json<Anchors>> {
    let Query(query) = query.map_err(|_| AppError::BadRequest)?;
    let size = PageSize::parse(query.limit.as_deref())?;
    let after = page::after::<i64>(query.after.as_deref())?;
    let page = log::anchors(&state.services, after, size).await?;
    Ok(Json(Anchors {
        next: page.next.map(|size| size.encode()),
        anchors: page
            .items
            .into_iter()
            .map(|row| AnchorView {
                tree_size: row.tree_size,
                chain_id: row.chain_id,
                transaction: row.transaction_hash,
                block_number: row.block_number,
                sent_at: row.sent_at.to_rfc3339(),
                included_at: row.included_at.map(|at| at.to_rfc3339()),
            })
            .collect(),
    }))
}

#[derive(Deserialize)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

#[derive(Serialize)]
pub struct InclusionProof {
    index: u64,
    size: u64,
    proof: Vec<String>,
}

/// `GET /ledger/proofs/inclusion?index=…&size=…`
pub async fn inclusion_proof(
    State(state): State<AppState>,
    Query(q): Query<InclusionQuery>,
) -> AppResult<Json<InclusionProof>> {
    let proof = log::inclusion_proof(&state.services, q.index, q.size).await?;
    Ok(Json(InclusionProof {
        index: q.index,
        size: q.size,
        proof: receipt::encode_hashes(&proof),
    }))
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    from: u64,
    to: u64,
}

#[derive(Serialize)]
pub struct ConsistencyProof {
    from: u64,
    to: u64,
    proof: Vec<String>,
}

/// `GET /ledger/proofs/consistency?from=…&to=…`
pub async fn consistency_proof(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> AppResult<Json<ConsistencyProof>> {
    let proof = log::consistency_proof(&state.services, q.from, q.to).await?;
    Ok(Json(ConsistencyProof {
        from: q.from,
        to: q.to,
        proof: receipt::encode_hashes(&proof),
    }))
}
