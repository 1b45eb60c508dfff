//! Issuer API keys. Only a SHA3-256 hash of each key is stored; the key itself is shown once.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::StoreResult;
use super::entities::api_keys;
use crate::domain::ids::{ApiKeyId, IssuerId, UserId};

/// An issuer's API key as its console lists it (never the key itself).
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: ApiKeyId,
    pub label: String,
    /// The key's first characters, to tell keys apart.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn create(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    label: &str,
    prefix: &str,
    key_hash: String,
    created_by: UserId,
    now: DateTime<Utc>,
) -> StoreResult<i64> {
    Ok(api_keys::ActiveModel {
        issuer_id: Set(issuer.0),
        label: Set(label.to_owned()),
        prefix: Set(prefix.to_owned()),
        key_hash: Set(key_hash),
        created_by: Set(created_by.0),
        created_at: Set(now),
        last_used_at: Set(None),
        revoked_at: Set(None),
        ..Default::default()
    }
    .insert(conn)
    .await?
    .id)
}

pub async fn list(conn: &impl ConnectionTrait, issuer: IssuerId) -> StoreResult<Vec<ApiKey>> {
    let rows = api_keys::Entity::find()
        .filter(api_keys::Column::IssuerId.eq(issuer.0))
        .order_by_desc(api_keys::Column::Id)
        .all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| ApiKey {
            id: ApiKeyId(row.id),
            label: row.label,
            prefix: row.prefix,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            revoked_at: row.revoked_at,
        })
        .collect())
}

/// Revokes a key of `issuer`; false if there is no such live key.
pub async fn revoke(
    conn: &impl ConnectionTrait,
    issuer: IssuerId,
    id: ApiKeyId,
    now: DateTime<Utc>,
) -> StoreResult<bool> {
    let result = api_keys::Entity::update_many()
        .col_expr(api_keys::Column::RevokedAt, Expr::value(now))
        .filter(api_keys::Column::Id.eq(id.0))
        .filter(api_keys::Column::IssuerId.eq(issuer.0))
        .filter(api_keys::Column::RevokedAt.is_null())
        .exec(conn)
        .await?;
    Ok(result.rows_affected == 1)
}

/// How stale `last_used_at` may get: recording every use would make all requests with one key
/// queue behind each other on that key's row.
const LAST_USE_RESOLUTION: chrono::TimeDelta = chrono::TimeDelta::seconds(60);

/// The issuer a live key belongs to, recording the use (to the minute).
pub async fn authenticate(
    conn: &impl ConnectionTrait,
    key_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<IssuerId>> {
    let Some(key) = api_keys::Entity::find()
        .filter(api_keys::Column::KeyHash.eq(key_hash))
        .filter(api_keys::Column::RevokedAt.is_null())
        .one(conn)
        .await?
    else {
        return Ok(None);
    };
    if key.last_used_at.is_none_or(|at| now - at >= LAST_USE_RESOLUTION) {
        api_keys::Entity::update_many()
            .col_expr(api_keys::Column::LastUsedAt, Expr::value(now))
            .filter(api_keys::Column::Id.eq(key.id))
            .exec(conn)
            .await?;
    }
    Ok(Some(IssuerId(key.issuer_id)))
}
