//! Facts about the installation: whether it holds demonstration data, and whether it holds
//! anything at all.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, EntityTrait, PaginatorTrait, Set};

use super::StoreResult;
use super::entities::{collections, installation, issuers, ledger_entries, ledger_pending, users};

const DEMO: &str = "demo";

/// Whether `keepsake demo` made this installation.
pub async fn is_demo(conn: &impl ConnectionTrait) -> StoreResult<bool> {
    Ok(installation::Entity::find_by_id(DEMO.to_owned())
        .one(conn)
        .await?
        .is_some_and(|row| row.value == "true"))
}

/// Marks the installation as a demonstration.
pub async fn mark_demo(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<()> {
    installation::ActiveModel {
        name: Set(DEMO.to_owned()),
        value: Set("true".to_owned()),
        set_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Whether nothing was ever recorded: no account, issuer, collection or ledger entry.
pub async fn is_empty(conn: &impl ConnectionTrait) -> StoreResult<bool> {
    Ok(users::Entity::find().count(conn).await? == 0
        && issuers::Entity::find().count(conn).await? == 0
        && collections::Entity::find().count(conn).await? == 0
        && ledger_pending::Entity::find().count(conn).await? == 0
        && ledger_entries::Entity::find().count(conn).await? == 0)
}
