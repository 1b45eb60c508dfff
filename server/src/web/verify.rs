//! The public `/verify` page: look up a hash, hash a file (server-side, never stored) or check
//! a receipt, and see who attested it and when, the proof path step by step, the checkpoint
//! and whether its signature checks against this operator's published key.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::DateTime;
use serde::Deserialize;
use sha3::{Digest, Sha3_256};

use super::context::RequestContext;
use super::error::AppResult;
use super::ledger::attestations_of;
use super::render_with;
use crate::app::AppState;
use crate::crypto::{hex, parse_digest_hex};
use crate::domain::attestation::MAX_ATTESTED_FILE_BYTES;
use crate::ledger::checkpoint::NoteError;
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
}

impl ProofView {
    fn new(verified: &VerifiedReceipt, checkpoint: &str) -> Self {
        let fields = receipt::fields(&verified.entry.body)
            .as_object()
            .into_iter()
            .flatten()
            .map(|(name, value)| {
                let value = value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                (name.clone(), value)
            })
            .collect();
        Self {
            index: verified.index,
            kind: verified.entry.body.type_name(),
            recorded_at: DateTime::from_timestamp_millis(verified.entry.timestamp_ms as i64)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S UTC").to_string())
                .unwrap_or_default(),
            fields,
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
}

/// `GET /verify[?sha3_256=…]`.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(q): Query<VerifyQuery>,
) -> AppResult<Response> {
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

/// Reads one named part of a multipart form, refusing anything past `limit` bytes.
async fn read_part(form: &mut Multipart, name: &str, limit: usize) -> Result<(Option<String>, Vec<u8>), &'static str> {
    while let Some(mut field) = form.next_field().await.map_err(|_| "proof.error_upload")? {
        if field.name() != Some(name) {
            continue;
        }
        let file_name = field.file_name().map(str::to_owned);
        let mut bytes = Vec::new();
        while let Some(chunk) = field.chunk().await.map_err(|_| "proof.error_too_large")? {
            if bytes.len() + chunk.len() > limit {
                return Err("proof.error_too_large");
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok((file_name, bytes));
    }
    Err("proof.error_upload")
}

/// `POST /verify/file`: hashes the uploaded file (it is not kept) and looks the hash up.
pub async fn file(State(state): State<AppState>, ctx: RequestContext, mut form: Multipart) -> AppResult<Response> {
    let outcome = match read_part(&mut form, "file", MAX_ATTESTED_FILE_BYTES).await {
        Ok((_, bytes)) if bytes.is_empty() => Outcome::Invalid("proof.error_upload"),
        Ok((name, bytes)) => lookup(&state, Sha3_256::digest(&bytes).into(), name).await?,
        Err(key) => Outcome::Invalid(key),
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
        Some(text) => Outcome::Receipt(
            Receipt::parse(&text)
                .and_then(|receipt| check(&state, &receipt))
                .map_err(|e| failure_key(&e)),
        ),
    };
    page(&state, ctx, String::new(), outcome)
}
