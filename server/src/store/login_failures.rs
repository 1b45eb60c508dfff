//! Failed log-in attempts by (account, client address), kept for the throttling window.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::StoreResult;
use super::entities::login_failures;
use crate::domain::login_throttle::Failures;

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

/// Failures since `since` by this address on this account (with the latest), on the account
/// from everywhere, and from the address on every account.
pub async fn count_since(
    conn: &impl ConnectionTrait,
    account: &str,
    ip: &str,
    since: DateTime<Utc>,
) -> StoreResult<Failures> {
    let recent = || login_failures::Entity::find().filter(login_failures::Column::FailedAt.gt(since));
    let pair = recent()
        .filter(login_failures::Column::Account.eq(account))
        .filter(login_failures::Column::Ip.eq(ip));
    let pair_last = pair
        .clone()
        .order_by_desc(login_failures::Column::FailedAt)
        .one(conn)
        .await?
        .map(|row| row.failed_at);
    Ok(Failures {
        pair: pair.count(conn).await?,
        pair_last,
        account: recent()
            .filter(login_failures::Column::Account.eq(account))
            .count(conn)
            .await?,
        ip: recent().filter(login_failures::Column::Ip.eq(ip)).count(conn).await?,
    })
}

/// Forgets one address's failures on an account after it logged in with the right password.
pub async fn clear_pair(conn: &impl ConnectionTrait, account: &str, ip: &str) -> StoreResult<()> {
    login_failures::Entity::delete_many()
        .filter(login_failures::Column::Account.eq(account))
        .filter(login_failures::Column::Ip.eq(ip))
        .exec(conn)
        .await?;
    Ok(())
}

/// Forgets every failure on an account: its owner followed the unlock link.
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
