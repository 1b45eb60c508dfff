//! Per-request context: who is signed in, which language to speak, the CSRF token, and the
//! operator details every page footer shows. Built once per request by [`load`] and read by
//! extractors and templates.

use std::borrow::Borrow;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{ACCEPT_LANGUAGE, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use chrono::{DateTime, Utc};

use super::error::AppError;
use crate::config::Operator;
use crate::crypto;
use crate::domain::account::Email;
use crate::domain::age::MinimumAge;
use crate::domain::filing_dates::FilingStanding;
use crate::domain::ids::UserId;
use crate::domain::role::{Role, Roles};
use crate::domain::second_factor;
use crate::health::Failing;
use crate::i18n::Locale;
use crate::services::claims::{Claimant, VerifiedIdentity};
use crate::services::{Actor, accounts};
use crate::state::AppState;

/// The platform's cookies. Served over HTTPS (`cookie_secure`) their names carry the
/// `__Host-` prefix, which browsers accept only for secure cookies of this host alone with path
/// `/`: no subdomain or plain-HTTP page can set or shadow them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CookieName {
    Session,
    /// A log-in waiting for its second factor.
    LoginChallenge,
    /// The number a log-in by texted code is for (sealed).
    SmsLogin,
    Csrf,
    Lang,
}

impl CookieName {
    /// The name as this installation writes and reads it.
    pub fn on(self, state: &AppState) -> &'static str {
        match (self, state.config.cookie_secure) {
            (CookieName::Session, false) => "ks_session",
            (CookieName::Session, true) => "__Host-ks_session",
            (CookieName::LoginChallenge, false) => "ks_login",
            (CookieName::LoginChallenge, true) => "__Host-ks_login",
            (CookieName::SmsLogin, false) => "ks_sms",
            (CookieName::SmsLogin, true) => "__Host-ks_sms",
            (CookieName::Csrf, false) => "ks_csrf",
            (CookieName::Csrf, true) => "__Host-ks_csrf",
            (CookieName::Lang, false) => "ks_lang",
            (CookieName::Lang, true) => "__Host-ks_lang",
        }
    }
}

/// The signed-in user of this request.
#[derive(Debug, Clone)]
pub struct SessionUser {
    pub id: UserId,
    pub email: Email,
    pub roles: Roles,
    /// Hash of the session token (the `sessions` row id).
    pub session_id: String,
    /// The person's verified identity; `None` until verified.
    pub verified: Option<VerifiedIdentity>,
    /// The person accepted the current platform rules, user agreement and privacy policy.
    pub policies_current: bool,
    /// The account has a second factor (which this session passed, or enrolled).
    pub second_factor: bool,
}

impl SessionUser {
    /// The account holds a staff role, whose pages stay closed until it has a second factor.
    pub fn needs_second_factor(&self) -> bool {
        second_factor::required(&self.roles) && !self.second_factor
    }

    /// The person passed real-name verification.
    pub fn identity_verified(&self) -> bool {
        self.verified.is_some()
    }

    /// The person as a claim sees them.
    pub fn claimant(&self) -> Claimant {
        Claimant {
            user: self.id,
            email: self.email.clone(),
            verified: self.verified.clone(),
            policies_accepted: self.policies_current,
        }
    }
}

/// What every handler and page knows about the current request.
#[derive(Debug, Clone)]
pub struct RequestContext {
    pub locale: Locale,
    pub user: Option<SessionUser>,
    /// The token forms must echo back in their `csrf` field.
    pub csrf_token: String,
    /// Path and query of this request, for "come back here" links.
    pub path: String,
    pub operator: Operator,
    /// The request id the trace layer assigned, recorded with audit rows.
    pub request_id: Option<String>,
    /// Who is asking, for results kept for them between a form and its answer page: the
    /// session while signed in, otherwise a hash of this browser's CSRF cookie.
    pub visitor: String,
    /// The platform's public address without a trailing slash, for links shared elsewhere.
    pub base_url: String,
    /// This installation holds demonstration data.
    pub demo: bool,
    /// Shown to administrators on every page: the ledger sequencer is failing, since when and why.
    pub ledger_failing: Option<Failing>,
    /// The platform's minimum age, which pages about claiming and joining name.
    pub minimum_age: MinimumAge,
    /// Shown to administrators on every page: the operator's own filings run out soon, or ran out.
    pub filings_alert: Option<FilingStanding>,
}

impl RequestContext {
    /// `user` acting through this request, as services record it.
    pub fn actor(&self, user: UserId) -> Actor {
        Actor {
            user,
            request_id: self.request_id.clone(),
        }
    }

