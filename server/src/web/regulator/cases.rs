//! The regulator's read-only pages: every issuer, one issuer with its filings, documents,
//! history and collections, and one collection with its terms, screening, decisions, claims
//! over time and the decisions on its tokens.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::Html;
use chrono::Utc;
use serde::Deserialize;

use crate::domain::collection::Collection;
use crate::domain::ids::{CollectionId, IssuerId};
use crate::domain::issuer::Issuer;
use crate::domain::page;
use crate::domain::token::Token;
use crate::services::collections::claims;
use crate::services::{audit, collections, issuers};
use crate::state::AppState;
use crate::web::auth::Regulator;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::filings_view::{FilingsView, issuer_filings};
use crate::web::render::render;
use crate::web::review::lines::{AuditLine, lines};
use crate::web::views::{ClaimsChart, CollectionFacts, DocumentView, ScreeningView, document_views};

/// Issuers per page of the list.
const ISSUERS_PER_PAGE: u64 = 100;
/// How much history a page shows; the audit log has the rest.
const HISTORY: u64 = 100;
/// How many of an issuer's collections its page lists, newest first.
const COLLECTIONS: u64 = 200;

#[derive(Deserialize)]
pub struct AfterParam {
    #[serde(default)]
    after: String,
}

#[derive(Template)]
#[template(path = "regulator_issuers.html")]
struct IssuersTemplate {
    ctx: RequestContext,
    issuers: Vec<Issuer>,
    /// The cursor of the next page, when there is one.
    next: Option<String>,
}

/// `GET /regulator`: every issuer whatever its status, in the order they applied.
pub async fn issuers(
    State(state): State<AppState>,
    ctx: RequestContext,
    _regulator: Regulator,
    Query(q): Query<AfterParam>,
) -> AppResult<Html<String>> {
    let after = page::after::<IssuerId>(Some(q.after.trim()))?;
    let mut listed = issuers::all(&state.services, after, ISSUERS_PER_PAGE + 1).await?;
    let next = (listed.len() as u64 > ISSUERS_PER_PAGE).then(|| {
        listed.truncate(ISSUERS_PER_PAGE as usize);
        listed.last().map(|i| page::Cursor::encode(&i.id)).unwrap_or_default()
    });
    render(IssuersTemplate {
        ctx,
        issuers: listed,
        next,
    })
}

#[derive(Template)]
#[template(path = "regulator_issuer.html")]
struct IssuerTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    documents: Vec<DocumentView>,
    filings: FilingsView,
    history: Vec<AuditLine>,
    collections: Vec<Collection>,
}

/// `GET /regulator/issuers/{id}`.
pub async fn issuer(
    State(state): State<AppState>,
    ctx: RequestContext,
    _regulator: Regulator,
    Path(id): Path<IssuerId>,
) -> AppResult<Html<String>> {
    let issuer = issuers::find(&state.services, id).await?;
    let documents = document_views(issuers::documents(&state.services, id).await?);
    let history = audit::history(&state.services, "issuer", id, HISTORY).await?;
    let collections = collections::of_issuer_newest(&state.services, id, COLLECTIONS).await?;
    let filings = issuer_filings(&ctx, &issuer.filings, &state.services.filings, Utc::now());
    render(IssuerTemplate {
        filings,
        history: lines(&ctx, &history),
        ctx,
        issuer,
        documents,
        collections,
    })
}

#[derive(Template)]
#[template(path = "regulator_collection.html")]
struct CollectionTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    facts: CollectionFacts,
    screening: ScreeningView,
    ledger_index: Option<i64>,
    chart: Option<ClaimsChart>,
    /// Tokens frozen or revoked, with the decision's reason.
    decided_tokens: Vec<Token>,
    history: Vec<AuditLine>,
}

/// `GET /regulator/collections/{id}`.
pub async fn collection(
    State(state): State<AppState>,
    ctx: RequestContext,
    _regulator: Regulator,
    Path(id): Path<CollectionId>,
) -> AppResult<Html<String>> {
    let collection = collections::find(&state.services, id).await?;
    let issuer = collections::issuer(&state.services, &collection).await?;
    let dashboard = claims::dashboard(&state.services, &collection, Utc::now()).await?;
    let decided_tokens = claims::decided_tokens(&state.services, id).await?;
    let history = audit::history(&state.services, "collection", id, HISTORY).await?;
    render(CollectionTemplate {
        chart: dashboard.chart.as_ref().map(|chart| ClaimsChart::of(chart, &ctx)),
        ledger_index: dashboard.ledger_index,
        history: lines(&ctx, &history),
        facts: CollectionFacts::of(&collection, &ctx),
        screening: ScreeningView::of(&collection),
        decided_tokens,
        ctx,
        issuer,
    })
}
