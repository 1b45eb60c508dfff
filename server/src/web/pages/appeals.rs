//! Appealing a decision, as the issuer's members or the collectible's holder do it: the notice
//! (what was decided, why, until when it may be appealed) with the appeal form, or where the
//! appeal stands.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use crate::domain::appeal::AppealRefusal;
use crate::domain::report::ReportTarget;
use crate::services::appeals::{self, Notice, Standing};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::{render, render_with};

#[derive(Deserialize, Default)]
pub struct AppealForm {
    /// `issuer:7`, `collection:12` or `token:3`.
    #[serde(default)]
    subject: String,
    #[serde(default)]
    statement: String,
}

#[derive(Template)]
#[template(path = "appeal.html")]
struct AppealTemplate {
    ctx: RequestContext,
    target: ReportTarget,
    standing: Standing,
    notice: Option<Notice>,
    appealable: bool,
    statement: String,
    error: Option<&'static str>,
}

async fn page(
    state: &AppState,
    ctx: RequestContext,
    target: ReportTarget,
    standing: Standing,
    statement: String,
    error: Option<&'static str>,
) -> AppResult<AppealTemplate> {
    let notice = appeals::notice(&state.services, &standing.subject, standing.status).await?;
    let appealable = notice.as_ref().is_some_and(|n| n.appealable(Utc::now()));
    Ok(AppealTemplate {
        ctx,
        target,
        standing,
        notice,
        appealable,
        statement,
        error,
    })
}

/// `GET /appeal?subject=…`.
pub async fn form(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(query): Query<AppealForm>,
) -> AppResult<Response> {
    let target = ReportTarget::parse(query.subject.trim()).ok_or(AppError::NotFound)?;
    let standing = appeals::standing(&state.services, user.id, target).await?;
    Ok(render(page(&state, ctx, target, standing, String::new(), None).await?)?.into_response())
}

fn refusal_key(refusal: AppealRefusal) -> &'static str {
    match refusal {
        AppealRefusal::StatementTooShort => "appeal.statement_too_short",
        AppealRefusal::StatementTooLong => "appeal.statement_too_long",
        AppealRefusal::WindowClosed => "appeal.window_closed",
        AppealRefusal::AlreadyAppealed => "appeal.already_appealed",
        AppealRefusal::NothingToAppeal => "appeal.nothing_to_appeal",
    }
}

/// `POST /appeal`: files the appeal and shows where it stands.
pub async fn file(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<AppealForm>,
) -> AppResult<Response> {
    let target = ReportTarget::parse(form.subject.trim()).ok_or(AppError::NotFound)?;
    let standing = appeals::standing(&state.services, user.id, target).await?;
    let actor = ctx.actor(user.id);
    match appeals::file(
        &state.services,
        &actor,
        &standing.subject,
        standing.status,
        &form.statement,
        Utc::now(),
    )
    .await?
    {
        Ok(_) => Ok(Redirect::to(&format!("/appeal?subject={target}")).into_response()),
        Err(refusal) => render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            page(
                &state,
                ctx,
                target,
                standing,
                form.statement,
                Some(refusal_key(refusal)),
            )
            .await?,
        ),
    }
}
