//! Facts about the installation: whether it holds demonstration data, whether it holds
//! anything at all, and the ledger's pinned verifier key (its name and key id included).

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use super::StoreResult;
use super::entities::{collections, installation, issuers, ledger_entries, ledger_pending, users};

const DEMO: &str = "demo";
const LEDGER_KEY: &str = "ledger.verifier_key";
/// Prefix of the rows holding retired keys, each followed by the key's id.
const RETIRED_LEDGER_KEY: &str = "ledger.retired_key.";

/// The verifier key the ledger was pinned to at its first start, if it was.
pub async fn ledger_key(conn: &impl ConnectionTrait) -> StoreResult<Option<String>> {
    Ok(installation::Entity::find_by_id(LEDGER_KEY.to_owned())
        .one(conn)
        .await?
        .map(|row| row.value))
}

/// Records the fact `name` = `value`; fails if it is recorded already.
async fn insert_fact(conn: &impl ConnectionTrait, name: String, value: &str, now: DateTime<Utc>) -> StoreResult<()> {
    installation::ActiveModel {
        name: Set(name),
        value: Set(value.to_owned()),
        set_at: Set(now),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Pins the ledger to `verifier_key`; fails (as a conflict) if another start pinned it first.
pub async fn pin_ledger_key(conn: &impl ConnectionTrait, verifier_key: &str, now: DateTime<Utc>) -> StoreResult<()> {
    insert_fact(conn, LEDGER_KEY.to_owned(), verifier_key, now).await
}

/// A key that signed this log's checkpoints before a rotation, and when it stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetiredKey {
    pub verifier_key: String,
    pub retired_at: DateTime<Utc>,
}

/// The keys that signed this log before its current one, oldest first.
pub async fn retired_ledger_keys(conn: &impl ConnectionTrait) -> StoreResult<Vec<RetiredKey>> {
    let mut keys: Vec<RetiredKey> = installation::Entity::find()
        .filter(installation::Column::Name.starts_with(RETIRED_LEDGER_KEY))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| RetiredKey {
            verifier_key: row.value,
            retired_at: row.set_at,
        })
        .collect();
    keys.sort_by_key(|key| key.retired_at);
    Ok(keys)
}

/// Pins the ledger to `next` in place of `current`, which stays listed as retired.
pub async fn rotate_ledger_key(
    conn: &impl ConnectionTrait,
    current: &str,
    next: &str,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    let retired = format!("{RETIRED_LEDGER_KEY}{}", current.split('+').nth(1).unwrap_or_default());
    insert_fact(conn, retired, current, now).await?;
    installation::ActiveModel {
        name: Set(LEDGER_KEY.to_owned()),
        value: Set(next.to_owned()),
        set_at: Set(now),
    }
    .update(conn)
    .await?;
    Ok(())
}

/// Whether `keepsake demo` made this installation.
pub async fn is_demo(conn: &impl ConnectionTrait) -> StoreResult<bool> {
    Ok(installation::Entity::find_by_id(DEMO.to_owned())
        .one(conn)
        .await?
        .is_some_and(|row| row.value == "true"))
}

/// Marks the installation as a demonstration.
pub async fn mark_demo(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<()> {
    insert_fact(conn, DEMO.to_owned(), "true", now).await
}

/// Whether nothing was ever recorded: no account, issuer, collection or ledger entry.
pub async fn is_empty(conn: &impl ConnectionTrait) -> StoreResult<bool> {
    Ok(users::Entity::find().count(conn).await? == 0
        && issuers::Entity::find().count(conn).await? == 0
        && collections::Entity::find().count(conn).await? == 0
        && ledger_pending::Entity::find().count(conn).await? == 0
        && ledger_entries::Entity::find().count(conn).await? == 0)
}
