//! The public ledger API: checkpoint, verifier key, entries and proofs, and hash attestations
//! by issuers (存证) that answer with a receipt anyone can verify offline.

use std::time::Duration;

use axum::Json;
use axum::extract::multipart::Field;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, Multipart, Path, Query, Request, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};
use sha3::{Digest, Sha3_256};

use super::api::ApiIssuer;
use super::error::{AppError, AppResult};
use crate::crypto::{hex, parse_digest_hex, sha3_256};
use crate::domain::attestation::{AttestationLabel, MAX_ATTESTED_FILE_BYTES};
use crate::domain::ids::IssuerId;
use crate::domain::issuer::Issuer;
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::merkle::{self, Hash};
use crate::ledger::receipt::{self, InclusionProof, Receipt, ReceiptEntry};
use crate::services::attestation_intake::NewAttestation;
use crate::services::ledger::sequencer::Sequenced;
use crate::state::AppState;
use crate::store;
use crate::store::ledger::{CheckpointRow, EntryRow};

/// How long an attestation request waits for its entry to be sequenced.
const RECEIPT_WAIT: Duration = Duration::from_secs(10);

/// How often a waiting attestation request looks in the store for its entry, in case a batch
/// of another server appended it.
const STORE_POLL: Duration = Duration::from_millis(250);

fn receipt_entry(row: &EntryRow) -> AppResult<ReceiptEntry> {
    let leaf: Hash =
        row.leaf_hash.as_slice().try_into().map_err(|_| {
            AppError::Internal(anyhow::anyhow!("stored leaf hash of entry {} is not 32 bytes", row.idx))
        })?;
    ReceiptEntry::new(row.idx as u64, &row.entry, &leaf).map_err(|e| AppError::Internal(e.into()))
}

pub async fn checkpoint(State(state): State<AppState>) -> AppResult<Response> {
    let latest = store::ledger::latest_checkpoint(&state.services.db)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(([(CONTENT_TYPE, "text/plain; charset=utf-8")], latest.note).into_response())
}

