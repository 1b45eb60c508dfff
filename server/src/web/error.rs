//! The web layer's error type and its single mapping to HTTP.
//!
//! Handlers return [`AppError`]; its `IntoResponse` sets the status and attaches an
//! [`ErrorPage`] marker. The `render_error_pages` middleware, which knows the visitor's
//! language and session, turns the marker into an HTML page, or into
//! `{"error": {"code", "message"}}` for API and JSON clients.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;

use crate::domain::claim::ClaimRefusal;
use crate::domain::login_throttle::{ThrottleReason, Throttled};
use crate::domain::page::PageError;
use crate::domain::transfer_limit::TransferLimited;
use crate::services::{ClaimHint, ServiceError};
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("page not found")]
    NotFound,
    #[error("this address does not take that method")]
    MethodNotAllowed,
    #[error("sign-in required")]
    Unauthenticated { next: String },
    #[error("staff pages open once the account has a second factor")]
    SecondFactorNeeded { next: String },
    #[error("you do not have permission to do this")]
    Forbidden,
    #[error("the form expired or was not sent by this site; reload the page and try again")]
    CsrfRejected,
    #[error("{0}")]
    Throttled(Throttled),
    #[error("this link is not valid or has expired")]
    InvalidLink,
    #[error("the request could not be understood")]
    BadRequest,
    #[error("this cannot be undone, so it needs to be confirmed")]
    ConfirmationRequired,
    #[error("a form's result is shown only for a while after it was sent, and only to its sender")]
    ResultGone,
    #[error("another reviewer holds this case, or it was already decided")]
    ReviewConflict,
    #[error("a valid API key is required")]
    ApiKeyRequired,
    #[error("the request signature is missing or wrong")]
    BadSignature,
    #[error("an attestation is a hash with an optional label, as JSON or a multipart form with one file")]
    InvalidAttestation,
    #[error("a SHA3-256 digest is written as 64 lower-case hex digits")]
    InvalidDigest,
    #[error("{0}")]
    InvalidPage(#[from] PageError),
    #[error("the file is larger than the server hashes")]
    FileTooLarge,
    #[error("the issuer is suspended or revoked, so it cannot submit or publish")]
    IssuerInactive,
    #[error("the date of birth in the verified ID is below the minimum age for acting for a business")]
    TooYoung,
    #[error("a four-eyes case needs its second approval from another reviewer")]
    SameReviewer,
    #[error("the reviewer who made a decision cannot decide its appeal")]
    OwnDecision,
    #[error("a date in this renewal has passed")]
    RenewalOutdated,
    #[error("the collection's status does not allow this")]
    CollectionStateConflict,
    #[error("{0}")]
    ClaimRefused(ClaimRefusal),
    #[error("collectibles cannot be transferred")]
    TransfersProhibited,
    #[error("{0}")]
    TransferAttemptsLimited(TransferLimited),
    #[error("the token is not on the ledger yet")]
    CertificatePending,
    #[error("a signed-in session and an Idempotency-Key header are required")]
    ClaimApiRequest,
    #[error("this idempotency key was used for another request")]
    IdempotencyKeyReused,
    /// A refusal with the links that say what to do next, beyond the ones every page of its
    /// kind offers.
    #[error("{0}")]
    WithNext(Box<AppError>, Vec<NextStep>),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Template(#[from] askama::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A link an error page offers: where to go, and the message key of its label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextStep {
    pub href: String,
    pub label: &'static str,
}

impl NextStep {
    pub fn new(href: impl Into<String>, label: &'static str) -> Self {
        NextStep {
            href: href.into(),
            label,
        }
    }
}

/// What the error-page middleware needs to render an error.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    /// Stable machine-readable code, also the catalogue key prefix (`error.<code>.*`).
    pub code: &'static str,
    /// English message for JSON clients.
    pub message: &'static str,
    /// Links the handler chose; the page adds the ones every error of its code offers.
    pub next: Vec<NextStep>,
}

/// A refusal as JSON clients read it: `{"error": {"code", "message"}}`.
#[derive(Debug, Serialize)]
pub struct JsonError {
    error: JsonErrorDetail,
}

#[derive(Debug, Serialize)]
struct JsonErrorDetail {
    code: &'static str,
    message: &'static str,
}

impl JsonError {
    pub fn new(code: &'static str, message: &'static str) -> Self {
        JsonError {
            error: JsonErrorDetail { code, message },
        }
    }
}

