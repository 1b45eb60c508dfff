//! Reviewers freeze, unfreeze or revoke tokens: one from its token page, or every token of a
//! collection from the collection's case page. Each token that changes gets a ledger entry and
//! an audit row, and each holder one mail naming their tokens, all in the decision's
//! transaction; the holder never changes. Revoking is final, so it must be confirmed.

use std::collections::BTreeMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{DateTime, Utc};
use sea_orm::DatabaseTransaction;
use serde::Deserialize;

use super::auth::Reviewer;
use super::claims::{MY_COLLECTION, token_path};
use super::collection_review::check_not_member;
use super::confirmed;
use super::context::RequestContext;
use super::error::{AppError, AppResult};
use super::ledger::queue_entries;
use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::collection::Collection;
use crate::domain::ids::CollectionId;
use crate::domain::ids::TokenId;
use crate::domain::ids::UserId;
use crate::domain::token::Token;
use crate::domain::token::{TokenStatus, TokenTransitionError};
use crate::ledger::entry::EntryBody;
use crate::mail::{self, Mail, TokenNotice};
use crate::state::AppState;
use crate::store;

#[derive(Deserialize)]
pub struct TokenDecisionForm {
    /// `freeze`, `unfreeze` or `revoke`.
    action: String,
    reason: String,
    /// `yes` when the reviewer confirmed a revocation.
    confirm: Option<String>,
}

/// What a reviewer does to a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Decision {
    Freeze,
    Unfreeze,
    Revoke,
}

impl Decision {
    /// The decision a form asks for; a revocation only with its confirmation.
    fn parse(form: &TokenDecisionForm) -> AppResult<Self> {
        match form.action.as_str() {
            "freeze" => Ok(Decision::Freeze),
            "unfreeze" => Ok(Decision::Unfreeze),
            "revoke" => confirmed(form.confirm.as_deref()).map(|()| Decision::Revoke),
            _ => Err(AppError::BadRequest),
        }
    }

    fn next(self, status: &TokenStatus, reason: &str) -> Result<TokenStatus, TokenTransitionError> {
        match self {
            Decision::Freeze => status.freeze(reason),
            Decision::Unfreeze => status.unfreeze(reason),
            Decision::Revoke => status.revoke(reason),
        }
    }

    fn notice(self) -> TokenNotice {
        match self {
            Decision::Freeze => TokenNotice::Frozen,
            Decision::Unfreeze => TokenNotice::Unfrozen,
            Decision::Revoke => TokenNotice::Revoked,
        }
    }
}

/// One reviewer's decision on some tokens of one collection.
struct Change<'a> {
    decision: Decision,
    /// The status every token moves to: the same whatever it was before.
    next: &'a TokenStatus,
    /// The reviewer's reason, as the holders are told it.
    reason: &'a str,
    reviewer: UserId,
    now: DateTime<Utc>,
}

/// The one place a token's status changes: the statuses themselves, a ledger entry and an audit
/// row per token and a mail per holder, in `txn`, with a handful of statements however many
/// tokens there are. False if any token changed since it was read.
async fn apply(
    state: &AppState,
    txn: &DatabaseTransaction,
    ctx: &RequestContext,
    collection: &Collection,
    tokens: &[&Token],
    change: Change<'_>,
) -> AppResult<bool> {
    let Change {
        decision,
        next,
        reason,
        reviewer,
        now,
    } = change;
    if !store::tokens::set_status_many(txn, tokens, next).await? {
        return Ok(false);
    }
    let mut entries = Vec::with_capacity(tokens.len());
    let mut audit = Vec::with_capacity(tokens.len());
    for token in tokens {
        let (collection_id, serial) = (token.collection.0 as u64, token.serial);
        let (body, action) = match decision {
            Decision::Freeze => (
                EntryBody::TokenFrozen { collection_id, serial },
                AuditAction::TokenFrozen,
            ),
            Decision::Unfreeze => (
                EntryBody::TokenUnfrozen { collection_id, serial },
                AuditAction::TokenUnfrozen,
            ),
            Decision::Revoke => (
                EntryBody::TokenRevoked { collection_id, serial },
                AuditAction::TokenRevoked,
            ),
        };
        entries.push(body);
        audit.push(AuditEntry {
            actor: Some(reviewer),
            action,
            subject: AuditSubject::Token(token.id),
            before: Some(token.status.as_str()),
            after: Some(next.as_str()),
            reason: Some(reason.to_owned()),
            details: None,
            request_id: ctx.request_id.clone(),
        });
    }
    queue_entries(txn, entries, now).await?;
    store::audit::append_many(txn, audit, now).await?;
    // One mail per holder, naming each of their tokens that changed.
    let mut by_holder: BTreeMap<UserId, Vec<&Token>> = BTreeMap::new();
    for token in tokens {
        by_holder.entry(token.holder).or_default().push(token);
    }
    let holder_ids: Vec<UserId> = by_holder.keys().copied().collect();
    let holders = store::users::find_many(txn, &holder_ids).await?;
    let mut mails = Vec::with_capacity(by_holder.len());
    for (holder, held) in &by_holder {
        let holder = holders.get(holder).ok_or(AppError::NotFound)?;
        let to = holder.email.clone();
        let serials: Vec<String> = held.iter().map(|t| format!("#{}", t.serial)).collect();
        let link = match held.as_slice() {
            [only] => token_path(only.id),
            _ => MY_COLLECTION.to_owned(),
        };
        let message = Mail::TokenStatus {
            link: &state.services.absolute_url(&link),
            collection: &format!("{} {}", collection.terms.title, serials.join(", ")),
            status: decision.notice(),
            reason,
        }
        .render(&to, holder.locale, &state.config.operator.name)?;
        mails.push(message);
    }
    mail::enqueue_many(txn, mails, now).await?;
    Ok(true)
}

