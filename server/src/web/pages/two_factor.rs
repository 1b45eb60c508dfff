//! Two-step verification as pages: setting it up (QR code, the secret to type, the first
//! code), the recovery codes shown once, replacing them, turning it off, and the log-in's
//! second step.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::Utc;
use serde::Deserialize;

use super::accounts::signed_in;
use crate::domain::second_factor::{self, CodeRefusal};
use crate::paths::safe_next;
use crate::services::accounts::{self, LoggedIn};
use crate::services::forms::FormKey;
use crate::services::second_factor::{self as two_step, NewRecoveryCodes, RemoveRefused, Status, StepRefused};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::client::CountedClient;
use crate::web::context::{CookieName, RequestContext};
use crate::web::error::AppResult;
use crate::web::form_result;
use crate::web::render::{render, render_with};
use crate::web::share::qr_svg;

fn code_error_key(refusal: CodeRefusal) -> &'static str {
    match refusal {
        CodeRefusal::Malformed => "two_factor.code_malformed",
        CodeRefusal::Wrong => "two_factor.code_wrong",
        CodeRefusal::Used => "two_factor.code_used",
    }
}

/// The secret grouped in fours, as apps' "enter a key" screens are easiest typed from.
fn grouped(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|chunk| String::from_utf8_lossy(chunk).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

#[derive(Template)]
#[template(path = "two_factor.html")]
struct TwoFactorTemplate {
    ctx: RequestContext,
    /// Set up since, and how many recovery codes are left; `None` while setting up.
    enrolled: Option<(String, u64)>,
    /// While setting up: the QR code and the secret, grouped.
    enrolling: Option<(String, String)>,
    /// Recovery codes just made, shown once, and until when.
    new_codes: Option<(Vec<String>, String)>,
    /// The account holds a staff role, so it cannot turn this off.
    required: bool,
    /// Where a staff page sent the person from.
    next: String,
    /// (field, message key) of a refusal.
    error: Option<(&'static str, &'static str)>,
    confirm_form: FormKey,
    renew_form: FormKey,
}

async fn page(
    state: &AppState,
    ctx: RequestContext,
    user: &crate::web::context::SessionUser,
    next: String,
) -> AppResult<TwoFactorTemplate> {
    let status = two_step::status(&state.services, user.id, user.email.as_str(), Utc::now()).await?;
    let (enrolled, enrolling) = match status {
        Status::Enrolled {
            since,
            recovery_codes_left,
        } => (Some((ctx.date(since), recovery_codes_left)), None),
        Status::Enrolling(setup) => (None, Some((qr_svg(&setup.url, 200)?, grouped(&setup.secret)))),
    };
    Ok(TwoFactorTemplate {
        required: second_factor::required(&user.roles),
        ctx,
        enrolled,
        enrolling,
        new_codes: None,
        next,
        error: None,
        confirm_form: FormKey::fresh(),
        renew_form: FormKey::fresh(),
    })
}

#[derive(Deserialize, Default)]
pub struct TwoFactorQuery {
    #[serde(default)]
    result: String,
    next: Option<String>,
}

/// `GET /account/two-factor`.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(query): Query<TwoFactorQuery>,
) -> AppResult<Html<String>> {
    let next = safe_next(query.next.as_deref());
    let kept = form_result::kept::<NewRecoveryCodes>(&state.services, &ctx, &query.result).await?;
    let mut page = page(&state, ctx, &user, next).await?;
    if let Some((NewRecoveryCodes { codes }, until, _)) = kept {
        page.new_codes = Some((codes, page.ctx.time(until)));
    }
    render(page)
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    code: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    form_key: String,
}

