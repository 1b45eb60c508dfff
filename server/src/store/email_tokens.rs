//! One-time email links, stored as hashes and consumed atomically.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::StoreResult;
use super::entities::email_tokens;
use crate::domain::email_token::{IssuedToken, TokenError, TokenPurpose};
use crate::domain::ids::UserId;

/// Stores a new link; `next` is where the person was going, for the page after the link.
pub async fn insert(
    conn: &impl ConnectionTrait,
    user: UserId,
    purpose: TokenPurpose,
    token_hash: String,
    next: Option<&str>,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    email_tokens::ActiveModel {
        token_hash: Set(token_hash),
        user_id: Set(user.0),
        purpose: Set(purpose.as_str().to_owned()),
        created_at: Set(now),
        expires_at: Set(purpose.expires_at(now)),
        used_at: Set(None),
        next_path: Set(next.map(str::to_owned)),
        ..Default::default()
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Checks a token without using it up (to decide whether to show the reset form).
pub async fn peek(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> StoreResult<Result<UserId, TokenError>> {
    let Some(row) = email_tokens::Entity::find()
        .filter(email_tokens::Column::TokenHash.eq(token_hash))
        .one(conn)
        .await?
    else {
        return Ok(Err(TokenError::Unknown));
    };
    let Ok(stored_purpose) = row.purpose.parse() else {
        return Ok(Err(TokenError::Unknown));
    };
    let issued = IssuedToken {
        purpose: stored_purpose,
        expires_at: row.expires_at,
        used_at: row.used_at,
    };
    Ok(issued.check(purpose, now).map(|()| UserId(row.user_id)))
}

/// Where the person who was sent this link was going, if they said.
pub async fn next_path(conn: &impl ConnectionTrait, token_hash: &str) -> StoreResult<Option<String>> {
    Ok(email_tokens::Entity::find()
        .filter(email_tokens::Column::TokenHash.eq(token_hash))
        .one(conn)
        .await?
        .and_then(|row| row.next_path))
}

/// Uses a token up. The conditional update makes two concurrent uses of one link end with
/// exactly one success.
pub async fn consume(
    conn: &impl ConnectionTrait,
    token_hash: &str,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> StoreResult<Result<UserId, TokenError>> {
    let user = match peek(conn, token_hash, purpose, now).await? {
        Ok(user) => user,
        Err(e) => return Ok(Err(e)),
    };
    let updated = email_tokens::Entity::update_many()
        .col_expr(email_tokens::Column::UsedAt, Expr::value(now))
        .filter(email_tokens::Column::TokenHash.eq(token_hash))
        .filter(email_tokens::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    if updated.rows_affected == 1 {
        Ok(Ok(user))
    } else {
        Ok(Err(TokenError::AlreadyUsed))
    }
}

/// Marks every unused token of `purpose` for a user as used (a newer link supersedes them).
pub async fn revoke_all(
    conn: &impl ConnectionTrait,
    user: UserId,
    purpose: TokenPurpose,
    now: DateTime<Utc>,
) -> StoreResult<()> {
    email_tokens::Entity::update_many()
        .col_expr(email_tokens::Column::UsedAt, Expr::value(now))
        .filter(email_tokens::Column::UserId.eq(user.0))
        .filter(email_tokens::Column::Purpose.eq(purpose.as_str()))
        .filter(email_tokens::Column::UsedAt.is_null())
        .exec(conn)
        .await?;
    Ok(())
}
