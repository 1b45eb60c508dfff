//! Server-side sessions. Only the SHA3-256 of the cookie token is stored, so a leaked
//! database does not hand out live sessions.

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::StoreResult;
use super::entities::sessions;
use crate::domain::account::UserId;

pub async fn create(
    conn: &impl ConnectionTrait,
    id_hash: String,
    user: UserId,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> StoreResult<()> {
    sessions::ActiveModel {
        id: Set(id_hash),
        user_id: Set(user.0),
        created_at: Set(now),
        expires_at: Set(expires_at),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// The user of a live session, or `None` if it is unknown or expired.
pub async fn find_user(conn: &impl ConnectionTrait, id_hash: &str, now: DateTime<Utc>) -> StoreResult<Option<UserId>> {
    Ok(sessions::Entity::find_by_id(id_hash.to_owned())
        .one(conn)
        .await?
        .filter(|s| s.expires_at > now)
        .map(|s| UserId(s.user_id)))
}

pub async fn delete(conn: &impl ConnectionTrait, id_hash: &str) -> StoreResult<()> {
    sessions::Entity::delete_by_id(id_hash.to_owned()).exec(conn).await?;
    Ok(())
}

/// Ends every session of a user (after a password reset).
pub async fn delete_all_for(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<()> {
    sessions::Entity::delete_many()
        .filter(sessions::Column::UserId.eq(user.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// Removes sessions that have expired.
pub async fn prune_expired(conn: &impl ConnectionTrait, now: DateTime<Utc>) -> StoreResult<u64> {
    Ok(sessions::Entity::delete_many()
        .filter(sessions::Column::ExpiresAt.lte(now))
        .exec(conn)
        .await?
        .rows_affected)
}
