//! Allowlists in the issuer's console: uploading the addresses of an allowlist collection as
//! CSV (one per row, first column), and the report of what was added and every row left out,
//! kept for the member who sent it for a day.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use crate::domain::ids::{CollectionId, IssuerId};
use crate::domain::issuer::Issuer;
use crate::paths;
use crate::services::codes::{self, AllowlistReport};
use crate::services::collections;
use crate::state::AppState;
use crate::web::auth::ActingFor;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::form_result::{self, ResultQuery};
use crate::web::render::render;

#[derive(Template)]
#[template(path = "allowlist_report.html")]
struct AllowlistReportTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    collection: i64,
    title: String,
    report: AllowlistReport,
}

/// The member uploads the allowlist and is sent to the upload's report.
pub async fn upload(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut file = None;
    let mut form_key = String::new();
    while let Some(field) = multipart.next_field().await.map_err(|_| AppError::BadRequest)? {
        match field.name() {
            Some("file") => file = Some(field.bytes().await.map_err(|_| AppError::FileTooLarge)?),
            Some("form_key") => form_key = field.text().await.map_err(|_| AppError::BadRequest)?,
            _ => {}
        }
    }
    let submission = form_result::submission(&ctx, &form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let file = file.ok_or(AppError::BadRequest)?;
    let location = format!(
        "{}/allowlist?result={}",
        paths::console_collection(acting.issuer.id, collection.id),
        submission.key
    );
    let actor = ctx.actor(acting.user.id);
    let location = codes::upload_allowlist(
        &state.services,
        &actor,
        &acting.issuer,
        &collection,
        &file,
        &submission,
        &location,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&location).into_response())
}

/// `GET …/allowlist?result=…`: the report of an upload the member made.
pub async fn report(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
    Query(query): Query<ResultQuery>,
) -> AppResult<Response> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let detail = paths::console_collection(acting.issuer.id, collection.id);
    let report = form_result::kept::<AllowlistReport>(&state.services, &ctx, &query.result).await?;
    let Some((report, _, _)) = report else {
        return Ok(Redirect::to(&format!("{detail}#allowlist")).into_response());
    };
    Ok(render(AllowlistReportTemplate {
        ctx,
        issuer: acting.issuer,
        collection: collection.id.0,
        title: collection.terms.title,
        report,
    })?
    .into_response())
}