/// `POST /account/two-factor`: the first code from the app confirms the setup.
pub async fn confirm(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<ConfirmForm>,
) -> AppResult<Response> {
    let submission = form_result::submission(&ctx, &form.form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let next = safe_next(Some(&form.next));
    let mut location = format!("/account/two-factor?result={}", submission.key);
    if next != "/" {
        location += &format!(
            "&next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
    }
    let actor = ctx.actor(user.id);
    match two_step::confirm(&state.services, &actor, &form.code, &submission, &location, Utc::now()).await? {
        Ok(location) => Ok(Redirect::to(&location).into_response()),
        Err(refusal) => {
            let mut page = page(&state, ctx, &user, next).await?;
            page.error = Some(("code", code_error_key(refusal)));
            render_with(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
    }
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
    #[serde(default)]
    form_key: String,
}

/// `POST /account/two-factor/recovery-codes`: new codes replace the old ones.
pub async fn renew_codes(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let submission = form_result::submission(&ctx, &form.form_key)?;
    if let Some(earlier) = form_result::replay(&state.services, &submission).await? {
        return Ok(earlier);
    }
    let location = format!("/account/two-factor?result={}", submission.key);
    let actor = ctx.actor(user.id);
    let renewed = two_step::renew_recovery_codes(
        &state.services,
        &actor,
        form.password,
        &client,
        &submission,
        &location,
        Utc::now(),
    )
    .await?;
    match renewed {
        Some(location) => Ok(Redirect::to(&location).into_response()),
        None => {
            let mut page = page(&state, ctx, &user, "/".to_owned()).await?;
            page.error = Some(("renew-password", "two_factor.wrong_password"));
            render_with(StatusCode::UNPROCESSABLE_ENTITY, page)
        }
    }
}

/// `POST /account/two-factor/remove`: turns it off (not for staff).
pub async fn remove(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let account = accounts::account(&state.services, user.id).await?;
    let actor = ctx.actor(user.id);
    let removed = two_step::remove(
        &state.services,
        &actor,
        &account,
        &user.roles,
        form.password,
        &client,
        Utc::now(),
    )
    .await?;
    let (status, error) = match removed {
        Ok(()) => return Ok(Redirect::to("/account").into_response()),
        Err(RemoveRefused::WrongPassword) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            ("remove-password", "two_factor.wrong_password"),
        ),
        Err(RemoveRefused::Required) => (StatusCode::CONFLICT, ("", "two_factor.required_for_staff")),
    };
    let mut page = page(&state, ctx, &user, "/".to_owned()).await?;
    page.error = Some(error);
    render_with(status, page)
}

// ---- the log-in's second step ----

#[derive(Template)]
#[template(path = "login_two_factor.html")]
struct StepTemplate {
    ctx: RequestContext,
    error: Option<&'static str>,
    /// The waiting log-in is gone: only "log in again" is offered.
    expired: bool,
}

fn challenge_token(state: &AppState, jar: &CookieJar) -> Option<String> {
    jar.get(CookieName::LoginChallenge.on(state))
        .map(|c| c.value().to_owned())
}

/// `GET /login/two-factor`.
pub async fn step_form(State(state): State<AppState>, ctx: RequestContext, jar: CookieJar) -> AppResult<Response> {
    let live = match challenge_token(&state, &jar) {
        Some(token) => two_step::waiting(&state.services, &token, Utc::now()).await?,
        None => false,
    };
    if !live && ctx.user.is_some() {
        return Ok(Redirect::to("/").into_response());
    }
    let page = StepTemplate {
        ctx,
        error: None,
        expired: !live,
    };
    Ok(render(page)?.into_response())
}

#[derive(Deserialize)]
pub struct StepForm {
    code: String,
}

/// `POST /login/two-factor`: a code from the app, or a recovery code.
pub async fn step(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    jar: CookieJar,
    Form(form): Form<StepForm>,
) -> AppResult<Response> {
    let Some(token) = challenge_token(&state, &jar) else {
        return render_with(
            StatusCode::UNAUTHORIZED,
            StepTemplate {
                ctx,
                error: None,
                expired: true,
            },
        );
    };
    let answered = two_step::answer(&state.services, &token, &form.code, &client, ctx.locale, Utc::now()).await?;
    match answered {
        Ok((session, next)) => {
            let jar = jar.remove(Cookie::build(CookieName::LoginChallenge.on(&state)).path("/"));
            Ok(signed_in(
                &state,
                jar,
                LoggedIn::Session(session),
                &safe_next(Some(&next)),
            ))
        }
        Err(StepRefused::Expired) => render_with(
            StatusCode::UNAUTHORIZED,
            StepTemplate {
                ctx,
                error: None,
                expired: true,
            },
        ),
        Err(StepRefused::Code(refusal)) => render_with(
            StatusCode::UNAUTHORIZED,
            StepTemplate {
                ctx,
                error: Some(code_error_key(refusal)),
                expired: false,
            },
        ),
    }
}
