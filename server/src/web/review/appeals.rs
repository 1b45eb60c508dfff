//! Appeals in the reviewer console: the queue (the longest waiting first), the case page (the
//! decision appealed in the subject's history, the appellant's statement), claiming (never by
//! the reviewer who decided) and the outcome: the decision stands, or is overturned.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::lines::{AuditLine, lines};
use super::reports::ClaimFilter;
use crate::domain::appeal::{AppealOutcome, AppealableDecision, check_appeal_reviewer};
use crate::domain::review_queue::{ClaimShown, QueueView};
use crate::services::{appeals, audit};
use crate::state::AppState;
use crate::store::appeals::Appeal;
use crate::web::auth::Reviewer;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;
use crate::web::views::{claim_key, waited};

/// How much of the subject's history the case page shows.
const HISTORY: u64 = 20;

/// Where reviewers see the subject of an appeal.
fn subject_page(appeal: &Appeal) -> String {
    let id = appeal.subject_id;
    match appeal.decision {
        AppealableDecision::IssuerSuspended => format!("/review/issuers/{id}"),
        AppealableDecision::CollectionFrozen | AppealableDecision::CollectionRejected => {
            format!("/review/collections/{id}")
        }
        AppealableDecision::TokenFrozen => format!("/tokens/{id}"),
    }
}

struct AppealRow {
    appeal: Appeal,
    page: String,
    waited: String,
    claim: &'static str,
}

#[derive(Template)]
#[template(path = "review_appeals.html")]
struct QueueTemplate {
    ctx: RequestContext,
    rows: Vec<AppealRow>,
    waiting: u64,
    claim: String,
}

/// `GET /review/appeals`.
pub async fn queue(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Query(filter): Query<ClaimFilter>,
) -> AppResult<Html<String>> {
    let now = Utc::now();
    let me = reviewer.user.id;
    let view = QueueView {
        claim: ClaimShown::parse(&filter.claim),
        reviewer: me,
        now,
    };
    let rows = appeals::queue(&state.services, &view)
        .await?
        .into_iter()
        .map(|appeal| AppealRow {
            page: subject_page(&appeal),
            waited: waited(appeal.filed_at, now),
            claim: claim_key(appeal.claimed_by, appeal.claimed_until, me, now),
            appeal,
        })
        .collect();
    render(QueueTemplate {
        waiting: appeals::waiting(&state.services).await?,
        ctx,
        rows,
        claim: filter.claim,
    })
}

#[derive(Template)]
#[template(path = "review_appeal.html")]
struct CaseTemplate {
    ctx: RequestContext,
    appeal: Appeal,
    page: String,
    history: Vec<AuditLine>,
    /// The reviewer made the decision appealed, or appealed it, and so may not decide it.
    own_decision: bool,
    holds_claim: bool,
}

/// `GET /review/appeals/{id}`.
pub async fn case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let appeal = appeals::find(&state.services, id).await?;
    let history = audit::history(
        &state.services,
        appeal.decision.subject_kind(),
        appeal.subject_id,
        HISTORY,
    )
    .await?;
    let me = reviewer.user.id;
    render(CaseTemplate {
        page: subject_page(&appeal),
        history: lines(&ctx, &history),
        own_decision: check_appeal_reviewer(me, appeal.parties()).is_err(),
        holds_claim: appeals::holds_claim(&appeal, me, Utc::now()),
        ctx,
        appeal,
    })
}

/// `POST /review/appeals/{id}/claim`.
pub async fn claim(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    appeals::claim(&state.services, &ctx.actor(reviewer.user.id), id, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/appeals/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct OutcomeForm {
    /// `uphold` or `overturn`.
    outcome: String,
    #[serde(default)]
    reason: String,
    version: i32,
}

/// `POST /review/appeals/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<OutcomeForm>,
) -> AppResult<Response> {
    let outcome = AppealOutcome::parse(&form.outcome).ok_or(AppError::BadRequest)?;
    let actor = ctx.actor(reviewer.user.id);
    appeals::decide(
        &state.services,
        &actor,
        id,
        outcome,
        &form.reason,
        form.version,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/review/appeals/{id}")).into_response())
}