/// `POST /review/tokens/{id}/decision`: freeze, unfreeze or revoke one token.
pub async fn decide(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<TokenDecisionForm>,
) -> AppResult<Response> {
    let token = store::tokens::find(&state.services.db, TokenId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    let collection = store::collections::find(&state.services.db, token.collection)
        .await?
        .ok_or(AppError::NotFound)?;
    check_not_member(&state, reviewer.user.id, collection.issuer).await?;
    let decision = Decision::parse(&form)?;
    let next = decision.next(&token.status, &form.reason).map_err(|e| match e {
        TokenTransitionError::ReasonRequired => AppError::BadRequest,
        TokenTransitionError::Illegal => AppError::ReviewConflict,
    })?;
    let change = Change {
        decision,
        next: &next,
        reason: form.reason.trim(),
        reviewer: reviewer.user.id,
        now: Utc::now(),
    };
    let txn = store::begin(&state.services.db).await?;
    store::tokens::lock_collection(&txn, collection.id).await?;
    if !apply(&state, &txn, &ctx, &collection, &[&token], change).await? {
        return Err(AppError::ReviewConflict);
    }
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    state.services.ledger_wakeup.notify_one();
    Ok(Redirect::to(&token_path(token.id)).into_response())
}

/// `POST /review/collections/{id}/tokens`: freeze, unfreeze or revoke every token of a
/// collection that can still be (active ones are frozen; frozen ones unfrozen; active and
/// frozen ones revoked). The collection is
/// locked for the decision, so no claim slips in between.
pub async fn decide_collection(
    State(state): State<AppState>,
    ctx: RequestContext,
    reviewer: Reviewer,
    Path(id): Path<i64>,
    Form(form): Form<TokenDecisionForm>,
) -> AppResult<Response> {
    let collection = store::collections::find(&state.services.db, CollectionId(id))
        .await?
        .ok_or(AppError::NotFound)?;
    check_not_member(&state, reviewer.user.id, collection.issuer).await?;
    let decision = Decision::parse(&form)?;
    if form.reason.trim().is_empty() {
        return Err(AppError::BadRequest);
    }
    let now = Utc::now();
    let txn = store::begin(&state.services.db).await?;
    store::tokens::lock_collection(&txn, collection.id).await?;
    let tokens = store::tokens::of_collection(&txn, collection.id).await?;
    let mut next = None;
    let mut decided = Vec::new();
    for token in &tokens {
        if let Ok(status) = decision.next(&token.status, &form.reason) {
            next.get_or_insert(status);
            decided.push(token);
        }
    }
    let changed = decided.len();
    if let Some(next) = &next {
        let change = Change {
            decision,
            next,
            reason: form.reason.trim(),
            reviewer: reviewer.user.id,
            now,
        };
        // The collection lock keeps every claim and single-token decision out until commit.
        if !apply(&state, &txn, &ctx, &collection, &decided, change).await? {
            return Err(AppError::ReviewConflict);
        }
    }
    txn.commit().await?;
    state.services.mail_wakeup.notify_one();
    state.services.ledger_wakeup.notify_one();
    tracing::info!(collection = %collection.id, changed, ?decision, "collection tokens decided");
    Ok(Redirect::to(&format!("/review/collections/{id}")).into_response())
}
