//! The platform rules, user agreement and privacy policy: each public at `/policies/{name}`
//! in its current version, and the page where a signed-in person accepts the versions they
//! have not accepted yet.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Deserialize;

use super::home::NextParam;
use crate::domain::policy::PolicyDocument;
use crate::paths::safe_next;
use crate::policies::{self, Published};
use crate::services;
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::RequestContext;
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;

#[derive(Template)]
#[template(path = "policy.html")]
struct PolicyTemplate {
    ctx: RequestContext,
    slug: &'static str,
    published: &'static Published,
}

/// `GET /policies/{name}`: the current version of one document.
pub async fn show(ctx: RequestContext, Path(slug): Path<String>) -> AppResult<Response> {
    let document = PolicyDocument::parse(&slug).ok_or(AppError::NotFound)?;
    Ok(render(PolicyTemplate {
        ctx,
        slug: document.slug(),
        published: policies::current(document),
    })?
    .into_response())
}

#[derive(Template)]
#[template(path = "policies_accept.html")]
struct AcceptTemplate {
    ctx: RequestContext,
    /// The documents to accept, with their current versions.
    outstanding: Vec<(&'static str, &'static Published)>,
    next: String,
}

/// `GET /policies/accept`: what changed since the person last accepted, to read and accept.
pub async fn accept_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(q): Query<NextParam>,
) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    let outstanding = services::policies::outstanding(&state.services, user.id).await?;
    if outstanding.is_empty() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(render(AcceptTemplate {
        ctx,
        outstanding: outstanding
            .into_iter()
            .map(|document| (document.slug(), policies::current(document)))
            .collect(),
        next,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct AcceptForm {
    #[serde(default)]
    next: String,
}

/// `POST /policies/accept`: records the acceptance of every current version.
pub async fn accept(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Form(form): Form<AcceptForm>,
) -> AppResult<Response> {
    services::policies::accept(&state.services, user.id, Utc::now()).await?;
    Ok(Redirect::to(&safe_next(Some(&form.next))).into_response())
}
