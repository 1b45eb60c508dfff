//! Reading the audit log a page at a time: rows with a filter (the reviewers' log, a case's
//! history, an administrator's export), with what showing them needs (the actors' addresses and, for
//! refused transfers, how many attempts the row stands for). The log is only ever appended to,
//! by the services that change things.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::{ServiceResult, Services};
use crate::domain::account::Email;
use crate::domain::audit::{AuditAction, AuditFilter};
use crate::domain::ids::{TokenId, UserId};
use crate::domain::page::{Page, PageSize, TimeKey};
use crate::domain::transfer_limit;
use crate::store;
pub use crate::store::audit::AuditRow;

/// Audit rows in the order asked for, with what showing them needs.
#[derive(Debug, Clone, Default)]
pub struct Logged {
    pub rows: Vec<AuditRow>,
    /// Where the next page starts, when there is one.
    pub next: Option<TimeKey>,
    /// The address of each actor that still has an account.
    pub actors: HashMap<UserId, Email>,
    /// The refused transfer attempts of each token and hour a row stands for.
    pub attempts: HashMap<(TokenId, DateTime<Utc>), i64>,
}

impl Logged {
    /// How many refused transfer attempts `row` stands for, if it is a refused transfer's.
    pub fn attempts_of(&self, row: &AuditRow) -> Option<i64> {
        transfer_period(row).and_then(|period| self.attempts.get(&period).copied())
    }
}

/// The token and clock hour of a refused transfer's row, which is the first of that token's
/// hour: the hour's count says how many attempts there were.
pub fn transfer_period(row: &AuditRow) -> Option<(TokenId, DateTime<Utc>)> {
    (row.action == AuditAction::TokenTransferRefused.as_str() && row.subject_type == "token")
        .then(|| row.subject_id.parse().ok())
        .flatten()
        .map(|id| (TokenId(id), transfer_limit::period_start(row.at)))
}

/// A page of the rows `filter` matches, newest first, before `before` if given.
pub async fn newest_first(
    services: &Services,
    filter: &AuditFilter,
    before: Option<TimeKey>,
    size: PageSize,
) -> ServiceResult<Logged> {
    let rows = store::audit::newest_first(&services.db, filter, before, Some(size.fetch())).await?;
    shown(services, Page::from_rows(rows, size, key)).await
}

/// A page of the rows `filter` matches, oldest first, after `after` if given: an export's order.
pub async fn oldest_first(
    services: &Services,
    filter: &AuditFilter,
    after: Option<TimeKey>,
    size: PageSize,
) -> ServiceResult<Logged> {
    let rows = store::audit::oldest_first(&services.db, filter, after, size.fetch()).await?;
    shown(services, Page::from_rows(rows, size, key)).await
}

fn key(row: &AuditRow) -> TimeKey {
    TimeKey { at: row.at, id: row.id }
}

/// The page with its actors' addresses and its refused transfers' counts.
async fn shown(services: &Services, page: Page<AuditRow, TimeKey>) -> ServiceResult<Logged> {
    let Page { items: rows, next } = page;
    let actor_ids: Vec<UserId> = rows.iter().filter_map(|r| r.actor_user_id.map(UserId)).collect();
    let actors = store::users::find_many(&services.db, &actor_ids)
        .await?
        .into_iter()
        .map(|(id, user)| (id, user.email))
        .collect();
    let periods: Vec<_> = rows.iter().filter_map(transfer_period).collect();
    let attempts = store::transfer_attempts::counts(&services.db, &periods).await?;
    Ok(Logged {
        rows,
        next,
        actors,
        attempts,
    })
}

/// The latest `limit` rows about one subject (`issuer`, `collection`...), its history.
pub async fn history(services: &Services, subject_type: &str, id: impl ToString, limit: u64) -> ServiceResult<Logged> {
    let filter = AuditFilter {
        subject_type: Some(subject_type.to_owned()),
        subject_id: Some(id.to_string()),
        ..AuditFilter::default()
    };
    let rows = store::audit::newest_first(&services.db, &filter, None, Some(limit)).await?;
    shown(
        services,
        Page {
            items: rows,
            next: None,
        },
    )
    .await
}
