//! General pages: home, account overview, language switch, not found, wrong method.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;

use super::auth::SignedIn;
use super::context::{LANG_COOKIE, RequestContext, cookie};
use super::error::{AppError, AppResult};
use super::explore::{CollectionCard, FEATURED, cards};
use super::render;
use crate::app::AppState;
use crate::domain::role::Role;
use crate::i18n::Locale;
use crate::store;
use crate::store::collections::PublicFilter;

#[derive(Template)]
#[template(path = "home.html")]
struct HomeTemplate {
    ctx: RequestContext,
    /// Collections open now, then the newest.
    cards: Vec<CollectionCard>,
}

pub async fn home(State(state): State<AppState>, ctx: RequestContext) -> AppResult<Html<String>> {
    let featured = store::collections::public(&state.db, &PublicFilter::default(), Utc::now(), FEATURED, 0).await?;
    let cards = cards(&state, &ctx, featured).await?;
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
}

pub async fn account(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
) -> AppResult<Html<String>> {
    let record = store::users::find(&state.db, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let roles = [Role::Collector, Role::IssuerMember, Role::Reviewer, Role::Admin]
        .into_iter()
        .filter(|r| user.roles.has(*r))
        .map(|r| ctx.t(&format!("role.{}", r.as_str())))
        .collect();
    render(AccountTemplate {
        email: record.email,
        verified: record.email_verified_at.is_some(),
        member_since: ctx.date(record.created_at),
        roles,
        ctx,
    })
}

#[derive(Deserialize)]
pub struct NextParam {
    pub next: Option<String>,
}

/// A local path to return to: absolute path, no scheme or host, nothing that browsers would
/// treat as another site (`//evil`, `/\evil`).
pub fn safe_next(next: Option<&str>) -> &str {
    match next {
        Some(p) if p.starts_with('/') && !p.starts_with("//") && !p.starts_with("/\\") && !p.contains(['\r', '\n']) => {
            p
        }
        _ => "/",
    }
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
        LANG_COOKIE,
        locale.tag().to_owned(),
        time::Duration::days(365),
    ));
    Ok((jar, Redirect::to(safe_next(q.next.as_deref()))).into_response())
}

pub async fn not_found() -> AppError {
    AppError::NotFound
}

/// A method the address does not take (a PUT on a page, say): a page that says so, never an
/// empty answer.
pub async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/account?x=1")), "/account?x=1");
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "account",
            "/a\r\nSet-Cookie: x",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad}");
        }
        assert_eq!(safe_next(None), "/");
    }
}
