//! Mobile numbers as pages: adding one to the account with a texted code, removing it, and
//! logging in with a number and a texted code instead of the password.

use askama::Template;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar};
use chrono::Utc;
use serde::Deserialize;

use super::accounts::signed_in;
use super::home::NextParam;
use crate::domain::phone::{CODE_LIFETIME, CodeLimited, PhoneError, PhoneNumber};
use crate::paths::{safe_next, with_next};
use crate::services::phone::{self, CodeRefused, PhoneStatus, RequestRefused};
use crate::state::AppState;
use crate::web::auth::SignedIn;
use crate::web::client::CountedClient;
use crate::web::context::{CookieName, RequestContext, cookie};
use crate::web::error::AppResult;
use crate::web::render::{render, render_with};

/// What the number cookie is sealed for.
const SMS_LOGIN: &[u8] = b"sms-login";

fn number_error_key(error: PhoneError) -> &'static str {
    match error {
        PhoneError::Malformed => "phone.malformed",
        PhoneError::NotMainlandMobile => "phone.not_mainland_mobile",
    }
}

fn limited(ctx: &RequestContext, limited: CodeLimited) -> String {
    let seconds = limited.retry_after.num_seconds().to_string();
    ctx.tf("phone.limited", &[("seconds", seconds.as_str())])
}

