//! Sign-up, email verification, log-in, log-out, password reset and unlocking, as pages: the
//! forms, their refusals shown next to the field at fault, and the confirmation pages the
//! forms lead to (post/redirect/get).

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::Utc;
use serde::Deserialize;

use super::home::NextParam;
use crate::domain::account::{Email, EmailError, NewPassword, PasswordError};
use crate::domain::email_token::TokenPurpose;
use crate::domain::second_factor::CHALLENGE_LIFETIME;
use crate::paths::{safe_next, with_next};
use crate::services::accounts::{self, LoggedIn, LoginRefused, SESSION_DAYS};
use crate::state::AppState;
use crate::web::client::CountedClient;
use crate::web::context::{CookieName, RequestContext, cookie};
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

fn email_error_key(error: EmailError) -> &'static str {
    match error {
        EmailError::Malformed => "form.email_malformed",
        EmailError::TooLong => "form.email_too_long",
    }
}

fn password_error_key(error: PasswordError) -> &'static str {
    match error {
        PasswordError::TooShort => "form.password_too_short",
        PasswordError::TooLong => "form.password_too_long",
        PasswordError::TooCommon => "form.password_too_common",
        PasswordError::ContainsEmail => "form.password_contains_email",
        PasswordError::Mismatch => "form.password_mismatch",
    }
}

