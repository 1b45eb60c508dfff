//! General pages: home, account overview, language switch, not found, wrong method.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;

use crate::domain::collection::PublicFilter;
use crate::domain::page::PageSize;
use crate::domain::role::Role;
use crate::i18n::Locale;
use crate::paths::safe_next;
use crate::services::{accounts, collections};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::context::{CookieName, RequestContext, cookie};
use crate::web::error::{AppError, AppResult};
use crate::web::render::render;
use crate::web::views::{CollectionCard, cards};

/// Collections the home page features.
const FEATURED: PageSize = PageSize::fixed(6);

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    ctx: RequestContext,
    /// Collections open now, then the newest.
    cards: Vec<CollectionCard>,
}

pub async fn home(State(state): State<AppState>, ctx: RequestContext) -> AppResult<Html<String>> {
    let featured = collections::public(&state.services, &PublicFilter::default(), Utc::now(), None, FEATURED).await?;
    let cards = cards(&ctx, featured.items);
    render(HomeTemplate { ctx, cards })
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountTemplate {
    ctx: RequestContext,
    email: String,
    verified: bool,
    member_since: String,
    roles: Vec<&'static str>,
    /// The account has two-step verification.
    second_factor: bool,
    /// The account has a mobile number.
    has_phone: bool,
}

pub async fn account(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> AppResult<Html<String>> {
    let account = accounts::account(&state.services, user.id).await?;
    let roles = Role::ALL
        .into_iter()
        .filter(|r| user.roles.has(*r))
        .map(|r| ctx.t(&format!("role.{}", r.as_str())))
        .collect();
    render(AccountTemplate {
        email: account.email.to_string(),
        verified: account.email_verified_at.is_some(),
        member_since: ctx.date(account.created_at),
        roles,
        second_factor: user.second_factor,
        has_phone: account.has_phone,
        ctx,
    })
}

/// Where a page should lead on to, from a `next=` parameter.
#[derive(Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
}

/// Sets the language cookie and goes back to where the visitor was.
pub async fn switch_language(
    State(state): State<AppState>,
    Path(tag): Path<String>,
    Query(q): Query<NextParam>,
    jar: CookieJar,
) -> AppResult<Response> {
    let locale = Locale::from_tag(&tag).ok_or(AppError::NotFound)?;
    let jar = jar.add(cookie(
        &state,
        CookieName::Lang,
        locale.tag().to_owned(),
        time::Duration::days(365),
    ));
    Ok((jar, Redirect::to(&safe_next(q.next.as_deref()))).into_response())
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// A method the address does not take (a PUT on a page, say): a page that says so, never an
/// empty answer.
pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}
