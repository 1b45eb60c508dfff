//! Export bundles: a regulator picks the days (and an issuer, or every one), the platform
//! records and audits the export, and the bundle is built on download from what it holds then,
//! signed with the operator's key (see [`crate::export`]).

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::{CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{NaiveDate, Utc};
use serde::Deserialize;

use crate::domain::age::beijing_date;
use crate::domain::ids::{IssuerId, UserId};
use crate::domain::oversight::{ExportScope, MAX_EXPORT_DAYS, ScopeRefusal};
use crate::services::ServiceError;
use crate::services::oversight::{self, MAX_BUNDLE_RECORDS, bundle};
use crate::state::AppState;
use crate::store::oversight::Export;
use crate::web::auth::Regulator;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

#[derive(Deserialize, Default)]
pub struct ExportForm {
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    /// An issuer's number, or empty for every issuer.
    #[serde(default)]
    issuer: String,
}

#[derive(Template)]
#[template(path = "regulator_exports.html")]
struct ExportsTemplate {
    ctx: RequestContext,
    form: ExportForm,
    error: Option<&'static str>,
    exports: Vec<Export>,
    max_days: i64,
    max_records: u64,
}

async fn page(
    state: &AppState,
    ctx: RequestContext,
    regulator: UserId,
    form: ExportForm,
    error: Option<&'static str>,
) -> AppResult<ExportsTemplate> {
    Ok(ExportsTemplate {
        exports: oversight::exports_by(&state.services, regulator).await?,
        max_days: MAX_EXPORT_DAYS,
        max_records: MAX_BUNDLE_RECORDS,
        ctx,
        form,
        error,
    })
}

/// `GET /regulator/exports`: the form (the last 30 days by default) and the exports made.
pub async fn list(State(state): State<AppState>, ctx: RequestContext, regulator: Regulator) -> AppResult<Response> {
    let today = beijing_date(Utc::now());
    let form = ExportForm {
        from: (today - chrono::Duration::days(29)).to_string(),
        to: today.to_string(),
        issuer: String::new(),
    };
    Ok(render(page(&state, ctx, regulator.user.id, form, None).await?)?.into_response())
}

fn day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

fn scope_key(refusal: ScopeRefusal) -> &'static str {
    match refusal {
        ScopeRefusal::Reversed => "regulator.scope_reversed",
        ScopeRefusal::TooLong => "regulator.scope_too_long",
        ScopeRefusal::InTheFuture => "regulator.scope_future",
    }
}

/// `POST /regulator/exports`: records and audits the export, then lists it for download.
pub async fn export(
    State(state): State<AppState>,
    ctx: RequestContext,
    regulator: Regulator,
    Form(form): Form<ExportForm>,
) -> AppResult<Response> {
    let me = regulator.user.id;
    match record(&state, &ctx, me, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/regulator/exports#export-{id}")).into_response()),
        Err(key) => render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, ctx, me, form, Some(key)).await?,
        ),
    }
}

/// The export's number, or the message key of why it was refused.
async fn record(
    state: &AppState,
    ctx: &RequestContext,
    me: UserId,
    form: &ExportForm,
) -> AppResult<Result<i64, &'static str>> {
    let (Some(from), Some(to)) = (day(&form.from), day(&form.to)) else {
        return Ok(Err("regulator.scope_days"));
    };
    let issuer = match form.issuer.trim().trim_start_matches('#') {
        "" => None,
        id => match id.parse() {
            Ok(id) => Some(IssuerId(id)),
            Err(_) => return Ok(Err("regulator.issuer_unknown")),
        },
    };
    let now = Utc::now();
    let scope = match ExportScope::new(from, to, issuer, now) {
        Ok(scope) => scope,
        Err(refusal) => return Ok(Err(scope_key(refusal))),
    };
    match oversight::make_export(&state.services, &ctx.actor(me), &scope, now).await {
        Ok(Ok(made)) => Ok(Ok(made.id)),
        Ok(Err(_too_many)) => Ok(Err("regulator.scope_too_many")),
        Err(ServiceError::NotFound) => Ok(Err("regulator.issuer_unknown")),
        Err(err) => Err(err.into()),
    }
}

/// `GET /regulator/exports/{id}/bundle`: the signed bundle, built now.
pub async fn bundle(State(state): State<AppState>, regulator: Regulator, Path(id): Path<i64>) -> AppResult<Response> {
    let (export, tar) = bundle::bundle(&state.services, regulator.user.id, id, Utc::now()).await?;
    Ok((
        [
            (CONTENT_TYPE, "application/x-tar".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"keepsake-export-{}.tar\"", export.id),
            ),
            (CACHE_CONTROL, "no-store".to_owned()),
        ],
        tar,
    )
        .into_response())
}
