//! Failed log-in attempts, kept for the throttling window.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::StoreResult;
use super::entities::login_failures;

pub async fn record(conn: &impl ConnectionTrait, account: &str, ip: &str, now: DateTime<Utc>) -> StoreResult<()> {
    login_failures::ActiveModel {
        account: Set(account.to_owned()),
        ip: Set(ip.to_owned()),
        failed_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Failures since `since` for the account and for the address.
pub async fn count_since(
    conn: &impl ConnectionTrait,
    account: &str,
    ip: &str,
    since: DateTime<Utc>,
) -> StoreResult<(u64, u64)> {
    let by_account = login_failures::Entity::find()
        .filter(login_failures::Column::Account.eq(account))
        .filter(login_failures::Column::FailedAt.gt(since))
        .count(conn)
        .await?;
    let by_ip = login_failures::Entity::find()
        .filter(login_failures::Column::Ip.eq(ip))
        .filter(login_failures::Column::FailedAt.gt(since))
        .count(conn)
        .await?;
    Ok((by_account, by_ip))
}

/// Forgets an account's failures after a successful log-in.
pub async fn clear_account(conn: &impl ConnectionTrait, account: &str) -> StoreResult<()> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::Account.eq(account))
        .exec(conn)
        .await?;
    Ok(())
}

/// Drops failures older than the window.
pub async fn prune(conn: &impl ConnectionTrait, before: DateTime<Utc>) -> StoreResult<u64> {
    Ok(login_failures::Entity::delete_many()
        .filter(login_failures::Column::FailedAt.lte(before))
        .exec(conn)
        .await?
        .rows_affected)
}
