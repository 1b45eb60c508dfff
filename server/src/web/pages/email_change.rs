//! Changing one's email address: the form (new address and password), and the pages the two
//! mailed links open. Each link page asks before it acts, so a mail scanner that opens a link
//! changes nothing.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::accounts::message;
use crate::domain::email_change::NewAddressRefusal;
use crate::domain::email_token::TokenPurpose;
use crate::services::accounts;
use crate::services::email_change::{self, ChangeRefused};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::client::CountedClient;
use crate::web::context::RequestContext;
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

#[derive(Template)]
#[template(path = "account_email.html")]
struct ChangeTemplate {
    ctx: RequestContext,
    current: String,
    /// The new address as typed, when the form comes back.
    new_email: String,
    error: Option<(&'static str, &'static str)>,
    /// A link went to the new address.
    sent: bool,
}

#[derive(Deserialize, Default)]
pub struct SentQuery {
    #[serde(default)]
    sent: String,
}

pub async fn form(
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(query): Query<SentQuery>,
) -> AppResult<Html<String>> {
    render(ChangeTemplate {
        current: user.email.to_string(),
        new_email: String::new(),
        error: None,
        sent: query.sent == "1",
        ctx,
    })
}

#[derive(Deserialize)]
pub struct ChangeForm {
    new_email: String,
    password: String,
}

pub async fn request(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<ChangeForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let refused = email_change::request(
        &state.services,
        &actor,
        form.password,
        &form.new_email,
        &client,
        Utc::now(),
    )
    .await?;
    let Err(refusal) = refused else {
        return Ok(Redirect::to("/account/email?sent=1").into_response());
    };
    // (field, message key) of the refusal.
    let error = match refusal {
        ChangeRefused::WrongPassword => ("password", "email_change.wrong_password"),
        ChangeRefused::Address(NewAddressRefusal::Malformed) => ("new_email", "form.email_malformed"),
        ChangeRefused::Address(NewAddressRefusal::Unchanged) => ("new_email", "email_change.unchanged"),
        ChangeRefused::Taken => ("new_email", "email_change.taken"),
        ChangeRefused::TooSoon => ("new_email", "email_change.too_soon"),
    };
    let page = ChangeTemplate {
        current: user.email.to_string(),
        new_email: form.new_email,
        error: Some(error),
        sent: false,
        ctx,
    };
    render_with(StatusCode::UNPROCESSABLE_ENTITY, page)
}

/// The steps a mailed link takes: confirming the new address, or undoing the change.
pub const STEPS: [&str; 2] = ["confirm", "undo"];

/// The page a mailed link opens: what it will do, and a button that does it.
#[derive(Template)]
#[template(path = "email_change_link.html")]
struct LinkTemplate {
    ctx: RequestContext,
    /// One of [`STEPS`]: the catalogue's `email_change.*_<step>` words, and the link's path.
    step: &'static str,
    token: String,
}

async fn link_page(
    state: &AppState,
    ctx: RequestContext,
    token: String,
    purpose: TokenPurpose,
) -> AppResult<Html<String>> {
    accounts::live_link(&state.services, &token, purpose, Utc::now()).await?;
    let step = match purpose {
        TokenPurpose::UndoEmailChange => STEPS[1],
        _ => STEPS[0],
    };
    render(LinkTemplate { ctx, step, token })
}

pub async fn confirm_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    link_page(&state, ctx, token, TokenPurpose::ConfirmEmailChange).await
}

pub async fn confirm(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    email_change::confirm(&state.services, &token, Utc::now()).await?;
    Ok(Redirect::to("/account/email/changed").into_response())
}

pub async fn changed(ctx: RequestContext) -> AppResult<Html<String>> {
    let mut page = message(ctx, "email_change.changed_title", "email_change.changed_body");
    page.action = Some(("/login".to_owned(), "nav.login"));
    render(page)
}

pub async fn undo_page(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(token): Path<String>,
) -> AppResult<Html<String>> {
    link_page(&state, ctx, token, TokenPurpose::UndoEmailChange).await
}

pub async fn undo(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    email_change::undo(&state.services, &token, Utc::now()).await?;
    Ok(Redirect::to("/account/email/restored").into_response())
}

pub async fn restored(ctx: RequestContext) -> AppResult<Html<String>> {
    let mut page = message(ctx, "email_change.restored_title", "email_change.restored_body");
    page.action = Some(("/password/forgot".to_owned(), "email_change.set_password"));
    render(page)
}
