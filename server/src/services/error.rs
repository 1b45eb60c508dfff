//! The one error type of the services layer. Each variant is a refusal a person can act on
//! (mapped once to an HTTP answer in `web::error`), or a failure of the platform. The domain's
//! transition errors become service errors here, by one rule: a decision missing its reason is
//! bad input, and a move the current status does not allow is a conflict.

use crate::domain::appeal::AppealTransitionError;
use crate::domain::claim::ClaimRefusal;
use crate::domain::collection::CollectionTransitionError;
use crate::domain::identity::IdentityTransitionError;
use crate::domain::ids::{IssuerId, TokenId};
use crate::domain::issuer::IssuerTransitionError;
use crate::domain::login_throttle::Throttled;
use crate::domain::report::ReportTransitionError;
use crate::domain::token::TokenTransitionError;
use crate::domain::transfer_limit::TransferLimited;
use crate::store::StoreError;

/// What answers a refused claim: the token already held, or the issuer who keeps the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClaimHint {
    HeldToken(TokenId),
    AskIssuer(IssuerId),
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("no such thing, or not for this person")]
    NotFound,
    #[error("this person may not do this")]
    Forbidden,
    #[error("the link is not valid or has expired")]
    InvalidLink,
    /// The request names something malformed or unknown (a decision, a count, a key...).
    #[error("the request could not be understood")]
    BadInput,
    #[error("the upload is larger than allowed")]
    TooLarge,
    /// Another reviewer holds the case, it changed since it was read, or it was decided.
    #[error("another reviewer holds this case, or it was already decided")]
    ReviewConflict,
    #[error("the collection's status does not allow this")]
    CollectionState,
    #[error("the issuer is suspended or revoked")]
    IssuerInactive,
    #[error("a four-eyes case needs its second approval from another reviewer")]
    SameReviewer,
    #[error("the reviewer who made a decision cannot decide its appeal")]
    OwnDecision,
    /// A renewal of filings whose dates passed while it waited for a reviewer.
    #[error("a date in this renewal has passed")]
    RenewalOutdated,
    #[error("claim refused: {refusal}")]
    ClaimRefused {
        refusal: ClaimRefusal,
        hint: Option<ClaimHint>,
    },
    #[error("the claim key was used for another collection")]
    IdempotencyKeyReused,
    #[error("collectibles cannot be transferred")]
    TransfersProhibited,
    #[error("{0}")]
    TransferAttemptsLimited(TransferLimited),
    #[error("{0}")]
    Throttled(Throttled),
    #[error("the token is not on the ledger yet")]
    CertificatePending,
    #[error("the request's signature is missing or wrong")]
    BadSignature,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type ServiceResult<T> = Result<T, ServiceError>;

impl ServiceError {
    /// A failure of the platform, from anything that says what went wrong.
    pub fn internal(err: impl Into<anyhow::Error>) -> Self {
        ServiceError::Internal(err.into())
    }
}

impl From<CollectionTransitionError> for ServiceError {
    fn from(err: CollectionTransitionError) -> Self {
        match err {
            CollectionTransitionError::ReasonRequired => ServiceError::BadInput,
            CollectionTransitionError::IssuerInactive => ServiceError::IssuerInactive,
            CollectionTransitionError::SameReviewer => ServiceError::SameReviewer,
            CollectionTransitionError::Illegal { .. } | CollectionTransitionError::NotEditable => {
                ServiceError::CollectionState
            }
        }
    }
}

impl From<IssuerTransitionError> for ServiceError {
    fn from(err: IssuerTransitionError) -> Self {
        match err {
            IssuerTransitionError::ReasonRequired => ServiceError::BadInput,
            IssuerTransitionError::Illegal { .. } => ServiceError::ReviewConflict,
        }
    }
}

impl From<IdentityTransitionError> for ServiceError {
    fn from(err: IdentityTransitionError) -> Self {
        match err {
            IdentityTransitionError::ReasonRequired => ServiceError::BadInput,
            IdentityTransitionError::NotPending
            | IdentityTransitionError::AlreadyPending
            | IdentityTransitionError::AlreadyVerified
            | IdentityTransitionError::NotVerified => ServiceError::ReviewConflict,
        }
    }
}

impl From<TokenTransitionError> for ServiceError {
    fn from(err: TokenTransitionError) -> Self {
        match err {
            TokenTransitionError::ReasonRequired => ServiceError::BadInput,
            TokenTransitionError::Illegal => ServiceError::ReviewConflict,
        }
    }
}

impl From<ReportTransitionError> for ServiceError {
    fn from(err: ReportTransitionError) -> Self {
        match err {
            ReportTransitionError::ReasonRequired => ServiceError::BadInput,
            ReportTransitionError::Decided => ServiceError::ReviewConflict,
        }
    }
}

impl From<AppealTransitionError> for ServiceError {
    fn from(err: AppealTransitionError) -> Self {
        match err {
            AppealTransitionError::ReasonRequired => ServiceError::BadInput,
            AppealTransitionError::Decided => ServiceError::ReviewConflict,
            AppealTransitionError::OwnDecision => ServiceError::OwnDecision,
        }
    }
}