#[derive(Template)]
#[template(path = "account_phone.html")]
struct PhoneTemplate {
    ctx: RequestContext,
    status: PhoneStatus,
    number: String,
    /// (field, message) of a refusal.
    error: Option<(&'static str, String)>,
    added: bool,
}

async fn phone_page(
    state: &AppState,
    ctx: RequestContext,
    user: crate::domain::ids::UserId,
) -> AppResult<PhoneTemplate> {
    Ok(PhoneTemplate {
        status: phone::status(&state.services, user, Utc::now()).await?,
        ctx,
        number: String::new(),
        error: None,
        added: false,
    })
}

#[derive(Deserialize, Default)]
pub struct PhoneQuery {
    #[serde(default)]
    notice: String,
}

/// `GET /account/phone`.
pub async fn show(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Query(query): Query<PhoneQuery>,
) -> AppResult<Html<String>> {
    let mut page = phone_page(&state, ctx, user.id).await?;
    page.added = query.notice == "added";
    render(page)
}

#[derive(Deserialize)]
pub struct NumberForm {
    number: String,
}

/// `POST /account/phone`: texts a code to the number typed.
pub async fn request(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<NumberForm>,
) -> AppResult<Response> {
    let requested = phone::request_add(&state.services, user.id, &form.number, &client, Utc::now()).await?;
    let (status, message) = match requested {
        Ok(()) => return Ok(Redirect::to("/account/phone").into_response()),
        Err(RequestRefused::Number(e)) => (StatusCode::UNPROCESSABLE_ENTITY, ctx.t(number_error_key(e)).to_owned()),
        Err(RequestRefused::Taken) => (StatusCode::CONFLICT, ctx.t("phone.taken").to_owned()),
        Err(RequestRefused::Same) => (StatusCode::CONFLICT, ctx.t("phone.same").to_owned()),
        Err(RequestRefused::Limited(l)) => (StatusCode::TOO_MANY_REQUESTS, limited(&ctx, l)),
    };
    let mut page = phone_page(&state, ctx, user.id).await?;
    page.number = form.number.trim().to_owned();
    page.error = Some(("number", message));
    render_with(status, page)
}

#[derive(Deserialize)]
pub struct CodeForm {
    code: String,
}

/// `POST /account/phone/confirm`: the texted code makes the number the account's.
pub async fn confirm(
    State(state): State<AppState>,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<CodeForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    let (status, key) = match phone::confirm_add(&state.services, &actor, &form.code, Utc::now()).await? {
        Ok(()) => return Ok(Redirect::to("/account/phone?notice=added").into_response()),
        Err(CodeRefused::Wrong) => (StatusCode::UNPROCESSABLE_ENTITY, "phone.code_wrong"),
        Err(CodeRefused::NoCode) => (StatusCode::UNPROCESSABLE_ENTITY, "phone.code_gone"),
        Err(CodeRefused::Taken) => (StatusCode::CONFLICT, "phone.taken"),
    };
    let mut page = phone_page(&state, ctx, user.id).await?;
    page.error = Some(("code", page.ctx.t(key).to_owned()));
    render_with(status, page)
}

#[derive(Deserialize)]
pub struct PasswordForm {
    password: String,
}

/// `POST /account/phone/remove`.
pub async fn remove(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    SignedIn(user): SignedIn,
    Form(form): Form<PasswordForm>,
) -> AppResult<Response> {
    let actor = ctx.actor(user.id);
    if phone::remove(&state.services, &actor, form.password, &client, Utc::now()).await? {
        return Ok(Redirect::to("/account/phone").into_response());
    }
    let mut page = phone_page(&state, ctx, user.id).await?;
    page.error = Some(("password", page.ctx.t("phone.wrong_password").to_owned()));
    render_with(StatusCode::UNPROCESSABLE_ENTITY, page)
}

// ---- logging in with a texted code ----

#[derive(Template)]
#[template(path = "login_sms.html")]
struct LoginSmsTemplate {
    ctx: RequestContext,
    next: String,
    /// The masked number a code went to, once one was asked for.
    sent_to: Option<String>,
    number: String,
    error: Option<String>,
}

fn sms_number(state: &AppState, jar: &CookieJar) -> Option<PhoneNumber> {
    let sealed = jar.get(CookieName::SmsLogin.on(state))?.value().to_owned();
    let plain = state.services.results_key.open(SMS_LOGIN, &sealed).ok()?;
    PhoneNumber::parse(std::str::from_utf8(&plain).ok()?).ok()
}

/// `GET /login/sms`: the number, or (after asking) the code.
pub async fn log_in_form(
    State(state): State<AppState>,
    ctx: RequestContext,
    jar: CookieJar,
    Query(q): Query<NextParam>,
) -> AppResult<Response> {
    let next = safe_next(q.next.as_deref());
    if ctx.user.is_some() {
        return Ok(Redirect::to(&next).into_response());
    }
    let page = LoginSmsTemplate {
        sent_to: sms_number(&state, &jar).map(|n| n.masked()),
        ctx,
        next,
        number: String::new(),
        error: None,
    };
    Ok(render(page)?.into_response())
}

#[derive(Deserialize)]
pub struct LoginNumberForm {
    number: String,
    #[serde(default)]
    next: String,
}

/// `POST /login/sms`: texts a log-in code (if the number is an account's; the answer is the
/// same either way).
pub async fn request_log_in(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    jar: CookieJar,
    Form(form): Form<LoginNumberForm>,
) -> AppResult<Response> {
    let next = safe_next(Some(&form.next));
    let refuse = |ctx: RequestContext, status, error: String| {
        render_with(
            status,
            LoginSmsTemplate {
                ctx,
                next: next.clone(),
                sent_to: None,
                number: form.number.trim().to_owned(),
                error: Some(error),
            },
        )
    };
    let number = match PhoneNumber::parse(&form.number) {
        Ok(number) => number,
        Err(e) => {
            let message = ctx.t(number_error_key(e)).to_owned();
            return refuse(ctx, StatusCode::UNPROCESSABLE_ENTITY, message);
        }
    };
    if let Err(l) = phone::request_log_in(&state.services, &number, &client, Utc::now()).await? {
        let message = limited(&ctx, l);
        return refuse(ctx, StatusCode::TOO_MANY_REQUESTS, message);
    }
    let sealed = state.services.results_key.seal(SMS_LOGIN, number.as_str().as_bytes());
    let jar = jar.add(cookie(
        &state,
        CookieName::SmsLogin,
        sealed,
        time::Duration::minutes(CODE_LIFETIME.num_minutes() * 2),
    ));
    Ok((jar, Redirect::to(&with_next("/login/sms", &next))).into_response())
}

#[derive(Deserialize)]
pub struct LoginCodeForm {
    code: String,
    #[serde(default)]
    next: String,
}

/// `POST /login/sms/code`: the texted code logs in.
pub async fn log_in(
    State(state): State<AppState>,
    CountedClient(client): CountedClient,
    ctx: RequestContext,
    jar: CookieJar,
    Form(form): Form<LoginCodeForm>,
) -> AppResult<Response> {
    let next = safe_next(Some(&form.next));
    let Some(number) = sms_number(&state, &jar) else {
        return Ok(Redirect::to(&with_next("/login/sms", &next)).into_response());
    };
    let logged_in = phone::log_in(
        &state.services,
        &number,
        &form.code,
        &client,
        ctx.locale,
        &next,
        Utc::now(),
    )
    .await?;
    let jar = jar.remove(Cookie::build(CookieName::SmsLogin.on(&state)).path("/"));
    match logged_in {
        Ok(logged_in) => Ok(signed_in(&state, jar, logged_in, &next)),
        Err(refused) => {
            let key = match refused {
                CodeRefused::Wrong => "phone.code_wrong",
                CodeRefused::NoCode | CodeRefused::Taken => "phone.code_gone",
            };
            // A wrong code leaves the number in place for another try; a dead one asks again.
            let keep = refused == CodeRefused::Wrong;
            let page = LoginSmsTemplate {
                sent_to: keep.then(|| number.masked()),
                error: Some(ctx.t(key).to_owned()),
                ctx,
                next,
                number: String::new(),
            };
            let jar = if keep {
                jar.add(cookie(
                    &state,
                    CookieName::SmsLogin,
                    state.services.results_key.seal(SMS_LOGIN, number.as_str().as_bytes()),
                    time::Duration::minutes(CODE_LIFETIME.num_minutes() * 2),
                ))
            } else {
                jar
            };
            Ok((jar, render_with(StatusCode::UNAUTHORIZED, page)?).into_response())
        }
    }
}
