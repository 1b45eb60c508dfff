//! Sign-up, email verification, log-in, log-out and password reset.
//!
//! Mail is queued in the same transaction as the change that causes it, then the outbox worker
//! is woken. Password hashing runs on the blocking pool so that Argon2 never stalls the
//! executor. Forms that take an email address answer the same way whether or not an account
//! exists, except sign-up, which must say that the address is taken.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::{Duration, Utc};
use serde::Deserialize;

use super::client::CountedClient;
use super::context::{CookieName, RequestContext, cookie};
use super::error::{AppError, AppResult};
use super::pages::{NextParam, safe_next};
use super::{render, render_with};
use crate::crypto;
use crate::domain::account::{Email, EmailError, NewPassword, PasswordError};
use crate::domain::email_token::TokenPurpose;
use crate::domain::login_throttle;
use crate::kyc::vault::Counted;
use crate::mail::{self, Mail};
use crate::state::AppState;
use crate::store::{self, StoreError};

/// How long a session lasts after log-in.
const SESSION_DAYS: i64 = 14;

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

async fn hash_password(password: NewPassword) -> AppResult<String> {
    tokio::task::spawn_blocking(move || crypto::hash_password(password.expose()))
        .await
        .map_err(|e| AppError::Internal(e.into()))
}

/// A one-paragraph confirmation page ("check your inbox", "password changed").
#[derive(Template)]
#[template(path = "message.html")]
struct MessageTemplate {
    ctx: RequestContext,
    title_key: &'static str,
    body_key: &'static str,
    /// Where the page's single button leads, with its label key.
    action: Option<(String, &'static str)>,
}

fn message(ctx: RequestContext, title_key: &'static str, body_key: &'static str) -> MessageTemplate {
    MessageTemplate {
        ctx,
        title_key,
        body_key,
        action: None,
    }
}

/// `path` URL-encoded for a `next=` parameter.
fn encoded(path: &str) -> String {
    url::form_urlencoded::byte_serialize(path.as_bytes()).collect()
}

/// `base` with `?next=` when there is somewhere to go back to.
fn with_next(base: &str, next: &str) -> String {
    if next == "/" {
        base.to_owned()
    } else {
        format!("{base}?next={}", encoded(next))
    }
}

/// Issues a fresh single-use link of `purpose` (superseding older ones) and queues its mail.
/// `next` is where the person was going; the page after the link leads there.
async fn queue_link_mail(
    state: &AppState,
    conn: &impl sea_orm::ConnectionTrait,
    user: &store::users::User,
    purpose: TokenPurpose,
    next: &str,
) -> AppResult<()> {
    let now = Utc::now();
    let token = crypto::random_token();
    let next = (next != "/").then_some(next);
    store::email_tokens::revoke_all(conn, user.id, purpose, now).await?;
    store::email_tokens::insert(conn, user.id, purpose, crypto::sha3_hex(token.as_bytes()), next, now).await?;
    let link = match purpose {
        TokenPurpose::VerifyEmail => state.services.absolute_url(&format!("/verify-email/{token}")),
        TokenPurpose::ResetPassword => state.services.absolute_url(&format!("/password/reset/{token}")),
        TokenPurpose::UnlockLogin => state.services.absolute_url(&format!("/login/unlock/{token}")),
    };
    let email = user.email.clone();
    let mail = match purpose {
        TokenPurpose::VerifyEmail => Mail::VerifyEmail { link: &link },
        TokenPurpose::ResetPassword => Mail::ResetPassword { link: &link },
        TokenPurpose::UnlockLogin => Mail::UnlockLogin { link: &link },
    };
    let rendered = mail.render(&email, user.locale, &state.config.operator.name)?;
    mail::enqueue(conn, rendered, now).await?;
    Ok(())
}

/// Mails a fresh link to the account at `raw_email`, if there is one that needs it. The caller
/// answers the same either way, so the form does not reveal which addresses are registered.
async fn mail_link_to(state: &AppState, raw_email: &str, purpose: TokenPurpose, next: &str) -> AppResult<()> {
    let Ok(email) = Email::parse(raw_email) else {
        return Ok(());
    };
    let txn = store::begin(&state.services.db).await?;
    let Some(user) = store::users::find_by_email(&txn, &email).await? else {
        return Ok(());
    };
    if purpose == TokenPurpose::VerifyEmail && user.email_verified_at.is_some() {
        return Ok(());
    }
    queue_link_mail(state, &txn, &user, purpose, next).await?;
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    Ok(())
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
    })?
    .into_response())
}