impl AppError {
    /// The same refusal, offering `next` as what to do about it.
    pub fn with_next(self, next: Vec<NextStep>) -> Self {
        AppError::WithNext(Box::new(self), next)
    }

    /// How long a rate-limited client should wait (the `Retry-After` header).
    pub fn retry_after(&self) -> Option<chrono::Duration> {
        match self {
            AppError::WithNext(inner, _) => inner.retry_after(),
            AppError::Throttled(throttled) => Some(throttled.retry_after),
            AppError::TransferAttemptsLimited(limited) => Some(limited.retry_after),
            _ => None,
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            AppError::WithNext(inner, _) => inner.status(),
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            AppError::Unauthenticated { .. } => StatusCode::UNAUTHORIZED,
            AppError::SecondFactorNeeded { .. }
            | AppError::Forbidden
            | AppError::CsrfRejected
            | AppError::TransfersProhibited
            | AppError::TooYoung
            | AppError::ClaimRefused(
                ClaimRefusal::IdentityNotVerified
                | ClaimRefusal::IdConsentNeeded
                | ClaimRefusal::AgeRestricted
                | ClaimRefusal::PoliciesNotAccepted,
            ) => StatusCode::FORBIDDEN,
            AppError::ClaimRefused(_) | AppError::CertificatePending => StatusCode::CONFLICT,
            AppError::Throttled(_) | AppError::TransferAttemptsLimited(_) => StatusCode::TOO_MANY_REQUESTS,
            AppError::InvalidLink
            | AppError::BadRequest
            | AppError::InvalidAttestation
            | AppError::InvalidDigest
            | AppError::InvalidPage(_) => StatusCode::BAD_REQUEST,
            AppError::ConfirmationRequired | AppError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::ResultGone => StatusCode::GONE,
            AppError::FileTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            AppError::ClaimApiRequest => StatusCode::UNAUTHORIZED,
            AppError::ReviewConflict
            | AppError::IssuerInactive
            | AppError::SameReviewer
            | AppError::OwnDecision
            | AppError::RenewalOutdated
            | AppError::CollectionStateConflict => StatusCode::CONFLICT,
            AppError::ApiKeyRequired | AppError::BadSignature => StatusCode::UNAUTHORIZED,
            AppError::Store(StoreError::Conflict(_)) => StatusCode::CONFLICT,
            AppError::Store(_) | AppError::Template(_) | AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn page(&self) -> ErrorPage {
        let (code, message) = match self {
            AppError::WithNext(inner, next) => {
                let mut page = inner.page();
                page.next.extend(next.iter().cloned());
                return page;
            }
            AppError::NotFound => ("not_found", "page not found"),
            AppError::MethodNotAllowed => (
                "method_not_allowed",
                "this address does not take that method; see the API reference in docs/api.md",
            ),
            AppError::Unauthenticated { .. } => ("unauthenticated", "sign-in required"),
            AppError::SecondFactorNeeded { .. } => (
                "second_factor_required",
                "staff pages open once the account has a second factor; enrol one at /account/two-factor",
            ),
            AppError::Forbidden => ("forbidden", "you do not have permission to do this"),
            AppError::CsrfRejected => ("csrf_rejected", "missing or invalid CSRF token"),
            AppError::Throttled(Throttled {
                reason: ThrottleReason::AccountLocked,
                ..
            }) => (
                "account_locked",
                "this account had too many failed log-ins from many places and is locked for now; its owner was \
                 mailed a link that unlocks it",
            ),
            AppError::Throttled(_) => (
                "login_throttled",
                "too many failed log-ins from here; wait the number of seconds in Retry-After and try again",
            ),
            AppError::InvalidLink => ("invalid_link", "this link is not valid or has expired"),
            AppError::BadRequest => ("bad_request", "the request could not be understood"),
            AppError::IdempotencyKeyReused => (
                "idempotency_key_reused",
                "this Idempotency-Key already claimed a token of another collection; send a new key for a new claim",
            ),
            AppError::ResultGone => (
                "result_gone",
                "this result was shown for a limited time to the person who asked for it, and is no longer available",
            ),
            AppError::ConfirmationRequired => (
                "confirmation_required",
                "this cannot be undone: tick the confirmation box and send the form again",
            ),
            AppError::BadSignature => ("bad_signature", "the request signature is missing or wrong"),
            AppError::InvalidAttestation => (
                "invalid_attestation",
                "send {\"sha3_256\": <64 lower-case hex digits>, \"label\": <at most 200 bytes>} and nothing else, \
                 or a multipart form with one non-empty `file` and an optional `label`",
            ),
            AppError::InvalidDigest => (
                "invalid_digest",
                "a SHA3-256 digest is written as 64 lower-case hex digits",
            ),
            AppError::InvalidPage(_) => (
                "invalid_page",
                "a page holds from 1 to 1000 rows (`limit`) and continues from the `next` cursor of the page before it \
                 (`after`); start again from the first page",
            ),
            AppError::FileTooLarge => (
                "file_too_large",
                "the file is larger than 64 MiB; hash it yourself and send {\"sha3_256\": ...}",
            ),
            AppError::ApiKeyRequired => (
                "api_key_required",
                "a valid API key is required (Authorization: Bearer <key>)",
            ),
            AppError::ReviewConflict => (
                "review_conflict",
                "another reviewer holds this case, or it was already decided",
            ),
            AppError::IssuerInactive => (
                "issuer_inactive",
                "the issuer is suspended or revoked, so it cannot submit or publish",
            ),
            AppError::TooYoung => (
                "member_too_young",
                "the date of birth in your verified ID is below the platform's minimum age for acting \
                 for a business",
            ),
            AppError::SameReviewer => (
                "same_reviewer",
                "a four-eyes case needs its second approval from another reviewer",
            ),
            AppError::OwnDecision => (
                "own_decision",
                "the reviewer who made a decision cannot decide its appeal; another reviewer must",
            ),
            AppError::RenewalOutdated => (
                "renewal_outdated",
                "a validity date in this renewal has passed; refuse it, giving the reason, so the issuer sends current dates",
            ),
            AppError::CollectionStateConflict => (
                "collection_state",
                "the collection's status does not allow this (published content cannot be edited)",
            ),
            AppError::ClaimRefused(refusal) => (refusal.code(), refusal.message()),
            AppError::ClaimApiRequest => (
                "claim_request_invalid",
                "claiming through the API needs a signed-in session cookie and an Idempotency-Key header \
                 (16 to 64 characters of A-Z, a-z, 0-9, - and _)",
            ),
            AppError::CertificatePending => (
                "certificate_pending",
                "the token is being written to the ledger; try again in a moment",
            ),
            AppError::TransfersProhibited => (
                "transfers_prohibited",
                "collectibles on this platform are non-transferable: no transfer, sale or gift is possible",
            ),
            AppError::TransferAttemptsLimited(_) => (
                "rate_limited",
                "too many refused transfer attempts from this address (collectibles are non-transferable); wait the \
                 number of seconds in Retry-After before asking again",
            ),
            AppError::Store(StoreError::Conflict(_)) => ("conflict", "this already exists"),
            AppError::Store(_) | AppError::Template(_) | AppError::Internal(_) => {
                ("internal", "something went wrong on our side")
            }
        };
        ErrorPage {
            code,
            message,
            next: Vec::new(),
        }
    }
}

#[cfg(test)]
impl AppError {
    /// One error of every kind, with every claim refusal and throttling reason, for tests that
    /// must see every error page (the message catalogue's).
    pub fn samples() -> Vec<AppError> {
        let throttled = |reason| {
            AppError::Throttled(Throttled {
                reason,
                retry_after: chrono::Duration::seconds(30),
            })
        };
        let mut samples = vec![
            AppError::NotFound,
            AppError::MethodNotAllowed,
            AppError::Unauthenticated { next: "/".to_owned() },
            AppError::SecondFactorNeeded {
                next: "/review".to_owned(),
            },
            AppError::Forbidden,
            AppError::CsrfRejected,
            throttled(ThrottleReason::Backoff),
            throttled(ThrottleReason::AccountLocked),
            throttled(ThrottleReason::Ip),
            AppError::InvalidLink,
            AppError::BadRequest,
            AppError::ConfirmationRequired,
            AppError::ResultGone,
            AppError::ReviewConflict,
            AppError::ApiKeyRequired,
            AppError::BadSignature,
            AppError::InvalidAttestation,
            AppError::InvalidDigest,
            AppError::InvalidPage(PageError::Size),
            AppError::InvalidPage(PageError::Cursor),
            AppError::FileTooLarge,
            AppError::IssuerInactive,
            AppError::TooYoung,
            AppError::SameReviewer,
            AppError::OwnDecision,
            AppError::RenewalOutdated,
            AppError::CollectionStateConflict,
            AppError::TransfersProhibited,
            AppError::TransferAttemptsLimited(TransferLimited {
                retry_after: chrono::Duration::seconds(30),
            }),
            AppError::CertificatePending,
            AppError::ClaimApiRequest,
            AppError::IdempotencyKeyReused,
            AppError::NotFound.with_next(vec![NextStep::new("/", "error.back_home")]),
            AppError::Store(StoreError::Conflict("sample")),
            AppError::Store(StoreError::Corrupt {
                table: "sample",
                id: "1".to_owned(),
                what: "sample",
            }),
            AppError::Template(askama::Error::Fmt),
            AppError::Internal(anyhow::anyhow!("sample")),
        ];
        samples.extend(ClaimRefusal::ALL.map(AppError::ClaimRefused));
        for sample in &samples {
            // No wildcard arm: a new variant stops this compiling until it is named here, and
            // so reminds whoever adds it to add a sample above.
            match sample {
                AppError::NotFound
                | AppError::MethodNotAllowed
                | AppError::Unauthenticated { .. }
                | AppError::SecondFactorNeeded { .. }
                | AppError::Forbidden
                | AppError::CsrfRejected
                | AppError::Throttled(_)
                | AppError::InvalidLink
                | AppError::BadRequest
                | AppError::ConfirmationRequired
                | AppError::ResultGone
                | AppError::ReviewConflict
                | AppError::ApiKeyRequired
                | AppError::BadSignature
                | AppError::InvalidAttestation
                | AppError::InvalidDigest
                | AppError::InvalidPage(_)
                | AppError::FileTooLarge
                | AppError::IssuerInactive
                | AppError::TooYoung
                | AppError::SameReviewer
                | AppError::OwnDecision
                | AppError::RenewalOutdated
                | AppError::CollectionStateConflict
                | AppError::ClaimRefused(_)
                | AppError::TransfersProhibited
                | AppError::TransferAttemptsLimited(_)
                | AppError::CertificatePending
                | AppError::ClaimApiRequest
                | AppError::IdempotencyKeyReused
                | AppError::WithNext(..)
                | AppError::Store(_)
                | AppError::Template(_)
                | AppError::Internal(_) => {}
            }
        }
        samples
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let redirect = match &self {
            AppError::Unauthenticated { next } => Some(("/login", next)),
            AppError::SecondFactorNeeded { next } => Some(("/account/two-factor", next)),
            _ => None,
        };
        if let Some((page, next)) = redirect {
            let target = format!(
                "{page}?next={}",
                url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
            );
            return Redirect::to(&target).into_response();
        }
        let status = self.status();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let mut response = status.into_response();
        if let Some(wait) = self.retry_after() {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(wait.num_seconds().max(1)),
            );
        }
        response.extensions_mut().insert(self.page());
        response
    }
}

impl From<ServiceError> for AppError {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::NotFound => AppError::NotFound,
            ServiceError::Forbidden => AppError::Forbidden,
            ServiceError::InvalidLink => AppError::InvalidLink,
            ServiceError::BadInput => AppError::BadRequest,
            ServiceError::TooLarge => AppError::FileTooLarge,
            ServiceError::ReviewConflict => AppError::ReviewConflict,
            ServiceError::CollectionState => AppError::CollectionStateConflict,
            ServiceError::IssuerInactive => AppError::IssuerInactive,
            ServiceError::SameReviewer => AppError::SameReviewer,
            ServiceError::OwnDecision => AppError::OwnDecision,
            ServiceError::RenewalOutdated => AppError::RenewalOutdated,
            ServiceError::ClaimRefused { refusal, hint } => {
                let refused = AppError::ClaimRefused(refusal);
                match hint {
                    None => refused,
                    Some(ClaimHint::HeldToken(token)) => {
                        refused.with_next(vec![NextStep::new(format!("/tokens/{token}"), "error.next_token")])
                    }
                    Some(ClaimHint::AskIssuer(issuer)) => {
                        refused.with_next(vec![NextStep::new(format!("/issuers/{issuer}"), "error.next_issuer")])
                    }
                }
            }
            ServiceError::IdempotencyKeyReused => AppError::IdempotencyKeyReused,
            ServiceError::TransfersProhibited => AppError::TransfersProhibited,
            ServiceError::TransferAttemptsLimited(limited) => AppError::TransferAttemptsLimited(limited),
            ServiceError::Throttled(throttled) => AppError::Throttled(throttled),
            ServiceError::CertificatePending => AppError::CertificatePending,
            ServiceError::BadSignature => AppError::BadSignature,
            ServiceError::Store(err) => AppError::Store(err),
            ServiceError::Internal(err) => AppError::Internal(err),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
