//! Claim codes: the issuer generates a batch (as a CSV file or a printable sheet of QR codes
//! linking to `/c/{code}`, kept for the member who made it for an hour and then gone), and
//! collectors redeem a code at that link or by typing it.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Duration, Utc};
use sea_orm::DatabaseTransaction;
use serde::{Deserialize, Serialize};

use super::auth::{ActingFor, SignedIn};
use super::claim_box::{self, ClaimBox};
use super::claims::{mint, token_path};
use super::context::RequestContext;
use super::csv_export::CsvFile;
use super::error::{AppError, AppResult, NextStep};
use super::form_result::{self, FormKey};
use super::render;
use super::share::qr_svg;
use crate::crypto;
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::claim::ClaimRefusal;
use crate::domain::claim_code::{ClaimCode, parse_count};
use crate::domain::collection::Collection;
use crate::domain::collection::{ClaimMode, CollectionStatus};
use crate::domain::ids::CollectionId;
use crate::domain::ids::UserId;
use crate::state::AppState;
use crate::store;

#[derive(Deserialize)]
pub struct GenerateForm {
    count: String,
    /// `csv` or `sheet`.
    format: String,
    #[serde(default)]
    form_key: String,
}

/// A batch as kept for the issuer member who made it, to print or download again for a while.
#[derive(Serialize, Deserialize)]
struct KeptBatch {
    batch: i32,
    /// Canonical codes.
    codes: Vec<String>,
}

/// How long a new batch's codes stay on its sheet for the member who made it. After that they
/// exist nowhere in the clear.
const BATCH_SHOWN: Duration = Duration::hours(1);

/// A code as printed: grouped for reading, and its redemption link.
struct PrintedCode {
    /// The four groups, each printed whole.
    groups: Vec<String>,
    grouped: String,
    link: String,
    /// An inline SVG QR code of the link.
    qr: String,
}

#[derive(Template)]
#[template(path = "claim_code_sheet.html")]
struct SheetTemplate {
    ctx: RequestContext,
    issuer: i64,
    collection: Collection,
    issuer_name: String,
    batch: i32,
    codes: Vec<PrintedCode>,
    /// The form whose result this is, for the CSV link.
    result: String,
    /// When the sheet stops being shown.
    until: String,
    /// Where collectors type a code, for the cards.
    typing_url: String,
    starts: String,
    ends: String,
}

/// Generates a batch of codes for a claim-code collection that is approved or published, and
/// sends the member to its sheet (or CSV file), which stays available to them for an hour.
pub async fn generate(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
    Form(form): Form<GenerateForm>,
) -> AppResult<Response> {
    let form_key = FormKey::from_form(&form.form_key)?;
    if let Some(earlier) = form_result::replay(&state, &ctx, &form_key).await? {
        return Ok(earlier);
    }
    let record = store::collections::find(&state.services.db, CollectionId(id))
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
    let format = match form.format.as_str() {
        "csv" => "&format=csv",
        "sheet" => "",
        _ => return Err(AppError::BadRequest),
    };
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let (batch, codes) = new_batch(&txn, &record, count, Some(acting.user.id), ctx.request_id.clone(), now).await?;
    let location = format!(
        "/console/{}/collections/{}/codes?result={form_key}{format}",
        acting.issuer.id, record.id
    );
    let kept = KeptBatch {
        batch,
        codes: codes.iter().map(|c| c.as_str().to_owned()).collect(),
    };
    form_result::commit(&state, txn, &ctx, &form_key, &location, Some((&kept, BATCH_SHOWN)), now).await
}

#[derive(Deserialize)]
pub struct SheetQuery {
    #[serde(default)]
    result: String,
    /// `csv` for the file; the printable sheet otherwise.
    #[serde(default)]
    format: String,
}

