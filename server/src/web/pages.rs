//! General pages: home, account overview, language switch, not found, wrong method.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use chrono::Utc;
use serde::Deserialize;
use url::Url;

use super::auth::SignedIn;
use super::context::{CookieName, RequestContext, cookie};
use super::error::{AppError, AppResult};
use super::explore::{CollectionCard, FEATURED, cards};
use super::render;
use crate::domain::role::Role;
use crate::i18n::Locale;
use crate::state::AppState;
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
    let featured =
        store::collections::public(&state.services.db, &PublicFilter::default(), Utc::now(), FEATURED, 0).await?;
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
    let record = store::users::find(&state.services.db, user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let roles = [Role::Collector, Role::IssuerMember, Role::Reviewer, Role::Admin]
        .into_iter()
        .filter(|r| user.roles.has(*r))
        .map(|r| ctx.t(&format!("role.{}", r.as_str())))
        .collect();
    render(AccountTemplate {
        email: record.email.to_string(),
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

/// Where a `next=` parameter may send the visitor: a path on this platform, `/` otherwise.
///
/// The value is resolved the way a browser resolves a `Location` (the WHATWG URL parser, which
/// drops tabs and newlines and reads a backslash as a slash) and kept only if it stays on our
/// origin. What comes back is the parser's serialisation of the path, query and fragment: it
/// holds no control character, so it is always a valid header value.
pub fn safe_next(next: Option<&str>) -> String {
    static BASE: std::sync::LazyLock<Url> =
        std::sync::LazyLock::new(|| Url::parse("http://keepsake.invalid/").expect("a valid base"));
    let Some(next) = next.filter(|n| n.starts_with('/')) else {
        return "/".to_owned();
    };
    match BASE.join(next) {
        Ok(url) if url.origin() == BASE.origin() => {
            let mut local = url.path().to_owned();
            if let Some(query) = url.query() {
                local.push('?');
                local.push_str(query);
            }
            if let Some(fragment) = url.fragment() {
                local.push('#');
                local.push_str(fragment);
            }
            local
        }
        _ => "/".to_owned(),
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

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(safe_next(Some("/account?x=1")), "/account?x=1");
        assert_eq!(
            safe_next(Some("/c/7KQ2M9XD4TPA0HCF#claim")),
            "/c/7KQ2M9XD4TPA0HCF#claim"
        );
        for bad in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "account",
            "javascript:alert(1)",
            "/\t/evil.test",
            "/\t\\evil.test",
            "/\n/evil.test",
            "/\r\n/evil.test",
            " //evil.test",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(safe_next(None), "/");
    }

    #[test]
    fn what_comes_back_is_always_a_header_value() {
        for odd in [
            "/a\u{7f}b",
            "/\u{0}",
            "/\u{b}x",
            "/a\r\nSet-Cookie: x",
            "/中文?q=长城",
            "/%zz",
        ] {
            let next = safe_next(Some(odd));
            assert!(
                axum::http::HeaderValue::from_str(&next).is_ok() && next.starts_with('/') && !next.starts_with("//"),
                "{odd:?} gave {next:?}"
            );
        }
    }
}
