//! The public ledger API: checkpoint, verifier key, entries and proofs, and hash attestations
//! by issuers (存证) that answer with a receipt anyone can verify offline.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::Utc;
use sea_orm::TransactionTrait;
use serde::Deserialize;
use serde_json::{Value, json};

use super::api::ApiIssuer;
use super::error::{AppError, AppResult};
use crate::app::AppState;
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::merkle::{self, Hash};
use crate::store;
use crate::store::ledger::EntryRow;

/// How long an attestation request waits for its entry to be sequenced.
const RECEIPT_WAIT: Duration = Duration::from_secs(10);
/// Longest attestation label, in bytes.
const MAX_LABEL_BYTES: usize = 200;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex_digest(text: &str) -> Option<Hash> {
    if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn body_json(body: &EntryBody) -> Value {
    match body {
        EntryBody::HashAttestation {
            issuer_id,
            sha3_256,
            label,
        } => {
            json!({ "issuer_id": issuer_id, "sha3_256": hex(sha3_256), "label": label })
        }
        EntryBody::IssuerApproved {
            issuer_id,
            credit_code,
            legal_name,
        } => {
            json!({ "issuer_id": issuer_id, "credit_code": credit_code, "legal_name": legal_name })
        }
        EntryBody::IssuerSuspended { issuer_id }
        | EntryBody::IssuerReinstated { issuer_id }
        | EntryBody::IssuerRevoked { issuer_id } => json!({ "issuer_id": issuer_id }),
        EntryBody::CollectionPublished {
            issuer_id,
            collection_id,
            content_hash,
            edition_size,
        } => json!({
            "issuer_id": issuer_id, "collection_id": collection_id,
            "content_hash": hex(content_hash), "edition_size": edition_size,
        }),
        EntryBody::TokenMinted {
            collection_id,
            serial,
            content_hash,
            holder_commitment,
        } => json!({
            "collection_id": collection_id, "serial": serial,
            "content_hash": hex(content_hash), "holder_commitment": hex(holder_commitment),
        }),
        EntryBody::TokenFrozen { collection_id, serial } | EntryBody::TokenRevoked { collection_id, serial } => {
            json!({ "collection_id": collection_id, "serial": serial })
        }
    }
}

fn entry_json(row: &EntryRow) -> AppResult<Value> {
    let entry = Entry::decode(&row.entry).map_err(|e| AppError::Internal(e.into()))?;
    Ok(json!({
        "index": row.idx,
        "entry": STANDARD.encode(&row.entry),
        "leaf_hash": hex(&row.leaf_hash),
        "type": entry.body.type_name(),
        "timestamp_ms": entry.timestamp_ms,
        "fields": body_json(&entry.body),
    }))
}

pub async fn checkpoint(State(state): State<AppState>) -> AppResult<Response> {
    let latest = store::ledger::latest_checkpoint(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], latest.note).into_response())
}

pub async fn verifier_key(State(state): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", state.checkpoint_signer.verifier_key()),
    )
        .into_response()
}

pub async fn entry(State(state): State<AppState>, Path(index): Path<u64>) -> AppResult<Json<Value>> {
    let row = store::ledger::entry(&state.db, index)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(entry_json(&row)?))
}

#[derive(Deserialize)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

/// The inclusion proof of `index` in the tree of `size` (which must not exceed the log).
async fn inclusion(state: &AppState, index: u64, size: u64) -> AppResult<Vec<Hash>> {
    let (current, _) = store::ledger::state(&state.db).await?;
    if size > current || index >= size {
        return Err(AppError::BadRequest);
    }
    let ids = merkle::inclusion_nodes(index, size).map_err(|_| AppError::BadRequest)?;
    let nodes = store::ledger::nodes(&state.db, &ids).await?;
    merkle::inclusion_proof(index, size, &nodes).map_err(|_| AppError::BadRequest)
}

fn encode_proof(proof: &[Hash]) -> Vec<String> {
    proof.iter().map(|h| STANDARD.encode(h)).collect()
}

