//! Each person's data key in its stored (sealed) form. Deleting it is crypto-shredding: what
//! it sealed cannot be read again, wherever a copy went.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, EntityTrait, Set};

use super::StoreResult;
use super::entities::person_keys;
use crate::domain::ids::UserId;

/// `user`'s key as stored, if they have one.
pub async fn find(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Option<String>> {
    Ok(person_keys::Entity::find_by_id(user.0)
        .one(conn)
        .await?
        .map(|row| row.wrapped_key))
}

/// Stores `wrapped` as `user`'s key unless they have one already; returns the one they have
/// (so that two submissions at once agree on one key).
pub async fn keep_first(
    conn: &impl ConnectionTrait,
    user: UserId,
    wrapped: String,
    now: DateTime<Utc>,
) -> StoreResult<String> {
    person_keys::Entity::insert(person_keys::ActiveModel {
        user_id: Set(user.0),
        wrapped_key: Set(wrapped),
        created_at: Set(now),
    })
    .on_conflict(OnConflict::column(person_keys::Column::UserId).do_nothing().to_owned())
    .exec_without_returning(conn)
    .await?;
    Ok(find(conn, user).await?.unwrap_or_default())
}

/// Deletes `user`'s key.
pub async fn delete(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<()> {
    person_keys::Entity::delete_by_id(user.0).exec(conn).await?;
    Ok(())
}
