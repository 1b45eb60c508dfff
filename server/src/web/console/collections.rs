//! A collection in its issuer's console: the dashboard (status and findings, claims over time,
//! codes and allowlist), submitting it to screening, publishing and closing it, and the claims
//! as CSV with masked holders.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::claim_stats::mask_email;
use crate::domain::ids::{CollectionId, IssuerId};
use crate::domain::issuer::Issuer;
use crate::domain::page::PageSize;
use crate::paths;
use crate::services::collections;
use crate::services::collections::claims;
use crate::services::forms::FormKey;
use crate::state::AppState;
use crate::web::auth::ActingFor;
use crate::web::context::RequestContext;
use crate::web::csv_export::streamed;
use crate::web::error::AppResult;
use crate::web::render::{confirmed, render};
use crate::web::views::{ClaimsChart, CollectionFacts, ScreeningView};

#[derive(Template)]
#[template(path = "collection_console.html")]
struct ConsoleTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    facts: CollectionFacts,
    screening: ScreeningView,
    editable: bool,
    submittable: bool,
    publishable: bool,
    closable: bool,
    ledger_index: Option<i64>,
    /// (generated, used) claim codes, for a claim-code collection.
    codes: Option<(u64, u64)>,
    can_generate: bool,
    chart: Option<ClaimsChart>,
    /// How many addresses an allowlist collection lists.
    allowlisted: Option<u64>,
    /// Fresh keys for the code-batch and allowlist forms: each submission acts once.
    codes_form: FormKey,
    allowlist_form: FormKey,
}

pub async fn detail(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
) -> AppResult<Html<String>> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let dashboard = claims::dashboard(&state.services, &collection, Utc::now()).await?;
    let active = acting.issuer.status.is_active();
    let status = &collection.status;
    render(ConsoleTemplate {
        codes_form: FormKey::fresh(),
        allowlist_form: FormKey::fresh(),
        allowlisted: dashboard.allowlisted,
        chart: dashboard.chart.as_ref().map(|chart| ClaimsChart::of(chart, &ctx)),
        codes: dashboard.codes,
        can_generate: collection.takes_codes(active),
        ledger_index: dashboard.ledger_index,
        editable: status.edit().is_ok(),
        submittable: status.submit(active).is_ok(),
        publishable: status.publish(active).is_ok(),
        closable: status.close().is_ok(),
        facts: CollectionFacts::of(&collection, &ctx),
        screening: ScreeningView::of(&collection),
        ctx,
        issuer: acting.issuer,
    })
}

pub async fn submit(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
) -> AppResult<Response> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let actor = ctx.actor(acting.user.id);
    collections::submit(&state.services, &actor, &acting.issuer, &collection, Utc::now()).await?;
    Ok(Redirect::to(&paths::console_collection(acting.issuer.id, id)).into_response())
}

pub async fn publish(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
) -> AppResult<Response> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let actor = ctx.actor(acting.user.id);
    collections::publish(&state.services, &actor, &acting.issuer, &collection, Utc::now()).await?;
    Ok(Redirect::to(&paths::console_collection(acting.issuer.id, id)).into_response())
}

#[derive(Deserialize)]
pub struct CloseForm {
    confirm: Option<String>,
}

pub async fn close(
    State(state): State<AppState>,
    ctx: RequestContext,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
    Form(form): Form<CloseForm>,
) -> AppResult<Response> {
    confirmed(form.confirm.as_deref())?;
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let actor = ctx.actor(acting.user.id);
    collections::close(&state.services, &actor, &collection, Utc::now()).await?;
    Ok(Redirect::to(&paths::console_collection(acting.issuer.id, id)).into_response())
}

/// The collection's claims as CSV, holders masked: serial, time, holder, status, ledger index;
/// streamed a page at a time.
pub async fn claims_csv(
    State(state): State<AppState>,
    acting: ActingFor,
    Path((_, id)): Path<(IssuerId, CollectionId)>,
) -> AppResult<Response> {
    let collection = collections::of_issuer(&state.services, acting.issuer.id, id).await?;
    let filename = format!("claims-{}.csv", collection.id);
    let header = ["serial", "claimed_at", "holder", "status", "ledger_index"];
    streamed(&filename, &header, move |after| {
        let state = state.clone();
        async move {
            let page = claims::page(&state.services, collection.id, after, PageSize::MAX_PAGE).await?;
            let rows = page
                .items
                .into_iter()
                .map(|row| {
                    vec![
                        row.serial.to_string(),
                        row.claimed_at.to_rfc3339(),
                        row.holder.map(|e| mask_email(e.as_str())).unwrap_or_default(),
                        row.status.as_str().to_owned(),
                        row.ledger_index.map(|i| i.to_string()).unwrap_or_default(),
                    ]
                })
                .collect();
            Ok((rows, page.next))
        }
    })
    .await
}
