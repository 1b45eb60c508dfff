//! Archives of a person's own data: asked for, taken by one builder at a time under a lease,
//! made ready with the key of their sealed bytes, and expired.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Condition, Expr};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::data_exports;
use super::{StoreResult, decoded};
use crate::domain::blob_key::BlobKey;
use crate::domain::data_export::{DataExport, ExportStatus};
use crate::domain::ids::UserId;

const TABLE: &str = "data_exports";

fn decode(m: data_exports::Model) -> StoreResult<DataExport> {
    Ok(DataExport {
        id: m.id,
        status: decoded(ExportStatus::parse(&m.status), TABLE, m.id, "status")?,
        requested_at: m.requested_at,
        ready_at: m.ready_at,
        expires_at: m.expires_at,
        bytes: m.bytes.and_then(|b| u64::try_from(b).ok()),
    })
}

/// Records that `user` asked for an archive.
pub async fn request(conn: &impl ConnectionTrait, user: UserId, now: DateTime<Utc>) -> StoreResult<i64> {
    let row = data_exports::ActiveModel {
        user_id: Set(user.0),
        status: Set(ExportStatus::Pending.as_str().to_owned()),
        requested_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(row.id)
}

/// `user`'s archives, newest first: at most `limit`.
pub async fn of_user(conn: &impl ConnectionTrait, user: UserId, limit: u64) -> StoreResult<Vec<DataExport>> {
    data_exports::Entity::find()
        .filter(data_exports::Column::UserId.eq(user.0))
        .order_by_desc(data_exports::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// `user`'s archive `id` and the key of its sealed bytes, if it is theirs.
pub async fn find_of(
    conn: &impl ConnectionTrait,
    user: UserId,
    id: i64,
) -> StoreResult<Option<(DataExport, Option<BlobKey>)>> {
    let Some(row) = data_exports::Entity::find_by_id(id)
        .filter(data_exports::Column::UserId.eq(user.0))
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    let key = row.blob_key.as_deref().and_then(|key| BlobKey::parse(key).ok());
    Ok(Some((decode(row)?, key)))
}

/// Takes the oldest pending archive no other builder holds, until `until`: its id and owner.
pub async fn take_pending(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    until: DateTime<Utc>,
) -> StoreResult<Option<(i64, UserId)>> {
    let free = Condition::any()
        .add(data_exports::Column::BuildingUntil.is_null())
        .add(data_exports::Column::BuildingUntil.lte(now));
    let candidates = data_exports::Entity::find()
        .filter(data_exports::Column::Status.eq(ExportStatus::Pending.as_str()))
        .filter(free.clone())
        .order_by_asc(data_exports::Column::Id)
        .limit(4)
        .all(conn)
        .await?;
    for candidate in candidates {
        // Compare-and-set on the lease, so two servers never build one archive at once.
        let taken = data_exports::Entity::update_many()
            .col_expr(data_exports::Column::BuildingUntil, Expr::value(until))
            .filter(data_exports::Column::Id.eq(candidate.id))
            .filter(data_exports::Column::Status.eq(ExportStatus::Pending.as_str()))
            .filter(free.clone())
            .exec(conn)
            .await?;
        if taken.rows_affected == 1 {
            return Ok(Some((candidate.id, UserId(candidate.user_id))));
        }
    }
    Ok(None)
}

/// Marks archive `id` ready with its sealed bytes under `key`; false if it was no longer pending.
pub async fn mark_ready(
    conn: &impl ConnectionTrait,
    id: i64,
    key: &BlobKey,
    bytes: u64,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = data_exports::Entity::update_many()
        .col_expr(data_exports::Column::Status, Expr::value(ExportStatus::Ready.as_str()))
        .col_expr(data_exports::Column::ReadyAt, Expr::value(now))
        .col_expr(data_exports::Column::ExpiresAt, Expr::value(expires_at))
        .col_expr(data_exports::Column::BlobKey, Expr::value(key.as_str()))
        .col_expr(
            data_exports::Column::Bytes,
            Expr::value(i64::try_from(bytes).unwrap_or(i64::MAX)),
        )
        .col_expr(
            data_exports::Column::BuildingUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(data_exports::Column::Id.eq(id))
        .filter(data_exports::Column::Status.eq(ExportStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks archive `id` failed.
pub async fn mark_failed(conn: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    data_exports::Entity::update_many()
        .col_expr(data_exports::Column::Status, Expr::value(ExportStatus::Failed.as_str()))
        .col_expr(
            data_exports::Column::BuildingUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(data_exports::Column::Id.eq(id))
        .filter(data_exports::Column::Status.eq(ExportStatus::Pending.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

/// Archives whose time ran out by `now` and whose bytes are still stored, with the keys of
/// those bytes: at most `limit`.
pub async fn expiring(
    conn: &impl ConnectionTrait,
    now: DateTime<Utc>,
    limit: u64,
) -> StoreResult<Vec<(i64, Option<BlobKey>)>> {
    Ok(data_exports::Entity::find()
        .filter(data_exports::Column::BlobKey.is_not_null())
        .filter(data_exports::Column::ExpiresAt.lte(now))
        .order_by_asc(data_exports::Column::Id)
        .limit(limit)
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id, row.blob_key.as_deref().and_then(|key| BlobKey::parse(key).ok())))
        .collect())
}

/// Every archive of `user` whose bytes are still stored, with the keys of those bytes.
pub async fn stored_of(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Vec<(i64, Option<BlobKey>)>> {
    Ok(data_exports::Entity::find()
        .filter(data_exports::Column::BlobKey.is_not_null())
        .filter(data_exports::Column::UserId.eq(user.0))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id, row.blob_key.as_deref().and_then(|key| BlobKey::parse(key).ok())))
        .collect())
}

/// Marks archive `id` expired, its bytes deleted.
pub async fn mark_expired(conn: &impl ConnectionTrait, id: i64) -> StoreResult<()> {
    data_exports::Entity::update_many()
        .col_expr(
            data_exports::Column::Status,
            Expr::value(ExportStatus::Expired.as_str()),
        )
        .col_expr(data_exports::Column::BlobKey, Expr::value(Option::<String>::None))
        .filter(data_exports::Column::Id.eq(id))
        .exec(conn)
        .await?;
    Ok(())
}
