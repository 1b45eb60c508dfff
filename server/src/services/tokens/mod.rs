//! Tokens after they are minted: what their pages show (with no personal data), the holder's
//! certificate that `keepsake verify` checks offline, reviewers' freezes and revocations
//! ([`decisions`]), and the transfer that exists only to be refused.

pub mod decisions;

use chrono::{DateTime, Utc};

use super::ledger::log;
use super::{ServiceError, ServiceResult, Services};
use crate::crypto;
use crate::domain::audit::{AuditAction, AuditDetails, AuditEntry, AuditSubject};
use crate::domain::claim::holder_commitment;
use crate::domain::collection::Collection;
use crate::domain::ids::{CollectionId, IssuerId, TokenId, UserId};
use crate::domain::page::{Page, PageSize};
use crate::domain::token::{Token, TokenStatus};
use crate::domain::transfer_limit::{self, TransferLimited};
use crate::ledger::entry::{Entry, EntryBody};
use crate::ledger::receipt::{HolderProof, Receipt};
use crate::store;

/// A token with what its pages show beside it.
#[derive(Debug, Clone)]
pub struct TokenView {
    pub token: Token,
    pub collection: Collection,
    pub issuer_name: String,
    /// Its `token_minted` entry's index, once sequenced.
    pub ledger_index: Option<i64>,
}

/// The views of `tokens`, in the order given, with their collections, issuers and ledger
/// indices looked up once for the lot.
async fn views(services: &Services, tokens: Vec<Token>) -> ServiceResult<Vec<TokenView>> {
    let collection_ids: Vec<CollectionId> = tokens.iter().map(|t| t.collection).collect();
    let collections = store::collections::find_many(&services.db, &collection_ids).await?;
    let issuer_ids: Vec<IssuerId> = collections.values().map(|c| c.issuer).collect();
    let issuers = store::issuers::legal_names(&services.db, &issuer_ids).await?;
    let queued: Vec<i64> = tokens.iter().map(|t| t.ledger_queue_id).collect();
    let indices = log::indices_of(services, &queued).await?;
    tokens
        .into_iter()
        .map(|token| {
            let collection = collections
                .get(&token.collection)
                .ok_or(ServiceError::NotFound)?
                .clone();
            Ok(TokenView {
                issuer_name: issuers.get(&collection.issuer).cloned().unwrap_or_default(),
                ledger_index: indices.get(&token.ledger_queue_id).copied(),
                collection,
                token,
            })
        })
        .collect()
}

/// One token with what its page shows.
pub async fn view(services: &Services, id: TokenId) -> ServiceResult<TokenView> {
    let token = store::tokens::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    views(services, vec![token]).await?.pop().ok_or(ServiceError::NotFound)
}

/// A page of a collector's tokens, newest first, older than token `before` if given.
pub async fn of_holder(
    services: &Services,
    holder: UserId,
    before: Option<TokenId>,
    size: PageSize,
) -> ServiceResult<Page<TokenView, TokenId>> {
    let tokens = store::tokens::of_holder(&services.db, holder, before, size.fetch()).await?;
    let Page { items, next } = Page::from_rows(tokens, size, |token| token.id);
    Ok(Page {
        items: views(services, items).await?,
        next,
    })
}

/// When a frozen or revoked token's status last changed, for the notice on its page.
pub async fn decided_at(services: &Services, token: &Token) -> ServiceResult<Option<DateTime<Utc>>> {
    if token.status == TokenStatus::Active {
        return Ok(None);
    }
    let decisions = [AuditAction::TokenFrozen, AuditAction::TokenRevoked];
    Ok(store::audit::latest_at(&services.db, &AuditSubject::Token(token.id), &decisions).await?)
}

/// The token of `collection` with `serial`, if minted.
pub async fn by_serial(services: &Services, collection: CollectionId, serial: u32) -> ServiceResult<Option<Token>> {
    Ok(store::tokens::by_serial(&services.db, collection, serial).await?)
}

