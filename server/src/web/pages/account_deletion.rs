//! Deleting one's account: the page that says what happens (and what stays), asks for the
//! password and a confirmation, and the page after it.

use askama::Template;
use axum::Form;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::Utc;
use serde::Deserialize;

use super::accounts::message;
use crate::domain::account_deletion::DeletionRefused;
use crate::services::account_deletion::{self, NotDeleted};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::client::CountedClient;
use crate::web::context::{CookieName, RequestContext};
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

#[derive(Template)]
#[template(path = "account_delete.html")]
struct DeleteTemplate {
    ctx: RequestContext,
    /// (field, message key) of a refusal.
    error: Option<(&'static str, &'static str)>,
}

pub async fn form(ctx: RequestContext, SignedIn(_user): SignedIn) -> AppResult<Html<String>> {
    render(DeleteTemplate { ctx, error: None })
}

#[derive(Deserialize)]
pub struct DeleteForm {
    password: String,
    #[serde(default)]
    confirm: String,
}

pub async fn delete(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    jar: CookieJar,
    Form(form): Form<DeleteForm>,
) -> AppResult<Response> {
    if form.confirm != "yes" {
        let page = DeleteTemplate {
            ctx,
            error: Some(("confirm", "delete.confirm_required")),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    }
    let actor = ctx.actor(user.id);
    let deleted = account_deletion::delete(&state.services, &actor, form.password, &client, Utc::now()).await?;
    let (status, error) = match deleted {
        Ok(()) => {
            let jar = jar.remove(Cookie::build(CookieName::Session.on(&state)).path("/"));
            return Ok((jar, Redirect::to("/account/deleted")).into_response());
        }
        Err(NotDeleted::WrongPassword) => (StatusCode::UNPROCESSABLE_ENTITY, ("password", "delete.wrong_password")),
        Err(NotDeleted::Refused(DeletionRefused::Staff)) => (StatusCode::CONFLICT, ("", "delete.refused_staff")),
        Err(NotDeleted::Refused(DeletionRefused::IssuerMember)) => {
            (StatusCode::CONFLICT, ("", "delete.refused_issuer_member"))
        }
    };
    render_with(
        status,
        DeleteTemplate {
            ctx,
            error: Some(error),
        },
    )
}

/// `GET /account/deleted`: where a deleted account's last session lands.
pub async fn deleted(ctx: RequestContext) -> AppResult<Html<String>> {
    render(message(ctx, "delete.done_title", "delete.done_body"))
}
