//! Issuers in the reviewer console: claiming an application, the case page (the application,
//! its documents and the issuer's history), and decisions on applications and sanctions.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::lines::{AuditLine, lines};
use crate::domain::ids::IssuerId;
use crate::domain::issuer::{Issuer, IssuerDecision};
use crate::services::audit;
use crate::services::issuers::{self, filings, review};
use crate::state::AppState;
use crate::web::auth::Reviewer;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::filings_view::{FilingsView, issuer_filings};
use crate::web::render::render;
use crate::web::views::{DocumentView, document_views};

/// How much of an issuer's history its case page shows.
const HISTORY: u64 = 50;

pub async fn claim(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<IssuerId>,
) -> AppResult<Response> {
    review::claim(&state.services, &ctx.actor(reviewer.user.id), id, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/issuers/{id}")).into_response())
}

#[derive(Template)]
#[template(path = "review_issuer.html")]
struct CaseTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    documents: Vec<DocumentView>,
    holds_claim: bool,
    member: bool,
    filings: FilingsView,
    history: Vec<AuditLine>,
}

pub async fn case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<IssuerId>,
) -> AppResult<Html<String>> {
    let issuer = issuers::find(&state.services, id).await?;
    let holds_claim = review::holds_claim(&issuer, reviewer.user.id, Utc::now());
    let member = review::is_member(&state.services, reviewer.user.id, issuer.id).await?;
    let documents = document_views(issuers::documents(&state.services, issuer.id).await?);
    let history = audit::history(&state.services, "issuer", id, HISTORY).await?;
    let filings = issuer_filings(&ctx, &issuer.filings, &state.services.filings, Utc::now());
    render(CaseTemplate {
        filings,
        history: lines(&ctx, &history),
        ctx,
        issuer,
        documents,
        holds_claim,
        member,
    })
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// approve, reject, suspend, reinstate or revoke.
    action: String,
    #[serde(default)]
    reason: String,
    version: i32,
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<IssuerId>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let decision = IssuerDecision::parse(&form.action).ok_or(AppError::BadRequest)?;
    let actor = ctx.actor(reviewer.user.id);
    review::decide(
        &state.services,
        &actor,
        id,
        decision,
        &form.reason,
        form.version,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/review/issuers/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct RenewalDecisionForm {
    /// `accept` or `refuse`.
    action: String,
    #[serde(default)]
    reason: String,
    version: i32,
}

/// Accepts or refuses the renewed filings an issuer sent.
pub async fn decide_renewal(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<IssuerId>,
    Form(form): Form<RenewalDecisionForm>,
) -> AppResult<Response> {
    let accept = match form.action.as_str() {
        "accept" => true,
        "refuse" => false,
        _ => return Err(AppError::BadRequest),
    };
    let issuer = issuers::find(&state.services, id).await?;
    if issuer.version != form.version {
        return Err(AppError::ReviewConflict);
    }
    let actor = ctx.actor(reviewer.user.id);
    filings::decide_renewal(&state.services, &actor, &issuer, accept, &form.reason, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/issuers/{id}#filings")).into_response())
}
