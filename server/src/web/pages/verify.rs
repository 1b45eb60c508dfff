//! The public `/verify` page: look up a hash, hash a file (server-side, never stored) or check
//! a receipt, and see in plain words what the ledger says, who recorded it and when; the
//! proof path step by step and the checkpoint follow for those who want them.
//!
//! Both uploads follow post/redirect/get: a file becomes its hash (`/verify?sha3_256=…`), and
//! a receipt is kept for the visitor for an hour (`/verify?receipt=…`), so reloading the result
//! or switching language shows it again.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::crypto::{hex, parse_digest_hex};
use crate::ledger::checkpoint::NoteError;
use crate::ledger::cosignature::WitnessKey;
use crate::ledger::entry::EntryBody;
use crate::ledger::merkle::Side;
use crate::ledger::receipt::{self, Receipt, ReceiptError, Trust, VerifiedReceipt};
use crate::services::forms::FormKey;
use crate::services::ledger::log;
use crate::services::{attestations, verify};
use crate::state::AppState;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::form_result;
use crate::web::render::{render, render_with};
use crate::web::upload::{UploadError, hash_upload};

/// Largest receipt the page reads.
pub const MAX_RECEIPT_BYTES: usize = 1024 * 1024;

struct StepView {
    /// Message key of the side the sibling joins on.
    side_key: &'static str,
    sibling: String,
    result: String,
}