/// `GET /api/v1/ledger/checkpoints/{size}`: the checkpoint signed when the log reached `size`
/// (one per batch), for monitors that follow the log; it never changes, so caches keep it.
pub async fn checkpoint_for(State(state): State<AppState>, Path(size): Path<u64>) -> AppResult<Response> {
    let checkpoint = store::ledger::checkpoint_for(&state.services.db, size)
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

/// This log's verifier keys: the current one, then those it retired, newest first.
pub(super) async fn verifier_keys(state: &AppState) -> AppResult<Vec<String>> {
    let mut keys = vec![state.services.checkpoint_signer.verifier_key()];
    let retired = store::installation::retired_ledger_keys(&state.services.db).await?;
    keys.extend(retired.into_iter().rev().map(|key| key.verifier_key));
    Ok(keys)
}

/// `GET /api/v1/ledger/keys`: the key that signs checkpoints now and every key that signed
/// them before a rotation, so that receipts signed long ago keep verifying.
pub async fn verifier_keys_listed(State(state): State<AppState>) -> AppResult<Json<Value>> {
    let retired = store::installation::retired_ledger_keys(&state.services.db).await?;
    Ok(Json(json!({
        "current": state.services.checkpoint_signer.verifier_key(),
        "retired": retired
            .iter()
            .map(|key| json!({ "verifier_key": key.verifier_key, "retired_at": key.retired_at.to_rfc3339() }))
            .collect::<Vec<_>>(),
    })))
}

pub async fn verifier_key(State(state): State<AppState>) -> Response {
    (
        [(CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", state.services.checkpoint_signer.verifier_key()),
    )
        .into_response()
}

pub async fn entry(State(state): State<AppState>, Path(index): Path<u64>) -> AppResult<Json<ReceiptEntry>> {
    let row = store::ledger::entry(&state.services.db, index)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(receipt_entry(&row)?))
}

/// `GET /api/v1/ledger/entries/{index}/receipt`: a receipt for any entry against the latest
/// checkpoint.
pub async fn entry_receipt(State(state): State<AppState>, Path(index): Path<u64>) -> AppResult<Json<Receipt>> {
    let row = store::ledger::entry(&state.services.db, index)
        .await?
        .ok_or(AppError::NotFound)?;
    let checkpoint = latest_checkpoint(&state).await?;
    Ok(Json(receipt(&state, &row, &checkpoint).await?))
}

#[derive(Deserialize)]
pub struct InclusionQuery {
    index: u64,
    size: u64,
}

/// The inclusion proof of `index` in the tree of `size` (which must not exceed the log).
async fn inclusion(state: &AppState, index: u64, size: u64) -> AppResult<Vec<Hash>> {
    let current = store::ledger::state(&state.services.db).await?.size;
    if size > current {
        return Err(AppError::BadRequest);
    }
    stored_inclusion(state, index, size).await
}

/// The inclusion proof of `index` in a tree of `size` the log is known to have reached (that of
/// a stored checkpoint), from the stored nodes.
async fn stored_inclusion(state: &AppState, index: u64, size: u64) -> AppResult<Vec<Hash>> {
    // The latest batch knows the right edge of its tree: a proof in it reads fewer nodes.
    let edge = state
        .services
        .ledger_sequenced
        .borrow()
        .as_ref()
        .map(|batch| batch.right_edge().clone())
        .filter(|edge| edge.size() == size);
    if let Some(edge) = edge {
        let ids = merkle::inclusion_nodes_beside(&edge, index).map_err(|_| AppError::BadRequest)?;
        let nodes = store::ledger::nodes(&state.services.db, &ids).await?;
        return merkle::inclusion_proof_beside(&edge, index, &nodes).map_err(|_| AppError::BadRequest);
    }
    let ids = merkle::inclusion_nodes(index, size).map_err(|_| AppError::BadRequest)?;
    let nodes = store::ledger::nodes(&state.services.db, &ids).await?;
    merkle::inclusion_proof(merkle::LOG_HASH, index, size, &nodes).map_err(|_| AppError::BadRequest)
}

pub async fn inclusion_proof(State(state): State<AppState>, Query(q): Query<InclusionQuery>) -> AppResult<Json<Value>> {
    let proof = inclusion(&state, q.index, q.size).await?;
    Ok(Json(
        json!({ "index": q.index, "size": q.size, "proof": receipt::encode_hashes(&proof) }),
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
    let current = store::ledger::state(&state.services.db).await?.size;
    if q.to > current || q.from > q.to {
        return Err(AppError::BadRequest);
    }
    let ids = merkle::consistency_nodes(q.from, q.to).map_err(|_| AppError::BadRequest)?;
    let nodes = store::ledger::nodes(&state.services.db, &ids).await?;
    let proof = merkle::consistency_proof(merkle::LOG_HASH, q.from, q.to, &nodes).map_err(|_| AppError::BadRequest)?;
    Ok(Json(
        json!({ "from": q.from, "to": q.to, "proof": receipt::encode_hashes(&proof) }),
    ))
}

/// Queues an entry recorded at `now` in the caller's transaction; returns its queue row. The
/// bodies passed here are built by the server, so an entry that cannot be encoded is a bug.
pub(super) async fn queue_entry(
    txn: &impl sea_orm::ConnectionTrait,
    body: EntryBody,
    now: chrono::DateTime<Utc>,
) -> AppResult<i64> {
    let entry = Entry::at(now, body)
        .encode()
        .map_err(|e| AppError::Internal(e.into()))?;
    Ok(store::ledger::enqueue(txn, entry, now).await?)
}

/// [`queue_entry`] for several entries at once.
pub(super) async fn queue_entries(
    txn: &impl sea_orm::ConnectionTrait,
    bodies: Vec<EntryBody>,
    now: chrono::DateTime<Utc>,
) -> AppResult<()> {
    let entries = bodies
        .into_iter()
        .map(|body| Entry::at(now, body).encode())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| AppError::Internal(e.into()))?;
    store::ledger::enqueue_many(txn, &entries, now).await?;
    Ok(())
}

pub(super) async fn latest_checkpoint(state: &AppState) -> AppResult<CheckpointRow> {
    store::ledger::latest_checkpoint(&state.services.db)
        .await?
        .ok_or(AppError::NotFound)
}

/// A receipt for `row` against `checkpoint`: everything needed to verify offline.
pub(super) async fn receipt(state: &AppState, row: &EntryRow, checkpoint: &CheckpointRow) -> AppResult<Receipt> {
    let size = checkpoint.tree_size as u64;
    let proof = stored_inclusion(state, row.idx as u64, size).await?;
    Ok(signed_receipt(
        state,
        receipt_entry(row)?,
        size,
        &proof,
        checkpoint.note.clone(),
    ))
}

/// A receipt of this log for `entry` with its inclusion `proof` in the tree of `size` that
/// `checkpoint` signs.
fn signed_receipt(state: &AppState, entry: ReceiptEntry, size: u64, proof: &[Hash], checkpoint: String) -> Receipt {
    Receipt {
        format: receipt::FORMAT.to_owned(),
        entry,
        inclusion_proof: InclusionProof::new(size, proof),
        checkpoint,
        verifier_key: state.services.checkpoint_signer.verifier_key(),
        holder: None,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttestationRequest {
    sha3_256: String,
    #[serde(default)]
    label: String,
}

/// What an issuer asked to attest.
struct Attestation {
    digest: Hash,
    label: AttestationLabel,
}

impl Attestation {
    fn from_json(body: &[u8]) -> AppResult<Self> {
        let request: AttestationRequest = serde_json::from_slice(body).map_err(|_| AppError::InvalidAttestation)?;
        Ok(Self {
            digest: parse_digest_hex(&request.sha3_256).ok_or(AppError::InvalidAttestation)?,
            label: AttestationLabel::parse(&request.label).map_err(|_| AppError::InvalidAttestation)?,
        })
    }

    /// A multipart form with exactly one non-empty `file`, hashed as it streams in and never
    /// stored, and an optional `label`.
    async fn from_multipart(mut form: Multipart) -> AppResult<Self> {
        let (mut digest, mut label) = (None, None);
        while let Some(field) = form.next_field().await.map_err(multipart_error)? {
            match field.name() {
                Some("file") if digest.is_none() => {
                    digest = Some(hash_upload(field).await.map_err(|e| match e {
                        UploadError::TooLarge => AppError::FileTooLarge,
                        UploadError::Empty | UploadError::Broken => AppError::InvalidAttestation,
                    })?);
                }
                Some("label") if label.is_none() => {
                    let text = field.text().await.map_err(multipart_error)?;
                    label = Some(AttestationLabel::parse(&text).map_err(|_| AppError::InvalidAttestation)?);
                }
                _ => return Err(AppError::InvalidAttestation),
            }
        }
        Ok(Self {
            digest: digest.ok_or(AppError::InvalidAttestation)?,
            label: label.unwrap_or_default(),
        })
    }
}

/// Why an uploaded file could not be hashed.
pub(super) enum UploadError {
    Empty,
    TooLarge,
    /// The upload broke off or was not valid multipart.
    Broken,
}

/// Hashes an uploaded file with SHA3-256 as it streams in, without keeping it, refusing empty
/// files and files over [`MAX_ATTESTED_FILE_BYTES`].
pub(super) async fn hash_upload(mut field: Field<'_>) -> Result<Hash, UploadError> {
    let (mut hasher, mut length) = (Sha3_256::new(), 0usize);
    while let Some(chunk) = field.chunk().await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            UploadError::TooLarge
        } else {
            UploadError::Broken
        }
    })? {
        length += chunk.len();
        if length > MAX_ATTESTED_FILE_BYTES {
            return Err(UploadError::TooLarge);
        }
        hasher.update(&chunk);
    }
    if length == 0 {
        return Err(UploadError::Empty);
    }
    Ok(hasher.finalize().into())
}

fn multipart_error(err: axum::extract::multipart::MultipartError) -> AppError {
    if err.status() == StatusCode::PAYLOAD_TOO_LARGE {
        AppError::FileTooLarge
    } else {
        AppError::InvalidAttestation
    }
}

#[derive(Deserialize)]
pub struct AttestParams {
    /// Whether to wait for the entry to be sequenced and answer with its receipt.
    #[serde(default = "waits_by_default")]
    wait: bool,
}

fn waits_by_default() -> bool {
    true
}

/// `POST /api/v1/attestations[?wait=false]`: queues a hash attestation and answers with its
/// receipt once sequenced (`201`), or `202` with the queue id when asked not to wait or if
/// sequencing takes longer than usual. The body is JSON with the hash, or a multipart form
/// with the file to hash.
pub async fn attest(
    State(state): State<AppState>,
    ApiIssuer(issuer): ApiIssuer,
    params: Result<Query<AttestParams>, QueryRejection>,
    request: Request,
) -> AppResult<Response> {
    let Query(params) = params.map_err(|_| AppError::InvalidAttestation)?;
    let multipart = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let attestation = if multipart {
        let form = Multipart::from_request(request, &state)
            .await
            .map_err(|_| AppError::InvalidAttestation)?;
        Attestation::from_multipart(form).await?
    } else {
        let body = axum::body::Bytes::from_request(request, &state)
            .await
            .map_err(|_| AppError::InvalidAttestation)?;
        Attestation::from_json(&body)?
    };
    let now = Utc::now();
    let body = EntryBody::HashAttestation {
        issuer_id: issuer.id.0 as u64,
        sha3_256: attestation.digest,
        label_sha3_256: sha3_256(attestation.label.as_str().as_bytes()),
    };
    let entry = Entry::at(now, body)
        .encode()
        .map_err(|_| AppError::InvalidAttestation)?;
    // Subscribed before the entry is queued, so the batch that appends it cannot be missed.
    let mut batches = state.services.ledger_sequenced.subscribe();
    let attestation = NewAttestation {
        issuer: issuer.id,
        digest: attestation.digest,
        label: attestation.label.as_str().to_owned(),
        entry,
        now,
    };
    let digest = attestation.digest;
    let queued = state
        .services
        .attestation_intake
        .submit(&state.services.db, attestation)
        .await
        .map_err(|e| AppError::Internal(e.into()))?;
    state.services.ledger_wakeup.notify_one();

    let queued_answer = || {
        let body = json!({ "status": "queued", "queue_id": queued, "sha3_256": hex(&digest) });
        (StatusCode::ACCEPTED, Json(body)).into_response()
    };
    if !params.wait {
        return Ok(queued_answer());
    }
    let deadline = tokio::time::Instant::now() + RECEIPT_WAIT;
    let mut in_store = false;
    loop {
        let batch = batches.borrow_and_update().clone();
        if let Some(batch) = batch {
            if let Some(receipt) = receipt_from_batch(&state, &batch, queued)? {
                return Ok((StatusCode::CREATED, Json(receipt)).into_response());
            }
            in_store |= batch.last_queued >= queued;
        }
        if in_store && let Some(row) = store::ledger::entry_from_queue(&state.services.db, queued).await? {
            let checkpoint = latest_checkpoint(&state).await?;
            return Ok((StatusCode::CREATED, Json(receipt(&state, &row, &checkpoint).await?)).into_response());
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(queued_answer());
        }
        tokio::select! {
            changed = batches.changed() => {
                if changed.is_err() {
                    // No more batches from this server (it is shutting down): the store will tell.
                    tokio::time::sleep(STORE_POLL).await;
                    in_store = true;
                }
            }
            // Another server of the installation may have sequenced it.
            () = tokio::time::sleep(STORE_POLL) => in_store = true,
        }
    }
}

/// The receipt of the entry queued as `queued` from the batch that appended it, if this one did.
fn receipt_from_batch(state: &AppState, batch: &Sequenced, queued: i64) -> AppResult<Option<Receipt>> {
    let Some((index, bytes, proof)) = batch.entry(queued) else {
        return Ok(None);
    };
    let entry =
        ReceiptEntry::new(index, bytes, &merkle::LOG_HASH.leaf(bytes)).map_err(|e| AppError::Internal(e.into()))?;
    Ok(Some(signed_receipt(
        state,
        entry,
        batch.size,
        &proof,
        batch.checkpoint.clone(),
    )))
}

/// One attestation of a hash, as the public sees it.
pub(super) struct PublicAttestation {
    pub issuer: Option<Issuer>,
    pub label: String,
    pub attested_at: DateTime<Utc>,
    pub receipt: Receipt,
}

/// Every sequenced attestation of `digest` with a fresh receipt against `checkpoint`.
pub(super) async fn attestations_of(
    state: &AppState,
    digest: &Hash,
    checkpoint: &CheckpointRow,
) -> AppResult<Vec<PublicAttestation>> {
    let mut out = Vec::new();
    for (attestation, entry) in store::attestations::of_digest(&state.services.db, digest).await? {
        if entry.idx >= checkpoint.tree_size {
            continue;
        }
        let receipt = receipt(state, &entry, checkpoint).await?;
        // The entry holds the label's digest: a stored label it does not vouch for is not shown.
        let vouched = match Entry::decode(&entry.entry).map(|entry| entry.body) {
            Ok(EntryBody::HashAttestation { label_sha3_256, .. }) => {
                sha3_256(attestation.label.as_bytes()) == label_sha3_256
            }
            _ => true,
        };
        out.push(PublicAttestation {
            issuer: store::issuers::find(&state.services.db, IssuerId(attestation.issuer_id)).await?,
            label: if vouched { attestation.label } else { String::new() },
            attested_at: DateTime::from_timestamp_millis(receipt.entry.timestamp_ms as i64)
                .unwrap_or(attestation.created_at),
            receipt,
        });
    }
    Ok(out)
}

/// `GET /api/v1/attestations/{sha3_256}`: who attested this hash and when, with proofs.
pub async fn attestations(State(state): State<AppState>, Path(digest): Path<String>) -> AppResult<Json<Value>> {
    let digest = parse_digest_hex(&digest).ok_or(AppError::InvalidDigest)?;
    let checkpoint = match store::ledger::latest_checkpoint(&state.services.db).await? {
        Some(checkpoint) => checkpoint,
        None => return Ok(Json(json!({ "sha3_256": hex(&digest), "attestations": [] }))),
    };
    let attestations: Vec<Value> = attestations_of(&state, &digest, &checkpoint)
        .await?
        .into_iter()
        .map(|a| {
            json!({
                "issuer": a.issuer.map(|i| json!({ "id": i.id.0, "legal_name": i.legal_name, "status": i.status.as_str() })),
                "label": a.label,
                "attested_at": a.attested_at.to_rfc3339(),
                "index": a.receipt.entry.index,
                "receipt": a.receipt,
            })
        })
        .collect();
    Ok(Json(json!({
        "sha3_256": hex(&digest),
        "checkpoint": checkpoint.note,
        "attestations": attestations,
    })))
}
