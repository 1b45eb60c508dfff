//! Collections in the reviewer console: claiming a case, the case page (artwork, highlighted
//! text, similar images, the issuer's record) and decisions under the four-eyes rule;
//! published collections are frozen and unfrozen from the same page.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::lines::{AuditLine, lines};
use crate::domain::collection::CollectionStatus;
use crate::domain::ids::CollectionId;
use crate::domain::issuer::Issuer;
use crate::domain::review_queue::held_by;
use crate::domain::screening::ReasonCode;
use crate::services::collections::review::{self, Verdict};
use crate::services::{audit, collections};
use crate::state::AppState;
use crate::web::auth::Reviewer;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;
use crate::web::views::{CollectionFacts, ScreeningView};

/// How much of a collection's history its case page shows, and of its issuer's.
const HISTORY: u64 = 50;
const ISSUER_HISTORY: u64 = 20;

pub async fn claim(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<CollectionId>,
) -> AppResult<Response> {
    review::claim(&state.services, &ctx.actor(reviewer.user.id), id, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/collections/{id}")).into_response())
}

/// Another collection's artwork that resembles this one.
struct SimilarArtwork {
    id: i64,
    distance: u32,
    title: String,
    issuer: String,
    status: &'static str,
}

#[derive(Template)]
#[template(path = "review_collection.html")]
struct CaseTemplate {
    ctx: RequestContext,
    issuer: Issuer,
    facts: CollectionFacts,
    screening: ScreeningView,
    similar: Vec<SimilarArtwork>,
    holds_claim: bool,
    /// The reviewer belongs to the issuer and may not decide.
    member: bool,
    four_eyes: bool,
    /// This reviewer gave the first of two approvals.
    approved_by_me: bool,
    first_approved: bool,
    issuer_rejections: u64,
    issuer_history: Vec<AuditLine>,
    history: Vec<AuditLine>,
    reason_codes: Vec<&'static str>,
}

pub async fn case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<CollectionId>,
) -> AppResult<Html<String>> {
    let collection = collections::find(&state.services, id).await?;
    let issuer = collections::issuer(&state.services, &collection).await?;
    let me = reviewer.user.id;
    let now = Utc::now();
    let in_review = matches!(collection.status, CollectionStatus::InReview { .. });
    let holds_claim = in_review && held_by(collection.claimed_by, collection.claimed_until, me, now);
    let context = review::context(&state.services, me, &collection).await?;
    let similar = context
        .similar
        .into_iter()
        .map(|s| SimilarArtwork {
            id: s.collection.id.0,
            distance: s.distance,
            issuer: s.issuer,
            status: s.collection.status.as_str(),
            title: s.collection.terms.title,
        })
        .collect();
    let issuer_history = audit::history(&state.services, "issuer", collection.issuer, ISSUER_HISTORY).await?;
    let history = audit::history(&state.services, "collection", id, HISTORY).await?;
    render(CaseTemplate {
        member: context.member,
        four_eyes: context.policy.needs_four_eyes(collection.risk_score),
        approved_by_me: collection.status.first_approval() == Some(me),
        first_approved: collection.status.first_approval().is_some(),
        issuer_rejections: context.issuer_rejections,
        issuer_history: lines(&ctx, &issuer_history),
        history: lines(&ctx, &history),
        reason_codes: ReasonCode::ALL.iter().map(|c| c.as_str()).collect(),
        facts: CollectionFacts::of(&collection, &ctx),
        screening: ScreeningView::of(&collection),
        similar,
        holds_claim,
        ctx,
        issuer,
    })
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// approve, request_changes, reject, freeze or unfreeze.
    action: String,
    #[serde(default)]
    reason_code: String,
    /// The words the issuer reads.
    #[serde(default)]
    note: String,
    version: i32,
}

#[derive(Deserialize)]
pub struct AiLabelForm {
    /// `true` labels the artwork AI-generated; `false` takes the reviewer's label back.
    flagged: bool,
    version: i32,
}

/// `POST /review/collections/{id}/ai-label`: a reviewer's AI label, set or taken back.
pub async fn label_ai(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<CollectionId>,
    Form(form): Form<AiLabelForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(reviewer.user.id);
    review::flag_ai(&state.services, &actor, id, form.flagged, form.version, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/collections/{id}")).into_response())
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<CollectionId>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let reason_code = match form.reason_code.trim() {
        "" => None,
        code => Some(ReasonCode::parse(code).ok_or(AppError::BadRequest)?),
    };
    let verdict = Verdict::parse(&form.action).ok_or(AppError::BadRequest)?;
    let actor = ctx.actor(reviewer.user.id);
    review::decide(
        &state.services,
        &actor,
        id,
        verdict,
        reason_code,
        &form.note,
        form.version,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/review/collections/{id}")).into_response())
}
