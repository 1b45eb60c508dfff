//! The public `/verify` page: look up a hash, hash a file (server-side, never stored) or check
//! a receipt, and see who attested it and when, the proof path step by step, the checkpoint
//! and whether its signature checks against this operator's published key.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::DateTime;
use serde::Deserialize;

use super::context::RequestContext;
use super::error::AppResult;
use super::ledger::{UploadError, attestations_of, hash_upload};
use super::render_with;
use crate::app::AppState;
use crate::crypto::{hex, parse_digest_hex};
use crate::domain::collection::CollectionId;
use crate::ledger::checkpoint::NoteError;
use crate::ledger::entry::EntryBody;
use crate::ledger::merkle::Side;
use crate::ledger::receipt::{self, Receipt, ReceiptError, Trust, VerifiedReceipt};
use crate::store;

/// Largest receipt the page reads.
pub const MAX_RECEIPT_BYTES: usize = 1024 * 1024;

struct StepView {
    /// Message key of the side the sibling joins on.
    side_key: &'static str,
    sibling: String,
    result: String,
}

/// A verified proof, laid out for people.
struct ProofView {
    index: u64,
    kind: &'static str,
    recorded_at: String,
    fields: Vec<(String, String)>,
    leaf: String,
    steps: Vec<StepView>,
    root: String,
    size: u64,
    checkpoint: String,
    /// A token certificate whose holder proof opened the commitment.
    holder_proven: bool,
    /// For a `token_minted` entry: the token's standing now (status, reason), which a receipt
    /// from the time of minting cannot tell.
    token_status: Option<(&'static str, Option<String>)>,
    /// The collection and serial of a `token_minted` entry.
    minted: Option<(CollectionId, u32)>,
}

impl ProofView {
    fn new(verified: &VerifiedReceipt, checkpoint: &str) -> Self {
        Self {
            index: verified.index,
            kind: verified.entry.body.type_name(),
            recorded_at: DateTime::from_timestamp_millis(verified.entry.timestamp_ms as i64)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            fields: receipt::field_pairs(&verified.entry.body),
            holder_proven: verified.holder_proven,
            token_status: None,
            minted: match verified.entry.body {
                EntryBody::TokenMinted {
                    collection_id, serial, ..
                } => Some((CollectionId(collection_id as i64), serial)),
                _ => None,
            },
            leaf: hex(&verified.leaf),
            steps: verified
                .steps
                .iter()
                .map(|step| StepView {
                    side_key: match step.side {
                        Side::Left => "proof.side_left",
                        Side::Right => "proof.side_right",
                    },
                    sibling: hex(&step.sibling),
                    result: hex(&step.result),
                })
                .collect(),
            root: hex(&verified.checkpoint.root),
            size: verified.checkpoint.size,
            checkpoint: checkpoint.to_owned(),
        }
    }
}

struct AttestationView {
    issuer: Option<(i64, String, bool)>,
    label: String,
    attested_at: String,
    proof: Result<ProofView, &'static str>,
}

/// What the visitor asked and what the page found.
enum Outcome {
    Nothing,
    /// A hash (typed in or computed from a file) and its attestations.
    Hash {
        digest: String,
        file_name: Option<String>,
        attestations: Vec<AttestationView>,
    },
    /// A receipt and what checking it found (a message key when it failed).
    Receipt(Result<ProofView, &'static str>),
    /// Input the page could not use: the message key saying why.
    Invalid(&'static str),
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyTemplate {
    ctx: RequestContext,
    query: String,
    verifier_key: String,
    outcome: Outcome,
}

fn page(state: &AppState, ctx: RequestContext, query: String, outcome: Outcome) -> AppResult<Response> {
    let status = match outcome {
        Outcome::Invalid("proof.error_too_large") => StatusCode::PAYLOAD_TOO_LARGE,
        Outcome::Invalid("proof.error_entry_unknown") => StatusCode::NOT_FOUND,
        Outcome::Invalid("proof.error_entry_pending") => StatusCode::SERVICE_UNAVAILABLE,
        Outcome::Invalid(_) => StatusCode::BAD_REQUEST,
        Outcome::Receipt(Err(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    let verifier_key = state.checkpoint_signer.verifier_key();
    render_with(
        status,
        VerifyTemplate {
            ctx,
            query,
            verifier_key,
            outcome,
        },
    )
}

/// The message key explaining why a receipt failed.
fn failure_key(err: &ReceiptError) -> &'static str {
    match err {
        ReceiptError::Malformed(_)
        | ReceiptError::UnsupportedFormat(_)
        | ReceiptError::EntryEncoding
        | ReceiptError::ProofEncoding => "proof.failed_malformed",
        ReceiptError::EntryUndecodable(_) => "proof.failed_entry",
        ReceiptError::LeafMismatch => "proof.failed_leaf",
        ReceiptError::Checkpoint(NoteError::NotSigned | NoteError::BadKey) => "proof.failed_signature",
        ReceiptError::Checkpoint(NoteError::Malformed) => "proof.failed_checkpoint",
        ReceiptError::SizeMismatch { .. } => "proof.failed_size",
        ReceiptError::ProofInvalid => "proof.failed_path",
        ReceiptError::HolderMismatch => "proof.failed_holder",
    }
}

/// Checks a receipt against this operator's key, the way a stranger would.
fn check(state: &AppState, receipt: &Receipt) -> Result<ProofView, ReceiptError> {
    let key = state.checkpoint_signer.verifier_key();
    let verified = receipt.verify(Trust {
        key: Some(&key),
        checkpoint: None,
    })?;
    Ok(ProofView::new(&verified, &receipt.checkpoint))
}

async fn lookup(state: &AppState, digest: [u8; 32], file_name: Option<String>) -> AppResult<Outcome> {
    let attestations = match store::ledger::latest_checkpoint(&state.db).await? {
        None => Vec::new(),
        Some(checkpoint) => attestations_of(state, &digest, &checkpoint)
            .await?
            .into_iter()
            .map(|a| AttestationView {
                issuer: a.issuer.map(|i| (i.id.0, i.legal_name.clone(), i.status.is_active())),
                label: a.label,
                attested_at: a.attested_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                proof: check(state, &a.receipt).map_err(|e| failure_key(&e)),
            })
            .collect(),
    };
    Ok(Outcome::Hash {
        digest: hex(&digest),
        file_name,
        attestations,
    })
}

#[derive(Deserialize)]
pub struct VerifyQuery {
    #[serde(default)]
    sha3_256: String,
    /// A ledger index: the link on a token's certificate image. Read as text so that a
    /// mangled link gets the page's own answer.
    entry: Option<String>,
}

/// `GET /verify[?sha3_256=…|?entry=…]`.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(q): Query<VerifyQuery>,
) -> AppResult<Response> {
    if let Some(index) = q.entry {
        let outcome = match index.trim().parse() {
            Ok(index) => entry_outcome(&state, index).await?,
            Err(_) => Outcome::Invalid("proof.error_entry_unknown"),
        };
        return page(&state, ctx, String::new(), outcome);
    }
    let query = q.sha3_256.trim().to_ascii_lowercase();
    let outcome = if query.is_empty() {
        Outcome::Nothing
    } else {
        match parse_digest_hex(&query) {
            Some(digest) => lookup(&state, digest, None).await?,
            None => Outcome::Invalid("proof.error_digest"),
        }
    };
    page(&state, ctx, query, outcome)
}

/// `POST /verify/file`: hashes the uploaded file (it is not kept) and looks the hash up.
pub async fn file(State(state): State<AppState>, ctx: RequestContext, mut form: Multipart) -> AppResult<Response> {
    let outcome = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().map(str::to_owned);
                break match hash_upload(field).await {
                    Ok(digest) => lookup(&state, digest, name).await?,
                    Err(UploadError::Empty) => Outcome::Invalid("proof.error_upload"),
                    Err(UploadError::TooLarge | UploadError::Broken) => Outcome::Invalid("proof.error_too_large"),
                };
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break Outcome::Invalid("proof.error_upload"),
        }
    };
    page(&state, ctx, String::new(), outcome)
}

/// `POST /verify/receipt`: checks an uploaded or pasted receipt.
pub async fn receipt(State(state): State<AppState>, ctx: RequestContext, mut form: Multipart) -> AppResult<Response> {
    let mut text = None;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return page(&state, ctx, String::new(), Outcome::Invalid("proof.error_too_large")),
        };
        let name = field.name().map(str::to_owned);
        let Ok(bytes) = field.bytes().await else {
            return page(&state, ctx, String::new(), Outcome::Invalid("proof.error_too_large"));
        };
        if bytes.len() > MAX_RECEIPT_BYTES {
            return page(&state, ctx, String::new(), Outcome::Invalid("proof.error_too_large"));
        }
        let value = String::from_utf8_lossy(&bytes).trim().to_owned();
        if matches!(name.as_deref(), Some("receipt_file" | "receipt_text")) && !value.is_empty() {
            text = Some(value);
        }
    }
    let outcome = match text {
        None => Outcome::Invalid("proof.error_no_receipt"),
        Some(text) => receipt_outcome(&state, Receipt::parse(&text)).await?,
    };
    page(&state, ctx, String::new(), outcome)
}

/// The server's own receipt for ledger entry `index`, checked exactly as an uploaded one.
async fn entry_outcome(state: &AppState, index: u64) -> AppResult<Outcome> {
    let checkpoint = store::ledger::latest_checkpoint(&state.db).await?;
    let row = store::ledger::entry(&state.db, index).await?;
    match (row, checkpoint) {
        (Some(row), Some(checkpoint)) if (checkpoint.tree_size as u64) > index => {
            let receipt = super::ledger::receipt(state, &row, &checkpoint).await?;
            receipt_outcome(state, Ok(receipt)).await
        }
        (Some(_), _) => Ok(Outcome::Invalid("proof.error_entry_pending")),
        (None, _) => Ok(Outcome::Invalid("proof.error_entry_unknown")),
    }
}

/// Checks a receipt and, for a minted token, adds the token's standing now.
async fn receipt_outcome(state: &AppState, receipt: Result<Receipt, ReceiptError>) -> AppResult<Outcome> {
    Ok(match receipt.and_then(|receipt| check(state, &receipt)) {
        Ok(mut proof) => {
            if let Some((collection, serial)) = proof.minted {
                let token = store::tokens::by_serial(&state.db, collection, serial).await?;
                proof.token_status = token.map(|t| (t.status.as_str(), t.status.reason().map(str::to_owned)));
            }
            Outcome::Receipt(Ok(proof))
        }
        Err(err) => Outcome::Receipt(Err(failure_key(&err))),
    })
}