/// `GET …/codes?result=…`: the sheet (or CSV file) of a batch the member made within the hour.
pub async fn sheet(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(i64, i64)>,
    Query(query): Query<SheetQuery>,
) -> AppResult<Response> {
    let record = store::collections::find(&state.services.db, CollectionId(id))
        .await?
        .filter(|c| c.issuer == acting.issuer.id)
        .ok_or(AppError::NotFound)?;
    let detail = format!("/console/{}/collections/{}", acting.issuer.id, record.id);
    let kept = match FormKey::parse(&query.result) {
        Some(key) => form_result::shown::<KeptBatch>(&state, &ctx, &key)
            .await?
            .map(|(kept, until)| (kept, until, key)),
        None => None,
    };
    let Some((kept, until, key)) = kept else {
        return Err(AppError::ResultGone.with_next(vec![NextStep::new(
            format!("{detail}#claim-codes"),
            "codes.back_to_collection",
        )]));
    };
    let codes: Vec<ClaimCode> = kept.codes.iter().filter_map(|c| ClaimCode::parse(c)).collect();
    let link = |code: &ClaimCode| state.services.absolute_url(&format!("/c/{}", code.as_str()));
    if query.format == "csv" {
        let mut csv = CsvFile::new(&["code", "link"])?;
        for code in &codes {
            csv.row([code.grouped(), link(code)])?;
        }
        return csv.into_download(&format!("claim-codes-{}-batch-{}.csv", record.id, kept.batch));
    }
    let mut printed = Vec::with_capacity(codes.len());
    for code in &codes {
        let link = link(code);
        let grouped = code.grouped();
        printed.push(PrintedCode {
            groups: grouped.split('-').map(str::to_owned).collect(),
            grouped,
            qr: qr_svg(&link, 132)?,
            link,
        });
    }
    let page = SheetTemplate {
        issuer: acting.issuer.id.0,
        issuer_name: acting.issuer.legal_name.clone(),
        batch: kept.batch,
        codes: printed,
        result: key.to_string(),
        until: ctx.time(until),
        typing_url: state.services.absolute_url("/c"),
        starts: ctx.time(record.terms.claim_starts_at),
        ends: ctx.time(record.terms.claim_ends_at),
        collection: record,
        ctx,
    };
    Ok(render(page)?.into_response())
}

/// Generates and stores `count` codes of `record` in `txn`, audited; returns the batch and the
/// codes, which exist in the clear only in the caller's answer.
pub async fn new_batch(
    txn: &DatabaseTransaction,
    record: &Collection,
    count: u32,
    actor: Option<UserId>,
    request_id: Option<String>,
    now: DateTime<Utc>,
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
    let batch = store::claim_codes::add_batch(txn, record.id, &hashes, now).await?;
    let mut entry = AuditEntry::new(
        actor,
        AuditAction::CollectionCodesGenerated,
        AuditSubject::Collection(record.id),
        request_id,
    );
    entry.details = Some(AuditDetails::CodesGenerated {
        batch,
        count,
        through_api: actor.is_none(),
    });
    store::audit::append(txn, entry, now).await?;
    Ok((batch, codes))
}

/// Codes can be printed once a collection is approved, and while it is live.
pub fn codes_allowed(record: &Collection) -> bool {
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
    /// Why the code cannot be looked up, as a message key.
    problem: Option<&'static str>,
    /// The collection the code belongs to, the canonical code, and what the visitor can do.
    found: Option<(Collection, String, ClaimBox)>,
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
        })?
        .into_response()),
    }
}

/// The page a QR code opens: the collection and a claim button, or why the code cannot be
/// used and what to do instead.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(typed): Path<String>,
) -> AppResult<Html<String>> {
    let mut problem = None;
    let mut found = None;
    match ClaimCode::parse(&typed) {
        None => problem = Some("redeem.malformed"),
        Some(code) => match store::claim_codes::find(&state.services.db, &code.digest()).await? {
            None => problem = Some("redeem.unknown"),
            Some(stored) => {
                let record = store::collections::find(&state.services.db, stored.collection)
                    .await?
                    .ok_or(AppError::NotFound)?;
                if record.status.is_public() {
                    let here = format!("/c/{}", code.as_str());
                    let mine = match (stored.token, &ctx.user) {
                        (Some(token), Some(user)) => store::tokens::find(&state.services.db, token)
                            .await?
                            .filter(|t| t.holder == user.id),
                        _ => None,
                    };
                    let claim = match mine {
                        Some(token) => ClaimBox::claimed_with_code(&ctx, token.id),
                        None => claim_box::for_visitor(&state, &ctx, &record, Some(stored.state), &here, &here).await?,
                    };
                    found = Some((record, code.as_str().to_owned(), claim));
                } else {
                    problem = Some("redeem.not_yet");
                }
            }
        },
    }
    render(RedeemTemplate {
        ctx,
        typed,
        problem,
        found,
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
    let Some(stored) = store::claim_codes::find(&state.services.db, &code.digest()).await? else {
        return Err(invalid);
    };
    let minted = mint(&state, &user, stored.collection, &form.claim_key, Some(&code)).await?;
    Ok(Redirect::to(&token_path(minted.token)).into_response())
}
