//! Reviewers freeze, unfreeze or revoke tokens: one, or every token of a collection at once.
//! Each token that changes gets a ledger entry and an audit row, and each holder one mail
//! naming their tokens, all in the decision's transaction, with the collection locked so that
//! no claim slips in between; the holder never changes. Revoking is final.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::domain::audit::{AuditAction, AuditEntry, AuditSubject};
use crate::domain::collection::Collection;
use crate::domain::ids::{CollectionId, TokenId, UserId};
use crate::domain::token::{Token, TokenStatus, TokenTransitionError};
use crate::ledger::entry::EntryBody;
use crate::mail::{Mail, TokenNotice};
use crate::paths;
use crate::services::collections::review::check_not_member;
use crate::services::ledger::log;
use crate::services::{Actor, ServiceError, ServiceResult, Services};
use crate::store::{self, Transaction};

/// What a reviewer does to a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Freeze,
    Unfreeze,
    Revoke,
}

impl Decision {
    /// The decision a form names: `freeze`, `unfreeze` or `revoke`.
    pub fn parse(action: &str) -> Option<Self> {
        Some(match action {
            "freeze" => Decision::Freeze,
            "unfreeze" => Decision::Unfreeze,
            "revoke" => Decision::Revoke,
            _ => return None,
        })
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

    fn recorded(self, collection_id: u64, serial: u32) -> (EntryBody, AuditAction) {
        match self {
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
    reviewer: &'a Actor,
    now: DateTime<Utc>,
}

/// Decides one token.
pub async fn decide(
    services: &Services,
    reviewer: &Actor,
    id: TokenId,
    decision: Decision,
    reason: &str,
    now: DateTime<Utc>,
) -> ServiceResult<Token> {
    let token = store::tokens::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let collection = store::collections::find(&services.db, token.collection)
        .await?
        .ok_or(ServiceError::NotFound)?;
    check_not_member(services, reviewer.user, collection.issuer).await?;
    let next = decision.next(&token.status, reason)?;
    let change = Change {
        decision,
        next: &next,
        reason: reason.trim(),
        reviewer,
        now,
    };
    let txn = store::begin(&services.db).await?;
    store::tokens::lock_collection(&txn, collection.id).await?;
    if !apply(services, &txn, &collection, &[&token], change).await? {
        return Err(ServiceError::ReviewConflict);
    }
    store::commit(txn).await?;
    services.mail_queued();
    services.entries_queued();
    Ok(token)
}

/// Decides every token of a collection that can still be (active ones are frozen; frozen ones
/// unfrozen; active and frozen ones revoked); answers how many changed.
pub async fn decide_collection(
    services: &Services,
    reviewer: &Actor,
    id: CollectionId,
    decision: Decision,
    reason: &str,
    now: DateTime<Utc>,
) -> ServiceResult<usize> {
    let collection = store::collections::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    check_not_member(services, reviewer.user, collection.issuer).await?;
    if reason.trim().is_empty() {
        return Err(ServiceError::BadInput);
    }
    let txn = store::begin(&services.db).await?;
    store::tokens::lock_collection(&txn, collection.id).await?;
    // A whole-collection decision is one atomic change, so it reads every token once, under
    // the lock; it is a reviewer's rare act, not a page.
    let tokens = store::tokens::of_collection(&txn, collection.id, None, None).await?;
    let mut next = None;
    let mut decided = Vec::new();
    for token in &tokens {
        if let Ok(status) = decision.next(&token.status, reason) {
            next.get_or_insert(status);
            decided.push(token);
        }
    }
    if let Some(next) = &next {
        let change = Change {
            decision,
            next,
            reason: reason.trim(),
            reviewer,
            now,
        };
        // The collection lock keeps every claim and single-token decision out until commit.
        if !apply(services, &txn, &collection, &decided, change).await? {
            return Err(ServiceError::ReviewConflict);
        }
    }
    store::commit(txn).await?;
    services.mail_queued();
    services.entries_queued();
    tracing::info!(collection = %collection.id, changed = decided.len(), ?decision, "collection tokens decided");
    Ok(decided.len())
}

/// The one place a token's status changes: the statuses themselves, a ledger entry and an audit
/// row per token and a mail per holder, in `txn`, with a handful of statements however many
/// tokens there are. False if any token changed since it was read.
async fn apply(
    services: &Services,
    txn: &Transaction,
    collection: &Collection,
    tokens: &[&Token],
    change: Change<'_>,
) -> ServiceResult<bool> {
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
        let (body, action) = decision.recorded(token.collection.0 as u64, token.serial);
        entries.push(body);
        audit.push(AuditEntry {
            before: Some(token.status.as_str()),
            after: Some(next.as_str()),
            reason: Some(reason.to_owned()),
            ..reviewer.audit(action, AuditSubject::Token(token.id))
        });
    }
    log::queue_entries(txn, entries, now).await?;
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
        let holder = holders.get(holder).ok_or(ServiceError::NotFound)?;
        let serials: Vec<String> = held.iter().map(|t| format!("#{}", t.serial)).collect();
        let link = match held.as_slice() {
            [only] => paths::token(only.id),
            _ => paths::MY_COLLECTION.to_owned(),
        };
        let mail = Mail::TokenStatus {
            link: &services.absolute_url(&link),
            collection: &format!("{} {}", collection.terms.title, serials.join(", ")),
            status: decision.notice(),
            reason,
        };
        mails.push(
            mail.render(&holder.email, holder.locale, &services.operator_name)
                .map_err(ServiceError::internal)?,
        );
    }
    store::outbox::enqueue_many(txn, mails, now).await?;
    Ok(true)
}
