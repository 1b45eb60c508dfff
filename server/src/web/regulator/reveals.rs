//! Reveals: a regulator names an account or a token and the legal request it answers, and
//! sees that person's identity for a short while on a page no cache keeps. Each reveal is
//! recorded, audited and mailed to the administrators before it is shown.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::domain::ids::{TokenId, UserId};
use crate::domain::oversight::{REVEAL_OPEN_FOR, RevealGrounds, RevealRefusal};
use crate::services::ServiceError;
use crate::services::oversight::{self, RevealSubject, RevealView};
use crate::state::AppState;
use crate::store::oversight::Reveal;
use crate::web::auth::Regulator;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

#[derive(Deserialize, Default)]
pub struct RevealForm {
    /// `token` or `account`.
    #[serde(default)]
    subject_kind: String,
    #[serde(default)]
    subject_id: String,
    #[serde(default)]
    reference: String,
    #[serde(default)]
    reason: String,
}

#[derive(Template)]
#[template(path = "regulator_reveals.html")]
struct RevealsTemplate {
    ctx: RequestContext,
    form: RevealForm,
    error: Option<&'static str>,
    reveals: Vec<Reveal>,
    open_minutes: i64,
}

async fn page(
    state: &AppState,
    ctx: RequestContext,
    regulator: UserId,
    form: RevealForm,
    error: Option<&'static str>,
) -> AppResult<RevealsTemplate> {
    Ok(RevealsTemplate {
        reveals: oversight::reveals_by(&state.services, regulator).await?,
        open_minutes: REVEAL_OPEN_FOR.num_minutes(),
        ctx,
        form,
        error,
    })
}

/// `GET /regulator/reveals`: the form and the reveals this regulator made.
pub async fn list(State(state): State<AppState>, ctx: RequestContext, regulator: Regulator) -> AppResult<Response> {
    let page = page(&state, ctx, regulator.user.id, RevealForm::default(), None).await?;
    Ok(render(page)?.into_response())
}

fn refusal_key(refusal: RevealRefusal) -> &'static str {
    match refusal {
        RevealRefusal::ReferenceMissing => "regulator.reference_missing",
        RevealRefusal::ReferenceTooLong => "regulator.reference_too_long",
        RevealRefusal::ReasonTooShort => "regulator.reason_too_short",
        RevealRefusal::ReasonTooLong => "regulator.reason_too_long",
    }
}

fn subject(form: &RevealForm) -> Option<RevealSubject> {
    let id: i64 = form.subject_id.trim().trim_start_matches('#').parse().ok()?;
    match form.subject_kind.as_str() {
        "token" => Some(RevealSubject::HolderOf(TokenId(id))),
        "account" => Some(RevealSubject::Account(UserId(id))),
        _ => None,
    }
}

/// `POST /regulator/reveals`: records the reveal and leads to it.
pub async fn reveal(
    State(state): State<AppState>,
    ctx: RequestContext,
    regulator: Regulator,
    Form(form): Form<RevealForm>,
) -> AppResult<Response> {
    let me = regulator.user.id;
    match record(&state, &ctx, me, &form).await? {
        Ok(id) => Ok(Redirect::to(&format!("/regulator/reveals/{id}")).into_response()),
        Err(key) => render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(&state, ctx, me, form, Some(key)).await?,
        ),
    }
}

/// The reveal's number, or the message key of why it was refused.
async fn record(
    state: &AppState,
    ctx: &RequestContext,
    me: UserId,
    form: &RevealForm,
) -> AppResult<Result<i64, &'static str>> {
    let Some(subject) = subject(form) else {
        return Ok(Err("regulator.subject_invalid"));
    };
    let grounds = match RevealGrounds::new(&form.reference, &form.reason) {
        Ok(grounds) => grounds,
        Err(refusal) => return Ok(Err(refusal_key(refusal))),
    };
    match oversight::reveal(&state.services, &ctx.actor(me), subject, &grounds, Utc::now()).await {
        Ok(reveal) => Ok(Ok(reveal.id)),
        Err(ServiceError::NotFound) => Ok(Err("regulator.subject_unknown")),
        Err(err) => Err(err.into()),
    }
}

#[derive(Template)]
#[template(path = "regulator_reveal.html")]
struct RevealTemplate {
    ctx: RequestContext,
    view: RevealView,
    closes_at: DateTime<Utc>,
}

/// `GET /regulator/reveals/{id}`: the identity while the reveal is open, never cached.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    regulator: Regulator,
    Path(id): Path<i64>,
) -> AppResult<Response> {
    let view = oversight::revealed(&state.services, regulator.user.id, id, Utc::now()).await?;
    let closes_at = view.reveal.made_at + REVEAL_OPEN_FOR;
    let page = render(RevealTemplate { ctx, view, closes_at })?;
    Ok(([(CACHE_CONTROL, "no-store")], page).into_response())
}
