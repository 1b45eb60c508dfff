//! Reports in the reviewer console: the queue (illegal content first, then the longest
//! waiting), the case page with what was reported and where to act on it, claiming and the
//! decision with its reason code and the reason the reporter reads.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::claim_stats::mask_email;
use crate::domain::report::{ReportDecision, ReportTarget};
use crate::domain::review_queue::{ClaimShown, QueueView};
use crate::domain::screening::ReasonCode;
use crate::services::reports;
use crate::state::AppState;
use crate::store::reports::Report;
use crate::web::auth::Reviewer;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;
use crate::web::views::{claim_key, waited};

/// One report in the queue.
struct ReportRow {
    report: Report,
    waited: String,
    claim: &'static str,
}

#[derive(Template)]
#[template(path = "review_reports.html")]
struct QueueTemplate {
    ctx: RequestContext,
    rows: Vec<ReportRow>,
    waiting: u64,
    claim: String,
}

#[derive(Deserialize, Default)]
pub struct ClaimFilter {
    /// `mine` or `unclaimed`; every open case when absent.
    #[serde(default)]
    pub claim: String,
}

/// `GET /review/reports`.
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
    let rows = reports::queue(&state.services, &view)
        .await?
        .into_iter()
        .map(|report| ReportRow {
            waited: waited(report.filed_at, now),
            claim: claim_key(report.claimed_by, report.claimed_until, me, now),
            report,
        })
        .collect();
    render(QueueTemplate {
        waiting: reports::waiting(&state.services).await?,
        ctx,
        rows,
        claim: filter.claim,
    })
}

#[derive(Template)]
#[template(path = "review_report.html")]
struct CaseTemplate {
    ctx: RequestContext,
    report: Report,
    /// Where a reviewer acts on what was reported.
    act_at: String,
    contact: Option<String>,
    holds_claim: bool,
    reason_codes: Vec<&'static str>,
}

/// Where reviewers decide on what a report names.
fn act_at(target: ReportTarget) -> String {
    match target {
        ReportTarget::Collection(id) => format!("/review/collections/{id}"),
        ReportTarget::Token(id) => format!("/tokens/{id}"),
        ReportTarget::Issuer(id) => format!("/review/issuers/{id}"),
    }
}

/// `GET /review/reports/{id}`.
pub async fn case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Html<String>> {
    let report = reports::find(&state.services, id).await?;
    render(CaseTemplate {
        holds_claim: reports::holds_claim(&report, reviewer.user.id, Utc::now()),
        act_at: act_at(report.target),
        contact: report.contact.as_ref().map(|email| mask_email(email.as_str())),
        reason_codes: ReasonCode::ALL.iter().map(|c| c.as_str()).collect(),
        ctx,
        report,
    })
}

/// `POST /review/reports/{id}/claim`.
pub async fn claim(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    reports::claim(&state.services, &ctx.actor(reviewer.user.id), id, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/reports/{id}")).into_response())
}

#[derive(Deserialize)]
pub struct DecisionForm {
    /// `uphold` or `dismiss`.
    decision: String,
    reason_code: String,
    #[serde(default)]
    reason: String,
    version: i32,
}

/// `POST /review/reports/{id}/decision`.
pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let decision = ReportDecision::parse(&form.decision).ok_or(AppError::BadRequest)?;
    let code = ReasonCode::parse(form.reason_code.trim()).ok_or(AppError::BadRequest)?;
    let actor = ctx.actor(reviewer.user.id);
    reports::decide(
        &state.services,
        &actor,
        id,
        decision,
        code,
        &form.reason,
        form.version,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to(&format!("/review/reports/{id}")).into_response())
}