    pub fn t(&self, key: &str) -> &'static str {
        self.locale.t(key)
    }

    /// The message for the key `prefix` + `suffix`, for keys chosen by a stored value
    /// (`issuer.status_` + `approved`).
    pub fn t2(&self, prefix: &str, suffix: &str) -> &'static str {
        self.locale.t(&format!("{prefix}{suffix}"))
    }

    pub fn tf(&self, key: &str, args: &[(&str, &str)]) -> String {
        self.locale.tf(key, args)
    }

    /// `path` as a full address, for links shared outside the platform.
    pub fn absolute(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// The current page as a full address.
    pub fn page_url(&self) -> String {
        self.absolute(&self.path)
    }

    /// A moment in Beijing time with the zone named.
    pub fn time(&self, at: impl Borrow<DateTime<Utc>>) -> String {
        self.locale.time(*at.borrow())
    }

    /// The day of a moment, in Beijing time.
    pub fn date(&self, at: impl Borrow<DateTime<Utc>>) -> String {
        self.locale.date(*at.borrow())
    }

    pub fn lang(&self) -> &'static str {
        self.locale.tag()
    }

    /// Whether the visitor may act in `role` on this request: they hold it, and staff roles
    /// count only once the account has a second factor.
    pub fn has_role(&self, role: Role) -> bool {
        self.user
            .as_ref()
            .is_some_and(|u| u.roles.has(role) && (u.second_factor || !second_factor::guards(role)))
    }

    pub fn is_admin(&self) -> bool {
        self.has_role(Role::Admin)
    }

    pub fn is_reviewer(&self) -> bool {
        self.has_role(Role::Reviewer)
    }

    pub fn is_regulator(&self) -> bool {
        self.has_role(Role::Regulator)
    }

    pub fn is_issuer_member(&self) -> bool {
        self.has_role(Role::IssuerMember)
    }

    /// Languages other than the current one, for the switcher.
    pub fn other_locales(&self) -> Vec<Locale> {
        Locale::ALL.into_iter().filter(|l| *l != self.locale).collect()
    }

    /// The current path, URL-encoded for a `next=` parameter.
    pub fn here(&self) -> String {
        url::form_urlencoded::byte_serialize(self.path.as_bytes()).collect()
    }

    /// The administrators' banner about the operator's filings: a state name and its words.
    pub fn filings_banner(&self) -> Option<(&'static str, String)> {
        self.filings_alert
            .map(|standing| super::filings_view::standing_words(self, Some(standing)))
    }

    pub fn icp_filing(&self) -> Option<&str> {
        self.operator.icp_filing.as_ref().map(|f| f.as_str())
    }

    pub fn blockchain_filing(&self) -> Option<&str> {
        self.operator.blockchain_filing.as_ref().map(|f| f.as_str())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<RequestContext>().cloned().ok_or_else(|| {
            let path = super::log_path::loggable(parts.uri.path());
            AppError::Internal(anyhow::anyhow!("request context missing on {path}"))
        })
    }
}

/// Builds a cookie with the platform's defaults: HttpOnly, SameSite=Lax, path `/`, secure
/// (and `__Host-` named) with `cookie_secure`.
pub fn cookie(state: &AppState, name: CookieName, value: String, max_age: time::Duration) -> Cookie<'static> {
    Cookie::build((name.on(state), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.cookie_secure)
        .path("/")
        .max_age(max_age)
        .build()
}

fn csrf_token(state: &AppState, nonce: &str, session_id: Option<&str>) -> String {
    state
        .csrf_key
        .sign(format!("{nonce}|{}", session_id.unwrap_or_default()).as_bytes())
}

fn valid_nonce(value: &str) -> bool {
    value.len() == 43
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

async fn load_user(state: &AppState, jar: &CookieJar) -> Option<SessionUser> {
    let token = jar.get(CookieName::Session.on(state))?.value();
    match accounts::session(&state.services, token, Utc::now()).await {
        Ok(session) => session.map(|(session_id, account)| SessionUser {
            id: account.user,
            email: account.email,
            roles: Roles::new(account.roles, account.issuer_member),
            session_id,
            verified: account.verified,
            policies_current: account.policies_current,
            second_factor: account.second_factor,
        }),
        Err(err) => {
            tracing::error!(error = %err, "session lookup failed; treating request as anonymous");
            None
        }
    }
}

fn negotiate_locale(state: &AppState, jar: &CookieJar, headers: &HeaderMap) -> Locale {
    jar.get(CookieName::Lang.on(state))
        .and_then(|c| Locale::from_tag(c.value()))
        .or_else(|| {
            headers
                .get(ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Locale::negotiate)
        })
        .unwrap_or_default()
}

/// Middleware: builds the [`RequestContext`] and issues the CSRF cookie on first visit.
pub async fn load(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let jar = CookieJar::from_headers(request.headers());
    let user = load_user(&state, &jar).await;
    let existing_nonce = jar
        .get(CookieName::Csrf.on(&state))
        .map(|c| c.value().to_owned())
        .filter(|v| valid_nonce(v));
    let (nonce, fresh) = match existing_nonce {
        Some(nonce) => (nonce, false),
        None => (crypto::random_token(), true),
    };
    let visitor = match &user {
        Some(user) => user.session_id.clone(),
        None => crypto::sha3_hex(format!("visitor|{nonce}").as_bytes()),
    };
    let context = RequestContext {
        visitor,
        base_url: state.services.public_url.as_str().trim_end_matches('/').to_owned(),
        demo: state.demo,
        ledger_failing: user
            .as_ref()
            .filter(|user| user.roles.has(Role::Admin))
            .and_then(|_| state.sequencer_health.failing()),
        filings_alert: user
            .as_ref()
            .filter(|user| user.roles.has(Role::Admin))
            .and_then(|_| state.services.filings.operator_alert(Utc::now())),
        locale: negotiate_locale(&state, &jar, request.headers()),
        csrf_token: csrf_token(&state, &nonce, user.as_ref().map(|u| u.session_id.as_str())),
        user,
        path: request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_else(|| "/".to_owned()),
        operator: state.config.operator.clone(),
        minimum_age: state.config.minimum_age,
        request_id: request
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    request.extensions_mut().insert(context);
    let mut response = next.run(request).await;
    if fresh {
        let cookie = cookie(&state, CookieName::Csrf, nonce, time::Duration::days(365));
        if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}