/// The token `id` if `holder` holds it.
pub async fn held(services: &Services, holder: UserId, id: TokenId) -> ServiceResult<Option<Token>> {
    let token = store::tokens::find(&services.db, id).await?;
    Ok(token.filter(|t| t.holder == holder))
}

/// A token `holder` holds, or not found (nobody else learns it exists).
pub async fn held_by(services: &Services, holder: UserId, id: TokenId) -> ServiceResult<Token> {
    held(services, holder, id).await?.ok_or(ServiceError::NotFound)
}

/// The holder's certificate: the token's ledger receipt plus the opening of its holder
/// commitment. Only the holder gets it, once the token is on the ledger under a checkpoint.
pub async fn certificate(services: &Services, holder: UserId, id: TokenId) -> ServiceResult<(Token, Receipt)> {
    let token = held_by(services, holder, id).await?;
    let row = log::entry_from_queue(services, token.ledger_queue_id)
        .await?
        .ok_or(ServiceError::CertificatePending)?;
    let checkpoint = log::receipt_checkpoint(services, row.idx as u64)
        .await?
        .ok_or(ServiceError::CertificatePending)?;
    let mut certificate = log::receipt(services, &row, &checkpoint).await?;
    let opening = services.vault.holder_opening(&token.holder_index, &token.salt);
    let minted_with_opening = matches!(
        Entry::decode(&row.entry).map(|entry| entry.body),
        Ok(EntryBody::TokenMinted { holder_commitment: committed, .. }) if committed == holder_commitment(&opening)
    );
    certificate.holder = Some(if minted_with_opening {
        HolderProof::Opening {
            opening: crypto::hex(&opening),
        }
    } else {
        HolderProof::Legacy {
            blind_index: token.holder_index.clone(),
            salt: crypto::hex(&token.salt),
        }
    });
    Ok((token, certificate))
}

/// Refuses a transfer, as it always must: collectibles are non-transferable. What an attempt
/// stores is bounded whoever sends it: each client (by its pseudonym) has an allowance of
/// refused attempts (over it, [`ServiceError::TransferAttemptsLimited`] and nothing is
/// written), attempts are counted per (token, clock hour), and only the first of each hour
/// writes an audit row.
pub async fn refuse_transfer(
    services: &Services,
    client: &str,
    user: Option<UserId>,
    request_id: Option<String>,
    id: TokenId,
    now: DateTime<Utc>,
) -> ServiceError {
    match count_refusal(services, client, user, request_id, id, now).await {
        Ok(attempts) => {
            tracing::warn!(token = %id, attempts, "transfer attempt refused");
            ServiceError::TransfersProhibited
        }
        Err(err) => err,
    }
}

async fn count_refusal(
    services: &Services,
    client: &str,
    user: Option<UserId>,
    request_id: Option<String>,
    id: TokenId,
    now: DateTime<Utc>,
) -> ServiceResult<i64> {
    let limited = |limited: TransferLimited| {
        tracing::warn!(
            retry_after = limited.retry_after.num_seconds(),
            "transfer attempts rate-limited"
        );
        ServiceError::TransferAttemptsLimited(limited)
    };
    // The flood past the allowance is answered from one read.
    let full_at = store::transfer_attempts::full_at(&services.db, client).await?;
    transfer_limit::check(full_at, now).map_err(limited)?;
    let token = store::tokens::find(&services.db, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let txn = store::begin(&services.db).await?;
    let full_at = store::transfer_attempts::take_share(&txn, client, transfer_limit::SPACING, now).await?;
    if let Err(over) = transfer_limit::admitted(full_at, now) {
        // Another attempt from this client took the last share first: nothing is kept.
        store::rollback(txn).await?;
        return Err(limited(over));
    }
    let period = transfer_limit::period_start(now);
    let attempts = store::transfer_attempts::count(&txn, token.id, period, now).await?;
    if attempts == 1 {
        let mut entry = AuditEntry::new(
            user,
            AuditAction::TokenTransferRefused,
            AuditSubject::Token(token.id),
            request_id,
        );
        entry.details = Some(AuditDetails::TransferRefused);
        store::audit::append(&txn, entry, now).await?;
    }
    store::commit(txn).await?;
    Ok(attempts)
}
