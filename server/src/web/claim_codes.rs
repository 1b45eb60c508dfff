//! Claim codes: the issuer generates a batch (shown once, as a CSV file or a printable sheet of
//! QR codes linking to `/c/{code}`), and collectors redeem a code at that link or by typing it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use qrcode::QrCode;
use qrcode::render::svg;
use serde::Deserialize;

use super::auth::{ActingFor, SignedIn};
use super::claims::{mint, token_path};
use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::render;
use crate::app::AppState;
use crate::crypto;
use crate::domain::account::UserId;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::claim::{ClaimRefusal, CodeState};
use crate::domain::claim_code::{ClaimCode, parse_count};
use crate::domain::collection::{ClaimMode, CollectionId, CollectionStatus};
use crate::store;
use crate::store::collections::CollectionRecord;

#[derive(Deserialize)]
pub struct GenerateForm {
    count: String,
    /// `csv` or `sheet`.
    format: String,
}

/// A code as printed: grouped for reading, and its redemption link.
struct PrintedCode {
    grouped: String,
    link: String,
    /// An inline SVG QR code of the link.
    qr: String,
}

#[derive(Template)]
#[template(path = "claim_code_sheet.html")]
struct SheetTemplate {
    ctx: RequestContext,
    title: String,
    batch: i32,
    codes: Vec<PrintedCode>,
}

fn qr_svg(link: &str) -> AppResult<String> {
    let code = QrCode::new(link.as_bytes()).map_err(|e| AppError::Internal(e.into()))?;
    let svg = code
        .render::<svg::Color>()
        .min_dimensions(132, 132)
        .quiet_zone(true)
        .build();
    // Inline in HTML, the XML declaration is noise.
    Ok(svg.split_once("?>").map_or(svg.as_str(), |(_, rest)| rest).to_owned())
}