#[derive(Deserialize)]
pub struct SignupForm {
    email: String,
    password: String,
    password_confirm: String,
    #[serde(default)]
    next: String,
}

pub async fn signup(
    State(state): State<AppState>,
    ctx: RequestContext,
    Form(form): Form<SignupForm>,
) -> AppResult<Response> {
    let next = safe_next(Some(&form.next));
    let refuse = |ctx, email_error, password_error| {
        render_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            SignupTemplate {
                ctx,
                email: form.email.trim().to_owned(),
                next: next.clone(),
                email_error,
                password_error,
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
    let hash = hash_password(password).await?;
    let txn = store::begin(&state.services.db).await?;
    let created = store::users::create(&txn, &email, hash, ctx.locale, Utc::now()).await;
    let id = match created {
        Ok(id) => id,
        Err(StoreError::Conflict(_)) => return refuse(ctx, Some("form.email_taken"), None),
        Err(e) => return Err(e.into()),
    };
    let user = store::users::find(&txn, id).await?.ok_or(AppError::NotFound)?;
    queue_link_mail(&state, &txn, &user, TokenPurpose::VerifyEmail, &next).await?;
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    tracing::info!(user = %id, "account created");
    // Redirect, so that a reload does not send the form again (and meet "address taken").
    Ok(Redirect::to("/signup/sent").into_response())
}

pub async fn signup_sent(ctx: RequestContext) -> AppResult<Html<String>> {
    render(message(ctx, "signup.done_title", "signup.done_body"))
}

// ---- email verification ----

pub async fn verify_email(State(state): State<AppState>, Path(token): Path<String>) -> AppResult<Response> {
    let now = Utc::now();
    let token_hash = crypto::sha3_hex(token.as_bytes());
    let txn = store::begin(&state.services.db).await?;
    let next = store::email_tokens::next_path(&txn, &token_hash).await?;
    let user = store::email_tokens::consume(&txn, &token_hash, TokenPurpose::VerifyEmail, now)
        .await?
        .map_err(|e| {
            tracing::info!(reason = %e, "verification link refused");
            AppError::InvalidLink
        })?;
    store::users::mark_email_verified(&txn, user, now).await?;
    txn.commit().await?;
    tracing::info!(%user, "email verified");
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
    mail_link_to(&state, &form.email, TokenPurpose::VerifyEmail, &next).await?;
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

/// The keyed pseudonym an account's log-in failures are counted under, from its address.
fn counted_account(state: &AppState, address: &str) -> String {
    state.services.vault.pseudonym(Counted::LoginAccount, address)
}

pub async fn login(
    State(state): State<AppState>,
    CountedClient(ip): CountedClient,
    ctx: RequestContext,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> AppResult<Response> {
    let next = safe_next(Some(&form.next));
    let email = Email::parse(&form.email).ok();
    // Failures are counted under the address's normal form, so that spellings of one address
    // are one account to the throttle too, and both the account and the client's address are
    // kept only as pseudonyms.
    let account = email
        .as_ref()
        .map_or_else(|| form.email.trim().to_lowercase(), |e| e.as_str().to_owned());
    let account = counted_account(&state, &account);
    let now = Utc::now();

    let failures =
        store::login_failures::count_since(&state.services.db, &account, &ip, now - login_throttle::WINDOW).await?;
    if let Err(throttled) = login_throttle::check(&failures, now) {
        tracing::warn!(reason = ?throttled.reason, "log-in throttled");
        return Err(AppError::Throttled(throttled));
    }

    let user = match &email {
        Some(email) => store::users::find_by_email(&state.services.db, email).await?,
        None => None,
    };
    // Without an account, still spend the time of one hash so timing does not reveal it.
    let stored = user
        .as_ref()
        .map_or_else(|| crypto::dummy_password_hash().to_owned(), |u| u.password_hash.clone());
    let password = form.password;
    let matches = tokio::task::spawn_blocking(move || crypto::verify_password(&password, &stored))
        .await
        .map_err(|e| AppError::Internal(e.into()))?;

    let refuse = |ctx, error, unverified, status| {
        render_with(
            status,
            LoginTemplate {
                ctx,
                email: form.email.trim().to_owned(),
                next: next.clone(),
                error,
                unverified,
            },
        )
    };
    let user = match user {
        Some(user) if matches => user,
        user => {
            let txn = store::begin(&state.services.db).await?;
            store::login_failures::record(&txn, &account, &ip, now).await?;
            // The failure that locks the account for everyone mails its owner the way out.
            if let Some(user) = &user
                && login_throttle::reaches_ceiling(failures.account + 1)
            {
                queue_link_mail(&state, &txn, user, TokenPurpose::UnlockLogin, "/").await?;
                tracing::warn!(user = %user.id, "account locked by failed log-ins; unlock link mailed");
            }
            txn.commit().await?;
            state.services.mail_wakeup.notify_one();
            tracing::info!("log-in failed");
            return refuse(ctx, Some("login.wrong_credentials"), false, StatusCode::UNAUTHORIZED);
        }
    };
    if user.email_verified_at.is_none() {
        return refuse(ctx, Some("login.unverified"), true, StatusCode::FORBIDDEN);
    }

    let token = crypto::random_token();
    let txn = store::begin(&state.services.db).await?;
    store::login_failures::clear_pair(&txn, &account, &ip).await?;
    store::sessions::create(
        &txn,
        crypto::sha3_hex(token.as_bytes()),
        user.id,
        now,
        now + Duration::days(SESSION_DAYS),
    )
    .await?;
    store::users::set_locale(&txn, user.id, ctx.locale).await?;
    txn.commit().await?;
    tracing::info!(user = %user.id, "logged in");
    let jar = jar.add(cookie(
        &state,
        CookieName::Session,
        token,
        time::Duration::days(SESSION_DAYS),
    ));
    Ok((jar, Redirect::to(&next)).into_response())
}

pub async fn logout(State(state): State<AppState>, ctx: RequestContext, jar: CookieJar) -> AppResult<Response> {
    if let Some(user) = &ctx.user {
        store::sessions::delete(&state.services.db, &user.session_id).await?;
        tracing::info!(user = %user.id, "logged out");
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
    mail_link_to(&state, &form.email, TokenPurpose::ResetPassword, "/").await?;
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
    store::email_tokens::peek(
        &state.services.db,
        &crypto::sha3_hex(token.as_bytes()),
        TokenPurpose::ResetPassword,
        Utc::now(),
    )
    .await?
    .map_err(|_| AppError::InvalidLink)?;
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
    let token_hash = crypto::sha3_hex(token.as_bytes());
    let user_id = store::email_tokens::peek(&state.services.db, &token_hash, TokenPurpose::ResetPassword, Utc::now())
        .await?
        .map_err(|_| AppError::InvalidLink)?;
    let user = store::users::find(&state.services.db, user_id)
        .await?
        .ok_or(AppError::InvalidLink)?;
    let email = user.email.clone();
    let password = match NewPassword::parse(&form.password, &form.password_confirm, &email) {
        Ok(password) => password,
        Err(e) => {
            let page = ResetTemplate {
                ctx,
                token,
                error: Some(password_error_key(e)),
            };
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, page);
        }
    };
    let hash = hash_password(password).await?;
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    // Consuming inside the transaction makes two racing submissions of one link end with one
    // password change.
    store::email_tokens::consume(&txn, &token_hash, TokenPurpose::ResetPassword, now)
        .await?
        .map_err(|_| AppError::InvalidLink)?;
    store::users::set_password_hash(&txn, user_id, hash).await?;
    store::users::mark_email_verified(&txn, user_id, now).await?;
    store::sessions::delete_all_for(&txn, user_id).await?;
    // A new password is also the way out of a lock-out.
    store::login_failures::clear_account(&txn, &counted_account(&state, email.as_str())).await?;
    txn.commit().await?;
    tracing::info!(user = %user_id, "password reset");
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
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    let user_id = store::email_tokens::consume(
        &txn,
        &crypto::sha3_hex(token.as_bytes()),
        TokenPurpose::UnlockLogin,
        now,
    )
    .await?
    .map_err(|e| {
        tracing::info!(reason = %e, "unlock link refused");
        AppError::InvalidLink
    })?;
    let user = store::users::find(&txn, user_id).await?.ok_or(AppError::InvalidLink)?;
    let email = user.email.clone();
    store::login_failures::clear_account(&txn, &counted_account(&state, email.as_str())).await?;
    txn.commit().await?;
    tracing::info!(user = %user_id, "account unlocked by its owner");
    // Redirect, so that a reload does not reuse the spent link.
    Ok(Redirect::to("/login/unlocked").into_response())
}

pub async fn unlocked(ctx: RequestContext) -> AppResult<Html<String>> {
    let mut page = message(ctx, "unlock.done_title", "unlock.done_body");
    page.action = Some(("/login".to_owned(), "nav.login"));
    render(page)
}
