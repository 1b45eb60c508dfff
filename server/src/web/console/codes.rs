//! Claim codes in the issuer's console: generating a batch (as a CSV file or a printable sheet
//! of QR codes linking to `/c/{code}`), which stays available to the member who made it for an
//! hour and is gone after that.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::claim_code::{ClaimCode, parse_count};
use crate::domain::collection::Collection;
use crate::domain::ids::{CollectionId, IssuerId};
use crate::paths;
use crate::services::codes::{self, KeptBatch};
use crate::services::collections;
use crate::state::AppState;
use crate::web::auth::ActingFor;
use crate::web::context::RequestContext;
use crate::web::csv_export::CsvFile;
use crate::web::error::{AppError, AppResult, NextStep};
use crate::web::form_result;
use crate::web::render::render;
use crate::web::share::qr_svg;

#[derive(Deserialize)]
pub struct GenerateForm {
    count: String,
    /// `csv` or `sheet`.
    format: String,
    #[serde(default)]
    form_key: String,
}

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
    Path((_, id)): Path<(IssuerId, CollectionId)>,
    Form(form): Form<GenerateForm>,
) -> AppResult<Response> {
    let submission = form_result::submission(&ctx, &form.form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    // A count that is not one is no batch: the service refuses it after its own checks.
    let count = parse_count(&form.count).unwrap_or(0);
    let format = match form.format.as_str() {
        "csv" => "&format=csv",
        "sheet" => "",
        _ => return Err(AppError::BadRequest),
    };
    let location = format!(
        "{}/codes?result={}{format}",
        paths::console_collection(acting.issuer.id, collection.id),
        submission.key
    );
    let actor = ctx.actor(acting.user.id);
    let location = codes::generate(
        &state.services,
        &actor,
        &acting.issuer,
        &collection,
        count,
        &submission,
        &location,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&location).into_response())
}

#[derive(Deserialize)]
pub struct SheetQuery {
    /// The key of the form that made the batch.
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
    Path((_, id)): Path<(IssuerId, CollectionId)>,
    Query(query): Query<SheetQuery>,
) -> AppResult<Response> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let detail = paths::console_collection(acting.issuer.id, collection.id);
    let kept = form_result::kept::<KeptBatch>(&state.services, &ctx, &query.result).await?;
    let Some((kept, until, key)) = kept else {
        return Err(AppError::ResultGone.with_next(vec![NextStep::new(
            format!("{detail}#claim-codes"),
            "codes.back_to_collection",
        )]));
    };
    let codes: Vec<ClaimCode> = kept.codes();
    let link = |code: &ClaimCode| state.services.absolute_url(&paths::redeem(code.as_str()));
    if query.format == "csv" {
        let mut csv = CsvFile::new(&["code", "link"])?;
        for code in &codes {
            csv.row([code.grouped(), link(code)])?;
        }
        return csv.into_download(&format!("claim-codes-{}-batch-{}.csv", collection.id, kept.batch));
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
        typing_url: state.services.absolute_url(paths::TYPE_A_CODE),
        starts: ctx.time(collection.terms.claim_starts_at),
        ends: ctx.time(collection.terms.claim_ends_at),
        collection,
        ctx,
    };
    Ok(render(page)?.into_response())
}