/// What an entry is about, in words, with a link to its page on this platform.
struct Summary {
    text: String,
    link: Option<(String, &'static str)>,
}

/// A verified proof, laid out for people.
struct ProofView {
    index: u64,
    kind: &'static str,
    recorded_at: Option<DateTime<Utc>>,
    /// (message key of the field's name, value)
    fields: Vec<(String, String)>,
    leaf: String,
    steps: Vec<StepView>,
    root: String,
    size: u64,
    checkpoint: String,
    /// When the checkpoint's timestamped signature says it was signed.
    checkpoint_signed_at: Option<DateTime<Utc>>,
    /// This log's witnesses that cosigned the checkpoint, with when.
    witnessed_by: Vec<(String, DateTime<Utc>)>,
    /// The receipt's anchor on a chain: chain id, block and transaction (checked offline
    /// here; on the chain with `keepsake verify --rpc`).
    anchor: Option<(u64, u64, String)>,
    /// A token certificate whose holder proof opened the commitment.
    holder_proven: bool,
    /// For a `token_minted` entry: the token's standing now (status, reason), which a receipt
    /// from the time of minting cannot tell.
    token_status: Option<&'static str>,
    summary: Option<Summary>,
}

impl ProofView {
    fn new(verified: &VerifiedReceipt, checkpoint: &str) -> Self {
        Self {
            index: verified.index,
            kind: verified.entry.body.type_name(),
            recorded_at: DateTime::from_timestamp_millis(verified.entry.timestamp_ms as i64),
            fields: receipt::field_pairs(&verified.entry.body)
                .into_iter()
                .map(|(name, value)| (format!("proof.field_{name}"), value))
                .collect(),
            holder_proven: verified.holder_proven,
            token_status: None,
            summary: None,
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
            checkpoint_signed_at: verified.checkpoint.signed_at,
            witnessed_by: verified.witnessed_by.clone(),
            anchor: verified
                .anchor
                .as_ref()
                .map(|anchor| (anchor.chain_id, anchor.block_number, anchor.transaction.clone())),
        }
    }
}

struct AttestationView {
    issuer: Option<(i64, String, bool)>,
    label: String,
    attested_at: DateTime<Utc>,
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
    Receipt(Result<Box<ProofView>, &'static str>),
    /// Input the page could not use: the message key saying why.
    Invalid(&'static str),
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyTemplate {
    ctx: RequestContext,
    query: String,
    outcome: Outcome,
    /// A fresh key for the receipt form.
    receipt_form: FormKey,
}

fn page(ctx: RequestContext, query: String, outcome: Outcome) -> AppResult<Response> {
    let status = match outcome {
        Outcome::Invalid("proof.error_too_large") => StatusCode::PAYLOAD_TOO_LARGE,
        Outcome::Invalid("proof.error_entry_unknown") => StatusCode::NOT_FOUND,
        Outcome::Invalid("proof.error_entry_pending") => StatusCode::SERVICE_UNAVAILABLE,
        Outcome::Invalid("proof.error_receipt_gone") => StatusCode::GONE,
        Outcome::Invalid(_) => StatusCode::BAD_REQUEST,
        Outcome::Receipt(Err(_)) => StatusCode::UNPROCESSABLE_ENTITY,
        _ => StatusCode::OK,
    };
    render_with(
        status,
        VerifyTemplate {
            ctx,
            query,
            outcome,
            receipt_form: FormKey::fresh(),
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
        ReceiptError::NotWitnessed { .. } => "proof.failed_witnesses",
        ReceiptError::AnchorCheckpoint(_) | ReceiptError::AnchorProofInvalid => "proof.failed_anchor",
    }
}

/// What receipts are checked against, read once per request: this operator's keys (the
/// current one and those it retired) and the log's witnesses.
struct Verifier {
    keys: Vec<String>,
    witnesses: Vec<WitnessKey>,
}

impl Verifier {
    async fn load(state: &AppState) -> AppResult<Self> {
        Ok(Verifier {
            keys: log::verifier_keys(&state.services).await?,
            witnesses: state
                .services
                .witnesses
                .list
                .iter()
                .map(|witness| witness.key.clone())
                .collect(),
        })
    }

    /// Checks a receipt the way a stranger would, noting which of the log's witnesses cosigned
    /// its checkpoint.
    fn check(&self, receipt: &Receipt) -> Result<(ProofView, EntryBody), ReceiptError> {
        let verified = receipt.verify(Trust {
            keys: &self.keys,
            checkpoint: None,
            witnesses: &self.witnesses,
            quorum: 0,
        })?;
        Ok((ProofView::new(&verified, &receipt.checkpoint), verified.entry.body))
    }
}

/// What the entry says, in the reader's language, with the names the platform knows.
async fn describe(state: &AppState, ctx: &RequestContext, body: &EntryBody) -> AppResult<Summary> {
    let named = verify::named(&state.services, body).await?;
    let issuer = |id: &u64| named.issuer.clone().unwrap_or_else(|| format!("#{id}"));
    let title = |id: &u64| named.collection.clone().unwrap_or_else(|| format!("#{id}"));
    Ok(match body {
        EntryBody::HashAttestation { issuer_id, .. } | EntryBody::LabelledHashAttestation { issuer_id, .. } => {
            Summary {
                text: ctx.tf("proof.summary_attestation", &[("issuer", &issuer(issuer_id))]),
                link: Some((format!("/issuers/{issuer_id}"), "proof.see_issuer")),
            }
        }
        EntryBody::IssuerApproved {
            legal_name, issuer_id, ..
        } => Summary {
            text: ctx.tf("proof.summary_issuer_approved", &[("issuer", legal_name)]),
            link: Some((format!("/issuers/{issuer_id}"), "proof.see_issuer")),
        },
        EntryBody::IssuerSuspended { issuer_id }
        | EntryBody::IssuerReinstated { issuer_id }
        | EntryBody::IssuerRevoked { issuer_id }
        | EntryBody::IssuerFilingsLapsed { issuer_id }
        | EntryBody::IssuerFilingsRenewed { issuer_id } => Summary {
            text: ctx.tf(
                &format!("proof.summary_{}", body.type_name()),
                &[("issuer", &issuer(issuer_id))],
            ),
            link: None,
        },
        EntryBody::CollectionPublished {
            issuer_id,
            collection_id,
            edition_size,
            ..
        } => Summary {
            text: ctx.tf(
                "proof.summary_collection_published",
                &[
                    ("title", &title(collection_id)),
                    ("issuer", &issuer(issuer_id)),
                    ("edition", &edition_size.to_string()),
                ],
            ),
            link: Some((format!("/collections/{collection_id}"), "proof.see_collection")),
        },
        EntryBody::TokenMinted {
            collection_id, serial, ..
        }
        | EntryBody::TokenFrozen { collection_id, serial }
        | EntryBody::TokenUnfrozen { collection_id, serial }
        | EntryBody::TokenRevoked { collection_id, serial } => Summary {
            text: ctx.tf(
                &format!("proof.summary_{}", body.type_name()),
                &[("title", &title(collection_id)), ("serial", &serial.to_string())],
            ),
            link: named
                .token
                .as_ref()
                .map(|t| (format!("/tokens/{}", t.id), "proof.see_token")),
        },
        EntryBody::CollectionRevoked { collection_id } => Summary {
            text: ctx.tf("proof.summary_collection_revoked", &[("title", &title(collection_id))]),
            link: Some((format!("/collections/{collection_id}"), "proof.see_collection")),
        },
        EntryBody::LogContinued { previous_size, .. } => Summary {
            text: ctx.tf("proof.summary_log_continued", &[("size", &previous_size.to_string())]),
            link: None,
        },
    })
}

async fn lookup(
    state: &AppState,
    ctx: &RequestContext,
    digest: [u8; 32],
    file_name: Option<String>,
) -> AppResult<Outcome> {
    let mut attestations = Vec::new();
    if let Some((_, found)) = attestations::of_digest(&state.services, &digest).await? {
        let verifier = Verifier::load(state).await?;
        for a in found {
            let proof = match verifier.check(&a.receipt) {
                Ok((mut proof, body)) => {
                    proof.summary = Some(describe(state, ctx, &body).await?);
                    Ok(proof)
                }
                Err(err) => Err(failure_key(&err)),
            };
            attestations.push(AttestationView {
                issuer: a.issuer.map(|i| (i.id.0, i.legal_name.clone(), i.status.is_active())),
                label: a.label,
                attested_at: a.attested_at,
                proof,
            });
        }
    }
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
    /// The name of the file a hash was computed from, to say so.
    file: Option<String>,
    /// A ledger index: the link on a token's certificate image. Read as text so that a
    /// mangled link gets the page's own answer.
    entry: Option<String>,
    /// A receipt this visitor sent, kept for them.
    receipt: Option<String>,
}

/// `GET /verify[?sha3_256=…|?entry=…|?receipt=…]`.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Query(q): Query<VerifyQuery>,
) -> AppResult<Response> {
    if let Some(index) = q.entry {
        let outcome = match index.trim().parse() {
            Ok(index) => entry_outcome(&state, &ctx, index).await?,
            Err(_) => Outcome::Invalid("proof.error_entry_unknown"),
        };
        return page(ctx, String::new(), outcome);
    }
    if let Some(key) = q.receipt {
        let kept = form_result::kept::<String>(&state.services, &ctx, &key).await?;
        let outcome = match kept {
            Some((text, _, _)) => receipt_outcome(&state, &ctx, Receipt::parse(&text)).await?,
            None => Outcome::Invalid("proof.error_receipt_gone"),
        };
        return page(ctx, String::new(), outcome);
    }
    let query = q.sha3_256.trim().to_ascii_lowercase();
    let outcome = if query.is_empty() {
        Outcome::Nothing
    } else {
        match parse_digest_hex(&query) {
            Some(digest) => lookup(&state, &ctx, digest, q.file.filter(|f| !f.trim().is_empty())).await?,
            None => Outcome::Invalid("proof.error_digest"),
        }
    };
    page(ctx, query, outcome)
}

/// `POST /verify/file`: hashes the uploaded file (it is not kept) and goes to the hash's page.
pub async fn file(ctx: RequestContext, mut form: Multipart) -> AppResult<Response> {
    let problem = loop {
        match form.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().map(str::to_owned).unwrap_or_default();
                break match hash_upload(field).await {
                    Ok(digest) => {
                        let mut target = url::form_urlencoded::Serializer::new(String::new());
                        target.append_pair("sha3_256", &hex(&digest));
                        if !name.is_empty() {
                            target.append_pair("file", &name);
                        }
                        return Ok(Redirect::to(&format!("/verify?{}", target.finish())).into_response());
                    }
                    Err(UploadError::Empty) => "proof.error_upload",
                    Err(UploadError::TooLarge | UploadError::Broken) => "proof.error_too_large",
                };
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break "proof.error_upload",
        }
    };
    page(ctx, String::new(), Outcome::Invalid(problem))
}

/// `POST /verify/receipt`: keeps an uploaded or pasted receipt for the visitor and goes to its
/// check.
pub async fn receipt(State(state): State<AppState>, ctx: RequestContext, mut form: Multipart) -> AppResult<Response> {
    let mut text = None;
    let mut form_key = String::new();
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(_) => return page(ctx, String::new(), Outcome::Invalid("proof.error_too_large")),
        };
        let name = field.name().map(str::to_owned);
        let Ok(bytes) = field.bytes().await else {
            return page(ctx, String::new(), Outcome::Invalid("proof.error_too_large"));
        };
        if bytes.len() > MAX_RECEIPT_BYTES {
            return page(ctx, String::new(), Outcome::Invalid("proof.error_too_large"));
        }
        let value = String::from_utf8_lossy(&bytes).trim().to_owned();
        match name.as_deref() {
            Some("receipt_file" | "receipt_text") if !value.is_empty() => text = Some(value),
            Some("form_key") => form_key = value,
            _ => {}
        }
    }
    let submission = form_result::submission(&ctx, &form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let Some(text) = text else {
        return page(ctx, String::new(), Outcome::Invalid("proof.error_no_receipt"));
    };
    let location = format!("/verify?receipt={}", submission.key);
    let location = verify::keep_receipt(&state.services, &submission, &text, &location, Utc::now()).await?;
    Ok(Redirect::to(&location).into_response())
}

/// The server's own receipt for ledger entry `index`, checked exactly as an uploaded one.
async fn entry_outcome(state: &AppState, ctx: &RequestContext, index: u64) -> AppResult<Outcome> {
    match log::receipt_at(&state.services, index).await? {
        Some(receipt) => receipt_outcome(state, ctx, Ok(receipt)).await,
        None if log::entry(&state.services, index).await?.is_some() => {
            Ok(Outcome::Invalid("proof.error_entry_pending"))
        }
        None => Ok(Outcome::Invalid("proof.error_entry_unknown")),
    }
}

/// Checks a receipt, says what its entry is about and, for a minted token, adds the token's
/// standing now.
async fn receipt_outcome(
    state: &AppState,
    ctx: &RequestContext,
    receipt: Result<Receipt, ReceiptError>,
) -> AppResult<Outcome> {
    let verifier = Verifier::load(state).await?;
    Ok(match receipt.and_then(|receipt| verifier.check(&receipt)) {
        Ok((mut proof, body)) => {
            if matches!(body, EntryBody::TokenMinted { .. }) {
                let named = verify::named(&state.services, &body).await?;
                proof.token_status = named.token.map(|t| t.status.as_str());
            }
            proof.summary = Some(describe(state, ctx, &body).await?);
            Outcome::Receipt(Ok(Box::new(proof)))
        }
        Err(err) => Outcome::Receipt(Err(failure_key(&err))),
    })
}

#[derive(Template)]
#[template(path = "verify_offline.html")]
struct OfflineTemplate {
    ctx: RequestContext,
    verifier_key: String,
    /// Where the checker program can be downloaded, with its size in MB.
    download: Option<u64>,
}

/// The running program, which is also the offline checker (`keepsake verify`).
fn own_program() -> Option<std::path::PathBuf> {
    std::env::current_exe().ok().filter(|path| path.is_file())
}

/// `GET /verify/offline`: how to check a receipt without this website, in plain words first.
pub async fn offline(State(state): State<AppState>, ctx: RequestContext) -> AppResult<Response> {
    let download = own_program()
        .and_then(|path| std::fs::metadata(path).ok())
        .map(|meta| meta.len().div_ceil(1024 * 1024));
    let page = OfflineTemplate {
        ctx,
        verifier_key: state.services.checkpoint_signer.verifier_key(),
        download,
    };
    Ok(render(page)?.into_response())
}

/// `GET /verify/keepsake`: the checker program itself (this server's own executable, whose
/// `verify` command needs no network or database).
pub async fn download(request: axum::extract::Request) -> AppResult<Response> {
    use tower::ServiceExt;
    let path = own_program().ok_or(AppError::NotFound)?;
    let mut response = tower_http::services::ServeFile::new(path)
        .oneshot(request)
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/octet-stream"),
    );
    headers.insert(
        axum::http::header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"keepsake\""),
    );
    Ok(response)
}
