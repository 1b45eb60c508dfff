//! A collection's claims as its issuer sees them: the dashboard's figures, read as aggregates
//! the database computes, and the claims themselves a page at a time, however many there are.

use chrono::{DateTime, Utc};

use super::super::ledger::log;
use super::super::{ServiceResult, Services};
use super::ledger_index;
use crate::domain::account::Email;
use crate::domain::claim_stats::ChartWindow;
use crate::domain::collection::{ClaimMode, Collection};
use crate::domain::ids::{CollectionId, UserId};
use crate::domain::page::{Page, PageSize};
use crate::domain::token::{Token, TokenStatus};
use crate::store;

/// How many intervals the claims chart cuts its span into.
pub const CHART_BUCKETS: u32 = 48;

/// What the issuer's dashboard shows of a collection beyond the collection itself.
#[derive(Debug, Clone, Default)]
pub struct Dashboard {
    /// (generated, used) claim codes, for a claim-code collection.
    pub codes: Option<(u64, u64)>,
    /// How many addresses an allowlist collection lists.
    pub allowlisted: Option<u64>,
    /// Claims over the claim window so far, once the collection is public and the window open.
    pub chart: Option<ClaimsOverTime>,
    /// The ledger index of its publication, once sequenced.
    pub ledger_index: Option<i64>,
}

/// Claims per equal interval from the start of the claim window to its end or now.
#[derive(Debug, Clone)]
pub struct ClaimsOverTime {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub per_bucket: Vec<u64>,
}

pub async fn dashboard(services: &Services, collection: &Collection, now: DateTime<Utc>) -> ServiceResult<Dashboard> {
    let codes = match collection.terms.claim_mode {
        ClaimMode::ClaimCodes => Some(code_counts(services, collection).await?),
        ClaimMode::Open | ClaimMode::Allowlist => None,
    };
    let allowlisted = match collection.terms.claim_mode {
        ClaimMode::Allowlist => Some(store::allowlists::count(&services.db, collection.id).await?),
        ClaimMode::Open | ClaimMode::ClaimCodes => None,
    };
    Ok(Dashboard {
        codes,
        allowlisted,
        chart: claims_over_time(services, collection, now).await?,
        ledger_index: ledger_index(services, collection).await?,
    })
}

/// (generated, used) claim codes of the collection.
pub async fn code_counts(services: &Services, collection: &Collection) -> ServiceResult<(u64, u64)> {
    Ok(store::claim_codes::counts(&services.db, collection.id).await?)
}

/// The collection's tokens a reviewer froze or revoked, for the regulator's page.
pub async fn decided_tokens(services: &Services, collection: CollectionId) -> ServiceResult<Vec<Token>> {
    Ok(store::tokens::decided_in(&services.db, collection, 500).await?)
}

async fn claims_over_time(
    services: &Services,
    collection: &Collection,
    now: DateTime<Utc>,
) -> ServiceResult<Option<ClaimsOverTime>> {
    let from = collection.terms.claim_starts_at;
    let to = collection.terms.claim_ends_at.min(now);
    let window = ChartWindow::new(from, to, CHART_BUCKETS);
    let (true, Some(window)) = (collection.status.is_public(), window) else {
        return Ok(None);
    };
    let sums = store::claim_minutes::in_buckets(&services.db, collection.id, &window).await?;
    Ok(Some(ClaimsOverTime {
        from,
        to,
        per_bucket: window.fold(&sums),
    }))
}

/// One claim as issuers see it: the holder is only their address, masked by the caller.
#[derive(Debug, Clone)]
pub struct ClaimRow {
    pub serial: u32,
    pub claimed_at: DateTime<Utc>,
    pub holder: Option<Email>,
    pub status: TokenStatus,
    pub ledger_index: Option<i64>,
}

/// A page of the collection's claims in serial order, after serial `after`: three queries
/// whatever the page's size, none of them reading beyond the page.
pub async fn page(
    services: &Services,
    collection: CollectionId,
    after: Option<u32>,
    size: PageSize,
) -> ServiceResult<Page<ClaimRow, u32>> {
    let tokens = store::tokens::of_collection(&services.db, collection, after, Some(size.fetch())).await?;
    let tokens = Page::from_rows(tokens, size, |token| token.serial);
    let holders: Vec<UserId> = tokens.items.iter().map(|t| t.holder).collect();
    let accounts = store::users::find_many(&services.db, &holders).await?;
    let queued: Vec<i64> = tokens.items.iter().map(|t| t.ledger_queue_id).collect();
    let indices = log::indices_of(services, &queued).await?;
    Ok(tokens.map(|token| ClaimRow {
        serial: token.serial,
        claimed_at: token.claimed_at,
        holder: accounts.get(&token.holder).map(|u| u.email.clone()),
        ledger_index: indices.get(&token.ledger_queue_id).copied(),
        status: token.status,
    }))
}