/// Generates a batch of codes for a claim-code collection that is approved or published.
pub async fn generate(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
    Form(form): Form<GenerateForm>,
) -> AppResult<Response> {
    let record = store::collections::find(&state.db, CollectionId(id))
        .await?
        .filter(|c| c.issuer == acting.issuer.id)
        .ok_or(AppError::NotFound)?;
    if !acting.issuer.status.is_active() {
        return Err(AppError::IssuerInactive);
    }
    if record.terms.claim_mode != ClaimMode::ClaimCodes || !codes_allowed(&record) {
        return Err(AppError::CollectionStateConflict);
    }
    let count = parse_count(&form.count).ok_or(AppError::BadRequest)?;
    let csv = match form.format.as_str() {
        "csv" => true,
        "sheet" => false,
        _ => return Err(AppError::BadRequest),
    };
    let (batch, codes) = new_batch(&state, &record, count, Some(acting.user.id), ctx.request_id.clone()).await?;
    let link = |code: &ClaimCode| state.absolute_url(&format!("/c/{}", code.as_str()));
    if csv {
        let mut body = String::from("code,link\r\n");
        for code in &codes {
            body.push_str(&format!("{},{}\r\n", code.grouped(), link(code)));
        }
        let filename = format!("claim-codes-{}-batch-{batch}.csv", record.id);
        return Ok((
            [
                (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (CONTENT_DISPOSITION, format!("attachment; filename=\"{filename}\"")),
            ],
            body,
        )
            .into_response());
    }
    let mut printed = Vec::with_capacity(codes.len());
    for code in &codes {
        let link = link(code);
        printed.push(PrintedCode {
            grouped: code.grouped(),
            qr: qr_svg(&link)?,
            link,
        });
    }
    Ok(render(SheetTemplate {
        ctx,
        title: record.terms.title,
        batch,
        codes: printed,
    })?
    .into_response())
}

/// Generates and stores `count` codes of `record`, audited; returns the batch and the codes,
/// which exist in the clear only in this answer.
pub async fn new_batch(
    state: &AppState,
    record: &CollectionRecord,
    count: u32,
    actor: Option<UserId>,
    request_id: Option<String>,
) -> AppResult<(i32, Vec<ClaimCode>)> {
    let codes: Vec<ClaimCode> = (0..count)
        .map(|_| {
            let random = crypto::random_bytes();
            let mut bits = [0u8; 10];
            bits.copy_from_slice(&random[..10]);
            ClaimCode::generate(bits)
        })
        .collect();
    let hashes: Vec<[u8; 32]> = codes.iter().map(ClaimCode::digest).collect();
    let now = Utc::now();
    let txn = store::begin(&state.db).await?;
    let batch = store::claim_codes::add_batch(&txn, record.id, &hashes, now).await?;
    let mut entry = AuditEntry::new(
        actor,
        AuditAction::CollectionCodesGenerated,
        AuditSubject::Collection(record.id),
        request_id,
    );
    let via = if actor.is_some() { "console" } else { "API key" };
    entry.reason = Some(format!("batch {batch}: {count} codes ({via})"));
    store::audit::append(&txn, entry, now).await?;
    txn.commit().await?;
    Ok((batch, codes))
}

/// Codes can be printed once a collection is approved, and while it is live.
pub fn codes_allowed(record: &CollectionRecord) -> bool {
    matches!(
        record.status,
        CollectionStatus::Approved | CollectionStatus::Published | CollectionStatus::Frozen { .. }
    )
}

#[derive(Template)]
#[template(path = "redeem.html")]
struct RedeemTemplate {
    ctx: RequestContext,
    /// The code as typed, for the form; empty on the blank form.
    typed: String,
    /// Why the code cannot be redeemed, as a message key.
    problem: Option<&'static str>,
    /// The collection the code belongs to, with the canonical code.
    found: Option<(CollectionRecord, String)>,
    claim_key: String,
}

#[derive(Deserialize)]
pub struct TypedCode {
    #[serde(default)]
    code: String,
}

/// The form for typing a code; a typed code goes to its redemption page.
pub async fn typed(ctx: RequestContext, Query(query): Query<TypedCode>) -> AppResult<Response> {
    if query.code.trim().is_empty() {
        return Ok(render(RedeemTemplate {
            ctx,
            typed: String::new(),
            problem: None,
            found: None,
            claim_key: String::new(),
        })?
        .into_response());
    }
    match ClaimCode::parse(&query.code) {
        Some(code) => Ok(Redirect::to(&format!("/c/{}", code.as_str())).into_response()),
        None => Ok(render(RedeemTemplate {
            ctx,
            typed: query.code,
            problem: Some("redeem.malformed"),
            found: None,
            claim_key: String::new(),
        })?
        .into_response()),
    }
}

/// The page a QR code opens: the collection and a claim button, or why the code cannot be used.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(typed): Path<String>,
) -> AppResult<Html<String>> {
    let mut problem = None;
    let mut found = None;
    match ClaimCode::parse(&typed) {
        None => problem = Some("redeem.malformed"),
        Some(code) => match store::claim_codes::find(&state.db, &code.digest()).await? {
            None => problem = Some("redeem.unknown"),
            Some(stored) => {
                if stored.state == CodeState::Used {
                    problem = Some("redeem.used");
                }
                let record = store::collections::find(&state.db, stored.collection)
                    .await?
                    .ok_or(AppError::NotFound)?;
                if !record.status.is_public() {
                    problem = Some("redeem.not_yet");
                }
                found = Some((record, code.as_str().to_owned()));
            }
        },
    }
    render(RedeemTemplate {
        ctx,
        typed,
        problem,
        found,
        claim_key: crypto::random_token(),
    })
}

#[derive(Deserialize)]
pub struct RedeemForm {
    claim_key: String,
}

pub async fn redeem(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(typed): Path<String>,
    Form(form): Form<RedeemForm>,
) -> AppResult<Response> {
    let invalid = AppError::ClaimRefused(ClaimRefusal::CodeInvalid);
    let Some(code) = ClaimCode::parse(&typed) else {
        return Err(invalid);
    };
    let Some(stored) = store::claim_codes::find(&state.db, &code.digest()).await? else {
        return Err(invalid);
    };
    let minted = mint(&state, &user, stored.collection, &form.claim_key, Some(&code)).await?;
    Ok(Redirect::to(&token_path(minted.token)).into_response())
}