pub async fn inclusion_proof(State(state): State<AppState>, Query(q): Query<InclusionQuery>) -> AppResult<Json<Value>> {
    let proof = inclusion(&state, q.index, q.size).await?;
    Ok(Json(
        json!({ "index": q.index, "size": q.size, "proof": encode_proof(&proof) }),
    ))
}

#[derive(Deserialize)]
pub struct ConsistencyQuery {
    from: u64,
    to: u64,
}

pub async fn consistency_proof(
    State(state): State<AppState>,
    Query(q): Query<ConsistencyQuery>,
) -> AppResult<Json<Value>> {
    let (current, _) = store::ledger::state(&state.db).await?;
    if q.to > current || q.from > q.to {
        return Err(AppError::BadRequest);
    }
    let ids = merkle::consistency_nodes(q.from, q.to).map_err(|_| AppError::BadRequest)?;
    let nodes = store::ledger::nodes(&state.db, &ids).await?;
    let proof = merkle::consistency_proof(q.from, q.to, &nodes).map_err(|_| AppError::BadRequest)?;
    Ok(Json(
        json!({ "from": q.from, "to": q.to, "proof": encode_proof(&proof) }),
    ))
}

/// A receipt: the entry, its inclusion proof in the latest checkpoint's tree, the checkpoint
/// and the key that signed it. Everything needed to verify offline.
async fn receipt(state: &AppState, row: &EntryRow) -> AppResult<Value> {
    let checkpoint = store::ledger::latest_checkpoint(&state.db)
        .await?
        .ok_or(AppError::NotFound)?;
    let size = u64::try_from(checkpoint.tree_size).unwrap_or(0);
    let proof = inclusion(state, row.idx as u64, size).await?;
    Ok(json!({
        "entry": entry_json(row)?,
        "inclusion_proof": { "size": size, "hashes": encode_proof(&proof) },
        "checkpoint": checkpoint.note,
        "verifier_key": state.checkpoint_signer.verifier_key(),
    }))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationRequest {
    sha3_256: String,
    #[serde(default)]
    label: String,
}

/// `POST /api/v1/attestations`: queues a hash attestation and answers with its receipt once
/// sequenced (`201`), or `202` with the queue id if sequencing takes longer than usual.
pub async fn attest(
    State(state): State<AppState>,
    ApiIssuer(issuer): ApiIssuer,
    body: axum::body::Bytes,
) -> AppResult<Response> {
    let request: AttestationRequest = serde_json::from_slice(&body).map_err(|_| AppError::InvalidAttestation)?;
    let digest = parse_hex_digest(&request.sha3_256).ok_or(AppError::InvalidAttestation)?;
    let label = request.label.trim().to_owned();
    if label.len() > MAX_LABEL_BYTES || label.chars().any(char::is_control) {
        return Err(AppError::InvalidAttestation);
    }
    let entry = Entry {
        timestamp_ms: u64::try_from(Utc::now().timestamp_millis()).unwrap_or(0),
        body: EntryBody::HashAttestation {
            issuer_id: issuer.id.0 as u64,
            sha3_256: digest,
            label,
        },
    }
    .encode()
    .map_err(|_| AppError::InvalidAttestation)?;
    let txn = state.db.begin().await?;
    let queued = store::ledger::enqueue(&txn, entry, Utc::now()).await?;
    txn.commit().await?;
    state.ledger_wakeup.notify_one();

    let deadline = tokio::time::Instant::now() + RECEIPT_WAIT;
    loop {
        let sequenced = state.ledger_sequenced.notified();
        if let Some(row) = store::ledger::entry_from_queue(&state.db, queued).await? {
            return Ok((StatusCode::CREATED, Json(receipt(&state, &row).await?)).into_response());
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok((
                StatusCode::ACCEPTED,
                Json(json!({ "status": "queued", "queue_id": queued })),
            )
                .into_response());
        }
        tokio::select! {
            () = sequenced => {}
            () = tokio::time::sleep(Duration::from_millis(50)) => {}
        }
    }
}