/// A one-paragraph confirmation page ("check your inbox", "password changed").
#[derive(Template)]
#[template(path = "message.html")]
pub(super) struct MessageTemplate {
    ctx: RequestContext,
    title_key: &'static str,
    body_key: &'static str,
    /// Where the page's single button leads, with its label key.
    pub(super) action: Option<(String, &'static str)>,
}

pub(super) fn message(ctx: RequestContext, title_key: &'static str, body_key: &'static str) -> MessageTemplate {
    MessageTemplate {
        ctx,
        title_key,
        body_key,
        action: None,
    }
}

// ---- sign-up ----

#[derive(Template)]
#[template(path = "signup.html")]
struct SignupTemplate {
    ctx: RequestContext,
    email: String,
    /// Where the person was going (a claim-code link, say); kept through the verification mail.
    next: String,
    email_error: Option<&'static str>,
    password_error: Option<&'static str>,
    /// The box accepting the platform rules, user agreement and privacy policy was left empty.
    policies_error: bool,
}

pub async fn signup_form(ctx: RequestContext, Query(q): Query<NextParam>) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    if ctx.user.is_some() {
        return Ok(Redirect::to(if next == "/" { "/account" } else { &next }).into_response());
    }
    Ok(render(SignupTemplate {
        ctx,
        email: String::new(),
        next,
        email_error: None,
        password_error: None,
        policies_error: false,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct SignupForm {
    email: String,
    password: String,
    password_confirm: String,
    /// `yes` when the person accepts the platform rules, user agreement and privacy policy.
    #[serde(default)]
    accept_policies: String,
    #[serde(default)]
    next: String,
}

pub async fn signup(
    State(state): State<AppState>,
    ctx: RequestContext,
    Form(form): Form<SignupForm>,
) -> AppResult<Response> {
    let next = safe_next(Some(&form.next));
    let policies_error = form.accept_policies != "yes";
    let refuse = |ctx, email_error, password_error| {
        render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            SignupTemplate {
                ctx,
                email: form.email.trim().to_owned(),
                next: next.clone(),
                email_error,
                password_error,
                policies_error,
            },
        )
    };
    let email = match Email::parse(&form.email) {
        Ok(email) => email,
        Err(e) => return refuse(ctx, Some(email_error_key(e)), None),
    };
    let password = match NewPassword::parse(&form.password, &form.password_confirm, &email) {
        Ok(password) => password,
        Err(e) => return refuse(ctx, None, Some(password_error_key(e))),
    };
    if policies_error {
        return refuse(ctx, None, None);
    }
    if accounts::sign_up(&state.services, &email, password, ctx.locale, &next, Utc::now())
        .await?
        .is_err()
    {
        return refuse(ctx, Some("form.email_taken"), None);
    }
    // Redirect, so that a reload does not send the form again (and meet "address taken").
    Ok(Redirect::to("/signup/sent").into_response())
}

pub async fn signup_sent(ctx: RequestContext) -> AppResult<Html<String>> {
    render(message(ctx, "signup.done_title", "signup.done_body"))
}

// ---- email verification ----

pub async fn verify_email(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    let next = accounts::verify_email(&state.services, &token, Utc::now()).await?;
    // Redirect, so that reloading or switching language does not reuse the spent link.
    let next = safe_next(next.as_deref());
    Ok(Redirect::to(&with_next("/verify-email/done", &next)).into_response())
}

pub async fn email_verified(ctx: RequestContext, Query(q): Query<NextParam>) -> AppResult<Html<String>> {
    let next = safe_next(q.next.as_deref());
    let signed_in = ctx.user.is_some();
    let (body, label) = match (signed_in, next.as_str()) {
        (true, _) => ("verify.done_body_signed_in", "verify.continue"),
        (false, "/") => ("verify.done_body", "nav.login"),
        (false, _) => ("verify.done_body_next", "verify.login_to_continue"),
    };
    let mut page = message(ctx, "verify.done_title", body);
    page.action = Some((if signed_in { next } else { with_next("/login", &next) }, label));
    render(page)
}

#[derive(Deserialize)]
pub struct EmailForm {
    email: String,
    #[serde(default)]
    next: String,
}

pub async fn resend_verification(State(state): State<AppState>, Form(form): Form<EmailForm>) -> AppResult<Response> {
    let next = safe_next(Some(&form.next));
    accounts::mail_link(
        &state.services,
        &form.email,
        TokenPurpose::VerifyEmail,
        &next,
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to("/verify-email/sent").into_response())
}

pub async fn verification_sent(ctx: RequestContext) -> AppResult<Html<String>> {
    render(message(ctx, "verify.resent_title", "verify.resent_body"))
}

// ---- log-in and log-out ----

#[derive(Template)]
#[template(path = "login.html")]
struct LoginTemplate {
    ctx: RequestContext,
    email: String,
    next: String,
    error: Option<&'static str>,
    /// The account exists and the password was right, but the address is unverified.
    unverified: bool,
}

pub async fn login_form(ctx: RequestContext, Query(q): Query<NextParam>) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    if ctx.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    Ok(render(LoginTemplate {
        ctx,
        email: String::new(),
        next,
        error: None,
        unverified: false,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(Some(&form.next));
    let email = form.email.trim().to_owned();
    let session = accounts::log_in(
        &state.services,
        &form.email,
        form.password,
        &client,
        ctx.locale,
        &next,
        Utc::now(),
    )
    .await?;
    let refuse = |ctx, error, unverified, status| {
        render_with(
            status,
            LoginTemplate {
                ctx,
                email,
                next: next.clone(),
                error: Some(error),
                unverified,
            },
        )
    };
    match session {
        Ok(logged_in) => Ok(signed_in(&state, jar, logged_in, &next)),
        Err(LoginRefused::WrongCredentials) => refuse(ctx, "login.wrong_credentials", false, StatusCode::UNAUTHORIZED),
        Err(LoginRefused::Unverified) => refuse(ctx, "login.unverified", true, StatusCode::FORBIDDEN),
    }
}

/// Where a log-in step that passed leads: into the session (its cookie set) and on to `next`,
/// or to the second factor (the waiting log-in's cookie set).
pub(super) fn signed_in(state: &AppState, jar: CookieJar, logged_in: LoggedIn, next: &str) -> Response {
    match logged_in {
        LoggedIn::Session(session) => {
            let jar = jar.add(cookie(
                state,
                CookieName::Session,
                session.token,
                time::Duration::days(SESSION_DAYS),
            ));
            (jar, Redirect::to(next)).into_response()
        }
        LoggedIn::SecondFactor { challenge } => {
            let jar = jar.add(cookie(
                state,
                CookieName::LoginChallenge,
                challenge,
                time::Duration::minutes(CHALLENGE_LIFETIME.num_minutes()),
            ));
            (jar, Redirect::to("/login/two-factor")).into_response()
        }
    }
}

pub async fn logout(State(state): State<AppState>, ctx: RequestContext, jar: CookieJar) -> AppResult<Response> {
    if let Some(user) = &ctx.user {
        accounts::log_out(&state.services, user.id, &user.session_id).await?;
    }
    let jar = jar.remove(Cookie::build(CookieName::Session.on(&state)).path("/"));
    Ok((jar, Redirect::to("/")).into_response())
}

// ---- password reset ----

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotTemplate {
    ctx: RequestContext,
}

pub async fn forgot_form(ctx: RequestContext) -> AppResult<Html<String>> {
    render(ForgotTemplate { ctx })
}

pub async fn forgot(State(state): State<AppState>, Form(form): Form<EmailForm>) -> AppResult<Response> {
    accounts::mail_link(
        &state.services,
        &form.email,
        TokenPurpose::ResetPassword,
        "/",
        Utc::now(),
    )
    .await?;
    Ok(Redirect::to("/password/forgot/sent").into_response())
}

pub async fn reset_link_sent(ctx: RequestContext) -> AppResult<Html<String>> {
    render(message(ctx, "forgot.sent_title", "forgot.sent_body"))
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetTemplate {
    ctx: RequestContext,
    token: String,
    error: Option<&'static str>,
}

pub async fn reset_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(token): Path<String>,
) -> AppResult<Response> {
    accounts::reset_link_account(&state.services, &token, Utc::now()).await?;
    Ok(render(ResetTemplate {
        ctx,
        token,
        error: None,
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct ResetForm {
    password: String,
    password_confirm: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ctx: RequestContext,
    Path(token): Path<String>,
    Form(form): Form<ResetForm>,
) -> AppResult<Response> {
    let reset = accounts::reset_password(
        &state.services,
        &token,
        &form.password,
        &form.password_confirm,
        Utc::now(),
    )
    .await?;
    if let Err(e) = reset {
        let page = ResetTemplate {
            ctx,
            token,
            error: Some(password_error_key(e)),
        };
        return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
    }
    Ok(Redirect::to("/password/reset/done").into_response())
}

pub async fn password_changed(ctx: RequestContext) -> AppResult<Html<String>> {
    let mut page = message(ctx, "reset.done_title", "reset.done_body");
    page.action = Some(("/login".to_owned(), "nav.login"));
    render(page)
}

// ---- unlocking an account that failed log-ins locked ----

/// `GET /login/unlock/{token}`: the link mailed when an account reached the failure ceiling
/// forgets every failure on the account, so its owner logs in again at once.
pub async fn unlock(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    accounts::unlock(&state.services, &token, Utc::now()).await?;
    // Redirect, so that a reload does not reuse the spent link.
    Ok(Redirect::to("/login/unlocked").into_response())
}

pub async fn unlocked(ctx: RequestContext) -> AppResult<Html<String>> {
    let mut page = message(ctx, "unlock.done_title", "unlock.done_body");
    page.action = Some(("/login".to_owned(), "nav.login"));
    render(page)
}
