//! Claiming collectibles and showing them: the claim routes (which hand a verified person's
//! claim to the [`crate::minter`]), the collector's own collection, the public token page, the
//! certificate and its shareable image, and the transfer endpoint that exists only to refuse.

use askama::Template;

use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::auth::SignedIn;
use super::client::CountedClient;
use super::context::{RequestContext, SessionUser};
use super::error::{AppError, AppResult, NextStep};
use super::render;
use super::share::Share;
use crate::certificate_image::{self, CertificateCard};
use crate::crypto;
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::blob_key::BlobKey;
use crate::domain::claim::{ClaimRefusal, holder_commitment};
use crate::domain::claim_code::ClaimCode;
use crate::domain::collection::Collection;
use crate::domain::ids::CollectionId;
use crate::domain::ids::TokenId;
use crate::domain::token::Token;
use crate::domain::token::TokenStatus;
use crate::domain::transfer_limit;
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::receipt::HolderProof;
use crate::services::minter::{ClaimRequest, Minted};
use crate::state::AppState;
use crate::store;

#[derive(Deserialize)]
pub struct ClaimForm {
    /// A random key the claim page renders into the form: submitting twice mints once.
    claim_key: String,
}

/// Claim keys are the platform's own random tokens, or a client's idempotency key of the same
/// alphabet.
fn valid_claim_key(key: &str) -> bool {
    (16..=64).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The signed-in collector's own tokens.
pub const MY_COLLECTION: &str = "/me/collection";

pub fn token_path(id: TokenId) -> String {
    format!("/tokens/{id}")
}

pub async fn claim(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
    Form(form): Form<ClaimForm>,
) -> AppResult<Response> {
    let minted = mint(&state, &user, CollectionId(id), &form.claim_key, None).await?;
    Ok(Redirect::to(&token_path(minted.token)).into_response())
}

/// `POST /api/v1/collections/{id}/claims`: the same claim for apps, with the session cookie and
/// an `Idempotency-Key` header. The header is also what protects the cookie from cross-site
/// use: a browser only sends a custom header cross-origin after a CORS preflight, which this
/// server never grants.
pub async fn claim_api(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let key = headers.get("idempotency-key").and_then(|v| v.to_str().ok());
    let (Some(user), Some(key)) = (ctx.user.as_ref(), key.filter(|k| valid_claim_key(k))) else {
        return Err(AppError::ClaimApiRequest);
    };
    let minted = mint(&state, user, CollectionId(id), key, None).await?;
    let body = serde_json::json!({
        "token": minted.token.0,
        "collection": minted.collection.0,
        "serial": minted.serial,
        "url": token_path(minted.token),
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// Claims a token of `collection` for `user`, with a claim code where the collection needs
/// one; the minter decides it with the whole rule in one transaction. A claim key seen before
/// returns its token (the minter looks it up first).
pub async fn mint(
    state: &AppState,
    user: &SessionUser,
    collection: CollectionId,
    claim_key: &str,
    code: Option<&ClaimCode>,
) -> AppResult<Minted> {
    if !valid_claim_key(claim_key) {
        return Err(AppError::BadRequest);
    }
    let Some(holder_index) = user.verified_blind_index.clone() else {
        return Err(AppError::ClaimRefused(ClaimRefusal::IdentityNotVerified));
    };
    let salt = crypto::random_bytes();
    let request = ClaimRequest {
        user: user.id,
        email: user.email.clone(),
        holder_opening: state.services.vault.holder_opening(&holder_index, &salt),
        salt,
        holder_index,
        collection,
        claim_key: claim_key.to_owned(),
        code: code.cloned(),
    };
    let minted = match state.services.minter.claim(&state.services.db, request).await {
        Ok(minted) => minted,
        Err(err) => return Err(refusal_with_steps(state, user, collection, err.into()).await),
    };
    state.services.ledger_wakeup.notify_one();
    Ok(minted)
}

/// A refused claim, with the links that answer it: the token already held, the issuer who
/// keeps the list.
async fn refusal_with_steps(state: &AppState, user: &SessionUser, collection: CollectionId, err: AppError) -> AppError {
    let steps = match &err {
        AppError::ClaimRefused(ClaimRefusal::LimitReached) => {
            match store::tokens::first_held_in(&state.services.db, user.id, collection).await {
                Ok(Some(token)) => vec![NextStep::new(token_path(token.id), "error.next_token")],
                _ => Vec::new(),
            }
        }
        AppError::ClaimRefused(ClaimRefusal::NotOnAllowlist) => {
            match store::collections::find(&state.services.db, collection).await {
                Ok(Some(record)) => vec![NextStep::new(
                    format!("/issuers/{}", record.issuer),
                    "error.next_issuer",
                )],
                _ => Vec::new(),
            }
        }
        _ => Vec::new(),
    };
    if steps.is_empty() { err } else { err.with_next(steps) }
}

/// What the token pages and "my collection" show of a token.
struct TokenView {
    id: i64,
    collection: i64,
    title: String,
    issuer: String,
    serial: u32,
    edition_size: u32,
    status: &'static str,
    reason: Option<String>,
    claimed: DateTime<Utc>,
    issuer_id: i64,
    /// A short, non-identifying tag of the holder: the start of the ledger commitment.
    holder_tag: String,
    ledger_index: Option<i64>,
}

/// The views of `tokens`, in the order given, with their collections, issuers and ledger
/// indices looked up once for the lot.
async fn views(state: &AppState, tokens: &[Token]) -> AppResult<Vec<TokenView>> {
    let collection_ids: Vec<_> = tokens.iter().map(|t| t.collection).collect();
    let collections = store::collections::find_many(&state.services.db, &collection_ids).await?;
    let issuer_ids: Vec<_> = collections.values().map(|c| c.issuer).collect();
    let issuers = store::issuers::legal_names(&state.services.db, &issuer_ids).await?;
    let queued: Vec<i64> = tokens.iter().map(|t| t.ledger_queue_id).collect();
    let indices = store::ledger::indices_from_queue(&state.services.db, &queued).await?;
    tokens
        .iter()
        .map(|token| {
            let collection = collections.get(&token.collection).ok_or(AppError::NotFound)?;
            let issuer = issuers.get(&collection.issuer).cloned().unwrap_or_default();
            Ok(token_view(
                token,
                collection,
                issuer,
                indices.get(&token.ledger_queue_id).copied(),
            ))
        })
        .collect()
}

/// The view of one token whose collection the caller has already read.
async fn view_in(state: &AppState, token: &Token, collection: &Collection) -> AppResult<TokenView> {
    let issuer = store::issuers::find(&state.services.db, collection.issuer)
        .await?
        .map(|i| i.legal_name)
        .unwrap_or_default();
    let ledger_index = store::ledger::entry_from_queue(&state.services.db, token.ledger_queue_id)
        .await?
        .map(|e| e.idx);
    Ok(token_view(token, collection, issuer, ledger_index))
}

fn token_view(token: &Token, collection: &Collection, issuer: String, ledger_index: Option<i64>) -> TokenView {
    TokenView {
        id: token.id.0,
        collection: collection.id.0,
        title: collection.terms.title.clone(),
        issuer,
        serial: token.serial,
        edition_size: collection.terms.edition_size,
        status: token.status.as_str(),
        reason: token.status.reason().map(str::to_owned),
        claimed: token.claimed_at,
        issuer_id: collection.issuer.0,
        holder_tag: crypto::hex(&token.commitment[..6]),
        ledger_index,
    }
}

#[derive(Template)]
#[template(path = "token.html")]
struct TokenTemplate {
    ctx: RequestContext,
    token: TokenView,
    /// The visitor holds this token.
    mine: bool,
    /// When its status last changed (frozen or revoked), for the notice.
    decided: Option<DateTime<Utc>>,
    share: Share,
}

impl TokenTemplate {
    /// The reviewer's reason is for the holder and for reviewers; everyone else learns only
    /// the status.
    fn reason_shown(&self) -> Option<&str> {
        self.token
            .reason
            .as_deref()
            .filter(|_| self.mine || self.ctx.is_reviewer())
    }
}

/// The page of a token. Everyone sees what it is, who issued it and its standing, and no
/// personal data (only a tag derived from the commitment); its holder also gets the
/// certificate and the reason for a freeze or revocation; reviewers get the decisions.
pub async fn token_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let token = store::tokens::find(&state.services.db, TokenId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let mine = ctx.user.as_ref().is_some_and(|u| u.id == token.holder);
    let decided = match token.status {
        TokenStatus::Active => None,
        _ => {
            let decisions = [AuditAction::TokenFrozen, AuditAction::TokenRevoked];
            store::audit::latest_at(&state.services.db, &AuditSubject::Token(token.id), &decisions).await?
        }
    };
    let view = views(&state, std::slice::from_ref(&token))
        .await?
        .pop()
        .ok_or(AppError::NotFound)?;
    let path = token_path(token.id);
    let title = format!("{} #{} / {}", view.title, view.serial, view.edition_size);
    let description = ctx.tf("token.share_description", &[("issuer", &view.issuer)]);
    let share = Share::new(
        &ctx,
        &path,
        &title,
        &description,
        Some(&format!("{path}/certificate.png")),
    )?;
    render(TokenTemplate {
        token: view,
        ctx,
        mine,
        decided,
        share,
    })
}

#[derive(Template)]
#[template(path = "my_collection.html")]
struct MyCollectionTemplate {
    ctx: RequestContext,
    tokens: Vec<TokenView>,
}

pub async fn my_collection(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> AppResult<Html<String>> {
    let tokens = views(&state, &store::tokens::of_holder(&state.services.db, user.id).await?).await?;
    render(MyCollectionTemplate { ctx, tokens })
}

/// Documented as always refused: collectibles are non-transferable. What an attempt stores is
/// bounded whoever sends it: each client address has an allowance of refused attempts (over it,
/// `429` and nothing is written), attempts are counted per (token, clock hour), and only the
/// first of each hour writes an audit row.
pub async fn transfer(
    State(state): State<AppState>,
    ctx: RequestContext,
    CountedClient(client): CountedClient,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let now = Utc::now();
    let limited = |limited: transfer_limit::TransferLimited| {
        tracing::warn!(
            retry_after = limited.retry_after.num_seconds(),
            "transfer attempts rate-limited"
        );
        AppError::TransferAttemptsLimited(limited)
    };
    // The flood past the allowance is answered from one read.
    let full_at = store::transfer_attempts::full_at(&state.services.db, &client).await?;
    transfer_limit::check(full_at, now).map_err(limited)?;
    let token = store::tokens::find(&state.services.db, TokenId(id))
        .await?
        .ok_or(AppError::NotFound)?;

    let txn = store::begin(&state.services.db).await?;
    let full_at = store::transfer_attempts::take_share(&txn, &client, transfer_limit::SPACING, now).await?;
    if let Err(over) = transfer_limit::admitted(full_at, now) {
        // Another attempt from this address took the last share first: nothing is kept.
        txn.rollback().await?;
        return Err(limited(over));
    }
    let period = transfer_limit::period_start(now);
    let attempts = store::transfer_attempts::count(&txn, token.id, period, now).await?;
    if attempts == 1 {
        let mut entry = AuditEntry::new(
            ctx.user.as_ref().map(|u| u.id),
            AuditAction::TokenTransferRefused,
            AuditSubject::Token(token.id),
            ctx.request_id.clone(),
        );
        entry.details = Some(AuditDetails::TransferRefused);
        store::audit::append(&txn, entry, now).await?;
    }
    txn.commit().await?;
    tracing::warn!(token = %token.id, attempts, "transfer attempt refused");
    Err(AppError::TransfersProhibited)
}

/// The holder's certificate: the token's ledger receipt plus the opening of its holder
/// commitment. `keepsake verify` and `/verify` check it; only the holder may download it.
pub async fn certificate(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let token = store::tokens::find(&state.services.db, TokenId(id))
        .await?
        .filter(|t| t.holder == user.id)
        .ok_or(AppError::NotFound)?;
    let row = store::ledger::entry_from_queue(&state.services.db, token.ledger_queue_id)
        .await?
        .ok_or(AppError::CertificatePending)?;
    let checkpoint = super::ledger::latest_checkpoint(&state).await?;
    if (checkpoint.tree_size as u64) <= row.idx as u64 {
        return Err(AppError::CertificatePending);
    }
    let mut certificate = super::ledger::receipt(&state, &row, &checkpoint).await?;
    let opening = state.services.vault.holder_opening(&token.holder_index, &token.salt);
    let minted_with_opening = matches!(
        Entry::decode(&row.entry).map(|entry| entry.body),
        Ok(EntryBody::TokenMinted { holder_commitment: committed, .. }) if committed == holder_commitment(&opening)
    );
    certificate.holder = Some(if minted_with_opening {
        HolderProof::Opening {
            opening: crypto::hex(&opening),
        }
    } else {
        HolderProof::Legacy {
            blind_index: token.holder_index.clone(),
            salt: crypto::hex(&token.salt),
        }
    });
    let filename = format!("keepsake-token-{}-{}.json", token.collection, token.serial);
    Ok((
        [(CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\""))],
        Json(certificate),
    )
        .into_response())
}

/// `GET /tokens/{id}/certificate.png`: the shareable image, in the reader's language. Public
/// like the token page (it shows nothing personal); its QR code opens `/verify` on the
/// token's ledger entry, or the token page while the entry is still being written. Drawn once
/// per token, status, ledger index and language, then served from memory; its fingerprint is
/// the `ETag`, so a browser that has it gets `304 Not Modified`.
pub async fn certificate_image(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(id): Path<i64>,
    headers: HeaderMap,
) -> AppResult<Response> {
    let token = store::tokens::find(&state.services.db, TokenId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let collection = store::collections::find(&state.services.db, token.collection)
        .await?
        .ok_or(AppError::NotFound)?;
    let view = view_in(&state, &token, &collection).await?;
    let artwork_key = collection
        .status
        .is_public()
        .then(|| collection.artwork.large_key.clone());
    let (ledger, verify_url) = match view.ledger_index {
        Some(index) => (
            ctx.tf("token.card_ledger", &[("index", &index.to_string())]),
            state.services.absolute_url(&format!("/verify?entry={index}")),
        ),
        None => (
            ctx.t("token.card_ledger_pending").to_owned(),
            state.services.absolute_url(&token_path(token.id)),
        ),
    };
    let card = CertificateCard {
        brand: ctx.operator.name.clone(),
        kicker: ctx.t("token.kicker").to_owned(),
        serial: format!("#{} / {}", view.serial, view.edition_size),
        issuer: ctx.tf("token.card_issuer", &[("issuer", &view.issuer)]),
        title: view.title,
        ledger,
        status: (view.status != "active").then(|| ctx.t2("token.status_", view.status).to_owned()),
        scan_hint: ctx.t("token.card_scan").to_owned(),
        verify_url,
    };
    let fingerprint = card.fingerprint(artwork_key.as_ref().map(BlobKey::as_str));
    let etag = format!("\"{}\"", crypto::hex(&fingerprint[..16]));
    let filename = format!("keepsake-token-{}-{}.png", token.collection, token.serial);
    let headers_out = [
        (CONTENT_TYPE, "image/png".to_owned()),
        (CACHE_CONTROL, "public, max-age=300".to_owned()),
        (ETAG, etag.clone()),
        (CONTENT_DISPOSITION, format!("inline; filename=\"{filename}\"")),
    ];
    let known = headers
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        // If-None-Match compares weakly (RFC 9110 §13.1.2): a proxy may have marked it `W/`.
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*");
    if known {
        return Ok((StatusCode::NOT_MODIFIED, headers_out).into_response());
    }
    if let Some(png) = state.certificates.get(&fingerprint) {
        return Ok((headers_out, png).into_response());
    }
    let artwork = match &artwork_key {
        Some(key) => match state.services.blobs.get(key).await {
            Ok(blob) => Some(blob.bytes),
            Err(err) => {
                tracing::warn!(%err, token = id, "certificate image drawn without its artwork");
                None
            }
        },
        None => None,
    };
    // An image drawn without the artwork it should show is served once, never kept.
    let complete = artwork_key.is_none() || artwork.is_some();
    let png = tokio::task::spawn_blocking(move || certificate_image::render(&card, artwork.as_deref()))
        .await
        .map_err(|e| AppError::Internal(e.into()))?
        .map_err(|e| AppError::Internal(e.into()))?;
    let png = Bytes::from(png);
    if !complete {
        return Ok(([(CONTENT_TYPE, "image/png"), (CACHE_CONTROL, "no-store")], png).into_response());
    }
    state.certificates.insert(fingerprint, png.clone());
    Ok((headers_out, png).into_response())
}
