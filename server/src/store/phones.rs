//! Accounts' mobile numbers: sealed, found by their blind index, which is unique (one number,
//! one account).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::entities::users;
use super::{StoreError, StoreResult};
use crate::domain::ids::UserId;

/// An account's number as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredPhone {
    pub index: String,
    /// Sealed under the person's key.
    pub sealed: String,
    pub verified_at: DateTime<Utc>,
}

impl std::fmt::Debug for StoredPhone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoredPhone([redacted])")
    }
}

/// The live account whose number has this blind index.
pub async fn account_with(conn: &impl ConnectionTrait, index: &str) -> StoreResult<Option<UserId>> {
    Ok(users::Entity::find()
        .filter(users::Column::PhoneIndex.eq(index))
        .filter(users::Column::DeletedAt.is_null())
        .one(conn)
        .await?
        .map(|m| UserId(m.id)))
}

/// `user`'s number, if they added one.
pub async fn of(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<Option<StoredPhone>> {
    let Some(m) = users::Entity::find_by_id(user.0).one(conn).await? else {
        return Ok(None);
    };
    Ok(match (m.phone_index, m.phone_enc, m.phone_verified_at) {
        (Some(index), Some(sealed), Some(verified_at)) => Some(StoredPhone {
            index,
            sealed,
            verified_at,
        }),
        _ => None,
    })
}

/// Makes a verified number `user`'s (replacing theirs); another account's number is a
/// [`StoreError::Conflict`].
pub async fn set(
    conn: &impl ConnectionTrait,
    user: UserId,
    index: &str,
    sealed: String,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::PhoneIndex, Expr::value(index))
        .col_expr(users::Column::PhoneEnc, Expr::value(sealed))
        .col_expr(users::Column::PhoneVerifiedAt, Expr::value(now))
        .filter(users::Column::Id.eq(user.0))
        .exec(conn)
        .await
        .map_err(StoreError::unique("phone number"))?;
    Ok(())
}

/// Removes `user`'s number; false if they had none.
pub async fn clear(conn: &impl ConnectionTrait, user: UserId) -> StoreResult<bool> {
    let cleared = users::Entity::update_many()
        .col_expr(users::Column::PhoneIndex, Expr::value(Option::<String>::None))
        .col_expr(users::Column::PhoneEnc, Expr::value(Option::<String>::None))
        .col_expr(
            users::Column::PhoneVerifiedAt,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(users::Column::Id.eq(user.0))
        .filter(users::Column::PhoneIndex.is_not_null())
        .exec(conn)
        .await?;
    Ok(cleared.rows_affected > 0)
}
