//! Accounts and their granted roles.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::entities::{user_roles, users};
use super::{StoreError, StoreResult, decoded, in_chunks};
use crate::domain::account::Email;
use crate::domain::ids::UserId;
use crate::domain::role::Role;
use crate::i18n::Locale;

/// An account.
#[derive(Debug, Clone)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub password_hash: String,
    pub email_verified_at: Option<DateTime<Utc>>,
    pub locale: Locale,
    pub created_at: DateTime<Utc>,
    /// When the account was deleted: it then names no one.
    pub deleted_at: Option<DateTime<Utc>>,
    /// The account has a verified mobile number (see `store::phones`).
    pub has_phone: bool,
}

const TABLE: &str = "users";

fn decode(m: users::Model) -> StoreResult<User> {
    Ok(User {
        id: UserId(m.id),
        email: decoded(Email::parse(&m.email).ok(), TABLE, m.id, "email")?,
        locale: decoded(Locale::from_tag(&m.locale), TABLE, m.id, "locale")?,
        password_hash: m.password_hash,
        email_verified_at: m.email_verified_at,
        created_at: m.created_at,
        deleted_at: m.deleted_at,
        has_phone: m.phone_index.is_some(),
    })
}

/// Creates an account; a taken email answers [`StoreError::Conflict`].
pub async fn create(
    conn: &impl ConnectionTrait,
    email: &Email,
    password_hash: String,
    locale: Locale,
    now: DateTime<Utc>,
) -> StoreResult<UserId> {
    let model = users::ActiveModel {
        email: Set(email.as_str().to_owned()),
        password_hash: Set(password_hash),
        email_verified_at: Set(None),
        locale: Set(locale.tag().to_owned()),
        created_at: Set(now),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(StoreError::unique("email"))?;
    Ok(UserId(model.id))
}

pub async fn find(conn: &impl ConnectionTrait, id: UserId) -> StoreResult<Option<User>> {
    users::Entity::find_by_id(id.0).one(conn).await?.map(decode).transpose()
}

/// These accounts by id (absent: no such account).
pub async fn find_many(conn: &impl ConnectionTrait, ids: &[UserId]) -> StoreResult<HashMap<UserId, User>> {
    let rows = in_chunks(ids, |chunk| {
        users::Entity::find()
            .filter(users::Column::Id.is_in(chunk.iter().map(|id| id.0)))
            .all(conn)
    })
    .await?;
    rows.into_iter().map(|m| Ok((UserId(m.id), decode(m)?))).collect()
}

pub async fn find_by_email(conn: &impl ConnectionTrait, email: &Email) -> StoreResult<Option<User>> {
    users::Entity::find()
        .filter(users::Column::Email.eq(email.as_str()))
        .one(conn)
        .await?
        .map(decode)
        .transpose()
}

pub async fn mark_email_verified(conn: &impl ConnectionTrait, id: UserId, now: DateTime<Utc>) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::EmailVerifiedAt, sea_orm::sea_query::Expr::value(now))
        .filter(users::Column::Id.eq(id.0))
        .filter(users::Column::EmailVerifiedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn set_password_hash(conn: &impl ConnectionTrait, id: UserId, hash: String) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::PasswordHash, sea_orm::sea_query::Expr::value(hash))
        .filter(users::Column::Id.eq(id.0))
        .exec(conn)
        .await?;
    Ok(())
}

pub async fn set_locale(conn: &impl ConnectionTrait, id: UserId, locale: Locale) -> StoreResult<()> {
    users::Entity::update_many()
        .col_expr(users::Column::Locale, sea_orm::sea_query::Expr::value(locale.tag()))
        .filter(users::Column::Id.eq(id.0))
        .exec(conn)
        .await?;
    Ok(())
}

/// The roles granted to a user (unknown role names in the table are ignored).
pub async fn granted_roles(conn: &impl ConnectionTrait, id: UserId) -> StoreResult<Vec<Role>> {
    Ok(user_roles::Entity::find()
        .filter(user_roles::Column::UserId.eq(id.0))
        .all(conn)
        .await?
        .into_iter()
        .filter_map(|r| r.role.parse().ok())
        .collect())
}

/// Grants `role`; granting a role the user already holds changes nothing.
pub async fn grant_role(
    conn: &impl ConnectionTrait,
    id: UserId,
    role: Role,
    granted_by: Option<UserId>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    if granted_roles(conn, id).await?.contains(&role) {
        return Ok(());
    }
    user_roles::ActiveModel {
        user_id: Set(id.0),
        role: Set(role.as_str().to_owned()),
        granted_at: Set(now),
        granted_by: Set(granted_by.map(|u| u.0)),
    }
    .insert(conn)
    .await
    .map_err(StoreError::unique("role grant"))?;
    Ok(())
}

pub async fn revoke_role(conn: &impl ConnectionTrait, id: UserId, role: Role) -> StoreResult<()> {
    user_roles::Entity::delete_many()
        .filter(user_roles::Column::UserId.eq(id.0))
        .filter(user_roles::Column::Role.eq(role.as_str()))
        .exec(conn)
        .await?;
    Ok(())
}

/// The accounts granted `role`.
pub async fn holding(conn: &impl ConnectionTrait, role: Role) -> StoreResult<Vec<User>> {
    let ids: Vec<i64> = user_roles::Entity::find()
        .select_only()
        .column(user_roles::Column::UserId)
        .filter(user_roles::Column::Role.eq(role.as_str()))
        .into_tuple()
        .all(conn)
        .await?;
    users::Entity::find()
        .filter(users::Column::Id.is_in(ids))
        .order_by_asc(users::Column::Id)
        .all(conn)
        .await?
        .into_iter()
        .map(decode)
        .collect()
}

/// Up to `limit` accounts, newest first, older than `before` if given, each with its granted
/// roles.
pub async fn list_with_roles(
    conn: &impl ConnectionTrait,
    before: Option<UserId>,
    limit: u64,
) -> StoreResult<Vec<(User, Vec<Role>)>> {
    let mut query = users::Entity::find();
    if let Some(before) = before {
        query = query.filter(users::Column::Id.lt(before.0));
    }
    let rows = query.order_by_desc(users::Column::Id).limit(limit).all(conn).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|u| u.id).collect();
    let grants = user_roles::Entity::find()
        .filter(user_roles::Column::UserId.is_in(ids))
        .all(conn)
        .await?;
    rows.into_iter()
        .map(|u| {
            let roles = grants
                .iter()
                .filter(|g| g.user_id == u.id)
                .filter_map(|g| g.role.parse().ok())
                .collect();
            Ok((decode(u)?, roles))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::Expr;

    use super::*;
    use crate::store;

    /// A row that does not decode is an error naming it, never a silent default.
    #[tokio::test]
    async fn a_damaged_row_is_corrupt_not_defaulted() {
        let (_dir, db) = store::scratch_database().await;
        let email = Email::parse("a@example.com").unwrap();
        let id = create(&db, &email, "hash".into(), Locale::En, Utc::now())
            .await
            .unwrap();
        assert_eq!(find(&db, id).await.unwrap().unwrap().email, email);
        users::Entity::update_many()
            .col_expr(users::Column::Locale, Expr::value("tlh"))
            .exec(&db)
            .await
            .unwrap();
        match find(&db, id).await {
            Err(StoreError::Corrupt { table, id: row, what }) => {
                assert_eq!((table, row, what), ("users", id.to_string(), "locale"));
            }
            other => panic!("expected a corrupt row, got {other:?}"),
        }
    }
}
