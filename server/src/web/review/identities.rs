//! Identity checks in the reviewer console: claiming a case, the case page (the name and ID
//! number shown only to the reviewer holding the case), and the decision.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::claim_stats::mask_email;
use crate::domain::ids::UserId;
use crate::services::identity::{self, Verdict};
use crate::state::AppState;
use crate::web::auth::Reviewer;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;

pub async fn claim(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(applicant): Path<UserId>,
) -> AppResult<Response> {
    identity::claim(&state.services, &ctx.actor(reviewer.user.id), applicant, Utc::now()).await?;
    Ok(Redirect::to(&format!("/review/identities/{applicant}")).into_response())
}

#[derive(Template)]
#[template(path = "review_identity.html")]
struct CaseTemplate {
    ctx: RequestContext,
    user: i64,
    status: &'static str,
    masked: String,
    /// The applicant's address, masked.
    applicant: String,
    submitted: DateTime<Utc>,
    province_known: bool,
    /// For a correction of a verified identity, the masked number it would replace.
    previous_masked: Option<String>,
    /// Decrypted only for the reviewer holding the claim.
    revealed: Option<(String, String)>,
    version: i32,
    own: bool,
}

pub async fn case(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(applicant): Path<UserId>,
) -> AppResult<Html<String>> {
    let case = identity::case(&state.services, reviewer.user.id, applicant, Utc::now()).await?;
    let record = case.record;
    render(CaseTemplate {
        ctx,
        user: applicant.0,
        status: record.status.as_str(),
        masked: record.masked,
        applicant: case.applicant.map(|e| mask_email(e.as_str())).unwrap_or_default(),
        submitted: record.submitted_at,
        province_known: record.province_known,
        previous_masked: record.previous_masked,
        revealed: case.revealed,
        version: record.version,
        own: applicant == reviewer.user.id,
    })
}

#[derive(Deserialize)]
pub struct DecisionForm {
    decision: String,
    #[serde(default)]
    reason: String,
    version: i32,
}

pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(applicant): Path<UserId>,
    Form(form): Form<DecisionForm>,
) -> AppResult<Response> {
    let verdict = match form.decision.as_str() {
        "approve" => Verdict::Approve,
        "reject" => Verdict::Reject,
        _ => return Err(AppError::BadRequest),
    };
    let actor = ctx.actor(reviewer.user.id);
    identity::decide(
        &state.services,
        &actor,
        applicant,
        verdict,
        &form.reason,
        form.version,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to("/review").into_response())
}
