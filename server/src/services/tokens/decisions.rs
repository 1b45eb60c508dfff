//! Reviewers freeze, unfreeze or revoke tokens: one, or every token of a collection at once.
//! Each token that changes gets a ledger entry and an audit row, and each holder one mail
//! naming their tokens, all in the decision's transaction, with the collection locked so that
//! no claim slips in between; the holder never changes. Revoking is final, and revoking a
//! whole collection closes it for good.

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

/// Tokens a whole-collection decision reads and changes at a time, and holders it writes to at
/// a time: the decision stays one transaction, its memory bounded whatever the edition.
const CHUNK: usize = 1_000;

/// One reviewer's decision on some tokens of one collection.
#[derive(Clone, Copy)]
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
    if !record(&txn, &[&token], change).await? {
        return Err(ServiceError::ReviewConflict);
    }
    let held = BTreeMap::from([(token.holder, vec![(token.id, token.serial)])]);
    tell_holders(services, &txn, &collection, &held, change).await?;
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
    // The collection lock keeps every claim and single-token decision out until commit.
    store::tokens::lock_collection(&txn, collection.id).await?;
    // One atomic change, read and written a page of tokens at a time; each holder's changed
    // tokens (id and serial) are kept to tell them once, at the end.
    let mut held: BTreeMap<UserId, Vec<(TokenId, u32)>> = BTreeMap::new();
    let mut next: Option<TokenStatus> = None;
    let mut decided = 0;
    let mut after = None;
    loop {
        let page = store::tokens::of_collection(&txn, collection.id, after, Some(CHUNK as u64)).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.serial);
        let changing: Vec<&Token> = page
            .iter()
            .filter(|token| decision.next(&token.status, reason).is_ok())
            .collect();
        let Some(first) = changing.first() else { continue };
        if next.is_none() {
            next = Some(decision.next(&first.status, reason)?);
        }
        let Some(status) = &next else { continue };
        let change = Change {
            decision,
            next: status,
            reason: reason.trim(),
            reviewer,
            now,
        };
        if !record(&txn, &changing, change).await? {
            return Err(ServiceError::ReviewConflict);
        }
        for token in &changing {
            held.entry(token.holder).or_default().push((token.id, token.serial));
        }
        decided += changing.len();
    }
    if let Some(status) = &next {
        let change = Change {
            decision,
            next: status,
            reason: reason.trim(),
            reviewer,
            now,
        };
        tell_holders(services, &txn, &collection, &held, change).await?;
    }
    if decision == Decision::Revoke {
        end_revoked(&txn, reviewer, &collection, decided > 0, reason.trim(), now).await?;
    }
    store::commit(txn).await?;
    services.mail_queued();
    services.entries_queued();
    tracing::info!(collection = %collection.id, changed = decided, ?decision, "collection tokens decided");
    Ok(decided)
}

/// A whole collection revoked: a public one is closed for good and the ledger records its
/// revocation after its tokens', so that anyone reading the log alone can tell that nothing may
/// be minted in it any more. A collection that never went public has no tokens and no entry.
async fn end_revoked(
    txn: &Transaction,
    reviewer: &Actor,
    collection: &Collection,
    tokens_revoked: bool,
    reason: &str,
    now: DateTime<Utc>,
) -> ServiceResult<()> {
    let Ok(ended) = collection.status.revoke() else {
        return Ok(());
    };
    let closing = ended != collection.status;
    if closing {
        let moved = store::collections::transition(
            txn,
            collection.id,
            collection.version,
            &collection.status,
            &ended,
            None,
            None,
            now,
        )
        .await?;
        if !moved {
            return Err(ServiceError::ReviewConflict);
        }
        store::audit::append(
            txn,
            AuditEntry {
                before: Some(collection.status.as_str()),
                after: Some(ended.as_str()),
                reason: Some(reason.to_owned()),
                ..reviewer.audit(AuditAction::CollectionClosed, AuditSubject::Collection(collection.id))
            },
            now,
        )
        .await?;
    }
    if closing || tokens_revoked {
        let collection_id = collection.id.0 as u64;
        log::queue_entry(txn, EntryBody::CollectionRevoked { collection_id }, now).await?;
    }
    Ok(())
}

/// The one place a token's status changes: the statuses themselves, and a ledger entry and an
/// audit row per token, in `txn`, with a handful of statements however many tokens there are.
/// False if any token changed since it was read.
async fn record(txn: &Transaction, tokens: &[&Token], change: Change<'_>) -> ServiceResult<bool> {
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
    Ok(true)
}

/// One mail per holder, naming each of their tokens (id and serial) that changed, queued in
/// `txn` a thousand holders at a time.
async fn tell_holders(
    services: &Services,
    txn: &Transaction,
    collection: &Collection,
    held: &BTreeMap<UserId, Vec<(TokenId, u32)>>,
    change: Change<'_>,
) -> ServiceResult<()> {
    let holders: Vec<(&UserId, &Vec<(TokenId, u32)>)> = held.iter().collect();
    for chunk in holders.chunks(CHUNK) {
        let ids: Vec<UserId> = chunk.iter().map(|(id, _)| **id).collect();
        let accounts = store::users::find_many(txn, &ids).await?;
        let mut mails = Vec::with_capacity(chunk.len());
        for (holder, tokens) in chunk {
            let holder = accounts.get(holder).ok_or(ServiceError::NotFound)?;
            let serials: Vec<String> = tokens.iter().map(|(_, serial)| format!("#{serial}")).collect();
            let link = match tokens.as_slice() {
                [(only, _)] => paths::token(*only),
                _ => paths::MY_COLLECTION.to_owned(),
            };
            let mail = Mail::TokenStatus {
                link: &services.absolute_url(&link),
                collection: &format!("{} {}", collection.terms.title, serials.join(", ")),
                status: change.decision.notice(),
                reason: change.reason,
            };
            mails.push(
                mail.render(&holder.email, holder.locale, &services.operator_name)
                    .map_err(ServiceError::internal)?,
            );
        }
        store::outbox::enqueue_many(txn, mails, change.now).await?;
    }
    Ok(())
}
